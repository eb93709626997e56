//! A fault-injecting HTTP proxy for tests, on 127.0.0.1, between the functions and the emulator.
//!
//! It forwards every request, except when a rule picks it: then it answers as AWS does when it throttles
//! (EC2: `RequestLimitExceeded`; S3: `SlowDown`; the JSON services: `ThrottlingException`), answers 500 or 503, answers
//! late (past the client's timeout), or drops the connection, before or after forwarding the request.
//! A rule picks requests by operation (and optionally by a string in the body, e.g. one target's id),
//! by rate (a seeded, reproducible draw) or by count (the first N). Rules and counters are read and set
//! over HTTP at `/__faults`, so the same proxy serves Rust tests and the Python end-to-end tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a picked request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Fault {
    /// The service's own throttling error.
    Throttle,
    Http500,
    Http503,
    /// Forwarded after `delayMs`: past the client's attempt timeout, the client gives up first.
    Delay,
    /// The connection is closed before the request reaches the service.
    Drop,
    /// The request reaches the service, then the connection is closed before the answer: the client
    /// cannot know whether the call took effect.
    DropAfterSend,
}

/// Which requests a fault is injected into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// An operation name (`CreateBackup`, `DeleteSnapshot`), or `*` for every operation.
    pub operation: String,
    pub fault: Fault,
    /// Picks this share of the matching requests (0 to 1).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Picks the first this many matching requests, then no more.
    #[serde(default)]
    pub count: Option<u32>,
    /// Only requests whose body contains this string.
    #[serde(default)]
    pub body_contains: Option<String>,
    #[serde(default)]
    pub delay_ms: u64,
}

impl Rule {
    pub fn new(operation: &str, fault: Fault) -> Self {
        Rule { operation: operation.to_string(), fault, rate: None, count: None, body_contains: None, delay_ms: 0 }
    }
    pub fn rate(self, rate: f64) -> Self {
        Rule { rate: Some(rate), ..self }
    }
    pub fn count(self, count: u32) -> Self {
        Rule { count: Some(count), ..self }
    }
    pub fn body_contains(self, needle: &str) -> Self {
        Rule { body_contains: Some(needle.to_string()), ..self }
    }
    pub fn delay_ms(self, delay_ms: u64) -> Self {
        Rule { delay_ms, ..self }
    }
}

/// The rules in force, and what the proxy saw and did, per operation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The seed of the rate draws; the same seed and requests give the same faults.
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub requests: BTreeMap<String, u64>,
    #[serde(default)]
    pub injected: BTreeMap<String, u64>,
}

type Shared = Arc<Mutex<Faults>>;

/// A proxy running on its own thread for the life of the test process.
pub struct FaultProxy {
    url: String,
    faults: Shared,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`) on a free port, with no rules.
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream_addr(upstream);
        let faults: Shared = Arc::default();
        let (sender, receiver) = std::sync::mpsc::channel();
        let shared = faults.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
                sender.send(listener.local_addr().expect("proxy address")).expect("report the address");
                serve(listener, upstream, shared).await;
            });
        });
        let addr = receiver.recv().expect("the proxy started");
        FaultProxy { url: format!("http://{addr}"), faults }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Replaces the rules (and the seed of the rate draws); counters start again from zero.
    pub fn set_rules(&self, rules: Vec<Rule>, seed: u64) {
        *self.faults.lock().unwrap() = Faults { rules, seed, ..Default::default() };
    }

    /// What the proxy saw and injected so far.
    pub fn faults(&self) -> Faults {
        self.faults.lock().unwrap().clone()
    }
}

/// `http://127.0.0.1:PORT` as a socket address.
pub fn upstream_addr(url: &str) -> SocketAddr {
    let host_port = url.trim_start_matches("http://").trim_end_matches('/');
    host_port.parse().unwrap_or_else(|_| panic!("upstream must be http://IP:PORT, got {url:?}"))
}

/// Serves until the process ends.
pub async fn serve(listener: TcpListener, upstream: SocketAddr, faults: Shared) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        let faults = faults.clone();
        tokio::spawn(async move {
            // A client that goes away mid-request is its own business.
            let _ = handle(client, upstream, faults).await;
        });
    }
}

