//! The HTTP side: axum's `Router` with one route per operation, and what every request goes
//! through before a handler sees it — path canonicalization, request ids, authentication, the
//! body-size limit — plus the shared extractors ([`Query`], [`Write`]) and `Idempotency-Key`
//! replay.

use super::body::JsonBody;
use super::faults::Fault;
use super::reply::{Answer, Reply, envelope, json_type, method_not_allowed, validation};
use super::state::{Remembered, Shared, World, base36, splitmix};
use super::usage::Outcome;
use crate::client::IDEMPOTENCY_KEY_HEADER;
use crate::client::MAX_IDEMPOTENCY_KEY_LEN;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures::StreamExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::Value;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tower::util::MapRequest;

/// Longest request body the mock reads (1 MiB); longer bodies get a 400.
const MAX_BODY: usize = 1 << 20;

/// The service `axum::serve` runs: the router behind path canonicalization.
pub(crate) type App = MapRequest<Router, fn(Request) -> Request>;

/// Deck's routes. Each names the methods it has, for the 405 of the others.
pub(crate) fn app(shared: Arc<Shared>) -> App {
    use super::resources::{
        agents, credentials, event_destinations as destinations, events, sessions, sources,
        storage, task_runs, tasks, test, tokens,
    };
    let router = Router::new()
        .route(
            "/v2/agents",
            allow(get(agents::list).post(agents::create), "GET, POST"),
        )
        .route(
            "/v2/agents/{agent_id}",
            allow(
                get(agents::get)
                    .patch(agents::update)
                    .delete(agents::delete),
                "GET, PATCH, DELETE",
            ),
        )
        .route(
            "/v2/credentials",
            allow(
                get(credentials::list).post(credentials::create),
                "GET, POST",
            ),
        )
        .route(
            "/v2/credentials/{credential_id}",
            allow(
                get(credentials::get)
                    .patch(credentials::update)
                    .delete(credentials::delete),
                "GET, PATCH, DELETE",
            ),
        )
        .route(
            "/v2/event-destinations",
            allow(
                get(destinations::list).post(destinations::create),
                "GET, POST",
            ),
        )
        .route(
            "/v2/event-destinations/{destination_id}",
            allow(
                get(destinations::get)
                    .patch(destinations::update)
                    .delete(destinations::delete),
                "GET, PATCH, DELETE",
            ),
        )
        .route(
            "/v2/event-destinations/{destination_id}/event-deliveries",
            allow(get(destinations::list_deliveries), "GET"),
        )
        .route("/v2/events", allow(get(events::list), "GET"))
        .route("/v2/events/{event_id}", allow(get(events::get), "GET"))
        .route("/v2/event-types", allow(get(events::types), "GET"))
        .route(
            "/v2/sessions",
            allow(get(sessions::list).post(sessions::create), "GET, POST"),
        )
        .route(
            "/v2/sessions/{session_id}",
            allow(get(sessions::get), "GET"),
        )
        .route(
            "/v2/sessions/{session_id}/end",
            allow(post(sessions::end), "POST"),
        )
        .route(
            "/v2/sources",
            allow(get(sources::list).post(sources::create), "GET, POST"),
        )
        .route(
            "/v2/sources/{source_id}",
            allow(
                get(sources::get)
                    .patch(sources::update)
                    .delete(sources::delete),
                "GET, PATCH, DELETE",
            ),
        )
        .route("/v2/storage/{storage_id}", allow(get(storage::get), "GET"))
        .route("/v2/task-runs", allow(get(task_runs::list), "GET"))
        .route("/v2/task-runs/{run_id}", allow(get(task_runs::get), "GET"))
        .route(
            "/v2/task-runs/{run_id}/cancel",
            allow(post(task_runs::cancel), "POST"),
        )
        .route(
            "/v2/task-runs/{run_id}/interaction",
            allow(post(task_runs::submit_interaction), "POST"),
        )
        .route(
            "/v2/task-runs/{run_id}/storage",
            allow(get(task_runs::list_storage), "GET"),
        )
        .route(
            "/v2/tasks",
            allow(get(tasks::list).post(tasks::create), "GET, POST"),
        )
        .route(
            "/v2/tasks/{task_id}",
            allow(
                get(tasks::get).patch(tasks::update).delete(tasks::delete),
                "GET, PATCH, DELETE",
            ),
        )
        .route("/v2/tasks/{task_id}/run", allow(post(tasks::run), "POST"))
        .route(
            "/v2/tasks/{task_id}/reset",
            allow(post(tasks::reset), "POST"),
        )
        .route("/v2/test", allow(get(test::test_api_key), "GET"))
        .route("/v2/token", allow(post(tokens::create), "POST"))
        .fallback(route_not_found)
        // After the routes and the fallback, so it wraps all of them.
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            every_request,
        ))
        .with_state(shared);
    MapRequest::new(router, canonicalize)
}

