//! Runs that take time, and Deck's cap on concurrent sessions.
//!
//! With [`MockDeckBuilder::run_duration`](super::MockDeckBuilder::run_duration), each run created
//! through the API draws how long it takes (mock time) and a driver task moves it on the mock
//! clock, which then follows real time multiplied by the
//! [`time_scale`](super::MockDeckBuilder::time_scale): `queued` → `running` at once, and
//! `completed` / `failed` once its duration has passed (an MFA run pauses for its interaction
//! half way). Stepping ([`MockDeck::step`](super::MockDeck::step), polls in
//! [`StepMode::OnPoll`](super::StepMode::OnPoll)) leaves such runs alone.
//!
//! With [`MockDeckBuilder::session_limit`](super::MockDeckBuilder::session_limit), starting a run
//! while the limit's number of sessions are busy answers Deck's
//! `429 rate_limit/session_limit_exceeded`.

use super::reply::{Reply, envelope};
use super::state::{Status, World};
use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::time::Duration;

/// How often the driver looks at the timed runs (real time).
pub(crate) const DRIVER_TICK: Duration = Duration::from_millis(2);

/// A timed run: when it next moves, and how much of its duration is left after an interaction.
struct Timer {
    due: Option<DateTime<Utc>>,
    rest: TimeDelta,
}

#[derive(Default)]
pub(crate) struct Timing {
    durations: Option<RangeInclusive<Duration>>,
    scale: f64,
    session_limit: Option<usize>,
    /// Runs created through the API that were active when last looked at (indices).
    live: Vec<usize>,
    timers: HashMap<usize, Timer>,
    rng: fastrand::Rng,
    /// The mock clock and the real clock when the driver started.
    origin: Option<(DateTime<Utc>, tokio::time::Instant)>,
}

impl Timing {
    pub(crate) fn new(
        durations: Option<RangeInclusive<Duration>>,
        scale: f64,
        session_limit: Option<usize>,
        seed: u64,
    ) -> Timing {
        Timing {
            durations,
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
            session_limit,
            rng: fastrand::Rng::with_seed(seed ^ 0x7133_d0d0),
            ..Timing::default()
        }
    }

    pub(crate) fn is_timed(&self, i: usize) -> bool {
        self.timers.contains_key(&i)
    }

    pub(crate) fn has_durations(&self) -> bool {
        self.durations.is_some()
    }
}

impl World {
    /// Refuses a new run with Deck's `session_limit_exceeded` when every session is busy. A
    /// run that names a session some active run already holds needs no new one.
    pub(crate) fn admit_session(
        &mut self,
        session_id: Option<&str>,
        rid: &str,
    ) -> Result<(), Reply> {
        let Some(limit) = self.timing.session_limit else {
            return Ok(());
        };
        let World { timing, runs, .. } = self;
        timing.live.retain(|&i| runs[i].status.is_active());
        let mut sessions: Vec<Option<&str>> = Vec::new();
        let mut busy = 0;
        for &i in &timing.live {
            match runs[i].session_id.as_deref() {
                Some(s) if sessions.contains(&Some(s)) => {}
                Some(s) => {
                    sessions.push(Some(s));
                    busy += 1;
                }
                None => busy += 1,
            }
        }
        let reused = session_id.is_some_and(|s| sessions.contains(&Some(s)));
        if reused || busy < limit {
            return Ok(());
        }
        Err(envelope(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit",
            "session_limit_exceeded",
            "Agent sandbox limit exceeded.".into(),
            None,
            rid,
        ))
    }

    /// A run was created through the API: count its session, and time it if runs take time.
    pub(crate) fn run_started(&mut self, i: usize) {
        self.timing.live.push(i);
        let Some(range) = self.timing.durations.clone() else {
            return;
        };
        let (lo, hi) = (
            range.start().as_millis() as u64,
            range.end().as_millis() as u64,
        );
        let ms = if hi > lo {
            self.timing.rng.u64(lo..=hi)
        } else {
            lo
        };
        let total = TimeDelta::milliseconds(ms as i64);
        let first = if self.runs[i].needs_mfa {
            total / 2
        } else {
            total
        };
        let due = self.runs[i].created_at + first;
        self.timing.timers.insert(
            i,
            Timer {
                due: Some(due),
                rest: total - first,
            },
        );
    }

    /// The driver's tick: the mock clock follows real time (scaled), and timed runs move.
    pub(crate) fn drive(&mut self, real_now: tokio::time::Instant) {
        let (origin, started) = *self.timing.origin.get_or_insert((self.now, real_now));
        let elapsed = real_now
            .saturating_duration_since(started)
            .mul_f64(self.timing.scale);
        let clock = origin + TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::zero());
        if clock > self.now {
            self.now = clock;
        }
        let now = self.now;
        let mut moving: Vec<usize> = Vec::new();
        let mut finished: Vec<usize> = Vec::new();
        for (&i, timer) in self.timing.timers.iter_mut() {
            match self.runs[i].status {
                Status::Queued | Status::Canceling => moving.push(i),
                Status::Running => match timer.due {
                    Some(due) if due <= now => moving.push(i),
                    Some(_) => {}
                    // Resumed after its interaction: the rest of its time starts now.
                    None => timer.due = Some(now + timer.rest),
                },
                Status::InteractionRequired | Status::ReviewRequired => timer.due = None,
                Status::Completed | Status::Canceled | Status::Failed => finished.push(i),
            }
        }
        for i in finished {
            self.timing.timers.remove(&i);
        }
        // In creation order, so events come out in a stable order.
        moving.sort_unstable();
        for i in moving {
            self.transition(i);
            // Paused: the rest of its time starts when it is answered.
            if self.runs[i].status == Status::InteractionRequired
                && let Some(timer) = self.timing.timers.get_mut(&i)
            {
                timer.due = None;
            }
        }
    }
}
