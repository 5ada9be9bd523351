//! The in-memory world: every resource Deck serves, the task-run state machine, the events that
//! record changes, and the remembered responses of idempotent writes. No HTTP here;
//! [`routes`](super::routes) and the resource handlers lock the world, read or change it, and
//! render replies.

use super::StepMode;
use super::faults::Faults;
use super::seed::{FAILURES, Kind, REASONING, placeholder_output, task_files, task_output};
use axum::http::{Method, StatusCode};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

/// Deck tears a session down after 10 minutes without an executing run.
const SESSION_IDLE_TIMEOUT: TimeDelta = TimeDelta::minutes(10);

/// What the server task, the ticker and [`MockDeck`](super::MockDeck) share.
pub(crate) struct Shared {
    pub(crate) world: Mutex<World>,
    pub(crate) api_key: Option<String>,
    pub(crate) step_mode: StepMode,
    pub(crate) requests: AtomicU64,
    pub(crate) request_salt: u64,
    /// Injected faults and the rate-limit window.
    pub(crate) faults: Mutex<Faults>,
    /// Requests per API key (see `usage`).
    pub(crate) usage: super::usage::UsageLog,
    /// Set when the mock stops: slow bodies and delays end at once instead of holding the
    /// server open.
    pub(crate) closing: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        // A panic elsewhere must not turn every later request into one.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves when the mock is stopping.
    pub(crate) async fn stopping(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closing| *closing).await;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
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
    pub(crate) fn as_str(self) -> &'static str {
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

    /// Not finished: the run still holds its session.
    pub(crate) fn is_active(self) -> bool {
        !matches!(self, Status::Completed | Status::Canceled | Status::Failed)
    }
}

pub(crate) struct Task {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) status: &'static str,
    pub(crate) agent_id: String,
    pub(crate) prompt: Option<String>,
    pub(crate) input_schema: Value,
    pub(crate) output_schema: Value,
    pub(crate) storage: Value,
    /// The catalog entry a seeded task was made from, which shapes its runs' output and files;
    /// tasks created through the API have none and answer with placeholder output.
    pub(crate) kind: Option<Kind>,
    /// Whether its runs ask for MFA unless their input says otherwise.
    pub(crate) mfa: bool,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

pub(crate) struct Run {
    pub(crate) id: String,
    /// Index into [`World::tasks`].
    pub(crate) task: usize,
    pub(crate) agent_id: String,
    pub(crate) status: Status,
    pub(crate) result: Option<&'static str>,
    pub(crate) credential_id: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) source_id: Option<String>,
    pub(crate) workflow_id: Option<String>,
    pub(crate) runtime_ms: Option<i64>,
    pub(crate) input: Value,
    pub(crate) tokenized: Vec<String>,
    pub(crate) output: Value,
    pub(crate) errors: Option<Value>,
    pub(crate) interaction: Option<Value>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) started_at: Option<DateTime<Utc>>,
    pub(crate) storage: Vec<StorageItem>,
    pub(crate) screenshots: Vec<Screenshot>,
    pub(crate) needs_mfa: bool,
    pub(crate) mfa_answered: bool,
    pub(crate) mfa_rejected: bool,
    pub(crate) fail: bool,
}

pub(crate) struct StorageItem {
    pub(crate) id: String,
    pub(crate) file_name: String,
    pub(crate) file_type: &'static str,
    pub(crate) file_size: u64,
    pub(crate) purpose: &'static str,
    pub(crate) extraction: Value,
    pub(crate) created_at: DateTime<Utc>,
}

pub(crate) struct Screenshot {
    pub(crate) file_name: String,
    pub(crate) file_size: u64,
    pub(crate) reasoning: Option<&'static str>,
    pub(crate) created_at: DateTime<Utc>,
}

pub(crate) struct Agent {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

pub(crate) struct Source {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) kind: String,
    pub(crate) url: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

pub(crate) struct Credential {
    pub(crate) id: String,
    pub(crate) source_id: String,
    pub(crate) status: &'static str,
    pub(crate) auth_method: &'static str,
    /// What may be shown of the stored details (the username, non-secret `source_fields`). The
    /// secrets themselves are never kept: nothing could ever send them back.
    pub(crate) summary: Value,
    pub(crate) external_id: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// A session's status is not stored but follows from its runs; see [`World::session_state`].
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) ended_at: Option<DateTime<Utc>>,
}

