//! One cleanup invocation's policy, from the stack's settings and the event: the rule it applies (an event
//! may only lower the delete guard; an orphan's backups are only reported unless DELETE_ORPHANS says
//! otherwise), where it cleans (the target's Region, or the copy Region under the copy policy) and, for
//! EFS, in which vault.

use std::time::Instant;

use super::Request;
use crate::config::{CleanupConfig, CopySettings, RetentionConfig};
use crate::error::{Error, Result};
use crate::model::{CleanupEvent, RunId};

/// What one invocation does: the rule, the request, and where.
#[derive(Debug, Clone)]
pub struct Invocation<'e> {
    pub retention: RetentionConfig,
    pub request: Request<'e>,
    /// The event names the copy Region: the copies there are cleaned, not the target's own backups.
    pub in_copy_region: bool,
}

/// The invocation `event` asks for under `settings`, at `now` (seconds since the Unix epoch), with no
/// delete starting after `budget_end`.
pub fn plan<'e>(
    settings: &'e CleanupConfig,
    event: &'e CleanupEvent,
    now: i64,
    budget_end: Option<Instant>,
) -> Result<Invocation<'e>> {
    let mut retention = settings.retention.clone().with_delete_limit(event.max_delete_percent);
    let report_only_orphan = event.orphan && !settings.delete_orphans;
    if report_only_orphan {
        // Only reported: the guard, which stops deletes, would fail every night a run that deletes nothing.
        retention.max_delete_percent = 100;
    }
    let in_copy_region = match &event.region {
        None => false,
        Some(region) => {
            check_copy_region(&settings.copy, region)?;
            true
        }
    };
    let request = Request {
        target_id: &event.target_id,
        new_backup: event.new_backup.as_deref(),
        new_backup_field: event.new_backup_field(),
        run_id: event.run_id.as_ref().map(RunId::as_str),
        dry_run: settings.dry_run.applied_to(event.dry_run) || report_only_orphan,
        now,
        budget_end,
        orphan: event.orphan,
        // The sample's backups are adopted where the stack runs: in the copy Region they are the sample's of
        // that Region's own resources, never this stack's to delete (nor could its role).
        adopt: settings.adopt_original_sample && !in_copy_region,
        // The copies are kept under the copy policy (COPY_RETENTION; default: the source's).
        policy_override: if in_copy_region { settings.copy.retention } else { None },
        orphan_grace_days: settings.orphan_grace_days,
        orphan_since: event.orphan_since,
    };
    Ok(Invocation { retention, request, in_copy_region })
}

/// The vault whose EFS recovery points the invocation deletes from: the stack's, or the copy Region's.
pub fn efs_vault(settings: &CleanupConfig, in_copy_region: bool) -> Result<&str> {
    if in_copy_region {
        return settings.copy.destination_vault();
    }
    settings.backup_vault_name.as_deref().ok_or_else(|| Error::InvalidSetting {
        name: "BACKUP_VAULT_NAME",
        value: String::new(),
        reason: "is required to clean EFS recovery points: the stack's vault".into(),
    })
}

