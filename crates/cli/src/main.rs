//! snapmgmt: runs the backup job once from a terminal, against AWS or, with AWS_ENDPOINT_URL, against
//! the local emulator. The same library code as the Lambda functions, steps run in one process.

mod args;
mod summary;

use std::process::ExitCode;

use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::config::{Env, RetentionConfig, TargetTag};
use snapmgmt_core::local_run::{self, RunRequest};
use snapmgmt_core::model::Timing;

#[tokio::main]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "--help" || a == "-h" || a == "help") {
        println!("{}", args::USAGE);
        return ExitCode::SUCCESS;
    }
    let run = match args::parse(&argv) {
        Ok(run) => run,
        Err(message) => {
            eprintln!("snapmgmt: {message}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    snapmgmt_core::logging::init_for_command_line();
    match execute(run).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("snapmgmt: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(run: args::RunArgs) -> snapmgmt_core::Result<ExitCode> {
    // Settings are checked before any AWS call.
    let request = RunRequest {
        target_tag: TargetTag::from_source(&Env)?,
        retention: RetentionConfig::from_source(&Env)?,
        timing: timing(run.poll_seconds),
        dry_run: run.dry_run,
        run_id: run.run_id.unwrap_or_else(|| format!("snapmgmt-local-{}", snapmgmt_core::now_epoch_seconds())),
    };
    let client = FsxClient::new(&snapmgmt_core::aws::load_config().await);
    let report = local_run::run(&client, &request).await?;
    if run.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("the report serialises"));
    } else {
        print!("{}", summary::render(&report));
    }
    Ok(if report.failures() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The workflow's timing, with every wait shortened to `poll_seconds` when given.
fn timing(poll_seconds: Option<u32>) -> Timing {
    let mut timing = Timing::default();
    if let Some(seconds) = poll_seconds {
        timing.fsx_wait_seconds = seconds;
        timing.backup_poll_seconds = seconds;
    }
    timing
}
