//! Reading the three Standard Webhooks headers. No crypto here: just presence and shape.

use base64::Engine as _;
use http::HeaderMap;

use super::error::{Header, MalformedReason, WebhookError};

/// The length of an HMAC-SHA256 tag.
pub(super) const TAG_LEN: usize = 32;

/// Standard base64; padding optional on input, written on output (`sign`).
pub(super) const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The parts of a delivery the signature covers, plus the candidate signatures.
pub(super) struct Signed<'a> {
    pub id: &'a str,
    pub timestamp: i64,
    pub signatures: Vec<[u8; TAG_LEN]>,
}

impl<'a> Signed<'a> {
    pub(super) fn read(headers: &'a HeaderMap) -> Result<Self, WebhookError> {
        let id = first(headers, Header::Id)?;
        let timestamp = parse_timestamp(first(headers, Header::Timestamp)?)?;
        let signatures = signatures(headers)?;
        Ok(Signed {
            id,
            timestamp,
            signatures,
        })
    }
}

fn malformed(header: Header, reason: MalformedReason) -> WebhookError {
    WebhookError::MalformedHeader { header, reason }
}

/// The first value of `header`, trimmed, visible ASCII and non-empty.
fn first(headers: &HeaderMap, header: Header) -> Result<&str, WebhookError> {
    let value = headers
        .get(header.name())
        .ok_or(WebhookError::MissingHeader(header))?;
    checked(value, header)
}

fn checked(value: &http::HeaderValue, header: Header) -> Result<&str, WebhookError> {
    let text = value
        .to_str()
        .map_err(|_| malformed(header, MalformedReason::NotVisibleAscii))?
        .trim();
    if text.is_empty() {
        return Err(malformed(header, MalformedReason::Empty));
    }
    Ok(text)
}

/// Unix seconds: ASCII digits only (no sign, no fraction), within `i64`.
fn parse_timestamp(text: &str) -> Result<i64, WebhookError> {
    let invalid = || malformed(Header::Timestamp, MalformedReason::InvalidTimestamp);
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    text.parse().map_err(|_| invalid())
}

/// Every `v1,<base64>` entry of every `webhook-signature` value, decoded. Entries of other
/// versions (`v1a`, `v2`, …) are skipped; `v1` entries that are not 32 bytes of base64 are
/// skipped too, but if that leaves nothing the header is malformed.
fn signatures(headers: &HeaderMap) -> Result<Vec<[u8; TAG_LEN]>, WebhookError> {
    let header = Header::Signature;
    let mut values = headers.get_all(header.name()).iter().peekable();
    if values.peek().is_none() {
        return Err(WebhookError::MissingHeader(header));
    }
    let mut saw_v1 = false;
    let mut decoded = Vec::new();
    for value in values {
        for entry in checked(value, header)?.split_ascii_whitespace() {
            let Some(("v1", encoded)) = entry.split_once(',') else {
                continue;
            };
            saw_v1 = true;
            // Decoding into an exact-size buffer rejects anything that is not 32 bytes.
            let mut tag = [0u8; TAG_LEN];
            if encoded.len() <= 44 && matches!(BASE64.decode_slice(encoded, &mut tag), Ok(TAG_LEN))
            {
                decoded.push(tag);
            }
        }
    }
    match (saw_v1, decoded.is_empty()) {
        (false, _) => Err(malformed(header, MalformedReason::NoV1Signature)),
        (true, true) => Err(malformed(header, MalformedReason::InvalidSignatureEncoding)),
        (true, false) => Ok(decoded),
    }
}
