//! Hooks: your code, run on every attempt of every call, to adjust the request and observe the
//! outcome (a header of your own, metrics, a token renewed per attempt).
//!
//! Two kinds, set per client ([`ClientBuilder::before_attempt`](crate::ClientBuilder::before_attempt),
//! [`ClientBuilder::after_attempt`](crate::ClientBuilder::after_attempt)) and per call
//! ([`RequestOptions::before_attempt`](crate::RequestOptions::before_attempt),
//! [`RequestOptions::after_attempt`](crate::RequestOptions::after_attempt)); the client's run
//! first, then the call's, each in the order added:
//!
//! - **before each attempt**, with an [`AttemptRequest`]: the operation, method, URL and headers,
//!   and a way to add headers. It never shows the API key (nor any header marked sensitive) and
//!   not the body (it may hold passwords and secrets).
//! - **after each attempt**, with an [`AttemptInfo`]: operation, method, path, status, attempt
//!   number, duration, `request_id` and the error kind, if the attempt failed.
//!
//! Hooks are plain synchronous functions called on the task making the call: keep them cheap
//! (record a metric, insert a header, read a token from memory), and hand slow work elsewhere.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
//! # let mock = deck::mock::MockDeck::start().await;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::sync::Arc;
//!
//! let failed_attempts = Arc::new(AtomicU32::new(0));
//! let counter = failed_attempts.clone();
//! let client = deck::Client::builder()
//!     .api_key("sk_test_example")
//!     .base_url(mock.base_url())
//!     .before_attempt(|request| {
//!         request.insert_header("x-tenant", "acme");
//!     })
//!     .after_attempt(move |attempt| {
//!         if attempt.error.is_some() {
//!             counter.fetch_add(1, Ordering::Relaxed);
//!         }
//!         println!(
//!             "{} {} {} → {:?} in {:?} (attempt {}, request {:?})",
//!             attempt.operation, attempt.method, attempt.path, attempt.status,
//!             attempt.duration, attempt.attempt, attempt.request_id,
//!         );
//!     })
//!     .build()?;
//!
//! // Per call, after the client's hooks:
//! let options = deck::RequestOptions::new()
//!     .before_attempt(|request| request.insert_header("x-trace", "checkout-42"));
//! client.list_tasks().limit(5).with_options(options).send().await?;
//! assert_eq!(failed_attempts.load(Ordering::Relaxed), 0);
//! # Ok(()) }
//! ```

use crate::error::ErrorKind;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Request, StatusCode};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

type Before = Arc<dyn Fn(&mut AttemptRequest<'_>) + Send + Sync>;
type After = Arc<dyn Fn(&AttemptInfo<'_>) + Send + Sync>;

/// The hooks of a client or of a call.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    before: Vec<Before>,
    after: Vec<After>,
}

impl Hooks {
    pub(crate) fn before(
        &mut self,
        hook: impl Fn(&mut AttemptRequest<'_>) + Send + Sync + 'static,
    ) {
        self.before.push(Arc::new(hook));
    }

    pub(crate) fn after(&mut self, hook: impl Fn(&AttemptInfo<'_>) + Send + Sync + 'static) {
        self.after.push(Arc::new(hook));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("before_attempt", &self.before.len())
            .field("after_attempt", &self.after.len())
            .finish()
    }
}

/// Two sets of hooks are equal when they hold the same functions (the same `Arc`s).
impl PartialEq for Hooks {
    fn eq(&self, other: &Self) -> bool {
        fn same<T: ?Sized>(a: &[Arc<T>], b: &[Arc<T>]) -> bool {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| Arc::ptr_eq(a, b))
        }
        same(&self.before, &other.before) && same(&self.after, &other.after)
    }
}

/// The client's hooks and the call's, run in that order.
pub(crate) struct CallHooks<'a> {
    client: &'a Hooks,
    call: Option<&'a Hooks>,
}

impl<'a> CallHooks<'a> {
    /// `None` when neither sets a hook: the call then pays nothing for them.
    pub(crate) fn of(client: &'a Hooks, call: &'a Hooks) -> Option<Self> {
        let call = (!call.is_empty()).then_some(call);
        (!client.is_empty() || call.is_some()).then_some(CallHooks { client, call })
    }

    pub(crate) fn before_attempt(
        &self,
        request: &mut Request,
        operation: &'static str,
        attempt: u32,
    ) {
        let mut view = AttemptRequest {
            request,
            operation,
            attempt,
        };
        for hook in self
            .client
            .before
            .iter()
            .chain(self.call.iter().flat_map(|h| &h.before))
        {
            hook(&mut view);
        }
    }

    pub(crate) fn after_attempt(&self, info: &AttemptInfo<'_>) {
        for hook in self
            .client
            .after
            .iter()
            .chain(self.call.iter().flat_map(|h| &h.after))
        {
            hook(info);
        }
    }
}

/// Headers whose values a hook never reads, whatever their sensitivity flag says.
fn is_secret(name: &HeaderName, value: &HeaderValue) -> bool {
    value.is_sensitive()
        || name == reqwest::header::AUTHORIZATION
        || name == reqwest::header::PROXY_AUTHORIZATION
        || name == reqwest::header::COOKIE
}

/// The request of one attempt, as a before-attempt hook sees it: read the method, URL and
/// headers, add headers. The API key and any header marked sensitive are not readable, nor is
/// the body. Its `Debug` shows the same.
pub struct AttemptRequest<'a> {
    request: &'a mut Request,
    operation: &'static str,
    attempt: u32,
}

