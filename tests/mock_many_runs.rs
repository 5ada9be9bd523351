//! MockDeck for many runs: runs that take time, the session cap, per-key request counts, event
//! snapshots with `""` for empty fields, and the documented over-long idempotency key error.

use deck::RetryPolicy;
use deck::mock::MockDeck;
use deck::types::RunStatus;
use serde_json::{Value, json};
use std::time::Duration;

fn input() -> Value {
    json!({"account_number": "1", "statement_month": "2026-10", "mfa": false})
}

/// A plain reqwest client, to send what the SDK would refuse. The library installs no process-wide
/// TLS provider, so this test binary does.
fn raw_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn raw_get(mock: &MockDeck, path: &str) -> Value {
    raw_http()
        .get(format!("{}{path}", mock.base_url()))
        .bearer_auth(mock.api_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn timed_runs_finish_on_their_own_and_sessions_are_capped() {
    let mock = MockDeck::builder()
        .run_duration(Duration::from_secs(30)..=Duration::from_secs(60))
        .time_scale(1_000.0)
        .session_limit(2)
        .start()
        .await;
    let client = mock
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let task = mock.task_ids()[0].clone();
    let a = client
        .run_task()
        .task_id(&task)
        .input(&input())
        .send()
        .await
        .unwrap();
    let _b = client
        .run_task()
        .task_id(&task)
        .input(&input())
        .send()
        .await
        .unwrap();
    let err = client
        .run_task()
        .task_id(&task)
        .input(&input())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.code(), Some("session_limit_exceeded"));
    assert_eq!(mock.usage_of(mock.api_key()).session_limited, 1);
    // Nobody polls: the run finishes by itself, on the clock.
    loop {
        if mock.run_status(&a.id).as_deref() == Some("completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let run = client.get_task_run().run_id(&a.id).send().await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    let runtime = run.runtime_ms.unwrap();
    assert!((30_000..=60_100).contains(&runtime), "{runtime}");
    // A slot is free again.
    client
        .run_task()
        .task_id(&task)
        .input(&input())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn event_snapshots_send_empty_fields_as_empty_strings() {
    let mock = MockDeck::start().await;
    let client = mock.client();
    let task = mock.task_ids()[0].clone();
    client
        .run_task()
        .task_id(&task)
        .input(&input())
        .send()
        .await
        .unwrap();
    let page = raw_get(&mock, "/events?type=task_run.queued").await;
    let data = &page["data"][0]["data"];
    assert_eq!(data["result"], json!(""), "{data}");
    assert_eq!(data["workflow_id"], json!(""), "{data}");
    assert_eq!(data["runtime_ms"], json!(""), "{data}");
    assert_eq!(data["status"], json!("queued"));
    // The typed event reads "" as absent.
    let events = client.list_events().send().await.unwrap();
    let deck::types::EventData::TaskRun(run) = &events.data[0].data else {
        panic!("a task_run event")
    };
    assert_eq!(run.result, None);
}

#[tokio::test]
async fn events_filter_by_type_and_creation_time() {
    let mock = MockDeck::start().await;
    let client = mock.client();
    let task = mock.task_ids()[0].clone();
    let first = client
        .run_task()
        .task_id(&task)
        .input(&input())
        .send()
        .await
        .unwrap();
    client
        .run_task()
        .task_id(&task)
        .input(&input())
        .send()
        .await
        .unwrap();
    let after = first.created_at;
    let page = client
        .list_events()
        .type_(vec![deck::types::EventType::TaskRunQueued])
        .created_after(after)
        .send()
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1);
    assert!(page.data[0].created_at > after);
}

#[tokio::test]
async fn an_over_long_idempotency_key_gets_deck_s_envelope() {
    let mock = MockDeck::start().await;
    let response = raw_http()
        .post(format!(
            "{}/tasks/{}/run",
            mock.base_url(),
            mock.task_ids()[0]
        ))
        .bearer_auth(mock.api_key())
        .header("idempotency-key", "k".repeat(257))
        .json(&json!({"input": input()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["type"], "idempotency");
    assert_eq!(body["errors"][0]["code"], "idempotency_key_error");
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
}

#[tokio::test]
async fn usage_is_counted_per_api_key() {
    let mock = MockDeck::start().await;
    let a = mock.client_builder().api_key("sk_test_a").build().unwrap();
    let b = mock.client_builder().api_key("sk_test_b").build().unwrap();
    a.test_api_key().send().await.unwrap();
    b.list_task_runs().limit(1).send().await.unwrap();
    b.list_task_runs().limit(1).send().await.unwrap();
    assert_eq!(mock.usage_of("sk_test_a").requests, 1);
    assert_eq!(mock.usage_of("sk_test_b").by_route["GET /v2/task-runs"], 2);
    assert_eq!(mock.usage().requests, 3);
}
