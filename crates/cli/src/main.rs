use std::io::Write;

use snapmgmt_cli::args::{self, Command};
use snapmgmt_cli::{Clients, Failure};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let code = match args::parse(&words, std::env::var("SNAPMGMT_STACK").ok()) {
        Err(message) => fail(&Failure::Usage(format!("{message}\n\n{}", args::USAGE))),
        Ok(options) => match options.command {
            Command::Help => say(&format!("{}\n", args::USAGE)),
            Command::Version => say(&format!("snapmgmt {}\n", snapmgmt_core::VERSION)),
            _ => {
                // `plan` and `status` make bursts of calls: the functions' adaptive retries and timeouts, which slow
                // down when AWS throttles instead of giving up after three tries (a plan over 1,000 targets under
                // EC2's request limits lost one to RequestLimitExceeded with the SDK's defaults).
                let pattern = snapmgmt_core::aws::CallPattern::Bursty;
                let sdk = snapmgmt_core::aws::load_config("snapmgmt", pattern).await;
                match snapmgmt_cli::run(&Clients::new(&sdk), &options, snapmgmt_core::now_epoch_seconds()).await {
                    Ok(answer) => say(&answer.text).max(i32::from(answer.attention)),
                    Err(failure) => fail(&failure),
                }
            }
        },
    };
    std::process::exit(code);
}

fn say(text: &str) -> i32 {
    // A closed pipe (`snapmgmt runs | head`) is no failure of the command.
    let _ = std::io::stdout().write_all(text.as_bytes());
    0
}

fn fail(failure: &Failure) -> i32 {
    eprintln!("snapmgmt: {failure}");
    failure.exit_code()
}
