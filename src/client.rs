//! Building a [`Client`]: API key, base URL, timeouts, limits, retries, rate limiting; and the
//! per-call [`RequestOptions`].

use crate::Client;
use crate::error::Error;
use crate::hooks::{AttemptInfo, AttemptRequest, Hooks};
use crate::limiter::Limiter;
use crate::retry::RetryPolicy;
use reqwest::header::{HeaderMap, HeaderValue};
use rustls::pki_types::CertificateDer;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Deck's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.deck.co/v2";
/// Environment variable holding the API key.
pub const API_KEY_ENV: &str = "DECK_API_KEY";
/// Environment variable that overrides the base URL.
pub const BASE_URL_ENV: &str = "DECK_BASE_URL";
/// The header Deck deduplicates writes by.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Longest idempotency key Deck accepts (longer keys get a 400 `idempotency_key_error`).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 256;

/// Default time to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest silence while waiting for or reading a response.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit on one attempt, from sending the request to the last byte of the response.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default limit on a whole call: every attempt, the one in flight included, and every wait.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Default largest response body the client reads (a page of 100 runs with large outputs fits
/// many times over).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// An API key. Its `Debug` never shows the key.
#[derive(Clone)]
struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(** redacted **)")
    }
}

/// Client-wide settings every [`Client`] carries.
///
/// Public only because progenitor's generated `Client` names its "inner" type in public trait
/// impls; it has nothing to call.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct ClientState {
    pub(crate) config: Arc<Config>,
}

#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) retry: RetryPolicy,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) max_response_bytes: u64,
    pub(crate) automatic_idempotency_keys: bool,
    pub(crate) limiter: Option<Limiter>,
    pub(crate) hooks: Hooks,
    /// The run tracker, once made ([`Client::run_tracker`]), and its options.
    pub(crate) tracker: std::sync::OnceLock<crate::tracker::RunTracker>,
    pub(crate) tracker_options: Option<crate::tracker::TrackerOptions>,
}

/// A client-side request rate: at most `requests` in any `period`. The whole allowance may go
/// out at once; after that, each request waits for one that finished at least a period earlier
/// (see [`ClientBuilder::rate_limit`]).
///
/// ```
/// let deck_limit = deck::RateLimit::DECK;
/// assert_eq!((deck_limit.requests(), deck_limit.period().as_secs()), (200, 10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    requests: NonZeroU32,
    period: Duration,
}

impl RateLimit {
    /// Deck's documented limit: 200 requests per 10 seconds per organisation (across all keys).
    pub const DECK: RateLimit = RateLimit {
        requests: NonZeroU32::new(200).expect("non-zero"),
        period: Duration::from_secs(10),
    };

    /// `requests` per `period`; `None` when either is zero.
    pub fn new(requests: u32, period: Duration) -> Option<RateLimit> {
        let requests = NonZeroU32::new(requests)?;
        (!period.is_zero()).then_some(RateLimit { requests, period })
    }

