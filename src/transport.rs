//! One call, from a built request to a typed result. Every generated `send()` ends here.
//!
//! What happens, in order: an `Idempotency-Key` is attached to writes; then attempts run until
//! one succeeds or [`crate::retry::decide`] says stop. Each attempt waits for a slot of the
//! client's rate limiter (if any; held until the response head arrives), sends, and reads the
//! body to its end *within the attempt* (so a body cut off mid-way is retried like any dropped
//! connection) but never past the size limit. A 2xx
//! decodes into the operation's type; an error status into [`ErrorBody`]; a 3xx is refused. The
//! whole call, the attempt in flight and every wait included, runs under the retry policy's
//! deadline.

use crate::client::{Config, IDEMPOTENCY_KEY_HEADER, IdempotencyKey, RequestOptions};
use crate::error::{ApiError, DecodeError, Error, ErrorBody, ErrorKind, KEPT_BODY_BYTES, truncate};
use crate::hooks::{AttemptInfo, CallHooks};
use crate::limiter::Slot;
use crate::retry::{self, Attempt, Decision, Outcome, RetryPolicy};
use crate::{Client, ResponseValue};
use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Method, Request, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;
use tracing::Instrument;

/// Header names looked up on every call, parsed once.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static(IDEMPOTENCY_KEY_HEADER);
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Error bodies are read up to this size; the rest is not read (Deck's envelope is small).
pub(crate) const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// The most a body buffer reserves before bytes arrive (a page of 100 runs fits).
const PREALLOCATION_LIMIT: u64 = 1024 * 1024;

/// Sends `request` as operation `operation` with `options`, and decodes the success body as `T`.
pub(crate) async fn send<T: DeserializeOwned>(
    client: &Client,
    request: reqwest::RequestBuilder,
    operation: &'static str,
    options: RequestOptions,
) -> Result<ResponseValue<T>, Error> {
    let mut request = request
        .build()
        .map_err(|e| Error::InvalidRequest(format!("building the request: {e}")))?;
    crate::multipart::complete_content_type(&mut request)?;
    let config = &client.inner.config;
    let key = idempotency_key(config, &options, &mut request);
    let policy = options.retry.as_ref().unwrap_or(&config.retry);
    // Today's names, and OpenTelemetry's HTTP client conventions beside them.
    let span = tracing::info_span!(
        "deck.request",
        operation,
        method = %request.method(),
        path = request.url().path(),
        status = tracing::field::Empty,
        attempts = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
        request_id = tracing::field::Empty,
        "http.request.method" = %request.method(),
        "url.path" = request.url().path(),
        "server.address" = request.url().host_str(),
        "http.response.status_code" = tracing::field::Empty,
    );
    let hooks = CallHooks::of(&config.hooks, &options.hooks);
    let progress = Progress::default();
    // For a last report to after-attempt hooks when the deadline cuts an attempt short.
    let cut_short = hooks
        .as_ref()
        .map(|_| (request.method().clone(), request.url().path().to_owned()));
    // Without a subscriber that wants the span, its clock, records and entering it on every
    // poll are skipped (`cargo xtask bench`, per-call CPU).
    let traced = !span.is_disabled();
    let started = traced.then(Instant::now);
    // On the heap: the attempts' state is several KiB, which each layer below (deadline timer,
    // span) would otherwise copy as it wraps it (callgrind: fewer instructions per call).
    let call = Box::pin(attempts_until_done(
        client,
        config,
        request,
        operation,
        &options,
        policy,
        &span,
        hooks.as_ref(),
        &progress,
        key.as_ref(),
    ));
    let bounded = async {
        match policy.overall_deadline() {
            Some(limit) => match tokio::time::timeout(limit, call).await {
                Ok(result) => result,
                Err(_) => {
                    let attempts = progress.attempts.load(Ordering::Relaxed);
                    let in_flight = *progress.in_flight.lock().unwrap_or_else(|e| e.into_inner());
                    if let (Some(hooks), Some((method, path)), Some(since)) =
                        (&hooks, &cut_short, in_flight)
                    {
                        hooks.after_attempt(&AttemptInfo {
                            operation,
                            method,
                            path,
                            attempt: attempts,
                            status: None,
                            duration: since.elapsed(),
                            request_id: None,
                            error: Some(ErrorKind::Timeout),
                        });
                    }
                    Err(Error::Timeout {
                        after: limit,
                        attempts,
                        // Nothing was sent when no attempt started.
                        idempotency_key: key.clone().filter(|_| attempts > 0),
                    })
                }
            },
            None => call.await,
        }
    };
    let result = match traced {
        true => bounded.instrument(span.clone()).await,
        false => bounded.await,
    };
    if let Some(started) = started {
        span.record("attempts", progress.attempts.load(Ordering::Relaxed));
        span.record("duration_ms", started.elapsed().as_millis() as u64);
    }
    let received = result?;
    decode(received)
}

/// How far a call got, readable after its future is dropped (the deadline).
#[derive(Default)]
struct Progress {
    /// Attempts started.
    attempts: AtomicU32,
    /// When the attempt in flight was sent, if one is and hooks are set.
    in_flight: std::sync::Mutex<Option<Instant>>,
}

impl Progress {
    fn set_in_flight(&self, since: Option<Instant>) {
        *self.in_flight.lock().unwrap_or_else(|e| e.into_inner()) = since;
    }
}

/// A response read whole (within the limit).
struct Received {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// Why an attempt produced no usable response.
enum Failed {
    Transport(reqwest::Error),
    TooLarge { limit: u64, status: StatusCode },
    AttemptTimedOut(Duration),
}

fn is_write(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PATCH | Method::DELETE)
}

/// Attaches the write's `Idempotency-Key` (the caller's, else a fresh one unless automatic keys
/// are off) and returns it, so that an error of the call can name it.
fn idempotency_key(
    config: &Config,
    options: &RequestOptions,
    request: &mut Request,
) -> Option<IdempotencyKey> {
    if !is_write(request.method()) {
        return None;
    }
    if let Some(set) = request.headers().get(IDEMPOTENCY_KEY_HEADER) {
        return set.to_str().ok().and_then(|k| IdempotencyKey::new(k).ok());
    }
    let key = match &options.idempotency_key {
        Some(key) => key.clone(),
        None if config.automatic_idempotency_keys => IdempotencyKey::generate(),
        None => return None,
    };
    request
        .headers_mut()
        .insert(IDEMPOTENCY_KEY_HEADER, key.header_value());
    Some(key)
}

#[allow(clippy::too_many_arguments)]
async fn attempts_until_done(
    client: &Client,
    config: &Config,
    request: Request,
    operation: &'static str,
    options: &RequestOptions,
    policy: &RetryPolicy,
    span: &tracing::Span,
    hooks: Option<&CallHooks<'_>>,
    progress: &Progress,
    key: Option<&IdempotencyKey>,
) -> Result<Received, Error> {
    // One timer around each attempt (request and body), not reqwest's per-request timeout:
    // the same bound at a fraction of the per-call cost (`cargo xtask bench`, per-call).
    let attempt_limit = options.timeout.or(config.attempt_timeout);
    log_request_body(operation, &request);
    let method = request.method().clone();
    let path = match hooks {
        Some(_) => request.url().path().to_owned(),
        None => String::new(),
    };
    let has_key = request.headers().contains_key(&IDEMPOTENCY_KEY);
    let started = Instant::now();
    let mut next = Some(request);
    let mut attempt = 0u32;
    loop {
        // The wait for the rate limiter comes first: a call that runs out of time there has
        // sent nothing (`attempts` counts attempts started).
        let slot = match &config.limiter {
            Some(limiter) => Some(limiter.acquire(options.lane).await),
            None => None,
        };
        attempt += 1;
        progress.attempts.store(attempt, Ordering::Relaxed);
        let mut request = next.take().expect("a request for each attempt");
        // A body that cannot be cloned (a stream) allows no retry. Cloned before the hooks run:
        // each attempt starts from the request as built; not at all when no attempt can follow.
        next = match attempt < policy.attempts() {
            true => request.try_clone(),
            false => None,
        };
        // The hooks' clock: only read when there are hooks to tell.
        let sent = hooks.map(|hooks| {
            hooks.before_attempt(&mut request, operation, attempt);
            let now = Instant::now();
            progress.set_in_flight(Some(now));
            now
        });
        let report = |status: Option<StatusCode>, request_id: Option<&str>, error| {
            if let (Some(hooks), Some(sent)) = (hooks, sent) {
                progress.set_in_flight(None);
                hooks.after_attempt(&AttemptInfo {
                    operation,
                    method: &method,
                    path: &path,
                    attempt,
                    status,
                    duration: sent.elapsed(),
                    request_id,
                    error,
                });
            }
        };
        let reading = read(client, request, slot, config.max_response_bytes);
        let read = match attempt_limit {
            Some(limit) => tokio::time::timeout(limit, reading)
                .await
                .unwrap_or(Err(Failed::AttemptTimedOut(limit))),
            None => reading.await,
        };
        let (outcome, failure) = match read {
            Ok(received) if received.status.is_success() => {
                record(span, &received, None);
                if hooks.is_some() {
                    report(Some(received.status), header_request_id(&received), None);
                }
                return Ok(received);
            }
            Ok(received) if received.status.is_redirection() => {
                record(span, &received, None);
                report(
                    Some(received.status),
                    header_request_id(&received),
                    Some(ErrorKind::Redirect),
                );
                // The server's, so kept bounded.
                let location = received
                    .headers
                    .get(reqwest::header::LOCATION)
                    .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
                return Err(Error::Redirect {
                    status: received.status,
                    location: location.map(|l| truncate(&l, KEPT_BODY_BYTES)),
                });
            }
            Ok(received) => {
                let body = ErrorBody::from_bytes(&received.body);
                record(span, &received, body.request_id());
                tracing::trace!(
                    status = received.status.as_u16(),
                    body = %redacted(operation, &received.body),
                    "error response body"
                );
                let error = ApiError::new(received.status, received.headers, body)
                    .after_attempts(attempt)
                    .with_idempotency_key(key.cloned());
                let retry_after = error
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let error_type = error.error_type().map(String::from);
                let outcome = decide(
                    policy,
                    &method,
                    has_key,
                    attempt,
                    Outcome::Status {
                        status: error.status().as_u16(),
                        retry_after: retry_after.as_deref(),
                        error_type: error_type.as_deref(),
                    },
                    started,
                );
                (outcome, Error::Api(Box::new(error)))
            }
            Err(Failed::TooLarge { limit, status }) => {
                report(Some(status), None, Some(ErrorKind::ResponseTooLarge));
                // The same request gets the same body: not worth another attempt.
                return Err(Error::ResponseTooLarge { limit, status });
            }
            Err(Failed::AttemptTimedOut(limit)) => {
                // Like a transport failure: the request may have been carried out.
                let outcome = decide(
                    policy,
                    &method,
                    has_key,
                    attempt,
                    Outcome::TransportFailed,
                    started,
                );
                (
                    outcome,
                    Error::AttemptTimeout {
                        limit,
                        attempts: attempt,
                        idempotency_key: key.cloned(),
                    },
                )
            }
            Err(Failed::Transport(source)) => {
                let kind = if is_permanent(&source) {
                    Outcome::Permanent
                } else if source.is_connect() {
                    Outcome::ConnectFailed
                } else {
                    Outcome::TransportFailed
                };
                let outcome = decide(policy, &method, has_key, attempt, kind, started);
                // A connection never made sent nothing: no write to retry under the key.
                let sent = kind == Outcome::TransportFailed || attempt > 1;
                (
                    outcome,
                    Error::Transport {
                        source,
                        attempts: attempt,
                        idempotency_key: key.filter(|_| sent).cloned(),
                    },
                )
            }
        };
        report(failure.status(), failure.request_id(), Some(failure.kind()));
        // Logs above TRACE name the failure, never a body.
        let summary = match &failure {
            Error::Api(e) => format!("{} {}", e.status(), e.code().unwrap_or("")),
            other => other.to_string(),
        };
        match (outcome, next.is_some()) {
            (Decision::RetryAfter(wait), true) => {
                tracing::debug!(
                    attempt,
                    error = %summary,
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
                tokio::time::sleep(wait).await;
            }
            _ => {
                tracing::debug!(error = %summary, "request failed");
                return Err(failure);
            }
        }
    }
}

/// A failure that retrying within the call will not heal: the name did not resolve (the
/// client's resolver marks it), or TLS refused the server (a certificate error, a handshake
/// rustls rejected). Found by type in the error's source chain, never by message.
fn is_permanent(error: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<crate::client::DnsFailed>() || e.is::<rustls::Error>() {
            return true;
        }
        // rustls' errors reach hyper inside (nested) `io::Error`s, whose `source()` skips the
        // error they wrap: step into it instead.
        cause = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => e.source(),
        };
    }
    false
}

