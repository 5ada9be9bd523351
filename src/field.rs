//! Body fields: what the generated body builders' setters accept ([`IntoField`]), and
//! [`Patch`], the field of an update that can leave a value alone, clear it, or set it.

use std::fmt;

/// A field of an update (`PATCH`) body the spec allows to be `null`: leave it alone (the
/// default: the field stays out of the body), clear it (`null` on the wire), or set it.
///
/// Body builders take the value, an `Option` (`None` clears) or a `Patch`, and have a
/// `clear_<field>()` setter:
///
/// ```
/// use deck::types::UpdateCredentialRequest;
///
/// let set = UpdateCredentialRequest::builder().external_id("crm-42");
/// let cleared = UpdateCredentialRequest::builder().clear_external_id();
/// let also_cleared = UpdateCredentialRequest::builder().external_id(None);
/// # let json = |b| serde_json::to_value(UpdateCredentialRequest::try_from(b).unwrap()).unwrap();
/// assert_eq!(json(set), serde_json::json!({"external_id": "crm-42"}));
/// assert_eq!(json(cleared), serde_json::json!({"external_id": null}));
/// assert_eq!(json(also_cleared), serde_json::json!({"external_id": null}));
/// assert_eq!(json(UpdateCredentialRequest::builder()), serde_json::json!({}));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Patch<T> {
    /// Leave the value as it is: the field is not sent.
    #[default]
    Keep,
    /// Remove the value: the field is sent as `null`.
    Clear,
    /// Set the value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the field is left alone (and so not sent).
    pub fn is_keep(&self) -> bool {
        matches!(self, Self::Keep)
    }

    /// The value being set, if any.
    pub fn as_set(&self) -> Option<&T> {
        match self {
            Self::Set(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> From<Option<T>> for Patch<T> {
    /// `None` clears, `Some` sets.
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Clear, Self::Set)
    }
}

impl From<serde_json::Value> for Patch<serde_json::Value> {
    /// Sets any-JSON fields (whose setters take `Into<Patch<Value>>`).
    fn from(value: serde_json::Value) -> Self {
        Self::Set(value)
    }
}

impl<T: serde::Serialize> serde::Serialize for Patch<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            // Only reached when a field is serialised without `skip_serializing_if`.
            Self::Keep | Self::Clear => s.serialize_none(),
            Self::Set(v) => s.serialize_some(v),
        }
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Patch<T> {
    /// A missing field is [`Patch::Keep`] (with `#[serde(default)]`), `null` is
    /// [`Patch::Clear`], anything else [`Patch::Set`].
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Self::from)
    }
}

#[cfg(feature = "schemars")]
impl<T: schemars::JsonSchema> schemars::JsonSchema for Patch<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        <Option<T>>::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <Option<T>>::json_schema(generator)
    }

    fn inline_schema() -> bool {
        true
    }
}

/// What the setter of an optional body field accepts, for field type `F` (`Option<T>` or
/// [`Patch<T>`]): the value itself or anything that converts into it (`&str` for a `String`
/// field, a body builder for a body type), an `Option<T>` (for an update, `None` clears), or a
/// `Patch<T>`. `M` only tells these forms apart; type inference picks it.
pub trait IntoField<F, M> {
    /// The field's value, or why the given value does not convert.
    fn into_field(self) -> Result<F, String>;
}

/// [`IntoField`]'s form: the value itself.
#[doc(hidden)]
pub enum Plain {}
/// [`IntoField`]'s form: an `Option` of the value.
#[doc(hidden)]
pub enum Optional {}
/// [`IntoField`]'s form: the field's type as it is.
#[doc(hidden)]
pub enum Whole {}

fn converted<T, V>(value: V) -> Result<T, String>
where
    V: TryInto<T>,
    V::Error: fmt::Display,
{
    value.try_into().map_err(|e| e.to_string())
}

impl<T, V> IntoField<Option<T>, Plain> for V
where
    V: TryInto<T>,
    V::Error: fmt::Display,
{
    fn into_field(self) -> Result<Option<T>, String> {
        converted(self).map(Some)
    }
}

impl<T> IntoField<Option<T>, Optional> for Option<T> {
    fn into_field(self) -> Result<Option<T>, String> {
        Ok(self)
    }
}

impl<T, V> IntoField<Patch<T>, Plain> for V
where
    V: TryInto<T>,
    V::Error: fmt::Display,
{
    fn into_field(self) -> Result<Patch<T>, String> {
        converted(self).map(Patch::Set)
    }
}

impl<T> IntoField<Patch<T>, Optional> for Option<T> {
    fn into_field(self) -> Result<Patch<T>, String> {
        Ok(self.into())
    }
}

impl<T> IntoField<Patch<T>, Whole> for Patch<T> {
    fn into_field(self) -> Result<Patch<T>, String> {
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set<F, V: IntoField<F, M>, M>(v: V) -> F {
        v.into_field().unwrap()
    }

    #[test]
    fn setters_take_values_options_and_patches() {
        let s = String::from("s");
        assert_eq!(set::<Option<String>, _, _>("a"), Some("a".into()));
        assert_eq!(set::<Option<String>, _, _>(&s), Some("s".into()));
        assert_eq!(set::<Option<String>, _, _>(None), None);
        assert_eq!(set::<Option<i64>, _, _>(5i32), Some(5));
        assert_eq!(set::<Patch<String>, _, _>("a"), Patch::Set("a".into()));
        assert_eq!(set::<Patch<String>, _, _>(None), Patch::Clear);
        assert_eq!(set::<Patch<String>, _, _>(Some(s)), Patch::Set("s".into()));
        assert_eq!(set::<Patch<String>, _, _>(Patch::Keep), Patch::Keep);
        assert!(IntoField::<Option<u8>, _>::into_field(300i64).is_err());
    }

    #[test]
    fn patches_round_trip_as_absent_null_or_value() {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Body {
            #[serde(default, skip_serializing_if = "Patch::is_keep")]
            a: Patch<String>,
        }
        for (body, wire) in [
            (Patch::Keep, "{}"),
            (Patch::Clear, r#"{"a":null}"#),
            (Patch::Set("x".to_string()), r#"{"a":"x"}"#),
        ] {
            let body = Body { a: body };
            assert_eq!(serde_json::to_string(&body).unwrap(), wire);
            assert_eq!(serde_json::from_str::<Body>(wire).unwrap(), body);
        }
    }
}
