//! [`WebhookError`] and the small enums that say what exactly was wrong.

use std::fmt;

use crate::error::DecodeError;

/// Why a delivery was rejected, or a secret refused.
///
/// Checked in this order: the secret (at construction), then the three headers (present and
/// well-formed), then the signature, then the timestamp window, then the body. So
/// [`TimestampTooOld`](Self::TimestampTooOld), [`TimestampInFuture`](Self::TimestampInFuture)
/// and [`InvalidEvent`](Self::InvalidEvent) are only reported for deliveries whose signature
/// matched: a genuine delivery that is stale (a replay, or a clock off by more than the
/// tolerance) or whose body this version of the crate cannot decode.
///
/// Nothing here ever contains a secret.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookError {
    /// A secret was refused by [`Webhook::new`](super::Webhook::new) or
    /// [`Webhook::with_secrets`](super::Webhook::with_secrets).
    InvalidSecret {
        /// Which secret, counting from 0 in the order given.
        index: usize,
        /// What is wrong with it.
        problem: SecretProblem,
    },
    /// A required header is absent.
    MissingHeader(Header),
    /// A header is present but unusable.
    MalformedHeader {
        /// Which header.
        header: Header,
        /// What is wrong with it.
        reason: MalformedReason,
    },
    /// `webhook-signature` held well-formed `v1` signatures, but none matches the body and
    /// headers under any configured secret: a tampered body or header, the wrong secret, a body
    /// that is not the raw bytes as received, or a forgery.
    NoMatchingSignature {
        /// The likely mistake, when the body or the secrets show one (see [`SignatureHint`]).
        hint: Option<SignatureHint>,
    },
    /// The signature matched, but `webhook-timestamp` is older than the tolerance allows.
    TimestampTooOld {
        /// The delivery's timestamp, Unix seconds.
        timestamp: i64,
        /// The time it was checked against, Unix seconds.
        now: i64,
    },
    /// The signature matched, but `webhook-timestamp` is further in the future than the
    /// tolerance allows.
    TimestampInFuture {
        /// The delivery's timestamp, Unix seconds.
        timestamp: i64,
        /// The time it was checked against, Unix seconds.
        now: i64,
    },
    /// The delivery is authentic, but its body is not an [`Event`](super::Event). Keeps the
    /// body, the serde error and the JSON path of the failure.
    InvalidEvent(DecodeError),
}

/// One of the three Standard Webhooks headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Header {
    /// `webhook-id`: the message id (the same on every retry of a delivery).
    Id,
    /// `webhook-timestamp`: when the delivery was signed, Unix seconds.
    Timestamp,
    /// `webhook-signature`: space-separated `v1,<base64>` signatures.
    Signature,
}

impl Header {
    /// The header's name, lowercase, e.g. `"webhook-id"`.
    pub const fn name(self) -> &'static str {
        match self {
            Header::Id => super::HEADER_WEBHOOK_ID,
            Header::Timestamp => super::HEADER_WEBHOOK_TIMESTAMP,
            Header::Signature => super::HEADER_WEBHOOK_SIGNATURE,
        }
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with a header that is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MalformedReason {
    /// The value has bytes outside visible ASCII.
    NotVisibleAscii,
    /// The value is empty or only whitespace.
    Empty,
    /// `webhook-timestamp` is not a whole, non-negative number of Unix seconds.
    InvalidTimestamp,
    /// `webhook-signature` has no `v1,<signature>` entry (other versions are ignored).
    NoV1Signature,
    /// `webhook-signature` has `v1` entries, but none is the base64 of a 32-byte HMAC-SHA256.
    InvalidSignatureEncoding,
}

impl fmt::Display for MalformedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MalformedReason::NotVisibleAscii => "not visible ASCII",
            MalformedReason::Empty => "empty",
            MalformedReason::InvalidTimestamp => "not a whole number of Unix seconds",
            MalformedReason::NoV1Signature => "no `v1,<signature>` entry",
            MalformedReason::InvalidSignatureEncoding => {
                "no `v1` entry is the base64 of a 32-byte HMAC-SHA256"
            }
        })
    }
}

/// The likely mistake behind a [`WebhookError::NoMatchingSignature`], guessed from the body and
/// the secrets (only ever looked at when no signature matched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureHint {
    /// The body is JSON with whitespace between its tokens (pretty-printed or re-indented). Deck
    /// signs the bytes it sends; a body parsed and written again never verifies.
    BodyPrettyPrinted,
    /// The body is compact JSON whose object keys are all in sorted order, which is how
    /// `serde_json` writes a parsed `Value`: likely re-serialised (e.g. taken through axum's
    /// `Json` extractor) instead of the raw bytes as received.
    BodyReserialized,
    /// A secret was given without its `whsec_` prefix; check that it is the destination's
    /// signing secret as Deck shows it (`whsec_…`), not another value.
    SecretWithoutPrefix {
        /// Which secret, counting from 0 in the order given.
        index: usize,
    },
}

