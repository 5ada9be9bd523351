//! Hooks (`deck::hooks`): before and after every attempt, per client and per call; headers a
//! hook adds reach the server; retries are seen one by one; secrets are never visible.

mod common;

use deck::ErrorKind;
use deck::mock::{Fault, MockDeck};
use deck::{RequestOptions, RetryPolicy};
use reqwest::StatusCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
}

/// MockDeck accepts one key only; a client holding a stale key gets through when a hook sets
/// the fresh token on each attempt (a token renewed per attempt): the hook's header reaches the
/// server, and replaces the API key's.
#[tokio::test]
async fn a_header_set_by_a_hook_reaches_the_server() {
    let mock = MockDeck::builder()
        .api_key("sk_mock_fresh_token")
        .start()
        .await;
    let stale = || {
        deck::Client::builder()
            .api_key("sk_mock_stale_token")
            .base_url(mock.base_url())
    };
    let refused = stale().build().unwrap().list_tasks().send().await;
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::Unauthorized);

    // Per client.
    let client = stale()
        .before_attempt(|r| r.insert_header("authorization", "Bearer sk_mock_fresh_token"))
        .build()
        .unwrap();
    client.list_tasks().send().await.unwrap();

    // Per call, on an otherwise refused client.
    let client = stale().build().unwrap();
    let options = RequestOptions::new()
        .before_attempt(|r| r.insert_header("authorization", "Bearer sk_mock_fresh_token"));
    client
        .list_tasks()
        .with_options(options)
        .send()
        .await
        .unwrap();
}

/// Any header: the client's hooks run first, then the call's, on every attempt, each attempt
/// starting from the request as built.
#[tokio::test]
async fn client_hooks_run_before_call_hooks_on_every_attempt() {
    use wiremock::matchers::{header, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-tenant", "acme"))
        .and(header("x-order", "client+call"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"status": "ready", "request_id": "req_1"})),
        )
        .mount(&server)
        .await;
    let client = deck::Client::builder()
        .api_key(common::KEY)
        .base_url(format!("{}/v2", server.uri()))
        .retry(quick_retries())
        .before_attempt(|r| {
            // A header a previous attempt's hooks set is gone again.
            assert!(r.header("x-order").is_none(), "{r:?}");
            r.insert_header("x-tenant", "acme");
            r.insert_header("x-order", "client");
        })
        .build()
        .unwrap();
    let seen = log();
    let call_log = seen.clone();
    let options = RequestOptions::new().before_attempt(move |r| {
        let before = r.header("x-order").unwrap().to_str().unwrap().to_owned();
        call_log
            .lock()
            .unwrap()
            .push(format!("{} {} {before}", r.operation(), r.attempt()));
        r.insert_header("x-order", format!("{before}+call").as_str());
    });
    client
        .test_api_key()
        .with_options(options)
        .send()
        .await
        .unwrap();
    assert_eq!(
        lines(&seen),
        ["test_api_key 1 client", "test_api_key 2 client"]
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_eq!(request.headers.get("x-tenant").unwrap(), "acme");
        assert_eq!(request.headers.get("x-order").unwrap(), "client+call");
    }
}

