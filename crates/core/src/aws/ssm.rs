//! SSM Automation: start the snapshot document, read how it went.

use aws_sdk_ssm::types::AutomationExecution;
use aws_sdk_ssm::Client;

use crate::error::{Error, Result};

const SERVICE: &str = "ssm";

/// Starts the document; the same `client_token` (a UUID) returns the execution it started before.
pub async fn start_automation(
    client: &Client,
    document_name: &str,
    parameters: &[(&str, &str)],
    client_token: &str,
) -> Result<String> {
    let mut request = client.start_automation_execution().document_name(document_name).client_token(client_token);
    for (name, value) in parameters {
        request = request.parameters(*name, vec![value.to_string()]);
    }
    let out = request.send().await.map_err(|e| Error::aws(SERVICE, "StartAutomationExecution", e))?;
    out.automation_execution_id.ok_or_else(|| Error::Aws {
        service: SERVICE,
        operation: "StartAutomationExecution",
        code: "EmptyResponse".into(),
        message: "the response named no execution".into(),
    })
}

/// One automation execution; `NotFound` when it does not exist.
pub async fn get_automation(client: &Client, execution_id: &str) -> Result<AutomationExecution> {
    let out = client.get_automation_execution().automation_execution_id(execution_id).send().await;
    let not_found = || Error::NotFound { kind: "SSM automation execution", id: execution_id.to_string() };
    match out {
        Ok(out) => out.automation_execution.ok_or_else(not_found),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_automation_execution_not_found_exception()) => {
            Err(not_found())
        }
        Err(e) => Err(Error::aws(SERVICE, "GetAutomationExecution", e)),
    }
}

#[cfg(test)]
mod mocked {
    use super::*;
    use aws_sdk_ssm::operation::get_automation_execution::GetAutomationExecutionError;
    use aws_sdk_ssm::operation::start_automation_execution::StartAutomationExecutionError;
    use aws_sdk_ssm::types::error::AutomationExecutionNotFoundException;
    use aws_smithy_mocks::{mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    #[tokio::test]
    async fn an_unknown_execution_is_not_found() {
        let rule = mock!(Client::get_automation_execution).then_error(|| {
            GetAutomationExecutionError::AutomationExecutionNotFoundException(
                AutomationExecutionNotFoundException::builder().build(),
            )
        });
        let client = mock_client!(aws_sdk_ssm, [&rule]);
        let err = get_automation(&client, "exec-1").await.unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_throttled_start_is_retried_and_a_denied_one_keeps_its_code() {
        let throttled =
            || StartAutomationExecutionError::generic(ErrorMetadata::builder().code("ThrottlingException").build());
        let rule = mock!(Client::start_automation_execution)
            .sequence()
            .error(throttled)
            .output(|| {
                aws_sdk_ssm::operation::start_automation_execution::StartAutomationExecutionOutput::builder()
                    .automation_execution_id("exec-1")
                    .build()
            })
            .build();
        let client = mock_client!(aws_sdk_ssm, [&rule]);
        assert_eq!(start_automation(&client, "doc", &[("InstanceId", "i-1")], "t").await.unwrap(), "exec-1");
        assert_eq!(rule.num_calls(), 2);

        let denied = mock!(Client::start_automation_execution).then_error(|| {
            StartAutomationExecutionError::generic(ErrorMetadata::builder().code("AccessDeniedException").build())
        });
        let client = mock_client!(aws_sdk_ssm, [&denied]);
        let err = start_automation(&client, "doc", &[], "t").await.unwrap_err();
        assert_eq!(err.aws_code(), Some("AccessDeniedException"));
    }
}
