//! An event feed: a [`Stream`] of Deck's events that tails `GET /events`, takes events pushed
//! from webhook deliveries too, hands each event on once, and resumes from a checkpoint.
//!
//! Deck delivers events at least once and not necessarily in order. The feed polls
//! `GET /events?created_after=…` with an *overlap*: each poll asks again for the last
//! [`overlap`](EventFeedBuilder::overlap) before the newest event it has seen, so an event that
//! shows up late (stamped earlier than events already listed) is still found; event ids already
//! handed on are skipped. Events pushed with [`EventPusher::push`] (e.g. from a webhook
//! receiver, after [`Webhook::verify`](crate::webhooks::Webhook::verify)) go through the same
//! deduplication, so a receiver and the poller work together and each event comes out once.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
//! use deck::types::EventType;
//! use futures::StreamExt;
//! use std::time::Duration;
//!
//! let mock = deck::mock::MockDeck::start().await;
//! let client = mock.client();
//! let mut feed = client
//!     .event_feed()
//!     .types([EventType::TaskRunQueued])
//!     .from_beginning()
//!     .poll_interval(Duration::from_millis(50))
//!     .start();
//! let task_id = &mock.task_ids()[0];
//! let input = serde_json::json!({"account_number": "1", "statement_month": "2026-10"});
//! let run = client.run_task().task_id(task_id).input(&input).send().await?;
//! let event = feed.next().await.unwrap()?;
//! assert_eq!(event.type_, EventType::TaskRunQueued);
//!
//! // Persist this (it is serde-serialisable) and resume from it after a restart.
//! let checkpoint = feed.checkpoint();
//! let resumed = client.event_feed().types([EventType::TaskRunQueued]).resume_from(checkpoint);
//! # drop(resumed); let _ = run;
//! # Ok(()) }
//! ```

use crate::Client;
use crate::error::Error;
use crate::store::{CheckpointStore, EventDedup};
use crate::types::{Event, EventId, EventType};
use chrono::{DateTime, TimeDelta, Utc};
use futures::Stream;
use futures::future::Either;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Default time between two polls of `GET /events`.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Default overlap: how far before the newest event seen each poll looks again.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(60);
/// How long a shared [`EventDedup`] remembers an event id (Deck retries a delivery for less).
pub const DEFAULT_DEDUP_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Where a feed resumes: serialise it (serde) and hand it to
/// [`EventFeedBuilder::resume_from`] after a restart, or let a [`CheckpointStore`] keep it.
///
/// It holds the creation time of the newest event the feed had listed and the ids of the
/// events handed on within the overlap before it, so nothing is handed on twice and nothing
/// stamped within the overlap is missed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FeedCheckpoint {
    /// The newest `created_at` listed so far (`None`: nothing yet).
    pub after: Option<DateTime<Utc>>,
    /// Event id → `created_at`, for the events handed on near `after`.
    pub seen: BTreeMap<EventId, DateTime<Utc>>,
}

/// Where a feed without a checkpoint starts.
#[derive(Clone, Debug)]
enum Start {
    /// After the newest event that exists when the feed first polls.
    Now,
    /// Every event Deck still keeps (30 days).
    Beginning,
    /// Events created after this time.
    After(DateTime<Utc>),
    /// A checkpoint given, or loaded from the store.
    Checkpoint(FeedCheckpoint),
}

/// Configures an [`EventFeed`]; from [`Client::event_feed`].
#[must_use = "a feed does nothing until started and polled"]
pub struct EventFeedBuilder {
    client: Client,
    types: Vec<EventType>,
    poll_interval: Duration,
    overlap: Duration,
    start: Start,
    dedup: Option<Arc<dyn EventDedup>>,
    dedup_ttl: Duration,
    checkpoints: Option<(Arc<dyn CheckpointStore>, String)>,
}

