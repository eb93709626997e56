//! One error type for snapmgmt. Its variant name becomes the Lambda `errorType`, which the state
//! machines match in Retry and Catch, so the names are part of the contract.

use aws_sdk_fsx::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A setting (environment variable) is missing or has a value we cannot use.
    #[error("setting {name} is invalid (value {value:?}): {reason}")]
    InvalidSetting { name: &'static str, value: String, reason: String },

    /// A resource carries one of our tags with a value we cannot use; that resource fails alone.
    #[error("{resource} has tag {key}={value:?}: {reason}")]
    InvalidTag { resource: String, key: &'static str, value: String, reason: String },

    /// The event a function was invoked with is malformed; `field` is the JSON path of the culprit.
    #[error("event field `{field}` is invalid: {reason}")]
    InvalidEvent { field: String, reason: String },

    /// An AWS call failed after the SDK's own retries.
    #[error("{service}:{operation} failed: {code}: {message}")]
    Aws { service: &'static str, operation: &'static str, code: String, message: String },

    /// FSx allows one backup at a time per file system; the workflow waits and tries again.
    #[error("a backup of {file_system_id} is already in progress")]
    BackupInProgress { file_system_id: String },

    /// The resource named in the event does not exist (or is not visible to this account).
    #[error("{kind} {id} was not found")]
    NotFound { kind: &'static str, id: String },

    /// The delete guard refused a cleanup: it would delete more than the allowed share of a target's backups.
    #[error(
        "refused to delete {deleting} of the {total} backups of {target_id}: more than {max_percent}% \
         (MAX_DELETE_PERCENT); nothing was deleted. If that is intended, raise the stack's MaxDeletePercent \
         for a run (an event's maxDeletePercent can only lower it)"
    )]
    DeleteLimitExceeded { target_id: String, deleting: usize, total: usize, max_percent: u32 },

    /// A target lacks what its backup needs (a Windows instance's instance profile): nothing was started,
    /// and trying again will not help until it is fixed.
    #[error("{resource} cannot be backed up: {missing}. {fix}")]
    PrerequisiteMissing { resource: String, missing: String, fix: &'static str },
}

/// The kinds of error, by the name a function returns as its Lambda `errorType`: the names the workflow's
/// Retry and Catch match (a test reads every `ErrorEquals` of `statemachine/` against [`ErrorKind::ALL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidSetting,
    InvalidTag,
    InvalidEvent,
    /// AWS throttled the call past the SDK's retries: the workflow retries the Task later.
    Throttled,
    /// AWS failed on its side or did not answer: the workflow retries the Task later.
    AwsUnavailable,
    /// AWS refused the call: retrying would not help.
    AwsError,
    BackupInProgress,
    NotFound,
    DeleteLimitExceeded,
    PrerequisiteMissing,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::InvalidSetting,
        ErrorKind::InvalidTag,
        ErrorKind::InvalidEvent,
        ErrorKind::Throttled,
        ErrorKind::AwsUnavailable,
        ErrorKind::AwsError,
        ErrorKind::BackupInProgress,
        ErrorKind::NotFound,
        ErrorKind::DeleteLimitExceeded,
        ErrorKind::PrerequisiteMissing,
    ];

    /// The `errorType` name.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidSetting => "InvalidSetting",
            ErrorKind::InvalidTag => "InvalidTag",
            ErrorKind::InvalidEvent => "InvalidEvent",
            ErrorKind::Throttled => "Throttled",
            ErrorKind::AwsUnavailable => "AwsUnavailable",
            ErrorKind::AwsError => "AwsError",
            ErrorKind::BackupInProgress => "BackupInProgress",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::DeleteLimitExceeded => "DeleteLimitExceeded",
            ErrorKind::PrerequisiteMissing => "PrerequisiteMissing",
        }
    }

    /// Worth trying again later: the kinds the workflow's Task retry names.
    pub const fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::AwsUnavailable)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Compared with the name, as tests and the workflow read it.
impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl Error {
    /// The kind of the error; its name is the Lambda `errorType`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidSetting { .. } => ErrorKind::InvalidSetting,
            Error::InvalidTag { .. } => ErrorKind::InvalidTag,
            Error::InvalidEvent { .. } => ErrorKind::InvalidEvent,
            Error::Aws { code, .. } if is_throttling(code) => ErrorKind::Throttled,
            Error::Aws { code, .. } if is_unavailable(code) => ErrorKind::AwsUnavailable,
            Error::Aws { .. } => ErrorKind::AwsError,
            Error::BackupInProgress { .. } => ErrorKind::BackupInProgress,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::DeleteLimitExceeded { .. } => ErrorKind::DeleteLimitExceeded,
            Error::PrerequisiteMissing { .. } => ErrorKind::PrerequisiteMissing,
        }
    }

    pub fn invalid_event(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidEvent { field: field.into(), reason: reason.into() }
    }

    /// Keeps the service, the operation and the AWS error code of a failed SDK call.
    pub fn aws<E, R>(service: &'static str, operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (code, message) = match &err {
            SdkError::ServiceError(service_err) => {
                let e = service_err.err();
                (
                    e.code().unwrap_or("Unknown").to_string(),
                    e.message().map(str::to_string).unwrap_or_else(|| e.to_string()),
                )
            }
            SdkError::TimeoutError(_) => ("Timeout".to_string(), "the request timed out".to_string()),
            SdkError::DispatchFailure(f) => ("DispatchFailure".to_string(), format!("{f:?}")),
            SdkError::ResponseError(r) => ("ResponseError".to_string(), format!("{r:?}")),
            other => ("Unknown".to_string(), format!("{other}")),
        };
        Error::Aws { service, operation, code, message }
    }

    /// Is it worth trying again: AWS throttled, failed on its side, or did not answer?
    pub fn is_transient(&self) -> bool {
        self.kind().is_transient()
    }

    /// The AWS error code, when this is an AWS error.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// AWS's throttling error codes (the SDK's retry classifier knows the same ones).
fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "SlowDown"
            | "EC2ThrottledException"
    )
}

/// The service was unreachable, slow or failing: worth another try later, unlike a refusal.
fn is_unavailable(code: &str) -> bool {
    matches!(
        code,
        "InternalFailure"
            | "InternalError"
            | "InternalServerError"
            | "InternalServerException"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "Unavailable"
            | "Timeout"
            | "DispatchFailure"
            | "ResponseError"
    )
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(err: Error) -> Self {
        lambda_runtime::Diagnostic { error_type: err.kind().name().to_string(), error_message: err.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;
    use std::collections::BTreeSet;

    /// Every name the shipped workflow matches in a Retry or Catch.
    fn names_in(value: &serde_json::Value, found: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    if key == "ErrorEquals" {
                        found.extend(
                            inner.as_array().into_iter().flatten().filter_map(|n| n.as_str().map(String::from)),
                        );
                    } else {
                        names_in(inner, found);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| names_in(item, found)),
            _ => {}
        }
    }

    #[test]
    fn every_error_the_workflow_matches_is_one_the_functions_return() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../statemachine");
        let mut found = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).expect("statemachine/") {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".asl.json") {
                names_in(&serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap(), &mut found);
            }
        }
        let ours: BTreeSet<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        // Step Functions' own names (States.*) and the Lambda service's, which the functions do not return.
        let foreign = |n: &str| n.starts_with("States.") || n.starts_with("Lambda.");
        let unknown: Vec<&String> = found.iter().filter(|n| !foreign(n) && !ours.contains(n.as_str())).collect();
        assert!(unknown.is_empty(), "the workflow matches errors no function returns: {unknown:?}");
        for kind in ErrorKind::ALL.iter().filter(|k| k.is_transient()) {
            assert!(found.contains(kind.name()), "the workflow never retries {kind}");
        }
    }
}