    /// Requests allowed per period.
    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// A root certificate the client trusts in addition to the system's: a TLS-inspecting proxy's
/// or a private CA's (see [`ClientBuilder::add_root_certificate`]).
///
/// ```
/// let pem = b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
/// assert!(deck::Certificate::from_pem(pem).is_err());
/// assert!(deck::Certificate::from_pem(b"no certificate here").is_err());
/// ```
#[derive(Clone)]
pub struct Certificate(CertificateDer<'static>);

impl Certificate {
    /// Exactly one PEM certificate (`-----BEGIN CERTIFICATE-----`).
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, Error> {
        let mut certs = Self::from_pem_bundle(pem)?;
        match certs.len() {
            1 => Ok(certs.remove(0)),
            n => Err(Error::InvalidRequest(format!(
                "expected one PEM certificate, found {n} (use Certificate::from_pem_bundle)"
            ))),
        }
    }

    /// Every certificate of a PEM bundle (at least one).
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Vec<Certificate>, Error> {
        use rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_slice_iter(pem)
            .map(|c| c.map(Certificate))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidRequest(format!("reading PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(Error::InvalidRequest("no PEM certificate found".into()));
        }
        Ok(certs)
    }

    /// A DER-encoded certificate (checked when the client is built).
    pub fn from_der(der: &[u8]) -> Result<Certificate, Error> {
        if der.is_empty() {
            return Err(Error::InvalidRequest(
                "reading a DER certificate: it is empty".into(),
            ));
        }
        Ok(Certificate(CertificateDer::from(der.to_vec())))
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Certificate")
    }
}

/// Configures and builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// let client = deck::Client::builder()
///     .api_key("sk_live_example")
///     .retry(deck::RetryPolicy::default().max_attempts(3))
///     .attempt_timeout(Duration::from_secs(20))
///     .rate_limit(deck::RateLimit::DECK)
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "https://api.deck.co/v2");
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    api_key: Option<ApiKey>,
    base_url: String,
    retry: RetryPolicy,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    max_response_bytes: u64,
    allow_insecure_http: bool,
    user_agent: Option<String>,
    automatic_idempotency_keys: bool,
    rate_limit: Option<RateLimit>,
    rate_limit_store: Option<Arc<dyn crate::store::RateLimitStore>>,
    run_tracker: Option<crate::tracker::TrackerOptions>,
    root_certificates: Vec<Certificate>,
    hooks: Hooks,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            retry: RetryPolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: Some(DEFAULT_READ_TIMEOUT),
            attempt_timeout: Some(DEFAULT_ATTEMPT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            allow_insecure_http: false,
            user_agent: None,
            automatic_idempotency_keys: true,
            rate_limit: None,
            rate_limit_store: None,
            run_tracker: None,
            root_certificates: Vec::new(),
            hooks: Hooks::default(),
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

    /// How failed calls are retried, and the overall limit on a call (default:
    /// [`RetryPolicy::default`]: 5 attempts within 120 s).
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
    /// A silence past it ends the attempt as [`ErrorKind::Timeout`](crate::ErrorKind::Timeout).
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// A limit on each attempt, response body included (default 60 s); `None` for none (the
    /// call's overall limit still applies). Per call, see [`RequestOptions::timeout`].
    pub fn attempt_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.attempt_timeout = timeout.into();
        self
    }

    /// The largest response body read (default 32 MiB). A larger body ends the call with
    /// [`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge) without being
    /// buffered (at once when its `Content-Length` says so) and is not retried; error bodies are
    /// read up to 64 KiB and kept truncated to 2 KiB.
    ///
    /// The decoded value takes memory too: typed fields about the body's size, free-form JSON
    /// (a run's `input` and `output`) up to ~16 times it for pathological content (a 30 MiB
    /// array of zeros decodes into ~500 MiB). Lower the limit if that matters.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Whether writes (POST, PATCH, DELETE) get a fresh `Idempotency-Key` when the call sets
    /// none (default true). Without a key, a write is sent once more only when Deck cannot have
    /// run it (a connection never made, 429, 503); after a cut connection, a timeout, 408, 500,
    /// 502 or 504 it is not repeated, since Deck might have carried it out.
    pub fn automatic_idempotency_keys(mut self, enabled: bool) -> Self {
        self.automatic_idempotency_keys = enabled;
        self
    }

    /// Sends at most `limit.requests()` attempts in any `limit.period()`, waiting for room
    /// before each attempt (default: no limit). The allowance is shared by every clone of the
    /// client, so a fan-out of many calls goes out at Deck's pace instead of collecting 429s;
    /// [`RateLimit::DECK`] is Deck's documented limit (use a smaller one when other clients
    /// share your organisation's allowance).
    ///
    /// The first `requests` go out at once; after that, an attempt waits until one sent earlier
    /// got its answer a full period ago, which keeps any window of one period, however Deck
    /// counts, within the limit whatever the network delays. The wait counts against the call's
    /// [`deadline`](RetryPolicy::deadline); a call that gives up while waiting sends nothing.
    ///
    /// With a [`run_tracker`](Self::run_tracker), one slot in twenty (at least one) is kept for
    /// the tracker's look-ups, so a run that finished is looked up at once rather than behind a
    /// batch's queue of starts.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Shares the [`rate_limit`](Self::rate_limit) with every client using the same `store`,
    /// in this process or others (e.g. a [`RedisStore`](crate::store::RedisStore)): together
    /// they send at most the limit's requests per period, the way Deck counts them (per
    /// organisation). Each attempt takes a slot of this client's own limiter and one of the
    /// store; a store that fails is retried until the call's deadline.
    pub fn rate_limit_store(mut self, store: Arc<dyn crate::store::RateLimitStore>) -> Self {
        self.rate_limit_store = Some(store);
        self
    }

    /// Options of this client's [`RunTracker`](crate::tracker::RunTracker) (see
    /// [`Client::run_tracker`]); the client has one from the start, so
    /// [`Client::wait_for_task_run`] waits through it. With a
    /// [`rate_limit`](Self::rate_limit), the tracker's look-ups get slots of their own (one in
    /// twenty): a finished run's waiter does not queue behind a batch's starts.
    pub fn run_tracker(mut self, options: crate::tracker::TrackerOptions) -> Self {
        self.run_tracker = Some(options);
        self
    }

    /// Trusts `cert` as a root, in addition to the system's trust store: for a TLS-inspecting
    /// proxy or a private CA between you and Deck. A certificate that does not parse makes
    /// [`build`](Self::build) fail.
    pub fn add_root_certificate(mut self, cert: Certificate) -> Self {
        self.root_certificates.push(cert);
        self
    }

    /// Runs `hook` before every attempt of every call (retries included), to read the request
    /// and add headers; see [`hooks`](crate::hooks). Per call, see
    /// [`RequestOptions::before_attempt`].
    pub fn before_attempt(
        mut self,
        hook: impl Fn(&mut AttemptRequest<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.before(hook);
        self
    }

    /// Runs `hook` after every attempt of every call: operation, method, path, status, attempt
    /// number, duration, `request_id` and error kind; see [`hooks`](crate::hooks). Per call, see
    /// [`RequestOptions::after_attempt`].
    pub fn after_attempt(
        mut self,
        hook: impl Fn(&AttemptInfo<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.after(hook);
        self
    }

    /// Text appended to the `User-Agent` (e.g. your service's name and version).
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent = Some(suffix.into());
        self
    }

    /// Builds the client. Fails on a missing key, a bad URL, or plain `http` to a remote host.
    pub fn build(self) -> Result<Client, Error> {
        self.build_with(Resolver::System)
    }

    pub(crate) fn build_with(self, resolver: Resolver) -> Result<Client, Error> {
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
        // Sensitive: hidden from Debug and from reqwest's logs.
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth);

        let mut user_agent = format!(
            "{}/{} (rust; deck-spec {})",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            Client::spec_version()
        );
        if let Some(suffix) = &self.user_agent {
            user_agent.push(' ');
            user_agent.push_str(suffix);
        }

        let tls = tls_config(self.root_certificates)?;
        let mut http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(resolver)
            .default_headers(headers)
            .user_agent(user_agent)
            .connect_timeout(self.connect_timeout)
            // Deck's API does not redirect; following one could send a write's body (credential
            // secrets) elsewhere, possibly in clear. A 3xx is a typed error naming the location.
            .redirect(reqwest::redirect::Policy::none());
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
                max_response_bytes: self.max_response_bytes,
                automatic_idempotency_keys: self.automatic_idempotency_keys,
                limiter: self.rate_limit.map(|limit| {
                    Limiter::new(
                        limit,
                        self.rate_limit_store.clone(),
                        self.run_tracker.is_some(),
                    )
                }),
                hooks: self.hooks,
                tracker: std::sync::OnceLock::new(),
                tracker_options: self.run_tracker.clone(),
            }),
        };
        let client = Client::new_with_client(&base_url, http, state);
        if self.run_tracker.is_some() {
            client.run_tracker();
        }
        Ok(client)
    }
}

