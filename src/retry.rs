//! When to retry, and how long to wait: a pure function of what happened, tested as a table.
//!
//! Deck documents `min(1000·2^attempt, 30000)` ms over 5 attempts; we use that envelope with
//! *full jitter* (a uniform wait in `[0, envelope]`, as aws-sdk-rust does) so that many clients
//! hitting the 200-requests-per-10-s limit do not retry in lockstep.
//!
//! What is repeated: a call is *repeatable* when it is a read (GET, HEAD, OPTIONS) or a write
//! carrying an `Idempotency-Key` (Deck deduplicates it). A repeatable call is retried after a
//! dropped connection, an attempt timeout, 408, 429, 500, 502, 503 and 504. A write without a key
//! is retried only when Deck cannot have run it: the connection was never made, 429 (the rate
//! limiter refused it) or 503 (nothing behind the gateway took it). A 408, 500, 502 or 504 may
//! come after the origin ran the write, so a keyless write is never repeated after one.
//! Certificate and DNS failures are not retried at all: they do not heal within a call's
//! seconds.
//!
//! `Retry-After` (seconds or an HTTP date) is honoured with two bounds:
//! - never shorter than the attempt's backoff envelope (`min(initial·2^(n-1), max_backoff)`): a
//!   hint of 0 or a past date does not give back-to-back retries;
//! - a hint above [`RetryPolicy::max_retry_after`] (default 60 s) *stops* the retries and returns
//!   the 429/503 to the caller (its headers keep the hint). The server asked for a longer pause
//!   than the caller allowed; retrying early would most likely be refused again and spend the
//!   call's attempts, and waiting longer than the cap would break the bound the caller set.

use std::time::{Duration, SystemTime};

/// How the client retries, and how long a call may take in all. `RetryPolicy::default()`
/// follows Deck's guidance: 5 attempts, full-jitter backoff within `min(1 s·2^n, 30 s)`, and
/// a 120 s limit on the whole call.
///
/// ```
/// use std::time::Duration;
/// let policy = deck::RetryPolicy::default()
///     .max_attempts(3)
///     .max_backoff(Duration::from_secs(10));
/// assert_eq!(policy.attempts(), 3);
/// assert_eq!(deck::RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            deadline: Some(crate::client::DEFAULT_CALL_TIMEOUT),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts including the first (default 5; at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff envelope of the first retry (default 1 s); it doubles per retry.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest backoff envelope (default 30 s).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` the client waits for (default 60 s). A server asking for
    /// longer ends the call with its error (no early retry); see the module docs.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// An overall limit for one call: every attempt, the one in flight included, and every wait
    /// (default 120 s). A call still running at the limit ends with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout); a retry whose wait would cross it is
    /// not made. `None` removes the limit (the per-attempt timeout still applies).
    pub fn deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.deadline = deadline.into();
        self
    }

    /// Total attempts including the first.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The overall limit for one call, if set.
    pub fn overall_deadline(&self) -> Option<Duration> {
        self.deadline
    }
}

/// What the last attempt produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome<'a> {
    /// A response with this status.
    Status {
        /// The status code.
        status: u16,
        /// The raw `Retry-After` header, if any.
        retry_after: Option<&'a str>,
        /// The `type` of the first entry in Deck's error envelope, if any.
        error_type: Option<&'a str>,
    },
    /// The connection was never made: the request was not sent.
    ConnectFailed,
    /// A failure that does not heal by retrying within a call: a DNS lookup that failed, a
    /// certificate (or other TLS) error.
    Permanent,
    /// A timeout, reset or cut-off after the request may have reached the server.
    TransportFailed,
}

/// The facts the decision depends on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attempt<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// Whether the request carries an `Idempotency-Key`.
    pub has_idempotency_key: bool,
    /// 1-based number of the attempt that just finished.
    pub attempt: u32,
    /// What it produced.
    pub outcome: Outcome<'a>,
    /// Time spent on this call so far.
    pub elapsed: Duration,
}

/// What to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Return the last outcome to the caller.
    Stop,
    /// Wait this long, then try again.
    RetryAfter(Duration),
}

