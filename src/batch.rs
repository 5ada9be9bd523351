//! Many runs of one task: [`RunBatch`], from [`Client::run_batch`].
//!
//! Each input gets a run, at most [`max_in_flight`](RunBatch::max_in_flight) at a time, started
//! with the `Idempotency-Key` `"{batch key}:{item key}"`: a batch that crashed and is run again
//! with the same keys gets Deck's replay of the runs it had started (Deck keeps keys for 24
//! hours) instead of starting them twice, and waits for them like the others. A
//! `429 session_limit_exceeded` (every sandbox busy) waits for one of the batch's runs to finish,
//! or backs off when none of them holds a session, and tries again. Runs are waited for on the
//! client's [`RunTracker`](crate::tracker::RunTracker); a run that asks for input is answered by
//! the function given to [`on_interaction`](RunBatch::on_interaction). Results come as a
//! [`Stream`](futures::Stream), in the order runs finish, each tagged with its item key.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
//! use deck::tracker::TrackerOptions;
//! use futures::StreamExt;
//! use serde_json::json;
//! use std::time::Duration;
//!
//! let mock = deck::mock::MockDeck::builder()
//!     .run_duration(Duration::from_secs(30)..=Duration::from_secs(90))
//!     .time_scale(600.0)
//!     .session_limit(3)
//!     .start()
//!     .await;
//! let client = mock
//!     .client_builder()
//!     .run_tracker(TrackerOptions::new().poll_interval(Duration::from_millis(20)))
//!     .build()?;
//! let accounts = ["000123", "000124", "000125", "000126", "000127"];
//! let mut results = client
//!     .run_batch(&mock.task_ids()[0])
//!     .key("statements-2026-10")
//!     .max_in_flight(10) // more than the 3 sessions: the batch waits for a free one
//!     .on_interaction(|_run| async { Some(json!({"code": "123456"})) })
//!     .run(accounts.map(|a| (a, json!({"account_number": a, "statement_month": "2026-10", "mfa": true}))));
//! let mut done = 0;
//! while let Some(item) = results.next().await {
//!     let run = item.result?;
//!     assert!(run.status.is_terminal(), "{}: {}", item.key, run.status);
//!     done += 1;
//! }
//! assert_eq!(done, accounts.len());
//! # Ok(()) }
//! ```

use crate::Client;
use crate::client::{IdempotencyKey, RequestOptions};
use crate::error::Error;
use crate::types::{SubmitInteractionRequest, TaskRun};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, mpsc};

/// Default number of runs a batch keeps going at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 50;

type Answerer = Arc<dyn Fn(TaskRun) -> BoxFuture<'static, Option<Value>> + Send + Sync>;

/// Starts and finishes runs of one task for many inputs; see [`crate::batch`].
#[must_use = "a batch does nothing until run"]
pub struct RunBatch {
    client: Client,
    task_id: String,
    key: Option<String>,
    max_in_flight: usize,
    answer: Option<Answerer>,
}

impl fmt::Debug for RunBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunBatch")
            .field("task_id", &self.task_id)
            .field("key", &self.key)
            .field("max_in_flight", &self.max_in_flight)
            .finish_non_exhaustive()
    }
}

/// One item's outcome: its key and its run (terminal, or paused when nobody answered), or why
/// it has none.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchItem {
    /// The item key given with the input.
    pub key: String,
    /// The finished run, or the error that stopped this item.
    pub result: Result<TaskRun, Error>,
}

impl Client {
    /// A batch of runs of task `task_id`; see [`crate::batch`].
    pub fn run_batch(&self, task_id: impl Into<String>) -> RunBatch {
        RunBatch {
            client: self.clone(),
            task_id: task_id.into(),
            key: None,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            answer: None,
        }
    }
}

impl RunBatch {
    /// The batch key: with each item's key, it makes the runs' idempotency keys, so running the
    /// same batch again starts nothing twice. Without one, each run gets a fresh key (a rerun
    /// starts everything again).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Runs going at once (default 50; at least 1).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// Answers runs that ask for input: `f` gets the paused run and returns the interaction's
    /// `input` (e.g. `{"code": "123456"}`), or `None` to leave the run paused and hand it back
    /// as the item's result. Without it, paused runs are handed back as they are.
    pub fn on_interaction<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(TaskRun) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<Value>> + Send + 'static,
    {
        self.answer = Some(Arc::new(move |run| Box::pin(f(run))));
        self
    }

