//! Building a [`Client`]: API key, base URL, timeouts, retries; and per-call options.

use crate::Client;
use crate::ResponseValue;
use crate::error::{Error, ErrorBody};
use crate::retry::RetryPolicy;
use progenitor_client::ClientInfo;
use reqwest::header::{HeaderMap, HeaderValue};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Deck's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.deck.co/v2";
/// Environment variable holding the API key.
pub const API_KEY_ENV: &str = "DECK_API_KEY";
/// Environment variable that overrides the base URL.
pub const BASE_URL_ENV: &str = "DECK_BASE_URL";
/// Longest idempotency key Deck accepts.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 256;

/// Default time to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest silence while reading a response (not a limit on the whole download).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// An API key. Its `Debug` never shows the key.
#[derive(Clone)]
struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(** redacted **)")
    }
}

/// Client-wide settings, carried by every [`Client`] (progenitor's "inner" value).
#[derive(Clone, Debug)]
pub struct ClientState {
    pub(crate) config: Arc<Config>,
}

#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) retry: RetryPolicy,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) automatic_idempotency_keys: bool,
}

/// Configures and builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// let client = deck::Client::builder()
///     .api_key("sk_live_example")
///     .retry(deck::RetryPolicy::default().max_attempts(3))
///     .attempt_timeout(Duration::from_secs(20))
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "https://api.deck.co/v2");
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    api_key: Option<ApiKey>,
    base_url: String,
    retry: RetryPolicy,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    allow_insecure_http: bool,
    user_agent: Option<String>,
    automatic_idempotency_keys: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            retry: RetryPolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: Some(DEFAULT_READ_TIMEOUT),
            attempt_timeout: None,
            allow_insecure_http: false,
            user_agent: None,
            automatic_idempotency_keys: true,
        }
    }
}

impl ClientBuilder {
    /// The secret key (`sk_live_…`), sent as `Authorization: Bearer …`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey(key.into()));
        self
    }

    /// The API root (default `https://api.deck.co/v2`). Must be `https`, unless the host is a
    /// loopback address or [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Allows a plain-`http` base URL on a non-loopback host (the key then travels in clear).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// How failed calls are retried (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Time allowed to connect (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Longest silence while waiting for or reading a response (default 30 s); `None` for none.
    /// It bounds stalls, not the length of a download.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// A limit on each attempt, response body included (default none). Per call, see
    /// [`RequestOptions::timeout`].
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Whether writes (POST, PATCH, DELETE) get a fresh `Idempotency-Key` when the call sets
    /// none (default true). Without a key, a write that fails with 500 or a dropped
    /// connection is not retried, since Deck might have carried it out.
    pub fn automatic_idempotency_keys(mut self, enabled: bool) -> Self {
        self.automatic_idempotency_keys = enabled;
        self
    }

    /// Text appended to the `User-Agent` (e.g. your service's name and version).
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent = Some(suffix.into());
        self
    }

    /// Builds the client. Fails on a missing key, a bad URL, or plain `http` to a remote host.
    pub fn build(self) -> Result<Client, Error> {
        let key = self.api_key.ok_or_else(|| {
            Error::InvalidRequest(format!("no API key: set {API_KEY_ENV} or call .api_key()"))
        })?;
        let base_url = self.base_url.trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&base_url)
            .map_err(|e| Error::InvalidRequest(format!("base URL `{base_url}`: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || is_loopback(&url) => {}
            other => {
                return Err(Error::InvalidRequest(format!(
                    "base URL scheme `{other}` refused: use https (plain http is allowed for \
                     loopback hosts, or with .allow_insecure_http(true))"
                )));
            }
        }

        let mut auth = HeaderValue::from_str(&format!("Bearer {}", key.0))
            .map_err(|_| Error::InvalidRequest("the API key holds invalid characters".into()))?;
        // Sensitive: hidden from Debug, and reqwest drops it when a redirect changes host.
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth);

        // progenitor sends `api-version: <spec version>` on every request; Deck (ASP.NET)
        // documents no such header and ASP.NET API Versioning reads exactly that name, so the
        // hook removes it and the spec version travels in the User-Agent instead.
        let mut user_agent = format!(
            "{}/{} (rust; deck-spec {})",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            <Client as ClientInfo<ClientState>>::api_version()
        );
        if let Some(suffix) = &self.user_agent {
            user_agent.push(' ');
            user_agent.push_str(suffix);
        }

        // reqwest's rustls needs a process-wide crypto provider; install ring's unless the
        // application installed one (an `Err` here means one is already there).
        let _ = rustls::crypto::ring::default_provider().install_default();

        let mut http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(user_agent)
            .connect_timeout(self.connect_timeout);
        if let Some(read) = self.read_timeout {
            http = http.read_timeout(read);
        }
        let http = http
            .build()
            .map_err(|e| Error::InvalidRequest(format!("building the HTTP client: {e}")))?;
        let state = ClientState {
            config: Arc::new(Config {
                retry: self.retry,
                attempt_timeout: self.attempt_timeout,
                automatic_idempotency_keys: self.automatic_idempotency_keys,
            }),
        };
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Client {
    /// A builder: set at least the API key.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for `api_key` with default settings.
    ///
    /// ```
    /// let client = deck::Client::from_api_key("sk_live_example").unwrap();
    /// assert!(!format!("{client:?}").contains("sk_live_example"));
    /// ```
    pub fn from_api_key(api_key: impl Into<String>) -> Result<Self, Error> {
        Self::builder().api_key(api_key).build()
    }

    /// A client from `DECK_API_KEY` (required) and `DECK_BASE_URL` (optional).
    pub fn from_env() -> Result<Self, Error> {
        Self::builder_from_env()?.build()
    }

    /// A builder pre-filled from `DECK_API_KEY` and `DECK_BASE_URL`, to adjust before building.
    pub fn builder_from_env() -> Result<ClientBuilder, Error> {
        let key = std::env::var(API_KEY_ENV)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| Error::InvalidRequest(format!("{API_KEY_ENV} is not set")))?;
        let mut builder = Self::builder().api_key(key);
        if let Some(url) = std::env::var(BASE_URL_ENV).ok().filter(|u| !u.is_empty()) {
            builder = builder.base_url(url);
        }
        Ok(builder)
    }

    /// The API root this client calls.
    pub fn base_url(&self) -> &str {
        self.baseurl()
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.config.retry
    }
}

