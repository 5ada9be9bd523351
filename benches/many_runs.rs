//! Many runs against MockDeck enforcing Deck's limit, side by side in one run:
//!
//! 1. 1,000 runs of 30–120 s with `run_batch` + the run tracker (events, then the runs list),
//!    against per-run `wait_for_task_run` (the baseline): requests per run, 429s, wall time
//!    against the floor (starts at 200 per 10 s, then the longest run), and how long after a run
//!    finished its waiter resolved (p95);
//! 2. the same batch with webhook deliveries ingested by the tracker: waiter latency p95;
//! 3. three clients ("processes"), each with its own limiter and Redis connection, sharing one
//!    Redis-backed limit: 429s and their combined rate against 200 per 10 s.
//!
//! Time is compressed by `SCALE` (10): MockDeck's clock runs 10× real time (runs of 30–120 s
//! take 3–12 s), and every other period shrinks by the same factor (Deck's limit becomes 200 per
//! 1 s, poll intervals 1/10th), so request counts and 429s are what they would be uncompressed;
//! times are reported in Deck time (real × 10) except the webhook latency, which is real
//! processing time. `DECK_BENCH_QUICK=1` runs 200 runs. Writes `target/bench/runs.json`.

use deck::RateLimit;
use deck::mock::MockDeck;
use deck::tracker::{TrackBy, TrackerOptions};
use deck::types::{
    CreateEventDestinationRequest, EventDestinationType, EventType, TaskRun, WebhookConfig,
};
use deck::webhooks::Webhook;
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCALE: f64 = 10.0;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn quick() -> bool {
    std::env::var_os("DECK_BENCH_QUICK").is_some()
}

/// A Deck-time duration, compressed.
fn deck(secs: f64) -> Duration {
    Duration::from_secs_f64(secs / SCALE)
}

fn limit() -> RateLimit {
    RateLimit::new(200, deck(10.0)).expect("non-zero")
}

async fn mock() -> MockDeck {
    MockDeck::builder()
        .runs(0)
        .run_duration(Duration::from_secs(30)..=Duration::from_secs(120))
        .time_scale(SCALE)
        .rate_limit(limit())
        .start()
        .await
}

fn input(i: usize) -> Value {
    json!({"account_number": format!("{i:06}"), "statement_month": "2026-10", "mfa": false})
}

/// What one scenario measured.
#[derive(Default)]
struct Outcome {
    requests: u64,
    rate_limited: u64,
    /// Deck seconds from the first start to the last result.
    wall: f64,
    /// Deck seconds: 200 starts per 10 s, then the longest run.
    floor: f64,
    /// Deck seconds from a run finishing to its waiter resolving, 95th percentile.
    latency_p95: f64,
    failed: usize,
}

fn p95(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64) * 0.95).ceil() as usize - 1]
}

/// Latency and floor from the finished runs (`resolved`: mock time when each waiter resolved).
fn summarise(runs: &[(TaskRun, chrono::DateTime<chrono::Utc>)], n: usize) -> (f64, f64) {
    let latencies: Vec<f64> = runs
        .iter()
        .map(|(run, resolved)| (*resolved - run.updated_at).num_milliseconds() as f64 / 1000.0)
        .collect();
    let longest = runs
        .iter()
        .filter_map(|(run, _)| run.runtime_ms)
        .max()
        .unwrap_or(0) as f64
        / 1000.0;
    let start_periods = (n.saturating_sub(1) / 200) as f64;
    (p95(latencies), start_periods * 10.0 + longest)
}

async fn batch(n: usize, options: TrackerOptions, webhooks: bool) -> Outcome {
    let mock = mock().await;
    let key = "sk_bench_batch";
    let client = mock
        .client_builder()
        .api_key(key)
        .rate_limit(limit())
        .run_tracker(options)
        .build()
        .unwrap();
    let _server = if webhooks {
        Some(receiver(&mock, &client).await)
    } else {
        None
    };
    mock.reset_usage();
    let task = mock.task_ids()[0].clone();
    let started = Instant::now();
    let mut results = client
        .run_batch(&task)
        .key("bench")
        .max_in_flight(n)
        .run((0..n).map(|i| (i.to_string(), input(i))));
    let mut done = Vec::new();
    let mut failed = 0;
    while let Some(item) = results.next().await {
        match item.result {
            Ok(run) => done.push((run, mock.now())),
            Err(e) => {
                eprintln!("{}: {e}", item.key);
                failed += 1;
            }
        }
    }
    let wall = started.elapsed().as_secs_f64() * SCALE;
    let usage = mock.usage_of(key);
    let (latency_p95, floor) = summarise(&done, n);
    Outcome {
        requests: usage.requests,
        rate_limited: usage.rate_limited,
        wall,
        floor,
        latency_p95,
        failed,
    }
}