/// An event's `region` must be the stack's copy Region.
fn check_copy_region(copy: &CopySettings, region: &str) -> Result<()> {
    let Some(copy_region) = copy.region.as_deref() else {
        return Err(Error::invalid_event("region", format!("{region}: COPY_REGION is not set, no copies are made")));
    };
    if region != copy_region {
        return Err(Error::invalid_event("region", format!("{region} is not the copy Region ({copy_region})")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cleanup::memory::MemoryStore;
    use crate::config::DryRunSetting;
    use crate::model::TargetKind;
    use crate::retention::{BackupInfo, BackupState, SECONDS_PER_DAY};
    use crate::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE, TARGET_ID_KEY};
    use crate::tiers::Written;

    const TARGET: &str = "fs-0123456789abcdef0";
    const ACCOUNT: &str = "123456789012";
    const NOW: i64 = 1_800_000_000;

    fn settings() -> CleanupConfig {
        CleanupConfig {
            retention: RetentionConfig { retention_days: 7, ..RetentionConfig::default() },
            dry_run: DryRunSetting::default(),
            backup_vault_name: Some("snapmgmt-vault".into()),
            delete_orphans: false,
            adopt_original_sample: false,
            copy: CopySettings::default(),
            ec2_api_share: 0,
            ec2_concurrency: 50,
            efs_lifecycle_days: None,
            orphan_grace_days: 1,
        }
    }

    fn event(orphan: bool, region: Option<&str>) -> CleanupEvent {
        CleanupEvent {
            kind: TargetKind::Fsx,
            target_id: TARGET.into(),
            new_backup: None,
            dry_run: false,
            max_delete_percent: None,
            run_id: None,
            orphan,
            region: region.map(str::to_string),
            orphan_since: None,
        }
    }

    /// `count` completed backups of ours of the target, a day apart, the newest `newest_age_days` old.
    fn history(count: usize, newest_age_days: i64) -> Vec<BackupInfo> {
        (0..count)
            .map(|n| {
                let age = newest_age_days + n as i64;
                let tags = [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, TARGET)]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                BackupInfo {
                    id: format!("backup-{n:017}"),
                    owner_account: Some(ACCOUNT.into()),
                    source_id: Some(TARGET.into()),
                    tags,
                    created_at: Some(NOW - age * SECONDS_PER_DAY),
                    state: BackupState::Completed,
                    in_use: false,
                    aws_backup_managed: false,
                }
            })
            .collect()
    }

    async fn run(settings: &CleanupConfig, event: &CleanupEvent, store: &MemoryStore<false>) -> Result<usize> {
        let invocation = plan(settings, event, NOW, None)?;
        let report = super::super::run(store, invocation.retention, invocation.request).await?;
        Ok(report.counts.deleted)
    }

    #[tokio::test]
    async fn an_orphans_expired_backups_are_only_reported_unless_delete_orphans_is_set() {
        // Ten expired backups of a resource that is no longer a target: past the guard's 50 %.
        let store = MemoryStore::new(ACCOUNT, history(10, 30));
        let orphan = event(true, None);
        let stack = settings();
        let invocation = plan(&stack, &orphan, NOW, None).unwrap();
        assert!(invocation.request.dry_run && invocation.retention.max_delete_percent == 100);
        assert_eq!(run(&settings(), &orphan, &store).await.unwrap(), 9, "would delete all but the newest");
        assert!(store.deleted().is_empty(), "reported only");

        let deleting = CleanupConfig { delete_orphans: true, ..settings() };
        let err = run(&deleting, &orphan, &store).await.unwrap_err();
        assert!(matches!(err, Error::DeleteLimitExceeded { .. }), "the guard holds for orphans too: {err}");
        assert!(store.deleted().is_empty());
        let allowed = CleanupConfig {
            retention: RetentionConfig { max_delete_percent: 100, ..deleting.retention.clone() },
            ..deleting
        };
        assert_eq!(run(&allowed, &orphan, &store).await.unwrap(), 9);
        assert_eq!(store.deleted().len(), 9, "the newest is kept");
    }

    #[tokio::test]
    async fn a_tag_policy_that_outlasts_the_efs_lifecycle_fails_its_cleanup_naming_both() {
        let mut store = MemoryStore::new(ACCOUNT, history(10, 30));
        store.lifecycle_days = Some(35);
        store.retention_tag = Some("monthly=12".into());
        let orphan = event(true, None);
        let err = run(&settings(), &orphan, &store).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidTag { value, .. } if value == "monthly=12"), "{err}");
        let text = err.to_string();
        assert!(text.contains("372 days") && text.contains("EfsLifecycleBackstopDays"), "{text}");
        // The stack's 7 days are inside the backstop: its policy is fine.
        store.retention_tag = None;
        assert_eq!(run(&settings(), &orphan, &store).await.unwrap(), 9);
        store.retention_tag = Some("days=30".into());
        assert!(run(&settings(), &orphan, &store).await.is_ok());
        assert!(store.deleted().is_empty(), "only reported: DELETE_ORPHANS is off");
    }

    #[test]
    fn an_event_can_lower_the_guard_ask_for_a_dry_run_and_never_undo_the_stacks() {
        let mut lowered = event(false, None);
        (lowered.max_delete_percent, lowered.dry_run) = (Some(10), true);
        let stack = settings();
        let invocation = plan(&stack, &lowered, NOW, None).unwrap();
        assert_eq!(invocation.retention.max_delete_percent, 10);
        assert!(invocation.request.dry_run);
        let preview = CleanupConfig { dry_run: DryRunSetting { dry_run: true }, ..settings() };
        let mut raised = event(false, None);
        raised.max_delete_percent = Some(100);
        let invocation = plan(&preview, &raised, NOW, None).unwrap();
        assert_eq!(invocation.retention.max_delete_percent, 50, "an event cannot raise MAX_DELETE_PERCENT");
        assert!(invocation.request.dry_run, "DRY_RUN holds whatever the event says");
    }

    #[test]
    fn copies_are_cleaned_only_in_the_copy_region_under_the_copy_policy() {
        let err = plan(&settings(), &event(false, Some("us-west-2")), NOW, None).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "region"), "{err}");
        let copy_policy = Written::parse("days=3").unwrap();
        let copying = CleanupConfig {
            copy: CopySettings {
                region: Some("us-west-2".into()),
                retention: Some(copy_policy),
                backup_vault_name: Some("snapmgmt-copies".into()),
                ..CopySettings::default()
            },
            ..settings()
        };
        let err = plan(&copying, &event(false, Some("eu-west-1")), NOW, None).unwrap_err();
        assert!(err.to_string().contains("not the copy Region (us-west-2)"), "{err}");
        let copies = event(false, Some("us-west-2"));
        let invocation = plan(&copying, &copies, NOW, None).unwrap();
        assert!(invocation.in_copy_region);
        assert_eq!(invocation.request.policy_override, Some(copy_policy));
        assert_eq!(efs_vault(&copying, true).unwrap(), "snapmgmt-copies");
        let own_region = event(false, None);
        let at_home = plan(&copying, &own_region, NOW, None).unwrap();
        assert!(!at_home.in_copy_region && at_home.request.policy_override.is_none());
        assert_eq!(efs_vault(&copying, false).unwrap(), "snapmgmt-vault");
    }

    #[test]
    fn the_samples_backups_are_adopted_in_the_stacks_region_only() {
        let adopting = CleanupConfig {
            adopt_original_sample: true,
            copy: CopySettings { region: Some("us-west-2".into()), ..CopySettings::default() },
            ..settings()
        };
        let own_region = event(false, None);
        assert!(plan(&adopting, &own_region, NOW, None).unwrap().request.adopt);
        // There they are the sample's of that Region's resources, and the delete statement is this Region's.
        let copies = event(false, Some("us-west-2"));
        assert!(!plan(&adopting, &copies, NOW, None).unwrap().request.adopt);
    }

    #[test]
    fn an_efs_cleanup_without_its_vault_names_the_setting() {
        let no_vault = CleanupConfig { backup_vault_name: None, ..settings() };
        let err = efs_vault(&no_vault, false).unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { name: "BACKUP_VAULT_NAME", .. }), "{err}");
        let err = efs_vault(&no_vault, true).unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { name: "COPY_BACKUP_VAULT_NAME", .. }), "{err}");
    }
}
