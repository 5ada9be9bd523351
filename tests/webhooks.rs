//! `deck::webhooks`: Standard Webhooks verification of Deck's deliveries (feature `webhooks`).
#![cfg(feature = "webhooks")]

use std::time::Duration;

use deck::types::RunStatus;
use deck::webhooks::{
    DEFAULT_TOLERANCE, Event, EventData, EventType, HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE,
    HEADER_WEBHOOK_TIMESTAMP, Header, MalformedReason, SecretProblem, SignatureHint, Webhook,
    WebhookError,
};
use http::{HeaderMap, HeaderValue};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const MSG_ID: &str = "msg_2fQ0xUqXbWk1";
const NOW: i64 = 1_750_000_000;
const BODY: &[u8] = br#"{"id":"evt_01JXYZ","object":"event","type":"task_run.completed",
"created_at":"2025-06-15T15:06:40Z","data":{"id":"run_1","object":"task_run","status":"completed",
"workflow_id":""},"api_version":"v2"}"#;

fn webhook() -> Webhook {
    Webhook::new(SECRET).unwrap()
}

fn headers(id: &str, timestamp: &str, signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(HEADER_WEBHOOK_ID, HeaderValue::from_str(id).unwrap());
    headers.insert(
        HEADER_WEBHOOK_TIMESTAMP,
        HeaderValue::from_str(timestamp).unwrap(),
    );
    headers.insert(
        HEADER_WEBHOOK_SIGNATURE,
        HeaderValue::from_str(signature).unwrap(),
    );
    headers
}

/// The headers of `body` signed by `signer` at `timestamp`.
fn signed(signer: &Webhook, body: &[u8], timestamp: i64) -> HeaderMap {
    headers(
        MSG_ID,
        &timestamp.to_string(),
        &signer.sign(MSG_ID, timestamp, body),
    )
}

fn malformed(header: Header, reason: MalformedReason) -> impl Fn(&WebhookError) -> bool {
    move |e| matches!(e, WebhookError::MalformedHeader { header: h, reason: r } if *h == header && *r == reason)
}

// Test vectors from the Standard Webhooks reference libraries
// (https://github.com/standard-webhooks/standard-webhooks, `libraries/`):
// - `libraries/javascript/src/webhook.test.ts` ("sign function works") and
//   `libraries/go/webhook_test.go` (`TestWebhookSign`);
// - `libraries/rust/src/lib.rs` (`test_sign`).
const VECTORS: [(&str, &str, i64, &str, &str); 2] = [
    (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        r#"{"test": 2432232314}"#,
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ),
    (
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        1649367553,
        r#"{"email":"test@example.com","username":"test_user"}"#,
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    ),
];

#[test]
fn standard_webhooks_test_vectors() {
    for (secret, msg_id, timestamp, payload, expected) in VECTORS {
        let bare = secret.strip_prefix("whsec_").unwrap();
        for wh in [Webhook::new(secret).unwrap(), Webhook::new(bare).unwrap()] {
            assert_eq!(wh.sign(msg_id, timestamp, payload.as_bytes()), expected);
            let h = headers(msg_id, &timestamp.to_string(), expected);
            wh.verify_signature_at(payload.as_bytes(), &h, timestamp)
                .unwrap();
            // The vectors' bodies are JSON but not Deck events.
            let err = wh.verify_at(payload.as_bytes(), &h, timestamp).unwrap_err();
            assert!(matches!(err, WebhookError::InvalidEvent(_)), "{err}");
        }
    }
}

