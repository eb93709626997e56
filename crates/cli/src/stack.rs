//! The deployed stack, found by its name: what CloudFormation says of it (its outputs, its parameters).

use std::collections::BTreeMap;

use aws_sdk_cloudformation::Client;

use crate::Failure;

/// A stack's outputs and parameters, by key.
#[derive(Debug, Clone, Default)]
pub struct DeployedStack {
    pub name: String,
    pub outputs: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
}

impl DeployedStack {
    /// An output the template declares; missing means the stack is not snapmgmt's, or older.
    pub fn output(&self, key: &str) -> Result<&str, Failure> {
        self.outputs.get(key).map(String::as_str).ok_or_else(|| {
            Failure::NoAnswer(format!(
                "stack {} has no output {key}: is it a snapmgmt stack of this version?",
                self.name
            ))
        })
    }

    /// A parameter's value as deployed (CloudFormation reports the defaults too).
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters.get(key).map(String::as_str)
    }
}

pub async fn find(client: &Client, name: &str) -> Result<DeployedStack, Failure> {
    let out = client.describe_stacks().stack_name(name).send().await.map_err(|e| {
        let message = e.as_service_error().and_then(|s| s.meta().message()).map(str::to_string);
        Failure::NoAnswer(format!(
            "cannot find stack {name:?}: {}",
            message.unwrap_or_else(|| aws_sdk_cloudformation::error::DisplayErrorContext(&e).to_string())
        ))
    })?;
    let stack = out.stacks().first().ok_or_else(|| Failure::NoAnswer(format!("no stack {name:?}")))?;
    let outputs = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect();
    let parameters = stack
        .parameters()
        .iter()
        .filter_map(|p| Some((p.parameter_key()?.to_string(), p.parameter_value().unwrap_or_default().to_string())))
        .collect();
    Ok(DeployedStack { name: name.to_string(), outputs, parameters })
}
