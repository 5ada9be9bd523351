//! [OpenAPI Overlay 1.0](https://spec.openapis.org/overlay/v1.0.0.html): what we know about
//! Deck's API that its spec does not say (enums, SDK names, shapes), applied to the vendored spec
//! before normalisation so `openapi/v2.json` stays exactly what Deck publishes.
//!
//! Each action's `target` is an RFC 9535 JSONPath query (evaluated by `serde_json_path`).
//! `update` is merged into every selected object (recursively: objects merge key by key, any
//! other value replaces) or appended to every selected array; `remove: true` removes every
//! selected node from its parent. Actions apply in order, each to the result of the ones before.
//!
//! An action whose target selects nothing is *dangling*: the spec changed under it (a renamed
//! schema upstream), and whatever it typed silently falls back to Deck's plain shapes. The
//! [`Report`] lists them; `cargo xtask codegen --check` and `spec check` fail on them, `build.rs`
//! warns.
//!
//! An `update` that replaces a value the spec itself sets (not one it leaves out) is an
//! *override*: the generated client follows the overlay there while Deck's server follows its
//! spec. The vendored overlay only fills gaps, so a new override usually means Deck started
//! saying something the overlay contradicts (say, a `limit` maximum of 50 under the overlay's
//! 100: every paginator would ask for pages the server refuses). The [`Report`] lists them too,
//! and `spec diff` reports the ones the new spec brings.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;
use std::fmt;

/// A parsed overlay document.
#[derive(Debug, Clone)]
pub struct Overlay {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// The actions, in order.
    pub actions: Vec<Action>,
}

/// One action of an overlay.
#[derive(Debug, Clone)]
pub struct Action {
    /// Position in the `actions` list.
    pub index: usize,
    /// The JSONPath query, as written.
    pub target: String,
    /// `description`, if any.
    pub description: Option<String>,
    /// What to merge or append.
    pub update: Option<Value>,
    /// Whether the selected nodes are removed.
    pub remove: bool,
    /// The action's `x-` extensions (the vendored overlay's `x-expect` lists the surface lines
    /// the action must produce; its tests check them).
    pub extensions: Map<String, Value>,
    path: JsonPath,
}

/// Why an overlay could not be read or applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayError {
    /// Where in the overlay document (`/actions/3/target`), or `/` for the document.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for OverlayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "overlay at {}: {}", self.pointer, self.message)
    }
}

impl std::error::Error for OverlayError {}

fn err<T>(pointer: impl Into<String>, message: impl Into<String>) -> Result<T, OverlayError> {
    Err(OverlayError {
        pointer: pointer.into(),
        message: message.into(),
    })
}

/// What one action matched when applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionReport {
    /// Position in the `actions` list.
    pub index: usize,
    /// The action's target.
    pub target: String,
    /// The action's description, if any.
    pub description: Option<String>,
    /// How many nodes the target selected.
    pub matched: usize,
    /// Values the spec sets that the update replaced, in document order.
    pub overrides: Vec<Override>,
}

/// A value of the spec an `update` replaced with a different one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// JSON pointer of the replaced value in the document.
    pub pointer: String,
    /// What the spec says there.
    pub spec: Value,
    /// What the overlay put there instead.
    pub overlay: Value,
}

/// The result of applying an overlay: one entry per action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every action, in order.
    pub actions: Vec<ActionReport>,
}

impl Report {
    /// Actions whose target selected nothing.
    pub fn dangling(&self) -> impl Iterator<Item = &ActionReport> {
        self.actions.iter().filter(|a| a.matched == 0)
    }

    /// One line per dangling action, naming its target (empty when none dangles).
    pub fn dangling_messages(&self) -> Vec<String> {
        self.dangling()
            .map(|a| {
                let what = a
                    .description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                format!(
                    "overlay action {} matches nothing in the spec: target `{}`{what}",
                    a.index, a.target
                )
            })
            .collect()
    }

    /// Every override, with the action that made it.
    pub fn overrides(&self) -> impl Iterator<Item = (&ActionReport, &Override)> {
        self.actions
            .iter()
            .flat_map(|a| a.overrides.iter().map(move |o| (a, o)))
    }

    /// One line per override (empty when the overlay only fills gaps).
    pub fn override_messages(&self) -> Vec<String> {
        self.overrides()
            .map(|(a, o)| override_message(a, o))
            .collect()
    }
}

/// `overlay action 8 replaces `maximum` 50 with 100 at /paths/…: …`.
pub fn override_message(action: &ActionReport, o: &Override) -> String {
    format!(
        "overlay action {} replaces what the spec says at `{}`: {} → {} (target `{}`)",
        action.index, o.pointer, o.spec, o.overlay, action.target
    )
}