fn decide(
    policy: &RetryPolicy,
    method: &Method,
    has_idempotency_key: bool,
    attempt: u32,
    outcome: Outcome<'_>,
    started: Instant,
) -> Decision {
    retry::decide(
        policy,
        &Attempt {
            method: method.as_str(),
            has_idempotency_key,
            attempt,
            outcome,
            elapsed: started.elapsed(),
        },
        fastrand::f64(),
        SystemTime::now(),
    )
}

/// One attempt: send, then read the body to its end, never past `limit` bytes (error bodies:
/// never past [`ERROR_BODY_LIMIT`], the rest is dropped unread). The rate limiter's `slot` is
/// held until the response head arrives (or the attempt fails).
async fn read(
    client: &Client,
    request: Request,
    mut slot: Option<Slot<'_>>,
    limit: u64,
) -> Result<Received, Failed> {
    if let Some(slot) = &mut slot {
        slot.use_now();
    }
    let response = client.client.execute(request).await;
    drop(slot);
    let mut response = response.map_err(Failed::Transport)?;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let error = !status.is_success();
    let limit = if error {
        limit.min(ERROR_BODY_LIMIT)
    } else {
        limit
    };
    let too_large = Failed::TooLarge { limit, status };
    if !error && response.content_length().is_some_and(|len| len > limit) {
        return Err(too_large);
    }
    // Preallocated from `Content-Length`, but never more than `PREALLOCATION_LIMIT`, whatever
    // the server claims and whatever the body limit (it may be off): the rest grows as bytes
    // actually arrive.
    let capacity = response
        .content_length()
        .unwrap_or(0)
        .min(limit)
        .min(PREALLOCATION_LIMIT) as usize;
    let mut body = BytesMut::with_capacity(capacity);
    while let Some(chunk) = response.chunk().await.map_err(Failed::Transport)? {
        let room = (limit as usize).saturating_sub(body.len());
        if chunk.len() > room {
            if error {
                body.extend_from_slice(&chunk[..room]);
                break;
            }
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received {
        status,
        headers,
        body: body.freeze(),
    })
}

fn record(span: &tracing::Span, received: &Received, body_request_id: Option<&str>) {
    if span.is_disabled() {
        return;
    }
    span.record("status", received.status.as_u16());
    span.record("http.response.status_code", received.status.as_u16());
    if let Some(id) = body_request_id.or(header_request_id(received)) {
        span.record("request_id", truncate(id, 100));
    }
}

fn header_request_id(received: &Received) -> Option<&str> {
    received
        .headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
}

/// Decodes a success body; an empty body decodes as JSON `null` (so `()` and `Option` work).
fn decode<T: DeserializeOwned>(received: Received) -> Result<ResponseValue<T>, Error> {
    let text: &[u8] = if received.body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        &received.body
    };
    match serde_json::from_slice::<T>(text) {
        Ok(value) => Ok(ResponseValue::new(value, received.status, received.headers)),
        Err(e) => Err(Error::Decode(Box::new(DecodeError::new(&received.body, e)))),
    }
}

