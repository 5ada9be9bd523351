//! The API key never appears in `Debug`, `Display`, errors or logs.

mod common;

use common::*;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn the_key_appears_in_no_debug_display_error_or_log() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let builder = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.uri()));
    let builder_debug = format!("{builder:?}");
    let client = builder
        .retry(deck::RetryPolicy::default().max_attempts(2))
        .build()
        .unwrap();

    let mut rendered = vec![
        builder_debug,
        format!("{client:?}"),
        format!("{:?}", client.retry_policy()),
    ];
    let failures = [
        client.get_task().task_id("t").send().await.unwrap_err(),
        client.run_task().task_id("t").send().await.unwrap_err(),
        client.test_api_key().send().await.unwrap_err(),
        client
            .cancel_task_run()
            .run_id("r")
            .send()
            .await
            .unwrap_err(),
        common::client("http://127.0.0.1:9")
            .test_api_key()
            .send()
            .await
            .unwrap_err(),
        deck::Client::builder()
            .api_key(KEY)
            .base_url("ftp://x")
            .build()
            .unwrap_err(),
        deck::Client::builder()
            .api_key(KEY)
            .base_url("http://example.com")
            .build()
            .unwrap_err(),
    ];
    for e in &failures {
        rendered.push(format!("{e}"));
        rendered.push(format!("{e:?}"));
        rendered.push(format!("{e:#}"));
    }
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("deck.request"), "spans were captured: {log}");
    rendered.push(log);
    for text in &rendered {
        assert!(!text.contains(KEY), "key leaked in: {text}");
        assert!(!text.contains("TEST_SECRET"), "key leaked in: {text}");
    }
    assert!(
        rendered[1].contains("redacted") || !rendered[1].contains("Bearer"),
        "{}",
        rendered[1]
    );
}