/// The TLS configuration every client uses: rustls with *this* crate's crypto provider (ring),
/// passed to reqwest explicitly. The process-wide default provider is neither read nor set, so
/// an application stays free to install its own (reqwest would otherwise need one installed).
/// Certificates are checked by the platform's verifier, with `extra_roots` added; HTTP/2 and
/// HTTP/1.1 are offered.
pub(crate) fn tls_config(extra_roots: Vec<Certificate>) -> Result<rustls::ClientConfig, Error> {
    let tls_error = |e: rustls::Error| Error::InvalidRequest(format!("configuring TLS: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = if extra_roots.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone())
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(
            extra_roots.into_iter().map(|c| c.0),
            provider.clone(),
        )
    }
    .map_err(tls_error)?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A DNS lookup that failed: the client's resolver wraps the error in this type so the retry
/// decision can tell it from a refused connection (it does not heal within a call).
#[derive(Debug)]
pub(crate) struct DnsFailed(std::io::Error);

impl fmt::Display for DnsFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DNS lookup failed: {}", self.0)
    }
}

impl std::error::Error for DnsFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The client's resolver: the system's (`getaddrinfo`, on Tokio's blocking pool, as reqwest's
/// own), with failures marked [`DnsFailed`].
pub(crate) enum Resolver {
    System,
    /// Every lookup fails (tests of the retry decision; no test leaves loopback).
    #[cfg(test)]
    Failing,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        #[cfg(test)]
        let failing = matches!(self, Resolver::Failing);
        Box::pin(async move {
            #[cfg(test)]
            if failing {
                let e = std::io::Error::other("no such host (test resolver)");
                return Err(Box::new(DnsFailed(e)) as _);
            }
            match tokio::net::lookup_host((host, 0)).await {
                Ok(addrs) => Ok(Box::new(addrs) as reqwest::dns::Addrs),
                Err(e) => Err(Box::new(DnsFailed(e)) as _),
            }
        })
    }
}