/// Options for one call: an idempotency key of your own, a timeout, a retry policy.
///
/// Apply them with [`RequestExt::with_options`] on any request builder:
///
/// ```no_run
/// # async fn f(client: &deck::Client) -> Result<(), deck::Error> {
/// use deck::{RequestOptions, RequestExt};
/// use std::time::Duration;
/// let run = client
///     .run_task()
///     .task_id("task_123")
///     .body(deck::types::RunTaskRequest::builder())
///     .with_options(RequestOptions::new().idempotency_key("order-42").timeout(Duration::from_secs(5)))
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct RequestOptions {
    pub(crate) idempotency_key: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<RetryPolicy>,
}

impl RequestOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `Idempotency-Key` to send (at most 256 characters; longer keys are refused before
    /// sending). Without one, writes get a fresh key, the same on every retry of the call.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// A per-attempt time limit for this call, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A retry policy for this call, overriding the client's.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }
}

tokio::task_local! {
    pub(crate) static OPTIONS: RequestOptions;
}

/// A request builder with [`RequestOptions`] attached; `send()` runs it with them.
#[derive(Debug)]
pub struct Configured<B> {
    builder: B,
    options: RequestOptions,
}

/// Implemented by every generated request builder (the build script emits the impls).
pub trait Operation: Sized {
    /// The success body type.
    type Response;
    /// Sends the request (what the builder's own `send()` does).
    fn send_operation(
        self,
    ) -> impl std::future::Future<
        Output = Result<ResponseValue<Self::Response>, progenitor_client::Error<ErrorBody>>,
    > + Send;
}

/// Extra methods on every request builder.
pub trait RequestExt: Operation {
    /// Sends this call with `options` (own idempotency key, timeout, retry policy).
    fn with_options(self, options: RequestOptions) -> Configured<Self> {
        Configured {
            builder: self,
            options,
        }
    }

    /// Like `send()`, but the error is already a [`deck::Error`](crate::Error), so `?` works in
    /// functions returning `Box<dyn Error>` or `anyhow::Result` without losing the request id.
    fn call(
        self,
    ) -> impl std::future::Future<Output = Result<ResponseValue<Self::Response>, Error>> + Send
    {
        let sending = self.send_operation();
        async move { sending.await.map_err(Error::from) }
    }
}

impl<B: Operation> RequestExt for B {}

impl<B: Operation> Configured<B> {
    /// Sends the request with the options in force.
    pub async fn send(
        self,
    ) -> Result<ResponseValue<B::Response>, progenitor_client::Error<ErrorBody>> {
        OPTIONS
            .scope(self.options, self.builder.send_operation())
            .await
    }

    /// Like [`send`](Self::send), with the error as a [`deck::Error`](crate::Error).
    pub async fn call(self) -> Result<ResponseValue<B::Response>, Error> {
        self.send().await.map_err(Error::from)
    }
}
