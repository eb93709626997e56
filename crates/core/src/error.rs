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
}

impl Error {
    /// The stable name of the error, used as the Lambda `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidSetting { .. } => "InvalidSetting",
            Error::InvalidTag { .. } => "InvalidTag",
            Error::InvalidEvent { .. } => "InvalidEvent",
            Error::Aws { code, .. } if is_throttling(code) => "Throttled",
            Error::Aws { code, .. } if is_unavailable(code) => "AwsUnavailable",
            Error::Aws { .. } => "AwsError",
            Error::BackupInProgress { .. } => "BackupInProgress",
            Error::NotFound { .. } => "NotFound",
            Error::DeleteLimitExceeded { .. } => "DeleteLimitExceeded",
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
        matches!(self.kind(), "Throttled" | "AwsUnavailable")
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
        lambda_runtime::Diagnostic { error_type: err.kind().to_string(), error_message: err.to_string() }
    }
}