/// Whether `url`'s host is a loopback address or `localhost` (the one check: the client's
/// plain-`http` rule and MockDeck's delivery rule both use it).
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
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
        &self.baseurl
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.config.retry
    }

    /// The version of Deck's spec (`info.version`) this client was generated from.
    pub fn spec_version() -> &'static str {
        <Client as progenitor_client::ClientInfo<ClientState>>::api_version()
    }
}

/// An `Idempotency-Key`: 1 to 256 visible ASCII characters, checked when it is made.
///
/// Every write gets a fresh UUID v4 key by default, the same on each retry of the call; set your
/// own with [`RequestOptions::idempotency_key`] to make a write safe to repeat across calls
/// (Deck replays the first successful response for 24 hours).
///
/// ```
/// let key = deck::IdempotencyKey::new("order-42").unwrap();
/// assert_eq!(key.as_str(), "order-42");
/// assert!(deck::IdempotencyKey::new("x".repeat(257)).is_err());
/// assert!(deck::IdempotencyKey::new("").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(HeaderValue);

impl IdempotencyKey {
    /// Checks and wraps `key`.
    pub fn new(key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        let len = key.chars().count();
        if key.is_empty() || len > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(Error::InvalidRequest(format!(
                "idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters, got {len}"
            )));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(Error::InvalidRequest(
                "idempotency key must be visible ASCII (no control characters)".into(),
            ));
        }
        let value = HeaderValue::from_str(&key)
            .map_err(|_| Error::InvalidRequest("idempotency key is not a header value".into()))?;
        Ok(Self(value))
    }

    /// A fresh random UUID v4 key, the form Deck recommends.
    pub fn generate() -> Self {
        let key = uuid::Uuid::new_v4().hyphenated().to_string();
        Self(HeaderValue::from_str(&key).expect("a UUID is a header value"))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        self.0.to_str().expect("checked to be ASCII")
    }

    pub(crate) fn header_value(&self) -> HeaderValue {
        self.0.clone()
    }
}

