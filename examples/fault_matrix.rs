//! Measures what a client with default settings does against each fault: what the caller gets,
//! after how many attempts, how long it took, and (for the size cases) how much the process's
//! peak memory grew. These are the figures of the README's "Retries, timeouts and limits".
//!
//! ```sh
//! cargo run --release --example fault_matrix            # about 2 minutes (the 120 s cases)
//! cargo run --release --example fault_matrix -- --quick # without the cases over 10 s
//! ```
//!
//! Hostile servers are loopback sockets in this process (bodies streamed from one static
//! chunk); the rest is MockDeck with injected faults. Size cases run one at a time (peak memory
//! is per process), the others all at once.

use deck::mock::{Fault, Injection, MockDeck};
use deck::types::RunTaskRequest;
use deck::{Client, RateLimit, RetryPolicy};
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[path = "../tests/common/mod.rs"]
mod common;

const KEY: &str = "sk_live_fault_matrix";
const MIB: u64 = 1 << 20;

/// What a hostile loopback server does with each request.
#[derive(Clone)]
enum Serve {
    /// Write these bytes, keep the connection.
    Reply(Vec<u8>),
    /// The head, then `total` bytes of `x`, then close.
    Stream { head: String, total: u64 },
    /// The head, then one byte every 5 s.
    Trickle { head: String },
    /// Read on, never answer.
    Silence,
}

/// Starts a server; returns its base URL and a request counter.
async fn server(serve: Serve) -> (String, Arc<AtomicUsize>) {
    static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (serve, seen) = (serve.clone(), seen.clone());
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                loop {
                    match socket.read(&mut buf).await {
                        Ok(n) if n > 0 => {}
                        _ => return,
                    }
                    seen.fetch_add(1, Ordering::Relaxed);
                    match &serve {
                        Serve::Reply(bytes) => {
                            if socket.write_all(bytes).await.is_err() {
                                return;
                            }
                        }
                        Serve::Stream { head, total } => {
                            let _ = socket.write_all(head.as_bytes()).await;
                            let mut sent = 0;
                            while sent < *total {
                                let n = CHUNK.len().min((total - sent) as usize);
                                if socket.write_all(&CHUNK[..n]).await.is_err() {
                                    return;
                                }
                                sent += n as u64;
                            }
                            return;
                        }
                        Serve::Trickle { head } => {
                            let _ = socket.write_all(head.as_bytes()).await;
                            loop {
                                tokio::time::sleep(Duration::from_secs(5)).await;
                                if socket.write_all(b" ").await.is_err() {
                                    return;
                                }
                            }
                        }
                        Serve::Silence => {
                            while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, count)
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// A TLS server on loopback with a self-signed certificate for `localhost` (trusted by no
/// one); returns its base URL and a connection counter.
async fn tls_server() -> (String, Arc<AtomicUsize>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}/v2",
        listener.local_addr().unwrap().port()
    );
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::Relaxed);
            let _ = acceptor.accept(socket).await;
        }
    });
    (url, count)
}

fn client(url: &str) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .build()
        .unwrap()
}

fn keyless(url: &str) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .automatic_idempotency_keys(false)
        .build()
        .unwrap()
}

/// Resident memory now and at its peak (Linux), in bytes.
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    };
    Some((kib("VmRSS:")?, kib("VmHWM:")?))
}

struct Row {
    fault: String,
    call: &'static str,
    got: String,
    attempts: String,
    took: Duration,
    peak: Option<u64>,
}

/// One call's outcome: `Ok`, or the error kind, and the attempts.
type Outcome = (String, String);

fn outcome<T>(result: Result<T, deck::Error>, requests: Option<usize>) -> Outcome {
    match result {
        Ok(_) => ("Ok".into(), requests.map_or("–".into(), |n| n.to_string())),
        Err(e) => (format!("{:?}", e.kind()), e.attempts().to_string()),
    }
}

type Case = (String, &'static str, BoxFuture<'static, Outcome>);

