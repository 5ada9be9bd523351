//! `MockDeck`: a stateful, in-process Deck on loopback, for tests and offline examples.
//!
//! [`MockDeck::start`] binds `127.0.0.1` on a free port, serves Deck's REST API v2 from a
//! spawned Tokio task and hands out [`Client`]s already pointed at it. The server stops when the
//! `MockDeck` is dropped (or on [`MockDeck::shutdown`]).
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), deck::Error> {
//! use deck::mock::MockDeck;
//! use deck::types::RunStatus;
//!
//! let mock = MockDeck::start().await; // 6 tasks and 150 task runs, seeded
//! let client = mock.client();
//!
//! let page = client.list_task_runs().limit(5).send().await?.into_inner();
//! assert_eq!(page.data.len(), 5);
//! assert_eq!(page.has_more, Some(true));
//!
//! let completed = client
//!     .list_task_runs()
//!     .status([RunStatus::Completed])
//!     .collect_all()
//!     .await?;
//! assert!(completed.iter().all(|run| run.status == RunStatus::Completed));
//! # Ok(()) }
//! ```
//!
//! # What it serves
//!
//! Every operation of `openapi/v2.json`, with Deck's behaviour:
//!
//! | Operation | Route | Notes |
//! |---|---|---|
//! | `listTaskRuns` | `GET /task-runs` | newest first; filters `status`, `outcome`, `source_id` (repeatable), `task_id`, `agent_id`, `credential_id`, `workflow_id`, `created_after`/`created_before` (RFC 3339, exclusive), `search` (task name, task id or run id) |
//! | `getTaskRun` | `GET /task-runs/{run_id}` | `include=input,storage,artifacts` (comma-separated, unknown values ignored); sections are *omitted* unless requested |
//! | `cancelTaskRun` | `POST /task-runs/{run_id}/cancel` | → `canceling`, then `canceled` on the next step; 409 when already terminal |
//! | `submitTaskRunInteraction` | `POST /task-runs/{run_id}/interaction` | only while `interaction_required` (else 409); resumes the run (`running`) |
//! | `listTaskRunStorage` | `GET /task-runs/{run_id}/storage` | paginated |
//! | `listTasks` | `GET /tasks` | filters `agent_id`, `status` |
//! | `getTask` | `GET /tasks/{task_id}` | |
//! | `runTask` | `POST /tasks/{task_id}/run` | 201 with a `queued` run; 422 when `input` misses a field the task's `input_schema` requires |
//! | `testApiKey` | `GET /test` | `{"status":"ready","environment":"test"}` |
//!
//! Lists take `limit` (1–100, default 20) and an opaque `cursor`, and answer
//! `{data, has_more, next_cursor, request_id}`.
//!
//! Errors look like Deck's: unknown ids get a 404 envelope
//! (`{"errors":[{"type":"request","code":"task_run_not_found",…}],"request_id":"req_…"}`),
//! malformed input (a bad `limit`, a body that is not JSON) the ASP.NET 400 validation map
//! (`{"title":…,"status":400,"errors":{"limit":[…]},"traceId":"req_…"}`), and a missing or wrong
//! `Authorization` header a 401 with an empty body; a known path with the wrong method gets a
//! bodiless 405 with `Allow`, an unknown path a 404 envelope (`route_not_found`). Every response
//! carries an `x-request-id` header, and every JSON body its `request_id` (`traceId` in the
//! validation map).
//!
//! Writes (`POST`) honour `Idempotency-Key`: the first successful response for a key is replayed
//! (with an `idempotent-replayed: true` header) when the same key comes back with the same
//! method, path and body; the same key with anything else gets a 409 envelope of type
//! `idempotency`, code `idempotency_error`. Error responses are not remembered.
//!
//! # The task-run state machine
//!
//! Runs move on a clock you control: one *step* moves a run one transition and moves the mock's
//! clock (timestamps, `runtime_ms`) by [`MockDeckBuilder::step_duration`] (default 3 s).
//!
//! ```text
//!  POST /tasks/{id}/run
//!          │
//!          ▼        step           step (needs MFA, not yet answered)
//!       queued ───────► running ───────────────────────────► interaction_required
//!                         │  ▲                                        │
//!                         │  └──── POST /task-runs/{id}/interaction ──┘
//!                         │ step
//!                         ├──► completed  (result `success`, output, storage, screenshots)
//!                         └──► failed     (result `failure`, errors; input `{"fail": true}`,
//!                                          or the MFA code `000000`)
//!
//!  queued / running / interaction_required / review_required
//!          ── POST /task-runs/{id}/cancel ──► canceling ── step ──► canceled
//! ```
//!
//! A run asks for MFA when its task does (the seeded task *Download monthly statements* and
//! *Pull tax documents* do) or when its input holds `"mfa": true` (`"mfa": false` turns it
//! off). The interaction asks for one field, `code`; any non-empty code is accepted, except
//! `000000`, which makes the run fail with `errors[0].code == "mfa_code_invalid"`.
//! `review_required` only occurs in seeded data (the API has no review endpoint): such runs
//! stay put until canceled. `completed`, `failed` and `canceled` are terminal.
//!
//! Who steps, per [`StepMode`]:
//!
//! - [`StepMode::OnPoll`] (the default): every `GET /task-runs/{id}` moves *that* run one step
//!   before answering, so [`Client::wait_for_task_run`] finishes by itself.
//! - [`StepMode::Manual`]: only [`MockDeck::step`] / [`MockDeck::advance`] move runs.
//! - [`StepMode::Every`]: a background task steps every interval of real time.
//!
//! `step()` and `advance(n)` work in every mode and move all active runs at once.
//!
//! # Seed data
//!
//! The builder seeds tasks (`task_…`, on agents `agt_…`, in statuses `live`, `test`, `learning`,
//! with input/output schemas and storage settings) and task runs (`trun_…`) spread over the 30
//! days before the mock's start time, mostly finished (`completed` with `success`, `failure` or
//! `unknown`, `failed`, `canceled`, a few `review_required`), the newest few still active. Finished
//! runs carry output, screenshots and storage items (`stor_…`, `file_size` sent as a string, as
//! Deck does). The same [`seed`](MockDeckBuilder::seed) gives the same ids and data; with a
//! fixed [`start_time`](MockDeckBuilder::start_time) the timestamps are the same too.

use crate::client::ClientBuilder;
use crate::{Client, RetryPolicy};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The API key [`MockDeck::client`] uses when the builder set none.
pub const DEFAULT_MOCK_API_KEY: &str = "sk_test_mockdeck";

/// Default seed of the generated data.
pub const DEFAULT_SEED: u64 = 0x00de_c0de;

/// Default number of seeded tasks.
pub const DEFAULT_TASKS: usize = 6;

/// Default number of seeded task runs.
pub const DEFAULT_RUNS: usize = 150;

/// Longest request body the mock reads (1 MiB); longer bodies get a 400.
const MAX_BODY: usize = 1 << 20;
/// Deck's page-size bounds and default.
const MIN_LIMIT: i64 = 1;
const MAX_LIMIT: i64 = 100;
const DEFAULT_LIMIT: usize = 20;
/// Longest `Idempotency-Key` Deck accepts.
const MAX_IDEMPOTENCY_KEY: usize = 256;
/// The MFA code the mock treats as wrong.
const WRONG_MFA_CODE: &str = "000000";

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// Who moves task runs forward (see the [module docs](crate::mock#the-task-run-state-machine)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StepMode {
    /// Each `GET /task-runs/{run_id}` moves that run one step before answering, so polling
    /// (e.g. [`Client::wait_for_task_run`]) sees it progress. The default.
    #[default]
    OnPoll,
    /// Runs move only when you call [`MockDeck::step`] or [`MockDeck::advance`].
    Manual,
    /// A background task calls [`MockDeck::step`] every interval of real time (a zero
    /// interval never steps).
    Every(Duration),
}

/// Configures a [`MockDeck`]; build one with [`MockDeck::builder`].
///
/// ```
/// # #[tokio::main] async fn main() {
/// use deck::mock::{MockDeck, StepMode};
/// use std::time::Duration;
///
/// let mock = MockDeck::builder()
///     .seed(42)
///     .runs(1_000)
///     .step_mode(StepMode::Manual)
///     .step_duration(Duration::from_secs(10))
///     .api_key("sk_test_only_this_key")
///     .start()
///     .await;
/// assert_eq!(mock.run_count(), 1_000);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MockDeckBuilder {
    seed: u64,
    tasks: usize,
    runs: usize,
    start_time: Option<DateTime<Utc>>,
    step_duration: Duration,
    step_mode: StepMode,
    api_key: Option<String>,
}

