//! verify: reads back an instance's newest snapshot set through the EBS direct APIs, without a restore:
//! this round's share of each snapshot's blocks, each checked against its checksum, within a byte budget;
//! and the bytes changed since the set before. It reads only: it never creates, changes or deletes anything.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_ebs, aws_sdk_ec2, SdkConfig};
use snapmgmt_core::config::VerifyConfig;
use snapmgmt_core::model::VerifyEvent;
use snapmgmt_core::serve::Function;
use snapmgmt_core::verify::ebs::{self, Budget, InstanceCheck, Reading};
use snapmgmt_core::Result;

pub struct Verify {
    pub ec2: aws_sdk_ec2::Client,
    pub ebs: aws_sdk_ebs::Client,
}

impl Function for Verify {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Settings = VerifyConfig;
    type Output = InstanceCheck;

    fn settings() -> Result<VerifyConfig> {
        VerifyConfig::from_env()
    }

    fn new(sdk: &SdkConfig, _: Option<&VerifyConfig>) -> Self {
        Self { ec2: aws_sdk_ec2::Client::new(sdk), ebs: aws_sdk_ebs::Client::new(sdk) }
    }

    async fn handle(&self, settings: &VerifyConfig, event: LambdaEvent<Value>) -> Result<InstanceCheck> {
        let event = VerifyEvent::parse(event.payload)?;
        let now = snapmgmt_core::now_epoch_seconds();
        let reading = Reading { fraction: settings.read_fraction, round: event.round.unwrap_or((now / 86_400) as u64) };
        let budget = Budget::new(event.max_bytes.unwrap_or(u64::MAX).min(settings.max_bytes()));
        let clients = ebs::Clients { ec2: &self.ec2, ebs: &self.ebs };
        let check =
            ebs::check_instance(clients, &event.instance_id, settings.stack.as_ref(), reading, &budget, now).await?;
        tracing::info!(
            instance = %check.instance_id,
            outcome = ?check.outcome,
            blocks_read = check.blocks_read,
            bytes_read = check.bytes_read,
            bad_blocks = check.bad_blocks.len(),
            cost_usd = check.cost_usd,
            "verified"
        );
        Ok(check)
    }
}
