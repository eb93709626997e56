//! `snapmgmt`, the operator's command line for a deployed stack: the runs, a run's report, every target's
//! status, a resource's backups and why each is kept, read-only (the template's OperatorReadOnlyPolicy is all it needs). It finds the stack by name
//! (its CloudFormation outputs) and reads what the functions wrote, through the same core library.

pub mod args;
pub mod backups;
pub mod plan;
pub mod restore;
pub mod runs;
pub mod schedule;
pub mod stack;
pub mod status;
pub mod table;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use snapmgmt_core::aws::aws_sdk_s3::Client as S3Client;
use snapmgmt_core::aws::aws_sdk_sfn::Client as SfnClient;
use snapmgmt_core::freshness::{Ledger, LEDGER_KEY};
use snapmgmt_core::verify::ledger::{VerifyLedger, LEDGER_KEY as VERIFY_LEDGER_KEY};

use args::{Command, Options, RunRef};

/// What a command could not do, and the exit code it means.
#[derive(Debug)]
pub enum Failure {
    /// The command line is wrong: exit 2.
    Usage(String),
    /// No answer: the stack, a run, AWS: exit 3.
    NoAnswer(String),
}

impl Failure {
    /// A refused or failed AWS call, named as the core names them (`service:Operation failed: code: message`).
    pub fn aws<E, R>(service: &'static str, operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        Failure::NoAnswer(snapmgmt_core::Error::aws(service, operation, error).to_string())
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => 2,
            Failure::NoAnswer(_) => 3,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Failure::Usage(m) | Failure::NoAnswer(m) => f.write_str(m),
        }
    }
}

/// A command's answer: what to print, and whether it needs attention (exit 1).
pub struct Answer {
    pub text: String,
    pub attention: bool,
}

/// The clients a command asks.
pub struct Clients {
    pub sdk: snapmgmt_core::aws::SdkConfig,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub sfn: SfnClient,
    pub s3: S3Client,
}

impl Clients {
    pub fn new(sdk: &snapmgmt_core::aws::SdkConfig) -> Self {
        Self {
            sdk: sdk.clone(),
            cloudformation: aws_sdk_cloudformation::Client::new(sdk),
            lambda: aws_sdk_lambda::Client::new(sdk),
            sfn: SfnClient::new(sdk),
            s3: snapmgmt_core::aws::s3::client(sdk),
        }
    }

    /// The Region the stack is asked in.
    pub fn region(&self) -> String {
        self.sdk.region().map(|r| r.to_string()).unwrap_or_default()
    }

    /// Readers of the backups, here and in the copy Region.
    pub fn readers(&self, copy_region: Option<&str>) -> backups::Readers {
        backups::Readers {
            here: snapmgmt_core::copy::RegionClients::new(&self.sdk, &self.region()),
            efs: snapmgmt_core::aws::aws_sdk_efs::Client::new(&self.sdk),
            copies: copy_region.map(|region| snapmgmt_core::copy::RegionClients::new(&self.sdk, region)),
        }
    }
}

