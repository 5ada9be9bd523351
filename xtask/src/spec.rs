//! Reading a spec the way the generator does: JSON → OpenAPI 3.1 → overlay → normalised →
//! generated. Everything here calls `deck-codegen`; nothing re-derives what it decides.

use deck_codegen::{Generated, Overlay, Spec, SpecError};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `openapi/overlay.json`, next to the spec.
pub fn overlay_path_for(spec: &Path) -> PathBuf {
    spec.with_file_name("overlay.json")
}

/// Reads and parses the overlay at `path`.
pub fn read_overlay(path: &Path) -> Result<Overlay, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Overlay::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The workspace's overlay (`openapi/overlay.json`).
pub fn vendored_overlay() -> Result<Overlay, String> {
    read_overlay(&overlay_path_for(&crate::source::default_spec_path()))
}

/// [`deck_codegen::load`], then the generator: the full check a spec must pass before it may
/// replace `openapi/v2.json`.
pub fn validate(text: &str, overlay: &Overlay) -> Result<(Spec, Generated), SpecError> {
    let spec = deck_codegen::load(text, Some(overlay))?;
    let generated = deck_codegen::generate(&spec)?;
    deck_codegen::contract::check(&generated.surface)
        .map_err(|e| SpecError::Generate(e.to_string()))?;
    Ok((spec, generated))
}

/// The spec text as it is vendored: pretty JSON, keys sorted, trailing newline (the same form
/// `spec assemble` writes, so formatting noise never shows up in review).
pub fn canonical_text(raw: &Value) -> String {
    let mut text = serde_json::to_string_pretty(raw).unwrap_or_else(|_| raw.to_string());
    text.push('\n');
    text
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
    fn differing_pointers_lists_leaves() {
        let a = json!({"a": {"b": 1, "c": [1]}, "d": 1});
        let b = json!({"a": {"b": 2, "c": [1]}, "e": 1});
        assert_eq!(differing_pointers(&a, &b, 10), vec!["/a/b", "/d", "/e"]);
        assert_eq!(differing_pointers(&a, &b, 1), vec!["/a/b"]);
        assert!(differing_pointers(&a, &a, 10).is_empty());
    }

    #[test]
    fn the_vendored_overlay_parses() {
        assert!(!vendored_overlay().unwrap().actions.is_empty());
    }
}
