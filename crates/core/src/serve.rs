//! A function's start-up and invocation loop, written once: each function crate's `main.rs` is
//! `serve::<TheFunction>()`. Logging first; the settings, read once (a bad one is logged now, and every
//! invocation then fails with it before its event is read or AWS is called); the SDK configuration named for
//! the function (its user agent, by which CloudTrail tells which function called); the Lambda
//! runtime; and each invocation's span.

use std::future::Future;

use aws_config::SdkConfig;
use lambda_runtime::{service_fn, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::aws::CallPattern;
use crate::error::Result;

/// One Lambda function of the stack: its settings, its clients, its handler.
pub trait Function: Sized {
    /// The function's name, as the template and the workflow name it (each crate gives its package name).
    const NAME: &'static str;
    /// How it calls AWS: the retries and timeouts of its SDK configuration.
    const CALLS: CallPattern = CallPattern::Steady;
    type Settings;
    /// What an invocation returns: the workflow's contract, serialised as it always was.
    type Output: Serialize;

    /// Its settings, from the environment.
    fn settings() -> Result<Self::Settings>;

    /// Its clients, made once at start; `settings` when they loaded (a copy Region's clients need it).
    fn new(sdk: &SdkConfig, settings: Option<&Self::Settings>) -> Self;

    /// One invocation, with settings that loaded.
    fn handle(
        &self,
        settings: &Self::Settings,
        event: LambdaEvent<Value>,
    ) -> impl Future<Output = Result<Self::Output>>;
}

/// One invocation: a bad setting fails it before the event is read or AWS is called.
pub async fn invoke<F: Function>(
    function: &F,
    settings: &Result<F::Settings>,
    event: LambdaEvent<Value>,
) -> Result<F::Output> {
    let settings = settings.as_ref().map_err(Clone::clone)?;
    // Boxed: a handler's future is deep (cleanup's nests every store's), too deep for the compiler to lay
    // out inline in the runtime's; one allocation per invocation.
    Box::pin(function.handle(settings, event)).await
}

/// Runs the function `F` in Lambda (or under `cargo lambda watch`) until the runtime stops it; with
/// `--version`, prints its name and snapmgmt's version and stops.
pub fn serve<F: Function>() -> Result<(), lambda_runtime::Error> {
    if std::env::args().skip(1).any(|arg| arg == "--version") {
        println!("{} {}", F::NAME, crate::VERSION);
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        crate::logging::init();
        tracing::info!(function = F::NAME, version = crate::VERSION, "starting");
        let settings = crate::config::logged_at_start(F::settings());
        let sdk = crate::aws::load_config(F::NAME, F::CALLS).await;
        let function = F::new(&sdk, settings.as_ref().ok());
        lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
            let span = crate::logging::invocation_span(F::NAME, &event.payload);
            invoke(&function, &settings, event).instrument(span)
        }))
        .await
    })
}
