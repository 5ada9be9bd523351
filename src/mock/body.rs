//! Reading JSON request bodies as ASP.NET binds them: a field of the wrong JSON type, or a
//! required field that is missing or blank, is a 400 validation map before the action runs.

use super::reply::{Reply, json_type, validation};
use serde_json::{Map, Value};

/// A parsed JSON request body: `None` for an empty body.
pub(crate) type JsonBody = Option<Map<String, Value>>;

/// The body an operation requires (`{}` will do; nothing will not).
pub(crate) fn required(body: JsonBody, rid: &str) -> Result<Map<String, Value>, Reply> {
    body.ok_or_else(|| validation("$", "A non-empty request body is required.".into(), rid))
}

/// The fields of one JSON object of a request body.
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    /// Where the object sits in the body, e.g. `webhook.`, for messages.
    prefix: String,
    rid: &'a str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>, rid: &'a str) -> Fields<'a> {
        Fields {
            map,
            prefix: String::new(),
            rid,
        }
    }

    /// A field that is present and not null.
    pub(crate) fn value(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, Reply> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.not_convertible(key, "System.String", other)),
        }
    }

    pub(crate) fn required_string(&self, key: &str) -> Result<String, Reply> {
        match self.string(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(self.missing(key)),
        }
    }

    /// A field a PATCH may leave (absent: `None`), clear (null: `Some(None)`) or set.
    pub(crate) fn patch_string(&self, key: &str) -> Result<Option<Option<String>>, Reply> {
        match self.map.get(key) {
            None => Ok(None),
            Some(_) => self.string(key).map(Some),
        }
    }

    /// A field a PATCH may leave or set, but not clear or blank.
    pub(crate) fn patch_required(&self, key: &str) -> Result<Option<String>, Reply> {
        match self.map.get(key) {
            None => Ok(None),
            Some(_) => self.required_string(key).map(Some),
        }
    }

    pub(crate) fn boolean(&self, key: &str) -> Result<Option<bool>, Reply> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.not_convertible(key, "System.Boolean", other)),
        }
    }

    pub(crate) fn strings(&self, key: &str) -> Result<Option<Vec<String>>, Reply> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        let items = value.as_array().and_then(|items| {
            items
                .iter()
                .map(|v| v.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()
        });
        match items {
            Some(items) => Ok(Some(items)),
            None => Err(self.not_convertible(key, "System.String[]", value)),
        }
    }

    /// A nested object, whose fields report their path (`webhook.url`).
    pub(crate) fn object(&self, key: &str) -> Result<Option<Fields<'a>>, Reply> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields {
                map,
                prefix: format!("{}{key}.", self.prefix),
                rid: self.rid,
            })),
            Some(other) => Err(self.not_convertible(key, "an object", other)),
        }
    }

    pub(crate) fn missing(&self, key: &str) -> Reply {
        let path = format!("{}{key}", self.prefix);
        validation(&path, format!("The {path} field is required."), self.rid)
    }

    fn not_convertible(&self, key: &str, type_name: &str, got: &Value) -> Reply {
        let path = format!("$.{}{key}", self.prefix);
        validation(
            &path,
            format!(
                "The JSON value could not be converted to {type_name} (got {}). Path: {path}",
                json_type(got)
            ),
            self.rid,
        )
    }
}