#[test]
fn a_genuine_delivery_verifies_and_decodes() {
    let wh = webhook();
    let event: Event = wh.verify_at(BODY, &signed(&wh, BODY, NOW), NOW).unwrap();
    assert_eq!(event.id, "evt_01JXYZ");
    assert_eq!(event.type_, EventType::TaskRunCompleted);
    assert_eq!(event.created_at.timestamp(), NOW);
    let EventData::TaskRun(run) = &event.data else {
        panic!("{:?}", event.data)
    };
    assert_eq!(run.id.as_deref(), Some("run_1"));
    assert_eq!(run.status, Some(RunStatus::Completed));

    // With the real clock too.
    let now = chrono::Utc::now().timestamp();
    wh.verify(BODY, &signed(&wh, BODY, now)).unwrap();
    wh.verify_signature(BODY, &signed(&wh, BODY, now)).unwrap();
}

#[test]
fn tampering_with_body_or_headers_is_no_matching_signature() {
    let wh = webhook();
    let good = signed(&wh, BODY, NOW);
    let no_match = |body: &[u8], h: &HeaderMap| {
        let err = wh.verify_at(body, h, NOW).unwrap_err();
        assert!(
            matches!(err, WebhookError::NoMatchingSignature { .. }),
            "{err}"
        );
    };

    let mut body = BODY.to_vec();
    body[40] ^= 0x01;
    no_match(&body, &good);
    no_match(&BODY[..BODY.len() - 1], &good);
    no_match(&[BODY, b" "].concat(), &good);
    no_match(b"", &good);

    let mut h = good.clone();
    h.insert(HEADER_WEBHOOK_ID, HeaderValue::from_static("msg_other"));
    no_match(BODY, &h);
    let mut h = good.clone();
    h.insert(
        HEADER_WEBHOOK_TIMESTAMP,
        HeaderValue::from_str(&(NOW + 1).to_string()).unwrap(),
    );
    no_match(BODY, &h);
}

#[test]
fn the_wrong_secret_is_no_matching_signature() {
    let wh = webhook();
    let other = Webhook::new(OTHER_SECRET).unwrap();
    let err = wh
        .verify_at(BODY, &signed(&other, BODY, NOW), NOW)
        .unwrap_err();
    assert!(
        matches!(err, WebhookError::NoMatchingSignature { .. }),
        "{err}"
    );
}

#[test]
fn stale_and_future_timestamps_are_refused_at_the_tolerance() {
    let wh = webhook();
    let tol = DEFAULT_TOLERANCE.as_secs() as i64;
    for ts in [NOW - tol, NOW, NOW + tol] {
        wh.verify_at(BODY, &signed(&wh, BODY, ts), NOW).unwrap();
    }
    let err = wh
        .verify_at(BODY, &signed(&wh, BODY, NOW - tol - 1), NOW)
        .unwrap_err();
    assert!(
        matches!(err, WebhookError::TimestampTooOld { timestamp, now } if timestamp == NOW - tol - 1 && now == NOW),
        "{err}"
    );
    let err = wh
        .verify_at(BODY, &signed(&wh, BODY, NOW + tol + 1), NOW)
        .unwrap_err();
    assert!(
        matches!(err, WebhookError::TimestampInFuture { timestamp, now } if timestamp == NOW + tol + 1 && now == NOW),
        "{err}"
    );
    // verify_signature applies the same window.
    let err = wh
        .verify_signature_at(BODY, &signed(&wh, BODY, 0), NOW)
        .unwrap_err();
    assert!(matches!(err, WebhookError::TimestampTooOld { .. }), "{err}");

    // A custom tolerance.
    let strict = webhook().tolerance(Duration::from_secs(10));
    strict
        .verify_at(BODY, &signed(&wh, BODY, NOW - 10), NOW)
        .unwrap();
    let err = strict
        .verify_at(BODY, &signed(&wh, BODY, NOW - 11), NOW)
        .unwrap_err();
    assert!(matches!(err, WebhookError::TimestampTooOld { .. }), "{err}");
    let lax = webhook().tolerance(Duration::MAX);
    lax.verify_at(BODY, &signed(&wh, BODY, 0), NOW).unwrap();

    // With the real clock.
    let now = chrono::Utc::now().timestamp();
    let err = wh.verify(BODY, &signed(&wh, BODY, now - 3600)).unwrap_err();
    assert!(matches!(err, WebhookError::TimestampTooOld { .. }), "{err}");
    let err = wh.verify(BODY, &signed(&wh, BODY, now + 3600)).unwrap_err();
    assert!(
        matches!(err, WebhookError::TimestampInFuture { .. }),
        "{err}"
    );
}

