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

/// Ids per log line when a report's lists are logged: keeps each line well inside CloudWatch's 256 KiB.
const IDS_PER_LINE: usize = 500;

/// Logs what a cleanup did: one line with the counts, then every id, in lines of at most 500, so that a
/// search for a backup's id finds what became of it, however many there were.
pub fn cleanup_report(report: &crate::model::CleanupReport) {
    let counts = &report.counts;
    tracing::info!(
        target_id = %report.target_id,
        action = "cleanup",
        dry_run = report.dry_run,
        deleted = counts.deleted,
        kept = counts.kept,
        failed = counts.failed,
        kept_by_reason = ?counts.kept_by_reason,
        "cleanup done"
    );
    for ids in report.deleted.chunks(IDS_PER_LINE) {
        let verb = if report.dry_run { "would delete" } else { "deleted" };
        tracing::info!(target_id = %report.target_id, action = "cleanup", ids = ?ids, "{verb}");
    }
    for kept in report.kept.chunks(IDS_PER_LINE) {
        let kept: Vec<String> = kept.iter().map(|k| format!("{} ({:?})", k.id, k.reason)).collect();
        tracing::info!(target_id = %report.target_id, action = "cleanup", ids = ?kept, "kept");
    }
    for failed in &report.failed {
        tracing::warn!(target_id = %report.target_id, action = "cleanup", id = %failed.id, error = %failed.error, "delete failed");
    }
}
