//! Errors: the one type every call returns, [`Error`], and the body of Deck's error responses.

use crate::client::IdempotencyKey;
use crate::types::{ErrorDetail, ErrorEnvelope, RunStatus, ValidationProblem};
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

mod bounded;
mod json_path;

pub(crate) use bounded::truncate;
use bounded::{Bounded, BoundedHeaders, Capped};
use json_path::json_path_at;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How much of a body an error keeps (and prints): enough to see what the server sent, never
/// the whole of a hostile or runaway response.
pub(crate) const KEPT_BODY_BYTES: usize = 2048;

/// The body of a Deck error response, decoded leniently: an error never fails to decode.
///
/// Deck sends its envelope (`{errors: [{type, code, message, field}], request_id}`) for most
/// errors, an ASP.NET validation map for 400, and nothing at all for 401/403.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// Deck's error envelope.
    Envelope(ErrorEnvelope),
    /// The validation map Deck sends with 400.
    Validation(ValidationProblem),
    /// No body (401 and 403 have none).
    Empty,
    /// Anything else, kept as sent but truncated to 2 KiB (a proxy's HTML page arrives as a
    /// JSON string).
    Other(serde_json::Value),
}

impl<'de> Deserialize<'de> for ErrorBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(Self::from_value(value))
    }
}

impl serde::Serialize for ErrorBody {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Envelope(e) => e.serialize(s),
            Self::Validation(v) => v.serialize(s),
            Self::Empty => s.serialize_none(),
            Self::Other(v) => v.serialize(s),
        }
    }
}

impl ErrorBody {
    /// Decodes an error body as received: JSON into the envelope or the validation map when it
    /// is one, an empty body into [`ErrorBody::Empty`], anything else kept as (truncated) text.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Self::Empty;
        }
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) => Self::from_value(value),
            Err(_) => Self::Other(serde_json::Value::String(truncate(
                &String::from_utf8_lossy(&bytes[..bytes.len().min(KEPT_BODY_BYTES)]),
                KEPT_BODY_BYTES,
            ))),
        }
    }

    fn from_value(value: serde_json::Value) -> Self {
        match &value {
            serde_json::Value::Null => return Self::Empty,
            serde_json::Value::String(s) if s.is_empty() => return Self::Empty,
            _ => {}
        }
        match value.get("errors") {
            Some(serde_json::Value::Array(_)) => {
                if let Ok(envelope) = serde_json::from_value(value.clone()) {
                    return Self::Envelope(envelope);
                }
            }
            Some(serde_json::Value::Object(_)) => {
                if let Ok(validation) = serde_json::from_value(value.clone()) {
                    return Self::Validation(validation);
                }
            }
            _ => {}
        }
        let text = value.to_string();
        if text.len() > KEPT_BODY_BYTES {
            return Self::Other(serde_json::Value::String(truncate(&text, KEPT_BODY_BYTES)));
        }
        Self::Other(value)
    }

    /// The entries of Deck's `errors` array (empty for other bodies).
    pub fn errors(&self) -> &[ErrorDetail] {
        match self {
            Self::Envelope(e) => &e.errors,
            _ => &[],
        }
    }

    /// The `request_id` in the body, if any.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Envelope(e) => Some(e.request_id.as_str()),
            Self::Validation(v) => v.trace_id.as_deref(),
            Self::Other(v) => v.get("request_id").and_then(|r| r.as_str()),
            Self::Empty => None,
        }
    }
}

