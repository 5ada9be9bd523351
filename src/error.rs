//! Errors: the one type users match on, [`Error`], and the body of Deck's error responses.

use crate::types::{ErrorResponse, TaskRunError, ValidationErrorResponse};
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::fmt;

/// Header the client adds to the final response of a retried call, giving the attempt count.
pub(crate) const ATTEMPTS_HEADER: &str = "x-deck-client-attempts";

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The body of a Deck error response, decoded leniently: an error never fails to decode.
///
/// Deck sends its envelope (`{errors: [{type, code, message, field}], request_id}`) for most
/// errors, an ASP.NET validation map for 400, and nothing at all for 401/403.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// Deck's error envelope.
    Envelope(ErrorResponse),
    /// The validation map Deck sends with 400.
    Validation(ValidationErrorResponse),
    /// No body (401 and 403 have none).
    Empty,
    /// Anything else, kept as sent (a proxy's HTML page arrives as a JSON string).
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
        Self::Other(value)
    }

    /// The entries of Deck's `errors` array (empty for other bodies).
    pub fn errors(&self) -> &[TaskRunError] {
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
    /// Another status.
    OtherStatus,
    /// The request could not be built or was refused before sending.
    InvalidRequest,
    /// Connection, TLS or timeout failure: no complete response.
    Transport,
    /// A successful response whose body did not decode.
    Decode,
    /// A paginated list misbehaved (a repeated cursor).
    Pagination,
    /// Waiting for a task run ran out of time.
    WaitTimeout,
}

/// A Deck error response: status, headers and the decoded body.
#[derive(Clone, Debug)]
pub struct ApiError {
    status: StatusCode,
    headers: HeaderMap,
    body: ErrorBody,
}

impl ApiError {
    /// Builds an error from its parts (used by the client and by tests of user code).
    pub fn new(status: StatusCode, headers: HeaderMap, body: ErrorBody) -> Self {
        Self {
            status,
            headers,
            body,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The decoded body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }

    /// Deck's `errors[]` (`type`, `code`, `message`, `field`); empty when the body had none.
    pub fn errors(&self) -> &[TaskRunError] {
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
        self.headers
            .get(ATTEMPTS_HEADER)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(1)
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

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Deck API error {}", self.status)?;
        match &self.body {
            ErrorBody::Envelope(e) => {
                for (i, err) in e.errors.iter().enumerate() {
                    let sep = if i == 0 { ": " } else { "; " };
                    write!(f, "{sep}{}/{}: {}", err.type_, err.code, err.message)?;
                    if let Some(field) = &err.field {
                        write!(f, " (field `{field}`)")?;
                    }
                }
            }
            ErrorBody::Validation(v) => {
                write!(f, ": {}", v.title.as_deref().unwrap_or("validation failed"))?;
                let mut fields: Vec<_> = v.errors.iter().collect();
                fields.sort();
                for (field, messages) in fields {
                    write!(f, "; {field}: {}", messages.join(" "))?;
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
            write!(f, " [request_id {id}]")?;
        }
        let attempts = self.attempts();
        if attempts > 1 {
            write!(f, " after {attempts} attempts")?;
        }
        Ok(())
    }
}

/// A successful response whose body did not decode into the expected type. Keeps the bytes.
#[derive(Debug)]
pub struct DecodeError {
    bytes: Bytes,
    source: serde_json::Error,
    path: Option<String>,
}

impl DecodeError {
    /// Wraps a serde error about `bytes`, locating the JSON path of the failure.
    pub fn new(bytes: Bytes, source: serde_json::Error) -> Self {
        let path = json_path_at(&bytes, source.line(), source.column());
        Self {
            bytes,
            source,
            path,
        }
    }

    /// The raw body, exactly as received.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Where the failure is, e.g. `data[3].runtime_ms` (`$` for the top level).
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The serde error.
    pub fn serde_error(&self) -> &serde_json::Error {
        &self.source
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not decode Deck's response")?;
        if let Some(path) = &self.path {
            write!(f, " at `{path}`")?;
        }
        write!(f, ": {} ({} bytes kept)", self.source, self.bytes.len())
    }
}

/// The one error type of the `deck` crate.
///
/// Every generated `send()` returns progenitor's error; `?` converts it into this one, and so
/// does `deck::Error::from(e)`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Deck answered with an error status.
    Api(Box<ApiError>),
    /// The request was refused before it was sent (a missing parameter, an invalid value, an
    /// idempotency key over 256 characters).
    InvalidRequest(String),
    /// No complete response: connection refused or reset, timeout, TLS failure, a body cut off.
    Transport(reqwest::Error),
    /// A successful response that did not decode into the expected type.
    Decode(Box<DecodeError>),
    /// A status the spec does not declare (e.g. a 3xx that was not followed).
    UnexpectedStatus {
        /// The status.
        status: StatusCode,
        /// The response headers.
        headers: HeaderMap,
    },
    /// A paginated list repeated a cursor; the stream stopped instead of looping.
    Pagination(String),
    /// [`crate::Client::wait_for_task_run`] ran out of time.
    WaitTimeout {
        /// The run being waited for.
        run_id: String,
        /// The last status seen.
        last_status: String,
        /// How long it waited.
        waited: std::time::Duration,
    },
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api(e) => e.kind(),
            Error::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Error::Transport(_) => ErrorKind::Transport,
            Error::Decode(_) => ErrorKind::Decode,
            Error::UnexpectedStatus { .. } => ErrorKind::OtherStatus,
            Error::Pagination(_) => ErrorKind::Pagination,
            Error::WaitTimeout { .. } => ErrorKind::WaitTimeout,
        }
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status()),
            Error::UnexpectedStatus { status, .. } => Some(*status),
            Error::Transport(e) => e.status(),
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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => e.fmt(f),
            Error::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            Error::Transport(e) => {
                write!(f, "transport error: {e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    write!(f, ": {s}")?;
                    source = s.source();
                }
                Ok(())
            }
            Error::Decode(e) => e.fmt(f),
            Error::UnexpectedStatus { status, .. } => {
                write!(f, "unexpected response status {status}")
            }
            Error::Pagination(m) => write!(f, "pagination stopped: {m}"),
            Error::WaitTimeout {
                run_id,
                last_status,
                waited,
            } => write!(
                f,
                "task run {run_id} still `{last_status}` after waiting {:.1}s",
                waited.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport(e) => Some(e),
            Error::Decode(e) => Some(&e.source),
            _ => None,
        }
    }
}

