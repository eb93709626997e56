//! Step Functions: starting the scheduled workflow.

use aws_sdk_sfn::Client;

use crate::error::{Error, Result};

/// How a start went: a new execution, or the one this name already started (a retried trigger).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub execution_arn: String,
    pub already_started: bool,
}

/// Starts an execution with a deterministic name. If an execution of that name exists, it is not an error:
/// the schedule tick has already been handled, and its ARN is returned.
pub async fn start_execution(client: &Client, state_machine_arn: &str, name: &str, input: &str) -> Result<Started> {
    let out = client.start_execution().state_machine_arn(state_machine_arn).name(name).input(input).send().await;
    match out {
        Ok(out) => Ok(Started { execution_arn: out.execution_arn, already_started: false }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_already_exists()) => {
            Ok(Started { execution_arn: execution_arn(state_machine_arn, name), already_started: true })
        }
        Err(e) => Err(Error::aws("states", "StartExecution", e)),
    }
}

/// The ARN of the execution `name` of a state machine.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!("{}:{name}", state_machine_arn.replacen(":stateMachine:", ":execution:", 1))
}
