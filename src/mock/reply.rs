//! What handlers answer: JSON bodies, Deck's error envelope and the ASP.NET validation map of a
//! 400. The `x-request-id` header is added by the middleware in [`routes`](super::routes), so a
//! reply only names a request id when it is not the current one (an idempotent replay).

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// A handler's answer, `Err` for an error reply, so checks can use `?`.
pub(crate) type Answer = Result<Reply, Reply>;

/// What a handler answers, before the request-id header.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Option<Value>,
    /// The request id to send instead of the current one (a replay sends the original one).
    pub(crate) request_id: Option<String>,
    pub(crate) replayed: bool,
    pub(crate) allow: Option<&'static str>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            request_id: None,
            replayed: false,
            allow: None,
        }
    }

    pub(crate) fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            body: None,
            request_id: None,
            replayed: false,
            allow: None,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = match &self.body {
            Some(body) => {
                let mut r = Response::new(Body::from(body.to_string()));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                );
                r
            }
            None => Response::new(Body::empty()),
        };
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Some(v) = self
            .request_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            headers.insert(HeaderName::from_static("x-request-id"), v);
        }
        if self.replayed {
            headers.insert(
                HeaderName::from_static("idempotent-replayed"),
                HeaderValue::from_static("true"),
            );
        }
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

/// The fields of a JSON object built with `json!`.
pub(crate) fn into_fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A single resource: its fields and the request id.
pub(crate) fn object(status: StatusCode, mut fields: Map<String, Value>, rid: &str) -> Reply {
    fields.insert("request_id".into(), json!(rid));
    Reply::json(status, Value::Object(fields))
}

/// Deck's delete confirmation.
pub(crate) fn deleted(id: &str, object: &str, rid: &str) -> Reply {
    Reply::json(
        StatusCode::OK,
        json!({"id": id, "object": object, "deleted": true, "request_id": rid}),
    )
}

/// Deck's error envelope, `{"errors":[{type, code, message, field}], "request_id"}`.
pub(crate) fn envelope(
    status: StatusCode,
    kind: &str,
    code: &str,
    message: String,
    field: Option<&str>,
    rid: &str,
) -> Reply {
    Reply::json(
        status,
        json!({
            "errors": [{"type": kind, "code": code, "message": message, "field": field}],
            "request_id": rid,
        }),
    )
}

/// A 404 envelope for an unknown id, e.g. `task_run_not_found` / "task run".
pub(crate) fn not_found(code: &str, noun: &str, id: &str, rid: &str) -> Reply {
    envelope(
        StatusCode::NOT_FOUND,
        "request",
        code,
        format!("No {noun} with id '{id}' exists."),
        None,
        rid,
    )
}

/// A 422 for a value the request may not hold (MockDeck's own code, `invalid_input`).
pub(crate) fn invalid(field: &str, message: String, rid: &str) -> Reply {
    envelope(
        StatusCode::UNPROCESSABLE_ENTITY,
        "request",
        "invalid_input",
        message,
        Some(field),
        rid,
    )
}

/// A 409 for a request the resource's state refuses, with one of MockDeck's own codes.
pub(crate) fn conflict(code: &str, message: String, rid: &str) -> Reply {
    envelope(StatusCode::CONFLICT, "request", code, message, None, rid)
}

/// A 400 as ASP.NET model validation writes it: not Deck's envelope but a problem-details map of
/// field → messages, with the request id as `traceId`.
pub(crate) fn validation(field: &str, message: String, rid: &str) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": {field: [message]},
            "traceId": rid,
        }),
    )
}

/// A bodiless 405 naming the methods the route has.
pub(crate) fn method_not_allowed(allow: &'static str) -> Reply {
    Reply {
        allow: Some(allow),
        ..Reply::empty(StatusCode::METHOD_NOT_ALLOWED)
    }
}

/// How a JSON value is named in validation messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
