//! Rules on the document as a whole: version, 3.1-only members, component names, and the
//! components Deck's shapes need.

use super::{ERROR_BODY, Result, fail, is_any_schema, is_documentation_key};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Rule: `openapi: 3.1.x` becomes `3.0.3`; any other version is refused.
pub fn set_version(doc: &mut Value) -> Result<()> {
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.1.") {
        return fail(
            "/openapi",
            format!("expected an OpenAPI 3.1 document, found version `{version}`"),
        );
    }
    doc["openapi"] = json!("3.0.3");
    Ok(())
}

/// Rule: the overlay's webhooks (`x-deck-webhooks`, what Deck documents in prose) fill in the
/// spec's `webhooks` section: an event type the spec declares keeps the spec's entry (the spec
/// wins), every other documented one is added. One webhook Deck starts to declare must not erase
/// the others its docs describe.
///
/// The spec wins where it says more, not where it says less: a declared payload that leaves the
/// event's `data` untyped (the bare event envelope, as a spec generated from a handler taking
/// `Event` would declare it) keeps the overlay's typed payload for that event, with a note, so
/// the typed snapshot users match on does not fall back to JSON. A payload that types `data`
/// replaces the overlay's, and the overlay's other events of that family take it too.
pub fn overlay_webhooks(doc: &mut Value, notes: &mut Vec<String>) -> Result<()> {
    let obj = doc.as_object_mut().expect("checked by set_version");
    let Some(hooks) = obj.remove("x-deck-webhooks") else {
        return Ok(());
    };
    let Value::Object(hooks) = hooks else {
        return fail(
            "/x-deck-webhooks",
            "expected an object of webhooks by event type",
        );
    };
    if !obj.get("webhooks").is_none_or(Value::is_object) {
        return fail("/webhooks", "expected an object of webhooks by name");
    }
    let family = |event: &str| event.split('.').next().unwrap_or(event).to_string();
    // Which of the spec's payloads type their `data`, read before the section is edited.
    let typed: BTreeMap<String, bool> = doc
        .get("webhooks")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(event, hook)| {
            let body = hook.pointer("/post/requestBody");
            (event.clone(), body.is_some_and(|b| types_data(doc, b)))
        })
        .collect();
    let declared = doc
        .as_object_mut()
        .expect("checked by set_version")
        .entry("webhooks")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("checked above");
    // One family (`task_run` of `task_run.completed`), one payload: where the spec declares an
    // event of a family with a typed payload, the overlay's other events of that family take it.
    let spec_payloads: Map<String, Value> = declared
        .iter()
        .filter(|(event, _)| typed.get(*event) == Some(&true))
        .filter_map(|(event, hook)| {
            Some((family(event), hook.get("post")?.get("requestBody")?.clone()))
        })
        .collect();
    for (event_type, mut hook) in hooks {
        if let Some(spec_hook) = declared.get_mut(&event_type) {
            let overlay_body = hook.pointer("/post/requestBody").cloned();
            if typed.get(&event_type) == Some(&false)
                && let Some(body) = overlay_body
                && let Some(post) = spec_hook.get_mut("post").and_then(Value::as_object_mut)
            {
                post.insert("requestBody".into(), body);
                notes.push(format!(
                    "webhook `{event_type}`: the spec's payload leaves `data` untyped; the overlay's typed payload is kept"
                ));
            }
            continue;
        }
        if let Some(body) = spec_payloads.get(&family(&event_type))
            && let Some(post) = hook.get_mut("post").and_then(Value::as_object_mut)
        {
            post.insert("requestBody".into(), body.clone());
        }
        declared.insert(event_type, hook);
    }
    Ok(())
}

/// Whether a webhook's request body says what its event carries: it does unless it is an event
/// envelope whose `data` (directly, or in an `allOf` member, through local `$ref`s) is "any JSON".
/// A payload that is a resource itself (no `data` member) says what it carries.
fn types_data(doc: &Value, body: &Value) -> bool {
    let body = resolve(doc, body);
    let Some(schema) = body
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.iter().find(|(media, _)| media.contains("json")))
        .and_then(|(_, m)| m.get("schema"))
    else {
        return false;
    };
    data_typed(doc, schema, 0) != Some(false)
}