impl Default for MockDeckBuilder {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            tasks: DEFAULT_TASKS,
            runs: DEFAULT_RUNS,
            start_time: None,
            step_duration: Duration::from_secs(3),
            step_mode: StepMode::OnPoll,
            api_key: None,
        }
    }
}

impl MockDeckBuilder {
    /// Seed of the generated ids and data (default [`DEFAULT_SEED`]). The same seed gives the
    /// same tasks and runs, and the same ids for runs created afterwards in the same order.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Number of seeded tasks (default 6). With 0 there are no tasks and no seeded runs.
    pub fn tasks(mut self, n: usize) -> Self {
        self.tasks = n;
        self
    }

    /// Number of seeded task runs (default 150).
    pub fn runs(mut self, n: usize) -> Self {
        self.runs = n;
        self
    }

    /// The mock clock's start (default: now, to the second). Seeded data lies in the 30 days
    /// before it; set it to make timestamps reproducible.
    pub fn start_time(mut self, start: DateTime<Utc>) -> Self {
        self.start_time = Some(start);
        self
    }

    /// How far the mock clock moves per step (default 3 s).
    pub fn step_duration(mut self, step: Duration) -> Self {
        self.step_duration = step;
        self
    }

    /// Who moves runs forward (default [`StepMode::OnPoll`]).
    pub fn step_mode(mut self, mode: StepMode) -> Self {
        self.step_mode = mode;
        self
    }

    /// Accept only `Authorization: Bearer <key>` (default: any bearer token). Other keys get
    /// a 401 with an empty body, as from Deck.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Seeds the data, binds `127.0.0.1` on a free port and starts serving.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, or if no loopback port can be bound (see
    /// [`try_start`](Self::try_start)).
    pub async fn start(self) -> MockDeck {
        match self.try_start().await {
            Ok(mock) => mock,
            Err(e) => panic!("MockDeck could not bind 127.0.0.1: {e}"),
        }
    }

    /// Like [`start`](Self::start), returning the bind error instead of panicking.
    pub async fn try_start(self) -> std::io::Result<MockDeck> {
        let start = self
            .start_time
            .unwrap_or_else(|| truncate_to_seconds(Utc::now()));
        let step = TimeDelta::from_std(self.step_duration).unwrap_or(TimeDelta::seconds(3));
        let world = World::seed(self.seed, self.tasks, self.runs, start, step);
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            api_key: self.api_key.clone(),
            step_mode: self.step_mode,
            requests: AtomicU64::new(0),
            request_salt: self.seed ^ 0x05ee_df00_d1d5,
        });

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let stopped = async {
                let _ = stop_rx.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::warn!(error = %e, "MockDeck server stopped with an error");
            }
        });
        let ticker = match self.step_mode {
            StepMode::Every(period) if !period.is_zero() => {
                let shared = shared.clone();
                Some(tokio::spawn(async move {
                    let mut interval = tokio::time::interval(period);
                    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    interval.tick().await; // the first tick is immediate
                    loop {
                        interval.tick().await;
                        shared.lock().step_all();
                    }
                }))
            }
            _ => None,
        };
        Ok(MockDeck {
            base_url: format!("http://{addr}/v2"),
            addr,
            api_key: self
                .api_key
                .unwrap_or_else(|| DEFAULT_MOCK_API_KEY.to_string()),
            shared,
            stop: Some(stop_tx),
            server: Some(server),
            ticker,
        })
    }
}

/// A stateful Deck served on loopback; see the [module docs](crate::mock).
///
/// Dropping it stops the server (requests in flight finish first).
pub struct MockDeck {
    base_url: String,
    addr: SocketAddr,
    api_key: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for MockDeck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockDeck")
            .field("base_url", &self.base_url)
            .field("step_mode", &self.shared.step_mode)
            .finish_non_exhaustive()
    }
}

impl MockDeck {
    /// Starts a mock with the default seed data (6 tasks, 150 runs) and [`StepMode::OnPoll`].
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, or if no loopback port can be bound.
    pub async fn start() -> MockDeck {
        Self::builder().start().await
    }

    /// A builder to configure seed data, the clock and authentication.
    pub fn builder() -> MockDeckBuilder {
        MockDeckBuilder::default()
    }

