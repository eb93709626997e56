//! Logs: JSON lines through tracing, as the Lambda runtime's own subscriber would write them.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the process-wide subscriber: JSON unless AWS_LAMBDA_LOG_FORMAT is `Text`; the level from
/// AWS_LAMBDA_LOG_LEVEL (or RUST_LOG), `info` by default.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string())
        .to_lowercase();
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let text = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("text"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        // Colours only for a person at a terminal, never in CloudWatch's text logs.
        .with_ansi(std::io::stdout().is_terminal());
    // Lambda stamps every line itself; a second timestamp would only cost bytes.
    let _ =
        if text { builder.try_init() } else { builder.json().flatten_event(true).with_current_span(false).try_init() };
}
