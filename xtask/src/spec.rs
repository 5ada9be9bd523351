//! Loading and validating a spec document: JSON → `openapi: 3.1.x` → normalised → generated.

use serde_json::Value;
use std::fmt;

/// A spec that parsed, is OpenAPI 3.1 and normalises.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The document as written.
    pub raw: Value,
    /// The OpenAPI 3.0.3 document the generator is given (`src/normalize.rs`).
    pub normalised: Value,
}

/// Why a document is not a usable Deck spec. Each variant names the first check that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// Not JSON at all (an HTML error page, YAML, a truncated body…).
    NotJson(String),
    /// JSON, but `openapi` is missing or not `3.1.x`.
    NotOpenApi31 {
        /// The `openapi` value found, if any.
        found: Option<String>,
    },
    /// The normaliser refused it (a construct it does not understand).
    Normalize(String),
    /// The generator refused the normalised document.
    Generate(String),
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::NotJson(e) => write!(f, "the document is not JSON: {e}"),
            SpecError::NotOpenApi31 { found: Some(v) } => write!(
                f,
                "the document is OpenAPI `{v}`, expected an OpenAPI 3.1.x document (`openapi: 3.1.x`)"
            ),
            SpecError::NotOpenApi31 { found: None } => write!(
                f,
                "the document has no `openapi` version string; expected an OpenAPI 3.1.x document"
            ),
            SpecError::Normalize(e) => {
                write!(f, "the normaliser (src/normalize.rs) rejects it {e}")
            }
            SpecError::Generate(e) => write!(f, "code generation fails: {e}"),
        }
    }
}

impl std::error::Error for SpecError {}

/// Parses `text` and checks it is an OpenAPI 3.1 document that normalises.
pub fn load(text: &str) -> Result<LoadedSpec, SpecError> {
    let raw: Value = serde_json::from_str(text).map_err(|e| SpecError::NotJson(e.to_string()))?;
    let version = raw.get("openapi").and_then(Value::as_str);
    if !version.is_some_and(|v| v.starts_with("3.1.")) {
        return Err(SpecError::NotOpenApi31 {
            found: version.map(String::from).or_else(|| {
                raw.get("swagger")
                    .and_then(Value::as_str)
                    .map(|v| format!("swagger {v}"))
            }),
        });
    }
    let normalised =
        crate::normalize::normalize(&raw).map_err(|e| SpecError::Normalize(e.to_string()))?;
    Ok(LoadedSpec { raw, normalised })
}

/// [`load`], then runs the generator on it (what `build.rs` will do): the full check a spec
/// must pass before it may replace `openapi/v2.json`. Returns the generated source too.
pub fn validate(text: &str) -> Result<(LoadedSpec, String), SpecError> {
    let spec = load(text)?;
    let generated = crate::codegen::generate(text).map_err(SpecError::Generate)?;
    Ok((spec, generated))
}

/// The spec text as it is vendored: pretty JSON, keys sorted, trailing newline (the same form
/// `spec assemble` writes, so formatting noise never shows up in review).
pub fn canonical_text(raw: &Value) -> String {
    let mut text = serde_json::to_string_pretty(raw).unwrap_or_else(|_| raw.to_string());
    text.push('\n');
    text
}

/// `listTaskRuns` → `list_task_runs`, the way progenitor names methods from operation ids.
pub fn snake(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower);
            if boundary && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out.trim_end_matches('_').to_string()
}

/// JSON pointers (at most `limit`) where two documents differ, for reports of changes that do
/// not reach the generated surface (descriptions, examples…).
pub fn differing_pointers(a: &Value, b: &Value, limit: usize) -> Vec<String> {
    fn walk(a: &Value, b: &Value, ptr: &str, out: &mut Vec<String>, limit: usize) {
        if out.len() >= limit || a == b {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for key in keys {
                    let p = format!("{ptr}/{}", key.replace('~', "~0").replace('/', "~1"));
                    match (x.get(key), y.get(key)) {
                        (Some(u), Some(v)) => walk(u, v, &p, out, limit),
                        _ => {
                            if out.len() < limit {
                                out.push(p)
                            }
                        }
                    }
                }
            }
            _ => out.push(if ptr.is_empty() {
                "/".into()
            } else {
                ptr.into()
            }),
        }
    }
    let mut out = Vec::new();
    walk(a, b, "", &mut out, limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snake_case_follows_progenitor() {
        assert_eq!(snake("listTaskRuns"), "list_task_runs");
        assert_eq!(snake("testApiKey"), "test_api_key");
        assert_eq!(snake("getHTTPStatus"), "get_http_status");
        assert_eq!(snake("list-task-runs"), "list_task_runs");
        assert_eq!(snake("v2Get"), "v2_get");
    }

    #[test]
    fn load_names_the_failing_check() {
        assert!(matches!(load("<html>"), Err(SpecError::NotJson(_))));
        assert_eq!(
            load(r#"{"openapi": "3.0.3"}"#).unwrap_err(),
            SpecError::NotOpenApi31 {
                found: Some("3.0.3".into())
            }
        );
        assert_eq!(
            load(r#"{"swagger": "2.0"}"#).unwrap_err(),
            SpecError::NotOpenApi31 {
                found: Some("swagger 2.0".into())
            }
        );
        let err = load(r#"{"openapi": "3.1.0", "paths": {}}"#).unwrap_err();
        assert!(matches!(err, SpecError::Normalize(_)), "{err}");
    }

    #[test]
    fn differing_pointers_lists_leaves() {
        let a = json!({"a": {"b": 1, "c": [1]}, "d": 1});
        let b = json!({"a": {"b": 2, "c": [1]}, "e": 1});
        assert_eq!(differing_pointers(&a, &b, 10), vec!["/a/b", "/d", "/e"]);
        assert_eq!(differing_pointers(&a, &b, 1), vec!["/a/b"]);
        assert!(differing_pointers(&a, &a, 10).is_empty());
    }
}