    /// The API root, e.g. `http://127.0.0.1:41234/v2`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The socket address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key [`client`](Self::client) sends: the builder's, else [`DEFAULT_MOCK_API_KEY`].
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// A client builder pointed at the mock with its API key and no retries, to adjust (timeouts,
    /// a retry policy) before building.
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .api_key(self.api_key.clone())
            .base_url(self.base_url.clone())
            .retry(RetryPolicy::none())
    }

    /// A client pointed at the mock (no retries: the mock never fails transiently).
    ///
    /// # Panics
    ///
    /// If the API key given to [`MockDeckBuilder::api_key`] cannot be sent as a header.
    pub fn client(&self) -> Client {
        match self.client_builder().build() {
            Ok(client) => client,
            Err(e) => panic!("MockDeck client: {e}"),
        }
    }

    /// Moves every active run one step (and the clock by one step duration). Returns how many
    /// runs changed status.
    pub fn step(&self) -> usize {
        self.shared.lock().step_all()
    }

    /// Calls [`step`](Self::step) `n` times; returns the total number of status changes.
    pub fn advance(&self, n: usize) -> usize {
        let mut world = self.shared.lock();
        (0..n).map(|_| world.step_all()).sum()
    }

    /// The mock clock's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.lock().now
    }

    /// Ids of all tasks, newest first (the order of `GET /tasks`).
    pub fn task_ids(&self) -> Vec<String> {
        let world = self.shared.lock();
        world
            .task_order
            .iter()
            .map(|&i| world.tasks[i].id.clone())
            .collect()
    }

    /// Number of task runs, seeded and created.
    pub fn run_count(&self) -> usize {
        self.shared.lock().runs.len()
    }

    /// The status of run `run_id` (`None` if there is no such run), without stepping it.
    pub fn run_status(&self, run_id: &str) -> Option<String> {
        let world = self.shared.lock();
        let &i = world.run_index.get(run_id)?;
        Some(world.runs[i].status.as_str().to_string())
    }

    /// Number of HTTP requests served so far.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops the server and waits until it has finished (in-flight requests complete).
    pub async fn shutdown(mut self) {
        self.stop.take();
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for MockDeck {
    fn drop(&mut self) {
        // Dropping the sender is the shutdown signal.
        self.stop.take();
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared state
// ---------------------------------------------------------------------------------------------

struct Shared {
    world: Mutex<World>,
    api_key: Option<String>,
    step_mode: StepMode,
    requests: AtomicU64,
    request_salt: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, World> {
        // A panic elsewhere must not turn every later request into one.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let hi = splitmix(n ^ self.request_salt);
        let lo = splitmix(hi ^ n);
        format!(
            "req_{}",
            base36((u128::from(hi) << 64) | u128::from(lo), 24)
        )
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return false;
        };
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return false;
        }
        match &self.api_key {
            Some(key) => token == key,
            None => true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Queued,
    Running,
    InteractionRequired,
    ReviewRequired,
    Canceling,
    Completed,
    Canceled,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::InteractionRequired => "interaction_required",
            Status::ReviewRequired => "review_required",
            Status::Canceling => "canceling",
            Status::Completed => "completed",
            Status::Canceled => "canceled",
            Status::Failed => "failed",
        }
    }
}

struct Task {
    id: String,
    template: usize,
    name: String,
    status: &'static str,
    agent_id: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

struct Run {
    id: String,
    task: usize,
    agent_id: String,
    status: Status,
    result: Option<&'static str>,
    credential_id: Option<String>,
    session_id: Option<String>,
    source_id: Option<String>,
    workflow_id: Option<String>,
    runtime_ms: Option<i64>,
    input: Value,
    tokenized: Vec<String>,
    output: Value,
    errors: Option<Value>,
    interaction: Option<Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    storage: Vec<StorageItem>,
    screenshots: Vec<Screenshot>,
    needs_mfa: bool,
    mfa_answered: bool,
    mfa_rejected: bool,
    fail: bool,
}

struct StorageItem {
    id: String,
    file_name: String,
    file_type: &'static str,
    file_size: u64,
    purpose: &'static str,
    extraction: Value,
    created_at: DateTime<Utc>,
}

struct Screenshot {
    file_name: String,
    file_size: u64,
    reasoning: Option<&'static str>,
    created_at: DateTime<Utc>,
}

/// A remembered successful write, for `Idempotency-Key` replay.
struct Remembered {
    method: Method,
    path: String,
    body: Value,
    status: StatusCode,
    response: Value,
    request_id: String,
}

struct World {
    now: DateTime<Utc>,
    step: TimeDelta,
    rng: fastrand::Rng,
    tasks: Vec<Task>,
    task_index: HashMap<String, usize>,
    /// Task indices, newest first.
    task_order: Vec<usize>,
    /// Oldest first: the index is the run's position in the newest-first list, reversed.
    runs: Vec<Run>,
    run_index: HashMap<String, usize>,
    storage_index: HashMap<String, (usize, usize)>,
    credentials: Vec<Vec<String>>,
    sources: Vec<String>,
    workflows: Vec<String>,
    idempotency: HashMap<String, Remembered>,
}

// ---------------------------------------------------------------------------------------------
// The task catalog and seed data
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Statements,
    UtilityBill,
    ClaimStatus,
    PayrollExport,
    AddressChange,
    TaxDocuments,
}

struct Template {
    kind: Kind,
    name: &'static str,
    prompt: &'static str,
    status: &'static str,
    agent: usize,
    mfa: bool,
    /// Relative weight when seeding runs.
    weight: u32,
}

const AGENTS: usize = 4; // Acme Bank portal, City Power & Light, Northwind Insurance, Contoso Payroll

const CATALOG: [Template; 6] = [
    Template {
        kind: Kind::Statements,
        name: "Download monthly statements",
        prompt: "Log in to the bank portal, open Statements, and download the PDF statement for \
                 the requested month. Extract the opening and closing balance.",
        status: "live",
        agent: 0,
        mfa: true,
        weight: 10,
    },
    Template {
        kind: Kind::UtilityBill,
        name: "Fetch latest utility bill",
        prompt: "Sign in to the utility account, download the most recent bill and report the \
                 amount due and due date.",
        status: "live",
        agent: 1,
        mfa: false,
        weight: 9,
    },
    Template {
        kind: Kind::ClaimStatus,
        name: "Check insurance claim status",
        prompt: "Look up the claim by number and report its current status and last update.",
        status: "live",
        agent: 2,
        mfa: false,
        weight: 7,
    },
    Template {
        kind: Kind::PayrollExport,
        name: "Export payroll register",
        prompt: "Export the payroll register for the pay period ending on the given date as CSV.",
        status: "test",
        agent: 3,
        mfa: false,
        weight: 4,
    },
    Template {
        kind: Kind::AddressChange,
        name: "Update mailing address",
        prompt: "Change the policy holder's mailing address and capture the confirmation page.",
        status: "live",
        agent: 2,
        mfa: false,
        weight: 3,
    },
    Template {
        kind: Kind::TaxDocuments,
        name: "Pull tax documents",
        prompt: "Download every tax form available for the given tax year.",
        status: "learning",
        agent: 0,
        mfa: true,
        weight: 1,
    },
];

fn input_schema(kind: Kind) -> Value {
    let login = json!({
        "username": {"type": "string", "description": "Portal user name, when no credential is given."},
        "password": {"type": "string", "writeOnly": true, "description": "Tokenized on receipt."}
    });
    let (mut properties, required) = match kind {
        Kind::Statements => (
            json!({
                "account_number": {"type": "string", "description": "Account to download statements for.", "examples": ["000123456789"]},
                "statement_month": {"type": "string", "pattern": "^\\d{4}-\\d{2}$", "examples": ["2026-10"]}
            }),
            json!(["account_number", "statement_month"]),
        ),
        Kind::UtilityBill => (
            json!({"account_number": {"type": "string", "examples": ["7730019921"]}}),
            json!(["account_number"]),
        ),
        Kind::ClaimStatus => (
            json!({"claim_number": {"type": "string", "pattern": "^CLM-\\d{7}$", "examples": ["CLM-0042137"]}}),
            json!(["claim_number"]),
        ),
        Kind::PayrollExport => (
            json!({"pay_period_end": {"type": "string", "format": "date", "examples": ["2026-10-31"]}}),
            json!(["pay_period_end"]),
        ),
        Kind::AddressChange => (
            json!({
                "street": {"type": "string", "examples": ["1 Market St"]},
                "city": {"type": "string", "examples": ["San Francisco"]},
                "postal_code": {"type": "string", "examples": ["94105"]},
                "country": {"type": "string", "default": "US"}
            }),
            json!(["street", "city", "postal_code"]),
        ),
        Kind::TaxDocuments => (
            json!({"tax_year": {"type": "integer", "minimum": 2000, "examples": [2025]}}),
            json!(["tax_year"]),
        ),
    };
    if matches!(
        kind,
        Kind::Statements | Kind::UtilityBill | Kind::TaxDocuments
    ) && let (Some(props), Value::Object(login)) = (properties.as_object_mut(), login)
    {
        props.extend(login);
    }
    json!({"type": "object", "properties": properties, "required": required})
}

fn output_schema(kind: Kind) -> Value {
    let properties = match kind {
        Kind::Statements => json!({
            "period": {"type": "string"}, "opening_balance": {"type": "number"},
            "closing_balance": {"type": "number"}, "currency": {"type": "string"},
            "statements_downloaded": {"type": "integer"}
        }),
        Kind::UtilityBill => json!({
            "account_number": {"type": "string"}, "amount_due": {"type": "number"},
            "currency": {"type": "string"}, "due_date": {"type": "string", "format": "date"},
            "kwh_used": {"type": "integer"}
        }),
        Kind::ClaimStatus => json!({
            "claim_number": {"type": "string"},
            "status": {"type": "string", "enum": ["in_review", "approved", "payment_sent", "more_info_needed"]},
            "last_updated": {"type": "string", "format": "date"}, "adjuster": {"type": "string"}
        }),
        Kind::PayrollExport => json!({
            "pay_period_end": {"type": "string", "format": "date"}, "employees": {"type": "integer"},
            "total_gross": {"type": "number"}, "currency": {"type": "string"}
        }),
        Kind::AddressChange => json!({
            "confirmation_number": {"type": "string"}, "effective_date": {"type": "string", "format": "date"}
        }),
        Kind::TaxDocuments => json!({
            "tax_year": {"type": "integer"}, "documents": {"type": "integer"}
        }),
    };
    json!({"type": "object", "properties": properties})
}

fn storage_config(kind: Kind) -> Value {
    match kind {
        Kind::Statements | Kind::UtilityBill | Kind::TaxDocuments => json!({
            "enabled": true, "file_types": ["application/pdf"], "extraction": {"enabled": true}
        }),
        Kind::PayrollExport => json!({
            "enabled": true, "file_types": ["text/csv"], "extraction": {"enabled": false}
        }),
        Kind::AddressChange => json!({
            "enabled": true, "file_types": ["image/png"], "extraction": {"enabled": false}
        }),
        Kind::ClaimStatus => Value::Null,
    }
}

const FAILURES: [(&str, &str, &str); 4] = [
    (
        "source",
        "login_failed",
        "The website rejected the username or password.",
    ),
    (
        "source",
        "site_unavailable",
        "The website answered HTTP 503 on 3 consecutive attempts.",
    ),
    (
        "task",
        "timeout",
        "The run exceeded the task's 30-minute time limit.",
    ),
    (
        "auth",
        "mfa_timeout",
        "No verification code was submitted before the interaction expired.",
    ),
];

const REASONING: [&str; 4] = [
    "Opened the sign-in page and filled in the user name.",
    "Navigated to the documents section from the account overview.",
    "The requested item is listed; opening it to capture the file.",
    "Confirmation page is shown; capturing it before finishing.",
];

const CLAIM_STATUSES: [&str; 4] = ["in_review", "approved", "payment_sent", "more_info_needed"];
const ADJUSTERS: [&str; 3] = ["J. Ortega", "M. Chen", "A. Novak"];

const STREETS: [&str; 4] = [
    "1 Market St",
    "742 Evergreen Terrace",
    "55 Water St",
    "12 Harbor Way",
];
const CITIES: [(&str, &str); 4] = [
    ("San Francisco", "94105"),
    ("Springfield", "62704"),
    ("New York", "10041"),
    ("Seattle", "98101"),
];

impl World {
    fn seed(
        seed: u64,
        n_tasks: usize,
        n_runs: usize,
        start: DateTime<Utc>,
        step: TimeDelta,
    ) -> World {
        let mut rng = fastrand::Rng::with_seed(seed);
        let agents: Vec<String> = (0..AGENTS).map(|_| new_id(&mut rng, "agt")).collect();
        let credentials: Vec<Vec<String>> = (0..AGENTS)
            .map(|_| (0..3).map(|_| new_id(&mut rng, "cred")).collect())
            .collect();
        let sources: Vec<String> = (0..AGENTS).map(|_| new_id(&mut rng, "src")).collect();
        let workflows: Vec<String> = (0..3).map(|_| new_id(&mut rng, "wf")).collect();

        let mut world = World {
            now: start,
            step,
            rng: fastrand::Rng::with_seed(0), // replaced once the seed data is drawn
            tasks: Vec::with_capacity(n_tasks),
            task_index: HashMap::new(),
            task_order: Vec::new(),
            runs: Vec::with_capacity(n_runs),
            run_index: HashMap::with_capacity(n_runs),
            storage_index: HashMap::new(),
            credentials,
            sources,
            workflows,
            idempotency: HashMap::new(),
        };

        // Tasks: the first of the catalog is the newest.
        for i in 0..n_tasks {
            let template = i % CATALOG.len();
            let t = &CATALOG[template];
            let name = match i / CATALOG.len() {
                0 => t.name.to_string(),
                n => format!("{} ({})", t.name, n + 1),
            };
            let created_at = start
                - TimeDelta::days(40 + 9 * i as i64)
                - TimeDelta::minutes(rng.i64(0..24 * 60));
            let updated_at = created_at + TimeDelta::days(rng.i64(1..30));
            let task = Task {
                id: new_id(&mut rng, "task"),
                template,
                name,
                status: t.status,
                agent_id: agents[t.agent].clone(),
                created_at,
                updated_at,
            };
            world.task_index.insert(task.id.clone(), world.tasks.len());
            world.tasks.push(task);
        }
        let mut order: Vec<usize> = (0..world.tasks.len()).collect();
        order.sort_by(|&a, &b| world.tasks[b].created_at.cmp(&world.tasks[a].created_at));
        world.task_order = order;

        if world.tasks.is_empty() {
            world.rng = fastrand::Rng::with_seed(rng.u64(..));
            return world;
        }

        // Runs: spread over the 30 days before `start`, the newest few still active.
        // Offsets before `start` in milliseconds, oldest first and all distinct.
        let thirty_days_ms = 30 * 24 * 3600 * 1000;
        let mut offsets: Vec<i64> = (0..n_runs)
            .map(|_| rng.i64(15 * 60 * 1000..thirty_days_ms))
            .collect();
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        for k in 1..offsets.len() {
            if offsets[k] >= offsets[k - 1] {
                offsets[k] = offsets[k - 1] - 1;
            }
        }
        let active = if n_runs == 0 {
            0
        } else {
            (n_runs / 100).clamp(3, 10).min(n_runs)
        };
        let weights: Vec<u32> = world
            .tasks
            .iter()
            .map(|t| CATALOG[t.template].weight)
            .collect();
        let total_weight: u32 = weights.iter().sum();
        for (j, offset) in offsets.into_iter().enumerate() {
            let mut roll = rng.u32(0..total_weight.max(1));
            let task = weights
                .iter()
                .position(|&w| {
                    if roll < w {
                        true
                    } else {
                        roll -= w;
                        false
                    }
                })
                .unwrap_or(0);
            let newest = n_runs - j; // 1 for the newest run
            let (created_at, status) = if newest <= active {
                let created = start - TimeDelta::seconds(40 * newest as i64 + rng.i64(0..30));
                let status = match newest % 3 {
                    1 => Status::Running,
                    2 if CATALOG[world.tasks[task].template].mfa => Status::InteractionRequired,
                    2 => Status::Running,
                    _ => Status::Queued,
                };
                (created, status)
            } else {
                let status = match rng.u32(0..100) {
                    0..=80 => Status::Completed,
                    81..=89 => Status::Failed,
                    90..=96 => Status::Canceled,
                    _ => Status::ReviewRequired,
                };
                (start - TimeDelta::milliseconds(offset), status)
            };
            let run = world.seed_run(&mut rng, task, created_at, status);
            world.insert_run(run);
        }
        // Runs created through the API draw from a generator of their own, so their ids depend
        // only on the seed and the order of writes.
        world.rng = fastrand::Rng::with_seed(rng.u64(..));
        world
    }

    fn seed_run(
        &mut self,
        rng: &mut fastrand::Rng,
        task: usize,
        created_at: DateTime<Utc>,
        status: Status,
    ) -> Run {
        let template = &CATALOG[self.tasks[task].template];
        let agent = template.agent;
        let (credential_id, source_id) = match rng.u32(0..10) {
            0..=6 => (Some(rng_pick(rng, &self.credentials[agent]).clone()), None),
            7 | 8 => (None, Some(self.sources[agent].clone())),
            _ => (None, None),
        };
        let mut input = sample_input(template.kind, rng, created_at);
        let mut tokenized = Vec::new();
        if credential_id.is_none()
            && matches!(
                template.kind,
                Kind::Statements | Kind::UtilityBill | Kind::TaxDocuments
            )
        {
            input["username"] = json!(format!("jdoe{}", rng.u32(10..99)));
            tokenized.push("password".to_string());
        }
        let mut run = Run {
            id: new_id(rng, "trun"),
            task,
            agent_id: self.tasks[task].agent_id.clone(),
            status: Status::Queued,
            result: None,
            credential_id,
            session_id: (rng.u32(0..100) < 15).then(|| new_id(rng, "sess")),
            source_id,
            workflow_id: (rng.u32(0..100) < 20).then(|| rng_pick(rng, &self.workflows).clone()),
            runtime_ms: None,
            input,
            tokenized,
            output: Value::Null,
            errors: None,
            interaction: None,
            created_at,
            updated_at: created_at,
            started_at: None,
            storage: Vec::new(),
            screenshots: Vec::new(),
            needs_mfa: template.mfa,
            mfa_answered: false,
            mfa_rejected: false,
            fail: false,
        };
        let started = created_at + TimeDelta::seconds(rng.i64(1..20));
        let ran = TimeDelta::milliseconds(rng.i64(8_000..240_000));
        match status {
            Status::Queued => {}
            Status::Running => {
                run.status = Status::Running;
                run.started_at = Some(started);
                run.updated_at = started;
                run.mfa_answered = rng.bool();
            }
            Status::InteractionRequired => {
                run.status = Status::InteractionRequired;
                run.started_at = Some(started);
                run.updated_at = started + TimeDelta::seconds(12);
                run.interaction = Some(mfa_interaction(run.updated_at));
                add_screenshots(&mut run, rng, 1, started);
            }
            Status::ReviewRequired => {
                run.status = Status::ReviewRequired;
                run.started_at = Some(started);
                run.updated_at = started + ran;
                run.mfa_answered = true;
                add_screenshots(&mut run, rng, 3, started);
                run.output = task_output(template.kind, &run.input, rng, run.updated_at);
            }
            Status::Completed => {
                run.started_at = Some(started);
                run.mfa_answered = true;
                let result = match rng.u32(0..100) {
                    0..=87 => "success",
                    88..=95 => "failure",
                    _ => "unknown",
                };
                finish_success(&mut run, template.kind, rng, started + ran, result);
            }
            Status::Failed => {
                run.started_at = Some(started);
                let (kind, code, message) = FAILURES[rng.usize(0..FAILURES.len())];
                finish_failure(&mut run, rng, started + ran, kind, code, message);
            }
            Status::Canceled | Status::Canceling => {
                run.status = Status::Canceled;
                if rng.bool() {
                    run.started_at = Some(started);
                    run.runtime_ms = Some(rng.i64(1_000..30_000));
                    add_screenshots(&mut run, rng, 1, started);
                }
                run.updated_at = started + TimeDelta::seconds(rng.i64(5..60));
            }
        }
        run
    }

    fn insert_run(&mut self, run: Run) -> usize {
        let i = self.runs.len();
        self.run_index.insert(run.id.clone(), i);
        for (k, item) in run.storage.iter().enumerate() {
            self.storage_index.insert(item.id.clone(), (i, k));
        }
        self.runs.push(run);
        i
    }

    fn reindex_storage(&mut self, i: usize) {
        for (k, item) in self.runs[i].storage.iter().enumerate() {
            self.storage_index.insert(item.id.clone(), (i, k));
        }
    }

    /// One step for every active run; returns how many changed status.
    fn step_all(&mut self) -> usize {
        self.now += self.step;
        let mut changed = 0;
        for i in 0..self.runs.len() {
            if self.transition(i) {
                changed += 1;
            }
        }
        changed
    }

    /// One step for run `i` alone.
    fn step_one(&mut self, i: usize) -> bool {
        // Paused and finished runs do not move, and neither does the clock for them.
        if !matches!(
            self.runs[i].status,
            Status::Queued | Status::Running | Status::Canceling
        ) {
            return false;
        }
        self.now += self.step;
        self.transition(i)
    }

    fn transition(&mut self, i: usize) -> bool {
        let now = self.now;
        let World {
            runs, tasks, rng, ..
        } = self;
        let run = &mut runs[i];
        let kind = CATALOG[tasks[run.task].template].kind;
        match run.status {
            Status::Queued => {
                run.status = Status::Running;
                run.started_at = Some(now);
                run.updated_at = now;
            }
            Status::Running => {
                let started = run.started_at.unwrap_or(run.created_at);
                if run.needs_mfa && !run.mfa_answered {
                    run.status = Status::InteractionRequired;
                    run.interaction = Some(mfa_interaction(now));
                    run.updated_at = now;
                    add_screenshots(run, rng, 1, started);
                } else if run.mfa_rejected {
                    finish_failure(
                        run,
                        rng,
                        now,
                        "auth",
                        "mfa_code_invalid",
                        "The website rejected the verification code.",
                    );
                } else if run.fail {
                    let (kind, code, message) = FAILURES[0];
                    finish_failure(run, rng, now, kind, code, message);
                } else {
                    finish_success(run, kind, rng, now, "success");
                    self.reindex_storage(i);
                }
            }
            Status::Canceling => {
                run.status = Status::Canceled;
                run.runtime_ms = run.started_at.map(|s| (now - s).num_milliseconds().max(0));
                run.updated_at = now;
            }
            Status::InteractionRequired
            | Status::ReviewRequired
            | Status::Completed
            | Status::Canceled
            | Status::Failed => return false,
        }
        true
    }
}

fn sample_input(kind: Kind, rng: &mut fastrand::Rng, at: DateTime<Utc>) -> Value {
    match kind {
        Kind::Statements => {
            let prev = at - TimeDelta::days(i64::from(at.day()) + 1);
            json!({
                "account_number": digits(rng, 12),
                "statement_month": format!("{:04}-{:02}", prev.year(), prev.month()),
            })
        }
        Kind::UtilityBill => json!({"account_number": digits(rng, 10)}),
        Kind::ClaimStatus => json!({"claim_number": format!("CLM-{}", digits(rng, 7))}),
        Kind::PayrollExport => {
            let end = at - TimeDelta::days(i64::from(at.day()));
            json!({"pay_period_end": end.format("%Y-%m-%d").to_string()})
        }
        Kind::AddressChange => {
            let (city, zip) = CITIES[rng.usize(0..CITIES.len())];
            json!({
                "street": STREETS[rng.usize(0..STREETS.len())],
                "city": city, "postal_code": zip, "country": "US",
            })
        }
        Kind::TaxDocuments => json!({"tax_year": at.year() - 1}),
    }
}

fn task_output(kind: Kind, input: &Value, rng: &mut fastrand::Rng, at: DateTime<Utc>) -> Value {
    let text = |key: &str, fallback: String| {
        input
            .get(key)
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or(fallback)
    };
    match kind {
        Kind::Statements => {
            let opening = money(rng, 50_000, 900_000);
            json!({
                "period": text("statement_month", format!("{:04}-{:02}", at.year(), at.month())),
                "opening_balance": opening,
                "closing_balance": money(rng, 50_000, 900_000),
                "currency": "USD",
                "statements_downloaded": 1,
            })
        }
        Kind::UtilityBill => json!({
            "account_number": text("account_number", digits(rng, 10)),
            "amount_due": money(rng, 4_000, 40_000),
            "currency": "USD",
            "due_date": (at + TimeDelta::days(14)).format("%Y-%m-%d").to_string(),
            "kwh_used": rng.u32(150..1_400),
        }),
        Kind::ClaimStatus => json!({
            "claim_number": text("claim_number", format!("CLM-{}", digits(rng, 7))),
            "status": CLAIM_STATUSES[rng.usize(0..CLAIM_STATUSES.len())],
            "last_updated": (at - TimeDelta::days(rng.i64(0..10))).format("%Y-%m-%d").to_string(),
            "adjuster": ADJUSTERS[rng.usize(0..ADJUSTERS.len())],
        }),
        Kind::PayrollExport => json!({
            "pay_period_end": text("pay_period_end", at.format("%Y-%m-%d").to_string()),
            "employees": rng.u32(8..240),
            "total_gross": money(rng, 5_000_000, 90_000_000),
            "currency": "USD",
        }),
        Kind::AddressChange => json!({
            "confirmation_number": format!("CHG-{}", digits(rng, 6)),
            "effective_date": (at + TimeDelta::days(1)).format("%Y-%m-%d").to_string(),
        }),
        Kind::TaxDocuments => json!({
            "tax_year": input.get("tax_year").and_then(Value::as_i64).unwrap_or(i64::from(at.year()) - 1),
            "documents": 2,
        }),
    }
}

fn task_files(
    kind: Kind,
    output: &Value,
    rng: &mut fastrand::Rng,
) -> Vec<(String, &'static str, Value)> {
    let s = |key: &str| output.get(key).cloned().unwrap_or(Value::Null);
    match kind {
        Kind::Statements => vec![(
            format!(
                "statement-{}.pdf",
                output["period"].as_str().unwrap_or("latest")
            ),
            "application/pdf",
            json!({
                "period": s("period"), "opening_balance": s("opening_balance"),
                "closing_balance": s("closing_balance"), "currency": "USD",
                "transactions": rng.u32(4..120),
            }),
        )],
        Kind::UtilityBill => vec![(
            format!(
                "bill-{}.pdf",
                output["due_date"].as_str().unwrap_or("latest")
            ),
            "application/pdf",
            json!({"amount_due": s("amount_due"), "due_date": s("due_date"), "kwh_used": s("kwh_used")}),
        )],
        Kind::PayrollExport => vec![(
            format!(
                "payroll-register-{}.csv",
                output["pay_period_end"].as_str().unwrap_or("latest")
            ),
            "text/csv",
            Value::Null,
        )],
        Kind::AddressChange => vec![(
            "address-change-confirmation.png".to_string(),
            "image/png",
            Value::Null,
        )],
        Kind::TaxDocuments => {
            let year = output["tax_year"].as_i64().unwrap_or(2025);
            vec![
                (
                    format!("1099-INT-{year}.pdf"),
                    "application/pdf",
                    json!({"form": "1099-INT", "tax_year": year, "interest_income": money(rng, 100, 250_000)}),
                ),
                (
                    format!("1098-{year}.pdf"),
                    "application/pdf",
                    json!({"form": "1098", "tax_year": year, "mortgage_interest": money(rng, 100_000, 2_500_000)}),
                ),
            ]
        }
        Kind::ClaimStatus => Vec::new(),
    }
}

fn finish_success(
    run: &mut Run,
    kind: Kind,
    rng: &mut fastrand::Rng,
    at: DateTime<Utc>,
    result: &'static str,
) {
    let started = run.started_at.unwrap_or(run.created_at);
    run.status = Status::Completed;
    run.result = Some(result);
    run.interaction = None;
    run.errors = None;
    run.runtime_ms = Some((at - started).num_milliseconds().max(0));
    run.updated_at = at;
    run.output = match result {
        "failure" => json!({"reason": "The requested document is not available yet."}),
        "unknown" => {
            json!({"reason": "The site showed no confirmation; the change may not have been saved."})
        }
        _ => task_output(kind, &run.input, rng, at),
    };
    add_screenshots(run, rng, 2, started);
    if result == "success" {
        for (file_name, file_type, extraction) in task_files(kind, &run.output, rng) {
            let file_size = match file_type {
                "text/csv" => rng.u64(2_000..90_000),
                "image/png" => rng.u64(60_000..400_000),
                _ => rng.u64(30_000..600_000),
            };
            run.storage.push(StorageItem {
                id: new_id(rng, "stor"),
                file_name,
                file_type,
                file_size,
                purpose: "output",
                extraction,
                created_at: at - TimeDelta::seconds(2),
            });
        }
    }
}

fn finish_failure(
    run: &mut Run,
    rng: &mut fastrand::Rng,
    at: DateTime<Utc>,
    kind: &str,
    code: &str,
    message: &str,
) {
    let started = run.started_at.unwrap_or(run.created_at);
    run.status = Status::Failed;
    run.result = Some("failure");
    run.interaction = None;
    run.output = Value::Null;
    run.runtime_ms = Some((at - started).num_milliseconds().max(0));
    run.updated_at = at;
    run.errors = Some(json!([{"type": kind, "code": code, "message": message, "field": null}]));
    add_screenshots(run, rng, 1, started);
}

fn add_screenshots(run: &mut Run, rng: &mut fastrand::Rng, n: usize, from: DateTime<Utc>) {
    for _ in 0..n {
        let k = run.screenshots.len();
        run.screenshots.push(Screenshot {
            file_name: format!("step-{:02}.png", k + 1),
            file_size: rng.u64(80_000..900_000),
            reasoning: k.is_multiple_of(2).then(|| REASONING[k % REASONING.len()]),
            created_at: from + TimeDelta::seconds(4 * (k as i64 + 1)),
        });
    }
}

fn mfa_interaction(at: DateTime<Utc>) -> Value {
    json!({
        "type": "mfa",
        "message": "Enter the 6-digit verification code sent to the phone number ending in 0142.",
        "fields": [{"name": "code", "type": "text", "label": "Verification code", "required": true}],
        "expires_at": ts(at + TimeDelta::minutes(10)),
    })
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/// What a handler answers, before headers.
struct Reply {
    status: StatusCode,
    body: Option<Value>,
    /// The request id to send (a replay sends the original one).
    request_id: Option<String>,
    replayed: bool,
    allow: Option<&'static str>,
}

impl Reply {
    fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            request_id: None,
            replayed: false,
            allow: None,
        }
    }

    fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            body: None,
            request_id: None,
            replayed: false,
            allow: None,
        }
    }

    fn into_response(self, request_id: &str) -> Response {
        let request_id = self.request_id.as_deref().unwrap_or(request_id);
        let mut response = match &self.body {
            Some(body) => {
                let mut r = Response::new(Body::from(body.to_string()));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                );
                r
            }
            None => Response::new(Body::empty()),
        };
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(request_id) {
            headers.insert(HeaderName::from_static("x-request-id"), v);
        }
        if self.replayed {
            headers.insert(
                HeaderName::from_static("idempotent-replayed"),
                HeaderValue::from_static("true"),
            );
        }
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

