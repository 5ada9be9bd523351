//! Fault injection: a misbehaving loopback server, one test per fault. Each asserts the exact
//! outcome, and everything is bounded in time (no test can hang: see `bounded`).

mod common;

use common::*;
use deck::{ErrorKind, RequestOptions, RetryPolicy};
use serde_json::json;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
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
    /// Write the head, then `total` bytes of `x` streamed from one static chunk, then close.
    Stream { head: Vec<u8>, total: u64 },
    /// Read on, never answer.
    Silence,
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

    /// The same server over TLS: `https://localhost:port`, its certificate issued by a CA made
    /// for the test. Returns the server and the CA certificate (PEM).
    async fn start_tls(script: impl Fn(usize) -> Action + Send + Sync + 'static) -> (Self, String) {
        use rustls::pki_types::PrivateKeyDer;
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "deck test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "https://localhost:{}",
            listener.local_addr().unwrap().port()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let script: Arc<dyn Fn(usize) -> Action + Send + Sync> = Arc::new(script);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (seen, script, acceptor) = (seen.clone(), script.clone(), acceptor.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(socket).await {
                        serve(tls, seen, script).await;
                    }
                });
            }
        });
        (Self { url, requests }, ca.pem())
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

/// A connection the fault server can answer on: plain TCP or TLS over it.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Makes the close a TCP reset.
    fn reset_on_close(&self);
}

impl Conn for TcpStream {
    fn reset_on_close(&self) {
        let _ = self.set_zero_linger();
    }
}

impl Conn for tokio_rustls::server::TlsStream<TcpStream> {
    fn reset_on_close(&self) {
        let _ = self.get_ref().0.set_zero_linger();
    }
}

async fn serve(
    mut socket: impl Conn,
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
                socket.reset_on_close();
                return;
            }
            Action::ReplyAndClose(bytes) => {
                let _ = socket.write_all(&bytes).await;
                let _ = socket.shutdown().await;
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
            Action::Stream { head, total } => {
                if socket.write_all(&head).await.is_err() {
                    return;
                }
                let mut sent = 0;
                while sent < total {
                    let n = CHUNK.len().min((total - sent) as usize);
                    if socket.write_all(&CHUNK[..n]).await.is_err() {
                        return;
                    }
                    sent += n as u64;
                }
                let _ = socket.shutdown().await;
                return;
            }
            Action::Silence => {
                // Hold the connection open, answering nothing.
                let mut sink = [0u8; 1024];
                while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
        }
    }
}

/// What [`Action::Stream`] repeats: no allocation per response, however long.
static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// Reads one request (head and `Content-Length` body); `None` at EOF.
async fn read_request(socket: &mut (impl AsyncRead + Unpin)) -> Option<String> {
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
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        matches!(err, deck::Error::AttemptTimeout { limit, attempts: 1, .. } if limit == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("attempt did not finish within 0.3s"),
        "{err}"
    );
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
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.attempts(), 2, "{err}");
    assert_eq!(server.count(), 3, "one attempt above, two here");
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

// ---------------------------------------------------------------------------------------------
// Bounds: size, time, redirects over TLS, the rate limiter
// ---------------------------------------------------------------------------------------------

/// A response head: `Content-Length` when `length` is given, else the body runs to the close.
fn head(status: &str, length: Option<u64>) -> Vec<u8> {
    match length {
        Some(len) => format!("HTTP/1.1 {status}\r\ncontent-length: {len}\r\n\r\n"),
        None => format!("HTTP/1.1 {status}\r\nconnection: close\r\n\r\n"),
    }
    .into_bytes()
}