/// Answers the methods a route lacks with a bodiless 405 and `Allow`, HEAD included: axum
/// would otherwise answer HEAD with the GET handler, and `allowed` would not be the whole truth.
fn allow(methods: MethodRouter<Arc<Shared>>, allowed: &'static str) -> MethodRouter<Arc<Shared>> {
    let refuse = move || async move { method_not_allowed(allowed) };
    methods.head(refuse).fallback(refuse)
}

/// The request id of the current request, set by [`every_request`].
#[derive(Clone)]
pub(crate) struct RequestId(pub(crate) String);

/// The path as the client sent it, before [`canonicalize`].
#[derive(Clone)]
struct RawPath(String);

/// Routes match segment by segment after percent-decoding, and empty segments (`//`, a trailing
/// `/`) are ignored — the way MockDeck has always matched. axum matches the raw path, so the
/// path is rewritten into one spelling first: each segment decoded (invalid UTF-8 lossily, so an
/// odd id still reaches its handler and gets that resource's 404) and re-encoded.
fn canonicalize(mut request: Request) -> Request {
    let raw = request.uri().path().to_string();
    if let Some(path) = canonical_path(&raw).filter(|p| *p != raw) {
        let target = match request.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let mut parts = request.uri().clone().into_parts();
        parts.path_and_query = PathAndQuery::try_from(target).ok();
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request.extensions_mut().insert(RawPath(raw));
    request
}

/// Everything but unreserved characters is encoded, so axum decodes each segment back exactly.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn canonical_path(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix("/v2")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let mut path = String::from("/v2");
    for segment in rest.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        path.extend(utf8_percent_encode(
            &percent_decode_str(segment).decode_utf8_lossy(),
            SEGMENT,
        ));
    }
    Some(path)
}

/// Request id, authentication (401 with an empty body, as from Deck), the rate limit, injected
/// faults and the body limit, for every request, routed or not. The `x-request-id` header goes on
/// every response.
async fn every_request(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = next_request_id(&shared);
    let (mut parts, body) = request.into_parts();
    let key = bearer(&parts.headers).unwrap_or_default().to_string();
    let route = match parts.extensions.get::<axum::extract::MatchedPath>() {
        Some(matched) => format!("{} {}", parts.method, matched.as_str()),
        None => format!("{} (no route)", parts.method),
    };
    let mut fault = None;
    let mut limited = false;
    let mut response = if !authorized(shared.api_key.as_deref(), &parts.headers) {
        Reply::empty(StatusCode::UNAUTHORIZED).into_response()
    } else if shared.faults().admit(tokio::time::Instant::now()).is_err() {
        limited = true;
        rate_limited(&request_id)
    } else {
        fault = shared.faults().pick(&parts.method, parts.uri.path());
        if let Some(Fault::Delay(delay)) = fault {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shared.stopping() => return dropped_response(),
            }
        }
        match fault {
            Some(Fault::Status(status)) => injected_status(status, &request_id),
            _ => match axum::body::to_bytes(body, MAX_BODY).await {
                Ok(bytes) => {
                    parts.extensions.insert(RequestId(request_id.clone()));
                    next.run(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
                Err(_) => validation(
                    "$",
                    format!(
                        "The request body could not be read or is larger than {MAX_BODY} bytes."
                    ),
                    &request_id,
                )
                .into_response(),
            },
        }
    };
    let outcome = match response.status() {
        _ if limited => Outcome::RateLimited,
        // The only other 429 MockDeck answers by itself (an injected 429 counts as answered).
        StatusCode::TOO_MANY_REQUESTS if fault.is_none() => Outcome::SessionLimited,
        _ => Outcome::Answered,
    };
    shared.usage.record(&key, &route, outcome);
    let name = HeaderName::from_static("x-request-id");
    if !response.headers().contains_key(&name)
        && let Ok(value) = HeaderValue::from_str(&request_id)
    {
        response.headers_mut().insert(name, value);
    }
    match fault {
        Some(Fault::Disconnect) => dropped_response(),
        Some(Fault::DisconnectMidBody) => cut_body(response).await,
        Some(Fault::SlowBody(interval)) if !interval.is_zero() => {
            slow_body(response, interval, shared).await
        }
        _ => response,
    }
}

/// Deck's 429 envelope and nothing more: Deck documents no `Retry-After`, so MockDeck sends
/// none (a client tested here must cope without one, as it must against Deck).
fn rate_limited(request_id: &str) -> Response {
    envelope(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit",
        "rate_limit_exceeded",
        "Too many requests.".into(),
        None,
        request_id,
    )
    .into_response()
}

/// The answer of [`Fault::Status`].
fn injected_status(status: u16, request_id: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (kind, code, message) = match status.as_u16() {
        429 => ("rate_limit", "rate_limit_exceeded", "Too many requests."),
        500..=599 => ("api", "api_error", "Platform error."),
        _ => ("request", "injected_fault", "A fault injected by MockDeck."),
    };
    envelope(status, kind, code, message.into(), None, request_id).into_response()
}

/// The body error that makes hyper close the connection.
fn cut() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "connection closed by an injected MockDeck fault",
    )
}

