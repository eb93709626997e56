//! `restore RESOURCE --to TIME`: the newest completed backup of ours at or before TIME, and the restore AWS
//! offers for its kind, as AWS CLI commands; with `--run`, made and followed until it is ready (EBS, EFS).
//! EBS: one volume per snapshot of the set, in the instance's Availability Zone, attached with `--instance`
//! (a stopped one) at the device each came from. EFS: a restore job into the file system, or a new one. FSx:
//! a new file system (or ONTAP volume) from the backup with the source's subnets (printed only: the local
//! emulator has no FSx restore to test `--run` against, so it is not offered).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use snapmgmt_core::aws::aws_sdk_backup::Client as BackupClient;
use snapmgmt_core::aws::aws_sdk_ec2::types::InstanceStateName;
use snapmgmt_core::aws::aws_sdk_ec2::Client as Ec2Client;
use snapmgmt_core::aws::ec2::volumes as volume_api;
use snapmgmt_core::aws::{ec2 as ec2_api, fsx as fsx_api};
use snapmgmt_core::cleanup::Store;
use snapmgmt_core::efs::{self, EfsStore};
use snapmgmt_core::fsx::FsxStore;
use snapmgmt_core::model::TargetKind;
use snapmgmt_core::retention::BackupInfo;
use snapmgmt_core::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE, RESTORED_FROM_KEY, TARGET_ID_KEY};
use snapmgmt_core::verify::newest_completed;

use crate::backups::Readers;
use crate::Failure;

const POLL: Duration = Duration::from_secs(2);
const MAX_POLLS: u32 = 900;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restore {
    pub kind: TargetKind,
    pub resource: String,
    /// The backup restored: its parts (an EBS set's snapshots), and when it was made.
    pub backup: Vec<String>,
    pub created: i64,
    /// What to run, in order.
    pub steps: Vec<Step>,
    /// With --run: what was made (volumes, a restore job), ready.
    pub made: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub what: String,
    pub command: String,
}

pub struct Ask<'a> {
    pub kind: TargetKind,
    pub resource: &'a str,
    pub to: i64,
    pub instance: Option<&'a str>,
    pub new_file_system: bool,
    pub vault: &'a str,
    pub backup_role: &'a str,
}

pub async fn restore(readers: &Readers, ask: &Ask<'_>, run: bool) -> Result<Restore, Failure> {
    let no_answer = |e: snapmgmt_core::Error| Failure::NoAnswer(e.to_string());
    let none_before = || {
        Failure::NoAnswer(format!(
            "{} has no completed backup of ours at or before {}",
            ask.resource,
            crate::table::time(ask.to)
        ))
    };
    match ask.kind {
        TargetKind::Ec2 => {
            let ours = [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, ask.resource)];
            let snapshots = ec2_api::list_own_snapshots(&readers.here.ec2, &ours, ec2_api::SNAPSHOT_PAGE_SIZE)
                .await
                .map_err(no_answer)?;
            let listed: Vec<BackupInfo> = snapshots.iter().map(ec2_api::snapshot_info).collect();
            let (ids, created) = newest_completed(&listed, ask.to, true).ok_or_else(none_before)?;
            let volumes: BTreeMap<String, String> = snapshots
                .iter()
                .filter(|s| ids.iter().any(|id| Some(id.as_str()) == s.snapshot_id()))
                .map(|s| {
                    (s.snapshot_id().unwrap_or_default().to_string(), s.volume_id().unwrap_or_default().to_string())
                })
                .collect();
            ebs(&readers.here.ec2, ask, ids, created, volumes, run).await
        }
        TargetKind::Efs => {
            let store = EfsStore {
                clients: efs::Clients { efs: &readers.efs, backup: &readers.here.backup },
                vault: ask.vault,
                lifecycle_days: None,
            };
            let listed = store.list_ours(ask.resource).await.map_err(no_answer)?;
            let (ids, created) = newest_completed(&listed, ask.to, false).ok_or_else(none_before)?;
            efs_restore(&readers.here.backup, ask, ids, created, run).await
        }
        TargetKind::Fsx => {
            let store = FsxStore { client: &readers.here.fsx, sources: &readers.here.fsx };
            let listed = store.list_ours(ask.resource).await.map_err(no_answer)?;
            let (ids, created) = newest_completed(&listed, ask.to, false).ok_or_else(none_before)?;
            if run {
                return Err(Failure::NoAnswer(
                    "restore --run does not make FSx file systems or volumes yet: run the command it prints without --run".into(),
                ));
            }
            fsx_restore(readers, ask, ids, created).await
        }
    }
}

