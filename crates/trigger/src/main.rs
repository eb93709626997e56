//! trigger: run by the schedule (or by hand). Finds the tagged resources and starts one execution of
//! the workflow per schedule tick; the targets go to the stack's bucket as the run's inventory.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_backup, aws_sdk_ec2, aws_sdk_efs, aws_sdk_fsx, aws_sdk_sfn};
use snapmgmt_core::config::TriggerConfig;
use snapmgmt_core::copy::RegionClients;
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{parse_event, TriggerEvent, TriggerResult};
use snapmgmt_core::trigger::{self, TriggerClients};
use snapmgmt_core::Result;

async fn handler(
    clients: TriggerClients<'_>,
    config: &Result<TriggerConfig>,
    event: LambdaEvent<Value>,
) -> Result<TriggerResult> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let config = config.clone()?;
    let request: TriggerEvent = parse_event(event.payload)?;
    trigger::run(clients, &config, &request, &event.context.request_id).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let config = snapmgmt_core::config::logged_at_start(TriggerConfig::from_env());
    let sdk_config = snapmgmt_core::aws::load_config("trigger", snapmgmt_core::aws::CallPattern::Steady).await;
    let fsx = aws_sdk_fsx::Client::new(&sdk_config);
    let ec2 = aws_sdk_ec2::Client::new(&sdk_config);
    let efs = aws_sdk_efs::Client::new(&sdk_config);
    let s3 = snapmgmt_core::aws::s3::client(&sdk_config);
    let sfn = aws_sdk_sfn::Client::new(&sdk_config);
    let backup = aws_sdk_backup::Client::new(&sdk_config);
    // The copy Region's clients, when COPY_REGION is set: orphans' copies are looked for there.
    let copy_region = config.as_ref().ok().and_then(|c| c.copy_region.as_deref());
    let in_copy_region = copy_region.map(|region| RegionClients::new(&sdk_config, region));
    let copies = in_copy_region.as_ref();
    let clients = TriggerClients { fsx: &fsx, ec2: &ec2, efs: &efs, s3: &s3, sfn: &sfn, backup: &backup, copies };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("trigger", &event.payload);
        handler(clients, &config, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