impl std::str::FromStr for IdempotencyKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

/// Options for one call: an idempotency key of your own, a per-attempt timeout, a retry policy,
/// hooks.
///
/// Attach them with `.with_options(..)` on any request builder; on a list builder they apply to
/// every page:
///
/// ```no_run
/// # async fn f(client: &deck::Client) -> Result<(), deck::Error> {
/// use deck::{IdempotencyKey, RequestOptions};
/// use deck::types::RunTaskRequest;
/// use std::time::Duration;
/// let run = client
///     .run_task()
///     .task_id("task_123")
///     .body(RunTaskRequest::builder())
///     .with_options(
///         RequestOptions::new()
///             .idempotency_key(IdempotencyKey::new("order-42")?)
///             .timeout(Duration::from_secs(5)),
///     )
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestOptions {
    pub(crate) idempotency_key: Option<IdempotencyKey>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<RetryPolicy>,
    pub(crate) hooks: Hooks,
    /// The rate limiter's lane: the run tracker's look-ups take the reserved slots.
    pub(crate) lane: crate::limiter::Lane,
}

impl RequestOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `Idempotency-Key` to send on a write (instead of a fresh one).
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// A per-attempt time limit for this call, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A retry policy (and overall limit) for this call, overriding the client's.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Runs `hook` before every attempt of this call, after the client's
    /// ([`ClientBuilder::before_attempt`]); see [`hooks`](crate::hooks).
    pub fn before_attempt(
        mut self,
        hook: impl Fn(&mut AttemptRequest<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.before(hook);
        self
    }

    /// Runs `hook` after every attempt of this call, after the client's
    /// ([`ClientBuilder::after_attempt`]); see [`hooks`](crate::hooks).
    pub fn after_attempt(
        mut self,
        hook: impl Fn(&AttemptInfo<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.after(hook);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_uuid_v4_and_distinct() {
        let a = IdempotencyKey::generate();
        let b = IdempotencyKey::generate();
        assert_ne!(a, b);
        let a = a.as_str();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }

    #[test]
    fn keys_are_checked_when_made() {
        assert!(IdempotencyKey::new("k".repeat(256)).is_ok());
        assert!(IdempotencyKey::new("k".repeat(257)).is_err());
        assert!(IdempotencyKey::new("").is_err());
        assert!(IdempotencyKey::new("a\nb").is_err());
        assert!(IdempotencyKey::new("é").is_err());
    }

    /// The bounds a client has when nothing is set (the paused-clock test in `tests/faults.rs`
    /// runs them).
    #[test]
    fn defaults_bound_every_call() {
        let builder = ClientBuilder::default();
        assert_eq!(builder.connect_timeout, Duration::from_secs(10));
        assert_eq!(builder.read_timeout, Some(Duration::from_secs(30)));
        let client = builder.api_key("k").build().unwrap();
        let config = &client.inner.config;
        assert_eq!(config.attempt_timeout, Some(Duration::from_secs(60)));
        assert_eq!(config.max_response_bytes, 32 * 1024 * 1024);
        assert_eq!(
            config.retry.overall_deadline(),
            Some(Duration::from_secs(120))
        );
        assert_eq!(config.retry.attempts(), 5);
        assert!(config.limiter.is_none());
    }

    #[test]
    fn rate_limits_refuse_zero() {
        assert!(RateLimit::new(0, Duration::from_secs(1)).is_none());
        assert!(RateLimit::new(1, Duration::ZERO).is_none());
        assert_eq!(
            RateLimit::new(200, Duration::from_secs(10)),
            Some(RateLimit::DECK)
        );
    }
}
