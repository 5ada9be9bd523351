//! Wire-format helper types the generator swaps in for Deck's number shapes.
//!
//! Deck (ASP.NET) declares many integers as `type: [integer, string]` with a digits pattern: the
//! server may send `1234` or `"1234"`. [`Int`] accepts both and exposes the integer.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::str::FromStr;

/// An integer that Deck may send as a JSON number or as a numeric string.
///
/// Derefs to the integer and compares with it; serialises as a JSON number.
///
/// ```
/// let n: deck::wire::Int64 = serde_json::from_str("\"1234\"").unwrap();
/// assert_eq!(n, 1234);
/// let m: deck::wire::Int64 = serde_json::from_str("1234").unwrap();
/// assert_eq!(*m + 1, 1235);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Int<T>(pub T);

/// A 32-bit [`Int`] (`format: int32`).
pub type Int32 = Int<i32>;
/// A 64-bit [`Int`] (`format: int64`, or no format).
pub type Int64 = Int<i64>;

impl<T: Copy> Int<T> {
    /// The integer.
    pub fn get(self) -> T {
        self.0
    }
}

impl<T> Deref for Int<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Int<T> {
    fn from(value: T) -> Self {
        Int(value)
    }
}

impl<T: PartialEq> PartialEq<T> for Int<T> {
    fn eq(&self, other: &T) -> bool {
        self.0 == *other
    }
}

impl<T: fmt::Display> fmt::Display for Int<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: FromStr> FromStr for Int<T> {
    type Err = T::Err;
    fn from_str(s: &str) -> Result<Self, T::Err> {
        s.parse().map(Int)
    }
}

impl<T: Serialize> Serialize for Int<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Int<T>
where
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntVisitor(PhantomData))
    }
}

struct IntVisitor<T>(PhantomData<T>);

impl<T> de::Visitor<'_> for IntVisitor<T>
where
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    type Value = Int<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string of digits")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::try_from(v)
            .map(Int)
            .map_err(|_| E::custom(format!("integer {v} is out of range")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::try_from(v)
            .map(Int)
            .map_err(|_| E::custom(format!("integer {v} is out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::invalid_type(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        // The spec's pattern is ^-?(?:0|[1-9]\d*)$; a lone sign, spaces or `+` are refused.
        let digits = v.strip_prefix('-').unwrap_or(v);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(v), &self));
        }
        v.parse()
            .map(Int)
            .map_err(|_| E::custom(format!("integer string {v:?} is out of range")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_numbers_and_numeric_strings() {
        for text in ["1234", "\"1234\""] {
            let n: Int64 = serde_json::from_str(text).unwrap();
            assert_eq!(n, 1234);
        }
        let neg: Int32 = serde_json::from_str("\"-7\"").unwrap();
        assert_eq!(neg.get(), -7);
    }

    #[test]
    fn refuses_non_integers_with_a_clear_error() {
        for text in ["1.5", "\"12a\"", "\"\"", "\"-\"", "true", "\"+1\""] {
            let err = serde_json::from_str::<Int64>(text).unwrap_err().to_string();
            assert!(err.contains("integer"), "{text}: {err}");
        }
        let err = serde_json::from_str::<Int32>("\"99999999999\"").unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        let err = serde_json::from_str::<Int32>("99999999999").unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn serialises_as_a_number() {
        assert_eq!(serde_json::to_string(&Int32::from(5)).unwrap(), "5");
    }
}
