//! The check between the normaliser and the generator: every `$ref` of the normalised document
//! resolves. The overlay skips what does not fit a spec and the normaliser rewrites references
//! (renamed components, inlined parameters); a reference either left dangling would otherwise
//! reach progenitor, which panics on it.

use crate::normalize::NormalizeError;
use serde_json::Value;

/// Fails at the first `$ref` that does not resolve, naming where it sits.
pub fn references(doc: &Value) -> Result<(), NormalizeError> {
    walk(doc, doc, &mut String::new())
}

fn walk(doc: &Value, value: &Value, at: &mut String) -> Result<(), NormalizeError> {
    match value {
        Value::Object(obj) => {
            for (key, child) in obj {
                let len = at.len();
                at.push('/');
                at.push_str(&crate::normalize::escape(key));
                if key == "$ref"
                    && let Value::String(reference) = child
                {
                    let resolves = reference
                        .strip_prefix('#')
                        .is_some_and(|pointer| doc.pointer(pointer).is_some());
                    if !resolves {
                        return Err(NormalizeError {
                            pointer: at.clone(),
                            message: format!(
                                "validation: `{reference}` does not resolve in the normalised document"
                            ),
                        });
                    }
                } else {
                    walk(doc, child, at)?;
                }
                at.truncate(len);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                walk(doc, child, at)?;
                at.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_dangling_reference_is_named_by_its_pointer() {
        let ok =
            json!({"components": {"schemas": {"A": {}, "B": {"$ref": "#/components/schemas/A"}}}});
        references(&ok).unwrap();
        let bad = json!({"paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json":
            {"schema": {"$ref": "#/components/schemas/SourceWebsite"}}}}}}}}});
        let err = references(&bad).unwrap_err();
        assert_eq!(
            err.pointer,
            "/paths/~1x/get/responses/200/content/application~1json/schema/$ref"
        );
        assert!(err.message.contains("SourceWebsite"), "{err}");
        let external = json!({"a": {"$ref": "other.json#/x"}});
        assert!(references(&external).is_err());
    }
}
