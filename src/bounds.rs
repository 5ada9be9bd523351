//! Bounds the spec states on parameters and body fields (`minimum`, `maximum`, `minLength`,
//! `maxLength`, `pattern`), checked by the generated `send()` before anything goes out: a
//! violation is [`Error::InvalidRequest`] naming the value's place and the bound, and no request
//! is sent (Deck would answer 400 to it).

use crate::Error;

/// The bounds of one parameter or field, as the spec gives them.
#[derive(Default)]
pub(crate) struct Bounds {
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<&'static str>,
}

/// A value whose bounds can be checked; `place` names it (``parameter `limit` ``).
pub(crate) trait Checked {
    fn check(&self, place: &str, bounds: &Bounds) -> Result<(), Error>;
}

fn refuse(place: &str, what: String) -> Error {
    Error::InvalidRequest(format!("{place} {what}"))
}

fn check_number(
    value: f64,
    shown: &dyn std::fmt::Display,
    place: &str,
    b: &Bounds,
) -> Result<(), Error> {
    if let Some(max) = b.maximum.filter(|max| value > *max) {
        return Err(refuse(
            place,
            format!("is {shown}, above its maximum {max}"),
        ));
    }
    if let Some(min) = b.minimum.filter(|min| value < *min) {
        return Err(refuse(
            place,
            format!("is {shown}, below its minimum {min}"),
        ));
    }
    Ok(())
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl Checked for $t {
            fn check(&self, place: &str, bounds: &Bounds) -> Result<(), Error> {
                check_number(*self as f64, self, place, bounds)
            }
        }
    )*};
}
numbers!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl Checked for String {
    fn check(&self, place: &str, b: &Bounds) -> Result<(), Error> {
        // JSON Schema lengths count characters (code points), not bytes.
        let len = self.chars().count();
        if let Some(max) = b.max_length.filter(|max| len > *max) {
            return Err(refuse(
                place,
                format!("is {len} characters long, above its maxLength {max}"),
            ));
        }
        if let Some(min) = b.min_length.filter(|min| len < *min) {
            return Err(refuse(
                place,
                format!("is {len} characters long, below its minLength {min}"),
            ));
        }
        if let Some(pattern) = b.pattern {
            let regex = regress::Regex::new(pattern).map_err(|e| {
                refuse(
                    place,
                    format!("has a pattern `{pattern}` that does not compile: {e}"),
                )
            })?;
            if regex.find(self).is_none() {
                return Err(refuse(
                    place,
                    format!("does not match its pattern `{pattern}`"),
                ));
            }
        }
        Ok(())
    }
}

impl<T: Checked> Checked for Option<T> {
    fn check(&self, place: &str, bounds: &Bounds) -> Result<(), Error> {
        self.as_ref().map_or(Ok(()), |v| v.check(place, bounds))
    }
}

impl<T: Checked> Checked for crate::Patch<T> {
    fn check(&self, place: &str, bounds: &Bounds) -> Result<(), Error> {
        self.as_set().map_or(Ok(()), |v| v.check(place, bounds))
    }
}

/// Checks `value` against `bounds` (called by the generated `send()`).
pub(crate) fn check<T: Checked + ?Sized>(
    value: &T,
    place: &str,
    bounds: &Bounds,
) -> Result<(), Error> {
    value.check(place, bounds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn violations_name_the_place_and_the_bound() {
        let max = Bounds {
            maximum: Some(100.0),
            minimum: Some(1.0),
            ..Bounds::default()
        };
        let err = check(&Some(500i32), "parameter `limit`", &max).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        let text = err.to_string();
        assert!(
            text.contains("parameter `limit`") && text.contains("maximum 100"),
            "{text}"
        );
        assert!(
            check(&0i64, "parameter `limit`", &max)
                .unwrap_err()
                .to_string()
                .contains("minimum 1")
        );
        assert!(check(&Some(100i32), "p", &max).is_ok());
        assert!(check(&None::<i32>, "p", &max).is_ok());

        let text = Bounds {
            max_length: Some(3),
            pattern: Some("^[a-z]+$"),
            ..Bounds::default()
        };
        assert!(
            check(&"abcd".to_string(), "f", &text)
                .unwrap_err()
                .to_string()
                .contains("maxLength 3")
        );
        assert!(
            check(&"A".to_string(), "f", &text)
                .unwrap_err()
                .to_string()
                .contains("pattern")
        );
        // Characters, not bytes.
        assert!(
            check(&"äöü".to_string(), "f", &text).is_err_and(|e| e.to_string().contains("pattern"))
        );
        assert!(check(&crate::Patch::<String>::Clear, "f", &text).is_ok());
    }
}
