//! The command line: `snapmgmt [--stack NAME] [--json] COMMAND [ARGS]`.

pub const USAGE: &str = "\
snapmgmt - answers about a deployed snapmgmt stack, read-only

Usage: snapmgmt [--stack NAME] [--json] COMMAND

Commands:
  plan [--at TIME] [--target ID]
                     what a run at TIME (RFC 3339; default: the schedule's next run) would create,
                     delete and keep, with each reason, in both Regions; computed read-only
  runs [--limit N]   recent runs, newest first: status, dry run or not, totals (default: 10)
  report [RUN|last]  one run's full report, failed targets first (default: last)
  status             every target: its last completed backup, its age, stale or not; disappeared
                     and skipped targets; orphans
  backups RESOURCE   a resource's backups here and in the copy Region, newest first, each with its
                     age and why it is kept, or that tonight's cleanup deletes it
  restore RESOURCE --to TIME [--run] [--instance ID] [--new-file-system]
                     the newest completed backup at or before TIME and the AWS commands that restore
                     it; --run runs them and waits (EBS: volumes in the instance's zone, attached to a
                     stopped --instance; EFS: a restore job, into a new file system with the flag)
Options:
  --stack NAME       the CloudFormation stack (default: $SNAPMGMT_STACK, else snapmgmt), in the Region
                     the AWS SDK is given (AWS_REGION, a profile); AWS_ENDPOINT_URL for the local stack
  --json             print JSON instead of a table
  --version, --help

Exit codes: 0 all is well; 1 the answer needs attention (a run that did not succeed, failed targets,
stale or disappeared targets, a resource whose backups could not be judged); 2 the command line is wrong; 3 no answer (the stack, a run or AWS).";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub stack: String,
    pub json: bool,
    pub command: Command,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Plan { at: Option<i64>, target: Option<String> },
    Runs { limit: i32 },
    Report { run: RunRef },
    Status,
    Backups { resource: String },
    Restore { resource: String, to: i64, run: bool, instance: Option<String>, new_file_system: bool },
    Version,
    Help,
}

/// Which run's report: the newest that wrote one, or a run id (`reports/RUN.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRef {
    Last,
    Id(String),
}

/// The most runs one `runs` lists: one page of ListExecutions.
pub const MAX_LIMIT: i32 = 1000;

/// Parses the arguments after the program's name; `default_stack` is $SNAPMGMT_STACK.
pub fn parse(args: &[String], default_stack: Option<String>) -> Result<Options, String> {
    let mut stack = default_stack.filter(|s| !s.is_empty()).unwrap_or_else(|| "snapmgmt".to_string());
    let mut json = false;
    let mut words = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stack" => stack = args.next().ok_or("--stack needs a stack name")?.clone(),
            "--json" => json = true,
            "--version" | "-V" => words.insert(0, "version".to_string()),
            "--help" | "-h" => words.insert(0, "help".to_string()),
            _ => words.push(arg.clone()),
        }
    }
    let command = match words.first().map(String::as_str) {
        None | Some("help") => Command::Help,
        Some("version") => Command::Version,
        Some("runs") => Command::Runs { limit: limit(&words[1..])? },
        Some("plan") => plan(&words[1..])?,
        Some("report") => match &words[1..] {
            [] => Command::Report { run: RunRef::Last },
            [run] if run == "last" => Command::Report { run: RunRef::Last },
            [run] => Command::Report { run: RunRef::Id(run_id(run)?) },
            more => return Err(format!("report takes one run, not {}", more.join(" "))),
        },
        Some("status") => match &words[1..] {
            [] => Command::Status,
            more => return Err(format!("status takes no arguments, not {}", more.join(" "))),
        },
        Some("backups") => match &words[1..] {
            [resource] if resource_id(resource) => Command::Backups { resource: resource.clone() },
            [resource] => return Err(format!("{resource:?} is not a resource id (fs-..., fsvol-..., i-...)")),
            _ => return Err("backups takes one resource id".to_string()),
        },
        Some("restore") => restore(&words[1..])?,
        Some(other) => return Err(format!("no command {other:?}: plan, runs, report, status, backups, restore")),
    };
    Ok(Options { stack, json, command })
}

fn plan(mut rest: &[String]) -> Result<Command, String> {
    let (mut at, mut target) = (None, None);
    while let [flag, value, more @ ..] = rest {
        match flag.as_str() {
            "--at" => {
                let time: jiff::Timestamp =
                    value.parse().map_err(|_| format!("--at {value:?}: a time such as 2026-12-07T02:00:00Z"))?;
                at = Some(time.as_second());
            }
            "--target" if resource_id(value) => target = Some(value.clone()),
            "--target" => return Err(format!("--target {value:?} is not a resource id (fs-..., fsvol-..., i-...)")),
            _ => return Err(format!("plan takes --at TIME and --target ID, not {flag}")),
        }
        rest = more;
    }
    match rest {
        [] => Ok(Command::Plan { at, target }),
        more => Err(format!("plan takes --at TIME and --target ID, not {}", more.join(" "))),
    }
}

