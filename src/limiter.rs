//! The client-side rate limiter behind [`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit),
//! shared by every clone of a client, and its lanes.
//!
//! Slots are timed from answers, not from sends: Deck counts a request at some moment between
//! receiving it and answering, so timing a slot from the answer means two requests using the
//! same slot are counted at least a period apart whatever the network delays, and no window of
//! one period (sliding or fixed) ever holds more than the allowance. A limiter that times slots
//! from when requests are *sent* (a token bucket, GCRA) lets twice the allowance into one window
//! and collects 429s from a sliding-window server.
//!
//! Waiters are served in order (a fair semaphore), which is right for calls, but a run batch
//! queues hundreds of starts at once: a run tracker's look-up of a run that just finished would
//! wait behind all of them, and its waiter with it (seconds, where a webhook said at once that
//! the run was done). So a client with a run tracker keeps a few of its slots apart for the
//! tracker ([`Lane::Tracking`]): calls use at most 95 % of the allowance, and a look-up takes
//! a reserved slot or a common one, whichever is free first.

use crate::RateLimit;
use futures::future::Either;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which of the limiter's slots an attempt may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Lane {
    /// Any call's: the common pool.
    #[default]
    Calls,
    /// The run tracker's look-ups: a reserved slot or a common one, whichever is free first,
    /// where the limiter has a reserve; the common pool otherwise.
    Tracking,
}

/// The limiter: `limit.requests()` slots in all, split into a common pool and (for a client
/// with a run tracker) a reserved one.
pub(crate) struct Limiter {
    limit: RateLimit,
    calls: Pool,
    tracking: Option<Pool>,
    /// Slots shared with other clients and processes, taken on top of this client's own.
    shared: Option<Arc<dyn crate::store::RateLimitStore>>,
}

/// Slots each usable again one period after the attempt that used it got its answer (or failed).
struct Pool {
    /// One permit per slot not held by an attempt (sending, or waiting for its slot's time).
    idle: tokio::sync::Semaphore,
    slots: Mutex<Slots>,
}

struct Slots {
    /// Slots never used: free at once. Counted rather than stored, so a large allowance costs
    /// memory only as it is used.
    fresh: u32,
    /// When each used, idle slot may be used again (earliest first).
    free_at: BinaryHeap<Reverse<tokio::time::Instant>>,
}

/// How many of `requests` slots a client with a run tracker keeps for it: one in twenty, at
/// least one, and none where that would leave calls nothing.
fn tracking_reserve(requests: u32) -> u32 {
    if requests < 2 {
        0
    } else {
        (requests / 20).max(1)
    }
}