/// One request of a connection (answers close the connection; the SDK opens another).
async fn handle(mut client: TcpStream, upstream: SocketAddr, faults: Shared) -> std::io::Result<()> {
    let Some(request) = read_request(&mut client).await? else { return Ok(()) };
    if request.path.starts_with("/__faults") {
        return control(&mut client, &request, &faults).await;
    }
    let operation = operation(&request);
    let fault = pick(&faults, &operation, &request.body);
    match fault {
        None => forward(&mut client, &request, upstream).await,
        Some((Fault::Drop, _)) => Ok(()),
        Some((Fault::DropAfterSend, _)) => {
            // Wait for the service's answer, so the call has taken effect, then hang up.
            forward_and_read(&request, upstream).await.map(drop)
        }
        Some((Fault::Delay, delay_ms)) => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            forward(&mut client, &request, upstream).await
        }
        Some((Fault::Throttle, _)) => client.write_all(&throttling_answer(&request)).await,
        Some((Fault::Http500, _)) => client.write_all(&server_error(&request, 500, "InternalFailure")).await,
        Some((Fault::Http503, _)) => client.write_all(&server_error(&request, 503, "ServiceUnavailable")).await,
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The query protocol (EC2) sends `Action=...` in a form body; its errors are XML.
    fn is_query_protocol(&self) -> bool {
        self.body.starts_with(b"Action=")
    }

    /// S3 (REST with XML errors), known by its signature's credential scope.
    fn is_s3(&self) -> bool {
        self.header("authorization").is_some_and(|a| a.contains("/s3/aws4_request"))
    }
}

/// An S3 error: XML, as S3 answers.
fn s3_error(status: u16, code: &str, message: &str) -> Vec<u8> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message>\
         <RequestId>fault-proxy</RequestId></Error>"
    );
    response(status, "Error", &[("content-type", "application/xml")], &body)
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        let httparse::Status::Complete(head_len) = parsed.parse(&buf).map_err(std::io::Error::other)? else {
            continue;
        };
        let headers: Vec<(String, Vec<u8>)> =
            parsed.headers.iter().map(|h| (h.name.to_string(), h.value.to_vec())).collect();
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let (method, path) = (parsed.method.unwrap_or("GET").to_string(), parsed.path.unwrap_or("/").to_string());
        let mut body = buf[head_len..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            body.extend_from_slice(&chunk[..n]);
        }
        return Ok(Some(Request { method, path, headers, body }));
    }
}

/// The operation's name: the JSON protocols name it in X-Amz-Target, the query protocol in `Action=`;
/// the REST services (EFS, AWS Backup) by method and path, named for the operations snapmgmt calls.
fn operation(request: &Request) -> String {
    if let Some(target) = request.header("x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    if request.is_query_protocol() {
        let body = String::from_utf8_lossy(&request.body);
        let action = body.split('&').next().unwrap_or("").trim_start_matches("Action=");
        return action.to_string();
    }
    let path = request.path.split('?').next().unwrap_or("");
    match (request.method.as_str(), path) {
        ("PUT", "/backup-jobs") => "StartBackupJob".into(),
        ("GET", p) if p.starts_with("/backup-jobs/") => "DescribeBackupJob".into(),
        ("GET", p) if p.starts_with("/2015-02-01/file-systems") => "DescribeFileSystems".into(),
        (method, path) => format!("{method} {path}"),
    }
}