impl fmt::Debug for EventFeedBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventFeedBuilder")
            .field("types", &self.types)
            .field("poll_interval", &self.poll_interval)
            .field("overlap", &self.overlap)
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// An event feed tailing `GET /events`; see [`crate::feed`].
    pub fn event_feed(&self) -> EventFeedBuilder {
        EventFeedBuilder {
            client: self.clone(),
            types: Vec::new(),
            poll_interval: DEFAULT_POLL_INTERVAL,
            overlap: DEFAULT_OVERLAP,
            start: Start::Now,
            dedup: None,
            dedup_ttl: DEFAULT_DEDUP_TTL,
            checkpoints: None,
        }
    }
}

impl EventFeedBuilder {
    /// Only these event types (default: all). Sent as `GET /events?type=…`; pushed events of
    /// other types are dropped.
    pub fn types(mut self, types: impl IntoIterator<Item = EventType>) -> Self {
        self.types = types.into_iter().collect();
        self
    }

    /// Time between two polls (default 5 s). With webhooks pushing events, a long interval
    /// keeps polling as a safety net only.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How far before the newest event seen each poll looks again (default 60 s): events that
    /// Deck lists late by up to this much are still handed on.
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// Starts with every event Deck keeps (default: only events after the newest one that
    /// exists at the first poll).
    pub fn from_beginning(mut self) -> Self {
        self.start = Start::Beginning;
        self
    }

    /// Starts with the events created after `time` (Deck's clock).
    pub fn created_after(mut self, time: DateTime<Utc>) -> Self {
        self.start = Start::After(time);
        self
    }

    /// Resumes where a feed's [`checkpoint`](EventFeed::checkpoint) was.
    pub fn resume_from(mut self, checkpoint: FeedCheckpoint) -> Self {
        self.start = Start::Checkpoint(checkpoint);
        self
    }

    /// Hands on only the events no other consumer sharing `dedup` handed on (e.g. replicas
    /// behind a load balancer sharing a [`RedisStore`](crate::store::RedisStore)); ids are
    /// remembered for `ttl`.
    pub fn dedup(mut self, dedup: Arc<dyn EventDedup>, ttl: Duration) -> Self {
        self.dedup = Some(dedup);
        self.dedup_ttl = ttl;
        self
    }

    /// Loads the checkpoint saved under `name` at the start (unless one was given with
    /// [`resume_from`](Self::resume_from)) and saves it whenever the consumer has taken every
    /// event handed on so far.
    pub fn checkpoints(mut self, store: Arc<dyn CheckpointStore>, name: impl Into<String>) -> Self {
        self.checkpoints = Some((store, name.into()));
        self
    }

    /// The feed. Nothing is requested until it is polled.
    pub fn start(self) -> EventFeed {
        let (tx, rx) = mpsc::unbounded_channel();
        let cursor = Arc::new(Mutex::new(Cursor::default()));
        let state = State {
            client: self.client,
            types: self.types,
            poll_interval: self.poll_interval,
            overlap: TimeDelta::from_std(self.overlap).unwrap_or(TimeDelta::seconds(60)),
            start: Some(self.start),
            dedup: self.dedup,
            dedup_ttl: self.dedup_ttl,
            checkpoints: self.checkpoints,
            cursor: cursor.clone(),
            rx,
            next_poll: Instant::now(),
            dirty: false,
        };
        let stream = futures::stream::unfold(state, |mut state| async move {
            let item = state.next().await;
            Some((item, state))
        });
        EventFeed {
            stream: Box::pin(stream),
            cursor,
            pusher: EventPusher { tx },
        }
    }
}

/// A stream of events, each handed on once; see [`crate::feed`]. It never ends; an error (a
/// failed poll) is yielded and polling goes on at the next interval.
pub struct EventFeed {
    stream: BoxStream<'static, Result<Event, Error>>,
    cursor: Arc<Mutex<Cursor>>,
    pusher: EventPusher,
}

impl fmt::Debug for EventFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventFeed").finish_non_exhaustive()
    }
}