impl Pool {
    fn new(slots: u32) -> Pool {
        let slots = (slots as usize).min(tokio::sync::Semaphore::MAX_PERMITS);
        Pool {
            idle: tokio::sync::Semaphore::new(slots),
            slots: Mutex::new(Slots {
                fresh: slots as u32,
                free_at: BinaryHeap::new(),
            }),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A slot held by one attempt. Dropped unused (the call gave up while waiting), it is free at
/// its old time; used, it is free one period after the drop.
pub(crate) struct Slot<'a> {
    limiter: &'a Limiter,
    pool: &'a Pool,
    free_at: Option<tokio::time::Instant>,
    used: bool,
    /// The shared store's slot, if any.
    shared: Option<String>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Limiter {
    /// A limiter for `limit`, keeping [`tracking_reserve`] slots for the run tracker when
    /// `reserve_for_tracking`.
    pub(crate) fn new(
        limit: RateLimit,
        shared: Option<Arc<dyn crate::store::RateLimitStore>>,
        reserve_for_tracking: bool,
    ) -> Limiter {
        let reserve = match reserve_for_tracking {
            true => tracking_reserve(limit.requests()),
            false => 0,
        };
        Limiter {
            limit,
            calls: Pool::new(limit.requests() - reserve),
            tracking: (reserve > 0).then(|| Pool::new(reserve)),
            shared,
        }
    }

    /// Waits for a slot of `lane`: one that is idle and whose time has come. A tracking
    /// look-up takes whichever comes first, a reserved slot or a common one: the reserve is a
    /// floor for the tracker, not a ceiling.
    pub(crate) async fn acquire(&self, lane: Lane) -> Slot<'_> {
        let mut slot = match (lane, &self.tracking) {
            (Lane::Tracking, Some(reserved)) => {
                // The reserved pool is polled first; the loser is dropped, giving its place back.
                let reserved = std::pin::pin!(self.take(reserved));
                let common = std::pin::pin!(self.take(&self.calls));
                match futures::future::select(reserved, common).await {
                    Either::Left((slot, _)) | Either::Right((slot, _)) => slot,
                }
            }
            _ => self.take(&self.calls).await,
        };
        if let Some(store) = &self.shared {
            slot.shared = Some(crate::store::take_shared_slot(store.as_ref(), self.limit).await);
        }
        slot
    }

    /// A slot of `pool`, once idle and its time has come. Dropped while waiting, it gives its
    /// place back (the semaphore's queue, the slot's time).
    async fn take<'a>(&'a self, pool: &'a Pool) -> Slot<'a> {
        // The semaphore is never closed.
        let permit = pool
            .idle
            .acquire()
            .await
            .expect("the limiter's semaphore is open");
        let free_at = {
            let mut slots = pool.slots();
            if slots.fresh > 0 {
                slots.fresh -= 1;
                None
            } else {
                slots.free_at.pop().map(|Reverse(at)| at)
            }
        };
        let slot = Slot {
            limiter: self,
            pool,
            free_at,
            used: false,
            shared: None,
            _permit: permit,
        };
        if let Some(at) = free_at {
            tokio::time::sleep_until(at).await;
        }
        slot
    }
}

impl Slot<'_> {
    /// The attempt is about to be sent.
    pub(crate) fn use_now(&mut self) {
        self.used = true;
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let (Some(token), Some(store)) = (self.shared.take(), &self.limiter.shared) {
            crate::store::release_shared_slot(store.clone(), token, self.used);
        }
        let mut slots = self.pool.slots();
        match (self.used, self.free_at) {
            (true, _) => {
                // Saturating: a period of years (or `Duration::MAX`) must not overflow the
                // clock in a `Drop`. Far enough in the future is "never again".
                let now = tokio::time::Instant::now();
                let at = now
                    .checked_add(self.limiter.limit.period())
                    .unwrap_or_else(|| far_future(now));
                slots.free_at.push(Reverse(at));
            }
            (false, Some(at)) => slots.free_at.push(Reverse(at)),
            (false, None) => slots.fresh += 1,
        }
        // The permit is released after this, with the slot back in place.
    }
}

/// About 30 years from `now`: what a period too large for the clock means in practice.
fn far_future(now: tokio::time::Instant) -> tokio::time::Instant {
    const THIRTY_YEARS: Duration = Duration::from_secs(30 * 365 * 24 * 3600);
    now.checked_add(THIRTY_YEARS).unwrap_or(now)
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("limit", &self.limit)
            .field(
                "reserved_for_tracking",
                &self.tracking.as_ref().map(|p| p.idle.available_permits()),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(requests: u32) -> RateLimit {
        RateLimit::new(requests, Duration::from_secs(10)).unwrap()
    }

    #[test]
    fn the_reserve_is_one_slot_in_twenty_and_never_all() {
        assert_eq!(tracking_reserve(1), 0);
        assert_eq!(tracking_reserve(2), 1);
        assert_eq!(tracking_reserve(19), 1);
        assert_eq!(tracking_reserve(200), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn tracking_look_ups_pass_a_queue_of_calls() {
        let limiter = Arc::new(Limiter::new(limit(20), None, true));
        // Calls use up their 19 slots, and one more waits a period behind them.
        for _ in 0..19 {
            limiter.acquire(Lane::Calls).await.use_now();
        }
        let waiting = tokio::spawn({
            let limiter = limiter.clone();
            async move {
                let _slot = limiter.acquire(Lane::Calls).await;
                tokio::time::Instant::now()
            }
        });
        tokio::task::yield_now().await;
        // The tracker's look-up does not queue behind it.
        let started = tokio::time::Instant::now();
        let _look_up = limiter.acquire(Lane::Tracking).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(waiting.await.unwrap() - started, Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn tracking_look_ups_also_take_common_slots() {
        let limiter = Limiter::new(limit(20), None, true);
        // The one reserved slot is used: the next look-up takes a common one at once.
        limiter.acquire(Lane::Tracking).await.use_now();
        let started = tokio::time::Instant::now();
        limiter.acquire(Lane::Tracking).await.use_now();
        assert_eq!(started.elapsed(), Duration::ZERO);
        // Calls never take the reserved slot: 18 common slots are left, then a period's wait.
        for _ in 0..18 {
            limiter.acquire(Lane::Calls).await.use_now();
        }
        assert_eq!(started.elapsed(), Duration::ZERO);
        limiter.acquire(Lane::Calls).await.use_now();
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn together_the_lanes_stay_within_the_limit() {
        // 20 per 10 s: whatever the mix, no 10 s window holds more than 20 sends.
        let limiter = Arc::new(Limiter::new(limit(20), None, true));
        let sends = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..80)
            .map(|i| {
                let (limiter, sends) = (limiter.clone(), sends.clone());
                tokio::spawn(async move {
                    let lane = if i % 3 == 0 {
                        Lane::Tracking
                    } else {
                        Lane::Calls
                    };
                    let mut slot = limiter.acquire(lane).await;
                    slot.use_now();
                    sends.lock().unwrap().push(tokio::time::Instant::now());
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let sends = sends.lock().unwrap();
        assert_eq!(sends.len(), 80);
        for start in sends.iter() {
            let window = sends
                .iter()
                .filter(|t| **t >= *start && **t < *start + Duration::from_secs(10))
                .count();
            assert!(window <= 20, "{window} sends in one window");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_reserve_tracking_shares_the_calls_pool() {
        let limiter = Limiter::new(limit(1), None, true);
        let mut slot = limiter.acquire(Lane::Tracking).await;
        slot.use_now();
        drop(slot);
        let started = tokio::time::Instant::now();
        let _slot = limiter.acquire(Lane::Calls).await;
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }
}
