//! The tag vocabulary: every tag snapmgmt writes or reads, in one place. The template's IAM conditions and
//! its SSM document name the same keys; a test reads template.yaml and checks them against these.

/// Tag key and value that mark a backup or snapshot as made by snapmgmt.
pub const MANAGED_BY_KEY: &str = "ManagedBy";
pub const MANAGED_BY_VALUE: &str = "snapmgmt";
/// The resource a backup belongs to.
pub const TARGET_ID_KEY: &str = "snapmgmt:TargetId";
/// The run (Step Functions execution name, or Lambda request id) that made a backup.
pub const RUN_ID_KEY: &str = "snapmgmt:RunId";
/// Which attempt of a run made an EBS snapshot: a retry replaces the sets of earlier attempts.
pub const ATTEMPT_KEY: &str = "snapmgmt:Attempt";
/// Whether an EBS set was taken with I/O frozen (ssm mode) or crash-consistent only (direct).
pub const APP_CONSISTENT_KEY: &str = "snapmgmt:AppConsistent";
/// On an instance: its snapshot mode (`ssm` or `direct`), over the SNAPSHOT_MODE setting.
pub const SNAPSHOT_MODE_KEY: &str = "snapmgmt:SnapshotMode";

/// Every key snapmgmt writes on the backups it makes.
pub const BACKUP_KEYS: [&str; 5] = [MANAGED_BY_KEY, TARGET_ID_KEY, RUN_ID_KEY, ATTEMPT_KEY, APP_CONSISTENT_KEY];

/// The tags that say "ours, of this target, made by this run": set on every backup at its creation.
pub fn ownership<'a>(target_id: &'a str, run_id: &'a str) -> [(&'static str, &'a str); 3] {
    [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, target_id), (RUN_ID_KEY, run_id)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys the template names after `prefix` (`aws:RequestTag/`, `- Key: `, ...), up to the end of
    /// the YAML key or value.
    fn keys_after<'t>(template: &'t str, prefix: &str) -> Vec<&'t str> {
        template
            .match_indices(prefix)
            .map(|(at, _)| {
                let rest = &template[at + prefix.len()..];
                let end = rest.find([' ', '"', '\'', '\n']).unwrap_or(rest.len());
                rest[..end].trim_end_matches(':')
            })
            .collect()
    }

    #[test]
    fn the_templates_tag_conditions_and_document_use_this_vocabulary() {
        let template = include_str!("../../../template.yaml");
        let mut named = Vec::new();
        for prefix in ["aws:RequestTag/", "aws:ResourceTag/", "ssm:resourceTag/", "- Key: "] {
            named.extend(keys_after(template, prefix));
        }
        assert!(named.len() >= 5, "the template names our tags: {named:?}");
        for key in named {
            assert!(BACKUP_KEYS.contains(&key), "template.yaml names the tag {key:?}, which snapmgmt does not use");
        }
        // The ownership conditions compare with our value.
        for (at, _) in template.match_indices("Tag/ManagedBy:") {
            let value = template[at..].lines().next().unwrap().rsplit(':').next().unwrap().trim();
            assert_eq!(value, MANAGED_BY_VALUE);
        }
    }
}
