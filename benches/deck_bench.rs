//! Runtime benchmarks, each against its baseline in the same run (alternating batches, medians):
//!
//! 1. per-call overhead: `get_task_run` vs raw reqwest + serde_json into the same struct with the
//!    same bounds (deadline, attempt timeout, body limit), in CPU time of the calling process
//!    (the server runs in a child process) and in wall-clock time;
//! 2. paging throughput: 50,000 runs in pages of 100 (server +2 ms/page, consumer 2 ms of work per
//!    page), prefetching `items()` vs sequential paging;
//! 3. memory: peak RSS streaming 10,000 vs 200,000 items (each in a fresh child process);
//! 4. decode: MB/s of a 100-item page into the generated types vs `serde_json::Value`.
//!
//! `cargo bench --bench deck_bench` prints a table and writes `target/bench/runtime.json`;
//! `cargo xtask bench` adds the build-cost figures. `DECK_BENCH_QUICK=1` shrinks every figure.

use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const KEY: &str = "sk_bench_key";

/// One measured figure.
struct Figure {
    name: &'static str,
    value: f64,
    baseline: f64,
    unit: &'static str,
    target: Option<(&'static str, f64)>,
}

fn quick() -> bool {
    std::env::var_os("DECK_BENCH_QUICK").is_some()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The interleaved samples behind a figure (value, baseline), written to `runtime.json` so the
/// summary shows their spread. Kept beside the figures, by name.
static SAMPLES: std::sync::Mutex<Vec<KeptSamples>> = std::sync::Mutex::new(Vec::new());

/// A figure's name, its value samples and its baseline samples.
type KeptSamples = (&'static str, Vec<f64>, Vec<f64>);

fn keep_samples(name: &'static str, value: &[f64], baseline: &[f64]) {
    SAMPLES
        .lock()
        .unwrap()
        .push((name, value.to_vec(), baseline.to_vec()));
}

/// User + system CPU time of this process so far, in µs (`getrusage`: every thread, to the µs).
fn process_cpu_us() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

// ---------------------------------------------------------------------------------------------
// A loopback HTTP/1.1 server: keep-alive, fixed or generated bodies, optional per-request delay.
// ---------------------------------------------------------------------------------------------

type Handler = Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

fn start_server(handler: Handler, delay: Duration) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}/v2", listener.local_addr().unwrap())).unwrap();
            while let Ok((mut socket, _)) = listener.accept().await {
                let handler = handler.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::with_capacity(8192);
                    let mut chunk = [0u8; 8192];
                    loop {
                        let end = loop {
                            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break end;
                            }
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        buf.drain(..end + 4);
                        let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                        let body = handler(&target);
                        if !delay.is_zero() {
                            // A precise delay: tokio's timer has 1 ms granularity, which would
                            // make "2 ms" nearer 3. Blocking is fine on this server thread.
                            std::thread::sleep(delay);
                        }
                        let mut response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        response.extend_from_slice(&body);
                        if socket.write_all(&response).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn client(base: &str) -> deck::Client {
    deck::Client::builder()
        .api_key(KEY)
        .base_url(base)
        .retry(deck::RetryPolicy::none())
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------

/// A task run with storage and artifacts included, as Deck sends it.
fn realistic_run(id: &str) -> Value {
    let storage: Vec<Value> = (0..8)
        .map(|i| {
            json!({
                "id": format!("stor_{i}"), "object": "storage", "file_name": format!("statement-{i}.pdf"),
                "file_type": "application/pdf", "file_size": "48213",
                "url": format!("https://files.deck.co/stor_{i}?sig=abcdef0123456789"),
                "extraction": {"account": "12345678", "balance": 1042.17, "lines": [1, 2, 3]},
                "purpose": "output", "created_at": "2026-11-01T10:00:00Z"
            })
        })
        .collect();
    let screenshots: Vec<Value> = (0..6)
        .map(|i| {
            json!({
                "file_name": format!("shot-{i}.png"), "file_type": "image/png", "file_size": 204800,
                "url": format!("https://files.deck.co/shot_{i}"), "reasoning": "Clicked the statements tab to find the PDF",
                "created_at": "2026-11-01T10:00:02Z"
            })
        })
        .collect();
    json!({
        "id": id, "object": "task_run", "status": "completed", "result": "success",
        "task_id": "task_abc", "credential_id": "cred_1", "session_id": "sess_1", "agent_id": "agt_1",
        "source_id": "src_1", "runtime_ms": "53412", "input": {"account": "42", "from": "2026-01-01"},
        "output": {"statements": 8, "total": 1042.17}, "storage": storage,
        "artifacts": {"screenshots": screenshots}, "errors": null, "interaction": null,
        "created_at": "2026-11-01T09:59:00Z", "updated_at": "2026-11-01T10:00:05Z", "request_id": "req_1"
    })
}

fn list_item(i: usize) -> Value {
    json!({
        "id": format!("trun_{i:08}"), "object": "task_run", "status": "completed", "result": "success",
        "task_id": "task_abc", "credential_id": null, "session_id": "sess_1", "agent_id": "agt_1",
        "source_id": null, "runtime_ms": "1234", "output": {"ok": true, "n": i}, "errors": null,
        "interaction": null, "created_at": "2026-11-01T09:59:00Z", "updated_at": "2026-11-01T10:00:05Z"
    })
}

/// Serves `total` runs in pages, generated on the fly (the server holds no list).
fn paging_handler(total: usize) -> Handler {
    Arc::new(move |target: &str| {
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let mut cursor = 0usize;
        let mut limit = 20usize;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("cursor", c)) => cursor = c.parse().unwrap_or(0),
                Some(("limit", l)) => limit = l.parse().unwrap_or(20),
                _ => {}
            }
        }
        let end = (cursor + limit).min(total);
        let items: Vec<Value> = (cursor..end).map(list_item).collect();
        let more = end < total;
        json!({"data": items, "has_more": more, "next_cursor": more.then(|| end.to_string()), "request_id": "req_p"})
            .to_string()
            .into_bytes()
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Per-call overhead
// ---------------------------------------------------------------------------------------------

/// Child mode: serve the per-call body on loopback, print the base URL, and serve until stdin
/// closes (the parent exits). Out of process, so the parent's CPU time is the client's alone.
fn per_call_server_child() {
    let body = realistic_run("trun_1").to_string().into_bytes();
    let base = start_server(Arc::new(move |_| body.clone()), Duration::ZERO);
    println!("{base}");
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
}

/// Starts [`per_call_server_child`]; the child ends with this process (its stdin closes).
fn per_call_server() -> (String, std::process::Child) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--per-call-server")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (line.trim().to_string(), child)
}

/// The SDK's bounds, for the raw baseline: call deadline, attempt timeout, body limit.
const DEADLINE: Duration = deck::client::DEFAULT_CALL_TIMEOUT;
const ATTEMPT_TIMEOUT: Duration = deck::client::DEFAULT_ATTEMPT_TIMEOUT;
const BODY_LIMIT: u64 = deck::client::DEFAULT_MAX_RESPONSE_BYTES;

/// What a careful user writes with reqwest for the same bounds as the SDK: the call under a
/// deadline, the attempt (body included) under its own timeout, the body read in chunks and
/// refused past the limit (at once when `Content-Length` says so), then decoded.
async fn raw_bounded(request: reqwest::RequestBuilder) -> deck::types::TaskRun {
    let attempt = async move {
        let mut response = request.send().await.unwrap().error_for_status().unwrap();
        assert!(response.content_length().unwrap_or(0) <= BODY_LIMIT);
        let capacity = response.content_length().unwrap_or(0) as usize;
        let mut body = Vec::with_capacity(capacity);
        while let Some(chunk) = response.chunk().await.unwrap() {
            assert!(body.len() + chunk.len() <= BODY_LIMIT as usize, "too large");
            body.extend_from_slice(&chunk);
        }
        body
    };
    let call = async {
        tokio::time::timeout(ATTEMPT_TIMEOUT, attempt)
            .await
            .unwrap()
    };
    let body = tokio::time::timeout(DEADLINE, call).await.unwrap();
    serde_json::from_slice(&body).unwrap()
}

/// One process-CPU and one wall-clock sample per variant and round, in interleaved rounds.
struct PerCallSamples {
    cpu: [Vec<f64>; 3],
    wall: [Vec<f64>; 3],
}

/// Three variants in interleaved rounds: the SDK; raw reqwest configured like the SDK's client
/// (10 s connect and 30 s read timeouts, the same User-Agent) with the SDK's bounds, the
/// like-for-like baseline; and a bare `reqwest::Client::new()` without bounds, to show what the
/// bounds themselves cost. Each round records the process's CPU time (user + system, every
/// thread: the client's work, wherever Tokio runs it) and the wall-clock time per call.
async fn per_call(rt_calls: usize, rounds: usize) -> Vec<Figure> {
    let (base, _server) = per_call_server();
    let deck = client(&base);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let same = reqwest::Client::builder()
        .read_timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .user_agent("deck-api/0.1.0 (rust; deck-spec 2.0.0)")
        .build()
        .unwrap();
    let bare = reqwest::Client::builder().build().unwrap();
    let url = format!("{base}/task-runs/trun_1?include=input%2Cstorage%2Cartifacts");
    let raw_call = |http: &reqwest::Client, bounded: bool| {
        let request = http
            .get(&url)
            .header("authorization", format!("Bearer {KEY}"))
            .header("accept", "application/json");
        async move {
            let run = if bounded {
                raw_bounded(request).await
            } else {
                let bytes = request.send().await.unwrap().bytes().await.unwrap();
                serde_json::from_slice::<deck::types::TaskRun>(&bytes).unwrap()
            };
            std::hint::black_box(run);
        }
    };
    let sdk_call = || async {
        let run = deck
            .get_task_run()
            .run_id("trun_1")
            .include(deck::ext::Include::all())
            .send()
            .await
            .unwrap();
        std::hint::black_box(run);
    };
    // `DECK_BENCH_VARIANT=sdk|raw` runs that variant only (`DECK_BENCH_CALLS` times), for a
    // profiler to count: `valgrind --tool=callgrind` at two call counts gives instructions per
    // call.
    if let Ok(only) = std::env::var("DECK_BENCH_VARIANT") {
        let calls = std::env::var("DECK_BENCH_CALLS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(rt_calls * rounds);
        for _ in 0..calls {
            match only.as_str() {
                "sdk" => sdk_call().await,
                _ => raw_call(&same, true).await,
            }
        }
        return Vec::new();
    }
    // Warm-up: connections open, allocator and caches in their steady state.
    for _ in 0..rt_calls / 4 {
        sdk_call().await;
        raw_call(&same, true).await;
        raw_call(&bare, false).await;
    }
    let mut samples = PerCallSamples {
        cpu: Default::default(),
        wall: Default::default(),
    };
    for round in 0..rounds * 3 {
        let variant = round % 3;
        let cpu = process_cpu_us();
        let started = Instant::now();
        for _ in 0..rt_calls {
            match variant {
                0 => sdk_call().await,
                1 => raw_call(&same, true).await,
                _ => raw_call(&bare, false).await,
            }
        }
        let n = rt_calls as f64;
        samples.wall[variant].push(started.elapsed().as_secs_f64() * 1e6 / n);
        samples.cpu[variant].push((process_cpu_us() - cpu) / n);
    }
    let cpu_name = "per-call CPU time (user + system), get_task_run vs raw reqwest+serde_json, \
                    same bounds (µs)";
    let wall_name = "per-call wall clock, get_task_run vs raw reqwest+serde_json, same bounds (µs)";
    let bare_name = "per-call wall clock, get_task_run vs bare reqwest::Client (no bounds) (µs)";
    keep_samples(cpu_name, &samples.cpu[0], &samples.cpu[1]);
    keep_samples(wall_name, &samples.wall[0], &samples.wall[1]);
    keep_samples(bare_name, &samples.wall[0], &samples.wall[2]);
    let [sdk_cpu, same_cpu, _] = samples.cpu.map(median);
    let [sdk, same, bare] = samples.wall.map(median);
    vec![
        Figure {
            name: cpu_name,
            value: sdk_cpu,
            baseline: same_cpu,
            unit: "µs",
            target: Some(("<=", 1.05)),
        },
        Figure {
            name: wall_name,
            value: sdk,
            baseline: same,
            unit: "µs",
            target: Some(("<=", 1.05)),
        },
        Figure {
            name: bare_name,
            value: sdk,
            baseline: bare,
            unit: "µs",
            target: None,
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// 2. Paging throughput
// ---------------------------------------------------------------------------------------------

fn busy_work(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Pages rendered ahead of time, so the server's cost per page is the 2 ms delay and the write.
fn prerendered_pages(total: usize) -> Handler {
    let render = paging_handler(total);
    let pages: std::collections::HashMap<usize, Vec<u8>> = (0..total)
        .step_by(100)
        .map(|start| {
            (
                start,
                render(&format!("/v2/task-runs?cursor={start}&limit=100")),
            )
        })
        .collect();
    Arc::new(move |target: &str| {
        let cursor = target
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("cursor="))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        pages.get(&cursor).cloned().unwrap_or_default()
    })
}

/// Two consumers: one that burns 2 ms of CPU per page (the figure with the target), and one that
/// blocks 2 ms without CPU (like awaiting I/O), which shows the overlap itself once the consumer
/// no longer competes for the machine's cores with the server and the decoding.
async fn paging(total: usize, rounds: usize) -> Vec<Figure> {
    let base = start_server(prerendered_pages(total), Duration::from_millis(2));
    let deck = client(&base);
    let mut figures = Vec::new();
    for cpu_work in [true, false] {
        let (mut prefetch, mut sequential) = (Vec::new(), Vec::new());
        for round in 0..rounds * 2 {
            let use_prefetch = round % 2 == 0;
            let started = Instant::now();
            let mut pages = deck
                .list_task_runs()
                .into_paginator()
                .prefetch(use_prefetch)
                .pages();
            let mut n = 0;
            while let Some(page) = pages.next().await {
                n += page.unwrap().items.len();
                if cpu_work {
                    busy_work(Duration::from_millis(2));
                } else {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            assert_eq!(n, total);
            let secs = started.elapsed().as_secs_f64();
            if use_prefetch {
                prefetch.push(secs)
            } else {
                sequential.push(secs)
            }
        }
        figures.push(Figure {
            name: if cpu_work {
                "paging 50k runs, 2 ms CPU work/page: prefetch vs sequential (s)"
            } else {
                "paging 50k runs, 2 ms blocking wait/page: prefetch vs sequential (s)"
            },
            value: median(prefetch),
            baseline: median(sequential),
            unit: "s",
            target: if cpu_work { Some(("<=", 0.6)) } else { None },
        });
    }
    figures
}

// ---------------------------------------------------------------------------------------------
// 3. Memory (child processes)
// ---------------------------------------------------------------------------------------------

fn peak_rss_kib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// Child mode: stream `total` items, print peak RSS in KiB.
fn memory_child(total: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let base = start_server(paging_handler(total), Duration::ZERO);
        let deck = client(&base);
        let mut items = deck.list_task_runs().items();
        let mut n = 0;
        while let Some(item) = items.next().await {
            std::hint::black_box(item.unwrap());
            n += 1;
        }
        assert_eq!(n, total);
    });
    println!("{}", peak_rss_kib());
}

fn memory(small: usize, large: usize, rounds: usize) -> Figure {
    let exe = std::env::current_exe().unwrap();
    let run = |n: usize| -> f64 {
        let out = std::process::Command::new(&exe)
            .arg("--memory-child")
            .arg(n.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(run(large));
        b.push(run(small));
    }
    Figure {
        name: "peak RSS streaming large list vs small list (KiB)",
        value: median(a),
        baseline: median(b),
        unit: "KiB",
        target: Some(("<=", 1.2)),
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Decode
// ---------------------------------------------------------------------------------------------

fn decode(rounds: usize) -> Figure {
    let page = json!({"data": (0..100).map(list_item).collect::<Vec<_>>(), "has_more": true, "next_cursor": "100", "request_id": "r"});
    let bytes = serde_json::to_vec(&page).unwrap();
    let iterations = if quick() { 50 } else { 400 };
    let (mut typed, mut value) = (Vec::new(), Vec::new());
    for round in 0..rounds * 2 {
        let started = Instant::now();
        for _ in 0..iterations {
            if round % 2 == 0 {
                let p: deck::types::TaskRunPage = serde_json::from_slice(&bytes).unwrap();
                std::hint::black_box(p);
            } else {
                let v: Value = serde_json::from_slice(&bytes).unwrap();
                std::hint::black_box(v);
            }
        }
        let mb_s = (bytes.len() * iterations) as f64 / started.elapsed().as_secs_f64() / 1e6;
        if round % 2 == 0 {
            typed.push(mb_s)
        } else {
            value.push(mb_s)
        }
    }
    Figure {
        name: "decode 100-item page, generated types vs serde_json::Value (MB/s)",
        value: median(typed),
        baseline: median(value),
        unit: "MB/s",
        target: None,
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--per-call-server") {
        per_call_server_child();
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--memory-child") {
        memory_child(args[i + 1].parse().unwrap());
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run tiny sizes then.
    let smoke = !args.iter().any(|a| a == "--bench");
    let q = quick() || smoke;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let only = std::env::var("DECK_BENCH_ONLY").unwrap_or_default();
    let want = |name: &str| only.is_empty() || only.split(',').any(|o| o == name);
    let mut figures = Vec::new();
    if want("per_call") {
        // One thread: the process's CPU time is then the calls' work, not idle workers
        // searching for tasks to steal (which varies from round to round).
        let one_thread = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        figures.extend(
            one_thread.block_on(per_call(if q { 20 } else { 100 }, if q { 2 } else { 81 })),
        );
    }
    if want("paging") {
        figures.extend(rt.block_on(paging(
            if q { 2_000 } else { 50_000 },
            if q { 1 } else { 3 },
        )));
    }
    if want("memory") {
        figures.push(memory(
            if q { 1_000 } else { 10_000 },
            if q { 4_000 } else { 200_000 },
            if q { 1 } else { 3 },
        ));
    }
    if want("decode") {
        figures.push(decode(if q { 2 } else { 9 }));
    }
    println!(
        "\n{:<68} {:>12} {:>12} {:>7} {:>8} {:>5}",
        "figure", "value", "baseline", "ratio", "target", "met"
    );
    let mut json_rows = Vec::new();
    for f in &figures {
        let ratio = f.value / f.baseline;
        let (target, met) = match f.target {
            Some((op, t)) => (format!("{op}{t}"), if ratio <= t { "yes" } else { "NO" }),
            None => ("-".to_string(), "-"),
        };
        println!(
            "{:<68} {:>10.1}{:<2} {:>10.1}{:<2} {:>7.3} {:>8} {:>5}",
            f.name, f.value, "", f.baseline, "", ratio, target, met
        );
        let mut row = json!({
            "figure": f.name, "value": f.value, "baseline": f.baseline, "unit": f.unit,
            "ratio": ratio, "target": f.target.map(|(_, t)| t), "met": f.target.map(|(_, t)| ratio <= t),
        });
        if let Some((_, value, baseline)) = SAMPLES.lock().unwrap().iter().find(|s| s.0 == f.name) {
            row["samples"] = json!({"value": value, "baseline": baseline});
            let pairs: Vec<f64> = value.iter().zip(baseline).map(|(v, b)| v / b).collect();
            println!(
                "{:<68} {:>12} {:>12} pair ratios {:.3}–{:.3}",
                "",
                format!("{:.1}–{:.1}", min(value), max(value)),
                format!("{:.1}–{:.1}", min(baseline), max(baseline)),
                min(&pairs),
                max(&pairs)
            );
        }
        json_rows.push(row);
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let out = json!({"quick": q, "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "figures": json_rows});
    std::fs::write(
        dir.join("runtime.json"),
        serde_json::to_string_pretty(&out).unwrap(),
    )
    .unwrap();
    println!("\nwrote {}", dir.join("runtime.json").display());
}