/// `Some(true)` where a `data` member is typed, `Some(false)` where every `data` member found is
/// "any JSON", `None` where there is no `data` member.
fn data_typed(doc: &Value, schema: &Value, depth: usize) -> Option<bool> {
    if depth > 8 {
        return None;
    }
    let schema = resolve(doc, schema);
    let mut found = schema
        .pointer("/properties/data")
        .map(|data| !says_nothing(doc, data, 0));
    for member in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        found = match (found, data_typed(doc, member, depth + 1)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), _) | (_, Some(false)) => Some(false),
            _ => None,
        };
    }
    found
}

/// Whether a schema is "any JSON" (or that or null): empty of type words, a bare inline
/// `type: object`, or a nullable wrapper (`oneOf`/`anyOf` with `type: null`) around one of those,
/// through local `$ref`s. A named component with any shape of its own says something.
fn says_nothing(doc: &Value, schema: &Value, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    let named = schema.get("$ref").is_some();
    let schema = resolve(doc, schema);
    if is_any_schema(schema) {
        return true;
    }
    let Some(obj) = schema.as_object() else {
        return false;
    };
    let shape = [
        "properties",
        "allOf",
        "oneOf",
        "anyOf",
        "$ref",
        "items",
        "enum",
        "const",
    ];
    let bare_object = match obj.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().all(|t| t == "object" || t == "null"),
        _ => false,
    };
    if bare_object && !named && shape.iter().all(|k| !obj.contains_key(*k)) {
        return true;
    }
    let others = |key: &str| -> Option<Vec<&Value>> {
        let members = obj.get(key)?.as_array()?;
        Some(
            members
                .iter()
                .filter(|m| m.get("type").and_then(Value::as_str) != Some("null"))
                .collect(),
        )
    };
    for key in ["oneOf", "anyOf"] {
        if let Some(rest) = others(key)
            && rest.len() == 1
            && obj.keys().all(|k| k == key || is_documentation_key(k))
        {
            return says_nothing(doc, rest[0], depth + 1);
        }
    }
    false
}

/// A local `$ref` followed (a few hops at most); anything else as it is.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..8 {
        let Some(target) = value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| doc.pointer(p))
        else {
            break;
        };
        value = target;
    }
    value
}

/// Rule: 3.1-only top-level members move under `x-` names (3.0 has no place for them; the
/// generator reads `x-webhooks` itself): `webhooks`, `jsonSchemaDialect`, `$schema`,
/// `license.identifier`. `components.pathItems` has no 3.0 meaning at all and is refused.
pub fn move_31_top_level(doc: &mut Value) -> Result<()> {
    let obj = doc.as_object_mut().expect("checked by set_version");
    for key in ["webhooks", "jsonSchemaDialect", "$schema"] {
        if let Some(v) = obj.remove(key) {
            obj.insert(format!("x-{}", key.trim_start_matches('$')), v);
        }
    }
    if let Some(license) = obj.get_mut("info").and_then(|i| i.get_mut("license"))
        && let Some(id) = license.as_object_mut().and_then(|l| l.remove("identifier"))
    {
        license["x-identifier"] = id;
    }
    if doc.pointer("/components/pathItems").is_some() {
        return fail(
            "/components/pathItems",
            "path items in components are OpenAPI 3.1 only",
        );
    }
    Ok(())
}

