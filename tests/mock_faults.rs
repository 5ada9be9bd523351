//! MockDeck's injected faults and rate-limit mode, as a client sees them; and the client's own
//! rate limiter against it.

use deck::mock::{Fault, MockDeck};
use deck::types::RunTaskRequest;
use deck::{ErrorKind, RateLimit, RequestOptions, RetryPolicy};
use futures::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};

fn no_retries(mock: &MockDeck) -> deck::Client {
    mock.client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn fast_retries(mock: &MockDeck) -> deck::Client {
    mock.client_builder()
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(10)))
        .build()
        .unwrap()
}

/// The seeded task that takes `{account_number, statement_month}`.
async fn statements_task(client: &deck::Client) -> deck::types::TaskId {
    client
        .list_tasks()
        .collect_all()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name.contains("statements"))
        .unwrap()
        .id
}

fn statement_input() -> deck::types::builder::RunTaskRequest {
    RunTaskRequest::builder().input(json!({"account_number": "42", "statement_month": "2026-10"}))
}

fn timeout(ms: u64) -> RequestOptions {
    RequestOptions::new().timeout(Duration::from_millis(ms))
}

#[tokio::test]
async fn the_mock_client_retries_as_a_default_client_does() {
    let mock = MockDeck::builder()
        .fault(Fault::Status(503).times(1))
        .start()
        .await;
    let ok = mock.client().test_api_key().send().await.unwrap();
    assert_eq!(ok.status, "ready");
    assert_eq!(mock.injected_count(), 1);
    assert_eq!(mock.request_count(), 2, "the 503, then the retry");
}

#[tokio::test]
async fn each_fault_as_the_client_sees_it() {
    let mock = MockDeck::start().await;
    let client = no_retries(&mock);

    for (status, kind, code) in [
        (503, ErrorKind::Server, "api_error"),
        (500, ErrorKind::Server, "api_error"),
        (429, ErrorKind::RateLimited, "rate_limit_exceeded"),
        (418, ErrorKind::OtherStatus, "injected_fault"),
    ] {
        mock.inject(Fault::Status(status).times(1));
        let err = client.test_api_key().send().await.unwrap_err();
        assert_eq!((err.kind(), err.code()), (kind, Some(code)), "{err}");
        assert!(err.request_id().unwrap().starts_with("req_"), "{err}");
    }

    // A status refuses the write; a disconnect loses the answer of a write that happened.
    let task = statements_task(&client).await;
    let runs = mock.run_count();
    mock.inject(Fault::Status(503).times(1));
    let err = client
        .run_task()
        .task_id(&task)
        .body(statement_input())
        .send()
        .await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Server);
    assert_eq!(mock.run_count(), runs, "not carried out");
    mock.inject(Fault::Disconnect.times(1));
    let err = client
        .run_task()
        .task_id(&task)
        .body(statement_input())
        .send()
        .await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Transport);
    assert_eq!(mock.run_count(), runs + 1, "carried out, the answer lost");

    mock.inject(Fault::DisconnectMidBody.times(1));
    let err = client.list_task_runs().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");

    // A slow body arrives whole, unless the attempt's time runs out first.
    mock.inject(Fault::SlowBody(Duration::from_millis(1)).times(1));
    assert_eq!(client.test_api_key().send().await.unwrap().status, "ready");
    mock.inject(Fault::SlowBody(Duration::from_millis(100)).times(1));
    let err = client
        .test_api_key()
        .with_options(timeout(300))
        .send()
        .await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Timeout);

    let started = Instant::now();
    mock.inject(Fault::Delay(Duration::from_millis(100)).times(1));
    client.test_api_key().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(100));
    mock.inject(Fault::Delay(Duration::from_secs(30)).times(1));
    let err = client
        .test_api_key()
        .with_options(timeout(200))
        .send()
        .await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(mock.injected_count(), 11);
}

#[tokio::test]
async fn a_lost_answer_is_retried_with_the_same_key_and_replayed() {
    let mock = MockDeck::start().await;
    let client = fast_retries(&mock);
    let task = statements_task(&client).await;
    let runs = mock.run_count();
    mock.inject(Fault::Disconnect.on("POST /tasks/{task_id}/run").times(1));
    let run = client
        .run_task()
        .task_id(&task)
        .body(statement_input())
        .send()
        .await
        .unwrap();
    assert_eq!(mock.run_count(), runs + 1, "one run, not two");
    assert_eq!(mock.run_status(&run.id).as_deref(), Some("queued"));
    assert_eq!(mock.injected_count(), 1);
}

