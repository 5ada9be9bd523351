//! What MockDeck does wrong on purpose: injected faults ([`Fault`], [`Injection`]) and the
//! rate-limit mode. [`routes`](super::routes) asks [`Faults`] about every authenticated request
//! and carries out the answer.

use crate::RateLimit;
use axum::http::Method;
use percent_encoding::percent_decode_str;
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// A misbehaviour [`MockDeck`](super::MockDeck) can inject: what an overloaded Deck, a proxy
/// or a flaky network does. Each hits the requests its [`Injection`] selects.
///
/// Only [`Status`](Fault::Status) refuses the request; the others carry it out first (the run is
/// created, the cancel happens) and then lose or slow down the answer, which is what
/// `Idempotency-Key`s are for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answers this status with Deck's error envelope, without carrying the request out: 5xx
    /// as `api`/`api_error` ("Platform error."), 429 as `rate_limit`/`rate_limit_exceeded`
    /// (no `Retry-After`, as Deck documents none), any other status as
    /// `request`/`injected_fault` (MockDeck's own code).
    Status(u16),
    /// Carries the request out, then closes the connection without answering: the client sees
    /// the connection dropped and cannot know whether the request ran.
    Disconnect,
    /// Carries the request out and sends the status, the headers (with the full
    /// `Content-Length`) and the first half of the body, then closes the connection. A bodiless
    /// answer is dropped whole, as with [`Disconnect`](Fault::Disconnect).
    DisconnectMidBody,
    /// Carries the request out and sends the status and headers at once, then the body one
    /// byte every interval (a zero interval sends it at once).
    SlowBody(Duration),
    /// Waits this long before handling the request (a server that takes its time, or, with a
    /// long wait, one that never answers).
    Delay(Duration),
}

impl Fault {
    /// This fault for the next `n` requests it would hit, then no more.
    pub fn times(self, n: u64) -> Injection {
        Injection::from(self).times(n)
    }

    /// This fault for each request with probability `p` (0.0 to 1.0), drawn from the mock's seed.
    pub fn fraction(self, p: f64) -> Injection {
        Injection::from(self).fraction(p)
    }

    /// This fault for requests to one route only: `"POST /tasks/{task_id}/run"`, or a path
    /// alone for any method (`"/task-runs/{run_id}"`). Paths are relative to `/v2` (a leading
    /// `/v2` is accepted); `{…}` matches any one segment, anything else matches itself.
    pub fn on(self, route: &str) -> Injection {
        Injection::from(self).on(route)
    }
}

/// A [`Fault`] and the requests it hits: every authenticated request until
/// [`MockDeck::clear_faults`](super::MockDeck::clear_faults) (a bare `Fault`), the next `n`
/// ([`times`](Self::times)), a fraction ([`fraction`](Self::fraction)), on one route
/// ([`on`](Self::on)); the three combine.
///
/// When several injections would hit a request, the oldest wins; an injection whose `times` ran
/// out is removed.
#[derive(Clone, Debug, PartialEq)]
pub struct Injection {
    fault: Fault,
    route: Option<Route>,
    remaining: Option<u64>,
    probability: f64,
}

impl From<Fault> for Injection {
    fn from(fault: Fault) -> Self {
        Injection {
            fault,
            route: None,
            remaining: None,
            probability: 1.0,
        }
    }
}

impl Injection {
    /// Only the next `n` requests it would hit (0: none).
    pub fn times(mut self, n: u64) -> Self {
        self.remaining = Some(n);
        self
    }

    /// Each request it would hit only with probability `p`, clamped to 0.0–1.0.
    pub fn fraction(mut self, p: f64) -> Self {
        self.probability = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        self
    }

    /// Only requests to `route` (see [`Fault::on`]).
    pub fn on(mut self, route: &str) -> Self {
        self.route = Some(Route::parse(route));
        self
    }

    /// The fault.
    pub fn fault(&self) -> &Fault {
        &self.fault
    }
}