/// Rule: an inline object schema the overlay named (`x-deck-name`, at a position where Deck's
/// spec writes the type inline instead of as a component) moves to `components.schemas` under
/// that name and is referenced from where it was, so it generates as the same named type as
/// when Deck declares a component. Inline string enums keep their name through
/// [`super::schema::open_string_enums`] instead. A name another component holds is refused.
pub fn inline_sdk_names(doc: &mut Value) -> Result<()> {
    let mut hoisted: Vec<(String, String, Value)> = Vec::new();
    if let Some(paths) = doc.get_mut("paths") {
        hoist_named(paths, "/paths", &mut hoisted);
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            let ptr = format!("/components/schemas/{}", super::escape(name));
            // The component itself is named by `sdk_names`; only what sits inside it moves.
            if let Some(obj) = schema.as_object_mut() {
                for (key, child) in obj.iter_mut() {
                    hoist_named(
                        child,
                        &format!("{ptr}/{}", super::escape(key)),
                        &mut hoisted,
                    );
                }
            }
        }
    }
    if hoisted.is_empty() {
        return Ok(());
    }
    let schemas = doc
        .as_object_mut()
        .expect("checked by set_version")
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .map(|c| c.entry("schemas").or_insert_with(|| json!({})));
    let Some(Value::Object(schemas)) = schemas else {
        return fail("/components", "components must be an object");
    };
    for (ptr, name, schema) in hoisted {
        let taken = schemas
            .get(&name)
            .is_some_and(|existing| *existing != schema)
            || schemas
                .values()
                .any(|s| s.get("x-deck-name").and_then(Value::as_str) == Some(name.as_str()));
        if taken {
            return fail(
                &format!("{ptr}/x-deck-name"),
                format!("the name `{name}` is already taken"),
            );
        }
        schemas.insert(name, schema);
    }
    Ok(())
}