impl EventFeed {
    /// Where the feed is: every event handed on so far is behind it.
    pub fn checkpoint(&self) -> FeedCheckpoint {
        lock(&self.cursor).checkpoint()
    }

    /// A handle to push events into this feed (e.g. from a webhook receiver).
    pub fn pusher(&self) -> EventPusher {
        self.pusher.clone()
    }
}

impl Stream for EventFeed {
    type Item = Result<Event, Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.as_mut().poll_next(cx)
    }
}

/// Pushes events (from webhook deliveries) into an [`EventFeed`]; cheap to clone.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// # let mock = deck::mock::MockDeck::start().await;
/// # let client = mock.client();
/// # let event: deck::types::Event = serde_json::from_value(serde_json::json!({
/// #     "id": "evt_1", "object": "event", "type": "task_run.completed",
/// #     "created_at": "2026-01-01T00:00:00Z", "data": {"id": "trun_1"}})).unwrap();
/// use futures::StreamExt;
/// let mut feed = client.event_feed().poll_interval(std::time::Duration::from_secs(3600)).start();
/// let pusher = feed.pusher();
/// // In the webhook handler: `let event = webhook.verify(&body, &headers)?;`
/// pusher.push(event.clone());
/// pusher.push(event); // a redelivery: handed on once
/// assert_eq!(feed.next().await.unwrap().unwrap().id, "evt_1");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct EventPusher {
    tx: mpsc::UnboundedSender<Event>,
}

impl EventPusher {
    /// Hands `event` to the feed (dropped if the feed is gone, or a duplicate).
    pub fn push(&self, event: Event) {
        let _ = self.tx.send(event);
    }
}

/// What the stream and [`EventFeed::checkpoint`] share.
#[derive(Default)]
struct Cursor {
    after: Option<DateTime<Utc>>,
    /// Handed on (or taken by another consumer): id → created_at.
    seen: BTreeMap<EventId, DateTime<Utc>>,
    /// Accepted, not yet handed on, oldest first.
    ready: VecDeque<Event>,
    queued: HashSet<EventId>,
}

impl Cursor {
    fn checkpoint(&self) -> FeedCheckpoint {
        // Events accepted but not handed on must come again after a restart.
        let oldest_ready = self.ready.iter().map(|e| e.created_at).min();
        let after = match (self.after, oldest_ready) {
            (Some(a), Some(r)) if r <= a => Some(r - TimeDelta::milliseconds(1)),
            (after, _) => after,
        };
        FeedCheckpoint {
            after,
            seen: self.seen.clone(),
        }
    }
}

fn lock(cursor: &Mutex<Cursor>) -> std::sync::MutexGuard<'_, Cursor> {
    cursor.lock().unwrap_or_else(|e| e.into_inner())
}

struct State {
    client: Client,
    types: Vec<EventType>,
    poll_interval: Duration,
    overlap: TimeDelta,
    start: Option<Start>,
    dedup: Option<Arc<dyn EventDedup>>,
    dedup_ttl: Duration,
    checkpoints: Option<(Arc<dyn CheckpointStore>, String)>,
    cursor: Arc<Mutex<Cursor>>,
    rx: mpsc::UnboundedReceiver<Event>,
    next_poll: Instant,
    dirty: bool,
}

impl State {
    async fn next(&mut self) -> Result<Event, Error> {
        loop {
            if let Some(event) = self.take_ready() {
                return Ok(event);
            }
            if self.dirty {
                self.dirty = false;
                if let Some((store, name)) = &self.checkpoints {
                    let checkpoint = lock(&self.cursor).checkpoint();
                    store.save(name, &checkpoint).await?;
                }
            }
            if let Some(start) = self.start.take() {
                self.begin(start).await?;
            }
            if Instant::now() >= self.next_poll {
                self.next_poll = Instant::now() + self.poll_interval;
                self.poll().await?;
                continue;
            }
            // The next poll, or an event pushed before it (a closed channel leaves the poll).
            let sleep = std::pin::pin!(tokio::time::sleep_until(self.next_poll));
            let pushed = match futures::future::select(sleep, std::pin::pin!(self.rx.recv())).await
            {
                Either::Left(_) => None,
                Either::Right((Some(event), _)) => Some(event),
                Either::Right((None, sleep)) => {
                    sleep.await;
                    None
                }
            };
            if let Some(event) = pushed {
                self.offer(vec![event]).await?;
            }
        }
    }

