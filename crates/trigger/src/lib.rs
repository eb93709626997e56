//! trigger: run by the schedule (or by hand). Finds the tagged resources and starts one execution of
//! the workflow per schedule tick; the targets go to the stack's bucket as the run's inventory.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_backup, aws_sdk_ec2, aws_sdk_efs, aws_sdk_fsx, aws_sdk_s3, aws_sdk_sfn, SdkConfig};
use snapmgmt_core::config::TriggerConfig;
use snapmgmt_core::copy::RegionClients;
use snapmgmt_core::model::{parse_event, TriggerEvent, TriggerResult};
use snapmgmt_core::serve::Function;
use snapmgmt_core::trigger::{self, TriggerClients};
use snapmgmt_core::Result;

/// The trigger's clients: every kind's listing, the bucket, the workflow, and the copy Region's (COPY_REGION),
/// where orphans' copies are looked for.
pub struct Trigger {
    pub fsx: aws_sdk_fsx::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub efs: aws_sdk_efs::Client,
    pub s3: aws_sdk_s3::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub backup: aws_sdk_backup::Client,
    pub copies: Option<RegionClients>,
}

impl Function for Trigger {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Settings = TriggerConfig;
    type Output = TriggerResult;

    fn settings() -> Result<TriggerConfig> {
        TriggerConfig::from_env()
    }

    fn new(sdk: &SdkConfig, settings: Option<&TriggerConfig>) -> Self {
        let copy_region = settings.and_then(|c| c.copy_region.as_deref());
        Self {
            fsx: aws_sdk_fsx::Client::new(sdk),
            ec2: aws_sdk_ec2::Client::new(sdk),
            efs: aws_sdk_efs::Client::new(sdk),
            s3: snapmgmt_core::aws::s3::client(sdk),
            sfn: aws_sdk_sfn::Client::new(sdk),
            backup: aws_sdk_backup::Client::new(sdk),
            copies: copy_region.map(|region| RegionClients::new(sdk, region)),
        }
    }

    async fn handle(&self, config: &TriggerConfig, event: LambdaEvent<Value>) -> Result<TriggerResult> {
        let request: TriggerEvent = parse_event(event.payload)?;
        let clients = TriggerClients {
            fsx: &self.fsx,
            ec2: &self.ec2,
            efs: &self.efs,
            s3: &self.s3,
            sfn: &self.sfn,
            backup: &self.backup,
            copies: self.copies.as_ref(),
        };
        trigger::run(clients, config, &request, &event.context.request_id).await
    }
}