impl Overlay {
    /// Parses an overlay document (JSON).
    pub fn parse(text: &str) -> Result<Overlay, OverlayError> {
        let doc: Value =
            serde_json::from_str(text).or_else(|e| err("/", format!("not JSON: {e}")))?;
        let version = doc.get("overlay").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("1.0.") {
            return err(
                "/overlay",
                format!("expected an Overlay 1.0.x document, found `{version}`"),
            );
        }
        let info_field = |key: &str| -> Result<String, OverlayError> {
            match doc.pointer(&format!("/info/{key}")).and_then(Value::as_str) {
                Some(s) => Ok(s.to_string()),
                None => err(format!("/info/{key}"), "required"),
            }
        };
        let (title, version) = (info_field("title")?, info_field("version")?);
        let Some(list) = doc.get("actions").and_then(Value::as_array) else {
            return err("/actions", "required: a list of actions");
        };
        if list.is_empty() {
            return err("/actions", "an overlay needs at least one action");
        }
        let mut actions = Vec::new();
        for (index, raw) in list.iter().enumerate() {
            let ptr = format!("/actions/{index}");
            let Some(obj) = raw.as_object() else {
                return err(ptr, "an action must be an object");
            };
            for key in obj.keys() {
                if !matches!(key.as_str(), "target" | "description" | "update" | "remove")
                    && !key.starts_with("x-")
                {
                    return err(format!("{ptr}/{key}"), "not an Overlay 1.0 action field");
                }
            }
            let Some(target) = obj.get("target").and_then(Value::as_str) else {
                return err(format!("{ptr}/target"), "required: a JSONPath query");
            };
            let path = JsonPath::parse(target).or_else(|e| {
                err(
                    format!("{ptr}/target"),
                    format!("`{target}` is not an RFC 9535 JSONPath query: {e}"),
                )
            })?;
            let remove = match obj.get("remove") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return err(format!("{ptr}/remove"), "must be a boolean"),
            };
            let update = obj.get("update").cloned();
            if update.is_none() && !remove {
                return err(ptr, "an action needs `update` or `remove: true`");
            }
            let extensions = obj
                .iter()
                .filter(|(k, _)| k.starts_with("x-"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            actions.push(Action {
                index,
                extensions,
                target: target.to_string(),
                description: obj
                    .get("description")
                    .and_then(Value::as_str)
                    .map(String::from),
                update,
                remove,
                path,
            });
        }
        Ok(Overlay {
            title,
            version,
            actions,
        })
    }

    /// Applies every action to `doc`, in order.
    pub fn apply(&self, doc: &mut Value) -> Result<Report, OverlayError> {
        let mut report = Report::default();
        for action in &self.actions {
            let mut pointers: Vec<String> = action
                .path
                .query_located(doc)
                .iter()
                .map(|node| node.location().to_json_pointer())
                .collect();
            let mut overrides = Vec::new();
            if action.remove {
                // Deepest and last first, so removing one node never moves another.
                pointers.sort_by(|a, b| b.cmp(a));
                for pointer in &pointers {
                    remove(doc, pointer, action.index)?;
                }
                report
                    .actions
                    .push(action.report(pointers.len(), overrides));
                continue;
            }
            let update = action.update.as_ref().expect("checked by parse");
            for pointer in &pointers {
                let node = doc.pointer_mut(pointer).expect("a path the query returned");
                match (node, update) {
                    (Value::Object(target), Value::Object(patch)) => {
                        merge(target, patch, pointer, &mut overrides)
                    }
                    (Value::Array(items), value) => items.push(value.clone()),
                    (Value::Object(_), _) => {
                        return err(
                            format!("/actions/{}/update", action.index),
                            format!(
                                "selects the object at `{pointer}`: the update must be an object"
                            ),
                        );
                    }
                    _ => {
                        return err(
                            format!("/actions/{}/target", action.index),
                            format!("selects `{pointer}`, which is neither an object nor an array"),
                        );
                    }
                }
            }
            report
                .actions
                .push(action.report(pointers.len(), overrides));
        }
        Ok(report)
    }
}

impl Action {
    fn report(&self, matched: usize, overrides: Vec<Override>) -> ActionReport {
        ActionReport {
            index: self.index,
            target: self.target.clone(),
            description: self.description.clone(),
            matched,
            overrides,
        }
    }
}

/// Recursive merge: objects merge key by key, anything else in `patch` replaces. Every value of
/// `target` replaced by a different one is recorded in `overrides` (`at` is `target`'s pointer).
fn merge(
    target: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    at: &str,
    overrides: &mut Vec<Override>,
) {
    for (key, value) in patch {
        let pointer = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
        match (target.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(inner)) => {
                merge(existing, inner, &pointer, overrides)
            }
            (existing, _) => {
                if let Some(old) = existing.filter(|old| *old != value) {
                    overrides.push(Override {
                        pointer,
                        spec: old.clone(),
                        overlay: value.clone(),
                    });
                }
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

fn remove(doc: &mut Value, pointer: &str, index: usize) -> Result<(), OverlayError> {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return err(
            format!("/actions/{index}/target"),
            "selects the whole document, which cannot be removed",
        );
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(actions: Value) -> Overlay {
        Overlay::parse(
            &json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions})
                .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn update_merges_into_every_selected_object() {
        let mut doc = json!({"components": {"schemas": {
            "A": {"properties": {"status": {"type": "string", "description": "d"}}},
            "B": {"properties": {"status": {"type": "string"}}}
        }}});
        let report = overlay(json!([{
            "target": "$.components.schemas[*].properties.status",
            "update": {"$ref": "#/components/schemas/S", "x-a": {"b": 1}}
        }]))
        .apply(&mut doc)
        .unwrap();
        assert_eq!(report.actions[0].matched, 2);
        assert_eq!(
            doc["components"]["schemas"]["A"]["properties"]["status"],
            json!({"type": "string", "description": "d", "$ref": "#/components/schemas/S", "x-a": {"b": 1}})
        );
    }

    #[test]
    fn objects_merge_recursively_and_arrays_get_appended_to() {
        let mut doc = json!({"a": {"b": {"c": 1, "d": [1]}}, "list": [1]});
        overlay(json!([
            {"target": "$.a", "update": {"b": {"e": 2, "d": [9]}}},
            {"target": "$.list", "update": 2}
        ]))
        .apply(&mut doc)
        .unwrap();
        assert_eq!(
            doc,
            json!({"a": {"b": {"c": 1, "d": [9], "e": 2}}, "list": [1, 2]})
        );
    }

    #[test]
    fn filters_select_by_value() {
        let mut doc = json!({"parameters": [{"name": "limit"}, {"name": "status", "schema": {}}]});
        overlay(
            json!([{"target": "$.parameters[?@.name == 'status'].schema", "update": {"x": 1}}]),
        )
        .apply(&mut doc)
        .unwrap();
        assert_eq!(doc["parameters"][1]["schema"], json!({"x": 1}));
        assert!(doc["parameters"][0].get("schema").is_none());
    }

    #[test]
    fn remove_deletes_selected_nodes_without_shifting_others() {
        let mut doc = json!({"a": [0, 1, 2, 3], "o": {"x": 1, "y": 2}});
        overlay(json!([
            {"target": "$.a[1,2]", "remove": true},
            {"target": "$.o.x", "remove": true}
        ]))
        .apply(&mut doc)
        .unwrap();
        assert_eq!(doc, json!({"a": [0, 3], "o": {"y": 2}}));
    }

    #[test]
    fn a_dangling_target_is_reported_with_its_target() {
        let mut doc = json!({"components": {"schemas": {"TaskRun": {}}}});
        let report = overlay(json!([{
            "target": "$.components.schemas.GetTaskRunResponse",
            "description": "name the task run",
            "update": {"x-deck-name": "TaskRun"}
        }]))
        .apply(&mut doc)
        .unwrap();
        let messages = report.dangling_messages();
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].contains("$.components.schemas.GetTaskRunResponse")
                && messages[0].contains("name the task run"),
            "{messages:?}"
        );
    }

    #[test]
    fn replacing_a_value_the_spec_sets_is_an_override() {
        let mut doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "limit", "schema": {"type": "integer", "maximum": 50}},
            {"name": "other", "schema": {"type": "integer"}}
        ]}}}});
        let report = overlay(json!([{
            "target": "$.paths[*].get.parameters[*].schema",
            "update": {"maximum": 100, "type": "integer"}
        }]))
        .apply(&mut doc)
        .unwrap();
        // Filling a gap or restating the same value is not an override.
        assert_eq!(
            report.actions[0].overrides,
            [Override {
                pointer: "/paths/~1a/get/parameters/0/schema/maximum".into(),
                spec: json!(50),
                overlay: json!(100),
            }]
        );
        let messages = report.override_messages();
        assert!(
            messages[0].contains("overlay action 0") && messages[0].contains("50 → 100"),
            "{messages:?}"
        );
    }

    #[test]
    fn malformed_overlays_are_refused_with_a_pointer() {
        let parse = |v: Value| Overlay::parse(&v.to_string()).unwrap_err();
        let info = json!({"title": "t", "version": "1"});
        assert_eq!(parse(json!({"overlay": "2.0.0"})).pointer, "/overlay");
        assert_eq!(
            parse(json!({"overlay": "1.0.0", "info": {"title": "t"}})).pointer,
            "/info/version"
        );
        assert_eq!(
            parse(json!({"overlay": "1.0.0", "info": info, "actions": []})).pointer,
            "/actions"
        );
        let bad_path = parse(
            json!({"overlay": "1.0.0", "info": info, "actions": [{"target": "$[", "remove": true}]}),
        );
        assert_eq!(bad_path.pointer, "/actions/0/target");
        let no_op =
            parse(json!({"overlay": "1.0.0", "info": info, "actions": [{"target": "$.a"}]}));
        assert_eq!(no_op.pointer, "/actions/0");
        let mut doc = json!({"a": "text"});
        let e = overlay(json!([{"target": "$.a", "update": {"x": 1}}]))
            .apply(&mut doc)
            .unwrap_err();
        assert_eq!(e.pointer, "/actions/0/target");
    }
}