fn restore(rest: &[String]) -> Result<Command, String> {
    let Some((resource, mut rest)) = rest.split_first() else { return Err("restore takes a resource id".into()) };
    if !resource_id(resource) {
        return Err(format!("{resource:?} is not a resource id (fs-..., fsvol-..., i-...)"));
    }
    let (mut to, mut run, mut instance, mut new_file_system) = (None, false, None, false);
    while let Some((flag, more)) = rest.split_first() {
        rest = more;
        match flag.as_str() {
            "--run" => run = true,
            "--new-file-system" => new_file_system = true,
            "--to" | "--instance" => {
                let Some((value, more)) = rest.split_first() else { return Err(format!("{flag} needs a value")) };
                rest = more;
                if flag == "--to" {
                    let time: jiff::Timestamp =
                        value.parse().map_err(|_| format!("--to {value:?}: a time such as 2026-12-06T02:30:00Z"))?;
                    to = Some(time.as_second());
                } else if value.starts_with("i-") && resource_id(value) {
                    instance = Some(value.clone());
                } else {
                    return Err(format!("--instance {value:?} is not an instance id"));
                }
            }
            other => return Err(format!("restore takes --to, --run, --instance, --new-file-system, not {other}")),
        }
    }
    let to = to.ok_or("restore needs --to TIME: the backup restored is the newest at or before it")?;
    Ok(Command::Restore { resource: resource.clone(), to, run, instance, new_file_system })
}

fn limit(rest: &[String]) -> Result<i32, String> {
    match rest {
        [] => Ok(10),
        [flag, n] if flag == "--limit" => match n.parse::<i32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(format!("--limit {n:?}: a number from 1 to {MAX_LIMIT}")),
        },
        more => Err(format!("runs takes --limit N, not {}", more.join(" "))),
    }
}

/// A resource id as FSx, EC2 and EFS write them: a prefix and hexadecimal digits.
fn resource_id(id: &str) -> bool {
    ["fs-", "fsvol-", "i-"].iter().any(|prefix| {
        id.strip_prefix(prefix)
            .is_some_and(|rest| (8..=17).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

/// A run id as the trigger makes them (an execution name): it becomes an S3 key.
fn run_id(run: &str) -> Result<String, String> {
    snapmgmt_core::model::RunId::new("RUN", run)
        .map(|id| id.as_str().to_string())
        .map_err(|_| format!("{run:?} is not a run id (or `last`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_commands_and_options_parse_in_any_order() {
        let options = parse(&words("--json runs --limit 3 --stack team"), None).unwrap();
        assert_eq!(options, Options { stack: "team".into(), json: true, command: Command::Runs { limit: 3 } });
        let options = parse(&words("report run-1"), Some("env-stack".into())).unwrap();
        assert_eq!(options.stack, "env-stack");
        assert_eq!(options.command, Command::Report { run: RunRef::Id("run-1".into()) });
        assert_eq!(parse(&words("report"), None).unwrap().command, Command::Report { run: RunRef::Last });
        assert_eq!(parse(&words("status"), None).unwrap().command, Command::Status);
        let plan = parse(&words("plan --target i-0123456789abcdef0 --at 2026-12-07T02:00:00Z"), None).unwrap().command;
        assert_eq!(plan, Command::Plan { at: Some(1_796_608_800), target: Some("i-0123456789abcdef0".into()) });
        assert_eq!(parse(&words("plan"), None).unwrap().command, Command::Plan { at: None, target: None });
        let restore =
            parse(&words("restore i-0123456789abcdef0 --run --to 2026-12-07T02:00:00Z"), None).unwrap().command;
        let to = 1_796_608_800;
        let expected = Command::Restore {
            resource: "i-0123456789abcdef0".into(),
            to,
            run: true,
            instance: None,
            new_file_system: false,
        };
        assert_eq!(restore, expected);
        let backups = parse(&words("backups i-0123456789abcdef0"), None).unwrap().command;
        assert_eq!(backups, Command::Backups { resource: "i-0123456789abcdef0".into() });
        assert_eq!(parse(&words("--version"), None).unwrap().command, Command::Version);
        assert_eq!(parse(&[], None).unwrap().command, Command::Help);
    }

    #[test]
    fn a_wrong_command_line_is_refused_naming_what_is_wrong() {
        assert!(parse(&words("delete"), None).unwrap_err().contains("no command \"delete\""));
        assert!(parse(&words("runs --limit 0"), None).unwrap_err().contains("--limit \"0\""));
        assert!(parse(&words("runs --limit"), None).unwrap_err().contains("runs takes --limit N"));
        assert!(parse(&words("report ../x"), None).unwrap_err().contains("is not a run id"));
        assert!(parse(&words("status now"), None).unwrap_err().contains("status takes no arguments"));
        assert!(parse(&words("backups fs-xyz"), None).unwrap_err().contains("is not a resource id"));
        assert!(parse(&words("backups"), None).unwrap_err().contains("backups takes one resource id"));
        assert!(parse(&words("plan --at tonight"), None).unwrap_err().contains("--at \"tonight\""));
        assert!(parse(&words("plan --target"), None).unwrap_err().contains("plan takes --at"));
        assert!(parse(&words("restore i-0123456789abcdef0"), None).unwrap_err().contains("restore needs --to"));
        assert!(parse(&words("restore i-0123456789abcdef0 --to"), None).unwrap_err().contains("--to needs a value"));
        assert!(parse(&words("runs --stack"), None).unwrap_err().contains("--stack needs"));
    }
}
