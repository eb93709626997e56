//! The command line: `snapmgmt run [--dry-run] [--poll-seconds N] [--run-id ID] [--json]`.

pub const USAGE: &str = "\
usage: snapmgmt run [--dry-run] [--poll-seconds N] [--run-id ID] [--json]

Runs the backup job once for every FSx file system tagged as a target: waits while a backup is in
progress, takes a backup tagged as ours, waits for it to become AVAILABLE, then deletes our expired
backups as the retention rule allows. Talks to AWS, or to the endpoint in AWS_ENDPOINT_URL.

  --dry-run          change nothing; report what would be backed up and deleted
  --poll-seconds N   wait N seconds between status checks (default: the workflow's 60 s and 30 s)
  --run-id ID        name of the run; a repeated id reuses its backups instead of taking new ones
  --json             print the run report as JSON instead of a summary

settings (environment): RETENTION_DAYS (required), MIN_KEEP (default 1),
TARGET_TAG_KEY / TARGET_TAG_VALUE (default ResourceType / SnapshotMgmtTarget)";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunArgs {
    pub dry_run: bool,
    pub poll_seconds: Option<u32>,
    pub run_id: Option<String>,
    pub json: bool,
}

/// Parses the arguments after the program name; the error is a message for the user.
pub fn parse(args: &[String]) -> Result<RunArgs, String> {
    let mut rest = args.iter();
    match rest.next().map(String::as_str) {
        Some("run") => {}
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("no command given".to_string()),
    }
    let mut run = RunArgs::default();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--dry-run" => run.dry_run = true,
            "--json" => run.json = true,
            "--poll-seconds" => {
                let value = rest.next().ok_or("--poll-seconds needs a value")?;
                let seconds = value.parse().map_err(|_| format!("--poll-seconds {value:?} is not a whole number"))?;
                run.poll_seconds = Some(seconds);
            }
            "--run-id" => {
                let value = rest.next().filter(|v| !v.trim().is_empty()).ok_or("--run-id needs a value")?;
                run.run_id = Some(value.clone());
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_every_option() {
        let parsed = parse(&args(&["run", "--dry-run", "--poll-seconds", "2", "--run-id", "demo", "--json"]));
        let expected = RunArgs { dry_run: true, poll_seconds: Some(2), run_id: Some("demo".into()), json: true };
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    fn rejects_what_it_does_not_know() {
        assert!(parse(&args(&[])).is_err());
        assert!(parse(&args(&["delete"])).unwrap_err().contains("\"delete\""));
        assert!(parse(&args(&["run", "--force"])).unwrap_err().contains("--force"));
        assert!(parse(&args(&["run", "--poll-seconds", "soon"])).unwrap_err().contains("soon"));
        assert!(parse(&args(&["run", "--run-id"])).is_err());
    }
}