fn envelope(
    status: StatusCode,
    kind: &str,
    code: &str,
    message: String,
    field: Option<&str>,
    rid: &str,
) -> Reply {
    Reply::json(
        status,
        json!({
            "errors": [{"type": kind, "code": code, "message": message, "field": field}],
            "request_id": rid,
        }),
    )
}

fn validation(field: &str, message: String, rid: &str) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": {field: [message]},
            "traceId": rid,
        }),
    )
}

fn run_not_found(id: &str, rid: &str) -> Reply {
    envelope(
        StatusCode::NOT_FOUND,
        "request",
        "task_run_not_found",
        format!("No task run with id '{id}' exists."),
        None,
        rid,
    )
}

fn task_not_found(id: &str, rid: &str) -> Reply {
    envelope(
        StatusCode::NOT_FOUND,
        "request",
        "task_not_found",
        format!("No task with id '{id}' exists."),
        None,
        rid,
    )
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let request_id = shared.next_request_id();
    let (parts, body) = request.into_parts();
    if !shared.authorized(&parts.headers) {
        return Reply::empty(StatusCode::UNAUTHORIZED).into_response(&request_id);
    }
    let reply = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => dispatch(
            &shared,
            &parts.method,
            &parts.uri,
            &parts.headers,
            &bytes,
            &request_id,
        ),
        Err(_) => validation(
            "$",
            format!("The request body could not be read or is larger than {MAX_BODY} bytes."),
            &request_id,
        ),
    };
    reply.into_response(&request_id)
}