/// What kind of failure an [`Error`] is, for branching without matching on statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400: the request was malformed; see [`ApiError::validation_errors`].
    BadRequest,
    /// 401: the API key is missing or invalid.
    Unauthorized,
    /// 403: the key may not do this.
    Forbidden,
    /// 404: no such resource.
    NotFound,
    /// 409: a state conflict, or an idempotency key reused with other parameters.
    Conflict,
    /// 422: the body is understood but holds invalid values.
    Unprocessable,
    /// 429: rate or sandbox-concurrency limit.
    RateLimited,
    /// 5xx.
    Server,
    /// Another error status.
    OtherStatus,
    /// The request could not be built or was refused before sending.
    InvalidRequest,
    /// No complete response: the connection failed or was cut, a TLS or DNS failure. (A
    /// response that did not come in time is [`Timeout`](Self::Timeout).)
    Transport,
    /// Something did not finish in time: the whole call ([`Error::Timeout`]), one attempt
    /// ([`Error::AttemptTimeout`]), or a silence longer than the read timeout
    /// ([`Error::Transport`] whose source `is_timeout()`).
    Timeout,
    /// The response body was larger than the client's limit.
    ResponseTooLarge,
    /// The server answered with a redirect, which the client does not follow.
    Redirect,
    /// A successful response whose body did not decode.
    Decode,
    /// A paginated list misbehaved: a repeated cursor, `has_more` without a cursor, too many
    /// empty pages in a row, or the task fetching pages ahead failed.
    Pagination,
    /// Waiting for a task run ran out of time.
    WaitTimeout,
    /// A task run's output did not match the type asked for.
    Output,
    /// The shared store (rate limiter, deduplication, checkpoints; e.g. Redis) failed.
    Store,
}

/// A Deck error response: status, headers, the decoded body and how many attempts were made.
///
/// Its `Debug` is bounded (header values and the body cut short), whatever the server sent.
#[derive(Clone)]
pub struct ApiError {
    status: StatusCode,
    headers: HeaderMap,
    body: ErrorBody,
    attempts: u32,
    idempotency_key: Option<IdempotencyKey>,
}

impl ApiError {
    /// Builds an error from its parts (for tests of code that handles Deck errors).
    pub fn new(status: StatusCode, headers: HeaderMap, body: ErrorBody) -> Self {
        Self {
            status,
            headers,
            body,
            attempts: 1,
            idempotency_key: None,
        }
    }

    pub(crate) fn after_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    pub(crate) fn with_idempotency_key(mut self, key: Option<IdempotencyKey>) -> Self {
        self.idempotency_key = key;
        self
    }

    /// The `Idempotency-Key` the failed write was sent with (see [`Error::idempotency_key`]).
    pub fn idempotency_key(&self) -> Option<&IdempotencyKey> {
        self.idempotency_key.as_ref()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers, as Deck sent them.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The decoded body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }

    /// Deck's `errors[]` (`type`, `code`, `message`, `field`); empty when the body had none.
    pub fn errors(&self) -> &[ErrorDetail] {
        self.body.errors()
    }

    /// The first error's `code` (e.g. `task_not_found`, `rate_limit_exceeded`).
    pub fn code(&self) -> Option<&str> {
        self.errors().first().map(|e| e.code.as_str())
    }

    /// The first error's `type` (e.g. `request`, `rate_limit`, `organization`).
    pub fn error_type(&self) -> Option<&str> {
        self.errors().first().map(|e| e.type_.as_str())
    }

    /// The first error's human-readable `message`.
    pub fn message(&self) -> Option<&str> {
        self.errors().first().map(|e| e.message.as_str())
    }

    /// The request id to quote to Deck's support: the envelope's `request_id`, else an
    /// `x-request-id` / `request-id` header, else (for a 400) ASP.NET's `traceId`.
    pub fn request_id(&self) -> Option<&str> {
        let header = || {
            ["x-request-id", "request-id"]
                .iter()
                .find_map(|h| self.headers.get(*h)?.to_str().ok())
        };
        match &self.body {
            ErrorBody::Validation(v) => header().or(v.trace_id.as_deref()),
            body => body.request_id().or_else(header),
        }
    }

    /// For a 400, the validation map: field name → messages.
    pub fn validation_errors(&self) -> Option<&HashMap<String, Vec<String>>> {
        match &self.body {
            ErrorBody::Validation(v) => Some(&v.errors),
            _ => None,
        }
    }