/// Runs one command against the stack; `now` in Unix seconds.
pub async fn run(clients: &Clients, options: &Options, now: i64) -> Result<Answer, Failure> {
    let found = stack::find(&clients.cloudformation, &options.stack).await?;
    let state_machine = found.output("StateMachineArn")?;
    let bucket = found.output("InventoryBucketName")?;
    match &options.command {
        Command::Runs { limit } => {
            let listed = runs::listed(&clients.sfn, state_machine, *limit).await?;
            let runs = runs::with_totals(&clients.sfn, listed).await?;
            let attention = runs.first().is_some_and(|r| !r.succeeded());
            Ok(Answer { text: render(options, runs.as_slice(), table::runs)?, attention })
        }
        Command::Report { run } => {
            let recent = match run {
                RunRef::Last => runs::listed(&clients.sfn, state_machine, 20).await?,
                RunRef::Id(_) => Vec::new(),
            };
            let report = runs::report(&clients.s3, bucket, &recent, run).await?;
            let attention = report.totals.failed_targets > 0 || report.totals.failed_deletes > 0;
            Ok(Answer { text: render(options, &report, table::report)?, attention })
        }
        Command::Plan { at, target } => {
            let variables = backups::function_settings(&clients.lambda, found.output("TriggerFunctionName")?).await?;
            let trigger_settings = plan::trigger_settings(variables)?;
            let cleanup_settings = backups::settings(&clients.lambda, found.output("CleanupFunctionName")?).await?;
            let readers = clients.readers(cleanup_settings.copy.region.as_deref());
            let trigger = snapmgmt_core::trigger::TriggerClients {
                fsx: &readers.here.fsx,
                ec2: &readers.here.ec2,
                efs: &readers.efs,
                s3: &clients.s3,
                sfn: &clients.sfn,
                backup: &readers.here.backup,
                copies: readers.copies.as_ref(),
            };
            let region = clients.region();
            // Given, else the schedule's next tick (when it runs at all), else now.
            let enabled = found.parameter("ScheduleState") != Some("DISABLED");
            let next = found.parameter("Schedule").filter(|_| enabled).and_then(|e| schedule::next_tick(e, now));
            let (at, at_from) = match (at, next) {
                (Some(at), _) => (*at, "given"),
                (None, Some(next)) => (next, "the schedule's next run"),
                (None, None) => (now, "now (the schedule's next run cannot be told)"),
            };
            let inputs = plan::Inputs {
                trigger,
                readers: &readers,
                trigger_settings: &trigger_settings,
                cleanup_settings: &cleanup_settings,
                region: &region,
                at,
                at_from,
                only: target.as_deref(),
            };
            let plan = plan::plan(inputs).await?;
            Ok(Answer { text: render(options, &plan, table::plan)?, attention: plan.needs_attention() })
        }
        Command::Restore { resource, to, run, instance, new_file_system } => {
            let readers = clients.readers(None);
            let ledger = ledger(&clients.s3, bucket).await?;
            let kind = backups::kind_of(&ledger, &readers, resource).await;
            let ask = restore::Ask {
                kind,
                resource,
                to: *to,
                instance: instance.as_deref(),
                new_file_system: *new_file_system,
                vault: found.output("BackupVaultName")?,
                backup_role: found.output("BackupRoleArn")?,
            };
            let restored = restore::restore(&readers, &ask, *run).await?;
            Ok(Answer { text: render(options, &restored, table::restore)?, attention: false })
        }
        Command::Backups { resource } => {
            let settings = backups::settings(&clients.lambda, found.output("CleanupFunctionName")?).await?;
            let ledger = ledger(&clients.s3, bucket).await?;
            let readers = clients.readers(settings.copy.region.as_deref());
            let kind = backups::kind_of(&ledger, &readers, resource).await;
            let answer = backups::judge(&readers, &settings, &ledger, kind, resource, &clients.region(), now).await;
            Ok(Answer { text: render(options, &answer, table::backups)?, attention: answer.needs_attention() })
        }
        Command::Status => {
            let ledger = ledger(&clients.s3, bucket).await?;
            let recent = runs::listed(&clients.sfn, state_machine, 20).await?;
            let last = match runs::report(&clients.s3, bucket, &recent, &RunRef::Last).await {
                Ok(report) => Some(report),
                Err(_) if recent.is_empty() => None,
                Err(e) => return Err(e),
            };
            let hours = found
                .parameter("StaleAfterHours")
                .and_then(|h| h.parse().ok())
                .unwrap_or(status::DEFAULT_STALE_AFTER_HOURS);
            let verified: VerifyLedger = state(&clients.s3, bucket, VERIFY_LEDGER_KEY).await?;
            let status = status::build(&ledger, &verified, last.as_ref(), now, hours);
            Ok(Answer { text: render(options, &status, table::status)?, attention: status.needs_attention() })
        }
        Command::Version | Command::Help => unreachable!("answered before AWS is asked"),
    }
}

/// The freshness ledger; empty before the first real run.
async fn ledger(s3: &S3Client, bucket: &str) -> Result<Ledger, Failure> {
    state(s3, bucket, LEDGER_KEY).await
}

/// One of the stack's state objects (the ledgers); empty before the run that first writes it.
async fn state<T: Default + serde::de::DeserializeOwned>(s3: &S3Client, bucket: &str, key: &str) -> Result<T, Failure> {
    snapmgmt_core::aws::s3::get_json_or_default(s3, bucket, key)
        .await
        .map_err(|e| Failure::NoAnswer(format!("{key}: {e}")))
}

fn render<T: serde::Serialize + ?Sized>(
    options: &Options,
    value: &T,
    table: fn(&T) -> String,
) -> Result<String, Failure> {
    if options.json {
        let mut text = serde_json::to_string_pretty(value).map_err(|e| Failure::NoAnswer(e.to_string()))?;
        text.push('\n');
        Ok(text)
    } else {
        Ok(table(value))
    }
}
