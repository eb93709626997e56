//! verify: reads back an instance's newest snapshot set through the EBS direct APIs, without a restore:
//! this round's share of each snapshot's blocks, each checked against its checksum, within a byte budget;
//! and the bytes changed since the set before; on its turn, restores the set to volumes. An EFS file
//! system's newest recovery point it restores into a new file system, an FSx target's backup (by kind) too;
//! with copies, the newest copy in the copy Region as well. Whatever it restores it deletes; it never
//! creates, changes or deletes a backup.
//! The verify state machine also runs its first and last steps here (`start`: the targets and their share
//! of the budget; `record`: each target's lastVerified and the run's report).

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use snapmgmt_core::aws::{
    aws_sdk_backup, aws_sdk_ebs, aws_sdk_ec2, aws_sdk_efs, aws_sdk_fsx, aws_sdk_lambda, aws_sdk_s3, SdkConfig,
};
use snapmgmt_core::config::VerifyConfig;
use snapmgmt_core::model::{RunId, VerifyEvent, VerifyRequest, VerifyStarted, VerifySummary};
use snapmgmt_core::serve::Function;
use snapmgmt_core::verify::{self, run, TargetCheck};
use snapmgmt_core::Result;

pub struct Verify {
    pub ec2: aws_sdk_ec2::Client,
    pub ebs: aws_sdk_ebs::Client,
    pub efs: aws_sdk_efs::Client,
    pub backup: aws_sdk_backup::Client,
    pub fsx: aws_sdk_fsx::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub s3: aws_sdk_s3::Client,
    /// The copy Region's, when the stack copies: its newest copies are read back too.
    pub copy: Option<CopyRegion>,
}

pub struct CopyRegion {
    pub region: String,
    pub ec2: aws_sdk_ec2::Client,
    pub ebs: aws_sdk_ebs::Client,
    pub efs: aws_sdk_efs::Client,
    pub backup: aws_sdk_backup::Client,
    pub fsx: aws_sdk_fsx::Client,
}

/// What an invocation answers, by the request's action.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Check(Box<TargetCheck>),
    Started(VerifyStarted),
    Recorded(VerifySummary),
}

impl Function for Verify {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Settings = VerifyConfig;
    type Output = Answer;

    fn settings() -> Result<VerifyConfig> {
        VerifyConfig::from_env()
    }

    fn new(sdk: &SdkConfig, settings: Option<&VerifyConfig>) -> Self {
        let copy = settings.and_then(|s| s.copy_region.clone()).map(|region| {
            let there = snapmgmt_core::aws::config_in(sdk, &region);
            CopyRegion {
                ec2: aws_sdk_ec2::Client::new(&there),
                ebs: aws_sdk_ebs::Client::new(&there),
                efs: aws_sdk_efs::Client::new(&there),
                backup: aws_sdk_backup::Client::new(&there),
                fsx: aws_sdk_fsx::Client::new(&there),
                region,
            }
        });
        Self {
            ec2: aws_sdk_ec2::Client::new(sdk),
            ebs: aws_sdk_ebs::Client::new(sdk),
            efs: aws_sdk_efs::Client::new(sdk),
            backup: aws_sdk_backup::Client::new(sdk),
            fsx: aws_sdk_fsx::Client::new(sdk),
            lambda: aws_sdk_lambda::Client::new(sdk),
            s3: snapmgmt_core::aws::s3::client(sdk),
            copy,
        }
    }

    async fn handle(&self, settings: &VerifyConfig, event: LambdaEvent<Value>) -> Result<Answer> {
        let request_id = event.context.request_id.clone();
        match VerifyRequest::parse(event.payload)? {
            VerifyRequest::Check(event) => Ok(Answer::Check(Box::new(self.check(settings, event, &request_id).await?))),
            VerifyRequest::Start(event) => {
                let clients = run::StartClients {
                    ec2: &self.ec2,
                    efs: &self.efs,
                    fsx: &self.fsx,
                    s3: &self.s3,
                    copy: self.copy.as_ref().map(|c| (&c.efs, &c.fsx)),
                };
                run::start(clients, settings, &event).await.map(Answer::Started)
            }
            VerifyRequest::Record(event) => run::record(&self.s3, settings, &event).await.map(Answer::Recorded),
            VerifyRequest::Follow(event) => {
                let check = verify::check::follow(self.clients(), settings, *event.check).await?;
                Ok(Answer::Check(Box::new(logged(check))))
            }
        }
    }
}

impl Verify {
    async fn check(&self, settings: &VerifyConfig, event: VerifyEvent, request_id: &str) -> Result<TargetCheck> {
        // Only a restore test needs the run: what it makes is tagged with it.
        let run = if event.restore { Some(RunId::or_request(event.run_id.as_ref(), request_id)?) } else { None };
        let run_id = run.as_ref().map_or("", RunId::as_str);
        let now = snapmgmt_core::now_epoch_seconds();
        let check = verify::check::target(self.clients(), settings, &event, run_id, now).await?;
        Ok(logged(check))
    }

    fn clients(&self) -> verify::check::Clients<'_> {
        verify::check::Clients {
            ec2: &self.ec2,
            ebs: &self.ebs,
            efs: &self.efs,
            backup: &self.backup,
            fsx: &self.fsx,
            lambda: &self.lambda,
            copy: self.copy.as_ref().map(|c| verify::check::CopyClients {
                region: c.region.as_str(),
                ec2: &c.ec2,
                ebs: &c.ebs,
                efs: &c.efs,
                backup: &c.backup,
                fsx: &c.fsx,
            }),
        }
    }
}

fn logged(check: TargetCheck) -> TargetCheck {
    tracing::info!(
        kind = check.kind.as_str(),
        target = %check.target_id,
        outcome = ?check.outcome,
        blocks_read = check.blocks_read,
        bytes_read = check.bytes_read,
        bad_blocks = check.bad_blocks.len(),
        restored = ?check.restore.as_ref().map(|r| r.restored),
        cost_usd = check.cost_usd,
        duration_ms = check.duration_ms,
        pending = check.restore.as_ref().is_some_and(|r| r.pending),
        "verified"
    );
    check
}
