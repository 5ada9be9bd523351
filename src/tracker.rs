//! One waiter for many task runs: [`RunTracker`].
//!
//! Every [`wait`](RunTracker::wait) of a process shares one background task, which learns that
//! runs finished (or need input) from Deck's events ([`TrackBy::Events`], the default: one
//! `GET /events` page per poll for all runs, or events pushed from webhook deliveries with
//! [`RunTracker::ingest`]) or from the runs list ([`TrackBy::List`]: one `GET /task-runs` page
//! per 100 finished runs per poll), never by polling each run. The final run comes from list
//! pages, which carry every field `GET /task-runs/{id}` answers; a run is fetched alone only
//! when that costs fewer requests (a few runs spread over many pages), or when the caller asks
//! for sections (`include`) list items do not carry.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
//! use deck::tracker::TrackerOptions;
//! use std::time::Duration;
//!
//! let mock = deck::mock::MockDeck::builder()
//!     .run_duration(Duration::from_secs(30)..=Duration::from_secs(60))
//!     .time_scale(600.0)
//!     .start()
//!     .await;
//! let client = mock
//!     .client_builder()
//!     .run_tracker(TrackerOptions::new().poll_interval(Duration::from_millis(20)))
//!     .build()?;
//! let tracker = client.run_tracker();
//! let input = serde_json::json!({"account_number": "1", "statement_month": "2026-10", "mfa": false});
//! let mut runs = Vec::new();
//! for _ in 0..5 {
//!     runs.push(client.run_task().task_id(&mock.task_ids()[0]).input(&input).send().await?.into_inner());
//! }
//! let finished = futures::future::try_join_all(runs.iter().map(|run| tracker.wait_run(run))).await?;
//! assert!(finished.iter().all(|run| run.status.is_terminal()));
//! // `wait_for_task_run` rides on the tracker too.
//! let again = client.wait_for_task_run(&runs[0].id).await?;
//! assert_eq!((&again.id, &again.status, &again.output), (&finished[0].id, &finished[0].status, &finished[0].output));
//! # Ok(()) }
//! ```

use crate::Client;
use crate::client::{ClientState, Config, RequestOptions};
use crate::error::Error;
use crate::feed::EventFeed;
use crate::types::{Event, EventData, EventType, RunStatus, TaskRun, TaskRunId, TaskRunSummary};
use chrono::{DateTime, TimeDelta, Utc};
use futures::future::Either;
use futures::{FutureExt, StreamExt};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

/// How a tracker learns that runs changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackBy {
    /// Deck's events: `GET /events` for `task_run.*` terminal and pause events, plus events
    /// pushed with [`RunTracker::ingest`]. The default.
    #[default]
    Events,
    /// The runs list alone (`GET /task-runs` filtered to finished and paused runs), for
    /// organisations that cannot read events.
    List,
}

/// How a [`RunTracker`] works; set with
/// [`ClientBuilder::run_tracker`](crate::ClientBuilder::run_tracker).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TrackerOptions {
    /// Events or the runs list (default [`TrackBy::Events`]).
    pub by: TrackBy,
    /// Time between two polls (default 5 s).
    pub poll_interval: Duration,
    /// The event feed's overlap (see [`EventFeedBuilder::overlap`](crate::feed::EventFeedBuilder::overlap); default 60 s).
    pub overlap: Duration,
    /// With events, how often the runs list is also checked for runs whose events were missed
    /// (default: every 12 polls).
    pub list_every: u32,
}

impl Default for TrackerOptions {
    fn default() -> Self {
        TrackerOptions {
            by: TrackBy::Events,
            poll_interval: crate::feed::DEFAULT_POLL_INTERVAL,
            overlap: crate::feed::DEFAULT_OVERLAP,
            list_every: 12,
        }
    }
}

impl TrackerOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Events or the runs list.
    pub fn by(mut self, by: TrackBy) -> Self {
        self.by = by;
        self
    }

    /// Time between two polls.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The event feed's overlap.
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// With events, check the runs list every `n` polls too (0: never).
    pub fn list_every(mut self, n: u32) -> Self {
        self.list_every = n;
        self
    }
}

/// Waits for many task runs at once; see [`crate::tracker`]. Cheap to clone: clones share the
/// runs and the one background task (which runs only while someone waits).
#[derive(Clone)]
pub struct RunTracker {
    inner: Arc<Inner>,
}