fn dispatch(
    shared: &Shared,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
    rid: &str,
) -> Reply {
    let raw_path = uri.path();
    let segments: Vec<String> = match raw_path.strip_prefix("/v2") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect(),
        _ => Vec::new(),
    };
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let query = Query::parse(uri.query());
    let get = method == Method::GET;
    let post = method == Method::POST;
    match segs.as_slice() {
        ["task-runs"] if get => list_runs(shared, &query, rid),
        ["task-runs", id] if get => get_run(shared, id, &query, rid),
        ["task-runs", id, "cancel"] if post => {
            write(shared, method, raw_path, headers, body, rid, |w, _| {
                cancel_run(w, id, rid)
            })
        }
        ["task-runs", id, "interaction"] if post => {
            write(shared, method, raw_path, headers, body, rid, |w, b| {
                submit_interaction(w, id, b, rid)
            })
        }
        ["task-runs", id, "storage"] if get => list_storage(shared, id, &query, rid),
        ["tasks"] if get => list_tasks(shared, &query, rid),
        ["tasks", id] if get => get_task(shared, id, rid),
        ["tasks", id, "run"] if post => {
            write(shared, method, raw_path, headers, body, rid, |w, b| {
                run_task(w, id, b, rid)
            })
        }
        ["test"] if get => Reply::json(
            StatusCode::OK,
            json!({"status": "ready", "environment": "test", "request_id": rid}),
        ),
        ["task-runs"]
        | ["task-runs", _]
        | ["task-runs", _, "storage"]
        | ["tasks"]
        | ["tasks", _]
        | ["test"] => method_not_allowed("GET"),
        ["task-runs", _, "cancel"] | ["task-runs", _, "interaction"] | ["tasks", _, "run"] => {
            method_not_allowed("POST")
        }
        _ => envelope(
            StatusCode::NOT_FOUND,
            "request",
            "route_not_found",
            format!("No route matches {method} {raw_path}."),
            None,
            rid,
        ),
    }
}