/// A response that never reaches the client: its body fails before a byte is written, and
/// hyper drops the connection with the head still unsent.
fn dropped_response() -> Response {
    let body = futures::stream::once(async { Err::<Bytes, _>(cut()) });
    Response::new(Body::from_stream(body))
}

/// The head with the full `Content-Length` and the first half of the body, then the connection
/// closes.
async fn cut_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if bytes.is_empty() {
        return dropped_response();
    }
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let half = bytes.slice(..bytes.len() / 2);
    // Pending once after the half, so hyper flushes it before the error closes the connection.
    let body = futures::stream::iter([Ok(half)]).chain(futures::stream::once(async {
        tokio::task::yield_now().await;
        Err(cut())
    }));
    Response::from_parts(parts, Body::from_stream(body))
}

/// The head at once, then the body one byte every `interval` (until the mock stops).
async fn slow_body(response: Response, interval: Duration, shared: Arc<Shared>) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let body = futures::stream::unfold((bytes, shared), move |(bytes, shared)| async move {
        if bytes.is_empty() {
            return None;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shared.stopping() => return Some((Err(cut()), (Bytes::new(), shared))),
        }
        let first = bytes.slice(..1);
        Some((Ok(first), (bytes.slice(1..), shared)))
    });
    Response::from_parts(parts, Body::from_stream(body))
}

fn next_request_id(shared: &Shared) -> String {
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    let hi = splitmix(n ^ shared.request_salt);
    let lo = splitmix(hi ^ n);
    format!(
        "req_{}",
        base36((u128::from(hi) << 64) | u128::from(lo), 24)
    )
}

/// `Authorization: Bearer <token>`: any token, or exactly `api_key` when the builder set one.
fn authorized(api_key: Option<&str>, headers: &HeaderMap) -> bool {
    bearer(headers).is_some_and(|token| api_key.is_none_or(|key| token == key))
}

/// The bearer token, if the request has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The 404 for a path no route matches (MockDeck's own code, `route_not_found`).
async fn route_not_found(
    method: Method,
    axum::Extension(RawPath(raw_path)): axum::Extension<RawPath>,
    axum::Extension(RequestId(rid)): axum::Extension<RequestId>,
) -> Reply {
    envelope(
        StatusCode::NOT_FOUND,
        "request",
        "route_not_found",
        format!("No route matches {method} {raw_path}."),
        None,
        &rid,
    )
}

// ---------------------------------------------------------------------------------------------
// Query strings
// ---------------------------------------------------------------------------------------------