/// Decides whether to retry. `jitter` is a uniform sample in `[0, 1)` (the caller draws it, so
/// this stays pure); `now` is the clock for HTTP-date `Retry-After` values.
pub(crate) fn decide(
    policy: &RetryPolicy,
    a: &Attempt<'_>,
    jitter: f64,
    now: SystemTime,
) -> Decision {
    if a.attempt >= policy.max_attempts {
        return Decision::Stop;
    }
    // Safe to repeat: reads, and writes Deck will deduplicate by key.
    let repeatable = matches!(a.method, "GET" | "HEAD" | "OPTIONS") || a.has_idempotency_key;
    let (retry, hint) = match a.outcome {
        Outcome::Permanent => (false, None),
        Outcome::ConnectFailed => (true, None),
        Outcome::TransportFailed => (repeatable, None),
        Outcome::Status {
            status,
            retry_after,
            error_type,
        } => {
            // `organization` errors (plan, billing) never heal by retrying, whatever the status.
            let permanent = error_type == Some("organization");
            let retry = !permanent
                && match status {
                    // Refused before any work: the rate limit, or no origin behind the gateway.
                    429 | 503 => true,
                    // The origin may have run the request before this answer.
                    408 | 500 | 502 | 504 => repeatable,
                    _ => false,
                };
            (retry, retry_after.and_then(|h| parse_retry_after(h, now)))
        }
    };
    if !retry {
        return Decision::Stop;
    }
    let exp = 2u32.saturating_pow(a.attempt.saturating_sub(1));
    let envelope = policy
        .initial_backoff
        .saturating_mul(exp)
        .min(policy.max_backoff);
    let wait = match hint {
        // Above the cap: stop rather than retry before the server said it would be ready.
        Some(hint) if hint > policy.max_retry_after => return Decision::Stop,
        // Never shorter than the backoff envelope: `0` or a past date is no reason to hurry.
        Some(hint) => hint.max(envelope),
        // Not `mul_f64`, which panics when a huge envelope rounds past `Duration::MAX`.
        None => Duration::try_from_secs_f64(envelope.as_secs_f64() * jitter.clamp(0.0, 1.0))
            .unwrap_or(envelope),
    };
    if let Some(deadline) = policy.deadline
        && a.elapsed.saturating_add(wait) >= deadline
    {
        return Decision::Stop;
    }
    Decision::RetryAfter(wait)
}