fn method_not_allowed(allow: &'static str) -> Reply {
    Reply {
        allow: Some(allow),
        ..Reply::empty(StatusCode::METHOD_NOT_ALLOWED)
    }
}

/// A parsed JSON request body: `None` for an empty body.
type JsonBody = Option<Map<String, Value>>;

/// Runs a write with `Idempotency-Key` handling and body parsing.
fn write(
    shared: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
    rid: &str,
    op: impl FnOnce(&mut World, JsonBody) -> Reply,
) -> Reply {
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if !k.is_empty() && k.chars().count() <= MAX_IDEMPOTENCY_KEY => {
            Some(k.to_string())
        }
        Some(_) => {
            return validation(
                "Idempotency-Key",
                format!(
                    "The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters."
                ),
                rid,
            );
        }
    };
    // The body as compared for replay: JSON by value, anything else by its bytes.
    let parsed: Result<Value, serde_json::Error> = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(body)
    };
    let fingerprint = match &parsed {
        Ok(v) => v.clone(),
        Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
    };

    let mut world = shared.lock();
    if let Some(key) = &key
        && let Some(seen) = world.idempotency.get(key)
    {
        if seen.method == *method && seen.path == path && seen.body == fingerprint {
            return Reply {
                request_id: Some(seen.request_id.clone()),
                replayed: true,
                ..Reply::json(seen.status, seen.response.clone())
            };
        }
        return envelope(
            StatusCode::CONFLICT,
            "idempotency",
            "idempotency_error",
            "This Idempotency-Key was already used with a different request; use a new key for a new request.".into(),
            None,
            rid,
        );
    }

    let body = match parsed {
        Ok(Value::Null) => None,
        Ok(Value::Object(map)) => Some(map),
        Ok(other) => {
            return validation(
                "$",
                format!(
                    "The JSON value could not be converted to an object (got {}).",
                    json_type(&other)
                ),
                rid,
            );
        }
        Err(e) => {
            return validation(
                "$",
                format!("The request body is not valid JSON: {e}."),
                rid,
            );
        }
    };
    let reply = op(&mut world, body);
    // Only successes are remembered: a failed write may be retried with the same key.
    if let (Some(key), Some(response)) = (key, &reply.body)
        && reply.status.is_success()
    {
        world.idempotency.insert(
            key,
            Remembered {
                method: method.clone(),
                path: path.to_string(),
                body: fingerprint,
                status: reply.status,
                response: response.clone(),
                request_id: rid.to_string(),
            },
        );
    }
    reply
}