/// A query string as ASP.NET binds it: names case-insensitive, arrays as repeated names (also
/// accepted as `name[]`).
pub(crate) struct Query(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Query(
            url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

impl Query {
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| {
                k.eq_ignore_ascii_case(name)
                    || k.strip_suffix("[]")
                        .is_some_and(|k| k.eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first non-empty value.
    pub(crate) fn one(&self, name: &str) -> Option<&str> {
        self.all(name).into_iter().find(|v| !v.is_empty())
    }

    /// A timestamp filter: RFC 3339, or a date and time without offset (UTC), or a date.
    pub(crate) fn time(&self, name: &str, rid: &str) -> Result<Option<DateTime<Utc>>, Reply> {
        let Some(raw) = self.one(name) else {
            return Ok(None);
        };
        parse_time(raw.trim()).map(Some).ok_or_else(|| {
            validation(
                name,
                format!("The value '{raw}' is not valid for {name}."),
                rid,
            )
        })
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

// ---------------------------------------------------------------------------------------------
// Writes and Idempotency-Key
// ---------------------------------------------------------------------------------------------

/// A write request as idempotency replay compares it: method, path as sent, key and body.
pub(crate) struct Write {
    method: Method,
    path: String,
    key: Option<HeaderValue>,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Write {
    type Rejection = Infallible;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let path = match parts.extensions.get::<RawPath>() {
            Some(RawPath(raw)) => raw.clone(),
            None => parts.uri.path().to_string(),
        };
        // `every_request` has already read the body within the limit.
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .unwrap_or_default();
        Ok(Write {
            method: parts.method,
            key: parts.headers.get(IDEMPOTENCY_KEY_HEADER).cloned(),
            path,
            body,
        })
    }
}

impl Write {
    /// Runs `op` on the world with `Idempotency-Key` handling and body parsing: the first
    /// success for a key is replayed for the same request, and the key with another request is
    /// a 409.
    pub(crate) fn apply(
        self,
        shared: &Shared,
        rid: &str,
        op: impl FnOnce(&mut World, JsonBody) -> Answer,
    ) -> Reply {
        let key = match self.key.as_ref().map(HeaderValue::to_str) {
            None => None,
            Some(Ok(k)) if !k.is_empty() && k.chars().count() <= MAX_IDEMPOTENCY_KEY_LEN => {
                Some(k.to_string())
            }
            // Deck documents this one: a key past 256 characters is a 400 of type `idempotency`.
            Some(Ok(k)) if k.chars().count() > MAX_IDEMPOTENCY_KEY_LEN => {
                return envelope(
                    StatusCode::BAD_REQUEST,
                    "idempotency",
                    "idempotency_key_error",
                    format!(
                        "Idempotency key must be at most {MAX_IDEMPOTENCY_KEY_LEN} characters."
                    ),
                    None,
                    rid,
                );
            }
            Some(_) => {
                return validation(
                    "Idempotency-Key",
                    format!(
                        "The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters."
                    ),
                    rid,
                );
            }
        };
        let body = &self.body;
        // The body as compared for replay: JSON by value, anything else by its bytes.
        let parsed: Result<Value, serde_json::Error> = if body.iter().all(u8::is_ascii_whitespace) {
            Ok(Value::Null)
        } else {
            serde_json::from_slice(body)
        };
        let fingerprint = match &parsed {
            Ok(v) => v.clone(),
            Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
        };

        let mut world = shared.lock();
        if let Some(key) = &key
            && let Some(seen) = world.idempotency.get(key)
        {
            if seen.method == self.method && seen.path == self.path && seen.body == fingerprint {
                return Reply {
                    request_id: Some(seen.request_id.clone()),
                    replayed: true,
                    ..Reply::json(seen.status, seen.response.clone())
                };
            }
            return envelope(
                StatusCode::CONFLICT,
                "idempotency",
                "idempotency_error",
                "This Idempotency-Key was already used with a different request; use a new key for a new request.".into(),
                None,
                rid,
            );
        }

        let body = match parsed {
            Ok(Value::Null) => None,
            Ok(Value::Object(map)) => Some(map),
            Ok(other) => {
                return validation(
                    "$",
                    format!(
                        "The JSON value could not be converted to an object (got {}).",
                        json_type(&other)
                    ),
                    rid,
                );
            }
            Err(e) => {
                return validation(
                    "$",
                    format!("The request body is not valid JSON: {e}."),
                    rid,
                );
            }
        };
        let reply = op(&mut world, body).unwrap_or_else(|e| e);
        // Only successes are remembered: a failed write may be retried with the same key.
        if let (Some(key), Some(response)) = (key, &reply.body)
            && reply.status.is_success()
        {
            world.idempotency.insert(
                key,
                Remembered {
                    method: self.method,
                    path: self.path,
                    body: fingerprint,
                    status: reply.status,
                    response: response.clone(),
                    request_id: rid.to_string(),
                },
            );
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id a handler sees for the last segment of `raw`.
    fn id(raw: &str) -> String {
        let path = canonical_path(raw).unwrap();
        let last = path.rsplit('/').next().unwrap();
        percent_decode_str(last).decode_utf8().unwrap().into_owned()
    }

    #[test]
    fn percent_decoding_never_panics() {
        assert_eq!(id("/v2/task-runs/trun_%41"), "trun_A");
        assert_eq!(id("/v2/task-runs/%"), "%");
        assert_eq!(id("/v2/task-runs/%4"), "%4");
        assert_eq!(id("/v2/task-runs/%zz"), "%zz");
        assert_eq!(id("/v2/task-runs/%e2%82%ac"), "€");
        assert_eq!(id("/v2/task-runs/%ff%fe%"), "\u{fffd}\u{fffd}%");
        assert_eq!(id("/v2/task-runs/a%2Fb%20c"), "a/b c");
    }

    #[test]
    fn paths_have_one_spelling() {
        let canonical = |raw| canonical_path(raw).unwrap();
        assert_eq!(canonical("/v2//task-runs/"), "/v2/task-runs");
        assert_eq!(canonical("/v2/task%2Druns/trun_1"), "/v2/task-runs/trun_1");
        assert_eq!(canonical("/v2"), "/v2");
        assert_eq!(canonical_path("/v2x/tasks"), None);
        assert_eq!(canonical_path("/tasks"), None);
    }
}
