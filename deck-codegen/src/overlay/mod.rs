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

mod position;

pub use position::{Position, operations_by_route};

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
    /// `x-deck-operation`: the operation's route (`GET /agents/{}`), used when `target` selects
    /// nothing (an operation without Deck's `operationId`, or under another one).
    pub route: Option<String>,
    /// `x-deck-at`: the positions under each selected node the update applies to (a string, or a
    /// list whose places are all taken).
    pub at: Vec<Position>,
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
    /// Why the action was not applied although its target matched (its update refers to a type
    /// the spec lacks, or names a type another already holds); `None` when it was applied.
    pub skipped: Option<String>,
    /// A naming action that found nothing while another action gave the same name (a fallback
    /// position, or the primary one where a fallback found the type): nothing was lost, so it is
    /// not reported.
    pub covered: bool,
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
    /// Actions that did not apply: their target selected nothing, or they were skipped (see
    /// [`ActionReport::skipped`]). What they would have typed falls back to Deck's plain shapes.
    pub fn dangling(&self) -> impl Iterator<Item = &ActionReport> {
        self.actions
            .iter()
            .filter(|a| (a.matched == 0 || a.skipped.is_some()) && !a.covered)
    }

    /// One line per action that did not apply, naming its target and why (empty when all
    /// applied).
    pub fn dangling_messages(&self) -> Vec<String> {
        self.dangling()
            .map(|a| {
                let what = a
                    .description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                match &a.skipped {
                    Some(why) => format!(
                        "overlay action {} skipped: {why}: target `{}`{what}",
                        a.index, a.target
                    ),
                    None => format!(
                        "overlay action {} matches nothing in the spec: target `{}`{what}",
                        a.index, a.target
                    ),
                }
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
            let route = match obj.get("x-deck-operation") {
                None => None,
                Some(Value::String(r))
                    if r.split_once(' ').is_some_and(|(m, p)| {
                        crate::normalize::HTTP_METHODS.contains(&m.to_ascii_lowercase().as_str())
                            && p.starts_with('/')
                    }) =>
                {
                    Some(r.clone())
                }
                Some(_) => {
                    return err(
                        format!("{ptr}/x-deck-operation"),
                        "expected `METHOD /path` (e.g. `GET /agents/{agent_id}`)",
                    );
                }
            };
            let at = match obj.get("x-deck-at") {
                None => Vec::new(),
                Some(Value::String(text)) => {
                    vec![Position::parse(text).or_else(|e| err(format!("{ptr}/x-deck-at"), e))?]
                }
                Some(Value::Array(list)) if !list.is_empty() => {
                    let mut out = Vec::new();
                    for (i, text) in list.iter().enumerate() {
                        let Some(text) = text.as_str() else {
                            return err(
                                format!("{ptr}/x-deck-at/{i}"),
                                "expected a position string",
                            );
                        };
                        out.push(
                            Position::parse(text)
                                .or_else(|e| err(format!("{ptr}/x-deck-at/{i}"), e))?,
                        );
                    }
                    out
                }
                Some(_) => {
                    return err(
                        format!("{ptr}/x-deck-at"),
                        "expected a position string or a non-empty list of them",
                    );
                }
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
                route,
                at,
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

    /// Applies every action to `doc`, in order. An action applies where it fits and is reported
    /// where it does not (nothing selected; an update referring to a type the spec lacks; a type
    /// name another type holds): the overlay is written for one version of Deck's spec and
    /// applied to any.
    pub fn apply(&self, doc: &mut Value) -> Result<Report, OverlayError> {
        let mut report = Report::default();
        for action in &self.actions {
            let mut pointers = action.select(doc);
            let mut overrides = Vec::new();
            if pointers.is_empty() {
                report.actions.push(action.report(0, overrides, None));
                continue;
            }
            if action.remove {
                // Deepest and last first, so removing one node never moves another.
                pointers.sort_by(|a, b| b.cmp(a));
                for pointer in &pointers {
                    remove(doc, pointer, action.index)?;
                }
                report
                    .actions
                    .push(action.report(pointers.len(), overrides, None));
                continue;
            }
            let update = action.update.as_ref().expect("checked by parse");
            if let Some(missing) = unresolved_ref(doc, update) {
                let why = format!("its update refers to `{missing}`, which the spec lacks");
                report
                    .actions
                    .push(action.report(pointers.len(), overrides, Some(why)));
                continue;
            }
            if let Some(name) = update.get("x-deck-name").and_then(Value::as_str) {
                // A name names one type: the first place the action found (its target may
                // select several operations, say every error response).
                pointers.truncate(1);
                let conflicts: Vec<String> = pointers
                    .iter()
                    .filter_map(|p| name_conflict(doc, p, name))
                    .collect();
                if let Some(why) = conflicts.into_iter().next() {
                    report
                        .actions
                        .push(action.report(pointers.len(), overrides, Some(why)));
                    continue;
                }
            }
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
                .push(action.report(pointers.len(), overrides, None));
        }
        // A name is given once: a naming action that did not apply is covered when another one
        // gave the same name.
        let named: Vec<&Value> = self
            .actions
            .iter()
            .zip(&report.actions)
            .filter(|(_, r)| r.matched > 0 && r.skipped.is_none())
            .filter_map(|(a, _)| a.update.as_ref()?.get("x-deck-name"))
            .collect();
        for (action, r) in self.actions.iter().zip(report.actions.iter_mut()) {
            let name = action.update.as_ref().and_then(|u| u.get("x-deck-name"));
            let only_a_name = action
                .update
                .as_ref()
                .and_then(Value::as_object)
                .is_some_and(|u| u.len() == 1);
            if r.matched == 0 && only_a_name && name.is_some_and(|n| named.contains(&n)) {
                r.covered = true;
            }
        }
        Ok(report)
    }
}

/// The first `$ref` in `update` that does not resolve in `doc`. A schema reference resolves to a
/// component, to a type the overlay named (`x-deck-name`, which the normaliser gives the
/// component), or to a component the update itself adds.
fn unresolved_ref(doc: &Value, update: &Value) -> Option<String> {
    let mut refs = Vec::new();
    collect_refs(update, &mut refs);
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    refs.into_iter().find(|reference| {
        if let Some(name) = reference.strip_prefix("#/components/schemas/") {
            let name = name.split('/').next().unwrap_or(name);
            let in_doc = schemas.is_some_and(|s| {
                s.contains_key(name)
                    || s.values()
                        .any(|c| c.get("x-deck-name").and_then(Value::as_str) == Some(name))
            });
            let added = update.get(name).is_some();
            !(in_doc || added || named_anywhere(doc, name))
        } else {
            reference
                .strip_prefix('#')
                .is_none_or(|p| doc.pointer(p).is_none())
        }
    })
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(obj) => {
            for (k, v) in obj {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Whether an inline schema anywhere carries `x-deck-name: name` (it becomes a component).
fn named_anywhere(value: &Value, name: &str) -> bool {
    match value {
        Value::Object(obj) => {
            obj.get("x-deck-name").and_then(Value::as_str) == Some(name)
                || obj.values().any(|v| named_anywhere(v, name))
        }
        Value::Array(items) => items.iter().any(|v| named_anywhere(v, name)),
        _ => false,
    }
}

/// Why naming the schema at `pointer` `name` would clash: it already has another SDK name, or
/// another component holds or was given the name.
fn name_conflict(doc: &Value, pointer: &str, name: &str) -> Option<String> {
    let node = doc.pointer(pointer)?;
    if let Some(existing) = node.get("x-deck-name").and_then(Value::as_str)
        && existing != name
    {
        return Some(format!(
            "the type at `{pointer}` is already named `{existing}`, not `{name}`"
        ));
    }
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)?;
    let own = pointer
        .strip_prefix("/components/schemas/")
        .filter(|rest| !rest.contains('/'))
        .map(|n| n.replace("~1", "/").replace("~0", "~"));
    schemas.iter().find_map(|(other, schema)| {
        if own.as_deref() == Some(other.as_str()) {
            return None;
        }
        let given = schema.get("x-deck-name").and_then(Value::as_str);
        let holds = given == Some(name) || (other == name && given.is_none_or(|g| g == name));
        holds.then(|| format!("`{name}` already names the type at `/components/schemas/{other}`"))
    })
}

impl Action {
    /// The nodes the action applies to: its `target`'s (or, when that selects nothing, the
    /// operations at its `x-deck-operation` route), narrowed by its `x-deck-at` position.
    fn select(&self, doc: &Value) -> Vec<String> {
        let mut pointers: Vec<String> = self
            .path
            .query_located(doc)
            .iter()
            .map(|node| node.location().to_json_pointer())
            .collect();
        if pointers.is_empty()
            && let Some(route) = &self.route
        {
            pointers = operations_by_route(doc, route);
        }
        if !self.at.is_empty() {
            let mut narrowed: Vec<String> = Vec::new();
            for at in &self.at {
                for p in &pointers {
                    for found in at.resolve(doc, p) {
                        if !narrowed.contains(&found) {
                            narrowed.push(found);
                        }
                    }
                }
            }
            pointers = narrowed;
        }
        pointers
    }
}

impl Action {
    fn report(
        &self,
        matched: usize,
        overrides: Vec<Override>,
        skipped: Option<String>,
    ) -> ActionReport {
        ActionReport {
            index: self.index,
            target: self.target.clone(),
            description: self.description.clone(),
            matched,
            overrides,
            skipped,
            covered: false,
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
            "B": {"properties": {"status": {"type": "string"}}},
            "S": {"type": "string", "enum": ["a"]}
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
    fn an_update_referring_to_a_type_the_spec_lacks_is_skipped_and_reported() {
        let mut doc =
            json!({"components": {"schemas": {"Source": {"properties": {"website": {}}}}}});
        let before = doc.clone();
        let report = overlay(json!([{
            "target": "$.components.schemas.Source.properties.website",
            "update": {"$ref": "#/components/schemas/SourceWebsite"}
        }, {
            "target": "$.components.schemas",
            "update": {"Status": {"type": "string", "enum": ["a"]}, "Holder": {"$ref": "#/components/schemas/Status"}}
        }, {
            "target": "$.components.schemas.Source",
            "update": {"x-deck-name": "Website"}
        }, {
            "target": "$.components.schemas.Source.properties.website",
            "update": {"$ref": "#/components/schemas/Website"}
        }]))
        .apply(&mut doc)
        .unwrap();
        assert_eq!(report.actions[0].matched, 1);
        let messages = report.dangling_messages();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("`#/components/schemas/SourceWebsite`, which the spec lacks"),
            "{messages:?}"
        );
        assert_eq!(
            doc["components"]["schemas"]["Source"]["properties"]["website"],
            json!({"$ref": "#/components/schemas/Website"})
        );
        assert_ne!(doc, before);
    }

    #[test]
    fn a_name_another_type_holds_is_skipped_and_reported() {
        let mut doc = json!({"components": {"schemas": {"A": {}, "B": {}, "Agent": {}}}});
        let report = overlay(json!([
            {"target": "$.components.schemas.A", "update": {"x-deck-name": "Agent"}},
            {"target": "$.components.schemas.B", "update": {"x-deck-name": "Thing"}},
            {"target": "$.components.schemas.B", "update": {"x-deck-name": "Other"}},
            {"target": "$.components.schemas.Agent", "update": {"x-deck-name": "Agent"}}
        ]))
        .apply(&mut doc)
        .unwrap();
        let skipped: Vec<usize> = report.dangling().map(|a| a.index).collect();
        assert_eq!(skipped, [0, 2]);
        assert_eq!(doc["components"]["schemas"]["B"]["x-deck-name"], "Thing");
        assert!(
            doc["components"]["schemas"]["A"]
                .get("x-deck-name")
                .is_none()
        );
    }

    #[test]
    fn operations_are_found_by_id_then_by_route_and_narrowed_by_position() {
        let op = |id: Option<&str>| {
            let mut o = json!({"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/AgentDto"}}}}}});
            if let Some(id) = id {
                o["operationId"] = json!(id);
            }
            o
        };
        let actions = json!([
            {"target": "$.paths[*][?@.operationId == 'getAgent']", "x-deck-operation": "GET /agents/{agent_id}",
             "update": {"x-deck-name": "getAgent"}},
            {"target": "$.paths[*][?@['x-deck-name'] == 'getAgent']", "x-deck-at": "response/@type",
             "update": {"x-deck-name": "Agent"}}
        ]);
        for (path, id) in [
            ("/agents/{agent_id}", Some("getAgent")),
            ("/agents/{id}", None),
            ("/agents/{id}", Some("Agents_Get")),
        ] {
            let mut doc = json!({"paths": {path: {"get": op(id)}}, "components": {"schemas": {"AgentDto": {"type": "object"}}}});
            let report = overlay(actions.clone()).apply(&mut doc).unwrap();
            assert_eq!(
                report.dangling_messages(),
                Vec::<String>::new(),
                "{path} {id:?}"
            );
            assert_eq!(
                doc["components"]["schemas"]["AgentDto"]["x-deck-name"],
                "Agent"
            );
        }
        let bad = Overlay::parse(
            &json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"},
            "actions": [{"target": "$", "x-deck-at": "nowhere", "update": {}}]})
            .to_string(),
        )
        .unwrap_err();
        assert_eq!(bad.pointer, "/actions/0/x-deck-at");
    }

    #[test]
    fn a_naming_action_another_one_covers_is_not_reported() {
        let mut doc = json!({"components": {"schemas": {"A": {}}}});
        let report = overlay(json!([
            {"target": "$.components.schemas.Gone", "update": {"x-deck-name": "Thing"}},
            {"target": "$.components.schemas.A", "update": {"x-deck-name": "Thing"}},
            {"target": "$.components.schemas.Missing", "update": {"x-deck-name": "Other"}}
        ]))
        .apply(&mut doc)
        .unwrap();
        let reported: Vec<usize> = report.dangling().map(|a| a.index).collect();
        assert_eq!(reported, [2]);
        assert!(report.actions[0].covered);
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