fn list_runs(shared: &Shared, q: &Query, rid: &str) -> Reply {
    let limit = match q.limit(rid) {
        Ok(l) => l,
        Err(reply) => return reply,
    };
    let created_after = match q.time("created_after", rid) {
        Ok(t) => t,
        Err(reply) => return reply,
    };
    let created_before = match q.time("created_before", rid) {
        Ok(t) => t,
        Err(reply) => return reply,
    };
    let lower = |v: Vec<&str>| -> Vec<String> {
        v.into_iter()
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let statuses = lower(q.all("status"));
    let outcomes = lower(q.all("outcome"));
    let sources: Vec<&str> = q
        .all("source_id")
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let task_id = q.one("task_id");
    let agent_id = q.one("agent_id");
    let credential_id = q.one("credential_id");
    let workflow_id = q.one("workflow_id");
    let search = q.one("search").map(str::to_lowercase);

    let world = shared.lock();
    let start = match q.one("cursor") {
        None => world.runs.len(),
        Some(c) => match decode_cursor(c).and_then(|id| world.run_index.get(&id).copied()) {
            Some(i) => i,
            None => return bad_cursor(rid),
        },
    };
    let matches = |run: &Run| -> bool {
        let task = &world.tasks[run.task];
        (statuses.is_empty() || statuses.iter().any(|s| s == run.status.as_str()))
            && (outcomes.is_empty() || run.result.is_some_and(|r| outcomes.iter().any(|o| o == r)))
            && (sources.is_empty()
                || run
                    .source_id
                    .as_deref()
                    .is_some_and(|s| sources.contains(&s)))
            && task_id.is_none_or(|t| task.id == t)
            && agent_id.is_none_or(|a| run.agent_id == a)
            && credential_id.is_none_or(|c| run.credential_id.as_deref() == Some(c))
            && workflow_id.is_none_or(|w| run.workflow_id.as_deref() == Some(w))
            && created_after.is_none_or(|t| run.created_at > t)
            && created_before.is_none_or(|t| run.created_at < t)
            && search.as_deref().is_none_or(|s| {
                task.name.to_lowercase().contains(s)
                    || task.id.to_lowercase().contains(s)
                    || run.id.to_lowercase().contains(s)
            })
    };
    let mut data = Vec::with_capacity(limit);
    let mut has_more = false;
    for run in world.runs[..start].iter().rev().filter(|r| matches(r)) {
        if data.len() == limit {
            has_more = true;
            break;
        }
        data.push(run);
    }
    let next_cursor = match (has_more, data.last()) {
        (true, Some(last)) => json!(encode_cursor(&last.id)),
        _ => Value::Null,
    };
    let data: Vec<Value> = data
        .iter()
        .map(|r| Value::Object(run_json(&world, r)))
        .collect();
    Reply::json(
        StatusCode::OK,
        json!({"data": data, "has_more": has_more, "next_cursor": next_cursor, "request_id": rid}),
    )
}

fn get_run(shared: &Shared, id: &str, q: &Query, rid: &str) -> Reply {
    let mut world = shared.lock();
    let Some(&i) = world.run_index.get(id) else {
        return run_not_found(id, rid);
    };
    if shared.step_mode == StepMode::OnPoll {
        world.step_one(i);
    }
    let sections: Vec<String> = q
        .all("include")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let wants = |s: &str| sections.iter().any(|x| x == s);
    let run = &world.runs[i];
    let mut body = run_json(&world, run);
    if wants("input") {
        body.insert("input".into(), run.input.clone());
        if !run.tokenized.is_empty() {
            body.insert("tokenized".into(), json!(run.tokenized));
        }
    }
    if wants("storage") {
        let items: Vec<Value> = run
            .storage
            .iter()
            .map(|s| {
                let mut item = storage_json(s);
                item.insert("purpose".into(), json!(s.purpose));
                Value::Object(item)
            })
            .collect();
        body.insert("storage".into(), Value::Array(items));
    }
    if wants("artifacts") {
        let shots: Vec<Value> = run
            .screenshots
            .iter()
            .map(|s| {
                json!({
                    "file_name": s.file_name, "file_type": "image/png",
                    "file_size": s.file_size.to_string(),
                    "url": signed_url(&run.id, &s.file_name, world.now),
                    "reasoning": s.reasoning, "created_at": ts(s.created_at),
                })
            })
            .collect();
        body.insert("artifacts".into(), json!({"screenshots": shots}));
    }
    body.insert("request_id".into(), json!(rid));
    Reply::json(StatusCode::OK, Value::Object(body))
}

fn cancel_run(world: &mut World, id: &str, rid: &str) -> Reply {
    let Some(&i) = world.run_index.get(id) else {
        return run_not_found(id, rid);
    };
    let now = world.now;
    let run = &mut world.runs[i];
    match run.status {
        Status::Completed | Status::Canceled | Status::Failed => {
            return envelope(
                StatusCode::CONFLICT,
                "request",
                "task_run_not_cancelable",
                format!(
                    "Task run '{id}' is already {} and cannot be canceled.",
                    run.status.as_str()
                ),
                None,
                rid,
            );
        }
        Status::Canceling => {}
        Status::Queued | Status::Running | Status::InteractionRequired | Status::ReviewRequired => {
            run.status = Status::Canceling;
            run.interaction = None;
            run.updated_at = now;
        }
    }
    run_reply(world, i, StatusCode::OK, rid)
}

fn submit_interaction(world: &mut World, id: &str, body: JsonBody, rid: &str) -> Reply {
    // As in ASP.NET, the body is validated (400) before the action looks the run up (404).
    let input = match body.as_ref().and_then(|b| b.get("input")) {
        None | Some(Value::Null) => {
            return validation("input", "The input field is required.".into(), rid);
        }
        Some(Value::Object(map)) => map.clone(),
        Some(other) => {
            return validation(
                "input",
                format!(
                    "The input field must be an object (got {}).",
                    json_type(other)
                ),
                rid,
            );
        }
    };
    let Some(&i) = world.run_index.get(id) else {
        return run_not_found(id, rid);
    };
    let now = world.now;
    let run = &mut world.runs[i];
    if run.status != Status::InteractionRequired {
        return envelope(
            StatusCode::CONFLICT,
            "request",
            "task_run_not_awaiting_interaction",
            format!(
                "Task run '{id}' is {}, not interaction_required; there is nothing to answer.",
                run.status.as_str()
            ),
            None,
            rid,
        );
    }
    let code = match input.get("code") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return envelope(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request",
                "invalid_interaction_input",
                "The interaction requires a value for field 'code'.".into(),
                Some("code"),
                rid,
            );
        }
    };
    run.status = Status::Running;
    run.interaction = None;
    run.mfa_answered = true;
    run.mfa_rejected = code == WRONG_MFA_CODE;
    run.updated_at = now;
    run_reply(world, i, StatusCode::OK, rid)
}

fn run_task(world: &mut World, task_id: &str, body: JsonBody, rid: &str) -> Reply {
    let body = body.unwrap_or_default();
    let mut ids = [None, None, None];
    for (slot, field) in ids
        .iter_mut()
        .zip(["credential_id", "source_id", "session_id"])
    {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => *slot = Some(s.clone()),
            Some(other) => {
                return validation(
                    &format!("$.{field}"),
                    format!(
                        "The JSON value could not be converted to System.String (got {}). Path: $.{field}",
                        json_type(other)
                    ),
                    rid,
                );
            }
        }
    }
    let [credential_id, source_id, session_id] = ids;
    let Some(&t) = world.task_index.get(task_id) else {
        return task_not_found(task_id, rid);
    };
    let mut input = body.get("input").cloned().unwrap_or(Value::Null);
    let template = &CATALOG[world.tasks[t].template];
    let schema = input_schema(template.kind);
    if !(input.is_null() || input.is_object()) {
        return envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request",
            "invalid_input",
            format!(
                "input must be an object matching the task's input_schema (got {}).",
                json_type(&input)
            ),
            Some("input"),
            rid,
        );
    }
    if let Some(required) = schema["required"].as_array() {
        for name in required.iter().filter_map(Value::as_str) {
            let present = input.get(name).is_some_and(|v| !v.is_null());
            if !present {
                return envelope(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "request",
                    "invalid_input",
                    format!("input.{name} is required by the task's input_schema."),
                    Some(&format!("input.{name}")),
                    rid,
                );
            }
        }
    }
    // Fields the schema marks `writeOnly` are tokenized: removed from `input`, named in
    // `tokenized`.
    let mut tokenized = Vec::new();
    if let (Some(map), Some(props)) = (input.as_object_mut(), schema["properties"].as_object()) {
        for (name, prop) in props {
            if prop.get("writeOnly") == Some(&Value::Bool(true)) && map.remove(name).is_some() {
                tokenized.push(name.clone());
            }
        }
    }
    let flag = |name: &str| input.get(name).and_then(Value::as_bool);
    let needs_mfa = flag("mfa").unwrap_or(template.mfa);
    let fail = flag("fail").unwrap_or(false);

    // Each created run is a millisecond apart, so creation order shows in `created_at`.
    world.now += TimeDelta::milliseconds(1);
    let now = world.now;
    let run = Run {
        id: new_id(&mut world.rng, "trun"),
        task: t,
        agent_id: world.tasks[t].agent_id.clone(),
        status: Status::Queued,
        result: None,
        credential_id,
        session_id,
        source_id,
        workflow_id: None,
        runtime_ms: None,
        input,
        tokenized,
        output: Value::Null,
        errors: None,
        interaction: None,
        created_at: now,
        updated_at: now,
        started_at: None,
        storage: Vec::new(),
        screenshots: Vec::new(),
        needs_mfa,
        mfa_answered: false,
        mfa_rejected: false,
        fail,
    };
    let i = world.insert_run(run);
    run_reply(world, i, StatusCode::CREATED, rid)
}

