//! Every error status maps to the right typed error, with `request_id`; malformed success bodies
//! give a decode error that keeps the bytes and names the field.

mod common;

use common::*;
use deck::ErrorKind;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn get_task_error(template: ResponseTemplate) -> deck::Error {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tasks/task_x"))
        .respond_with(template)
        .mount(&server)
        .await;
    client(&server.uri())
        .get_task()
        .task_id("task_x")
        .send()
        .await
        .expect_err("an error status")
}

#[tokio::test]
async fn validation_400_exposes_the_field_map() {
    let body = json!({
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {"limit": ["The value '500' is not valid."], "cursor": ["Malformed."]},
        "traceId": "00-abc-01"
    });
    let err = get_task_error(
        ResponseTemplate::new(400)
            .set_body_json(body)
            .insert_header("x-request-id", "req_400"),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert_eq!(err.status().unwrap(), 400);
    let api = err.api_error().unwrap();
    let map = api.validation_errors().expect("validation map");
    assert_eq!(
        map["limit"],
        vec!["The value '500' is not valid.".to_string()]
    );
    assert_eq!(
        err.request_id(),
        Some("req_400"),
        "Deck's request id before ASP.NET's traceId"
    );
    let text = err.to_string();
    assert!(
        text.contains("400") && text.contains("limit: The value '500' is not valid."),
        "{text}"
    );
}

#[tokio::test]
async fn validation_400_without_header_falls_back_to_trace_id() {
    let body =
        json!({"title": "Invalid.", "errors": {"limit": ["Too big."]}, "traceId": "00-abc-01"});
    let err = get_task_error(ResponseTemplate::new(400).set_body_json(body)).await;
    assert_eq!(err.request_id(), Some("00-abc-01"));
}

#[tokio::test]
async fn send_returns_deck_error_in_any_error_context() {
    async fn boxed(client: &deck::Client) -> Result<String, Box<dyn std::error::Error>> {
        Ok(client
            .get_task()
            .task_id("task_x")
            .send()
            .await?
            .into_inner()
            .name)
    }
    let server = not_found_server("req_box").await;
    let err = boxed(&client(&server.uri())).await.unwrap_err();
    let deck_err = err
        .downcast_ref::<deck::Error>()
        .expect("a deck::Error inside the box");
    assert_eq!(deck_err.request_id(), Some("req_box"));
    assert!(err.to_string().contains("req_box"), "{err}");
}

#[tokio::test]
async fn empty_401_and_403_are_clear_not_decode_errors() {
    for (status, kind, words) in [
        (401, ErrorKind::Unauthorized, "unauthorized"),
        (403, ErrorKind::Forbidden, "forbidden"),
    ] {
        let err =
            get_task_error(ResponseTemplate::new(status).insert_header("x-request-id", "req_h"))
                .await;
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.status().unwrap(), status);
        assert_eq!(err.api_error().unwrap().body(), &deck::ErrorBody::Empty);
        assert_eq!(err.request_id(), Some("req_h"), "header fallback");
        assert!(err.to_string().contains(words), "{err}");
    }
}

#[tokio::test]
async fn envelope_errors_map_to_kinds_with_request_id() {
    for (status, kind, code) in [
        (404, ErrorKind::NotFound, "task_not_found"),
        (409, ErrorKind::Conflict, "idempotency_error"),
        (422, ErrorKind::Unprocessable, "input_invalid"),
        (500, ErrorKind::Server, "api_error"),
        (429, ErrorKind::RateLimited, "rate_limit_exceeded"),
    ] {
        let req_id = format!("req_{status}");
        let err = get_task_error(
            ResponseTemplate::new(status)
                .set_body_json(envelope("request", code, "Nope.", &req_id)),
        )
        .await;
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.code(), Some(code));
        assert_eq!(err.request_id(), Some(req_id.as_str()));
        let api = err.api_error().unwrap();
        assert_eq!(api.errors()[0].message, "Nope.");
        assert_eq!(api.error_type(), Some("request"));
        let text = err.to_string();
        assert!(
            text.contains(&status.to_string()) && text.contains(code) && text.contains("Nope."),
            "{text}"
        );
        assert!(text.contains(&req_id), "{text}");
    }
}

#[tokio::test]
async fn html_error_page_keeps_status_and_text() {
    let err = get_task_error(
        ResponseTemplate::new(502)
            .set_body_raw("<html><body>Bad gateway</body></html>", "text/html"),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("Bad gateway"), "{err}");
}

