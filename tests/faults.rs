//! Fault injection: a misbehaving loopback server, one test per fault. Each asserts the exact
//! outcome, and everything is bounded in time (no test can hang: see `bounded`).

mod common;

use common::*;
use deck::{ErrorKind, RequestOptions, RetryPolicy};
use serde_json::json;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with the n-th request (0-based).
#[derive(Clone)]
enum Action {
    /// Write these bytes and keep the connection.
    Reply(Vec<u8>),
    /// Close with a TCP reset before answering.
    Reset,
    /// Write these bytes, then close.
    ReplyAndClose(Vec<u8>),
    /// Write the head, then the body one byte every `delay`.
    Trickle(Vec<u8>, Vec<u8>, Duration),
}

struct FaultServer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FaultServer {
    async fn start(script: impl Fn(usize) -> Action + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let script = Arc::new(script);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let seen = seen.clone();
                let script = script.clone();
                tokio::spawn(serve(socket, seen, script));
            }
        });
        Self { url, requests }
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    fn header_values(&self, name: &str) -> Vec<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter_map(|r| {
                r.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
                    .map(|l| l[prefix.len()..].trim().to_string())
            })
            .collect()
    }
}

async fn serve(
    mut socket: TcpStream,
    seen: Arc<Mutex<Vec<String>>>,
    script: Arc<dyn Fn(usize) -> Action + Send + Sync>,
) {
    loop {
        let Some(head) = read_request(&mut socket).await else {
            return;
        };
        let n = {
            let mut seen = seen.lock().unwrap();
            seen.push(head);
            seen.len() - 1
        };
        match script(n) {
            Action::Reply(bytes) => {
                if socket.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Action::Reset => {
                let _ = socket.set_zero_linger();
                return;
            }
            Action::ReplyAndClose(bytes) => {
                let _ = socket.write_all(&bytes).await;
                return;
            }
            Action::Trickle(head, body, delay) => {
                let _ = socket.write_all(&head).await;
                for b in body {
                    tokio::time::sleep(delay).await;
                    if socket.write_all(&[b]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Reads one request (head and `Content-Length` body); `None` at EOF.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = socket.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(head);
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn http(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn json_ok(value: &serde_json::Value) -> Vec<u8> {
    http(
        "200 OK",
        &[("content-type", "application/json")],
        value.to_string().as_bytes(),
    )
}

fn test_ok() -> Vec<u8> {
    json_ok(&json!({"status": "ready", "environment": "live", "request_id": "req_ok"}))
}

/// Fast retries for tests: 5 attempts, 10–80 ms backoff.
fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(80))
}

fn retrying_client(url: &str) -> deck::Client {
    deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{url}/v2"))
        .retry(fast_retry())
        .build()
        .unwrap()
}

/// Every fault test runs under this: a hang fails the test instead of stalling the suite.
async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("finished in time")
}

#[tokio::test]
async fn connection_refused_is_retried_then_a_transport_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = retrying_client(&format!("http://127.0.0.1:{port}"));
    let err = bounded(client.run_task().task_id("t").send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.to_string().contains("transport error"), "{err}");
}

#[tokio::test]
async fn connection_reset_before_the_response_is_retried_for_gets() {
    let server = FaultServer::start(|n| {
        if n < 2 {
            Action::Reset
        } else {
            Action::Reply(test_ok())
        }
    })
    .await;
    let ok = bounded(retrying_client(&server.url).test_api_key().send())
        .await
        .unwrap();
    assert_eq!(ok.status, "ready");
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn connection_reset_on_a_write_without_key_is_not_retried() {
    let server = FaultServer::start(|_| Action::Reset).await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.url))
        .retry(fast_retry())
        .automatic_idempotency_keys(false)
        .build()
        .unwrap();
    let err = bounded(client.cancel_task_run().run_id("trun_1").send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(server.count(), 1, "Deck may have run it: no blind retry");
}

#[tokio::test]
async fn response_cut_mid_body_is_a_transport_error_and_retried_for_gets() {
    let cut = {
        let mut r = http("200 OK", &[("content-type", "application/json")], b"");
        r = String::from_utf8(r)
            .unwrap()
            .replace("content-length: 0", "content-length: 500")
            .into_bytes();
        r.extend_from_slice(br#"{"status":"ready","#);
        r
    };
    let server = FaultServer::start(move |_| Action::ReplyAndClose(cut.clone())).await;
    let err = bounded(retrying_client(&server.url).test_api_key().send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(server.count(), 5, "every attempt used");
}

#[tokio::test]
async fn a_body_slower_than_the_timeout_times_out() {
    let head =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 60\r\n\r\n".to_vec();
    let body = br#"{"status":"ready","environment":"live","request_id":"r1"} "#.to_vec();
    let server = FaultServer::start(move |_| {
        Action::Trickle(head.clone(), body.clone(), Duration::from_millis(50))
    })
    .await;
    let client = common::client(&server.url);
    let started = Instant::now();
    let err = bounded(
        client
            .test_api_key()
            .with_options(RequestOptions::new().timeout(Duration::from_millis(300)))
            .send(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    let deck::Error::Transport { source, .. } = &err else {
        unreachable!()
    };
    assert!(source.is_timeout(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // The client-wide attempt timeout applies too, and retries restart it.
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.url))
        .attempt_timeout(Duration::from_millis(200))
        .retry(fast_retry().max_attempts(2))
        .build()
        .unwrap();
    let err = bounded(client.test_api_key().send()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_503_html_page_is_retried_then_returned_typed_with_attempts() {
    let page = http(
        "503 Service Unavailable",
        &[("content-type", "text/html")],
        b"<html><h1>Down for maintenance</h1></html>",
    );
    let server = FaultServer::start(move |_| Action::Reply(page.clone())).await;
    let err = bounded(retrying_client(&server.url).get_task().task_id("t").send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.api_error().unwrap().attempts(), 5);
    assert_eq!(server.count(), 5);
    let text = err.to_string();
    assert!(
        text.contains("Down for maintenance") && text.contains("after 5 attempts"),
        "{text}"
    );
}

#[tokio::test]
async fn a_429_storm_honours_retry_after_and_reuses_the_idempotency_key() {
    let limited = http(
        "429 Too Many Requests",
        &[("content-type", "application/json"), ("retry-after", "1")],
        envelope(
            "rate_limit",
            "rate_limit_exceeded",
            "Too many requests.",
            "req_429",
        )
        .to_string()
        .as_bytes(),
    );
    let created = http(
        "201 Created",
        &[("content-type", "application/json")],
        task_run_full("trun_new", "queued").to_string().as_bytes(),
    );
    let server = FaultServer::start(move |n| {
        Action::Reply(if n < 2 {
            limited.clone()
        } else {
            created.clone()
        })
    })
    .await;
    let started = Instant::now();
    let run = bounded(
        retrying_client(&server.url)
            .run_task()
            .task_id("task_1")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(run.id, "trun_new");
    assert_eq!(server.count(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "waited Retry-After twice"
    );
    let keys = server.header_values("idempotency-key");
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "same key on every attempt: {keys:?}"
    );
}

#[tokio::test]
async fn a_429_with_an_http_date_retry_after_is_honoured() {
    let server = FaultServer::start(move |n| {
        if n == 0 {
            let at = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
            Action::Reply(http("429 Too Many Requests", &[("retry-after", &at)], b""))
        } else {
            Action::Reply(test_ok())
        }
    })
    .await;
    let started = Instant::now();
    bounded(retrying_client(&server.url).test_api_key().send())
        .await
        .unwrap();
    assert_eq!(server.count(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_500_on_a_post_is_retried_only_with_a_key() {
    let error = http(
        "500 Internal Server Error",
        &[("content-type", "application/json")],
        envelope("api", "api_error", "Platform error.", "req_500")
            .to_string()
            .as_bytes(),
    );
    let created = http(
        "200 OK",
        &[],
        task_run_full("trun_1", "canceling").to_string().as_bytes(),
    );

    let e = error.clone();
    let no_key = FaultServer::start(move |_| Action::Reply(e.clone())).await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", no_key.url))
        .retry(fast_retry())
        .automatic_idempotency_keys(false)
        .build()
        .unwrap();
    let err = bounded(client.cancel_task_run().run_id("trun_1").send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.request_id(), Some("req_500"));
    assert_eq!(no_key.count(), 1);
    assert!(no_key.header_values("idempotency-key").is_empty());

    let keyed = FaultServer::start(move |n| {
        Action::Reply(if n == 0 {
            error.clone()
        } else {
            created.clone()
        })
    })
    .await;
    let run = bounded(
        retrying_client(&keyed.url)
            .cancel_task_run()
            .run_id("trun_1")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(run.status, deck::types::RunStatus::Canceling);
    assert_eq!(keyed.count(), 2);
    let keys = keyed.header_values("idempotency-key");
    assert_eq!(keys[0], keys[1]);
}

#[tokio::test]
async fn a_user_key_is_sent_and_over_long_keys_never_leave() {
    let created = http(
        "201 Created",
        &[],
        task_run_full("trun_1", "queued").to_string().as_bytes(),
    );
    let server = FaultServer::start(move |_| Action::Reply(created.clone())).await;
    let client = retrying_client(&server.url);
    bounded(
        client
            .run_task()
            .task_id("task_1")
            .with_options(RequestOptions::new().idempotency_key("order-42".parse().unwrap()))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(server.header_values("idempotency-key"), ["order-42"]);
    // An over-long key is refused when it is made, before anything could be sent.
    let err = deck::IdempotencyKey::new("k".repeat(257)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("256"), "{err}");
    assert_eq!(server.count(), 1, "the long key was never sent");
}

#[tokio::test]
async fn gets_carry_no_idempotency_key() {
    let server = FaultServer::start(|_| Action::Reply(test_ok())).await;
    bounded(retrying_client(&server.url).test_api_key().send())
        .await
        .unwrap();
    assert!(server.header_values("idempotency-key").is_empty());
}

#[tokio::test]
async fn malformed_json_in_a_200_is_a_decode_error_not_retried() {
    let server = FaultServer::start(|_| {
        Action::Reply(http(
            "200 OK",
            &[("content-type", "application/json")],
            b"{\"status\": ready}",
        ))
    })
    .await;
    let err = bounded(retrying_client(&server.url).test_api_key().send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let deck::Error::Decode(decode) = &err else {
        unreachable!()
    };
    assert_eq!(&decode.bytes()[..], b"{\"status\": ready}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn wrong_content_type_with_valid_json_decodes_and_empty_200_fails_cleanly() {
    let body = json!({"status": "ready", "request_id": "r"}).to_string();
    let server = FaultServer::start(move |n| {
        Action::Reply(if n == 0 {
            http("200 OK", &[("content-type", "text/html")], body.as_bytes())
        } else {
            http("200 OK", &[], b"")
        })
    })
    .await;
    let client = retrying_client(&server.url);
    assert_eq!(
        bounded(client.test_api_key().send()).await.unwrap().status,
        "ready"
    );
    let err = bounded(client.test_api_key().send()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn a_20_mb_response_decodes() {
    let mut run = task_run_full("trun_big", "completed");
    run["output"] = json!({"blob": "x".repeat(20 * 1024 * 1024)});
    let bytes = json_ok(&run);
    let server = FaultServer::start(move |_| Action::Reply(bytes.clone())).await;
    let run = bounded(
        retrying_client(&server.url)
            .get_task_run()
            .run_id("trun_big")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(
        run.output.as_ref().unwrap()["blob"].as_str().unwrap().len(),
        20 * 1024 * 1024
    );
}

#[tokio::test]
async fn redirects_are_refused_and_nothing_reaches_the_other_origin() {
    let target = FaultServer::start(|_| Action::Reply(test_ok())).await;
    let port = target.url.rsplit(':').next().unwrap().to_string();
    for status in [
        "302 Found",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        let location = format!("http://localhost:{port}/v2/elsewhere");
        let sent = location.clone();
        let origin =
            FaultServer::start(move |_| Action::Reply(http(status, &[("location", &sent)], b"")))
                .await;
        let client = common::client(&origin.url);
        // A read and a write with a body (a write may carry credential secrets).
        let read = bounded(client.test_api_key().send()).await.unwrap_err();
        let write = bounded(
            client
                .run_task()
                .task_id("task_1")
                .body(deck::types::RunTaskRequest::builder().input(json!({"password": "x"})))
                .send(),
        )
        .await
        .unwrap_err();
        for err in [read, write] {
            assert_eq!(err.kind(), ErrorKind::Redirect, "{status}: {err}");
            let deck::Error::Redirect { location: got, .. } = &err else {
                unreachable!()
            };
            assert_eq!(got.as_deref(), Some(location.as_str()));
            assert_eq!(err.attempts(), 1, "a redirect is not retried");
        }
        assert_eq!(origin.count(), 2);
    }
    assert_eq!(target.count(), 0, "nothing was sent to the other origin");
}

#[test]
fn plain_http_is_refused_unless_loopback_or_opted_in() {
    let build = |url: &str, insecure: bool| {
        deck::Client::builder()
            .api_key(KEY)
            .base_url(url)
            .allow_insecure_http(insecure)
            .build()
    };
    let err = build("http://api.deck.co/v2", false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("https"), "{err}");
    assert!(build("http://api.deck.co/v2", true).is_ok());
    assert!(build("http://127.0.0.1:9/v2", false).is_ok());
    assert!(build("http://[::1]:9/v2", false).is_ok());
    assert!(build("http://localhost:9/v2", false).is_ok());
    assert!(build("https://api.deck.co/v2", false).is_ok());
    assert!(build("not a url", false).is_err());
}
