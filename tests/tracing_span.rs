//! One `tracing` span per call, with operation, method, status, attempts, duration and request
//! id (and OpenTelemetry's `http.request.method`, `url.path`, `http.response.status_code`,
//! `server.address`); bodies only at TRACE. Its own test binary: tracing caches callsite
//! interest process-wide, so a thread-local subscriber must not race with other tests hitting
//! the same callsites.

mod common;

use common::*;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn one_span_per_call_with_operation_status_attempts_and_request_id() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("secret-ish body"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "req_span_1")
                .set_body_json(serde_json::json!({"status": "ready", "request_id": "req_span_1"})),
        )
        .mount(&server)
        .await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.uri()))
        .retry(deck::RetryPolicy::default().initial_backoff(Duration::from_millis(5)))
        .build()
        .unwrap();
    client.test_api_key().send().await.unwrap();

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let close = log
        .lines()
        .find(|l| l.contains("close"))
        .expect("span closed");
    for field in [
        "deck.request",
        "operation=\"test_api_key\"",
        "method=GET",
        "path=\"/v2/test\"",
        "status=200",
        "attempts=2",
        "request_id=\"req_span_1\"",
        "duration_ms=",
        // OpenTelemetry's HTTP client conventions, beside today's names.
        "http.request.method=GET",
        "url.path=\"/v2/test\"",
        "http.response.status_code=200",
        "server.address=\"127.0.0.1\"",
    ] {
        assert!(close.contains(field), "missing {field} in {close}");
    }
    assert_eq!(
        log.lines().filter(|l| l.contains("close")).count(),
        1,
        "one span per call: {log}"
    );
    assert!(log.contains("retrying"), "{log}");
    assert!(
        !log.contains("secret-ish body"),
        "bodies only at trace level: {log}"
    );
    assert!(!log.contains(KEY));
}