/// A body for a TRACE log: JSON with the operation's secret fields replaced at any depth
/// (the overlay's `x-deck-secret` markers, through `generated::secret_fields`), truncated;
/// anything else only by its length.
pub(crate) fn redacted(operation: &str, body: &[u8]) -> String {
    fn scrub(value: &mut serde_json::Value, secret: &[&str]) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if secret.iter().any(|s| s.eq_ignore_ascii_case(key)) {
                        *v = serde_json::Value::String("** redacted **".into());
                    } else {
                        scrub(v, secret);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, secret)),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            scrub(&mut value, crate::generated::secret_fields(operation));
            truncate(&value.to_string(), KEPT_BODY_BYTES / 2)
        }
        Err(_) => format!("({} bytes, not JSON)", body.len()),
    }
}

fn log_request_body(operation: &'static str, request: &Request) {
    if !tracing::enabled!(tracing::Level::TRACE) {
        return;
    }
    if let Some(body) = request.body().and_then(|b| b.as_bytes()) {
        tracing::trace!(body = %redacted(operation, body), "request body");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name that does not resolve is not retried (a refused connection is): the resolver
    /// marks the failure, the decision reads the mark.
    #[tokio::test]
    async fn dns_failures_are_not_retried() {
        let client = Client::builder()
            .api_key("k")
            .base_url("https://deck.invalid/v2")
            .retry(
                RetryPolicy::default()
                    .initial_backoff(Duration::from_millis(1))
                    .max_backoff(Duration::from_millis(2)),
            )
            .build_with(crate::client::Resolver::Failing)
            .unwrap();
        let err = client.test_api_key().send().await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Transport, "{err}");
        assert_eq!(err.attempts(), 1, "{err}");
        assert!(err.to_string().contains("DNS lookup failed"), "{err}");
    }

    #[test]
    fn secrets_are_redacted_by_the_overlays_markers() {
        let body = br#"{"source_id":"src_1","auth_credentials":{"username":"u","password":"p4ss"},
                        "nested":[{"AUTH_CREDENTIALS":"again"}]}"#;
        let logged = redacted("create_credential", body);
        for secret in ["p4ss", "again"] {
            assert!(!logged.contains(secret), "{secret} in {logged}");
        }
        assert!(logged.contains("src_1"), "{logged}");
        // Every destination secret the overlay marks, `server_url` (an AMQP URL with its
        // password) included.
        let destination = br#"{"type":"rabbitmq","rabbitmq":{"server_url":"amqp://u:MARKER1@h",
            "exchange":"x"},"webhook":{"url":"https://x","secret":"MARKER2",
            "custom_headers":"MARKER3"},"hookdeck":{"token":"MARKER4"}}"#;
        let logged = redacted("create_event_destination", destination);
        for marker in ["MARKER1", "MARKER2", "MARKER3", "MARKER4"] {
            assert!(!logged.contains(marker), "{marker} in {logged}");
        }
        assert!(logged.contains("https://x"), "{logged}");
        let answer = br#"{"input":{"code":"123456"}}"#;
        assert!(!redacted("submit_task_run_interaction", answer).contains("123456"));
        assert!(redacted("run_task", answer).contains("123456"));
        assert_eq!(redacted("x", b"\x00binary"), "(7 bytes, not JSON)");
    }
}
