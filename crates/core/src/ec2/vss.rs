//! Windows instances: their sets are taken by AWS's `AWSEC2-CreateVssSnapshot`, run by the snapshot document
//! on the instance, as the role of its instance profile. What snapmgmt checks before, and how it reads the
//! set after: AWS's document reports no snapshot ids, and says that VSS held by tagging each snapshot
//! `AppConsistent=true`.

use aws_sdk_ec2::types::{Instance, Snapshot};
use aws_sdk_ec2::Client as Ec2Client;

use crate::aws::ec2 as ec2_api;
use crate::error::{Error, Result};
use crate::tags::{self, ATTEMPT_KEY};

/// The tag AWS's VSS document puts on each snapshot whose VSS freeze held (a reserved key of that document).
pub const AWS_APP_CONSISTENT_KEY: &str = "AppConsistent";

/// Windows, by the instance's platform or its platform details (`Windows`, `Windows with SQL ...`). EC2 spells the
/// platform `windows`, where the SDK's enum has `Windows`: compared without case.
pub fn is_windows(instance: &Instance) -> bool {
    instance.platform().is_some_and(|p| p.as_str().eq_ignore_ascii_case("windows"))
        || instance.platform_details().is_some_and(|d| d.starts_with("Windows"))
}

/// What can be known of a Windows instance before its run starts: AWS's document takes the snapshots as the
/// role of the instance's profile, so an instance without one would fail every night. (AwsVssComponents and
/// the role's permissions are checked by AWS's document, on the instance, before it snapshots anything.)
pub fn check_prerequisites(instance_id: &str, instance: &Instance) -> Result<()> {
    if instance.iam_instance_profile().and_then(|p| p.arn()).is_some() {
        return Ok(());
    }
    Err(Error::PrerequisiteMissing {
        resource: instance_id.to_string(),
        missing: "the Windows instance has no instance profile".to_string(),
        fix: "AWSEC2-CreateVssSnapshot creates the snapshots as the instance profile's role: attach a profile whose \
              role has the stack's VssInstancePolicy (output VssInstancePolicyArn)",
    })
}

/// `ExcludeBootVolume` as AWS's document takes it.
pub fn exclude_boot_volume(exclude: bool) -> &'static str {
    if exclude {
        "True"
    } else {
        "False"
    }
}

/// The set one attempt of a run made of an instance: its snapshots by our tags.
pub async fn set_of_run(ec2: &Ec2Client, instance_id: &str, run: &str, attempt: &str) -> Result<Vec<String>> {
    let ours = [tags::ownership(instance_id, run).as_slice(), &[(ATTEMPT_KEY, attempt)]].concat();
    let snapshots = ec2_api::list_own_snapshots(ec2, &ours, ec2_api::SNAPSHOT_PAGE_SIZE).await?;
    Ok(snapshots.iter().filter_map(|s| s.snapshot_id().map(str::to_string)).collect())
}

/// How consistent a completed Windows set is: `crash` when the pre-script failed (and the run went on), `app`
/// when AWS tagged every snapshot `AppConsistent=true`, else `freeze-failed` (VSS did not hold).
pub fn consistency(pre_script_outputs: &[String], snapshots: &[Snapshot]) -> &'static str {
    let pre_script_failed =
        pre_script_outputs.iter().flat_map(|o| o.lines()).any(|line| line.trim() == "snapmgmt-pre-script=failed");
    let vss_held =
        |s: &Snapshot| s.tags().iter().any(|t| t.key() == Some(AWS_APP_CONSISTENT_KEY) && t.value() == Some("true"));
    if pre_script_failed {
        "crash"
    } else if !snapshots.is_empty() && snapshots.iter().all(vss_held) {
        "app"
    } else {
        "freeze-failed"
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{IamInstanceProfile, PlatformValues, Tag};

    use super::*;

    fn snapshot(aws_app_consistent: Option<&str>) -> Snapshot {
        let tags = aws_app_consistent.map(|v| Tag::builder().key(AWS_APP_CONSISTENT_KEY).value(v).build());
        Snapshot::builder().snapshot_id("snap-1").set_tags(Some(tags.into_iter().collect())).build()
    }

    #[test]
    fn a_set_is_application_consistent_only_when_aws_tagged_every_snapshot_and_the_pre_script_succeeded() {
        let ok = ["snapmgmt-pre-script=ok\n".to_string()];
        assert_eq!(consistency(&ok, &[snapshot(Some("true")), snapshot(Some("true"))]), "app");
        assert_eq!(consistency(&ok, &[snapshot(Some("true")), snapshot(None)]), "freeze-failed");
        assert_eq!(consistency(&ok, &[]), "freeze-failed");
        let failed = ["snapmgmt-pre-script=failed".to_string()];
        assert_eq!(consistency(&failed, &[snapshot(Some("true"))]), "crash");
    }

    #[test]
    fn a_windows_instance_without_an_instance_profile_is_refused_naming_it() {
        // As EC2 answers it.
        let bare = Instance::builder().platform(PlatformValues::from("windows")).build();
        assert!(is_windows(&bare));
        let err = check_prerequisites("i-0123456789abcdef0", &bare).unwrap_err();
        assert_eq!(err.kind(), "PrerequisiteMissing");
        assert!(err.to_string().contains("no instance profile") && err.to_string().contains("VssInstancePolicy"));
        let profile = IamInstanceProfile::builder().arn("arn:aws:iam::123456789012:instance-profile/w").build();
        let with_profile = Instance::builder().platform_details("Windows").iam_instance_profile(profile).build();
        assert!(check_prerequisites("i-0123456789abcdef0", &with_profile).is_ok());
        assert!(!is_windows(&Instance::builder().platform_details("Linux/UNIX").build()));
    }

    #[test]
    fn exclude_boot_volume_is_spelled_as_aws_s_document_takes_it() {
        assert_eq!((exclude_boot_volume(true), exclude_boot_volume(false)), ("True", "False"));
    }
}
