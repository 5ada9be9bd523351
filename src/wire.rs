//! Decoding Deck's number shapes. Deck (ASP.NET) declares many integers as
//! `type: [integer, string]` with a digits pattern: the server may send `1234` or `"1234"`. The
//! generator keeps such fields plain (`i32`, `Option<i64>`, …) and points their
//! `deserialize_with` here.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

/// An integer sent as a JSON number or as a string of digits.
pub(crate) fn int<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    d.deserialize_any(IntVisitor(PhantomData))
}

/// [`int`], or `null`.
pub(crate) fn option_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    struct OptionVisitor<T>(PhantomData<T>);
    impl<'de, T> Visitor<'de> for OptionVisitor<T>
    where
        T: TryFrom<i64> + TryFrom<u64> + FromStr,
    {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, a string of digits, or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            int(d).map(Some)
        }
    }
    d.deserialize_option(OptionVisitor(PhantomData))
}

/// An optional field of an event snapshot, where Deck sends an empty field as `""`: `""`,
/// `null` or absent is `None`; anything else decodes as `T`.
pub(crate) fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match <Option<serde_json::Value> as serde::Deserialize>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(value) => T::deserialize(value).map(Some).map_err(de::Error::custom),
    }
}

/// [`option_int`] in an event snapshot: `""` is `None` too.
pub(crate) fn option_int_or_empty<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    match <Option<serde_json::Value> as serde::Deserialize>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(value) => int(value).map(Some).map_err(de::Error::custom),
    }
}

/// An argument of `Client::__call_operation` (spec-driven tests), decoded into the setter's type.
#[cfg(feature = "mock")]
pub(crate) fn argument<T: serde::de::DeserializeOwned>(
    name: &str,
    value: &serde_json::Value,
) -> Result<T, crate::Error> {
    serde_json::from_value(value.clone())
        .map_err(|e| crate::Error::InvalidRequest(format!("argument `{name}`: {e}")))
}

/// A decoded success body, re-serialised for `Client::__call_operation`.
#[cfg(feature = "mock")]
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, crate::Error> {
    serde_json::to_value(value)
        .map_err(|e| crate::Error::InvalidRequest(format!("re-serialising the body: {e}")))
}

struct IntVisitor<T>(PhantomData<T>);

impl<T> Visitor<'_> for IntVisitor<T>
where
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string of digits")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("integer {v} is out of range")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("integer {v} is out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Err(E::invalid_type(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        // The spec's pattern is ^-?(?:0|[1-9]\d*)$; a lone sign, spaces or `+` are refused.
        let digits = v.strip_prefix('-').unwrap_or(v);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(v), &self));
        }
        v.parse()
            .map_err(|_| E::custom(format!("integer string {v:?} is out of range")))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Row {
        #[serde(deserialize_with = "super::int")]
        size: i64,
        #[serde(default, deserialize_with = "super::option_int")]
        runtime_ms: Option<i32>,
    }

    fn row(json: &str) -> Result<Row, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_numbers_numeric_strings_and_null() {
        assert_eq!(
            row(r#"{"size": "1234", "runtime_ms": 5}"#),
            Ok(Row {
                size: 1234,
                runtime_ms: Some(5)
            })
        );
        assert_eq!(
            row(r#"{"size": 1, "runtime_ms": "-7"}"#),
            Ok(Row {
                size: 1,
                runtime_ms: Some(-7)
            })
        );
        assert_eq!(
            row(r#"{"size": 1, "runtime_ms": null}"#),
            Ok(Row {
                size: 1,
                runtime_ms: None
            })
        );
        assert_eq!(
            row(r#"{"size": 1}"#),
            Ok(Row {
                size: 1,
                runtime_ms: None
            })
        );
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Snapshot {
        #[serde(default, deserialize_with = "super::empty_as_none")]
        status: Option<String>,
        #[serde(default, deserialize_with = "super::empty_as_none")]
        at: Option<chrono::DateTime<chrono::Utc>>,
        #[serde(default, deserialize_with = "super::option_int_or_empty")]
        runtime_ms: Option<i32>,
    }

    #[test]
    fn snapshots_read_empty_strings_as_none() {
        let none = Snapshot {
            status: None,
            at: None,
            runtime_ms: None,
        };
        let decode = |json: &str| serde_json::from_str::<Snapshot>(json).map_err(|e| e.to_string());
        assert_eq!(
            decode(r#"{"status": "", "at": "", "runtime_ms": ""}"#),
            Ok(none)
        );
        assert_eq!(
            decode(r#"{"status": null, "at": null, "runtime_ms": null}"#),
            decode("{}")
        );
        let full =
            decode(r#"{"status": "running", "at": "2026-11-20T12:00:00Z", "runtime_ms": "12"}"#)
                .unwrap();
        assert_eq!(full.status.as_deref(), Some("running"));
        assert_eq!(full.runtime_ms, Some(12));
        assert!(full.at.is_some());
        // Anything else still fails with the inner type's message.
        let err = decode(r#"{"at": "yesterday"}"#).unwrap_err();
        assert!(
            err.contains("input contains invalid characters") || err.contains("premature"),
            "{err}"
        );
        let err = decode(r#"{"runtime_ms": "12x"}"#).unwrap_err();
        assert!(err.contains("integer"), "{err}");
    }

    #[test]
    fn refuses_non_integers_with_a_clear_error() {
        for bad in [
            "1.5", "\"12a\"", "\"\"", "\"-\"", "true", "\"+1\"", "\" 1\"",
        ] {
            let err = row(&format!(r#"{{"size": {bad}}}"#)).unwrap_err();
            assert!(err.contains("integer"), "{bad}: {err}");
        }
        let err = row(r#"{"size": 1, "runtime_ms": "99999999999"}"#).unwrap_err();
        assert!(err.contains("out of range"), "{err}");
        let err = row(r#"{"size": 1, "runtime_ms": 99999999999}"#).unwrap_err();
        assert!(err.contains("out of range"), "{err}");
    }
}