impl From<progenitor_client::Error<ErrorBody>> for Error {
    fn from(e: progenitor_client::Error<ErrorBody>) -> Self {
        use progenitor_client::Error as P;
        match e {
            P::InvalidRequest(m) | P::Custom(m) => Error::InvalidRequest(m),
            P::CommunicationError(e) | P::InvalidUpgrade(e) | P::ResponseBodyError(e) => {
                Error::Transport(e)
            }
            P::ErrorResponse(rv) => {
                let status = rv.status();
                let headers = rv.headers().clone();
                Error::Api(Box::new(ApiError::new(status, headers, rv.into_inner())))
            }
            P::InvalidResponsePayload(bytes, source) => {
                Error::Decode(Box::new(DecodeError::new(bytes, source)))
            }
            P::UnexpectedResponse(response) => Error::UnexpectedStatus {
                status: response.status(),
                headers: response.headers().clone(),
            },
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The JSON path (`data[3].runtime_ms`) of the position serde_json reported, found by scanning
/// the bytes up to it. `None` when the position is outside the input.
fn json_path_at(bytes: &[u8], line: usize, column: usize) -> Option<String> {
    if line == 0 {
        return None;
    }
    let mut offset = 0;
    for _ in 1..line {
        offset += bytes[offset..].iter().position(|b| *b == b'\n')? + 1;
    }
    let end = (offset + column).min(bytes.len());

    enum Frame {
        Object { key: Option<String> },
        Array { index: usize },
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut expecting_key = false;
    let mut i = 0;
    while i < end {
        match bytes[i] {
            b'{' => {
                stack.push(Frame::Object { key: None });
                expecting_key = true;
            }
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
                expecting_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { .. }) => expecting_key = true,
                None => {}
            },
            b':' => expecting_key = false,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if expecting_key && let Some(Frame::Object { key }) = stack.last_mut() {
                    let raw = &bytes[start..i.min(bytes.len())];
                    *key = Some(String::from_utf8_lossy(raw).into_owned());
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::from("$");
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(k) } => {
                path.push('.');
                path.push_str(k);
            }
            Frame::Object { key: None } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of<T: serde::de::DeserializeOwned + fmt::Debug>(json: &str) -> String {
        let err = serde_json::from_str::<T>(json).unwrap_err();
        DecodeError::new(Bytes::from(json.to_string()), err)
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
        let decode = DecodeError::new(Bytes::from(missing), err);
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
}
