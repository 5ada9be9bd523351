//! The in-memory world: tasks, task runs and their storage, the task-run state machine, and the
//! remembered responses of idempotent writes. No HTTP here; [`routes`](super::routes) and the
//! resource handlers lock the world, read or change it, and render replies.

use super::StepMode;
use super::seed::{CATALOG, FAILURES, Kind, REASONING, task_files, task_output};
use axum::http::{Method, StatusCode};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

/// What the server task, the ticker and [`MockDeck`](super::MockDeck) share.
pub(crate) struct Shared {
    pub(crate) world: Mutex<World>,
    pub(crate) api_key: Option<String>,
    pub(crate) step_mode: StepMode,
    pub(crate) requests: AtomicU64,
    pub(crate) request_salt: u64,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        // A panic elsewhere must not turn every later request into one.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
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
}

pub(crate) struct Task {
    pub(crate) id: String,
    /// Index into [`CATALOG`].
    pub(crate) template: usize,
    pub(crate) name: String,
    pub(crate) status: &'static str,
    pub(crate) agent_id: String,
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
    /// Seeded credential ids, per agent.
    pub(crate) credentials: Vec<Vec<String>>,
    /// Seeded source ids, one per agent.
    pub(crate) sources: Vec<String>,
    pub(crate) workflows: Vec<String>,
    /// Idempotency key → the first successful response sent for it.
    pub(crate) idempotency: HashMap<String, Remembered>,
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

    /// One step for every active run; returns how many changed status.
    pub(crate) fn step_all(&mut self) -> usize {
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
    pub(crate) fn step_one(&mut self, i: usize) -> bool {
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

pub(crate) fn finish_success(
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