impl fmt::Display for SignatureHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureHint::BodyPrettyPrinted => f.write_str(
                "if the secret is right, the body was likely re-serialised: it is pretty-printed \
                 JSON; verify the raw request body, byte for byte as received",
            ),
            SignatureHint::BodyReserialized => f.write_str(
                "if the secret is right, the body was likely re-serialised: it is compact JSON \
                 with sorted keys, as serde_json writes a parsed value; verify the raw request \
                 body, byte for byte as received",
            ),
            SignatureHint::SecretWithoutPrefix { index } => write!(
                f,
                "secret #{index} was given without `whsec_`: check that it is the destination's \
                 signing secret as Deck shows it (`whsec_…`)"
            ),
        }
    }
}

/// What is wrong with a secret. Deliberately says nothing about its content (beyond its decoded
/// length when that is the problem).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecretProblem {
    /// No secret at all was given ([`Webhook::with_secrets`](super::Webhook::with_secrets) of
    /// an empty list).
    NoSecret,
    /// The secret (after any `whsec_` prefix) is empty.
    Empty,
    /// The secret (after its `whsec_` prefix) is not standard base64.
    NotBase64,
    /// The secret has no `whsec_` prefix and is not base64 either: likely not a signing secret
    /// at all (an API key, a destination id, a value from the wrong variable).
    MissingPrefix,
    /// The secret holds `v1,`: the start of a signature (`webhook-signature: v1,<base64>`), not
    /// part of a secret. The secret is the destination's `whsec_…` value.
    SignaturePrefix,
    /// The secret decodes to fewer than [`MIN_SECRET_BYTES`](super::MIN_SECRET_BYTES) bytes: a
    /// typo or a truncated copy (it would make a weak HMAC key). Deck's secrets are 24 bytes.
    TooShort {
        /// How many bytes it decodes to.
        bytes: usize,
    },
}

impl fmt::Display for SecretProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretProblem::NoSecret => f.write_str("no secret given"),
            SecretProblem::Empty => f.write_str("the secret is empty"),
            SecretProblem::NotBase64 => f.write_str("the secret is not `whsec_<base64>` or base64"),
            SecretProblem::MissingPrefix => f.write_str(
                "the secret does not start with `whsec_` and is not base64: pass the \
                 destination's signing secret as Deck shows it (`whsec_…`)",
            ),
            SecretProblem::SignaturePrefix => f.write_str(
                "the secret holds `v1,`, the start of a signature, not of a secret: pass the \
                 destination's signing secret (`whsec_…`), not a `webhook-signature` value",
            ),
            SecretProblem::TooShort { bytes } => write!(
                f,
                "the secret decodes to {bytes} bytes, fewer than {}: a typo or a truncated copy \
                 (Deck's secrets decode to 24 bytes)",
                super::MIN_SECRET_BYTES
            ),
        }
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::InvalidSecret { index, problem } => {
                write!(f, "invalid webhook secret #{index}: {problem}")
            }
            WebhookError::MissingHeader(header) => write!(f, "missing header `{header}`"),
            WebhookError::MalformedHeader { header, reason } => {
                write!(f, "malformed header `{header}`: {reason}")
            }
            WebhookError::NoMatchingSignature { hint } => {
                write!(f, "no webhook signature matches the body and headers")?;
                match hint {
                    Some(hint) => write!(f, ": {hint}"),
                    None => write!(
                        f,
                        " (a wrong secret, or a body that is not the raw bytes as received)"
                    ),
                }
            }
            WebhookError::TimestampTooOld { timestamp, now } => write!(
                f,
                "webhook timestamp {timestamp} is too old ({}s before now, {now})",
                now.saturating_sub(*timestamp)
            ),
            WebhookError::TimestampInFuture { timestamp, now } => write!(
                f,
                "webhook timestamp {timestamp} is in the future ({}s after now, {now})",
                timestamp.saturating_sub(*now)
            ),
            WebhookError::InvalidEvent(decode) => {
                write!(f, "the verified webhook body is not a Deck event")?;
                if let Some(path) = decode.path() {
                    write!(f, " at `{path}`")?;
                }
                write!(f, ": {}", decode.serde_error())
            }
        }
    }
}

impl std::error::Error for WebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebhookError::InvalidEvent(decode) => Some(decode.serde_error()),
            _ => None,
        }
    }
}