/// A webhook receiver on loopback that verifies deliveries and hands them to the tracker.
async fn receiver(mock: &MockDeck, client: &deck::Client) -> wiremock::MockServer {
    struct Ingest(Webhook, deck::tracker::RunTracker);
    impl wiremock::Respond for Ingest {
        fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
            match self.0.verify(&request.body, &request.headers) {
                Ok(event) => {
                    self.1.ingest(event);
                    wiremock::ResponseTemplate::new(204)
                }
                Err(_) => wiremock::ResponseTemplate::new(400),
            }
        }
    }
    let server = wiremock::MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Ingest(Webhook::new(SECRET).unwrap(), client.run_tracker()))
        .mount(&server)
        .await;
    let webhook = WebhookConfig::builder()
        .url(format!("{}/hooks", server.uri()))
        .secret(Some(SECRET.to_string()));
    client
        .create_event_destination()
        .body(
            CreateEventDestinationRequest::builder()
                .name("bench")
                .type_(Some(EventDestinationType::Webhook))
                .webhook(Some(webhook.try_into().unwrap()))
                .events(Some(vec![
                    EventType::TaskRunCompleted,
                    EventType::TaskRunFailed,
                ])),
        )
        .send()
        .await
        .unwrap();
    let _ = mock;
    server
}

/// The baseline: every run started the same way, each waited for by its own
/// `wait_for_task_run` (1 s growing to 10 s, Deck time).
async fn per_run_waits(n: usize) -> Outcome {
    let mock = mock().await;
    let key = "sk_bench_baseline";
    let client = mock
        .client_builder()
        .api_key(key)
        .rate_limit(limit())
        .build()
        .unwrap();
    let task = mock.task_ids()[0].clone();
    let started = Instant::now();
    let waits = (0..n).map(|i| {
        let (client, task, mock) = (client.clone(), task.clone(), &mock);
        async move {
            let run = client
                .run_task()
                .task_id(&task)
                .input(&input(i))
                .send()
                .await?;
            let run = client
                .wait_for_task_run(&run.id)
                .initial_interval(deck(1.0))
                .max_interval(deck(10.0))
                .await?;
            Ok::<_, deck::Error>((run, mock.now()))
        }
    });
    let results = futures::future::join_all(waits).await;
    let wall = started.elapsed().as_secs_f64() * SCALE;
    let failed = results.iter().filter(|r| r.is_err()).count();
    let done: Vec<_> = results.into_iter().filter_map(Result::ok).collect();
    let usage = mock.usage_of(key);
    let (latency_p95, floor) = summarise(&done, n);
    Outcome {
        requests: usage.requests,
        rate_limited: usage.rate_limited,
        wall,
        floor,
        latency_p95,
        failed,
    }
}

/// Three clients with limiters of their own and one Redis store, each sending as fast as its
/// limiter lets it: 429s, and the combined rate after the first period's burst.
async fn fleet(url: &str, periods: u32) -> (u64, f64, u64) {
    let mock = mock().await;
    let clients: Vec<deck::Client> = (0..3)
        .map(|i| {
            let store = deck::store::RedisStore::open(url)
                .unwrap()
                .prefix(format!("bench-{}:", std::process::id()));
            mock.client_builder()
                .api_key(format!("sk_bench_process_{i}"))
                .rate_limit(limit())
                .rate_limit_store(Arc::new(store))
                .build()
                .unwrap()
        })
        .collect();
    let period = limit().period();
    let started = Instant::now();
    let end = started + period * (periods + 1);
    let stamps = Arc::new(std::sync::Mutex::new(Vec::new()));
    let workers = clients.iter().flat_map(|client| {
        (0..100).map(|_| {
            let (client, stamps) = (client.clone(), stamps.clone());
            async move {
                while Instant::now() < end {
                    if client.test_api_key().send().await.is_ok() {
                        stamps.lock().unwrap().push(started.elapsed());
                    }
                }
            }
        })
    });
    futures::future::join_all(workers).await;
    let stamps = stamps.lock().unwrap();
    // Steady state: the requests answered from the end of the first period's burst to the end
    // (not the ones that were waiting for a slot when time was up).
    let window = period..period * (periods + 1);
    let steady = stamps.iter().filter(|t| window.contains(t)).count() as f64;
    let rate = steady / periods as f64;
    (mock.rate_limited_count(), rate, stamps.len() as u64)
}

