//! snapshot-ebs: starts this attempt's EBS snapshot run of one instance: the SSM Automation document
//! (mode `ssm`: scripts, I/O freeze, one multi-volume set, thaw) or CreateSnapshots itself (mode `direct`).
//! A retried invocation gets the same run back; a retried attempt replaces the sets of failed ones.
//! Asked `"action": "copy"`, it copies a completed set to the copy Region (COPY_REGION), each snapshot once.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_ec2, aws_sdk_ssm};
use snapmgmt_core::config::{DryRunSetting, SnapshotConfig};
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{parse_event, CopyEbsEvent, CopyResult, SnapshotEbsEvent, SnapshotEbsResult};
use snapmgmt_core::{ebs, Result};

async fn handler(
    clients: ebs::Clients<'_>,
    config: &Result<(SnapshotConfig, DryRunSetting)>,
    event: LambdaEvent<Value>,
) -> Result<SnapshotEbsResult> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let (config, dry_run) = config.clone()?;
    let mut request: SnapshotEbsEvent = parse_event(event.payload)?;
    request.dry_run = dry_run.applied_to(request.dry_run);
    ebs::snapshot_instance(clients, &config, &request, &event.context.request_id).await
}

/// The copy settings and the copy Region's client, made once at start.
type Copying = snapmgmt_core::copy::Copying<aws_sdk_ec2::Client>;

async fn copy_handler(
    source: &aws_sdk_ec2::Client,
    copying: &Result<Copying>,
    dry_run: DryRunSetting,
    mut request: CopyEbsEvent,
    request_id: &str,
) -> Result<CopyResult> {
    let copying = copying.as_ref().map_err(Clone::clone)?;
    request.dry_run = dry_run.applied_to(request.dry_run);
    ebs::copy::copy_set(copying.regions(source)?, &request, copying.settings.kms_key_id.as_deref(), request_id).await
}

/// A snapshot run, or (`"action": "copy"`) a copy.
async fn route(
    clients: ebs::Clients<'_>,
    config: &Result<(SnapshotConfig, DryRunSetting)>,
    copying: &Result<Copying>,
    event: LambdaEvent<Value>,
) -> Result<Value> {
    if event.payload.get("action").is_none() {
        return Ok(serde_json::to_value(handler(clients, config, event).await?).expect("the result serialises"));
    }
    let request = CopyEbsEvent::parse(event.payload)?;
    let dry_run = config.as_ref().map_err(Clone::clone)?.1;
    let result = copy_handler(clients.ec2, copying, dry_run, request, &event.context.request_id).await?;
    Ok(serde_json::to_value(result).expect("the result serialises"))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let config = snapmgmt_core::config::logged_at_start(
        SnapshotConfig::from_env().and_then(|config| Ok((config, DryRunSetting::from_env()?))),
    );
    let sdk_config = snapmgmt_core::aws::load_config("snapshot-ebs", snapmgmt_core::aws::CallPattern::Steady).await;
    let (ec2, ssm) = (aws_sdk_ec2::Client::new(&sdk_config), aws_sdk_ssm::Client::new(&sdk_config));
    let copying = Copying::at_start(&sdk_config, aws_sdk_ec2::Client::new);
    let clients = ebs::Clients { ec2: &ec2, ssm: &ssm };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("snapshot-ebs", &event.payload);
        route(clients, &config, &copying, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