/// After-attempt hooks see each attempt of a retried call, numbered, with status, error kind
/// and Deck's request id; the client's first, then the call's.
#[tokio::test]
async fn after_attempt_hooks_see_each_retry() {
    let mock = MockDeck::builder()
        .fault(Fault::Status(503).times(2))
        .start()
        .await;
    let seen = log();
    let client_log = seen.clone();
    let client = mock
        .client_builder()
        .retry(quick_retries())
        .after_attempt(move |a| {
            client_log.lock().unwrap().push(format!(
                "client {} {} {} #{} {:?} {:?} id={}",
                a.operation,
                a.method,
                a.path,
                a.attempt,
                a.status.map(|s| s.as_u16()),
                a.error,
                a.request_id.is_some_and(|id| id.starts_with("req_")),
            ));
        })
        .build()
        .unwrap();
    let call_log = seen.clone();
    let durations = Arc::new(Mutex::new(Vec::new()));
    let call_durations = durations.clone();
    let options = RequestOptions::new().after_attempt(move |a| {
        call_durations.lock().unwrap().push(a.duration);
        call_log
            .lock()
            .unwrap()
            .push(format!("call #{} {:?}", a.attempt, a.status));
    });
    client
        .list_tasks()
        .limit(2)
        .with_options(options)
        .send()
        .await
        .unwrap();
    assert_eq!(
        lines(&seen),
        [
            "client list_tasks GET /v2/tasks #1 Some(503) Some(Server) id=true",
            "call #1 Some(503)",
            "client list_tasks GET /v2/tasks #2 Some(503) Some(Server) id=true",
            "call #2 Some(503)",
            "client list_tasks GET /v2/tasks #3 Some(200) None id=true",
            "call #3 Some(200)",
        ]
    );
    assert_eq!(durations.lock().unwrap().len(), 3);

    // A call that is not retried: one report, with its error kind.
    seen.lock().unwrap().clear();
    let missing = client.get_task().task_id("task_missing").send().await;
    assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        lines(&seen),
        ["client get_task GET /v2/tasks/task_missing #1 Some(404) Some(NotFound) id=true"]
    );
}

/// The deadline cuts an attempt short: after-attempt hooks still hear of it, as a timeout.
#[tokio::test]
async fn an_attempt_cut_short_by_the_deadline_is_reported() {
    let mock = MockDeck::builder()
        .fault(Fault::Delay(Duration::from_secs(30)).times(1))
        .start()
        .await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook_log = seen.clone();
    let client = mock
        .client_builder()
        .retry(RetryPolicy::default().deadline(Duration::from_millis(300)))
        .after_attempt(move |a| {
            hook_log
                .lock()
                .unwrap()
                .push((a.attempt, a.status, a.error));
        })
        .build()
        .unwrap();
    let err = client.list_tasks().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(*seen.lock().unwrap(), [(1, None, Some(ErrorKind::Timeout))]);

    // The next call is answered at once.
    seen.lock().unwrap().clear();
    client.list_tasks().send().await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [(1, Some(StatusCode::OK), None::<ErrorKind>)]
    );
}

/// Neither the API key nor a token a hook sets is readable or printable through a hook's view.
#[tokio::test]
async fn hooks_never_see_secrets() {
    const MARKER: &str = "sk_live_HOOK-MARKER-5be1";
    const TOKEN: &str = "tok-HOOK-MARKER-77aa";
    let mock = MockDeck::builder().api_key(MARKER).start().await;
    let seen = log();
    let (before, after) = (seen.clone(), seen.clone());
    let client = mock
        .client_builder()
        .before_attempt(move |r| {
            let mut view = before.lock().unwrap();
            view.push(format!("{r:?} {}", r.url()));
            for (name, value) in r.headers() {
                view.push(format!("{name}: {value:?}"));
            }
            view.push(format!("{:?}", r.header("authorization")));
            // A token of the hook's own (here the same key, so MockDeck accepts it).
            r.insert_header("authorization", format!("Bearer {MARKER}").as_str());
            r.insert_header("x-token", TOKEN);
        })
        .build()
        .unwrap();
    let later = seen.clone();
    let options = RequestOptions::new()
        .before_attempt(move |r| {
            let mut view = later.lock().unwrap();
            // What an earlier hook set as the Authorization is not readable either.
            assert!(r.header("authorization").is_none());
            assert!(r.header("x-token").is_some());
            view.push(format!("{r:?}"));
            view.extend(r.headers().map(|(n, v)| format!("{n}: {v:?}")));
        })
        .after_attempt(move |a| after.lock().unwrap().push(format!("{a:?}")));
    client
        .list_tasks()
        .with_options(options)
        .send()
        .await
        .unwrap();
    let seen = lines(&seen);
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(seen.iter().any(|l| l.contains("x-token")), "{seen:?}");
    for line in &seen {
        assert!(!line.contains(MARKER), "the key in {line}");
        assert!(!line.contains("HOOK-MARKER-5be1"), "the key in {line}");
    }
}