/// The first rule that picks this request, and counts it.
fn pick(faults: &Shared, operation: &str, body: &[u8]) -> Option<(Fault, u64)> {
    let mut guard = faults.lock().unwrap();
    let state = &mut *guard;
    *state.requests.entry(operation.to_string()).or_default() += 1;
    for i in 0..state.rules.len() {
        let rule = &state.rules[i];
        let matches = (rule.operation == "*" || rule.operation == operation)
            && rule.body_contains.as_ref().is_none_or(|needle| contains(body, needle.as_bytes()));
        if !matches || rule.count == Some(0) {
            continue;
        }
        let picked = match rule.rate {
            Some(rate) => next_unit(&mut state.seed) < rate,
            None => true,
        };
        if picked {
            let rule = &mut state.rules[i];
            if let Some(count) = rule.count.as_mut() {
                *count -= 1;
            }
            let fault = (rule.fault, rule.delay_ms);
            *state.injected.entry(operation.to_string()).or_default() += 1;
            return Some(fault);
        }
    }
    None
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A reproducible draw in [0, 1): splitmix64 over the seed.
fn next_unit(seed: &mut u64) -> f64 {
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

async fn forward(client: &mut TcpStream, request: &Request, upstream: SocketAddr) -> std::io::Result<()> {
    let answer = forward_and_read(request, upstream).await?;
    client.write_all(&answer).await
}

/// Sends the request on a fresh connection (closed after the answer) and reads the whole answer.
async fn forward_and_read(request: &Request, upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(request.body.len() + 1024);
    out.extend_from_slice(format!("{} {} HTTP/1.1\r\n", request.method, request.path).as_bytes());
    for (name, value) in &request.headers {
        if !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive") {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(&request.body);
    let mut service = TcpStream::connect(upstream).await?;
    service.write_all(&out).await?;
    let mut answer = Vec::new();
    service.read_to_end(&mut answer).await?;
    Ok(answer)
}

fn response(status: u16, reason: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// What the service answers when it throttles.
fn throttling_answer(request: &Request) -> Vec<u8> {
    if request.is_s3() {
        return s3_error(503, "SlowDown", "Please reduce your request rate.");
    }
    if request.is_query_protocol() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>RequestLimitExceeded\
                    </Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>fault-proxy\
                    </RequestID></Response>";
        return response(503, "Service Unavailable", &[("content-type", "text/xml")], body);
    }
    let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    let status = if request.header("x-amz-target").is_some() { 400 } else { 429 };
    let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amzn-errortype", "ThrottlingException")];
    response(status, "Throttled", &headers, body)
}

fn server_error(request: &Request, status: u16, code: &str) -> Vec<u8> {
    if request.is_s3() {
        return s3_error(status, code, "injected by the fault proxy");
    }
    if request.is_query_protocol() {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>injected \
             by the fault proxy</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>"
        );
        return response(status, "Error", &[("content-type", "text/xml")], &body);
    }
    let body = format!(r#"{{"__type":"{code}","message":"injected by the fault proxy"}}"#);
    response(status, "Error", &[("content-type", "application/x-amz-json-1.1"), ("x-amzn-errortype", code)], &body)
}

/// `GET /__faults`: the rules and counters. `PUT /__faults` with `{"rules": [...], "seed": n}`: new rules,
/// counters from zero.
async fn control(client: &mut TcpStream, request: &Request, faults: &Shared) -> std::io::Result<()> {
    let answer = match request.method.as_str() {
        "PUT" | "POST" => match serde_json::from_slice::<Faults>(&request.body) {
            Ok(new) => {
                *faults.lock().unwrap() = Faults { rules: new.rules, seed: new.seed, ..Default::default() };
                response(200, "OK", &[("content-type", "application/json")], "{}")
            }
            Err(e) => response(400, "Bad Request", &[], &format!("invalid rules: {e}")),
        },
        _ => {
            let body = serde_json::to_string(&*faults.lock().unwrap()).expect("faults serialise");
            response(200, "OK", &[("content-type", "application/json")], &body)
        }
    };
    client.write_all(&answer).await
}