async fn ebs(
    ec2: &Ec2Client,
    ask: &Ask<'_>,
    ids: Vec<String>,
    created: i64,
    volumes: BTreeMap<String, String>,
    run: bool,
) -> Result<Restore, Failure> {
    let no_answer = |e: snapmgmt_core::Error| Failure::NoAnswer(e.to_string());
    // The zone and the devices are the instance's, while it is there; a replacement's zone otherwise.
    let source = ec2_api::describe_instance(ec2, ask.resource).await.ok();
    let devices: BTreeMap<String, String> = source
        .iter()
        .flat_map(|i| i.block_device_mappings())
        .filter_map(|m| Some((m.ebs()?.volume_id()?.to_string(), m.device_name()?.to_string())))
        .collect();
    let replacement = match ask.instance {
        Some(id) => Some(ec2_api::describe_instance(ec2, id).await.map_err(no_answer)?),
        None => None,
    };
    let zone = replacement
        .as_ref()
        .or(source.as_ref())
        .and_then(|i| i.placement()?.availability_zone())
        .map(str::to_string)
        .ok_or_else(|| {
            Failure::Usage(format!("{} is gone: name the instance to restore to with --instance", ask.resource))
        })?;
    if run {
        if let Some(instance) = &replacement {
            let state = instance.state().and_then(|s| s.name());
            if state != Some(&InstanceStateName::Stopped) {
                return Err(Failure::Usage(format!(
                    "--instance {}: stop it first (it is {:?})",
                    ask.instance.unwrap_or_default(),
                    state
                )));
            }
        }
    }
    let device_of = |snapshot: &str| volumes.get(snapshot).and_then(|v| devices.get(v)).cloned();
    let mut steps = Vec::new();
    for snapshot in &ids {
        steps.push(Step {
            what: format!("a volume from {snapshot} in {zone}"),
            command: format!(
                "aws ec2 create-volume --snapshot-id {snapshot} --availability-zone {zone} \
                 --tag-specifications 'ResourceType=volume,Tags=[{{Key={RESTORED_FROM_KEY},Value={snapshot}}}]'"
            ),
        });
        if let Some(instance) = ask.instance {
            let device = device_of(snapshot).unwrap_or_else(|| "/dev/sdf".to_string());
            steps.push(Step {
                what: format!("attached to {instance} at {device}"),
                command: format!("aws ec2 attach-volume --volume-id VOLUME_FROM_{snapshot} --instance-id {instance} --device {device}"),
            });
        }
    }
    let mut made = Vec::new();
    if run {
        for snapshot in &ids {
            let tags = [(RESTORED_FROM_KEY, snapshot.as_str())];
            made.push(volume_api::create_from_snapshot(ec2, snapshot, &zone, &tags).await.map_err(no_answer)?);
        }
        wait_for_volumes(ec2, &made).await?;
        if let Some(instance) = ask.instance {
            for (snapshot, volume) in ids.iter().zip(&made) {
                let device = device_of(snapshot).unwrap_or_else(|| "/dev/sdf".to_string());
                ec2.attach_volume()
                    .volume_id(volume)
                    .instance_id(instance)
                    .device(device)
                    .send()
                    .await
                    .map_err(|e| Failure::aws("ec2", "AttachVolume", e))?;
            }
        }
    }
    Ok(Restore { kind: ask.kind, resource: ask.resource.to_string(), backup: ids, created, steps, made })
}