/// Parses `Retry-After`: delay-seconds (`"120"`) or an HTTP-date. A date in the past means now.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(1_700_000_000);

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + NOW
    }

    fn status(status: u16) -> Outcome<'static> {
        Outcome::Status {
            status,
            retry_after: None,
            error_type: None,
        }
    }

    fn secs(s: f64) -> Decision {
        Decision::RetryAfter(Duration::from_secs_f64(s))
    }

    #[test]
    fn decision_table() {
        let policy = RetryPolicy::default();
        let date = httpdate::fmt_http_date(now() + Duration::from_secs(7));
        let past = httpdate::fmt_http_date(now() - Duration::from_secs(7));
        let org = Outcome::Status {
            status: 429,
            retry_after: None,
            error_type: Some("organization"),
        };
        let hinted = |h: &'static str| Outcome::Status {
            status: 429,
            retry_after: Some(h),
            error_type: Some("rate_limit"),
        };
        let date: &'static str = Box::leak(date.into_boxed_str());
        let past: &'static str = Box::leak(past.into_boxed_str());
        // (method, key, attempt, outcome, jitter, expected)
        let table: Vec<(&str, bool, u32, Outcome, f64, Decision)> = vec![
            // retryable statuses, any method; full jitter over min(1 s·2^(n-1), 30 s)
            ("GET", false, 1, status(429), 1.0, secs(1.0)),
            ("GET", false, 2, status(503), 1.0, secs(2.0)),
            ("GET", false, 3, status(502), 0.5, secs(2.0)),
            ("POST", true, 1, status(504), 1.0, secs(1.0)),
            ("POST", true, 1, status(408), 0.25, secs(0.25)),
            // a keyless write is repeated only when Deck cannot have run it
            ("POST", false, 1, status(408), 1.0, Decision::Stop),
            ("POST", false, 1, status(502), 1.0, Decision::Stop),
            ("POST", false, 1, status(504), 1.0, Decision::Stop),
            ("PATCH", false, 1, status(502), 1.0, Decision::Stop),
            ("DELETE", false, 1, status(504), 1.0, Decision::Stop),
            ("POST", false, 1, status(429), 1.0, secs(1.0)),
            ("POST", false, 1, status(503), 1.0, secs(1.0)),
            ("GET", false, 1, status(502), 1.0, secs(1.0)),
            ("GET", false, 1, status(504), 1.0, secs(1.0)),
            ("GET", false, 1, status(408), 1.0, secs(1.0)),
            ("GET", false, 1, status(429), 0.0, secs(0.0)),
            // the envelope is capped at 30 s
            ("GET", false, 4, status(503), 1.0, secs(8.0)),
            // 500 only when safe to repeat
            ("GET", false, 1, status(500), 1.0, secs(1.0)),
            ("POST", false, 1, status(500), 1.0, Decision::Stop),
            ("POST", true, 1, status(500), 1.0, secs(1.0)),
            ("DELETE", true, 2, status(500), 1.0, secs(2.0)),
            // never on client errors
            ("GET", false, 1, status(400), 1.0, Decision::Stop),
            ("GET", false, 1, status(401), 1.0, Decision::Stop),
            ("GET", false, 1, status(403), 1.0, Decision::Stop),
            ("GET", false, 1, status(404), 1.0, Decision::Stop),
            ("POST", true, 1, status(409), 1.0, Decision::Stop),
            ("POST", true, 1, status(422), 1.0, Decision::Stop),
            ("GET", false, 1, status(200), 1.0, Decision::Stop),
            // organization errors are permanent even on 429
            ("GET", false, 1, org, 1.0, Decision::Stop),
            // Retry-After: seconds, HTTP-date; never shorter than the envelope (0, a past
            // date); above the 60 s cap the call stops; garbage falls back to the backoff
            ("GET", false, 1, hinted("3"), 0.0, secs(3.0)),
            ("POST", true, 1, hinted(date), 0.0, secs(7.0)),
            ("GET", false, 1, hinted(past), 0.0, secs(1.0)),
            ("GET", false, 1, hinted("0"), 0.0, secs(1.0)),
            ("GET", false, 3, hinted("0"), 0.0, secs(4.0)),
            ("GET", false, 3, hinted("3"), 0.0, secs(4.0)),
            ("GET", false, 1, hinted("60"), 0.0, secs(60.0)),
            ("GET", false, 1, hinted("61"), 0.0, Decision::Stop),
            ("GET", false, 1, hinted("3600"), 0.0, Decision::Stop),
            ("GET", false, 1, hinted("soon"), 0.5, secs(0.5)),
            // certificate and DNS failures never heal within a call
            ("GET", false, 1, Outcome::Permanent, 1.0, Decision::Stop),
            ("POST", true, 1, Outcome::Permanent, 1.0, Decision::Stop),
            // transport: connect failures always, the rest only when repeatable
            ("POST", false, 1, Outcome::ConnectFailed, 1.0, secs(1.0)),
            (
                "POST",
                false,
                1,
                Outcome::TransportFailed,
                1.0,
                Decision::Stop,
            ),
            ("POST", true, 1, Outcome::TransportFailed, 1.0, secs(1.0)),
            ("GET", false, 2, Outcome::TransportFailed, 1.0, secs(2.0)),
            // attempts run out
            ("GET", false, 5, status(503), 1.0, Decision::Stop),
        ];
        for (i, (method, key, attempt, outcome, jitter, expected)) in table.into_iter().enumerate()
        {
            let got = decide(&policy, &mk(method, key, attempt, outcome), jitter, now());
            assert_eq!(
                got, expected,
                "row {i}: {method} key={key} attempt={attempt} {outcome:?}"
            );
        }
    }

    #[test]
    fn max_backoff_caps_the_envelope() {
        let policy = RetryPolicy::default()
            .max_attempts(10)
            .max_backoff(Duration::from_secs(4));
        let a = mk("GET", false, 6, status(503));
        assert_eq!(decide(&policy, &a, 1.0, now()), secs(4.0));
        let a = mk("GET", false, 9, status(503));
        assert_eq!(
            decide(&RetryPolicy::default().max_attempts(10), &a, 1.0, now()),
            secs(30.0)
        );
    }

    #[test]
    fn none_never_retries_and_deadline_stops_long_waits() {
        let a = mk("GET", false, 1, status(503));
        assert_eq!(decide(&RetryPolicy::none(), &a, 1.0, now()), Decision::Stop);
        let policy = RetryPolicy::default().deadline(Duration::from_millis(1500));
        let mut late = mk("GET", false, 1, status(503));
        late.elapsed = Duration::from_millis(600);
        assert_eq!(decide(&policy, &late, 1.0, now()), Decision::Stop);
        late.elapsed = Duration::from_millis(100);
        assert_eq!(decide(&policy, &late, 1.0, now()), secs(1.0));
    }

    #[test]
    fn huge_backoffs_never_panic() {
        let policy = RetryPolicy::default()
            .initial_backoff(Duration::MAX)
            .max_backoff(Duration::MAX)
            .deadline(None);
        let a = mk("GET", false, 4, status(503));
        assert!(matches!(
            decide(&policy, &a, 0.999_999, now()),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            decide(&policy, &a, 1.0, now()),
            Decision::RetryAfter(Duration::MAX)
        );
    }

    #[test]
    fn retry_after_parses_both_forms() {
        assert_eq!(
            parse_retry_after(" 5 ", now()),
            Some(Duration::from_secs(5))
        );
        let date = httpdate::fmt_http_date(now() + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&date, now()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("-1", now()), None);
    }

    fn mk<'a>(method: &'a str, key: bool, attempt: u32, outcome: Outcome<'a>) -> Attempt<'a> {
        Attempt {
            method,
            has_idempotency_key: key,
            attempt,
            outcome,
            elapsed: Duration::ZERO,
        }
    }
}
