//! S3: the run's inventory, the results the workflow's Distributed Maps write, and the run report, all in
//! the stack's bucket.

use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use crate::error::{Error, Result};

const SERVICE: &str = "s3";

/// A client of the stack's bucket. Against a local endpoint (AWS_ENDPOINT_URL), buckets are addressed by
/// path: a bucket name cannot be a subdomain of 127.0.0.1.
pub fn client(sdk_config: &SdkConfig) -> Client {
    let path_style = sdk_config.endpoint_url().is_some();
    Client::from_conf(aws_sdk_s3::config::Builder::from(sdk_config).force_path_style(path_style).build())
}

/// Writes a JSON document (the bucket's default encryption applies).
pub async fn put_json(client: &Client, bucket: &str, key: &str, body: Vec<u8>) -> Result<()> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| Error::aws(SERVICE, "PutObject", e))?;
    Ok(())
}

/// Writes a JSON document only if the object is still the one read, by its ETag, or still absent (None):
/// S3's conditional writes. False when another writer came first (412 Precondition Failed, or 409 for a
/// write racing another on the same key): read again and retry.
pub async fn put_json_if(client: &Client, bucket: &str, key: &str, body: Vec<u8>, etag: Option<&str>) -> Result<bool> {
    let request = client.put_object().bucket(bucket).key(key).content_type("application/json");
    let request = match etag {
        Some(etag) => request.if_match(etag),
        None => request.if_none_match("*"),
    };
    match request.body(ByteStream::from(body)).send().await {
        Ok(_) => Ok(true),
        Err(e) => match Error::aws(SERVICE, "PutObject", e) {
            Error::Aws { code, .. } if code == "PreconditionFailed" || code == "ConditionalRequestConflict" => {
                Ok(false)
            }
            other => Err(other),
        },
    }
}

/// Reads a whole object and its ETag (for [`put_json_if`]); `NotFound` when there is none at the key.
pub async fn get_with_etag(client: &Client, bucket: &str, key: &str) -> Result<(Vec<u8>, Option<String>)> {
    let out = client.get_object().bucket(bucket).key(key).send().await;
    let out = match out {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
            return Err(Error::NotFound { kind: "S3 object", id: format!("s3://{bucket}/{key}") })
        }
        Err(e) => return Err(Error::aws(SERVICE, "GetObject", e)),
    };
    let etag = out.e_tag().map(str::to_string);
    let body = out.body.collect().await.map_err(|e| Error::Aws {
        service: SERVICE,
        operation: "GetObject",
        code: "ResponseError".to_string(),
        message: e.to_string(),
    })?;
    Ok((body.into_bytes().to_vec(), etag))
}

/// Reads a whole object; `NotFound` when there is none at the key.
pub async fn get(client: &Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    Ok(get_with_etag(client, bucket, key).await?.0)
}

/// A JSON object of the bucket, or its type's empty value when there is none at the key (the first run, an
/// older run's layout); an object that does not read is an error naming its key.
pub async fn get_json_or_default<T: Default + serde::de::DeserializeOwned>(
    client: &Client,
    bucket: &str,
    key: &str,
) -> Result<T> {
    match get(client, bucket, key).await {
        Ok(bytes) => parse_json(key, &bytes),
        Err(Error::NotFound { .. }) => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// Tries at a read-change-write before giving up: each attempt loses only to another writer in between.
const UPDATE_ATTEMPTS: u32 = 8;

/// A JSON object of the bucket (its type's empty value when there is none yet) changed by `update` and
/// written back, safe against another writer at once (two runs finishing together): written only if
/// unchanged since it was read (S3's If-Match on its ETag; If-None-Match for the first), else read again
/// and changed again from the other's, after a jittered pause. Returns it before and after.
pub async fn update_json<T>(client: &Client, bucket: &str, key: &str, update: impl Fn(&T) -> T) -> Result<(T, T)>
where
    T: Default + serde::Serialize + serde::de::DeserializeOwned,
{
    for attempt in 0..UPDATE_ATTEMPTS {
        let (previous, etag) = match get_with_etag(client, bucket, key).await {
            Ok((bytes, etag)) => (parse_json(key, &bytes)?, etag),
            Err(Error::NotFound { .. }) => (T::default(), None),
            Err(e) => return Err(e),
        };
        let next = update(&previous);
        let body = serde_json::to_vec(&next).expect("a JSON document serialises");
        if put_json_if(client, bucket, key, body, etag.as_deref()).await? {
            return Ok((previous, next));
        }
        let pause_ms = jittered_ms(50u64 << attempt.min(6));
        tracing::info!(key, attempt, pause_ms, "changed since it was read (another writer): reading it again");
        tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
    }
    Err(Error::Aws {
        service: SERVICE,
        operation: "PutObject",
        code: "PreconditionFailed".into(),
        message: format!("{key} changed under each of {UPDATE_ATTEMPTS} updates: other writers keep writing it"),
    })
}

/// Between half `max_ms` and `max_ms`, varied by the clock: two writers that collided do not collide again.
fn jittered_ms(max_ms: u64) -> u64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    max_ms / 2 + u64::from(nanos) % (max_ms / 2 + 1)
}

fn parse_json<T: serde::de::DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Aws {
        service: SERVICE,
        operation: "GetObject",
        code: "InvalidResultFile".into(),
        message: format!("{key}: {e}"),
    })
}