async fn run(case: Case, measure_peak: bool) -> Row {
    let (fault, call, future) = case;
    if measure_peak {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    let before = rss();
    let started = Instant::now();
    let (got, attempts) = future.await;
    let took = started.elapsed();
    let peak = match (measure_peak, before, rss()) {
        (true, Some((now, _)), Some((_, peak))) => Some(peak.saturating_sub(now)),
        _ => None,
    };
    Row {
        fault,
        call,
        got,
        attempts,
        took,
        peak,
    }
}

fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The size cases, measured one at a time for their peak memory.
async fn size_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (label, length) in [
        ("2 GiB 200, with Content-Length", true),
        ("2 GiB 200, no Content-Length", false),
    ] {
        let head = if length {
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", 2048 * MIB)
        } else {
            "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_string()
        };
        let (url, _) = server(Serve::Stream {
            head,
            total: 2048 * MIB,
        })
        .await;
        let c = client(&url);
        cases.push((
            label.into(),
            "GET",
            Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
        ));
    }
    for status in ["404 Not Found", "503 Service Unavailable"] {
        let (url, _) = server(Serve::Stream {
            head: format!("HTTP/1.1 {status}\r\nconnection: close\r\n\r\n"),
            total: 200 * MIB,
        })
        .await;
        let c = client(&url);
        cases.push((
            format!("200 MiB error page, {}", &status[..3]),
            "GET",
            Box::pin(async move { outcome(c.get_task().task_id("t").send().await, None) }),
        ));
    }
    // 30 MiB of tiny JSON values in a run's free-form `output`: decodes, and grows.
    let mut run = common::task_run_full("trun_1", "completed");
    run["output"] = json!("OUTPUT");
    let zeros = format!("[{}0]", "0,".repeat((30 * MIB / 2) as usize));
    let run = run.to_string().replace("\"OUTPUT\"", &zeros);
    let (url, _) = server(Serve::Reply(response("200 OK", &[], &run))).await;
    let c = client(&url);
    cases.push((
        "30 MiB of `[0,0,…]` in `output` (within the limit)".into(),
        "GET",
        Box::pin(async move { outcome(c.get_task_run().run_id("trun_1").send().await, None) }),
    ));
    cases
}