async fn wait_for_volumes(ec2: &Ec2Client, made: &[String]) -> Result<(), Failure> {
    for _ in 0..MAX_POLLS {
        let states = volume_api::states(ec2, made).await.map_err(|e| Failure::NoAnswer(e.to_string()))?;
        if states.len() < made.len() {
            return Err(Failure::NoAnswer(format!("the volumes {made:?} are not all there any more")));
        }
        let ready = states.iter().filter(|(_, state)| state == "available").count();
        eprintln!("restore: {ready} of {} volumes available", made.len());
        if ready == made.len() {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
    Err(Failure::NoAnswer(format!("the volumes {made:?} were not available in time")))
}

async fn efs_restore(
    backup: &BackupClient,
    ask: &Ask<'_>,
    ids: Vec<String>,
    created: i64,
    run: bool,
) -> Result<Restore, Failure> {
    let point = ids[0].clone();
    let new = ask.new_file_system;
    let token = format!("snapmgmt-restore-{created}");
    let metadata = format!(
        "file-system-id={},newFileSystem={new},Encrypted=false,PerformanceMode=generalPurpose,CreationToken={token}",
        ask.resource
    );
    let target = if new { "a new file system" } else { "the file system itself" };
    let steps = vec![Step {
        what: format!("{point} restored into {target}"),
        command: format!(
            "aws backup start-restore-job --recovery-point-arn {point} --iam-role-arn {} --resource-type EFS --metadata {metadata}",
            ask.backup_role
        ),
    }];
    let mut made = Vec::new();
    if run {
        let job = backup
            .start_restore_job()
            .recovery_point_arn(&point)
            .iam_role_arn(ask.backup_role)
            .resource_type("EFS")
            .metadata("file-system-id", ask.resource)
            .metadata("newFileSystem", new.to_string())
            .metadata("Encrypted", "false")
            .metadata("PerformanceMode", "generalPurpose")
            .metadata("CreationToken", &token)
            .send()
            .await
            .map_err(|e| Failure::aws("backup", "StartRestoreJob", e))?;
        let job_id = job.restore_job_id().unwrap_or_default().to_string();
        for _ in 0..MAX_POLLS {
            let out = backup
                .describe_restore_job()
                .restore_job_id(&job_id)
                .send()
                .await
                .map_err(|e| Failure::aws("backup", "DescribeRestoreJob", e))?;
            let status = out.status().map(|s| s.as_str().to_string()).unwrap_or_default();
            eprintln!("restore: job {job_id} {status}");
            match status.as_str() {
                "COMPLETED" => {
                    made.push(job_id.clone());
                    made.extend(out.created_resource_arn().map(str::to_string));
                    break;
                }
                "FAILED" | "ABORTED" => {
                    return Err(Failure::NoAnswer(format!(
                        "restore job {job_id} {status}: {}",
                        out.status_message().unwrap_or("no message")
                    )))
                }
                _ => tokio::time::sleep(POLL).await,
            }
        }
        if made.is_empty() {
            return Err(Failure::NoAnswer(format!("restore job {job_id} did not complete in time")));
        }
    }
    Ok(Restore { kind: ask.kind, resource: ask.resource.to_string(), backup: ids, created, steps, made })
}

async fn fsx_restore(readers: &Readers, ask: &Ask<'_>, ids: Vec<String>, created: i64) -> Result<Restore, Failure> {
    let backup = &ids[0];
    let step = if ask.resource.starts_with("fsvol-") {
        let volume = fsx_api::describe_volume(&readers.here.fsx, ask.resource).await.ok();
        let name = volume.as_ref().and_then(|v| v.name()).unwrap_or("restored").to_string();
        let svm = volume
            .as_ref()
            .and_then(|v| v.ontap_configuration()?.storage_virtual_machine_id())
            .unwrap_or("svm-SVM_ID")
            .to_string();
        Step {
            what: format!("a new ONTAP volume from {backup} in {svm}"),
            command: format!(
                "aws fsx create-volume-from-backup --backup-id {backup} --name {name}_restored \
                 --ontap-configuration StorageVirtualMachineId={svm},JunctionPath=/{name}_restored"
            ),
        }
    } else {
        let source = fsx_api::describe_file_system(&readers.here.fsx, ask.resource).await.ok();
        let subnets: Vec<String> = source.iter().flat_map(|f| f.subnet_ids()).cloned().collect();
        let subnets = if subnets.is_empty() { "SUBNET_ID".to_string() } else { subnets.join(" ") };
        Step {
            what: format!("a new file system from {backup}, in the source's subnets (add --security-group-ids)"),
            command: format!("aws fsx create-file-system-from-backup --backup-id {backup} --subnet-ids {subnets}"),
        }
    };
    Ok(Restore {
        kind: ask.kind,
        resource: ask.resource.to_string(),
        backup: ids,
        created,
        steps: vec![step],
        made: Vec::new(),
    })
}