impl fmt::Debug for RunTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunTracker")
            .field("options", &self.inner.options)
            .field("waiting", &self.waiting())
            .finish()
    }
}

struct Inner {
    // The client's parts, with the configuration held weakly: the client holds its tracker.
    base_url: String,
    http: reqwest::Client,
    config: Weak<Config>,
    options: TrackerOptions,
    state: Mutex<Tracked>,
    wake: Notify,
}

type Waiter = oneshot::Sender<Result<TaskRun, Error>>;

#[derive(Default)]
struct Tracked {
    /// Run id → waiters, and what is known of the run.
    waits: HashMap<TaskRunId, Pending>,
    /// Runs seen finished or paused by an event nobody waited for yet (id → event time,
    /// status, run creation time), kept for an overlap.
    early: HashMap<TaskRunId, (DateTime<Utc>, RunStatus, DateTime<Utc>)>,
    /// Runs known to have changed and to be looked up.
    due: BTreeMap<TaskRunId, DateTime<Utc>>,
    driver: bool,
    /// Creation times of runs tracked (to size list sweeps).
    created: Vec<DateTime<Utc>>,
}

struct Pending {
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    waiters: Vec<Waiter>,
}

/// Statuses a wait ends on.
const SETTLED: [RunStatus; 5] = [
    RunStatus::Completed,
    RunStatus::Failed,
    RunStatus::Canceled,
    RunStatus::InteractionRequired,
    RunStatus::ReviewRequired,
];

const EVENTS: [EventType; 5] = [
    EventType::TaskRunCompleted,
    EventType::TaskRunFailed,
    EventType::TaskRunCanceled,
    EventType::TaskRunInteractionRequired,
    EventType::TaskRunReviewRequired,
];

fn settled(status: &RunStatus) -> bool {
    status.is_terminal() || status.needs_input()
}

impl Client {
    /// This client's run tracker (made on first use, with the options given to
    /// [`ClientBuilder::run_tracker`](crate::ClientBuilder::run_tracker) or the defaults).
    /// Once it exists, [`Client::wait_for_task_run`] waits through it.
    pub fn run_tracker(&self) -> RunTracker {
        let config = &self.inner.config;
        config
            .tracker
            .get_or_init(|| RunTracker {
                inner: Arc::new(Inner {
                    base_url: self.baseurl.clone(),
                    http: self.client.clone(),
                    config: Arc::downgrade(config),
                    options: config.tracker_options.clone().unwrap_or_default(),
                    state: Mutex::new(Tracked::default()),
                    wake: Notify::new(),
                }),
            })
            .clone()
    }

    /// The tracker, if this client has one.
    pub(crate) fn existing_tracker(&self) -> Option<&RunTracker> {
        self.inner.config.tracker.get()
    }
}