/// Moves every named inline object schema under `value` out, leaving a `$ref`.
fn hoist_named(value: &mut Value, ptr: &str, out: &mut Vec<(String, String, Value)>) {
    match value {
        Value::Object(obj) => {
            let named = obj
                .get("x-deck-name")
                .and_then(Value::as_str)
                .map(String::from);
            let is_string_enum = obj.get("type").and_then(Value::as_str) == Some("string")
                && obj.contains_key("enum");
            if let Some(name) = named.filter(|_| !is_string_enum && !obj.contains_key("$ref")) {
                let mut schema = std::mem::take(obj);
                schema.remove("x-deck-name");
                for (key, child) in schema.iter_mut() {
                    hoist_named(child, &format!("{ptr}/{}", super::escape(key)), out);
                }
                obj.insert("$ref".into(), json!(format!("#/components/schemas/{name}")));
                out.push((ptr.to_string(), name, Value::Object(schema)));
                return;
            }
            for (key, child) in obj.iter_mut() {
                hoist_named(child, &format!("{ptr}/{}", super::escape(key)), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                hoist_named(child, &format!("{ptr}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Rule: a component the overlay marked `x-deck-replaced` (an operation's own copy of a type
/// the overlay points it at instead) is dropped once nothing refers to it. Where Deck's spec
/// already uses the one type there, the mark lands on that type, which is still referred to and
/// stays.
pub fn drop_replaced(doc: &mut Value) -> Result<()> {
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    let marked: Vec<String> = schemas
        .iter()
        .filter(|(_, s)| s.get("x-deck-replaced") == Some(&Value::Bool(true)))
        .map(|(n, _)| n.clone())
        .collect();
    if marked.is_empty() {
        return Ok(());
    }
    let text = doc.to_string();
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("checked above");
    for name in marked {
        let reference = format!("\"#/components/schemas/{}\"", super::escape(&name));
        if text.contains(&reference) {
            if let Some(Value::Object(s)) = schemas.get_mut(&name) {
                s.remove("x-deck-replaced");
            }
        } else {
            schemas.remove(&name);
        }
    }
    Ok(())
}

/// Rule: a component with `x-deck-name: N` (set by the overlay) is renamed `N` and every
/// `$ref` to it follows, so the generated type carries the SDK's name (`TaskRun`, not ASP.NET's
/// `GetTaskRunResponse`). The old name is kept in `x-deck-schema`. A name that is not a Rust type
/// name, or that another component already holds, is refused.
pub fn sdk_names(doc: &mut Value) -> Result<()> {
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    let mut renames: Vec<(String, String)> = Vec::new();
    for (old, schema) in schemas {
        let Some(new) = schema.get("x-deck-name") else {
            // A name that is no Rust type name (`Deck.Contracts.JsonElement`, `Problem-Details`)
            // takes its UpperCamelCase form, so the generator's replacements and rules, which
            // work on type names, find it under the name it generates.
            if !is_type_name(old) {
                let pascal = super::pascal(old);
                if is_type_name(&pascal) && !schemas.contains_key(&pascal) {
                    renames.push((old.clone(), pascal));
                }
            }
            continue;
        };
        let ptr = format!("/components/schemas/{}/x-deck-name", super::escape(old));
        let Some(new) = new.as_str().filter(|n| is_type_name(n)) else {
            return fail(
                &ptr,
                format!("`{new}` is not a Rust type name (UpperCamelCase)"),
            );
        };
        renames.push((old.clone(), new.to_string()));
    }
    for (old, new) in &renames {
        let taken_by_other = schemas.contains_key(new) && !renames.iter().any(|(o, _)| o == new);
        let twice = renames.iter().filter(|(_, n)| n == new).count() > 1;
        if taken_by_other || twice {
            return fail(
                &format!("/components/schemas/{}/x-deck-name", super::escape(old)),
                format!("the name `{new}` is already taken"),
            );
        }
    }
    if renames.is_empty() {
        return Ok(());
    }
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("checked above");
    let mut renamed = Map::new();
    for (name, mut schema) in std::mem::take(schemas) {
        match renames.iter().find(|(old, _)| *old == name) {
            Some((old, new)) => {
                let Some(obj) = schema.as_object_mut() else {
                    return fail(
                        &format!("/components/schemas/{}", super::escape(old)),
                        "a schema must be an object",
                    );
                };
                obj.remove("x-deck-name");
                if old != new {
                    obj.insert("x-deck-schema".into(), json!(old));
                }
                renamed.insert(new.clone(), schema);
            }
            None => {
                renamed.insert(name, schema);
            }
        }
    }
    *schemas = renamed;
    rewrite_refs(doc, &renames);
    Ok(())
}

fn is_type_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

fn rewrite_refs(value: &mut Value, renames: &[(String, String)]) {
    match value {
        Value::Object(obj) => {
            for (key, v) in obj.iter_mut() {
                if key == "$ref"
                    && let Some(reference) = v.as_str()
                {
                    for (old, new) in renames {
                        let prefix = format!("#/components/schemas/{old}");
                        if let Some(rest) = reference.strip_prefix(&prefix)
                            && (rest.is_empty() || rest.starts_with('/'))
                        {
                            *v = json!(format!("#/components/schemas/{new}{rest}"));
                            break;
                        }
                    }
                } else {
                    rewrite_refs(v, renames);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

/// Rule: adds `DeckErrorBody`, the one error body of every operation (see
/// [`super::operation::unify_error_responses`]), when any operation uses it. The generator
/// replaces it with the runtime's lenient error body, so its schema only has to exist.
pub fn add_error_body(doc: &mut Value) -> Result<()> {
    let used = doc.get("paths").is_some_and(|p| {
        p.to_string()
            .contains(&format!("#/components/schemas/{ERROR_BODY}"))
    });
    if !used {
        return Ok(());
    }
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("checked by normalize");
    schemas.insert(
        ERROR_BODY.into(),
        json!({
            "description": "The body of any Deck error (the error envelope, the validation map of a 400, problem details): decoded by `deck::Error`.",
            "type": "object"
        }),
    );
    Ok(())
}

/// Rule: `request_id` is optional in schemas used as page items. Deck's docs say list items carry
/// no `request_id` (the page has one), but `PaginatedResponseOfGetTaskResponse` reuses
/// `GetTaskResponse`, which requires it: taken literally, every `list_tasks` page would fail to
/// decode. Relaxing a required response field never rejects valid data; the field becomes
/// `Option<String>` everywhere the schema is used.
pub fn page_items_request_id_optional(doc: &mut Value) -> Result<()> {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let items: Vec<String> = schemas
        .values()
        .filter(|page| {
            let props = &page["properties"];
            props.get("has_more").is_some() && props.get("next_cursor").is_some()
        })
        .filter_map(|page| page.pointer("/properties/data/items"))
        .filter_map(super::schema_component)
        .map(String::from)
        .collect();
    for name in items {
        if let Some(Value::Array(required)) = schemas
            .get_mut(&name)
            .and_then(|item| item.get_mut("required"))
        {
            required.retain(|field| field != "request_id");
        }
    }
    Ok(())
}

/// Components that constrain nothing (any JSON), by name: the generator uses
/// `serde_json::Value` for them.
pub fn any_components(doc: &Value) -> Vec<String> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, schema)| is_any_schema(schema))
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_webhooks_stand_in_until_the_spec_has_its_own() {
        let mut notes = Vec::new();
        let mut doc = json!({"openapi": "3.1.1", "x-deck-webhooks": {"a.b": {}}});
        overlay_webhooks(&mut doc, &mut notes).unwrap();
        assert_eq!(doc, json!({"openapi": "3.1.1", "webhooks": {"a.b": {}}}));
        // The spec's own entries win; the overlay fills in the event types it lacks.
        let mut doc = json!({"openapi": "3.1.1", "webhooks": {"c.d": {"spec": 1}, "a.b": {"spec": 2}},
                             "x-deck-webhooks": {"a.b": {"overlay": 2}, "e.f": {"overlay": 3}}});
        overlay_webhooks(&mut doc, &mut notes).unwrap();
        assert_eq!(
            doc,
            json!({"openapi": "3.1.1", "webhooks": {"c.d": {"spec": 1}, "a.b": {"spec": 2}, "e.f": {"overlay": 3}}})
        );
        assert!(notes.is_empty(), "{notes:?}");
        let mut doc = json!({"openapi": "3.1.1", "x-deck-webhooks": []});
        assert_eq!(
            overlay_webhooks(&mut doc, &mut notes).unwrap_err().pointer,
            "/x-deck-webhooks"
        );
    }

    #[test]
    fn an_untyped_spec_payload_keeps_the_overlay_s_type() {
        let body = |schema: Value| json!({"post": {"requestBody": {"content": {"application/json": {"schema": schema}}}}});
        let typed = body(json!({"allOf": [{"$ref": "#/components/schemas/Event"}],
            "properties": {"data": {"$ref": "#/components/schemas/Snapshot"}}}));
        let envelope = body(json!({"$ref": "#/components/schemas/Event"}));
        let spec_typed =
            body(json!({"properties": {"data": {"$ref": "#/components/schemas/RunData"}}}));
        let components = json!({"schemas": {
            "Event": {"type": "object", "properties": {"data": {"description": "any",
                "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/JsonElement"}]}}},
            "JsonElement": {"description": "Arbitrary JSON value."},
            "Snapshot": {"type": "object"}, "RunData": {"type": "object"}}});
        // The spec declares `run.done` with the bare envelope: the overlay's typed payload stays,
        // and the family keeps the overlay's payloads too.
        let mut notes = Vec::new();
        let mut doc = json!({"openapi": "3.1.1", "components": components,
            "webhooks": {"run.done": envelope.clone()},
            "x-deck-webhooks": {"run.done": typed.clone(), "run.failed": typed.clone()}});
        overlay_webhooks(&mut doc, &mut notes).unwrap();
        assert_eq!(doc["webhooks"]["run.done"], typed);
        assert_eq!(doc["webhooks"]["run.failed"], typed);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("`run.done`"), "{notes:?}");
        // A payload that types `data` wins, for its event and its family.
        let mut notes = Vec::new();
        let mut doc = json!({"openapi": "3.1.1", "components": components,
            "webhooks": {"run.done": spec_typed.clone()},
            "x-deck-webhooks": {"run.done": typed.clone(), "run.failed": typed.clone()}});
        overlay_webhooks(&mut doc, &mut notes).unwrap();
        assert_eq!(doc["webhooks"]["run.done"], spec_typed);
        assert_eq!(doc["webhooks"]["run.failed"], spec_typed);
        assert!(notes.is_empty(), "{notes:?}");
        // So does a payload that is a resource itself (no `data` member).
        let resource = body(json!({"$ref": "#/components/schemas/RunData"}));
        let mut doc = json!({"openapi": "3.1.1", "components": components,
            "webhooks": {"run.done": resource.clone()},
            "x-deck-webhooks": {"run.done": typed.clone(), "run.failed": typed}});
        overlay_webhooks(&mut doc, &mut notes).unwrap();
        assert_eq!(doc["webhooks"]["run.failed"], resource);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn set_version_accepts_31_and_refuses_others() {
        let mut doc = json!({"openapi": "3.1.1"});
        set_version(&mut doc).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        let err = set_version(&mut json!({"openapi": "3.0.3"})).unwrap_err();
        assert!(err.message.contains("expected an OpenAPI 3.1"), "{err}");
    }

    #[test]
    fn move_31_top_level_keeps_members_under_x_names() {
        let mut doc = json!({
            "openapi": "3.1.1",
            "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
            "webhooks": {"run.completed": {}},
            "info": {"title": "t", "version": "1", "license": {"name": "MIT", "identifier": "MIT"}}
        });
        move_31_top_level(&mut doc).unwrap();
        assert!(doc.get("webhooks").is_none() && doc.get("jsonSchemaDialect").is_none());
        assert_eq!(doc["x-webhooks"], json!({"run.completed": {}}));
        assert_eq!(
            doc["info"]["license"],
            json!({"name": "MIT", "x-identifier": "MIT"})
        );
        let mut bad = json!({"openapi": "3.1.1", "components": {"pathItems": {}}});
        assert!(move_31_top_level(&mut bad).is_err());
    }

    #[test]
    fn sdk_names_rename_components_and_their_references() {
        let mut doc = json!({
            "paths": {"/r": {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/GetRunResponse"}}}}}}}},
            "components": {"schemas": {
                "GetRunResponse": {"type": "object", "x-deck-name": "Run",
                    "properties": {"errors": {"items": {"$ref": "#/components/schemas/RunError"}}}},
                "RunError": {"type": "object", "x-deck-name": "ErrorDetail"},
                "GetRunResponseX": {"$ref": "#/components/schemas/GetRunResponseX"}
            }}
        });
        sdk_names(&mut doc).unwrap();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["Run"]["x-deck-schema"], "GetRunResponse");
        assert!(schemas["Run"].get("x-deck-name").is_none());
        assert!(schemas.get("GetRunResponse").is_none());
        assert_eq!(
            schemas["Run"]["properties"]["errors"]["items"]["$ref"],
            "#/components/schemas/ErrorDetail"
        );
        assert_eq!(
            doc.pointer("/paths/~1r/get/responses/200/content/application~1json/schema/$ref"),
            Some(&json!("#/components/schemas/Run"))
        );
        // A name sharing a prefix is not touched.
        assert_eq!(
            schemas["GetRunResponseX"]["$ref"],
            "#/components/schemas/GetRunResponseX"
        );

        let mut taken = json!({"components": {"schemas": {
            "A": {"x-deck-name": "B"}, "B": {}
        }}});
        let err = sdk_names(&mut taken).unwrap_err();
        assert!(err.message.contains("already taken"), "{err}");
        assert_eq!(err.pointer, "/components/schemas/A/x-deck-name");
        let mut bad = json!({"components": {"schemas": {"A": {"x-deck-name": "not a name"}}}});
        assert!(sdk_names(&mut bad).is_err());
        // Swapping names through a rename chain is allowed.
        let mut chain = json!({"components": {"schemas": {
            "A": {"x-deck-name": "B"}, "B": {"x-deck-name": "C"}
        }}});
        sdk_names(&mut chain).unwrap();
        assert_eq!(chain["components"]["schemas"]["B"]["x-deck-schema"], "A");
    }

    #[test]
    fn inline_sdk_names_hoist_named_inline_objects() {
        let mut doc = json!({"openapi": "3.0.3",
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {"schema":
                {"x-deck-name": "Agent", "type": "object", "properties": {
                    "site": {"x-deck-name": "Website", "type": "object"},
                    "kind": {"x-deck-name": "AgentKind", "type": "string", "enum": ["a"]}}}}}}}}}},
            "components": {"schemas": {"Page": {"properties": {"data": {"items": {"x-deck-name": "Item", "type": "object"}}}}}}
        });
        inline_sdk_names(&mut doc).unwrap();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            doc.pointer("/paths/~1a/get/responses/200/content/application~1json/schema"),
            Some(&json!({"$ref": "#/components/schemas/Agent"}))
        );
        assert_eq!(
            schemas["Agent"]["properties"]["site"],
            json!({"$ref": "#/components/schemas/Website"})
        );
        assert_eq!(
            schemas["Agent"]["properties"]["kind"]["x-deck-name"],
            "AgentKind"
        );
        assert_eq!(schemas["Website"], json!({"type": "object"}));
        assert_eq!(
            schemas["Page"]["properties"]["data"]["items"],
            json!({"$ref": "#/components/schemas/Item"})
        );
        let mut taken = json!({"openapi": "3.0.3", "paths": {"/a": {"get": {"x": {"x-deck-name": "A", "type": "object"}}}},
                               "components": {"schemas": {"A": {"type": "string"}}}});
        assert!(
            inline_sdk_names(&mut taken)
                .unwrap_err()
                .message
                .contains("already taken")
        );
    }

    #[test]
    fn replaced_components_go_once_unreferenced() {
        let mut doc = json!({"paths": {"/a": {"get": {"x": {"$ref": "#/components/schemas/Kept"}}}},
            "components": {"schemas": {"Kept": {"x-deck-replaced": true}, "Gone": {"x-deck-replaced": true}, "Other": {}}}});
        drop_replaced(&mut doc).unwrap();
        assert_eq!(
            doc["components"]["schemas"],
            json!({"Kept": {}, "Other": {}})
        );
    }

    #[test]
    fn add_error_body_adds_the_one_error_body_when_used() {
        let mut doc = json!({
            "paths": {"/x": {"get": {"responses": {"404": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeckErrorBody"}}}}}}}},
            "components": {"schemas": {}}
        });
        add_error_body(&mut doc).unwrap();
        assert_eq!(doc["components"]["schemas"][ERROR_BODY]["type"], "object");
        let mut unused = json!({"paths": {}, "components": {"schemas": {}}});
        add_error_body(&mut unused).unwrap();
        assert_eq!(unused["components"]["schemas"], json!({}));
    }

    #[test]
    fn page_items_request_id_becomes_optional() {
        let mut doc = json!({"components": {"schemas": {
            "Page": {"properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                                     "has_more": {}, "next_cursor": {}}},
            "Task": {"required": ["id", "request_id"]},
            "Single": {"required": ["id", "request_id"]}
        }}});
        page_items_request_id_optional(&mut doc).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["Task"]["required"],
            json!(["id"])
        );
        assert_eq!(
            doc["components"]["schemas"]["Single"]["required"],
            json!(["id", "request_id"])
        );
    }

    #[test]
    fn any_components_are_listed() {
        let doc = json!({"components": {"schemas": {
            "JsonElement": {"description": "Arbitrary JSON value."},
            "Plain": {"type": "object"}
        }}});
        assert_eq!(any_components(&doc), vec!["JsonElement".to_string()]);
    }
}