/// A `redis-server` of the bench's own on a free loopback port, if installed.
fn redis() -> Option<(std::process::Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((child, format!("redis://127.0.0.1:{port}/")));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

struct Figure {
    name: String,
    value: f64,
    baseline: Option<f64>,
    unit: &'static str,
    target: Option<f64>,
}

#[tokio::main]
async fn main() {
    let n = if quick() { 200 } else { 1_000 };
    let poll = 10.0;
    // An overlap of one poll interval: MockDeck lists events in order, and each poll re-reads
    // the overlap's events (60 s would cost ~5 pages a poll at this batch's event rate).
    let events = TrackerOptions::new()
        .poll_interval(deck(poll))
        .overlap(deck(poll));
    let list = events.clone().by(TrackBy::List);
    let hooks = TrackerOptions::new()
        .poll_interval(deck(60.0))
        .overlap(deck(60.0));

    println!("many runs: {n} runs of 30–120 s, time compressed {SCALE}×; limit 200 per 10 s");
    let baseline = per_run_waits(n).await;
    let by_events = batch(n, events, false).await;
    let by_list = batch(n, list, false).await;
    let webhooks = batch(n, hooks, true).await;
    let fleet = match redis() {
        Some((mut child, url)) => {
            let result = fleet(&url, 5).await;
            let _ = child.kill();
            let _ = child.wait();
            Some(result)
        }
        None => {
            println!("redis-server not installed: the fleet figures are skipped");
            None
        }
    };

    let per_run = |o: &Outcome| o.requests as f64 / n as f64;
    let mut figures = vec![
        Figure {
            name: "requests per run: batch + tracker (events) vs per-run wait_for_task_run".into(),
            value: per_run(&by_events),
            baseline: Some(per_run(&baseline)),
            unit: "req",
            target: None,
        },
        Figure {
            name: "requests per run: batch + tracker (events), goal ≤ 1.1".into(),
            value: per_run(&by_events),
            baseline: Some(1.0),
            unit: "req",
            target: Some(1.1),
        },
        Figure {
            name: "requests per run: batch + tracker (runs list), goal ≤ 1.1".into(),
            value: per_run(&by_list),
            baseline: Some(1.0),
            unit: "req",
            target: Some(1.1),
        },
        Figure {
            name: "429s: tracker (events) / (list) / webhooks / baseline".into(),
            value: (by_events.rate_limited + by_list.rate_limited + webhooks.rate_limited) as f64,
            baseline: Some(baseline.rate_limited as f64),
            unit: "",
            target: None,
        },
        Figure {
            name: "wall time vs floor (Deck s): batch + tracker (events), goal ≤ 1.1×".into(),
            value: by_events.wall,
            baseline: Some(by_events.floor),
            unit: "s",
            target: Some(1.1),
        },
        Figure {
            name: "wall time vs floor (Deck s): per-run wait_for_task_run".into(),
            value: baseline.wall,
            baseline: Some(baseline.floor),
            unit: "s",
            target: None,
        },
        Figure {
            name: format!(
                "waiter latency p95 (Deck s) vs poll interval {poll} s: tracker (events)"
            ),
            value: by_events.latency_p95,
            baseline: Some(poll),
            unit: "s",
            target: Some(1.0),
        },
        Figure {
            name: format!("waiter latency p95 (Deck s) vs poll interval {poll} s: tracker (list)"),
            value: by_list.latency_p95,
            baseline: Some(poll),
            unit: "s",
            target: Some(1.0),
        },
        Figure {
            name: "waiter latency p95 (real ms) with webhooks, goal ≤ 100 ms".into(),
            value: webhooks.latency_p95 / SCALE * 1000.0,
            baseline: Some(100.0),
            unit: "ms",
            target: Some(1.0),
        },
        Figure {
            name: "requests per run: batch + tracker with webhooks".into(),
            value: per_run(&webhooks),
            baseline: Some(1.0),
            unit: "req",
            target: None,
        },
    ];
    if let Some((rate_limited, rate, total)) = fleet {
        figures.push(Figure {
            name: format!("3 processes, one Redis limiter: 429s ({total} requests)"),
            value: rate_limited as f64,
            baseline: None,
            unit: "",
            target: None,
        });
        figures.push(Figure {
            name: "3 processes, one Redis limiter: combined rate per 10 s vs 200, within 10%"
                .into(),
            value: rate,
            baseline: Some(200.0),
            unit: "req",
            target: Some(1.1),
        });
    }
    let failed = baseline.failed + by_events.failed + by_list.failed + webhooks.failed;
    println!(
        "\n{:<84} {:>10} {:>10} {:>7} {:>6}",
        "figure", "value", "baseline", "ratio", "met"
    );
    let mut rows = Vec::new();
    for f in &figures {
        let ratio = f.baseline.map(|b| f.value / b);
        let met = match (f.target, ratio) {
            (Some(t), Some(r)) => {
                if r <= t {
                    "yes"
                } else {
                    "no"
                }
            }
            _ => "",
        };
        println!(
            "{:<84} {:>8.3}{:<2} {:>10} {:>7} {:>6}",
            f.name,
            f.value,
            f.unit,
            f.baseline.map(|b| format!("{b:.3}")).unwrap_or_default(),
            ratio.map(|r| format!("{r:.3}")).unwrap_or_default(),
            met
        );
        rows.push(json!({"figure": f.name, "value": f.value, "baseline": f.baseline, "unit": f.unit, "target": f.target}));
    }
    println!("runs that failed: {failed}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let out = json!({"runs": n, "scale": SCALE, "failed": failed, "figures": rows});
    std::fs::write(
        dir.join("runs.json"),
        serde_json::to_string_pretty(&out).unwrap(),
    )
    .unwrap();
    println!("wrote {}", dir.join("runs.json").display());
}
