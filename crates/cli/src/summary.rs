//! The run report as a person reads it.

use std::fmt::Write;

use snapmgmt_core::local_run::RunReport;

pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let mode = if report.dry_run { " (dry run: nothing changed)" } else { "" };
    let _ = writeln!(out, "snapmgmt run {}{mode}", report.run_id);
    if report.fsx.is_empty() {
        let _ = writeln!(out, "  no tagged FSx file system to back up");
    }
    for fs in &report.fsx {
        let backup = match (&fs.backup_id, report.dry_run) {
            (Some(id), _) => format!("backed up as {id}"),
            (None, true) => "would be backed up".to_string(),
            (None, false) => "not backed up".to_string(),
        };
        let _ = writeln!(out, "  {}: {backup}", fs.file_system_id);
        if let Some(cleanup) = &fs.cleanup {
            let verb = if report.dry_run { "would delete" } else { "deleted" };
            for id in &cleanup.deleted {
                let _ = writeln!(out, "    {verb} {id}");
            }
            for kept in &cleanup.kept {
                let _ = writeln!(out, "    kept {} ({})", kept.id, kept.reason);
            }
            for failed in &cleanup.failed {
                let _ = writeln!(out, "    FAILED to delete {}: {}", failed.id, failed.error);
            }
        }
        if let Some(error) = &fs.error {
            let _ = writeln!(out, "    FAILED: {error}");
        }
    }
    for skipped in &report.skipped {
        let _ = writeln!(out, "  {}: skipped, {}", skipped.id, skipped.reason);
    }
    let _ = writeln!(out, "{} file system(s), {} failed", report.fsx.len(), report.failures());
    out
}