#[tokio::test]
async fn malformed_success_body_is_a_decode_error_with_bytes_and_field() {
    let mut bad = task("task_x");
    bad["created_at"] = json!(12);
    let err = get_task_error(ResponseTemplate::new(200).set_body_json(bad.clone())).await;
    assert_eq!(err.kind(), ErrorKind::Decode);
    let deck::Error::Decode(decode) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(decode.path(), Some("$.created_at"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(decode.bytes()).unwrap(),
        bad
    );
    assert!(err.to_string().contains("created_at"), "{err}");

    let err =
        get_task_error(ResponseTemplate::new(200).set_body_raw("{\"id\": ", "application/json"))
            .await;
    assert_eq!(err.kind(), ErrorKind::Decode);

    let err = get_task_error(ResponseTemplate::new(200)).await;
    assert_eq!(err.kind(), ErrorKind::Decode, "an empty 200 body");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client(&format!("http://{addr}"))
        .test_api_key()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.status().is_none());
}

#[tokio::test]
async fn question_mark_converts_into_deck_error() {
    async fn call(client: &deck::Client) -> deck::Result<String> {
        Ok(client
            .get_task()
            .task_id("task_x")
            .send()
            .await?
            .into_inner()
            .name)
    }
    let server = not_found_server("r1").await;
    let err = call(&client(&server.uri())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// A server answering every GET with a 404 envelope carrying `request_id`.
async fn not_found_server(request_id: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(envelope(
            "request",
            "task_not_found",
            "No.",
            request_id,
        )))
        .mount(&server)
        .await;
    server
}

/// `ApiError` is a `std::error::Error`, and `Error::source()` reaches it (error reporters that
/// walk the chain see Deck's answer).
#[tokio::test]
async fn the_api_error_is_the_source_of_the_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tasks/task_x"))
        .respond_with(ResponseTemplate::new(404).set_body_json(envelope(
            "request",
            "task_not_found",
            "No such task.",
            "req_1",
        )))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .get_task()
        .task_id("task_x")
        .send()
        .await
        .unwrap_err();
    let source = std::error::Error::source(&err).expect("a source");
    let api = source
        .downcast_ref::<deck::ApiError>()
        .expect("the source is the ApiError");
    assert_eq!(api.code(), Some("task_not_found"));
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(api.clone());
    assert!(boxed.to_string().contains("task_not_found"));
}

/// A builder is `Clone`: one configuration, several clients (e.g. per tenant key).
#[test]
fn client_builders_clone() {
    let base = deck::Client::builder()
        .base_url("http://127.0.0.1:9/v2")
        .retry(deck::RetryPolicy::none());
    let a = base.clone().api_key("sk_live_a").build().unwrap();
    let b = base.api_key("sk_live_b").build().unwrap();
    assert_eq!(a.base_url(), b.base_url());
}

/// `progenitor-client` is not pinned with `=`: no type of it is in the public API
/// (`deck::ResponseValue` is the crate's own), so a caret requirement lets a graph that needs
/// a newer 0.15.x resolve.
#[test]
fn progenitor_client_is_a_caret_requirement() {
    let manifest = include_str!("../Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.starts_with("progenitor-client"))
        .expect("the dependency");
    assert!(!line.contains("\"="), "{line}");
    // Our own type: `deck::ResponseValue` builds from parts and derefs to its value.
    let value = deck::ResponseValue::new(3u8, reqwest::StatusCode::OK, Default::default());
    assert_eq!(*value, 3);
}

/// The library compiles no tokio macros for its users: only the `mock` feature (MockDeck's
/// server) asks for them; the tracker, feed, batches and rate limiter race futures with
/// `futures::future::select`.
#[test]
fn tokio_macros_only_with_the_mock() {
    let manifest = include_str!("../Cargo.toml");
    let dependencies = manifest
        .split("\n[dependencies]\n")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("the [dependencies] table");
    let tokio = dependencies
        .lines()
        .find(|l| l.starts_with("tokio "))
        .expect("the tokio dependency");
    assert!(!tokio.contains("macros"), "{tokio}");
    let mock = manifest
        .lines()
        .find(|l| l.starts_with("mock = "))
        .expect("the mock feature");
    assert!(mock.contains("tokio/macros"), "{mock}");
}