/// A route pattern: an optional method and the path's segments after `/v2`.
#[derive(Clone, PartialEq, Eq)]
struct Route {
    method: Option<Method>,
    segments: Vec<Option<String>>,
}

impl Route {
    fn parse(pattern: &str) -> Route {
        let pattern = pattern.trim();
        let (method, path) = match pattern.split_once(char::is_whitespace) {
            Some((m, path)) if !m.starts_with('/') => (
                Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok(),
                path.trim(),
            ),
            _ => (None, pattern),
        };
        let path = path.strip_prefix("/v2").unwrap_or(path);
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                (!(s.starts_with('{') && s.ends_with('}')))
                    .then(|| percent_decode_str(s).decode_utf8_lossy().into_owned())
            })
            .collect();
        Route { method, segments }
    }

    /// `path` is the canonical request path (`/v2/…`, segments percent-encoded).
    fn matches(&self, method: &Method, path: &str) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        let Some(rest) = path.strip_prefix("/v2") else {
            return false;
        };
        let mut segments = rest.split('/').filter(|s| !s.is_empty());
        for want in &self.segments {
            match (want, segments.next()) {
                (_, None) => return false,
                (None, Some(_)) => {}
                (Some(want), Some(got)) => {
                    if *want != percent_decode_str(got).decode_utf8_lossy() {
                        return false;
                    }
                }
            }
        }
        segments.next().is_none()
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(m) = &self.method {
            write!(f, "{m} ")?;
        }
        for s in &self.segments {
            write!(f, "/{}", s.as_deref().unwrap_or("{…}"))?;
        }
        Ok(())
    }
}

/// The mock's faults and rate-limit state (behind a mutex in `Shared`).
pub(crate) struct Faults {
    injections: VecDeque<Injection>,
    rng: fastrand::Rng,
    window: Option<Window>,
    pub(crate) injected: u64,
    pub(crate) rate_limited: u64,
}

/// A sliding window: at most `limit.requests()` accepted requests in any `limit.period()`.
struct Window {
    limit: RateLimit,
    accepted: VecDeque<Instant>,
}

impl Faults {
    pub(crate) fn new(seed: u64, injections: Vec<Injection>, rate: Option<RateLimit>) -> Faults {
        Faults {
            injections: injections.into(),
            rng: fastrand::Rng::with_seed(seed ^ 0x0fa1_7ed0),
            window: rate.map(Window::new),
            injected: 0,
            rate_limited: 0,
        }
    }

    pub(crate) fn inject(&mut self, injection: Injection) {
        self.injections.push_back(injection);
    }

    pub(crate) fn clear(&mut self) {
        self.injections.clear();
    }

    pub(crate) fn set_rate_limit(&mut self, rate: Option<RateLimit>) {
        self.window = rate.map(Window::new);
    }

    /// Admits a request under the rate limit, or says how long until one would be admitted.
    pub(crate) fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        let Some(window) = &mut self.window else {
            return Ok(());
        };
        let period = window.limit.period();
        while let Some(&oldest) = window.accepted.front() {
            if now.saturating_duration_since(oldest) >= period {
                window.accepted.pop_front();
            } else {
                break;
            }
        }
        if window.accepted.len() < window.limit.requests() as usize {
            window.accepted.push_back(now);
            return Ok(());
        }
        self.rate_limited += 1;
        let oldest = window.accepted.front().copied().unwrap_or(now);
        Err((oldest + period).saturating_duration_since(now))
    }

    /// The fault that hits this request, if any (counting it against its injection).
    pub(crate) fn pick(&mut self, method: &Method, path: &str) -> Option<Fault> {
        let mut hit = None;
        for injection in self.injections.iter_mut() {
            if injection.remaining == Some(0)
                || !injection
                    .route
                    .as_ref()
                    .is_none_or(|r| r.matches(method, path))
            {
                continue;
            }
            if injection.probability < 1.0 && self.rng.f64() >= injection.probability {
                continue;
            }
            if let Some(n) = &mut injection.remaining {
                *n -= 1;
            }
            hit = Some(injection.fault.clone());
            break;
        }
        self.injections.retain(|i| i.remaining != Some(0));
        let fault = hit?;
        self.injected += 1;
        Some(fault)
    }
}

