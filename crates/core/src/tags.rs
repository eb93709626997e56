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
/// Whether an EBS set was taken with every data file system frozen until the snapshots were requested:
/// `false` at creation, raised to `true` by check-in-progress only when the document's thaw says the freeze
/// held (Linux), or AWS's VSS document tagged every snapshot `AppConsistent=true` (Windows).
/// `snapmgmt:Consistency` says why: `app`, `crash` (nothing to freeze, the direct mode, or a failed
/// pre-script), `auto-thawed` (the freeze ended before the thaw step), `freeze-failed`.
pub const APP_CONSISTENT_KEY: &str = "snapmgmt:AppConsistent";
pub const CONSISTENCY_KEY: &str = "snapmgmt:Consistency";
/// How many EBS volumes an EBS set must hold (the instance's, the boot volume left out when excluded), written
/// at creation: a set with fewer snapshots (one failed and was removed, or was deleted) is incomplete, and
/// never counts among the newest.
pub const VOLUMES_KEY: &str = "snapmgmt:Volumes";
/// On an instance: its own auto-thaw, in seconds, over the FREEZE_TIMEOUT_SECONDS setting.
pub const FREEZE_TIMEOUT_KEY: &str = "snapmgmt:FreezeTimeoutSeconds";
/// On an instance: its snapshot mode (`ssm` or `direct`), over the SNAPSHOT_MODE setting.
pub const SNAPSHOT_MODE_KEY: &str = "snapmgmt:SnapshotMode";
/// A resource's own retention policy, in the compact form (`daily=7 weekly=4`, `days=30`).
pub const RETENTION_KEY: &str = "snapmgmt:Retention";

/// The retention policy a backup was kept under when it was made (the compact form, e.g. `days=14
/// monthly=12`), written by the cleanup of the run that made it: once its resource is no target, the backup
/// is judged by it.
pub const POLICY_KEY: &str = "snapmgmt:Policy";

/// On a copy in another Region: the backup it is a copy of, and that backup's Region.
pub const SOURCE_ID_KEY: &str = "snapmgmt:SourceId";
pub const SOURCE_REGION_KEY: &str = "snapmgmt:SourceRegion";

/// The stack that made a backup (`<stack name>@<Region>`, STACK_ID): several stacks share an account, and
/// copy into each other's Regions.
pub const STACK_KEY: &str = "snapmgmt:Stack";
/// On what the command line's `restore --run` makes (an EBS volume): the backup it came from. The operator
/// restore policy lets only such a volume be attached.
pub const RESTORED_FROM_KEY: &str = "snapmgmt:RestoredFrom";
/// On what a verify run's restore test makes (an EBS volume): the run. Deleted after the check whatever it
/// found, or by a later run's sweep; the verify role may delete nothing else.
pub const RESTORE_TEST_KEY: &str = "snapmgmt:RestoreTest";

/// Every key snapmgmt writes on the backups it makes.
pub const BACKUP_KEYS: [&str; 11] = [
    MANAGED_BY_KEY,
    STACK_KEY,
    POLICY_KEY,
    TARGET_ID_KEY,
    RUN_ID_KEY,
    ATTEMPT_KEY,
    VOLUMES_KEY,
    APP_CONSISTENT_KEY,
    CONSISTENCY_KEY,
    SOURCE_ID_KEY,
    SOURCE_REGION_KEY,
];

/// The Description of an EBS snapshot snapmgmt takes. Unlike a tag, it is fixed at creation: it names the
/// instance and the run, and a snapshot counts as ours, and of that instance, only when it agrees with the
/// snapshot's tags (a snapshot records its volume, never its instance).
pub fn snapshot_description(instance_id: &str, run_id: &str) -> String {
    format!("snapmgmt {instance_id} {run_id}")
}

