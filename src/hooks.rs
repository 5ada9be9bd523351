//! progenitor's `ClientHooks` for [`Client`]: what happens around every generated call.
//!
//! `pre` (once per call): drop progenitor's `api-version` header, attach the idempotency key to
//! writes, apply the per-attempt timeout. `exec` (the transport): retries per [`crate::retry`],
//! one `tracing` span per call, and error bodies made decodable (an empty 401 becomes `null`, a
//! proxy's HTML page becomes a JSON string) so every error status reaches the caller as a typed
//! [`crate::ApiError`] instead of a decode failure.

use crate::Client;
use crate::client::{ClientState, MAX_IDEMPOTENCY_KEY_LEN, OPTIONS, RequestOptions};
use crate::error::{ATTEMPTS_HEADER, ErrorBody};
use crate::retry::{self, Attempt, Decision, Outcome};
use bytes::Bytes;
use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Request, Response};
use std::time::{Instant, SystemTime};
use tracing::Instrument;

/// The header Deck deduplicates writes by.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Error bodies longer than this are cut before logging.
const LOG_BODY_LIMIT: usize = 1024;

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let options = current_options();
        request.headers_mut().remove("api-version");
        if is_write(request.method()) && !request.headers().contains_key(IDEMPOTENCY_KEY_HEADER) {
            let key = match options.idempotency_key {
                Some(key) => Some(key),
                None if self.inner.config.automatic_idempotency_keys => Some(new_idempotency_key()),
                None => None,
            };
            if let Some(key) = key {
                request.headers_mut().insert(
                    IDEMPOTENCY_KEY_HEADER,
                    idempotency_header(&key).map_err(progenitor_client::Error::InvalidRequest)?,
                );
            }
        }
        if let Some(timeout) = options.timeout.or(self.inner.config.attempt_timeout) {
            *request.timeout_mut() = Some(timeout);
        }
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let span = tracing::info_span!(
            "deck.request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        execute(self, request).instrument(span).await
    }
}

fn current_options() -> RequestOptions {
    OPTIONS.try_with(Clone::clone).unwrap_or_default()
}

fn is_write(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PATCH | Method::DELETE)
}

/// Validates a key before anything is sent; the message becomes `Error::InvalidRequest`.
fn idempotency_header(key: &str) -> Result<HeaderValue, String> {
    if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(format!(
            "idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters, got {}",
            key.chars().count()
        ));
    }
    HeaderValue::from_str(key)
        .map_err(|_| "idempotency key must be visible ASCII (no control characters)".to_string())
}