    /// How many attempts the client made before giving up (1 when it did not retry).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The kind of failure, from the status.
    pub fn kind(&self) -> ErrorKind {
        match self.status.as_u16() {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            422 => ErrorKind::Unprocessable,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::OtherStatus,
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("headers", &BoundedHeaders(&self.headers))
            .field("body", &Bounded(&self.body, KEPT_BODY_BYTES))
            .finish()
    }
}

impl std::error::Error for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Deck API error {}", self.status)?;
        match &self.body {
            ErrorBody::Envelope(e) => {
                for (i, err) in e.errors.iter().take(5).enumerate() {
                    let sep = if i == 0 { ": " } else { "; " };
                    write!(
                        f,
                        "{sep}{}/{}: {}",
                        truncate(&err.type_, 100),
                        truncate(&err.code, 100),
                        truncate(&err.message, 300)
                    )?;
                    if let Some(field) = &err.field {
                        write!(f, " (field `{}`)", truncate(field, 100))?;
                    }
                }
                if e.errors.len() > 5 {
                    write!(f, "; and {} more", e.errors.len() - 5)?;
                }
            }
            ErrorBody::Validation(v) => {
                let title = v.title.as_deref().unwrap_or("validation failed");
                write!(f, ": {}", truncate(title, 200))?;
                let mut fields: Vec<_> = v.errors.iter().collect();
                fields.sort();
                for (field, messages) in fields.iter().take(10) {
                    write!(
                        f,
                        "; {}: {}",
                        truncate(field, 100),
                        truncate(&messages.join(" "), 300)
                    )?;
                }
                if fields.len() > 10 {
                    write!(f, "; and {} more fields", fields.len() - 10)?;
                }
            }
            ErrorBody::Empty => match self.status.as_u16() {
                401 => f.write_str(": unauthorized: the API key is missing, invalid or revoked")?,
                403 => f.write_str(": forbidden: the API key may not perform this request")?,
                _ => f.write_str(": (empty body)")?,
            },
            ErrorBody::Other(v) => {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                write!(f, ": {}", truncate(&text, 200))?;
            }
        }
        if let Some(id) = self.request_id() {
            write!(f, " [request_id {}]", truncate(id, 100))?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

/// A successful response whose body did not decode into the expected type. Keeps the start of
/// the body (2 KiB), its length, and where decoding failed.
pub struct DecodeError {
    excerpt: Bytes,
    len: usize,
    source: serde_json::Error,
    path: Option<String>,
}

impl DecodeError {
    /// Wraps a serde error about `bytes`, locating the JSON path of the failure. A serde
    /// message longer than 1 KiB (serde quotes the offending value, which may be a string of
    /// megabytes) is cut, with its position appended.
    pub fn new(bytes: &[u8], source: serde_json::Error) -> Self {
        let path = json_path_at(bytes, source.line(), source.column());
        Self {
            excerpt: Bytes::copy_from_slice(&bytes[..bytes.len().min(KEPT_BODY_BYTES)]),
            len: bytes.len(),
            source: bounded_serde_error(source),
            path,
        }
    }

    /// The start of the body as received (at most 2 KiB; see [`len`](Self::len)).
    pub fn bytes(&self) -> &Bytes {
        &self.excerpt
    }

    /// The length of the whole body.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the body was empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the failure is, e.g. `$.data[3].runtime_ms` (`$` for the top level).
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The serde error (its message cut to 1 KiB).
    pub fn serde_error(&self) -> &serde_json::Error {
        &self.source
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("path", &self.path)
            .field("source", &self.source)
            .field("len", &self.len)
            .field(
                "excerpt",
                &truncate(&String::from_utf8_lossy(&self.excerpt), 512),
            )
            .finish()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not decode Deck's response")?;
        if let Some(path) = &self.path {
            write!(f, " at `{}`", truncate(path, 200))?;
        }
        write!(f, ": {} ({} bytes)", self.source, self.len)
    }
}

/// Longest serde message a [`DecodeError`] keeps.
const KEPT_MESSAGE_BYTES: usize = 1024;

/// `source`, or when its message is longer than [`KEPT_MESSAGE_BYTES`], an error with the
/// message cut (line and column then move into the message).
fn bounded_serde_error(source: serde_json::Error) -> serde_json::Error {
    let mut message = Capped::new(KEPT_MESSAGE_BYTES);
    if fmt::write(&mut message, format_args!("{source}")).is_ok() {
        return source;
    }
    <serde_json::Error as serde::de::Error>::custom(format!(
        "{}… (cut) at line {} column {}",
        message.text,
        source.line(),
        source.column()
    ))
}

/// The one error type of the `deck` crate: every `send()`, paginator and wait returns it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Deck answered with an error status.
    Api(Box<ApiError>),
    /// The request was refused before it was sent (a missing parameter, an invalid value, an
    /// idempotency key over 256 characters).
    InvalidRequest(String),
    /// No complete response: connection refused or reset, a TLS or DNS failure, a body cut
    /// off, a silence longer than the read timeout (that one is [`ErrorKind::Timeout`]).
    #[non_exhaustive]
    Transport {
        /// What failed.
        source: reqwest::Error,
        /// Attempts made.
        attempts: u32,
        /// The key the write was sent with (see [`Error::idempotency_key`]).
        idempotency_key: Option<IdempotencyKey>,
    },
    /// The call ran past its overall limit ([`RetryPolicy::deadline`](crate::RetryPolicy::deadline)),
    /// with an attempt in flight, waiting to retry, or waiting for the client's rate limiter.
    #[non_exhaustive]
    Timeout {
        /// The limit that was reached.
        after: Duration,
        /// Attempts started (0 when the call never got past the rate limiter).
        attempts: u32,
        /// The key the write was sent with (see [`Error::idempotency_key`]).
        idempotency_key: Option<IdempotencyKey>,
    },
    /// The last attempt ran past the per-attempt limit
    /// ([`ClientBuilder::attempt_timeout`](crate::ClientBuilder::attempt_timeout),
    /// [`RequestOptions::timeout`](crate::RequestOptions::timeout)), the attempts before it
    /// (if any) having failed too.
    #[non_exhaustive]
    AttemptTimeout {
        /// The per-attempt limit.
        limit: Duration,
        /// Attempts started, each cut at `limit` or failed otherwise.
        attempts: u32,
        /// The key the write was sent with (see [`Error::idempotency_key`]).
        idempotency_key: Option<IdempotencyKey>,
    },
    /// The response body was larger than the client's limit; it was not read further.
    #[non_exhaustive]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: u64,
        /// The response status.
        status: StatusCode,
    },
    /// The server answered with a redirect; the client follows none (Deck's API does not
    /// redirect, and following could carry a write's body to another origin).
    #[non_exhaustive]
    Redirect {
        /// The 3xx status.
        status: StatusCode,
        /// The `Location` header, if any (cut to 2 KiB, lossily decoded).
        location: Option<String>,
    },
    /// A successful response that did not decode into the expected type.
    Decode(Box<DecodeError>),
    /// A paginated list misbehaved (a repeated cursor, `has_more` without a cursor, too many
    /// empty pages in a row, the page-fetching task failed); the stream stopped.
    Pagination(String),
    /// [`crate::Client::wait_for_task_run`] ran out of time.
    #[non_exhaustive]
    WaitTimeout {
        /// The run being waited for.
        run_id: crate::types::TaskRunId,
        /// The last status seen (`None` when no poll was answered in time).
        last_status: Option<RunStatus>,
        /// How long it waited.
        waited: Duration,
    },
    /// A task run's output is not what the type asked for (see `TaskRun::output_as`).
    #[non_exhaustive]
    Output {
        /// The run.
        run_id: crate::types::TaskRunId,
        /// What is wrong.
        message: String,
    },
    /// The shared store behind a feed, tracker or rate limiter failed (see [`crate::store`]).
    Store(String),
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api(e) => e.kind(),
            Error::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Error::Transport { source, .. } if source.is_timeout() => ErrorKind::Timeout,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Timeout { .. } | Error::AttemptTimeout { .. } => ErrorKind::Timeout,
            Error::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Error::Redirect { .. } => ErrorKind::Redirect,
            Error::Decode(_) => ErrorKind::Decode,
            Error::Pagination(_) => ErrorKind::Pagination,
            Error::WaitTimeout { .. } => ErrorKind::WaitTimeout,
            Error::Output { .. } => ErrorKind::Output,
            Error::Store(_) => ErrorKind::Store,
        }
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status()),
            Error::ResponseTooLarge { status, .. } | Error::Redirect { status, .. } => {
                Some(*status)
            }
            Error::Transport { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The Deck error response, when there was one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Deck's request id, when the error came with one.
    pub fn request_id(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::request_id)
    }

    /// The first Deck error code, when the error came with one.
    pub fn code(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::code)
    }

    /// The `Idempotency-Key` a write was sent with, when the call failed after sending it.
    ///
    /// A write that failed this way may still have been carried out by Deck (a timeout, a cut
    /// connection, a 5xx). Retry it under this key
    /// ([`RequestOptions::idempotency_key`](crate::RequestOptions::idempotency_key)): Deck
    /// then replays the first result instead of running the write a second time.
    pub fn idempotency_key(&self) -> Option<&IdempotencyKey> {
        match self {
            Error::Api(e) => e.idempotency_key(),
            Error::Transport {
                idempotency_key, ..
            }
            | Error::Timeout {
                idempotency_key, ..
            }
            | Error::AttemptTimeout {
                idempotency_key, ..
            } => idempotency_key.as_ref(),
            _ => None,
        }
    }

    /// How many attempts the call made (0 when it failed before sending).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Api(e) => e.attempts(),
            Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::AttemptTimeout { attempts, .. } => *attempts,
            Error::ResponseTooLarge { .. } | Error::Redirect { .. } | Error::Decode(_) => 1,
            _ => 0,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => e.fmt(f),
            Error::InvalidRequest(m) => write!(f, "invalid request: {}", truncate(m, 500)),
            Error::Transport {
                source, attempts, ..
            } => {
                write!(f, "transport error: {source}")?;
                let mut cause = std::error::Error::source(source);
                while let Some(s) = cause {
                    write!(f, ": {s}")?;
                    cause = s.source();
                }
                if *attempts > 1 {
                    write!(f, " (after {attempts} attempts)")?;
                }
                Ok(())
            }
            Error::Timeout {
                after, attempts: 0, ..
            } => write!(
                f,
                "the call did not finish within {:.1}s (it was still waiting for the client's \
                 rate limiter; nothing was sent)",
                after.as_secs_f64()
            ),
            Error::AttemptTimeout {
                limit, attempts, ..
            } => write!(
                f,
                "the attempt did not finish within {:.1}s ({attempts} attempt(s) started)",
                limit.as_secs_f64()
            ),
            Error::Timeout {
                after, attempts, ..
            } => write!(
                f,
                "the call did not finish within {:.1}s ({attempts} attempt(s) started)",
                after.as_secs_f64()
            ),
            Error::ResponseTooLarge { limit, status } => write!(
                f,
                "the response ({status}) is larger than the client's limit of {limit} bytes"
            ),
            Error::Redirect { status, location } => write!(
                f,
                "the server redirected ({status}) to {}; the client follows no redirects",
                location
                    .as_deref()
                    .map_or("nowhere".into(), |l| truncate(l, 200))
            ),
            Error::Decode(e) => e.fmt(f),
            Error::Pagination(m) => write!(f, "pagination stopped: {m}"),
            Error::WaitTimeout {
                run_id,
                last_status,
                waited,
            } => match last_status {
                Some(status) => write!(
                    f,
                    "task run {run_id} still `{status}` after waiting {:.1}s",
                    waited.as_secs_f64()
                ),
                None => write!(
                    f,
                    "task run {run_id}: no poll was answered within {:.1}s",
                    waited.as_secs_f64()
                ),
            },
            Error::Output { run_id, message } => {
                write!(f, "task run {run_id}: {}", truncate(message, 500))
            }
            Error::Store(message) => write!(f, "shared store: {}", truncate(message, 500)),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            Error::Api(e) => Some(e.as_ref()),
            Error::Decode(e) => Some(&e.source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of<T: serde::de::DeserializeOwned + fmt::Debug>(json: &str) -> String {
        let err = serde_json::from_str::<T>(json).unwrap_err();
        DecodeError::new(json.as_bytes(), err)
            .path()
            .unwrap()
            .to_string()
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        id: String,
        n: i64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Page {
        data: Vec<Item>,
    }

    #[test]
    fn decode_errors_name_the_failing_field() {
        assert_eq!(
            path_of::<Page>(r#"{"data":[{"id":"a","n":1},{"id":"b","n":"x"}]}"#),
            "$.data[1].n"
        );
        assert_eq!(
            path_of::<Page>("{\n \"data\": [\n  {\"id\": 7, \"n\": 1}\n ]\n}"),
            "$.data[0].id"
        );
        let missing = r#"{"data":[{"id":"a"}]}"#;
        let err = serde_json::from_str::<Page>(missing).unwrap_err();
        let decode = DecodeError::new(missing.as_bytes(), err);
        assert!(decode.to_string().contains("missing field `n`"), "{decode}");
        assert!(decode.path().unwrap().starts_with("$.data[0]"), "{decode}");
    }

    #[test]
    fn error_body_decodes_every_shape() {
        let envelope: ErrorBody = serde_json::from_str(
            r#"{"errors":[{"type":"request","code":"task_not_found","message":"no"}],"request_id":"req_1"}"#,
        )
        .unwrap();
        assert_eq!(envelope.errors()[0].code, "task_not_found");
        assert_eq!(envelope.request_id(), Some("req_1"));
        let validation: ErrorBody = serde_json::from_str(
            r#"{"title":"bad","errors":{"limit":["too big"]},"traceId":"t1"}"#,
        )
        .unwrap();
        assert!(matches!(validation, ErrorBody::Validation(_)));
        assert_eq!(
            serde_json::from_str::<ErrorBody>("null").unwrap(),
            ErrorBody::Empty
        );
        let html: ErrorBody = serde_json::from_str(r#""<html>busy</html>""#).unwrap();
        assert!(matches!(html, ErrorBody::Other(_)));
        let odd: ErrorBody = serde_json::from_str(r#"{"errors":[1,2]}"#).unwrap();
        assert!(matches!(odd, ErrorBody::Other(_)));
    }

    #[test]
    fn error_bodies_and_their_debug_are_bounded() {
        assert_eq!(ErrorBody::from_bytes(b"  \n"), ErrorBody::Empty);
        let page = ErrorBody::from_bytes(&vec![b'x'; 100_000]);
        let ErrorBody::Other(serde_json::Value::String(text)) = &page else {
            panic!("{page:?}")
        };
        assert!(text.len() <= KEPT_BODY_BYTES + 4, "{}", text.len());
        let huge_json = format!("[{}]", vec!["1"; 100_000].join(","));
        let ErrorBody::Other(serde_json::Value::String(text)) =
            ErrorBody::from_bytes(huge_json.as_bytes())
        else {
            panic!("a large JSON error body is kept as truncated text")
        };
        assert!(text.len() <= KEPT_BODY_BYTES + 4);

        let body = vec![b'['; 1_000_000];
        let source = serde_json::from_slice::<u8>(&body).unwrap_err();
        let decode = DecodeError::new(&body, source);
        assert_eq!(decode.len(), 1_000_000);
        assert!(decode.bytes().len() <= KEPT_BODY_BYTES);
        assert!(format!("{decode:?}").len() < 2048);
        assert!(format!("{}", Error::Decode(Box::new(decode))).len() < 1024);
    }
}