/// The instance a snapshot was taken of: the one its TargetId tag names, when its Description names the
/// same instance and the run its RunId tag names; None otherwise.
pub fn described_instance<'t>(
    description: &str,
    tags: &'t std::collections::BTreeMap<String, String>,
) -> Option<&'t str> {
    let (instance, run) = (tags.get(TARGET_ID_KEY)?, tags.get(RUN_ID_KEY)?);
    (description == snapshot_description(instance, run)).then_some(instance.as_str())
}

/// The tags that say "ours, of this target, made by this run": set on every backup at its creation.
pub fn ownership<'a>(target_id: &'a str, run_id: &'a str) -> [(&'static str, &'a str); 3] {
    [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, target_id), (RUN_ID_KEY, run_id)]
}

/// The identity of the stack a function belongs to (STACK_ID, `<stack name>@<Region>`, set by the template),
/// written on every backup it makes beside [`ownership`], in the characters every service's tag values take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackId(String);

impl StackId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let allowed = |c: char| c.is_alphanumeric() || "_.:/=+-@".contains(c);
        if text.is_empty() || text.chars().count() > 256 {
            Err("must be 1 to 256 characters (the template sets it: <stack name>@<Region>)".to_string())
        } else if let Some(c) = text.chars().find(|c| !allowed(*c)) {
            Err(format!("{c:?} is not allowed in a tag value (letters, digits and _.:/=+-@)"))
        } else {
            Ok(Self(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tag that says which stack made a backup.
    pub fn tag(&self) -> (&'static str, &str) {
        (STACK_KEY, &self.0)
    }
}

/// The source's tags copied onto each backup when COPY_TAGS is not set: its name and the usual
/// cost-allocation keys, so that a backup, and its bill, still say what it was after the resource is gone.
pub const DEFAULT_COPY_TAGS: &str = "Name,CostCenter,Project,Environment,Owner";
/// At most this many keys are copied: AWS allows 50 tags on a backup, and ours take up to 5.
pub const MAX_COPIED_KEYS: usize = 40;

/// The allow-list of a resource's tag keys copied onto its backups (COPY_TAGS).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyTags(Vec<String>);

impl CopyTags {
    /// Comma-separated keys, as the IAM conditions list them: each once, without spaces around it, none of
    /// ours and none of AWS's (`aws:`); empty copies nothing.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Ok(Self::default());
        }
        let mut keys: Vec<String> = Vec::new();
        for key in text.split(',') {
            let reason = if key.is_empty() {
                Some("an empty key".to_string())
            } else if key.trim() != key {
                Some(format!("{key:?} has spaces around it"))
            } else if key.chars().count() > 128 {
                Some(format!("{key:?} is longer than 128 characters"))
            } else if key.to_ascii_lowercase().starts_with("aws:") {
                Some(format!("{key:?}: keys beginning aws: are AWS's own"))
            } else if key == MANAGED_BY_KEY || key.starts_with("snapmgmt:") {
                Some(format!("{key:?} is one of snapmgmt's own tags"))
            } else if keys.iter().any(|k| k == key) {
                Some(format!("{key:?} is given twice"))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(reason);
            }
            keys.push(key.to_string());
        }
        if keys.len() > MAX_COPIED_KEYS {
            return Err(format!("{} keys: at most {MAX_COPIED_KEYS}", keys.len()));
        }
        Ok(Self(keys))
    }

    pub fn keys(&self) -> &[String] {
        &self.0
    }

    /// Of a resource's tags, the ones to copy onto its backup, in the list's order.
    pub fn pick<'t>(&self, tags: &'t std::collections::BTreeMap<String, String>) -> Vec<(&'t str, &'t str)> {
        self.0.iter().filter_map(|k| tags.get_key_value(k)).map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_list_reads_as_the_iam_conditions_do_and_refuses_our_own_keys() {
        let list = CopyTags::parse("Name,CostCenter").unwrap();
        assert_eq!(list.keys(), ["Name", "CostCenter"]);
        assert_eq!(CopyTags::parse("").unwrap().keys().len(), 0);
        assert!(CopyTags::parse(DEFAULT_COPY_TAGS).is_ok());
        for (bad, says) in [
            ("Name,,Owner", "empty"),
            ("Name, Owner", "spaces"),
            ("aws:cloudformation:stack-name", "AWS's own"),
            ("ManagedBy", "snapmgmt's own"),
            ("snapmgmt:Retention", "snapmgmt's own"),
            ("Name,Name", "twice"),
        ] {
            let err = CopyTags::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let many: Vec<String> = (0..=MAX_COPIED_KEYS).map(|n| format!("k{n}")).collect();
        assert!(CopyTags::parse(&many.join(",")).is_err());
        let tags = [("Owner", "ops"), ("Name", "web"), ("Secret", "x")];
        let tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let list = CopyTags::parse("Name,Owner,Project").unwrap();
        assert_eq!(list.pick(&tags), [("Name", "web"), ("Owner", "ops")]);
    }

    #[test]
    fn the_stack_id_is_a_tag_value_every_service_takes() {
        assert_eq!(StackId::parse("snapmgmt-prod@us-east-1").unwrap().tag(), (STACK_KEY, "snapmgmt-prod@us-east-1"));
        for bad in ["", "team a@us-east-1", "x#y"] {
            assert!(StackId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(StackId::parse(&"s".repeat(257)).is_err());
    }

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
    fn a_snapshot_is_of_an_instance_only_when_its_description_and_tags_agree() {
        let tags = |instance: &str, run: &str| {
            [(TARGET_ID_KEY, instance), (RUN_ID_KEY, run)].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let ours = tags("i-0123456789abcdef0", "run-1");
        assert_eq!(described_instance("snapmgmt i-0123456789abcdef0 run-1", &ours), Some("i-0123456789abcdef0"));
        // Another instance's snapshot, re-tagged with this instance's id: its Description still names its own.
        assert_eq!(described_instance("snapmgmt i-0fedcba987654321f run-1", &ours), None);
        assert_eq!(described_instance("snapmgmt i-0123456789abcdef0 run-2", &ours), None);
        assert_eq!(described_instance("", &ours), None);
        assert_eq!(described_instance("snapmgmt i-0123456789abcdef0 run-1", &tags("i-0123456789abcdef0", "")), None);
    }

    #[test]
    fn the_templates_tag_conditions_and_document_use_this_vocabulary() {
        let template = include_str!("../../../template.yaml");
        // The SSM document writes the Description snapmgmt writes.
        assert!(template
            .contains(&format!("Description: {}", snapshot_description("{{ InstanceId }}", "{{ ExecutionId }}"))));
        let mut named = Vec::new();
        for prefix in ["aws:RequestTag/", "aws:ResourceTag/", "ssm:resourceTag/", "- Key: "] {
            named.extend(keys_after(template, prefix));
        }
        assert!(named.len() >= 5, "the template names our tags: {named:?}");
        for key in named {
            // The original sample's own tag, which the adoption statement names.
            let known = BACKUP_KEYS.contains(&key)
                || key == crate::config::DEFAULT_TAG_KEY
                || key == crate::adopt::CREATED_BY_KEY
                || key == RESTORED_FROM_KEY
                || key == RESTORE_TEST_KEY;
            assert!(known, "template.yaml names the tag {key:?}, which snapmgmt does not use");
        }
        // The ownership conditions compare with our value (a Null condition asks whether the tag is there).
        let lines: Vec<&str> = template.lines().collect();
        for (n, line) in lines.iter().enumerate().filter(|(_, l)| l.contains("Tag/ManagedBy:")) {
            let value = line.rsplit(':').next().unwrap().trim();
            let under_null =
                lines[..n].iter().rev().find(|l| !l.trim().starts_with('#')).unwrap().trim() == "\"Null\":";
            assert!(value == MANAGED_BY_VALUE || under_null && value == "\"true\"", "{line}");
        }
    }
}
