//! Request counts per API key, so a test or a benchmark can see what each client (or each
//! simulated process, given a key of its own) cost.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// What the requests sent with one API key (or with all of them) cost; see
/// [`MockDeck::usage`](super::MockDeck::usage).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// Requests received (every answer counts, 401s and 429s included).
    pub requests: u64,
    /// Answered `429 rate_limit_exceeded` by the rate limit.
    pub rate_limited: u64,
    /// Answered `429 session_limit_exceeded` by the session cap.
    pub session_limited: u64,
    /// Requests per route, e.g. `"GET /v2/task-runs"`, `"POST /v2/tasks/{task_id}/run"`.
    pub by_route: BTreeMap<String, u64>,
}

impl Usage {
    fn add(&mut self, other: &Usage) {
        self.requests += other.requests;
        self.rate_limited += other.rate_limited;
        self.session_limited += other.session_limited;
        for (route, n) in &other.by_route {
            *self.by_route.entry(route.clone()).or_default() += n;
        }
    }
}

/// How one request ended, for the log.
pub(crate) enum Outcome {
    Answered,
    RateLimited,
    SessionLimited,
}

#[derive(Default)]
pub(crate) struct UsageLog(Mutex<HashMap<String, Usage>>);

impl UsageLog {
    pub(crate) fn record(&self, key: &str, route: &str, outcome: Outcome) {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let usage = log.entry(key.to_string()).or_default();
        usage.requests += 1;
        match outcome {
            Outcome::Answered => {}
            Outcome::RateLimited => usage.rate_limited += 1,
            Outcome::SessionLimited => usage.session_limited += 1,
        }
        *usage.by_route.entry(route.to_string()).or_default() += 1;
    }

    pub(crate) fn of(&self, key: &str) -> Usage {
        let log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        log.get(key).cloned().unwrap_or_default()
    }

    pub(crate) fn total(&self) -> Usage {
        let log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut total = Usage::default();
        for usage in log.values() {
            total.add(usage);
        }
        total
    }

    pub(crate) fn reset(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