pub(crate) struct Destination {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) status: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) events: Option<Vec<String>>,
    /// A webhook's signing secret (`whsec_…`): given, or made by MockDeck. Never answered.
    pub(crate) secret: Option<String>,
    /// The secret replaced by the last rotation, and when: deliveries are signed with it too
    /// for 24 h of mock clock (Deck: "previous secret valid 24 h").
    pub(crate) previous_secret: Option<(String, DateTime<Utc>)>,
    /// A webhook's `custom_headers`, sent with each delivery. Never answered.
    pub(crate) headers: Vec<(String, String)>,
    /// The type-keyed configuration object as answered (request-only secrets dropped).
    pub(crate) config: Value,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

pub(crate) struct Event {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) data: Value,
    pub(crate) created_at: DateTime<Utc>,
}

/// One event sent (or being sent) to one webhook destination.
pub(crate) struct DeliveryRow {
    pub(crate) id: String,
    pub(crate) destination_id: String,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    /// `success` or `failure` once settled.
    pub(crate) status: Option<&'static str>,
    pub(crate) attempts: u32,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) delivered_at: Option<DateTime<Utc>>,
}

pub(crate) trait Row {
    fn id(&self) -> &str;
}

macro_rules! rows {
    ($($t:ty),*) => {$(
        impl Row for $t {
            fn id(&self) -> &str {
                &self.id
            }
        }
    )*};
}
rows!(
    Agent,
    Source,
    Credential,
    Session,
    Destination,
    Event,
    DeliveryRow
);

/// The rows of one resource in creation order, found by id. A deleted row leaves a hole, so a
/// cursor naming it still knows where the next page starts.
pub(crate) struct Table<T> {
    rows: Vec<Option<T>>,
    at: HashMap<String, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: Vec::new(),
            at: HashMap::new(),
        }
    }
}

impl<T: Row> Table<T> {
    pub(crate) fn insert(&mut self, row: T) {
        self.at.insert(row.id().to_string(), self.rows.len());
        self.rows.push(Some(row));
    }

    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        self.rows[*self.at.get(id)?].as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.rows[*self.at.get(id)?].as_mut()
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<T> {
        self.rows[*self.at.get(id)?].take()
    }

    /// Where row `id` is or was.
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.at.get(id).copied()
    }

    /// One past the newest position.
    pub(crate) fn end(&self) -> usize {
        self.rows.len()
    }

    /// The rows before position `end`, newest first.
    pub(crate) fn newest_first(&self, end: usize) -> impl Iterator<Item = &T> {
        self.rows[..end].iter().rev().flatten()
    }
}

/// A remembered successful write, for `Idempotency-Key` replay.
pub(crate) struct Remembered {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) body: Value,
    pub(crate) status: StatusCode,
    pub(crate) response: Value,
    pub(crate) request_id: String,
}

pub(crate) struct World {
    pub(crate) now: DateTime<Utc>,
    pub(crate) step: TimeDelta,
    pub(crate) rng: fastrand::Rng,
    pub(crate) tasks: Vec<Task>,
    pub(crate) task_index: HashMap<String, usize>,
    /// Task indices, newest first.
    pub(crate) task_order: Vec<usize>,
    /// Oldest first: the index is the run's position in the newest-first list, reversed.
    pub(crate) runs: Vec<Run>,
    pub(crate) run_index: HashMap<String, usize>,
    /// Storage id → (run index, position in that run's `storage`).
    pub(crate) storage_index: HashMap<String, (usize, usize)>,
    pub(crate) agents: Table<Agent>,
    pub(crate) sources: Table<Source>,
    pub(crate) credentials: Table<Credential>,
    pub(crate) sessions: Table<Session>,
    pub(crate) destinations: Table<Destination>,
    pub(crate) events: Table<Event>,
    pub(crate) deliveries: Table<DeliveryRow>,
    /// Where recorded events go to be delivered (`None` until the mock starts delivering).
    pub(crate) outbox: Option<super::deliveries::Outbox>,
    /// Event ids come from a generator of their own, so the ids of everything else do not
    /// depend on how many events stepping has recorded.
    pub(crate) event_rng: fastrand::Rng,
    /// Idempotency key → the first successful response sent for it.
    pub(crate) idempotency: HashMap<String, Remembered>,
    /// Runs that take time, and the session cap (see `timed`).
    pub(crate) timing: super::timed::Timing,
}

