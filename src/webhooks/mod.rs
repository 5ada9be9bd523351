//! Verify Deck's signed webhook deliveries (feature `webhooks`).
//!
//! Deck signs each webhook delivery per [Standard Webhooks]: three headers, `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64>`, space-separated
//! when there are several), where the signature is the HMAC-SHA256 of
//! `"{webhook-id}.{webhook-timestamp}.{body}"` keyed with the base64-decoded part of the
//! destination's `whsec_…` secret.
//!
//! [`Webhook::verify`] checks all of that in one call: the headers, the signature (constant
//! time, any of several signatures, any of several secrets), the timestamp (within
//! [`DEFAULT_TOLERANCE`] either way, against replays), then decodes the body into an [`Event`],
//! whose `data` is typed by the event's family ([`EventData::TaskRun`] for `task_run.*`, …).
//! Each failure is a distinct [`WebhookError`].
//!
//! ```
//! use deck::types::RunStatus;
//! use deck::webhooks::{EventData, EventType, Webhook, WebhookError};
//! use http::HeaderMap;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//!
//! // A delivery as Deck sends it; here signed locally with the same secret.
//! let body = br#"{"id":"evt_1","object":"event","type":"task_run.completed",
//!                 "created_at":"2025-01-01T00:00:00Z",
//!                 "data":{"id":"run_1","object":"task_run","status":"completed","runtime_ms":""}}"#;
//! let now = chrono::Utc::now().timestamp();
//! let mut headers = HeaderMap::new();
//! headers.insert("webhook-id", "msg_1".parse()?);
//! headers.insert("webhook-timestamp", now.to_string().parse()?);
//! headers.insert("webhook-signature", webhook.sign("msg_1", now, body).parse()?);
//!
//! let event = webhook.verify(body, &headers)?;
//! assert_eq!(event.type_, EventType::TaskRunCompleted);
//! let EventData::TaskRun(run) = &event.data else { panic!("a task_run event") };
//! assert_eq!(run.status, Some(RunStatus::Completed));
//! assert_eq!(run.runtime_ms, None); // Deck's snapshots send empty fields as ""
//!
//! // One changed byte and the delivery is refused.
//! let tampered = String::from_utf8(body.to_vec())?.replace("run_1", "run_2");
//! assert!(matches!(
//!     webhook.verify(tampered.as_bytes(), &headers),
//!     Err(WebhookError::NoMatchingSignature { .. })
//! ));
//! # Ok(())
//! # }
//! ```
//!
//! # Secret rotation
//!
//! After a rollover Deck keeps the previous secret valid for 24 hours. Configure both meanwhile:
//! [`Webhook::with_secrets`]`([new, previous])` accepts a delivery signed with either.
//!
//! # Receiving deliveries (axum)
//!
//! Verify the raw body, exactly as received: not a re-serialized `Json<…>` (a signature that
//! does not match says so when the body looks re-serialised: [`SignatureHint`]). Delivery is at
//! least once and unordered, so skip event ids already handled (and still answer 2xx), and order
//! by `created_at`. Answer within 5 seconds; Deck retries failures 3 times, then deactivates the
//! destination.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use axum::{Router, body::Bytes, extract::State, http::{HeaderMap, StatusCode}, routing::post};
//! use deck::webhooks::{EventData, Webhook, WebhookError};
//!
//! async fn deck_events(
//!     State(webhook): State<Arc<Webhook>>,
//!     headers: HeaderMap,
//!     body: Bytes,
//! ) -> StatusCode {
//!     match webhook.verify(&body, &headers) {
//!         Ok(event) => {
//!             // Deduplicate on event.id, hand the work to a queue, answer now.
//!             match &event.data {
//!                 EventData::TaskRun(run) => println!("{}: run {:?} {:?}", event.type_, run.id, run.status),
//!                 EventData::Credential(c) => println!("{}: credential {:?}", event.type_, c.id),
//!                 _ => println!("{} {} at {}", event.id, event.type_, event.created_at),
//!             }
//!             StatusCode::OK
//!         }
//!         // Genuine, but not decodable by this version of the crate: acknowledge it, or Deck
//!         // retries and finally deactivates the destination.
//!         Err(WebhookError::InvalidEvent(e)) => {
//!             eprintln!("undecodable Deck event: {e}");
//!             StatusCode::OK
//!         }
//!         Err(e) => {
//!             eprintln!("rejected webhook delivery: {e}");
//!             StatusCode::BAD_REQUEST
//!         }
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The current secret first (it is the one `sign` uses), then, during a rollover, the
//!     // previous one.
//!     let secrets = [std::env::var("DECK_WEBHOOK_SECRET")?]
//!         .into_iter()
//!         .chain(std::env::var("DECK_WEBHOOK_PREVIOUS_SECRET").ok());
//!     let webhook = Arc::new(Webhook::with_secrets(secrets)?);
//!     let app = Router::new()
//!         .route("/webhooks/deck", post(deck_events))
//!         .with_state(webhook);
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/