fn list_storage(shared: &Shared, id: &str, q: &Query, rid: &str) -> Reply {
    let limit = match q.limit(rid) {
        Ok(l) => l,
        Err(reply) => return reply,
    };
    let world = shared.lock();
    let Some(&i) = world.run_index.get(id) else {
        return run_not_found(id, rid);
    };
    let run = &world.runs[i];
    let start = match q.one("cursor") {
        None => 0,
        Some(c) => match decode_cursor(c).and_then(|sid| world.storage_index.get(&sid).copied()) {
            Some((ri, k)) if ri == i => k + 1,
            _ => return bad_cursor(rid),
        },
    };
    let rest = run.storage.get(start..).unwrap_or_default();
    let page = &rest[..rest.len().min(limit)];
    let has_more = rest.len() > page.len();
    let next_cursor = match (has_more, page.last()) {
        (true, Some(last)) => json!(encode_cursor(&last.id)),
        _ => Value::Null,
    };
    let data: Vec<Value> = page
        .iter()
        .map(|s| {
            let mut item = storage_json(s);
            item.insert("task_run_id".into(), json!(run.id));
            Value::Object(item)
        })
        .collect();
    Reply::json(
        StatusCode::OK,
        json!({"data": data, "has_more": has_more, "next_cursor": next_cursor, "request_id": rid}),
    )
}

fn list_tasks(shared: &Shared, q: &Query, rid: &str) -> Reply {
    let limit = match q.limit(rid) {
        Ok(l) => l,
        Err(reply) => return reply,
    };
    let agent_id = q.one("agent_id");
    let status = q.one("status").map(str::to_ascii_lowercase);
    let world = shared.lock();
    let start = match q.one("cursor") {
        None => 0,
        Some(c) => {
            let pos = decode_cursor(c).and_then(|id| {
                let &t = world.task_index.get(&id)?;
                world.task_order.iter().position(|&x| x == t)
            });
            match pos {
                Some(p) => p + 1,
                None => return bad_cursor(rid),
            }
        }
    };
    let mut data = Vec::new();
    let mut has_more = false;
    for &t in world.task_order.iter().skip(start) {
        let task = &world.tasks[t];
        if agent_id.is_some_and(|a| task.agent_id != a)
            || status.as_deref().is_some_and(|s| task.status != s)
        {
            continue;
        }
        if data.len() == limit {
            has_more = true;
            break;
        }
        data.push(task);
    }
    let next_cursor = match (has_more, data.last()) {
        (true, Some(last)) => json!(encode_cursor(&last.id)),
        _ => Value::Null,
    };
    // The spec reuses `GetTaskResponse` for list items, `request_id` (required) included.
    let data: Vec<Value> = data
        .into_iter()
        .map(|t| {
            let mut item = task_json(t);
            item.insert("request_id".into(), json!(rid));
            Value::Object(item)
        })
        .collect();
    Reply::json(
        StatusCode::OK,
        json!({"data": data, "has_more": has_more, "next_cursor": next_cursor, "request_id": rid}),
    )
}

fn get_task(shared: &Shared, id: &str, rid: &str) -> Reply {
    let world = shared.lock();
    let Some(&t) = world.task_index.get(id) else {
        return task_not_found(id, rid);
    };
    let mut body = task_json(&world.tasks[t]);
    body.insert("request_id".into(), json!(rid));
    Reply::json(StatusCode::OK, Value::Object(body))
}

fn bad_cursor(rid: &str) -> Reply {
    validation(
        "cursor",
        "The cursor is invalid or does not belong to this list.".into(),
        rid,
    )
}

fn run_reply(world: &World, i: usize, status: StatusCode, rid: &str) -> Reply {
    let mut body = run_json(world, &world.runs[i]);
    body.insert("request_id".into(), json!(rid));
    Reply::json(status, Value::Object(body))
}

/// The fields every task-run object has (list item and detail alike).
fn run_json(world: &World, run: &Run) -> Map<String, Value> {
    let value = json!({
        "id": run.id,
        "object": "task_run",
        "status": run.status.as_str(),
        "result": run.result,
        "task_id": world.tasks[run.task].id,
        "credential_id": run.credential_id,
        "session_id": run.session_id,
        "agent_id": run.agent_id,
        "source_id": run.source_id,
        "runtime_ms": run.runtime_ms,
        "output": run.output,
        "errors": run.errors,
        "interaction": run.interaction,
        "created_at": ts(run.created_at),
        "updated_at": ts(run.updated_at),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A storage item's common fields; `file_size` is a string, as Deck sends it.
fn storage_json(s: &StorageItem) -> Map<String, Value> {
    let value = json!({
        "id": s.id,
        "object": "storage",
        "file_name": s.file_name,
        "file_type": s.file_type,
        "file_size": s.file_size.to_string(),
        "url": signed_url(&s.id, &s.file_name, s.created_at),
        "extraction": s.extraction,
        "created_at": ts(s.created_at),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn task_json(task: &Task) -> Map<String, Value> {
    let t = &CATALOG[task.template];
    let value = json!({
        "id": task.id,
        "object": "task",
        "name": task.name,
        "prompt": t.prompt,
        "status": task.status,
        "agent_id": task.agent_id,
        "input_schema": input_schema(t.kind),
        "output_schema": output_schema(t.kind),
        "storage": storage_config(t.kind),
        "created_at": ts(task.created_at),
        "updated_at": ts(task.updated_at),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A placeholder "signed" URL on a host that never resolves (`.invalid`).
fn signed_url(owner: &str, file_name: &str, at: DateTime<Utc>) -> String {
    let expires = (at + TimeDelta::hours(1)).timestamp();
    let signature = splitmix(expires as u64 ^ owner.len() as u64 ^ file_name.len() as u64);
    format!(
        "https://storage.mockdeck.invalid/{owner}/{file_name}?expires={expires}&signature={signature:016x}"
    )
}

// ---------------------------------------------------------------------------------------------
// Query strings, cursors, small helpers
// ---------------------------------------------------------------------------------------------

/// A query string as ASP.NET binds it: names case-insensitive, arrays as repeated names (also
/// accepted as `name[]`).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| {
                k.eq_ignore_ascii_case(name)
                    || k.strip_suffix("[]")
                        .is_some_and(|k| k.eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first non-empty value.
    fn one(&self, name: &str) -> Option<&str> {
        self.all(name).into_iter().find(|v| !v.is_empty())
    }

    fn limit(&self, rid: &str) -> Result<usize, Reply> {
        let Some(raw) = self.all("limit").into_iter().next() else {
            return Ok(DEFAULT_LIMIT);
        };
        match raw.trim().parse::<i64>() {
            Ok(n) if (MIN_LIMIT..=MAX_LIMIT).contains(&n) => Ok(n as usize),
            Ok(_) => Err(validation(
                "limit",
                format!("The field limit must be between {MIN_LIMIT} and {MAX_LIMIT}."),
                rid,
            )),
            Err(_) => Err(validation(
                "limit",
                format!("The value '{raw}' is not valid for limit."),
                rid,
            )),
        }
    }

    fn time(&self, name: &str, rid: &str) -> Result<Option<DateTime<Utc>>, Reply> {
        let Some(raw) = self.one(name) else {
            return Ok(None);
        };
        parse_time(raw.trim()).map(Some).ok_or_else(|| {
            validation(
                name,
                format!("The value '{raw}' is not valid for {name}."),
                rid,
            )
        })
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The opaque cursor: base64url (unpadded) of the last item's id.
fn encode_cursor(id: &str) -> String {
    let bytes = id.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
        }
    }
    out
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let mut out = Vec::with_capacity(cursor.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in cursor.trim_end_matches('=').bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deck's timestamp form: RFC 3339, UTC, milliseconds.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn truncate_to_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

fn new_id(rng: &mut fastrand::Rng, prefix: &str) -> String {
    format!("{prefix}_{}", base36(rng.u128(..), 24))
}

fn base36(mut bits: u128, len: usize) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; len];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(bits % 36) as usize];
        bits /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn rng_pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(0..items.len())]
}

fn digits(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.u8(0..10))).collect()
}

fn money(rng: &mut fastrand::Rng, min_cents: u64, max_cents: u64) -> f64 {
    rng.u64(min_cents..max_cents) as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for id in [
            "trun_abc",
            "t",
            "ab",
            "abc",
            "stor_0123456789abcdefghijklmn",
        ] {
            assert_eq!(decode_cursor(&encode_cursor(id)).as_deref(), Some(id));
        }
        assert_eq!(decode_cursor("!!"), None);
    }

    #[test]
    fn percent_decoding_never_panics() {
        assert_eq!(percent_decode("trun_%41"), "trun_A");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%e2%82%ac"), "€");
    }

    #[test]
    fn seeding_is_deterministic() {
        let start = Utc::now();
        let a = World::seed(7, 6, 50, start, TimeDelta::seconds(3));
        let b = World::seed(7, 6, 50, start, TimeDelta::seconds(3));
        let ids = |w: &World| w.runs.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert!(
            a.runs
                .windows(2)
                .all(|w| w[0].created_at <= w[1].created_at)
        );
    }
}