#[test]
fn a_forged_stale_delivery_is_reported_as_a_forgery() {
    // The signature is checked before the window: a timestamp error means a genuine delivery.
    let wh = webhook();
    let other = Webhook::new(OTHER_SECRET).unwrap();
    let err = wh
        .verify_at(BODY, &signed(&other, BODY, NOW - 3600), NOW)
        .unwrap_err();
    assert!(
        matches!(err, WebhookError::NoMatchingSignature { .. }),
        "{err}"
    );
}

#[test]
fn each_missing_header_is_named() {
    let wh = webhook();
    for (name, header) in [
        (HEADER_WEBHOOK_ID, Header::Id),
        (HEADER_WEBHOOK_TIMESTAMP, Header::Timestamp),
        (HEADER_WEBHOOK_SIGNATURE, Header::Signature),
    ] {
        assert_eq!(header.name(), name);
        let mut h = signed(&wh, BODY, NOW);
        h.remove(name);
        let err = wh.verify_at(BODY, &h, NOW).unwrap_err();
        assert!(
            matches!(err, WebhookError::MissingHeader(m) if m == header),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
    let err = wh.verify_at(BODY, &HeaderMap::new(), NOW).unwrap_err();
    assert!(matches!(err, WebhookError::MissingHeader(Header::Id)));
}

#[test]
fn garbled_headers_are_malformed_with_a_reason() {
    let wh = webhook();
    let good_sig = wh.sign(MSG_ID, NOW, BODY);
    let now = NOW.to_string();
    let check = |h: HeaderMap, header: Header, reason: MalformedReason| {
        let err = wh.verify_at(BODY, &h, NOW).unwrap_err();
        assert!(
            malformed(header, reason)(&err),
            "{header} {reason:?}: {err}"
        );
        assert!(err.to_string().contains(header.name()), "{err}");
    };

    for ts in [
        "hello",
        "-5",
        "+1750000000",
        "1750000000.5",
        "1.75e9",
        "0x1",
        "1750000000 1750000000",
        "99999999999999999999",
    ] {
        check(
            headers(MSG_ID, ts, &good_sig),
            Header::Timestamp,
            MalformedReason::InvalidTimestamp,
        );
    }
    for sig in [
        "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        "v2,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        "v1a,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        "V1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        "v1;tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        "v1",
        ",,,",
    ] {
        check(
            headers(MSG_ID, &now, sig),
            Header::Signature,
            MalformedReason::NoV1Signature,
        );
    }
    for sig in [
        "v1,",
        "v1,!!!!",
        "v1,tZ1I4/hD",                                         // truncated
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=AAAA", // too long
        "v1,tZ1I4_hDygAJgO5TYxiSd6Sd0kDW6hPenDe-bTa3Kkw=",     // URL-safe alphabet
        &good_sig[..8],
        "v1,dawfeoifkpqwoekfpqoekf",
    ] {
        check(
            headers(MSG_ID, &now, sig),
            Header::Signature,
            MalformedReason::InvalidSignatureEncoding,
        );
    }
    for (header, name) in [
        (Header::Id, HEADER_WEBHOOK_ID),
        (Header::Timestamp, HEADER_WEBHOOK_TIMESTAMP),
        (Header::Signature, HEADER_WEBHOOK_SIGNATURE),
    ] {
        let mut h = headers(MSG_ID, &now, &good_sig);
        h.insert(name, HeaderValue::from_static("  "));
        check(h, header, MalformedReason::Empty);
        let mut h = headers(MSG_ID, &now, &good_sig);
        h.insert(name, HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
        check(h, header, MalformedReason::NotVisibleAscii);
    }
    // Padding is optional and surrounding whitespace is ignored.
    let h = headers(
        MSG_ID,
        &format!(" {NOW} "),
        &format!("  {}  ", good_sig.trim_end_matches('=')),
    );
    wh.verify_at(BODY, &h, NOW).unwrap();
}

#[test]
fn any_of_several_signatures_may_match() {
    let wh = webhook();
    let good = wh.sign(MSG_ID, NOW, BODY);
    let now = NOW.to_string();
    let junk = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    let v2 = "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    let v1a = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==";
    let multi = format!("{junk} {v2} {v1a} {good} {junk}");
    wh.verify_at(BODY, &headers(MSG_ID, &now, &multi), NOW)
        .unwrap();
    // Garbled entries beside the good one are skipped.
    let multi = format!("v1,!!! v1, bogus {good}");
    wh.verify_at(BODY, &headers(MSG_ID, &now, &multi), NOW)
        .unwrap();

    let none = format!("{junk} {v2} {junk} v1,!!!");
    let err = wh
        .verify_at(BODY, &headers(MSG_ID, &now, &none), NOW)
        .unwrap_err();
    assert!(
        matches!(err, WebhookError::NoMatchingSignature { .. }),
        "{err}"
    );

    // Signatures split over several header lines.
    let mut h = headers(MSG_ID, &now, junk);
    h.append(
        HEADER_WEBHOOK_SIGNATURE,
        HeaderValue::from_str(&good).unwrap(),
    );
    wh.verify_at(BODY, &h, NOW).unwrap();
}

#[test]
fn a_verified_body_that_is_not_an_event_is_invalid_event() {
    let wh = webhook();
    let cases: [(&[u8], Option<&str>); 5] = [
        (b"not json", Some("$")),
        (b"", Some("$")),
        (br#"{"id":"evt_1","type":"x","data":{}}"#, Some("$")), // created_at missing
        (
            br#"{"id":"evt_1","type":"x","created_at":"yesterday","data":{}}"#,
            Some("$.created_at"),
        ),
        (br#"[{"id":"evt_1"}]"#, Some("$[0]")), // serde reads a struct from a sequence too
    ];
    for (body, path) in cases {
        let h = signed(&wh, body, NOW);
        wh.verify_signature_at(body, &h, NOW).unwrap();
        let err = wh.verify_at(body, &h, NOW).unwrap_err();
        let WebhookError::InvalidEvent(decode) = &err else {
            panic!("{err}");
        };
        assert_eq!(decode.bytes().as_ref(), body);
        assert_eq!(decode.path(), path, "{err}");
        assert!(std::error::Error::source(&err).is_some());
        assert!(err.to_string().contains("not a Deck event"), "{err}");
    }
}

#[test]
fn rotation_accepts_the_previous_secret_only_while_configured() {
    let previous = Webhook::new(OTHER_SECRET).unwrap();
    let current = webhook();
    let both = Webhook::with_secrets([SECRET, OTHER_SECRET]).unwrap();

    let from_previous = signed(&previous, BODY, NOW);
    let from_current = signed(&current, BODY, NOW);
    both.verify_at(BODY, &from_previous, NOW).unwrap();
    both.verify_at(BODY, &from_current, NOW).unwrap();

    let err = current.verify_at(BODY, &from_previous, NOW).unwrap_err();
    assert!(
        matches!(err, WebhookError::NoMatchingSignature { .. }),
        "{err}"
    );

    // The first secret signs.
    assert_eq!(
        both.sign(MSG_ID, NOW, BODY),
        current.sign(MSG_ID, NOW, BODY)
    );
    // Owned strings work too.
    Webhook::with_secrets(vec![SECRET.to_string()]).unwrap();
}

#[test]
fn invalid_secrets_are_refused() {
    let problem = |r: Result<Webhook, WebhookError>| match r.unwrap_err() {
        WebhookError::InvalidSecret { index, problem } => (index, problem),
        other => panic!("{other}"),
    };
    assert_eq!(problem(Webhook::new("")), (0, SecretProblem::Empty));
    assert_eq!(problem(Webhook::new("whsec_")), (0, SecretProblem::Empty));
    assert_eq!(
        problem(Webhook::new("whsec_%%%")),
        (0, SecretProblem::NotBase64)
    );
    assert_eq!(
        problem(Webhook::new("whsec_AAAAA")),
        (0, SecretProblem::NotBase64)
    );
    assert_eq!(
        problem(Webhook::with_secrets([SECRET, "nope!"])),
        (1, SecretProblem::MissingPrefix)
    );
    assert_eq!(
        problem(Webhook::with_secrets(Vec::<String>::new())),
        (0, SecretProblem::NoSecret)
    );
    assert_eq!(problem(Webhook::from_bytes(b"")), (0, SecretProblem::Empty));
    // Whitespace around a secret (a trailing newline from a file or env var) is ignored.
    Webhook::new(format!("  {SECRET}\n")).unwrap();

    // from_bytes takes the decoded key.
    let (_, _, ts, payload, expected) = VECTORS[0];
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(&VECTORS[0].0[6..])
        .unwrap();
    assert_eq!(
        Webhook::from_bytes(&key)
            .unwrap()
            .sign(VECTORS[0].1, ts, payload.as_bytes()),
        expected
    );
}

#[test]
fn secrets_are_taken_as_str_or_string() {
    // `Webhook::new(std::env::var(..)?)` compiles: any `AsRef<str>`.
    let owned: String = SECRET.to_string();
    Webhook::new(owned.clone()).unwrap();
    Webhook::new(&owned).unwrap();
    Webhook::new(SECRET).unwrap();
    Webhook::with_secrets(vec![owned.clone(), OTHER_SECRET.to_string()]).unwrap();
    Webhook::with_secrets([&owned]).unwrap();
}

fn secret_problem(r: Result<Webhook, WebhookError>) -> SecretProblem {
    match r.unwrap_err() {
        WebhookError::InvalidSecret { problem, .. } => problem,
        other => panic!("{other}"),
    }
}

#[test]
fn secrets_decoding_to_fewer_than_16_bytes_are_refused() {
    use base64::Engine as _;
    let encode = |n: usize| {
        let key: Vec<u8> = (0..n as u8).collect();
        format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        )
    };
    for n in [1, 3, 15] {
        let err = Webhook::new(encode(n)).unwrap_err();
        assert!(
            matches!(
                err,
                WebhookError::InvalidSecret { index: 0, problem: SecretProblem::TooShort { bytes } } if bytes == n
            ),
            "{err}"
        );
        assert!(err.to_string().contains("fewer than 16"), "{err}");
        assert_eq!(
            secret_problem(Webhook::from_bytes(&vec![7u8; n])),
            SecretProblem::TooShort { bytes: n }
        );
    }
    Webhook::new(encode(16)).unwrap();
    Webhook::from_bytes(&[7u8; 16]).unwrap();
    // The second of two secrets is named.
    assert!(matches!(
        Webhook::with_secrets([SECRET.to_string(), encode(8)]).unwrap_err(),
        WebhookError::InvalidSecret {
            index: 1,
            problem: SecretProblem::TooShort { bytes: 8 }
        }
    ));
}

#[test]
fn a_signature_or_an_unprefixed_non_secret_is_named_as_such() {
    let signature = webhook().sign(MSG_ID, NOW, BODY);
    assert!(signature.starts_with("v1,"));
    for pasted in [
        signature.clone(),
        format!("whsec_{signature}"),
        format!("whsec_v1,{}", &SECRET[6..]),
    ] {
        let err = Webhook::new(&pasted).unwrap_err();
        assert!(
            matches!(
                err,
                WebhookError::InvalidSecret {
                    problem: SecretProblem::SignaturePrefix,
                    ..
                }
            ),
            "{pasted}: {err}"
        );
        assert!(err.to_string().contains("`v1,`"), "{err}");
    }
    // Not a `whsec_` secret, and not base64: an API key, an id, the wrong variable.
    for other in ["sk_live_0123456789abcdef", "dest_01JXYZ", "nope!"] {
        let err = Webhook::new(other).unwrap_err();
        assert!(
            matches!(
                err,
                WebhookError::InvalidSecret {
                    problem: SecretProblem::MissingPrefix,
                    ..
                }
            ),
            "{other}: {err}"
        );
        assert!(err.to_string().contains("`whsec_`"), "{err}");
    }
    // With the prefix, bad base64 stays `NotBase64`.
    assert_eq!(
        secret_problem(Webhook::new("whsec_sk_live_0123")),
        SecretProblem::NotBase64
    );
}

/// The hint of a `NoMatchingSignature`.
fn mismatch_hint(err: WebhookError) -> Option<SignatureHint> {
    match err {
        WebhookError::NoMatchingSignature { hint } => hint,
        other => panic!("{other}"),
    }
}

#[test]
fn a_mismatch_names_a_re_serialised_body() {
    let wh = webhook();
    // As Deck sends it: compact, its keys in Deck's order (not sorted).
    let raw = br#"{"id":"evt_1","object":"event","type":"task_run.completed","created_at":"2025-06-15T15:06:40Z","data":{"id":"run_1","object":"task_run","status":"completed"}}"#;
    let h = signed(&wh, raw, NOW);
    wh.verify_at(raw, &h, NOW).unwrap();
    let value: serde_json::Value = serde_json::from_slice(raw).unwrap();

    // Pretty-printed.
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    let err = wh.verify_at(&pretty, &h, NOW).unwrap_err();
    assert!(err.to_string().contains("raw request body"), "{err}");
    assert_eq!(mismatch_hint(err), Some(SignatureHint::BodyPrettyPrinted));

    // Parsed and written again by serde_json (an axum `Json<Value>` extractor, say).
    let reserialised = serde_json::to_vec(&value).unwrap();
    assert_ne!(&reserialised[..], &raw[..]);
    let err = wh.verify_at(&reserialised, &h, NOW).unwrap_err();
    assert!(err.to_string().contains("re-serialised"), "{err}");
    assert_eq!(mismatch_hint(err), Some(SignatureHint::BodyReserialized));

    // A raw body under the wrong secret: no guess, but the message says what to check.
    let other = Webhook::new(OTHER_SECRET).unwrap();
    let err = wh
        .verify_at(raw, &signed(&other, raw, NOW), NOW)
        .unwrap_err();
    assert!(err.to_string().contains("wrong secret"), "{err}");
    assert_eq!(mismatch_hint(err), None);
    // Not JSON at all: no body guess either.
    let err = wh.verify_at(b"x", &h, NOW).unwrap_err();
    assert_eq!(mismatch_hint(err), None);
}

#[test]
fn a_mismatch_names_a_secret_given_without_whsec() {
    let raw = br#"{"type":"x","id":"evt_1"}"#;
    let signer = Webhook::new(OTHER_SECRET).unwrap();
    let h = signed(&signer, raw, NOW);
    // The bare base64 of a secret is accepted; when nothing matches, the message says so.
    let bare = Webhook::with_secrets([SECRET, &SECRET[6..]]).unwrap();
    let err = bare.verify_at(raw, &h, NOW).unwrap_err();
    assert!(err.to_string().contains("secret #1"), "{err}");
    assert_eq!(
        mismatch_hint(err),
        Some(SignatureHint::SecretWithoutPrefix { index: 1 })
    );
    // With the prefix: no such hint.
    let err = webhook().verify_at(raw, &h, NOW).unwrap_err();
    assert_eq!(mismatch_hint(err), None);
}

#[test]
fn secrets_never_appear_in_debug_display_or_errors() {
    use base64::Engine as _;
    const MARKER: &[u8] = b"SECRET-MARKER-4f1c9d";
    let encoded = base64::engine::general_purpose::STANDARD.encode(MARKER);
    let secret = format!("whsec_{encoded}");
    let wh = Webhook::with_secrets([secret.as_str(), SECRET]).unwrap();

    let mut rendered = vec![
        format!("{wh:?}"),
        format!("{:?}", wh.clone().tolerance(Duration::from_secs(1))),
    ];
    assert!(rendered[0].contains("2 (redacted)"), "{}", rendered[0]);

    let good = signed(&wh, BODY, NOW);
    let mut bad_sig = good.clone();
    bad_sig.insert(
        HEADER_WEBHOOK_SIGNATURE,
        HeaderValue::from_static("v1,AAAA"),
    );
    let mut errors = vec![
        wh.verify_at(b"{}", &good, NOW).unwrap_err(),
        wh.verify_at(b"x", &signed(&wh, b"x", NOW), NOW)
            .unwrap_err(),
        wh.verify_at(BODY, &good, NOW + 3600).unwrap_err(),
        wh.verify_at(BODY, &good, NOW - 3600).unwrap_err(),
        wh.verify_at(BODY, &bad_sig, NOW).unwrap_err(),
        wh.verify_at(BODY, &HeaderMap::new(), NOW).unwrap_err(),
        // A secret that is not base64 and contains the marker text.
        Webhook::new("whsec_SECRET-MARKER-4f1c9d!").unwrap_err(),
        Webhook::new(format!("{encoded}%")).unwrap_err(),
    ];
    errors.push(Webhook::with_secrets([secret.as_str(), "SECRET-MARKER-4f1c9d"]).unwrap_err());
    for e in &errors {
        rendered.push(format!("{e}"));
        rendered.push(format!("{e:?}"));
        rendered.push(format!("{e:#?}"));
    }
    let marker = std::str::from_utf8(MARKER).unwrap();
    for text in &rendered {
        for needle in [marker, encoded.as_str(), &SECRET[6..], "MfKQ9r8G"] {
            assert!(!text.contains(needle), "{needle} leaked in {text}");
        }
    }
}

#[test]
fn fuzzed_headers_and_bodies_never_panic() {
    let mut rng = fastrand::Rng::with_seed(0x5eed_dec0);
    let wh = Webhook::with_secrets([SECRET, OTHER_SECRET]).unwrap();
    let good_sig = wh.sign(MSG_ID, NOW, BODY);

    let pieces: &[&str] = &[
        "v1,",
        "v1",
        "v2,",
        "v1a,",
        ",",
        " ",
        "  ",
        "\t",
        "=",
        "==",
        "whsec_",
        "msg_",
        "0",
        "-",
        "+",
        ".",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "e9",
        "AAAA",
        "////",
        "++++",
        "\u{e9}",
        "\u{1f980}",
        "\\",
        "\"",
        "%00",
        &good_sig,
        "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    ];
    let random_text = |rng: &mut fastrand::Rng| -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..rng.usize(0..8) {
            match rng.u8(0..4) {
                0 => out.extend((0..rng.usize(0..64)).map(|_| rng.u8(..))),
                1 => out.extend((0..rng.usize(0..64)).map(|_| rng.alphanumeric() as u8)),
                _ => out.extend_from_slice(pieces[rng.usize(..pieces.len())].as_bytes()),
            }
        }
        out
    };
    let mutate = |rng: &mut fastrand::Rng, mut bytes: Vec<u8>| -> Vec<u8> {
        for _ in 0..rng.usize(1..4) {
            match rng.u8(0..4) {
                0 if !bytes.is_empty() => {
                    let i = rng.usize(..bytes.len());
                    bytes[i] ^= 1 << rng.u8(0..8);
                }
                1 if !bytes.is_empty() => bytes.truncate(rng.usize(..bytes.len())),
                2 => {
                    let i = rng.usize(..=bytes.len());
                    let extra = random_text(rng);
                    bytes.splice(i..i, extra);
                }
                _ => bytes.extend_from_within(..),
            }
        }
        bytes
    };
    let now_choices = [NOW, 0, -1, i64::MIN, i64::MAX, i64::MAX - 1, i64::MIN + 1];
    let tolerances = [DEFAULT_TOLERANCE, Duration::ZERO, Duration::MAX];

    let (mut ok, mut rejected) = (0, 0);
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..20_000 {
        let mut h = signed(&wh, BODY, NOW);
        let mut body_changed = false;
        let mut signed_parts_changed = false;
        for name in [
            HEADER_WEBHOOK_ID,
            HEADER_WEBHOOK_TIMESTAMP,
            HEADER_WEBHOOK_SIGNATURE,
        ] {
            match rng.u8(0..6) {
                0 => {
                    h.remove(name);
                    signed_parts_changed = true;
                }
                1 | 2 => {
                    let base = h.get(name).unwrap().as_bytes().to_vec();
                    let value = if rng.bool() {
                        mutate(&mut rng, base)
                    } else {
                        random_text(&mut rng)
                    };
                    // Values a server would not accept as a header are skipped.
                    if let Ok(v) = HeaderValue::from_bytes(&value) {
                        h.insert(name, v);
                        signed_parts_changed = true;
                    }
                }
                3 => {
                    let v = HeaderValue::from_bytes(&random_text(&mut rng))
                        .unwrap_or(HeaderValue::from_static(""));
                    h.append(name, v);
                    signed_parts_changed = true;
                }
                _ => {}
            }
        }
        let body = match rng.u8(0..4) {
            0 => {
                body_changed = true;
                mutate(&mut rng, BODY.to_vec())
            }
            1 => {
                body_changed = true;
                random_text(&mut rng)
            }
            _ => BODY.to_vec(),
        };
        let now = if rng.u8(0..4) == 0 {
            now_choices[rng.usize(..now_choices.len())]
        } else {
            NOW
        };
        let checker = wh
            .clone()
            .tolerance(tolerances[rng.usize(..tolerances.len())]);

        let result = checker.verify_at(&body, &h, now);
        let sig_only = checker.verify_signature_at(&body, &h, now);
        assert_eq!(result.is_ok(), sig_only.is_ok() && body == BODY);
        match result {
            Ok(event) => {
                ok += 1;
                assert_eq!(event.id, "evt_01JXYZ");
                if !signed_parts_changed {
                    assert!(!body_changed || body == BODY);
                }
            }
            Err(e) => {
                rejected += 1;
                let _ = e.to_string();
                // The variant and its reason, e.g. `MalformedHeader { header: Signature, reason: Empty }`.
                let kind = format!("{e:?}");
                let kind = match &e {
                    WebhookError::TimestampTooOld { .. } => "TimestampTooOld".into(),
                    WebhookError::TimestampInFuture { .. } => "TimestampInFuture".into(),
                    WebhookError::InvalidEvent(_) => "InvalidEvent".into(),
                    _ => kind,
                };
                *seen.entry(kind).or_default() += 1;
                if !body_changed && !signed_parts_changed && now == NOW {
                    panic!("an untouched delivery was refused: {e}");
                }
            }
        }
        if body_changed && body != BODY && sig_only.is_ok() {
            panic!(
                "a changed body verified: {:?}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    assert!(ok > 1000 && rejected > 1000, "ok {ok}, rejected {rejected}");
    // Failures of every stage were reached (headers, signature, window), not just the first.
    eprintln!("ok {ok}, rejected: {seen:#?}");
    assert!(seen.len() >= 14, "{seen:#?}");
}

#[test]
fn webhook_is_cheap_to_share() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}
    assert_traits::<Webhook>();
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<WebhookError>();
}