impl RunTracker {
    fn client(&self) -> Option<Client> {
        let config = self.inner.config.upgrade()?;
        Some(Client::new_with_client(
            &self.inner.base_url,
            self.inner.http.clone(),
            ClientState { config },
        ))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Tracked> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs being waited for.
    pub fn waiting(&self) -> usize {
        self.state().waits.len()
    }

    /// Waits until run `run_id` is terminal or needs input, and returns it as
    /// `GET /task-runs/{run_id}` would. Looks the run up once (one `GET`), then waits with
    /// every other run; use [`wait_run`](Self::wait_run) with the run you have to skip that.
    pub async fn wait(&self, run_id: &str) -> Result<TaskRun, Error> {
        let client = self.client().ok_or_else(gone)?;
        let run = client
            .get_task_run()
            .run_id(run_id)
            .send()
            .await?
            .into_inner();
        self.wait_run(&run).await
    }

    /// Waits until `run` (as last seen: from `run_task`, a list, an interaction's answer) is
    /// terminal or needs input. Returns at once if it already is.
    pub async fn wait_run(&self, run: &TaskRun) -> Result<TaskRun, Error> {
        if settled(&run.status) {
            return Ok(run.clone());
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.state();
            let pending = state
                .waits
                .entry(run.id.clone())
                .or_insert_with(|| Pending {
                    created_at: run.created_at,
                    updated_at: run.updated_at,
                    waiters: Vec::new(),
                });
            pending.waiters.push(tx);
            pending.updated_at = pending.updated_at.max(run.updated_at);
            let updated_at = pending.updated_at;
            if let Some((at, _, created)) = state.early.remove(&run.id)
                && at >= updated_at
            {
                state.due.insert(run.id.clone(), created);
            }
            let i = state.created.partition_point(|c| *c <= run.created_at);
            state.created.insert(i, run.created_at);
            if !state.driver {
                state.driver = true;
                let tracker = self.clone();
                tokio::spawn(async move { tracker.drive().await });
            }
        }
        self.inner.wake.notify_one();
        rx.await.map_err(|_| gone())?
    }

    /// Hands the tracker an event from a webhook delivery (after
    /// [`Webhook::verify`](crate::webhooks::Webhook::verify)): a waiter for its run resolves
    /// at once instead of at the next poll. Events of other types are ignored; duplicates are
    /// harmless.
    pub fn ingest(&self, event: Event) {
        if self.note(&event) {
            self.inner.wake.notify_one();
        }
    }

    /// Records what `event` says; true when a waiter's run is now due.
    fn note(&self, event: &Event) -> bool {
        let EventData::TaskRun(run) = &event.data else {
            return false;
        };
        let (Some(id), Some(status)) = (&run.id, &run.status) else {
            return false;
        };
        if !settled(status) {
            return false;
        }
        let created = run.created_at.unwrap_or(event.created_at);
        let mut state = self.state();
        match state.waits.get(id) {
            Some(pending) if event.created_at >= pending.updated_at => {
                state.due.insert(id.clone(), created);
                true
            }
            Some(_) => false,
            None => {
                let horizon = event.created_at - TimeDelta::minutes(10);
                if state.early.len() > 4096 {
                    state.early.retain(|_, (at, _, _)| *at > horizon);
                }
                state
                    .early
                    .insert(id.clone(), (event.created_at, status.clone(), created));
                false
            }
        }
    }

    /// The background task: runs while someone waits.
    async fn drive(self) {
        let options = self.inner.options.clone();
        let mut feed: Option<EventFeed> = None;
        let mut next_list = tokio::time::Instant::now();
        if options.by == TrackBy::Events {
            next_list += options.poll_interval * options.list_every.max(1);
        }
        loop {
            let Some(client) = self.client() else {
                self.fail_all(gone);
                return;
            };
            let oldest = {
                let mut state = self.state();
                if state.waits.is_empty() {
                    state.driver = false;
                    return;
                }
                state.waits.values().map(|p| p.created_at).min()
            };
            match options.by {
                TrackBy::List => {
                    let now = tokio::time::Instant::now();
                    if now >= next_list {
                        next_list = now + options.poll_interval;
                        if let Err(e) = self.sweep(&client, None).await {
                            tracing::warn!(error = %e, "run tracker: listing runs failed");
                        }
                    } else {
                        let sleep = tokio::time::sleep_until(next_list);
                        let woken = self.inner.wake.notified();
                        futures::future::select(std::pin::pin!(sleep), std::pin::pin!(woken)).await;
                    }
                }
                TrackBy::Events => {
                    let feed = feed.get_or_insert_with(|| {
                        let start = oldest.unwrap_or_else(Utc::now) - TimeDelta::milliseconds(1);
                        client
                            .event_feed()
                            .types(EVENTS)
                            .created_after(start)
                            .poll_interval(options.poll_interval)
                            .overlap(options.overlap)
                            .start()
                    });
                    let mut list = false;
                    // An event from the feed, a wake (a pushed event), or the safety net: runs
                    // whose events never came are found in the list.
                    let item = {
                        let next = std::pin::pin!(feed.next());
                        let woken = std::pin::pin!(self.inner.wake.notified());
                        let net = std::pin::pin!(async {
                            match options.list_every > 0 {
                                true => tokio::time::sleep_until(next_list).await,
                                false => std::future::pending().await,
                            }
                        });
                        match futures::future::select(next, futures::future::select(woken, net))
                            .await
                        {
                            Either::Left((item, _)) => Some(item),
                            Either::Right((Either::Left(_), _)) => None,
                            Either::Right((Either::Right(_), _)) => {
                                list = true;
                                None
                            }
                        }
                    };
                    if let Some(item) = item {
                        match item {
                            Some(Ok(event)) => {
                                self.note(&event);
                            }
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, "run tracker: polling events failed");
                            }
                            None => {}
                        }
                        // Whatever else is ready comes along in the same look-up.
                        while let Some(Some(Ok(event))) = feed.next().now_or_never() {
                            self.note(&event);
                        }
                    }
                    if list {
                        next_list = tokio::time::Instant::now()
                            + options.poll_interval * options.list_every;
                        if let Err(e) = self.sweep(&client, None).await {
                            tracing::warn!(error = %e, "run tracker: listing runs failed");
                        }
                    }
                    let due = std::mem::take(&mut self.state().due);
                    if !due.is_empty()
                        && let Err(e) = self.sweep(&client, Some(due.clone())).await
                    {
                        tracing::warn!(error = %e, "run tracker: looking runs up failed");
                        self.state().due.extend(due);
                        tokio::time::sleep(options.poll_interval).await;
                    }
                }
            }
        }
    }

    /// Looks runs up and resolves the settled ones: `due` (known to have changed), or every
    /// run waited for. Uses list pages (finished and paused runs created in the window) unless
    /// fetching the runs alone takes fewer requests.
    async fn sweep(
        &self,
        client: &Client,
        due: Option<BTreeMap<TaskRunId, DateTime<Utc>>>,
    ) -> Result<(), Error> {
        let (wanted, from, to, pages) = {
            let state = self.state();
            let wanted: BTreeMap<TaskRunId, DateTime<Utc>> = match due {
                Some(due) => due
                    .into_iter()
                    .filter(|(id, _)| state.waits.contains_key(id))
                    .collect(),
                None => state
                    .waits
                    .iter()
                    .map(|(id, p)| (id.clone(), p.created_at))
                    .collect(),
            };
            let (Some(&from), Some(&to)) = (wanted.values().min(), wanted.values().max()) else {
                return Ok(());
            };
            let lo = state.created.partition_point(|c| *c < from);
            let hi = state.created.partition_point(|c| *c <= to);
            let pages = (hi - lo).div_ceil(100).max(1);
            (wanted, from, to, pages)
        };
        if wanted.len() < pages {
            // Concurrently: the client's rate limiter, if any, paces them.
            let gets = wanted.keys().map(|id| async move {
                client
                    .get_task_run()
                    .run_id(id)
                    .with_options(look_up())
                    .send()
                    .await
            });
            for run in futures::future::join_all(gets).await {
                self.resolve(run?.into_inner());
            }
            return Ok(());
        }
        let mut pages = client
            .list_task_runs()
            .status(SETTLED.to_vec())
            .created_after(from - TimeDelta::milliseconds(1))
            .created_before(to + TimeDelta::milliseconds(1))
            .with_options(look_up())
            .pages();
        let mut missing = wanted.len();
        while missing > 0
            && let Some(page) = pages.next().await
        {
            let page = page?;
            for item in page.items {
                if wanted.contains_key(&item.id) {
                    missing -= 1;
                    self.resolve(from_list_item(item, page.request_id.as_deref())?);
                }
            }
        }
        Ok(())
    }

    /// Hands a settled run to its waiters.
    fn resolve(&self, run: TaskRun) {
        if !settled(&run.status) {
            return;
        }
        let waiters = {
            let mut state = self.state();
            match state.waits.get(&run.id) {
                Some(pending) if run.updated_at >= pending.updated_at => {}
                _ => return,
            }
            state.waits.remove(&run.id).map(|p| p.waiters)
        };
        for waiter in waiters.into_iter().flatten() {
            let _ = waiter.send(Ok(run.clone()));
        }
    }

    fn fail_all(&self, error: fn() -> Error) {
        let mut state = self.state();
        state.driver = false;
        for (_, pending) in state.waits.drain() {
            for waiter in pending.waiters {
                let _ = waiter.send(Err(error()));
            }
        }
    }
}

/// A look-up's options: it takes the rate limiter's slots kept for the tracker (where the
/// client has them), so a finished run is not looked up behind a batch's queue of starts.
fn look_up() -> RequestOptions {
    RequestOptions {
        lane: crate::limiter::Lane::Tracking,
        ..RequestOptions::default()
    }
}

fn gone() -> Error {
    Error::InvalidRequest("the client of this run tracker was dropped".into())
}

/// A list item as the run it describes: the item has every field but the page's `request_id`
/// (and the sections only `include` adds).
fn from_list_item(item: TaskRunSummary, request_id: Option<&str>) -> Result<TaskRun, Error> {
    let mut value = serde_json::to_value(item).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    if let Some(map) = value.as_object_mut() {
        map.insert("request_id".into(), request_id.unwrap_or_default().into());
    }
    serde_json::from_value(value).map_err(|e| Error::InvalidRequest(e.to_string()))
}