/// Every other case, run concurrently.
async fn time_cases(quick: bool) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client(&format!("http://127.0.0.1:{port}/v2"));
    cases.push((
        "connection refused".into(),
        "GET",
        Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
    ));

    // MockDeck faults, each on a mock of its own.
    let mock_case = |fault: Injection, label: &str, call: &'static str, keys: bool| {
        let label = label.to_string();
        async move {
            let mock = MockDeck::builder().fault(fault).start().await;
            let c = if keys {
                mock.client()
            } else {
                mock.client_builder()
                    .automatic_idempotency_keys(false)
                    .build()
                    .unwrap()
            };
            let future: BoxFuture<'static, Outcome> = Box::pin(async move {
                let result = match call {
                    "GET" => c.test_api_key().send().await.map(drop),
                    _ => c.cancel_task_run().run_id("trun_x").send().await.map(drop),
                };
                let requests = mock.request_count() as usize;
                outcome(result, Some(requests))
            });
            (label, call, future)
        }
    };
    for (fault, label, call, keys) in [
        (
            Fault::Status(503).into(),
            "503 on every attempt",
            "GET",
            true,
        ),
        (
            Fault::Status(500).into(),
            "500 on every attempt",
            "POST (key)",
            true,
        ),
        (
            Fault::Status(500).into(),
            "500 on every attempt",
            "POST, no key",
            false,
        ),
        (
            Fault::Status(503).times(2),
            "503 twice, then OK",
            "GET",
            true,
        ),
        (
            Fault::Status(429).into(),
            "429 `rate_limit_exceeded`, no Retry-After",
            "GET",
            true,
        ),
        (
            Fault::Disconnect.into(),
            "connection closed before the answer",
            "GET",
            true,
        ),
        (
            Fault::Disconnect.into(),
            "connection closed before the answer",
            "POST (key)",
            true,
        ),
        (
            Fault::Disconnect.into(),
            "connection closed before the answer",
            "POST, no key",
            false,
        ),
        (
            Fault::DisconnectMidBody.into(),
            "connection closed mid-body",
            "GET",
            true,
        ),
    ] {
        cases.push(mock_case(fault, label, call, keys).await);
    }

    // A gateway's 502 on a keyless write: sent once (Deck may have run it).
    let (url, _) = server(Serve::Reply(response("502 Bad Gateway", &[], ""))).await;
    let k = keyless(&url);
    cases.push((
        "502 on every attempt".into(),
        "POST, no key",
        Box::pin(async move { outcome(k.cancel_task_run().run_id("r").send().await, None) }),
    ));
    // A Retry-After over the 60 s cap: no early retry, the 429 at once.
    let (url, _) = server(Serve::Reply(response(
        "429 Too Many Requests",
        &[("retry-after", "3600")],
        "",
    )))
    .await;
    let c = client(&url);
    cases.push((
        "429 with `Retry-After: 3600`".into(),
        "GET",
        Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
    ));
    // TLS to a server whose certificate nothing trusts: not retried.
    let (url, _) = tls_server().await;
    let c = client(&url);
    cases.push((
        "untrusted certificate".into(),
        "GET",
        Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
    ));

    let redirect = response(
        "307 Temporary Redirect",
        &[("location", "http://127.0.0.1:9/v2/test")],
        "",
    );
    let (url, _) = server(Serve::Reply(redirect)).await;
    let c = client(&url);
    cases.push((
        "307 to another origin".into(),
        "GET",
        Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
    ));
    let (url, _) = server(Serve::Reply(response("200 OK", &[], "{\"status\": ready}"))).await;
    let c = client(&url);
    cases.push((
        "malformed JSON in a 200".into(),
        "GET",
        Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
    ));

    // A 5 s deadline against a body trickling one byte every 5 s.
    let trickle = Serve::Trickle {
        head: "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n".into(),
    };
    let (url, _) = server(trickle.clone()).await;
    let c = Client::builder()
        .api_key(KEY)
        .base_url(url)
        .retry(RetryPolicy::default().deadline(Duration::from_secs(5)))
        .build()
        .unwrap();
    cases.push((
        "head, then 1 byte / 5 s; `deadline(5 s)`".into(),
        "GET",
        Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
    ));
    if quick {
        return cases;
    }

    let (url, _) = server(trickle).await;
    let c = client(&url);
    cases.push((
        "head, then 1 byte / 5 s".into(),
        "GET",
        Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
    ));
    let (url, _) = server(Serve::Silence).await;
    let (c, k) = (client(&url), keyless(&url));
    cases.push((
        "accepts, never answers".into(),
        "GET",
        Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
    ));
    cases.push((
        "accepts, never answers".into(),
        "POST, no key",
        Box::pin(async move { outcome(k.cancel_task_run().run_id("r").send().await, None) }),
    ));
    let limited = response(
        "429 Too Many Requests",
        &[("retry-after", "60")],
        r#"{"errors":[{"type":"rate_limit","code":"rate_limit_exceeded","message":"Too many requests."}],"request_id":"r"}"#,
    );
    let (url, _) = server(Serve::Reply(limited)).await;
    let c = client(&url);
    cases.push((
        "429 with `Retry-After: 60`".into(),
        "GET",
        Box::pin(async move { outcome(c.test_api_key().send().await, None) }),
    ));

    // 1,000 run_task calls at once through RateLimit::DECK, against MockDeck limited the same.
    let mock = MockDeck::builder().start().await;
    let c = mock
        .client_builder()
        .rate_limit(RateLimit::DECK)
        .build()
        .unwrap();
    cases.push((
        "1,000 `run_task` at once, `rate_limit(RateLimit::DECK)`, MockDeck at 200 / 10 s".into(),
        "POST ×1000",
        Box::pin(async move {
            let task = c
                .list_tasks()
                .collect_all()
                .await
                .unwrap()
                .into_iter()
                .find(|t| t.name.contains("statements"))
                .unwrap()
                .id;
            mock.set_rate_limit(Some(RateLimit::DECK));
            let input = json!({"account_number": "42", "statement_month": "2026-10"});
            let results: Vec<bool> = futures::stream::iter(0..1000)
                .map(|_| {
                    let (c, task, input) = (c.clone(), task.clone(), input.clone());
                    async move {
                        c.run_task()
                            .task_id(&task)
                            .body(RunTaskRequest::builder().input(input))
                            .send()
                            .await
                            .is_ok()
                    }
                })
                .buffer_unordered(1000)
                .collect()
                .await;
            let ok = results.iter().filter(|ok| **ok).count();
            (
                format!("{ok} Ok, {} × 429", mock.rate_limited_count()),
                "1 each".into(),
            )
        }),
    ));
    cases
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let mut rows = Vec::new();
    for case in size_cases().await {
        rows.push(run(case, true).await);
    }
    let started = Instant::now();
    let timed = time_cases(quick).await;
    eprintln!(
        "{} cases at once{}…",
        timed.len(),
        if quick { "" } else { " (about 2 minutes)" }
    );
    let handles: Vec<_> = timed
        .into_iter()
        .map(|case| tokio::spawn(run(case, false)))
        .collect();
    for handle in handles {
        rows.push(handle.await.unwrap());
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
    println!("| fault | call | caller gets | attempts | time | peak memory |");
    println!("|---|---|---|---|---|---|");
    for row in rows {
        let peak = row
            .peak
            .map_or("".into(), |b| format!("+{:.1} MiB", b as f64 / MIB as f64));
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.fault,
            row.call,
            row.got,
            row.attempts,
            seconds(row.took),
            peak
        );
    }
}