    /// Starts the batch: one run per `(item key, input)`, results as they finish. The batch
    /// goes on in the background while the stream is alive; dropping the stream stops starting
    /// runs.
    pub fn run<K, T, I>(self, items: I) -> BoxStream<'static, BatchItem>
    where
        I: IntoIterator<Item = (K, T)>,
        K: Into<String>,
        T: Serialize,
    {
        let items: Vec<(String, Result<Value, Error>)> = items
            .into_iter()
            .map(|(k, input)| {
                let input = serde_json::to_value(&input)
                    .map_err(|e| Error::InvalidRequest(format!("batch input: {e}")));
                (k.into(), input)
            })
            .collect();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(self.drive(items, tx));
        Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }

    async fn drive(
        self,
        items: Vec<(String, Result<Value, Error>)>,
        tx: mpsc::UnboundedSender<BatchItem>,
    ) {
        let tracker = self.client.run_tracker();
        let slots = Arc::new(Semaphore::new(self.max_in_flight));
        // Signalled whenever one of this batch's runs settles: a session may be free.
        let settled = Arc::new(Notify::new());
        for (key, input) in items {
            if tx.is_closed() {
                return;
            }
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let started = match input {
                Ok(input) => self.start(&key, input, &slots, &settled).await,
                Err(e) => Err(e),
            };
            let run = match started {
                Ok(run) => run,
                Err(e) => {
                    let _ = tx.send(BatchItem {
                        key,
                        result: Err(e),
                    });
                    continue;
                }
            };
            let (client, tracker, answer, tx, settled) = (
                self.client.clone(),
                tracker.clone(),
                self.answer.clone(),
                tx.clone(),
                settled.clone(),
            );
            tokio::spawn(async move {
                let result = finish(&client, &tracker, answer, run).await;
                let _ = tx.send(BatchItem { key, result });
                drop(permit);
                settled.notify_waiters();
            });
        }
    }

    /// Starts one run, waiting out `session_limit_exceeded`.
    async fn start(
        &self,
        key: &str,
        input: Value,
        slots: &Semaphore,
        settled: &Notify,
    ) -> Result<TaskRun, Error> {
        let idempotency = match &self.key {
            Some(batch) => Some(IdempotencyKey::new(format!("{batch}:{key}"))?),
            None => None,
        };
        let mut backoff = Duration::from_millis(500);
        loop {
            let mut options = RequestOptions::new();
            if let Some(idempotency) = &idempotency {
                options = options.idempotency_key(idempotency.clone());
            }
            // Registered before the request, so a run settling meanwhile is not missed.
            let freed = settled.notified();
            let started = self
                .client
                .run_task()
                .task_id(self.task_id.as_str())
                .input(&input)
                .with_options(options)
                .send()
                .await;
            match started {
                Ok(run) => return Ok(run.into_inner()),
                Err(e) if e.code() == Some("session_limit_exceeded") => {
                    // Deck: "retry … until a running session reaches a terminal state".
                    let ours = self.max_in_flight - slots.available_permits() > 1;
                    tracing::debug!(
                        item = key,
                        ours,
                        "session limit: waiting for a free session"
                    );
                    if ours {
                        let sleep = tokio::time::sleep(backoff * 4);
                        futures::future::select(std::pin::pin!(freed), std::pin::pin!(sleep)).await;
                    } else {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Waits for `run` to finish, answering its interactions.
async fn finish(
    client: &Client,
    tracker: &crate::tracker::RunTracker,
    answer: Option<Answerer>,
    mut run: TaskRun,
) -> Result<TaskRun, Error> {
    loop {
        run = tracker.wait_run(&run).await?;
        if !run.status.needs_input() {
            return Ok(run);
        }
        let Some(answer) = &answer else {
            return Ok(run);
        };
        let Some(input) = answer(run.clone()).await else {
            return Ok(run);
        };
        let input: Map<String, Value> = match input {
            Value::Object(map) => map,
            other => {
                return Err(Error::InvalidRequest(format!(
                    "an interaction answer must be a JSON object, not {other}"
                )));
            }
        };
        run = client
            .submit_task_run_interaction()
            .run_id(run.id.as_str())
            .body(SubmitInteractionRequest::builder().input(input))
            .send()
            .await?
            .into_inner();
    }
}