#[tokio::test]
async fn faults_select_by_route_count_and_fraction() {
    let mock = MockDeck::builder()
        .fault(Fault::Status(502).on("GET /task-runs/{run_id}"))
        .start()
        .await;
    let client = no_retries(&mock);
    let run_id = client.list_task_runs().limit(1).send().await.unwrap().data[0]
        .id
        .clone();
    for _ in 0..3 {
        let err = client
            .get_task_run()
            .run_id(&run_id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
    }
    // Other routes, and the same path with another method, are untouched.
    client.test_api_key().send().await.unwrap();
    assert_eq!(mock.injected_count(), 3);
    mock.clear_faults();
    client.get_task_run().run_id(&run_id).send().await.unwrap();

    mock.inject(Fault::Status(503).fraction(0.5));
    let mut failed = 0;
    for _ in 0..200 {
        failed += usize::from(client.test_api_key().send().await.is_err());
    }
    assert!((60..=140).contains(&failed), "{failed} of 200");
    mock.clear_faults();
    assert_eq!(mock.injected_count(), 3 + failed as u64);
}

#[tokio::test]
async fn the_rate_limit_mode_answers_decks_429_without_a_retry_after() {
    let mock = MockDeck::builder()
        .rate_limit(RateLimit::new(3, Duration::from_secs(60)).unwrap())
        .start()
        .await;
    let client = no_retries(&mock);
    for _ in 0..3 {
        client.test_api_key().send().await.unwrap();
    }
    let err = client.test_api_key().send().await.unwrap_err();
    let api = err.api_error().unwrap();
    assert_eq!(api.status(), 429);
    assert_eq!(api.error_type(), Some("rate_limit"));
    assert_eq!(api.code(), Some("rate_limit_exceeded"));
    assert_eq!(api.message(), Some("Too many requests."));
    // Deck documents no Retry-After; MockDeck sends none either.
    assert!(api.headers().get("retry-after").is_none(), "{api:?}");
    assert_eq!(mock.rate_limited_count(), 1);
    mock.set_rate_limit(None);
    client.test_api_key().send().await.unwrap();
}

#[tokio::test]
async fn a_retrying_client_waits_out_the_rate_limit() {
    let mock = MockDeck::builder()
        .rate_limit(RateLimit::new(2, Duration::from_secs(1)).unwrap())
        .start()
        .await;
    // No hint from the server: the client's own backoff (many short retries) outlasts the
    // 1 s window.
    let client = mock
        .client_builder()
        .retry(
            RetryPolicy::default()
                .max_attempts(100)
                .initial_backoff(Duration::from_millis(100))
                .max_backoff(Duration::from_millis(100)),
        )
        .build()
        .unwrap();
    for _ in 0..3 {
        client.test_api_key().send().await.unwrap();
    }
    assert!(mock.rate_limited_count() >= 1);
}

/// 1,000 `run_task` calls at once through a client limited as the mock is: none meets a 429.
/// The same burst of 200 as [`RateLimit::DECK`] over a 0.5 s period instead of 10 s, so it takes
/// 2 s instead of 40 s; `deck_pace_full_size` below is the real thing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_through_the_clients_limiter_meets_no_429() {
    let limit = RateLimit::new(200, Duration::from_millis(500)).unwrap();
    fan_out(limit, 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "40 s: 1,000 calls at Deck's own pace; run with --ignored"]
async fn deck_pace_full_size() {
    fan_out(RateLimit::DECK, 1000).await;
}

async fn fan_out(limit: RateLimit, calls: usize) {
    let mock = MockDeck::start().await;
    let client = mock
        .client_builder()
        .rate_limit(limit)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let task = statements_task(&client).await;
    mock.set_rate_limit(Some(limit));
    let started = Instant::now();
    let results: Vec<Result<(), deck::Error>> = futures::stream::iter(0..calls)
        .map(|_| {
            let (client, task) = (client.clone(), task.clone());
            async move {
                client
                    .run_task()
                    .task_id(&task)
                    .body(statement_input())
                    .send()
                    .await
                    .map(drop)
            }
        })
        .buffer_unordered(calls)
        .collect()
        .await;
    let took = started.elapsed();
    println!(
        "{calls} calls at {limit:?}: {took:?}, {} rate-limited",
        mock.rate_limited_count()
    );
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(mock.rate_limited_count(), 0);
    let windows = (calls as u32).div_ceil(limit.requests()) - 1;
    assert!(took >= limit.period() * windows, "{took:?}");
}

#[tokio::test]
async fn stopping_the_mock_cuts_slow_bodies_and_delays_short() {
    for fault in [
        Fault::SlowBody(Duration::from_secs(10)),
        Fault::Delay(Duration::from_secs(600)),
    ] {
        let mock = MockDeck::builder().fault(fault).start().await;
        let client = no_retries(&mock);
        let call = tokio::spawn(async move { client.test_api_key().send().await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        tokio::time::timeout(Duration::from_secs(5), mock.shutdown())
            .await
            .expect("the mock stopped");
        assert!(started.elapsed() < Duration::from_secs(5));
        let err = call.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    }
}

/// What reaches the socket: nothing for a disconnect; the head and half the body for a cut.
#[tokio::test]
async fn disconnects_happen_before_the_head_or_mid_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mock = MockDeck::start().await;
    for (fault, expect_head) in [(Fault::Disconnect, false), (Fault::DisconnectMidBody, true)] {
        mock.inject(fault.times(1));
        let mut socket = tokio::net::TcpStream::connect(mock.addr()).await.unwrap();
        socket
            .write_all(b"GET /v2/test HTTP/1.1\r\nhost: mock\r\nauthorization: Bearer k\r\n\r\n")
            .await
            .unwrap();
        let mut received = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut received))
            .await
            .expect("the mock closed the connection")
            .unwrap();
        let text = String::from_utf8_lossy(&received);
        if !expect_head {
            assert!(received.is_empty(), "{text}");
            continue;
        }
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(body.len(), length / 2, "{text}");
    }
}