impl AttemptRequest<'_> {
    /// The operation, as named in Deck's spec (`"get_task_run"`).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// Which attempt this is, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        self.request.method()
    }

    /// The full URL, query included.
    pub fn url(&self) -> &url::Url {
        self.request.url()
    }

    /// A header's value, if set and not secret (`authorization`, `cookie` and sensitive values
    /// read as absent). The `Authorization` header carrying the API key is added after the
    /// hooks run and is never seen here.
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        let name = HeaderName::try_from(name).ok()?;
        let value = self.request.headers().get(&name)?;
        (!is_secret(&name, value)).then_some(value)
    }

    /// The headers set so far, secret ones left out.
    pub fn headers(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.request
            .headers()
            .iter()
            .filter(|(name, value)| !is_secret(name, value))
    }

    /// Sets a header (replacing any of that name) for this attempt; later attempts of the call
    /// start again from the request as built. A name or value that is not valid in HTTP is
    /// ignored, with a warning in the logs. An `Authorization` you set here replaces the API
    /// key's and is marked sensitive.
    pub fn insert_header<N, V>(&mut self, name: N, value: V)
    where
        N: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        let (Ok(name), Ok(mut value)) = (name.try_into(), value.try_into()) else {
            tracing::warn!(
                operation = self.operation,
                "a hook's header is not valid HTTP: ignored"
            );
            return;
        };
        if is_secret(&name, &value) {
            value.set_sensitive(true);
        }
        self.request.headers_mut().insert(name, value);
    }
}

impl fmt::Debug for AttemptRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptRequest")
            .field("operation", &self.operation)
            .field("attempt", &self.attempt)
            .field("method", self.method())
            .field("url", &self.url().as_str())
            .field("headers", &self.headers().collect::<Vec<_>>())
            .finish()
    }
}

/// What an after-attempt hook learns about one attempt.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AttemptInfo<'a> {
    /// The operation, as named in Deck's spec (`"get_task_run"`).
    pub operation: &'static str,
    /// The HTTP method.
    pub method: &'a Method,
    /// The URL path (`/v2/task-runs/trun_1`), without the query.
    pub path: &'a str,
    /// Which attempt, from 1.
    pub attempt: u32,
    /// The response status, if a response arrived.
    pub status: Option<StatusCode>,
    /// From sending the request to the end of its body (or the failure).
    pub duration: Duration,
    /// Deck's request id, from the error body or the `x-request-id` header.
    pub request_id: Option<&'a str>,
    /// Why the attempt failed (`None`: it succeeded). The call may still retry it.
    pub error: Option<ErrorKind>,
}