    fn take_ready(&mut self) -> Option<Event> {
        let mut cursor = lock(&self.cursor);
        let event = cursor.ready.pop_front()?;
        cursor.queued.remove(&event.id);
        cursor.seen.insert(event.id.clone(), event.created_at);
        self.dirty = true;
        Some(event)
    }

    /// Where to start: the checkpoint given or saved, else the builder's start.
    async fn begin(&mut self, start: Start) -> Result<(), Error> {
        let start = match (start, &self.checkpoints) {
            (Start::Checkpoint(c), _) => Start::Checkpoint(c),
            (start, Some((store, name))) => match store.load(name).await {
                Ok(Some(c)) => Start::Checkpoint(c),
                Ok(None) => start,
                Err(e) => {
                    // Try again on the next call.
                    self.start = Some(start);
                    return Err(e);
                }
            },
            (start, None) => start,
        };
        let mut cursor = lock(&self.cursor);
        match start {
            Start::Checkpoint(c) => {
                cursor.after = c.after;
                cursor.seen = c.seen;
            }
            Start::After(t) => cursor.after = Some(t + self.overlap),
            Start::Beginning => {}
            Start::Now => {
                drop(cursor);
                let mut query = self.client.list_events().limit(1);
                if !self.types.is_empty() {
                    query = query.type_(self.types.clone());
                }
                let newest = match query.send().await {
                    Ok(page) => page.into_inner().data.into_iter().next(),
                    Err(e) => {
                        self.start = Some(Start::Now);
                        return Err(e);
                    }
                };
                let mut cursor = lock(&self.cursor);
                if let Some(event) = newest {
                    // Older events are history, this one included.
                    cursor.after = Some(event.created_at + self.overlap);
                    cursor.seen.insert(event.id, event.created_at);
                }
            }
        }
        Ok(())
    }

    /// One poll: every event created after `after - overlap`, all pages.
    async fn poll(&mut self) -> Result<(), Error> {
        let after = lock(&self.cursor).after;
        let mut query = self.client.list_events();
        if !self.types.is_empty() {
            query = query.type_(self.types.clone());
        }
        if let Some(after) = after {
            query = query.created_after(after - self.overlap);
        }
        let events = query.collect_all().await?;
        if let Some(newest) = events.iter().map(|e| e.created_at).max() {
            let mut cursor = lock(&self.cursor);
            if cursor.after.is_none_or(|a| newest > a) {
                cursor.after = Some(newest);
            }
            // Ids older than the window cannot be listed again: forget them.
            if let Some(after) = cursor.after {
                let horizon = after - self.overlap - self.overlap;
                cursor.seen.retain(|_, at| *at >= horizon);
            }
        }
        self.offer(events).await
    }

    /// Queues the events not handed on before, oldest first.
    async fn offer(&mut self, mut events: Vec<Event>) -> Result<(), Error> {
        events.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        for event in events {
            if !self.types.is_empty() && !self.types.contains(&event.type_) {
                continue;
            }
            {
                let cursor = lock(&self.cursor);
                if cursor.seen.contains_key(&event.id) || cursor.queued.contains(&event.id) {
                    continue;
                }
            }
            if let Some(dedup) = &self.dedup
                && !dedup.first_sighting(&event.id, self.dedup_ttl).await?
            {
                // Another consumer has it.
                lock(&self.cursor)
                    .seen
                    .insert(event.id.clone(), event.created_at);
                continue;
            }
            let mut cursor = lock(&self.cursor);
            cursor.queued.insert(event.id.clone());
            cursor.ready.push_back(event);
        }
        Ok(())
    }
}