mod error;
mod headers;

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The event a delivery carries (the same type `GET /events/{id}` answers), re-exported here:
/// `data` is typed by the event's family ([`EventData`]).
pub use crate::types::{Event, EventData, EventType};
pub use error::{Header, MalformedReason, SecretProblem, SignatureHint, WebhookError};

use crate::error::DecodeError;
use headers::{BASE64, Signed};

/// The `webhook-id` header: the message id, the same on every retry of a delivery.
pub const HEADER_WEBHOOK_ID: &str = "webhook-id";
/// The `webhook-timestamp` header: when the delivery was signed, Unix seconds.
pub const HEADER_WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// The `webhook-signature` header: space-separated `v1,<base64>` signatures.
pub const HEADER_WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// How far `webhook-timestamp` may be from now, either way: 5 minutes, as in Standard Webhooks.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The fewest bytes a secret may decode to: shorter keys are refused as typos or truncated
/// copies (they make weak HMAC keys). Deck's secrets decode to 24 bytes.
pub const MIN_SECRET_BYTES: usize = 16;

const SECRET_PREFIX: &str = "whsec_";

/// Verifies (and signs) Deck's webhook deliveries with one or more secrets.
///
/// Cheap to clone and `Send + Sync`; build it once and share it. Its `Debug` output shows how
/// many secrets it holds, never the secrets; the keyed state is zeroed on drop.
#[derive(Clone)]
pub struct Webhook {
    /// One HMAC per secret, already keyed; the first is the one [`sign`](Self::sign) uses.
    keys: Vec<Hmac<Sha256>>,
    tolerance: Duration,
    /// The first secret given without `whsec_`, named when no signature matches.
    without_prefix: Option<usize>,
}

impl Webhook {
    /// A verifier for one secret: `whsec_<base64>` as Deck shows it, or the bare base64 key,
    /// decoding to at least [`MIN_SECRET_BYTES`] bytes. Takes a `&str` or a `String`
    /// (`Webhook::new(std::env::var("DECK_WEBHOOK_SECRET")?)`).
    ///
    /// A refused secret is [`WebhookError::InvalidSecret`], naming the likely mistake:
    ///
    /// ```
    /// use deck::webhooks::{SecretProblem, Webhook, WebhookError};
    /// let problem = |secret: &str| match Webhook::new(secret) {
    ///     Err(WebhookError::InvalidSecret { problem, .. }) => Some(problem),
    ///     _ => None,
    /// };
    /// assert!(Webhook::new(String::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).is_ok());
    /// assert_eq!(problem("whsec_c2hvcnQ="), Some(SecretProblem::TooShort { bytes: 5 }));
    /// assert_eq!(problem("v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="), Some(SecretProblem::SignaturePrefix));
    /// assert_eq!(problem("sk_live_123"), Some(SecretProblem::MissingPrefix));
    /// ```
    pub fn new(secret: impl AsRef<str>) -> Result<Self, WebhookError> {
        Self::with_secrets([secret])
    }

