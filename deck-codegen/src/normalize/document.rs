//! Rules on the document as a whole: version, 3.1-only members, component names, and the
//! components Deck's shapes need.

use super::{ERROR_BODY, Result, fail, is_any_schema};
use serde_json::{Map, Value, json};

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

/// Rule: the overlay's webhooks (`x-deck-webhooks`, what Deck documents in prose) stand in for
/// the spec's `webhooks` section while Deck's spec has none; once it has one, the spec's wins
/// whole and the overlay's is dropped (merging the two would mix payload shapes).
pub fn overlay_webhooks(doc: &mut Value) -> Result<()> {
    let obj = doc.as_object_mut().expect("checked by set_version");
    if let Some(hooks) = obj.remove("x-deck-webhooks")
        && !obj.contains_key("webhooks")
    {
        if !hooks.is_object() {
            return fail(
                "/x-deck-webhooks",
                "expected an object of webhooks by event type",
            );
        }
        obj.insert("webhooks".into(), hooks);
    }
    Ok(())
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
                let obj = schema.as_object_mut().expect("has x-deck-name");
                obj.remove("x-deck-name");
                obj.insert("x-deck-schema".into(), json!(old));
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

/// The two error schemas Deck declares, by whatever name the overlay gave them: the envelope
/// (`{errors: [..], request_id}`) and ASP.NET's validation map (400).
pub const KNOWN_ERROR_SCHEMAS: &[&str] = &["ErrorResponse", "ValidationErrorResponse"];

/// The current name of one of Deck's error schemas (its own, or the SDK name it was renamed to).
pub fn error_schema_name<'a>(schemas: &'a Map<String, Value>, deck_name: &str) -> Option<&'a str> {
    schemas.iter().find_map(|(name, schema)| {
        let original = schema
            .get("x-deck-schema")
            .and_then(Value::as_str)
            .unwrap_or(name);
        (original == deck_name).then_some(name.as_str())
    })
}

/// Rule: adds `DeckErrorBody`, the union of Deck's two error schemas, when any operation uses it
/// (see [`super::operation::unify_error_responses`]).
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
    let mut branches = Vec::new();
    for deck_name in KNOWN_ERROR_SCHEMAS {
        let Some(name) = error_schema_name(schemas, deck_name) else {
            return fail(
                "/components/schemas",
                format!("`{deck_name}` is referenced by error responses but not defined"),
            );
        };
        branches.push(super::schema_ref(name));
    }
    schemas.insert(
        ERROR_BODY.into(),
        json!({
            "description": "The body of any Deck error: the error envelope, or the validation map of a 400.",
            "oneOf": branches
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
        .filter_map(|page| page.pointer("/properties/data/items/$ref")?.as_str())
        .filter_map(super::component_ref)
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
        let mut doc = json!({"openapi": "3.1.1", "x-deck-webhooks": {"a.b": {}}});
        overlay_webhooks(&mut doc).unwrap();
        assert_eq!(doc, json!({"openapi": "3.1.1", "webhooks": {"a.b": {}}}));
        let mut doc =
            json!({"openapi": "3.1.1", "webhooks": {"c.d": {}}, "x-deck-webhooks": {"a.b": {}}});
        overlay_webhooks(&mut doc).unwrap();
        assert_eq!(doc, json!({"openapi": "3.1.1", "webhooks": {"c.d": {}}}));
        let mut doc = json!({"openapi": "3.1.1", "x-deck-webhooks": []});
        assert_eq!(
            overlay_webhooks(&mut doc).unwrap_err().pointer,
            "/x-deck-webhooks"
        );
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
    fn add_error_body_unions_the_two_error_schemas() {
        let mut doc = json!({
            "paths": {"/x": {"get": {"responses": {"404": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeckErrorBody"}}}}}}}},
            "components": {"schemas": {
                "ErrorEnvelope": {"x-deck-schema": "ErrorResponse"},
                "ValidationErrorResponse": {}
            }}
        });
        add_error_body(&mut doc).unwrap();
        assert_eq!(
            doc["components"]["schemas"][ERROR_BODY]["oneOf"],
            json!([
                {"$ref": "#/components/schemas/ErrorEnvelope"},
                {"$ref": "#/components/schemas/ValidationErrorResponse"}
            ])
        );
        doc["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("ErrorEnvelope");
        assert!(add_error_body(&mut doc).is_err());
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