impl World {
    pub(crate) fn insert_run(&mut self, run: Run) -> usize {
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

    /// Moves the mock clock by a millisecond for a write, so writes are ordered in time (and a
    /// run's creation order shows in `created_at`).
    pub(crate) fn tick(&mut self) -> DateTime<Utc> {
        self.now += TimeDelta::milliseconds(1);
        self.now
    }

    /// One step for every active run; returns how many changed status.
    pub(crate) fn step_all(&mut self) -> usize {
        self.now += self.step;
        let mut changed = 0;
        for i in 0..self.runs.len() {
            // Runs that take time move on the clock alone (see `timed`).
            if !self.timing.is_timed(i) && self.transition(i) {
                changed += 1;
            }
        }
        changed
    }

    /// One step for run `i` alone.
    pub(crate) fn step_one(&mut self, i: usize) -> bool {
        // Paused, finished and timed runs do not move, and neither does the clock for them.
        if self.timing.is_timed(i)
            || !matches!(
                self.runs[i].status,
                Status::Queued | Status::Running | Status::Canceling
            )
        {
            return false;
        }
        self.now += self.step;
        self.transition(i)
    }

    pub(crate) fn transition(&mut self, i: usize) -> bool {
        let now = self.now;
        let World {
            runs, tasks, rng, ..
        } = self;
        let run = &mut runs[i];
        let task = &tasks[run.task];
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
                    finish_success(run, task, rng, now, "success");
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
        self.run_changed(i);
        true
    }

    /// Records what run `i`'s new status means: its `task_run.*` event and, once it finished,
    /// the files it stored and what it proved about its credential (a success verifies it, a
    /// rejected login makes it invalid).
    pub(crate) fn run_changed(&mut self, i: usize) {
        let run = &self.runs[i];
        let event = format!("task_run.{}", run.status.as_str());
        let data = self.run_summary(run);
        let credential = run.credential_id.clone();
        let proved = match run.status {
            Status::Completed => Some("verified"),
            Status::Failed
                if run.errors.as_ref().and_then(|e| e[0]["code"].as_str())
                    == Some(FAILURES[0].1) =>
            {
                Some("invalid")
            }
            _ => None,
        };
        let stored: Vec<Value> = match run.status {
            Status::Completed => run
                .storage
                .iter()
                .map(|s| storage_summary(s, &run.id))
                .collect(),
            _ => Vec::new(),
        };
        self.record(&event, data);
        for item in stored {
            self.record("storage.created", item);
        }
        if let (Some(status), Some(id)) = (proved, credential) {
            self.set_credential_status(&id, status);
        }
    }

    /// Moves a credential to `status` (never out of `deleted`), recording `credential.<status>`.
    pub(crate) fn set_credential_status(&mut self, id: &str, status: &'static str) {
        let now = self.now;
        let Some(credential) = self.credentials.get_mut(id) else {
            return;
        };
        if credential.status == status || credential.status == "deleted" {
            return;
        }
        credential.status = status;
        credential.updated_at = now;
        let data = credential_summary(credential);
        self.record(&format!("credential.{status}"), data);
    }

    /// Appends an event of type `kind`, stamped with the mock clock.
    pub(crate) fn record(&mut self, kind: &str, data: Value) {
        let event = Event {
            id: new_id(&mut self.event_rng, "evt"),
            kind: kind.to_string(),
            data,
            created_at: self.now,
        };
        let body = Value::Object(super::resources::events::event_json(&event));
        super::deliveries::enqueue(self, &event, &body);
        self.events.insert(event);
    }

    /// A webhook destination whose deliveries keep failing goes `inactive` (Deck: "If all
    /// attempts fail, the destination is set to inactive").
    pub(crate) fn deactivate_destination(&mut self, id: &str) {
        let now = self.now;
        let Some(destination) = self.destinations.get_mut(id) else {
            return;
        };
        if destination.status != "active" {
            return;
        }
        destination.status = "inactive";
        destination.updated_at = now;
        let data = super::resources::event_destinations::destination_json(destination);
        self.record("event_destination.deactivated", Value::Object(data));
    }

    /// A task run as events carry it (Deck's `task_run.completed` example): a snapshot whose
    /// empty fields are `""`, not `null`, with `workflow_id` among them, as Deck sends them.
    pub(crate) fn run_summary(&self, run: &Run) -> Value {
        snapshot(json!({
            "id": run.id,
            "object": "task_run",
            "status": run.status.as_str(),
            "result": run.result,
            "task_id": self.tasks[run.task].id,
            "credential_id": run.credential_id,
            "agent_id": run.agent_id,
            "source_id": run.source_id,
            "workflow_id": run.workflow_id,
            "runtime_ms": run.runtime_ms,
            "created_at": ts(run.created_at),
            "updated_at": ts(run.updated_at),
        }))
    }

    /// Session `s` as its runs make it: `running` while one of them is active, else `idle`, and
    /// `completed` once ended or after Deck's idle timeout. Returns the status, when the session
    /// last changed, and when it ended (or now, if it has not).
    pub(crate) fn session_state(
        &self,
        s: &Session,
    ) -> (&'static str, DateTime<Utc>, DateTime<Utc>) {
        let mut active = false;
        let mut last = s.created_at;
        for run in self.session_runs(&s.id) {
            active |= run.status.is_active();
            last = last.max(run.updated_at);
        }
        if let Some(end) = s.ended_at {
            return ("completed", end, end);
        }
        if active {
            return ("running", last, self.now);
        }
        let timeout = last + SESSION_IDLE_TIMEOUT;
        if self.now >= timeout {
            ("completed", timeout, timeout)
        } else {
            ("idle", last, self.now)
        }
    }

    pub(crate) fn session_runs<'a>(&'a self, session_id: &'a str) -> impl Iterator<Item = &'a Run> {
        self.runs
            .iter()
            .filter(move |r| r.session_id.as_deref() == Some(session_id))
    }
}

/// A credential as events carry it (Deck's `credential.verified` example, plus `external_id`).
pub(crate) fn credential_summary(c: &Credential) -> Value {
    snapshot(json!({
        "id": c.id,
        "object": "credential",
        "status": c.status,
        "source_id": c.source_id,
        "auth_method": c.auth_method,
        "external_id": c.external_id,
    }))
}

/// An event's frozen snapshot: Deck sends empty fields as `""`, not `null`.
fn snapshot(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        for field in map.values_mut().filter(|v| v.is_null()) {
            *field = Value::String(String::new());
        }
    }
    value
}