impl Window {
    fn new(limit: RateLimit) -> Window {
        Window {
            limit,
            accepted: VecDeque::new(),
        }
    }
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults")
            .field("injections", &self.injections)
            .field("rate_limit", &self.window.as_ref().map(|w| w.limit))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_by_method_and_segments() {
        let run = Route::parse("POST /tasks/{task_id}/run");
        assert!(run.matches(&Method::POST, "/v2/tasks/task_1/run"));
        assert!(!run.matches(&Method::GET, "/v2/tasks/task_1/run"));
        assert!(!run.matches(&Method::POST, "/v2/tasks/task_1"));
        assert!(!run.matches(&Method::POST, "/v2/tasks/task_1/run/x"));
        let any = Route::parse("/v2/task-runs/{id}");
        assert!(any.matches(&Method::GET, "/v2/task-runs/trun_1"));
        assert!(any.matches(&Method::DELETE, "/v2/task-runs/trun_1"));
        let exact = Route::parse("get /task-runs/trun%5F1");
        assert!(exact.matches(&Method::GET, "/v2/task-runs/trun_1"));
        assert!(!exact.matches(&Method::GET, "/v2/task-runs/trun_2"));
        assert!(!exact.matches(&Method::GET, "/other/task-runs/trun_1"));
    }

    #[test]
    fn times_run_out_and_the_oldest_injection_wins() {
        let mut faults = Faults::new(
            1,
            vec![
                Fault::Status(503).times(2),
                Fault::Disconnect.on("/test"),
                Fault::Status(500).into(),
            ],
            None,
        );
        let mut next = || faults.pick(&Method::GET, "/v2/test");
        assert_eq!(next(), Some(Fault::Status(503)));
        assert_eq!(next(), Some(Fault::Status(503)));
        assert_eq!(next(), Some(Fault::Disconnect));
        assert_eq!(
            faults.pick(&Method::GET, "/v2/tasks"),
            Some(Fault::Status(500))
        );
        assert_eq!(faults.injections.len(), 2);
        assert_eq!(faults.injected, 4);
        faults.clear();
        assert_eq!(faults.pick(&Method::GET, "/v2/test"), None);
    }

    #[test]
    fn fractions_hit_about_that_share() {
        let mut faults = Faults::new(7, vec![Fault::Status(502).fraction(0.25)], None);
        let hits = (0..4000)
            .filter(|_| faults.pick(&Method::GET, "/v2/test").is_some())
            .count();
        assert!((800..1200).contains(&hits), "{hits}");
        let mut never = Faults::new(7, vec![Fault::Status(502).fraction(f64::NAN)], None);
        assert_eq!(never.pick(&Method::GET, "/v2/test"), None);
    }

    #[test]
    fn the_window_admits_n_per_period_and_names_the_wait() {
        let limit = RateLimit::new(3, Duration::from_secs(10)).unwrap();
        let mut faults = Faults::new(1, vec![], Some(limit));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(faults.admit(t0 + Duration::from_secs(i)), Ok(()));
        }
        assert_eq!(
            faults.admit(t0 + Duration::from_secs(4)),
            Err(Duration::from_secs(6))
        );
        // The first request leaves the window 10 s after it was admitted.
        assert_eq!(faults.admit(t0 + Duration::from_secs(10)), Ok(()));
        assert_eq!(
            faults.admit(t0 + Duration::from_secs(10)),
            Err(Duration::from_secs(1))
        );
        assert_eq!(faults.rate_limited, 2);
    }
}
