//! The validation hook (VERIFY_VALIDATION_FUNCTION): a function of the operator's, invoked with what a
//! restore test made while it still exists (as AWS Backup's restore testing lets a function validate a
//! restored resource), whose answer becomes the test's result: a restore that is made but not valid fails.
//!
//! It is given `{"kind", "targetId", "backup", "runId", "restored": [{"backupId", "resourceId", "region"?}]}`
//! (`region`: a copy's, restored in the copy Region) and answers
//! `{"valid": true | false, "message"?: "..."}`. A hook that fails, or answers anything else, fails the test
//! with why: a validation that could not run proves nothing.

use aws_sdk_lambda::primitives::Blob;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::target::RestoreTest;
use crate::model::TargetKind;

/// The hook, when the stack has one.
#[derive(Clone, Copy)]
pub struct Hook<'a> {
    pub lambda: &'a aws_sdk_lambda::Client,
    pub function: &'a str,
}

/// The hook's answer, kept in the restore test.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    pub valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Asks the hook about what `test` made of `backup` for the target; records its answer, and a test it does not
/// find valid is not restored.
pub async fn validate(hook: Hook<'_>, kind: TargetKind, target_id: &str, backup: &[String], test: &mut RestoreTest) {
    let restored: Vec<_> = test
        .resources
        .iter()
        .map(|r| {
            let mut one = json!({"backupId": r.backup_id, "resourceId": r.resource_id});
            if let Some(region) = &r.region {
                one["region"] = json!(region);
            }
            one
        })
        .collect();
    let event = json!({
        "kind": kind,
        "targetId": target_id,
        "backup": backup,
        "runId": test.run_id,
        "restored": restored,
    });
    let validation = invoke(hook, &event).await.unwrap_or_else(|why| Validation {
        valid: false,
        message: Some(format!("the validation function {} failed: {why}", hook.function)),
    });
    if !validation.valid {
        test.restored = false;
        let why = validation.message.as_deref().unwrap_or("no message");
        test.error.get_or_insert_with(|| format!("not valid: {why}"));
    }
    test.validation = Some(validation);
}

async fn invoke(hook: Hook<'_>, event: &serde_json::Value) -> Result<Validation, String> {
    let payload = serde_json::to_vec(event).map_err(|e| e.to_string())?;
    let out = hook
        .lambda
        .invoke()
        .function_name(hook.function)
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|e| crate::Error::aws("lambda", "Invoke", e).to_string())?;
    let body = out.payload().map(|p| String::from_utf8_lossy(p.as_ref()).into_owned()).unwrap_or_default();
    if let Some(error) = out.function_error() {
        return Err(format!("{error}: {body}"));
    }
    serde_json::from_str::<Validation>(&body)
        .map_err(|e| format!("its answer {body:?} is not {{\"valid\": true|false, \"message\"?: \"...\"}}: {e}"))
}