fn limited_client(url: &str, limit: u64) -> deck::Client {
    deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{url}/v2"))
        .retry(fast_retry())
        .max_response_bytes(limit)
        .build()
        .unwrap()
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_and_not_retried() {
    // The body of `test_api_key` padded with spaces to exactly `len` bytes.
    let padded = |len: usize| {
        let mut body = br#"{"status":"ready","request_id":"r"}"#.to_vec();
        body.resize(len, b' ');
        body
    };
    for declared in [true, false] {
        let (fits, over) = (padded(1000), padded(1001));
        let server = FaultServer::start(move |n| {
            let body = if n == 0 { &fits } else { &over };
            let mut bytes = head("200 OK", declared.then_some(body.len() as u64));
            bytes.extend_from_slice(body);
            Action::ReplyAndClose(bytes)
        })
        .await;
        let client = limited_client(&server.url, 1000);
        let ok = bounded(client.test_api_key().send()).await.unwrap();
        assert_eq!(ok.status, "ready", "a body of exactly the limit is read");
        let err = bounded(client.test_api_key().send()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
        assert!(err.to_string().contains("1000 bytes"), "{err}");
        assert_eq!(server.count(), 2, "Content-Length {declared}: not retried");
    }
    // A declared size over the limit is refused from the head, before any body arrives.
    let server = FaultServer::start(|_| Action::Reply(head("200 OK", Some(2 << 30)))).await;
    let started = Instant::now();
    let err = bounded(common::client(&server.url).test_api_key().send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not wait for a body"
    );
    // A 2 GiB body with or without Content-Length, against the default limit.
    for length in [Some(2u64 << 30), None] {
        let server = FaultServer::start(move |_| Action::Stream {
            head: head("200 OK", length),
            total: 2 << 30,
        })
        .await;
        let started = Instant::now();
        let err = bounded(retrying_client(&server.url).test_api_key().send())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
        assert_eq!(server.count(), 1);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn error_bodies_are_read_to_64_kib_and_errors_stay_small() {
    // 200 MiB of error page, with and without Content-Length: read to 64 KiB, kept to 2 KiB.
    for length in [Some(200u64 << 20), None] {
        let server = FaultServer::start(move |_| Action::Stream {
            head: head("404 Not Found", length),
            total: 200 << 20,
        })
        .await;
        let err = bounded(common::client(&server.url).get_task().task_id("t").send())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().len() < 1024, "{err}");
        assert!(format!("{err:?}").len() < 4096);
    }
    // An envelope that parses, with a message of 60 KiB: typed, and still small to print.
    let message = "m".repeat(60 * 1024);
    let body = envelope("request", "task_not_found", &message, "req_big").to_string();
    let server =
        FaultServer::start(move |_| Action::Reply(http("404 Not Found", &[], body.as_bytes())))
            .await;
    let err = bounded(common::client(&server.url).get_task().task_id("t").send())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("task_not_found"));
    assert_eq!(err.api_error().unwrap().message().unwrap().len(), 60 * 1024);
    assert!(err.to_string().len() < 1024, "{}", err.to_string().len());
    assert!(
        format!("{err:?}").len() < 4096,
        "{}",
        format!("{err:?}").len()
    );
    assert!(format!("{err:#?}").len() < 4096);
}

#[tokio::test]
async fn huge_headers_stay_out_of_errors() {
    let long = "x".repeat(100 * 1024);
    let location = format!("https://elsewhere.example/{long}");
    let many: Vec<(String, String)> = (0..90)
        .map(|i| (format!("x-junk-{i}"), "v".repeat(4000)))
        .collect();
    let server = FaultServer::start(move |n| match n {
        0 => Action::Reply(http("302 Found", &[("location", &location)], b"")),
        1 => {
            let headers: Vec<(&str, &str)> = many
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .chain([("x-request-id", long.as_str())])
                .collect();
            Action::Reply(http("503 Service Unavailable", &headers, b""))
        }
        // Past hyper's bound on a response head (~400 KiB): a transport error, nothing kept.
        _ => Action::Reply(http("200 OK", &[("x-huge", &"h".repeat(1 << 20))], b"{}")),
    })
    .await;
    let client = common::client(&server.url);
    let redirect = bounded(client.test_api_key().send()).await.unwrap_err();
    let deck::Error::Redirect { location, .. } = &redirect else {
        panic!("{redirect:?}")
    };
    assert!(location.as_ref().unwrap().chars().count() <= 2049);
    let unavailable = bounded(client.test_api_key().send()).await.unwrap_err();
    assert_eq!(unavailable.kind(), ErrorKind::Server);
    for err in [&redirect, &unavailable] {
        assert!(err.to_string().len() < 1024, "{}", err.to_string().len());
        assert!(
            format!("{err:?}").len() < 16 * 1024,
            "{}",
            format!("{err:?}").len()
        );
    }
    let too_big = bounded(client.test_api_key().send()).await.unwrap_err();
    assert_eq!(too_big.kind(), ErrorKind::Transport, "{too_big}");
}

#[tokio::test]
async fn decode_errors_of_hostile_bodies_stay_small() {
    // serde quotes a string of the wrong type whole; a syntax error after a huge key names it in
    // the path; nesting deeper than serde's recursion limit.
    let string = format!("\"{}\"", "s".repeat(8 << 20));
    let key = format!("{{\"{}\": [1, 2, }}", "k".repeat(1 << 20));
    let deep_keys = format!(
        "{}[1, }}",
        format!("{{\"{}\": ", "k".repeat(200)).repeat(100)
    );
    let nested = "[".repeat(32 << 20);
    let bodies = Arc::new(vec![string, key, deep_keys, nested]);
    let served = bodies.clone();
    let server =
        FaultServer::start(move |n| Action::Reply(http("200 OK", &[], served[n].as_bytes()))).await;
    let client = common::client(&server.url);
    for body in bodies.iter() {
        let started = Instant::now();
        let err = bounded(client.test_api_key().send()).await.unwrap_err();
        let deck::Error::Decode(decode) = &err else {
            panic!("{err}")
        };
        assert_eq!(decode.len(), body.len());
        assert!(decode.serde_error().to_string().len() < 1200);
        assert!(decode.path().unwrap().chars().count() <= 513);
        assert!(err.to_string().len() < 2048, "{}", err.to_string().len());
        assert!(
            format!("{err:?}").len() < 4096,
            "{}",
            format!("{err:?}").len()
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn a_trickling_body_is_cut_at_the_calls_deadline() {
    // Headers at once, then one byte every 5 s: the read timeout (30 s) never fires; the
    // deadline does.
    let server = FaultServer::start(|_| {
        Action::Trickle(
            head("200 OK", Some(1000)),
            vec![b' '; 1000],
            Duration::from_secs(5),
        )
    })
    .await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.url))
        .retry(RetryPolicy::default().deadline(Duration::from_secs(5)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = bounded(client.test_api_key().send()).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.attempts(), 1);
    assert!(took >= Duration::from_millis(4900), "{took:?}");
    assert!(took < Duration::from_secs(15), "{took:?}");
}

/// The defaults (no setting changed), on Tokio's paused clock: real time is milliseconds, and
/// the timers are the ones a real run would use.
#[tokio::test(start_paused = true)]
async fn the_defaults_bound_a_trickle_and_a_silent_server() {
    let trickle = FaultServer::start(|_| {
        Action::Trickle(
            head("200 OK", Some(1000)),
            vec![b' '; 1000],
            Duration::from_secs(5),
        )
    })
    .await;
    let silent = FaultServer::start(|_| Action::Silence).await;
    let default_client = |url: &str| {
        deck::Client::builder()
            .api_key(KEY)
            .base_url(format!("{url}/v2"))
            .build()
            .unwrap()
    };
    // (server, expected attempts): a trickle hits the 60 s attempt timeout twice; silence hits
    // the 30 s read timeout four times, with backoff between; the 120 s deadline ends both.
    for (server, attempts) in [(&trickle, 2), (&silent, 4)] {
        let started = tokio::time::Instant::now();
        let err = default_client(&server.url)
            .test_api_key()
            .send()
            .await
            .unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert_eq!(err.attempts(), attempts, "{err}");
        assert_eq!(server.count(), attempts as usize);
        assert_eq!(took, Duration::from_secs(120), "{took:?}");
    }
    // A write without an idempotency key is not retried: one read timeout.
    let started = tokio::time::Instant::now();
    let err = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", silent.url))
        .automatic_idempotency_keys(false)
        .build()
        .unwrap()
        .cancel_task_run()
        .run_id("trun_1")
        .send()
        .await
        .unwrap_err();
    // A read timeout is a timeout, like an attempt timeout: one kind for both.
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(matches!(err, deck::Error::Transport { .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(30));
}

#[tokio::test]
async fn a_retry_after_past_the_deadline_is_not_waited_for() {
    let server = FaultServer::start(|_| {
        Action::Reply(http("429 Too Many Requests", &[("retry-after", "30")], b""))
    })
    .await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.url))
        .retry(RetryPolicy::default().deadline(Duration::from_secs(2)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = bounded(client.test_api_key().send()).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited,
        "the 429 itself, at once"
    );
    assert_eq!(err.attempts(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn the_rate_limiter_is_shared_by_clones_and_its_wait_counts_against_the_deadline() {
    let server = FaultServer::start(|_| Action::Reply(test_ok())).await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.url))
        .rate_limit(deck::RateLimit::new(2, Duration::from_secs(60)).unwrap())
        .build()
        .unwrap();
    let clone = client.clone();
    bounded(client.test_api_key().send()).await.unwrap();
    bounded(clone.test_api_key().send()).await.unwrap();
    // The allowance is spent, by the two of them together.
    let quick =
        RequestOptions::new().retry(RetryPolicy::default().deadline(Duration::from_millis(300)));
    for c in [&client, &clone] {
        let started = Instant::now();
        let err = bounded(c.test_api_key().with_options(quick.clone()).send())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert_eq!(err.attempts(), 0, "nothing was sent");
        assert!(err.to_string().contains("rate limiter"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }
    assert_eq!(server.count(), 2);
    // Another client has its own allowance.
    bounded(retrying_client(&server.url).test_api_key().send())
        .await
        .unwrap();
}

#[tokio::test]
async fn redirects_from_https_to_http_are_refused_and_nothing_reaches_http() {
    let plain = FaultServer::start(|_| Action::Reply(test_ok())).await;
    let to = format!("{}/v2/test", plain.url);
    let (tls, ca) = FaultServer::start_tls(move |n| {
        if n == 0 {
            Action::Reply(test_ok())
        } else {
            Action::Reply(http("307 Temporary Redirect", &[("location", &to)], b""))
        }
    })
    .await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", tls.url))
        .add_root_certificate(deck::Certificate::from_pem(ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    // The TLS server is reachable, trusted through the added root.
    bounded(client.test_api_key().send()).await.unwrap();
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
        let deck::Error::Redirect {
            location, status, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(status.as_u16(), 307);
        assert!(
            location
                .as_deref()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        );
        assert_eq!(err.attempts(), 1);
    }
    assert_eq!(tls.count(), 3);
    assert_eq!(plain.count(), 0, "nothing was sent in clear");

    // Without the root, the same server is not trusted.
    let untrusting = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", tls.url))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = bounded(untrusting.test_api_key().send()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(tls.count(), 3, "no request without a trusted handshake");
}

/// A gateway's 502/504 or a 408 may come after Deck ran the write: a write without an
/// idempotency key is sent once, never repeated (against the retry decision's table, this is
/// the end-to-end count). With a key (the default) the same write is retried under that key.
#[tokio::test]
async fn keyless_writes_are_never_repeated_after_408_502_504() {
    for status in [
        "408 Request Timeout",
        "502 Bad Gateway",
        "504 Gateway Timeout",
    ] {
        let server = FaultServer::start(move |_| Action::Reply(http(status, &[], b""))).await;
        let keyless = deck::Client::builder()
            .api_key(KEY)
            .base_url(format!("{}/v2", server.url))
            .retry(fast_retry())
            .automatic_idempotency_keys(false)
            .build()
            .unwrap();
        let err = bounded(keyless.run_task().task_id("t").send())
            .await
            .unwrap_err();
        assert_eq!(err.attempts(), 1, "{status}: {err}");
        assert_eq!(server.count(), 1, "{status}: the write went out once");
        assert_eq!(err.idempotency_key(), None);

        let keyed = retrying_client(&server.url);
        let err = bounded(keyed.run_task().task_id("t").send())
            .await
            .unwrap_err();
        assert_eq!(err.attempts(), 5, "{status}: {err}");
        let keys = server.header_values("idempotency-key");
        assert_eq!(keys.len(), 5);
        assert!(keys.iter().all(|k| k == &keys[0]), "one key: {keys:?}");
        // The error names the key, so the caller can retry without a duplicate.
        assert_eq!(err.idempotency_key().unwrap().as_str(), keys[0]);
        assert_eq!(
            err.api_error().unwrap().idempotency_key().unwrap().as_str(),
            keys[0]
        );
    }
}

/// Every ambiguous failure of a write carries the key it was sent with: a cut connection, an
/// attempt timeout, the call's deadline with an attempt in flight.
#[tokio::test]
async fn ambiguous_write_failures_carry_the_idempotency_key() {
    let reset = FaultServer::start(|_| Action::Reset).await;
    let silent = FaultServer::start(|_| Action::Silence).await;
    let cases: [(&FaultServer, RetryPolicy, Option<Duration>); 3] = [
        (&reset, RetryPolicy::none(), None),
        (
            &silent,
            RetryPolicy::none(),
            Some(Duration::from_millis(200)),
        ),
        (
            &silent,
            RetryPolicy::none().deadline(Duration::from_millis(200)),
            None,
        ),
    ];
    for (server, policy, attempt_timeout) in cases {
        let client = deck::Client::builder()
            .api_key(KEY)
            .base_url(format!("{}/v2", server.url))
            .retry(policy)
            .attempt_timeout(attempt_timeout)
            .build()
            .unwrap();
        let err = bounded(client.cancel_task_run().run_id("trun_1").send())
            .await
            .unwrap_err();
        let sent = server.header_values("idempotency-key");
        let key = err.idempotency_key().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!(Some(&key.as_str().to_string()), sent.last(), "{err:?}");
        // Reads have no key to name.
        let err = bounded(client.test_api_key().send()).await.unwrap_err();
        assert_eq!(err.idempotency_key(), None);
    }
}

/// A certificate the client does not trust does not become trusted in 15 s of retries: one
/// attempt, `Transport`.
#[tokio::test]
async fn certificate_failures_are_not_retried() {
    let (tls, _ca) = FaultServer::start_tls(|_| Action::Reply(test_ok())).await;
    let err = bounded(retrying_client(&tls.url).test_api_key().send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(err.attempts(), 1, "{err}");
}

/// Retry-After: `0` (and a past date) does not make back-to-back retries (each wait is at least
/// the backoff envelope: the server sees the attempts spaced), and a hint above the cap ends the
/// call at once with the 429, its header kept.
#[tokio::test(start_paused = true)]
async fn retry_after_is_floored_by_the_backoff_and_a_hint_above_the_cap_stops() {
    let zero = FaultServer::start(|_| {
        Action::Reply(http("429 Too Many Requests", &[("retry-after", "0")], b""))
    })
    .await;
    let started = tokio::time::Instant::now();
    let err = retrying_client(&zero.url)
        .test_api_key()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 5);
    // Four waits of at least the envelope each (10, 20, 40, 80 ms) on the paused clock.
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );

    let long = FaultServer::start(|_| {
        Action::Reply(http(
            "429 Too Many Requests",
            &[("retry-after", "3600")],
            b"",
        ))
    })
    .await;
    let err = retrying_client(&long.url)
        .test_api_key()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(
        err.attempts(),
        1,
        "no early retry against the server's hint"
    );
    assert_eq!(
        err.api_error().unwrap().headers()["retry-after"],
        "3600",
        "the caller sees the hint"
    );
}

/// `wait_for_task_run(..).timeout(2 s)` against a server that never answers ends at 2 s (each
/// poll's call gets what remains of the wait, not its own 120 s), on the paused clock.
#[tokio::test(start_paused = true)]
async fn a_wait_ends_on_time_when_the_server_never_answers() {
    let silent = FaultServer::start(|_| Action::Silence).await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", silent.url))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let err = client
        .wait_for_task_run("trun_1")
        .timeout(Duration::from_secs(2))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitTimeout, "{err}");
    assert!(
        matches!(
            &err,
            deck::Error::WaitTimeout {
                last_status: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    // A huge poll interval neither panics nor outlives the wait.
    let ready =
        FaultServer::start(|_| Action::Reply(json_ok(&common::task_run_full("trun_1", "running"))))
            .await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", ready.url))
        .build()
        .unwrap();
    let err = client
        .wait_for_task_run("trun_1")
        .initial_interval(Duration::MAX)
        .max_interval(Duration::MAX)
        .timeout(Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitTimeout, "{err}");
}

/// With the body limit off, a `Content-Length` of exabytes reserves nothing up front: the call
/// fails cleanly when the body ends short (before: an allocation of the claimed size, which
/// aborts the process).
#[tokio::test]
async fn a_hostile_content_length_is_not_preallocated() {
    let server = FaultServer::start(|_| {
        Action::ReplyAndClose(
            b"HTTP/1.1 200 OK\r\ncontent-length: 4611686018427387904\r\n\r\n{}".to_vec(),
        )
    })
    .await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.url))
        .retry(RetryPolicy::none())
        .max_response_bytes(u64::MAX)
        .build()
        .unwrap();
    let err = bounded(client.test_api_key().send()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
}

/// A rate limit of absurd period (years, or `Duration::MAX`) is accepted and used without a
/// panic (the slot's next free time saturates).
#[tokio::test]
async fn a_huge_rate_limit_period_does_not_panic() {
    let server = FaultServer::start(|_| Action::Reply(test_ok())).await;
    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.url))
        .rate_limit(deck::RateLimit::new(1, Duration::MAX).unwrap())
        .build()
        .unwrap();
    bounded(client.test_api_key().send()).await.unwrap();
    // The slot is now taken "forever": the next call ends at its deadline, sending nothing.
    let err = bounded(
        client
            .test_api_key()
            .with_options(
                deck::RequestOptions::new()
                    .retry(RetryPolicy::default().deadline(Duration::from_millis(100))),
            )
            .send(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.attempts(), 0);
    assert_eq!(server.count(), 1);
}