fn storage_summary(s: &StorageItem, run_id: &str) -> Value {
    json!({
        "id": s.id,
        "object": "storage",
        "file_name": s.file_name,
        "file_type": s.file_type,
        "file_size": s.file_size.to_string(),
        "task_run_id": run_id,
        "created_at": ts(s.created_at),
    })
}

pub(crate) fn finish_success(
    run: &mut Run,
    task: &Task,
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
        _ => match task.kind {
            Some(kind) => task_output(kind, &run.input, rng, at),
            None => placeholder_output(&task.output_schema),
        },
    };
    add_screenshots(run, rng, 2, started);
    if result == "success"
        && let Some(kind) = task.kind
    {
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

pub(crate) fn finish_failure(
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

pub(crate) fn add_screenshots(
    run: &mut Run,
    rng: &mut fastrand::Rng,
    n: usize,
    from: DateTime<Utc>,
) {
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

pub(crate) fn mfa_interaction(at: DateTime<Utc>) -> Value {
    json!({
        "type": "mfa",
        "message": "Enter the 6-digit verification code sent to the phone number ending in 0142.",
        "fields": [{"name": "code", "type": "text", "label": "Verification code", "required": true}],
        "expires_at": ts(at + TimeDelta::minutes(10)),
    })
}

/// Deck's timestamp form: RFC 3339, UTC, milliseconds.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An id in Deck's form: `{prefix}_` and 24 lowercase base-36 characters.
pub(crate) fn new_id(rng: &mut fastrand::Rng, prefix: &str) -> String {
    format!("{prefix}_{}", base36(rng.u128(..), 24))
}

pub(crate) fn base36(mut bits: u128, len: usize) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; len];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(bits % 36) as usize];
        bits /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A cheap, stateless mix, so derived values (request ids, URL signatures) need no generator.
pub(crate) fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