/// A random UUID v4, the form Deck recommends.
fn new_idempotency_key() -> String {
    let mut bits = fastrand::u128(..);
    bits = (bits & !(0xF << 76)) | (0x4 << 76); // version 4
    bits = (bits & !(0x3 << 62)) | (0x2 << 62); // RFC 4122 variant
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

async fn execute(client: &Client, request: Request) -> reqwest::Result<Response> {
    let span = tracing::Span::current();
    let policy = current_options()
        .retry
        .unwrap_or_else(|| client.inner.config.retry.clone());
    let method = request.method().as_str().to_string();
    let has_key = request.headers().contains_key(IDEMPOTENCY_KEY_HEADER);
    let started = Instant::now();
    let mut next = Some(request);
    let mut attempt = 1u32;
    loop {
        let request = next.take().expect("a request for each attempt");
        // A body that cannot be cloned (a stream) allows no retry.
        next = request.try_clone();
        let result = match client.client.execute(request).await {
            Ok(response) => buffered(response, attempt).await,
            Err(e) => Err(e),
        };
        let (result, outcome_status, retry_after, error_type) = match result {
            Ok((response, None)) => {
                record(&span, &response, attempt, started, None);
                return Ok(response);
            }
            Ok((response, Some(body))) => {
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let error_type = body.errors().first().map(|e| e.type_.clone());
                record(&span, &response, attempt, started, body.request_id());
                let status = response.status().as_u16();
                (Ok(response), Some(status), retry_after, error_type)
            }
            Err(e) => (Err(e), None, None, None),
        };
        let outcome = match (&result, outcome_status) {
            (_, Some(status)) => Outcome::Status {
                status,
                retry_after: retry_after.as_deref(),
                error_type: error_type.as_deref(),
            },
            (Err(e), None) if e.is_connect() => Outcome::ConnectFailed,
            _ => Outcome::TransportFailed,
        };
        let decision = retry::decide(
            &policy,
            &Attempt {
                method: &method,
                has_idempotency_key: has_key,
                attempt,
                outcome,
                elapsed: started.elapsed(),
            },
            fastrand::f64(),
            SystemTime::now(),
        );
        match (decision, next.is_some()) {
            (Decision::RetryAfter(wait), true) => {
                match &result {
                    Ok(r) => tracing::debug!(
                        attempt,
                        status = r.status().as_u16(),
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    ),
                    Err(e) => {
                        tracing::debug!(attempt, error = %e, wait_ms = wait.as_millis() as u64, "retrying")
                    }
                }
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            _ => {
                if let Err(e) = &result {
                    span.record("attempts", attempt);
                    span.record("duration_ms", started.elapsed().as_millis() as u64);
                    tracing::debug!(error = %e, "request failed");
                }
                return result;
            }
        }
    }
}

fn record(
    span: &tracing::Span,
    response: &Response,
    attempt: u32,
    started: Instant,
    request_id: Option<&str>,
) {
    span.record("status", response.status().as_u16());
    span.record("attempts", attempt);
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    let header_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok());
    if let Some(id) = request_id.or(header_id) {
        span.record("request_id", id);
    }
}

/// Reads the whole body (inside the attempt, so a body cut off or too slow counts as a failed
/// attempt and can be retried) and rebuilds the response around it. Error bodies are made
/// decodable: JSON as sent, `null` for an empty body, a JSON string for anything else, and the
/// attempt count is added as a header. Returns the decoded error body for error statuses.
async fn buffered(
    response: Response,
    attempt: u32,
) -> reqwest::Result<(Response, Option<ErrorBody>)> {
    let status = response.status();
    let version = response.version();
    let mut headers = response.headers().clone();
    let bytes = response.bytes().await?;
    let (body, decoded) = if status.is_success() {
        (bytes, None)
    } else {
        // Decoding `ErrorBody` itself is the check: `IgnoredAny` would accept invalid UTF-8
        // inside strings, which the generated code then fails to decode.
        let body: Bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
            Bytes::from_static(b"null")
        } else if serde_json::from_slice::<ErrorBody>(&bytes).is_ok() {
            bytes.clone()
        } else {
            serde_json::to_vec(&String::from_utf8_lossy(&bytes))
                .expect("a string serialises")
                .into()
        };
        tracing::trace!(
            status = status.as_u16(),
            body = %String::from_utf8_lossy(&bytes[..bytes.len().min(LOG_BODY_LIMIT)]),
            "error response body"
        );
        let decoded: ErrorBody = serde_json::from_slice(&body).unwrap_or(ErrorBody::Empty);
        headers.remove(reqwest::header::CONTENT_LENGTH);
        headers.insert(
            HeaderName::from_static(ATTEMPTS_HEADER),
            HeaderValue::from(attempt),
        );
        (body, Some(decoded))
    };
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok((Response::from(rebuilt), decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_uuid_v4_and_distinct() {
        let a = new_idempotency_key();
        let b = new_idempotency_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }

    #[test]
    fn keys_over_256_characters_are_refused() {
        assert!(idempotency_header(&"k".repeat(256)).is_ok());
        assert!(idempotency_header(&"k".repeat(257)).is_err());
        assert!(idempotency_header("").is_err());
        assert!(idempotency_header("a\nb").is_err());
    }
}