    /// A verifier that accepts a delivery signed with any of `secrets` (each `whsec_<base64>` or
    /// bare base64), for the 24 hours after a rotation when Deck may still sign with the
    /// previous secret. Put the current secret first: [`sign`](Self::sign) uses it.
    pub fn with_secrets<I>(secrets: I) -> Result<Self, WebhookError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut without_prefix = None;
        let keys = secrets
            .into_iter()
            .enumerate()
            .map(|(index, secret)| {
                let secret = secret.as_ref().trim();
                if !secret.starts_with(SECRET_PREFIX) {
                    without_prefix.get_or_insert(index);
                }
                decode_secret(secret)
                    .and_then(|key| keyed(&key))
                    .map_err(|problem| WebhookError::InvalidSecret { index, problem })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut webhook = Self::from_keys(keys)?;
        webhook.without_prefix = without_prefix;
        Ok(webhook)
    }

    /// A verifier for a raw key (the bytes a `whsec_` secret's base64 decodes to, at least
    /// [`MIN_SECRET_BYTES`]).
    pub fn from_bytes(key: &[u8]) -> Result<Self, WebhookError> {
        let key =
            keyed(key).map_err(|problem| WebhookError::InvalidSecret { index: 0, problem })?;
        Self::from_keys(vec![key])
    }

    fn from_keys(keys: Vec<Hmac<Sha256>>) -> Result<Self, WebhookError> {
        if keys.is_empty() {
            return Err(WebhookError::InvalidSecret {
                index: 0,
                problem: SecretProblem::NoSecret,
            });
        }
        Ok(Webhook {
            keys,
            tolerance: DEFAULT_TOLERANCE,
            without_prefix: None,
        })
    }

    /// How far `webhook-timestamp` may be from now, in the past or the future (default
    /// [`DEFAULT_TOLERANCE`], 5 minutes; counted in whole seconds).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies a delivery and decodes its body: headers, signature, timestamp within the
    /// tolerance of now, then the [`Event`]. `body` must be the raw bytes as received.
    pub fn verify(&self, body: &[u8], headers: &HeaderMap) -> Result<Event, WebhookError> {
        self.verify_at(body, headers, unix_now())
    }

    /// [`verify`](Self::verify) with the time given: `now` in Unix seconds.
    pub fn verify_at(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        now: i64,
    ) -> Result<Event, WebhookError> {
        self.verify_signature_at(body, headers, now)?;
        serde_json::from_slice::<Event>(body)
            .map_err(|source| WebhookError::InvalidEvent(DecodeError::new(body, source)))
    }

    /// Verifies a delivery without decoding the body: headers, signature, timestamp.
    pub fn verify_signature(&self, body: &[u8], headers: &HeaderMap) -> Result<(), WebhookError> {
        self.verify_signature_at(body, headers, unix_now())
    }

    /// [`verify_signature`](Self::verify_signature) with the time given: `now` in Unix seconds.
    pub fn verify_signature_at(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        now: i64,
    ) -> Result<(), WebhookError> {
        let signed = Signed::read(headers)?;
        let matched = self.keys.iter().any(|key| {
            let mac = signed_content(key, signed.id, signed.timestamp, body);
            // `verify_slice` compares in constant time. Which candidate matched is not secret.
            signed
                .signatures
                .iter()
                .any(|signature| mac.clone().verify_slice(signature).is_ok())
        });
        if !matched {
            // Only on failure: a guess at the mistake, from the body's shape and the secrets.
            let hint = body_hint(body).or(self
                .without_prefix
                .map(|index| SignatureHint::SecretWithoutPrefix { index }));
            return Err(WebhookError::NoMatchingSignature { hint });
        }
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        let timestamp = signed.timestamp;
        if timestamp < now.saturating_sub(tolerance) {
            Err(WebhookError::TimestampTooOld { timestamp, now })
        } else if timestamp > now.saturating_add(tolerance) {
            Err(WebhookError::TimestampInFuture { timestamp, now })
        } else {
            Ok(())
        }
    }

    /// The `webhook-signature` value for a delivery, `v1,<base64>`, signed with the first
    /// secret. `timestamp` is the `webhook-timestamp` value, Unix seconds.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = signed_content(&self.keys[0], msg_id, timestamp, body)
            .finalize()
            .into_bytes();
        format!("v1,{}", BASE64.encode(tag))
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("secrets", &format_args!("{} (redacted)", self.keys.len()))
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

/// The HMAC of `"{msg_id}.{timestamp}.{body}"`, not yet finalized.
fn signed_content(key: &Hmac<Sha256>, msg_id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    key.clone()
        .chain_update(msg_id)
        .chain_update(format!(".{timestamp}."))
        .chain_update(body)
}

/// The key bytes of `whsec_<base64>` or `<base64>`; surrounding whitespace is ignored.
fn decode_secret(secret: &str) -> Result<Zeroizing<Vec<u8>>, SecretProblem> {
    let secret = secret.trim();
    // Base64 has no comma: `v1,` is a signature (or a piece of one) pasted in.
    if secret.contains("v1,") {
        return Err(SecretProblem::SignaturePrefix);
    }
    let (encoded, prefixed) = match secret.strip_prefix(SECRET_PREFIX) {
        Some(encoded) => (encoded, true),
        None => (secret, false),
    };
    if encoded.is_empty() {
        return Err(SecretProblem::Empty);
    }
    // The decode error is dropped on purpose: it names the offending byte of the secret.
    BASE64
        .decode(encoded)
        .map(Zeroizing::new)
        .map_err(|_| match prefixed {
            true => SecretProblem::NotBase64,
            false => SecretProblem::MissingPrefix,
        })
}

fn keyed(key: &[u8]) -> Result<Hmac<Sha256>, SecretProblem> {
    if key.is_empty() {
        return Err(SecretProblem::Empty);
    }
    if key.len() < MIN_SECRET_BYTES {
        return Err(SecretProblem::TooShort { bytes: key.len() });
    }
    // HMAC takes keys of any length; the error case cannot happen.
    Hmac::new_from_slice(key).map_err(|_| SecretProblem::Empty)
}

/// Whether a body that failed verification looks re-serialised: JSON with whitespace between
/// tokens (pretty-printed), or compact JSON with every object's keys sorted (how serde_json
/// writes a parsed `Value`). Deck's bodies are neither; a guess, named as one in the message.
fn body_hint(body: &[u8]) -> Option<SignatureHint> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if whitespace_between_tokens(body) {
        return Some(SignatureHint::BodyPrettyPrinted);
    }
    let compact = serde_json::to_vec(&value).ok()?;
    (compact == body && keys_sorted(&value)).then_some(SignatureHint::BodyReserialized)
}

/// Whether `json` has whitespace outside its strings (before the end).
fn whitespace_between_tokens(json: &[u8]) -> bool {
    let json = json.trim_ascii_end();
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        match (in_string, b) {
            (true, _) if escaped => escaped = false,
            (true, b'\\') => escaped = true,
            (_, b'"') => in_string = !in_string,
            (false, b' ' | b'\n' | b'\r' | b'\t') => return true,
            _ => {}
        }
    }
    false
}

/// Whether the value holds an object of two keys or more, and every object's keys are sorted.
fn keys_sorted(value: &serde_json::Value) -> bool {
    fn walk(value: &serde_json::Value, several: &mut bool) -> bool {
        match value {
            serde_json::Value::Object(map) => {
                *several |= map.len() > 1;
                let keys: Vec<&String> = map.keys().collect();
                keys.is_sorted() && map.values().all(|v| walk(v, several))
            }
            serde_json::Value::Array(items) => items.iter().all(|v| walk(v, several)),
            _ => true,
        }
    }
    let mut several = false;
    walk(value, &mut several) && several
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}
