//! efs-backup: EFS backups through AWS Backup. Builds and deploys today; answers NotSupported until its path lands.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::{Error, Result};

async fn handler(_event: LambdaEvent<Value>) -> Result<Value> {
    Err(Error::NotSupported("EFS backups through AWS Backup"))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    lambda_runtime::run(service_fn(handler)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_not_supported_with_its_error_type() {
        let err = handler(LambdaEvent::new(serde_json::json!({}), Default::default())).await.unwrap_err();
        assert_eq!(lambda_runtime::Diagnostic::from(err).error_type, "NotSupported");
    }
}
