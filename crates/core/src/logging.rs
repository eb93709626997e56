//! Logs: JSON lines through tracing, as the Lambda runtime's own subscriber would write them.

use std::io::IsTerminal;

use serde_json::Value;
use tracing_subscriber::EnvFilter;

pub use tracing::Instrument;

/// Installs the process-wide subscriber: JSON unless AWS_LAMBDA_LOG_FORMAT is `Text`; the level from
/// AWS_LAMBDA_LOG_LEVEL (or RUST_LOG), `info` by default.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string())
        .to_lowercase();
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let text = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("text"));
    if text {
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .without_time()
            // Colours only for a person at a terminal, never in CloudWatch's text logs.
            .with_ansi(std::io::stdout().is_terminal());
        let _ = builder.try_init();
    } else {
        let _ = tracing::subscriber::set_global_default(json_subscriber(filter, std::io::stdout));
    }
}

/// The JSON lines: the event's fields at the top level, the invocation span's (execution, target, action)
/// under `span`; no timestamp, as Lambda stamps every line itself.
fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(writer)
        .json()
        .flatten_event(true)
        .with_span_list(false)
        .finish()
}

/// The span of one invocation: every line logged inside it carries the run (the execution's name), the target
/// and the action (`function` or `function:kind`), so that one search finds a target's whole night.
pub fn invocation_span(function: &'static str, event: &Value) -> tracing::Span {
    let text = |key: &str| event.get(key).and_then(Value::as_str);
    let target = crate::model::target_fields().find_map(text);
    let action = match text("kind").or_else(|| text("action")) {
        Some(kind) => format!("{function}:{kind}"),
        None => function.to_string(),
    };
    tracing::info_span!(
        "invocation",
        run_id = text("runId").unwrap_or(""),
        target_id = target.unwrap_or(""),
        action = %action
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines_logged(log: impl FnOnce()) -> Vec<Value> {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = json_subscriber(EnvFilter::new("info"), move || writer.clone());
        tracing::subscriber::with_default(subscriber, log);
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|line| serde_json::from_str(line).expect("every line is JSON")).collect()
    }

    #[test]
    fn every_line_names_the_run_the_target_and_the_action() {
        let event = serde_json::json!({
            "kind": "ec2",
            "instanceId": "i-0123456789abcdef0",
            "runId": "snapmgmt-20261126T020000Z",
        });
        let lines = lines_logged(|| {
            let _inside = invocation_span("cleanup", &event).entered();
            tracing::info!(deleted = 3, "cleanup done");
        });
        let [line] = lines.as_slice() else { panic!("{lines:?}") };
        assert_eq!(line["message"], "cleanup done");
        assert_eq!(line["deleted"], 3);
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["span"]["run_id"], "snapmgmt-20261126T020000Z");
        assert_eq!(line["span"]["target_id"], "i-0123456789abcdef0");
        assert_eq!(line["span"]["action"], "cleanup:ec2");
        assert!(line.get("timestamp").is_none(), "Lambda stamps the lines");
    }

    #[test]
    fn a_cleanup_report_is_logged_whole_in_lines_of_at_most_500_ids() {
        let mut report = crate::model::CleanupReport { target_id: "fs-0123456789abcdef0".into(), ..Default::default() };
        report.deleted = (0..1_200).map(|n| format!("backup-{n:08x}")).collect();
        let report = report.finished();
        let lines = lines_logged(|| cleanup_report(&report));
        let listed: usize = lines
            .iter()
            .filter(|l| l["message"] == "deleted")
            .map(|l| l["ids"].as_str().unwrap().matches("backup-").count())
            .sum();
        assert_eq!(listed, 1_200);
        assert_eq!(lines.iter().filter(|l| l["message"] == "deleted").count(), 3);
        assert!(lines.iter().all(|l| l["target_id"] == "fs-0123456789abcdef0"));
    }
}
