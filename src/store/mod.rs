//! Where coordination state lives: the rate limiter's slots, the event ids already handled, and
//! feed checkpoints.
//!
//! Each is a small trait. [`MemoryStore`] (one process) is what clients, feeds and trackers use
//! unless told otherwise; [`RedisStore`] (feature `redis`) shares the state between processes,
//! so that a fleet of replicas stays within the organisation's one allowance together, handles
//! each webhook delivery once, and resumes a feed after a restart.

use crate::error::Error;
use crate::feed::FeedCheckpoint;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
pub use self::redis::RedisStore;

/// Event ids seen, shared by every consumer that should handle an event once.
pub trait EventDedup: Send + Sync + fmt::Debug {
    /// Marks `event_id` as seen for `ttl`; `true` when nobody had marked it within its `ttl`
    /// (the caller handles the event), `false` for a duplicate.
    fn first_sighting<'a>(
        &'a self,
        event_id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>>;
}

/// Named feed checkpoints, so a feed resumes where it was after a restart.
pub trait CheckpointStore: Send + Sync + fmt::Debug {
    /// The checkpoint saved under `name`, if any.
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<FeedCheckpoint>, Error>>;
    /// Saves `checkpoint` under `name`.
    fn save<'a>(
        &'a self,
        name: &'a str,
        checkpoint: &'a FeedCheckpoint,
    ) -> BoxFuture<'a, Result<(), Error>>;
}

/// The slots of a rate limit shared by several clients (and processes): at most `requests`
/// slots are taken or were released less than a `period` ago.
///
/// A slot is taken before a request is sent and released when its answer arrives (or the
/// attempt fails); it counts against the limit for one period after that, which keeps every
/// window of one period, however the server counts, within the limit (see
/// [`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit)).
pub trait RateLimitStore: Send + Sync + fmt::Debug {
    /// Takes a slot of `limit` if one is free: `Ok(Ok(token))`, or `Ok(Err(wait))` with how
    /// long until one may be. `hold` bounds how long a taken slot counts if it is never released (a crashed
    /// process).
    fn try_take<'a>(
        &'a self,
        limit: crate::RateLimit,
        hold: Duration,
    ) -> BoxFuture<'a, Result<Result<String, Duration>, Error>>;
    /// The request that took `token` got its answer (`used`), or was never sent (`!used`: the
    /// slot is free at once).
    fn release<'a>(&'a self, token: &'a str, used: bool) -> BoxFuture<'a, Result<(), Error>>;
}

/// State in this process's memory: the default for feeds and trackers.
#[derive(Debug, Default)]
pub struct MemoryStore {
    seen: Mutex<HashMap<String, Instant>>,
    checkpoints: Mutex<HashMap<String, FeedCheckpoint>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl EventDedup for MemoryStore {
    fn first_sighting<'a>(
        &'a self,
        event_id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        // Forget expired ids now and then, so memory follows the live window.
        if seen.len() > 1024 && seen.len().is_power_of_two() {
            seen.retain(|_, until| *until > now);
        }
        let first = match seen.get(event_id) {
            Some(until) if *until > now => false,
            _ => {
                seen.insert(event_id.to_string(), now + ttl);
                true
            }
        };
        Box::pin(async move { Ok(first) })
    }
}

impl CheckpointStore for MemoryStore {
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<FeedCheckpoint>, Error>> {
        let found = self
            .checkpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned();
        Box::pin(async move { Ok(found) })
    }

    fn save<'a>(
        &'a self,
        name: &'a str,
        checkpoint: &'a FeedCheckpoint,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.checkpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), checkpoint.clone());
        Box::pin(async { Ok(()) })
    }
}

/// Takes a slot of `store`, waiting while none is free; a failing store is retried (the call's
/// deadline bounds the wait).
pub(crate) async fn take_shared_slot(
    store: &dyn RateLimitStore,
    limit: crate::RateLimit,
) -> String {
    // A slot never released (a crashed process) counts for this long, then for a period.
    let hold = SHARED_SLOT_HOLD;
    let mut failures = 0u32;
    loop {
        match store.try_take(limit, hold).await {
            Ok(Ok(token)) => return token,
            // A little jitter, so waiting processes do not all ask at the same instant.
            Ok(Err(wait)) => {
                let jitter = Duration::from_millis(fastrand::u64(0..=5));
                tokio::time::sleep(wait.min(limit.period()) + jitter).await;
            }
            Err(e) => {
                failures += 1;
                if failures == 1 || failures.is_power_of_two() {
                    tracing::warn!(error = %e, failures, "shared rate limiter unavailable");
                }
                tokio::time::sleep(Duration::from_millis(100 * u64::from(failures.min(20)))).await;
            }
        }
    }
}

/// How long a slot taken and never released counts as in flight.
pub(crate) const SHARED_SLOT_HOLD: Duration = Duration::from_secs(180);

/// Gives a shared slot back, in the background (drop cannot wait).
pub(crate) fn release_shared_slot(
    store: std::sync::Arc<dyn RateLimitStore>,
    token: String,
    used: bool,
) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            if let Err(e) = store.release(&token, used).await {
                tracing::warn!(error = %e, "shared rate limiter: releasing a slot failed");
            }
        });
    }
}
