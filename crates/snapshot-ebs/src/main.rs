//! snapshot-ebs: starts this attempt's EBS snapshot run of one instance: the SSM Automation document
//! (mode `ssm`: scripts, I/O freeze, one multi-volume set, thaw) or CreateSnapshots itself (mode `direct`).
//! A retried invocation gets the same run back; a retried attempt replaces the sets of failed ones.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_ec2, aws_sdk_ssm};
use snapmgmt_core::config::{DryRunSetting, SnapshotConfig};
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{parse_event, SnapshotEbsEvent, SnapshotEbsResult};
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

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let config = snapmgmt_core::config::logged_at_start(
        SnapshotConfig::from_env().and_then(|config| Ok((config, DryRunSetting::from_env()?))),
    );
    let sdk_config = snapmgmt_core::aws::load_config("snapshot-ebs", snapmgmt_core::aws::CallPattern::Steady).await;
    let (ec2, ssm) = (aws_sdk_ec2::Client::new(&sdk_config), aws_sdk_ssm::Client::new(&sdk_config));
    let clients = ebs::Clients { ec2: &ec2, ssm: &ssm };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("snapshot-ebs", &event.payload);
        handler(clients, &config, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
