//! Rules on single schemas: JSON Schema 2020-12 constructs with a 3.0 form, and Deck's numbers
//! and enums.

use super::{Ctx, DIGITS_PATTERN, Result, component_ref, fail, schema_ref};
use serde_json::{Map, Value, json};

/// Schema keywords that mean the same in OpenAPI 3.0.3; anything else (bar `x-`) is an error.
const SCHEMA_KEYWORDS_30: &[&str] = &[
    "$ref",
    "type",
    "format",
    "nullable",
    "enum",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "description",
    "title",
    "default",
    "example",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "readOnly",
    "writeOnly",
    "deprecated",
    "discriminator",
    "xml",
    "externalDocs",
];

/// Rule: where the overlay typed a field with one of its enums (`$ref` merged in) and Deck's spec
/// declares an `enum` there itself, the spec's values win: every value it lists joins the
/// overlay's enum component (see [`apply_enum_additions`]), which keeps the values and names the
/// spec lacks, and the field is the component. Without this the two would have to intersect.
pub fn spec_enum_beside_ref(schema: &mut Value, ptr: &str, ctx: &mut Ctx) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    let Some(name) = obj
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(component_ref)
        .map(String::from)
    else {
        return Ok(());
    };
    let Some(Value::Array(values)) = obj.get("enum") else {
        return Ok(());
    };
    if !values.iter().all(|v| v.is_string() || v.is_null()) {
        return fail(ptr, "an enum beside a reference with non-string values");
    }
    let values: Vec<Value> = values.iter().filter(|v| v.is_string()).cloned().collect();
    let additions = ctx.enum_additions.entry(name).or_default();
    for v in values {
        if !additions.contains(&v) {
            additions.push(v);
        }
    }
    obj.remove("enum");
    if obj.get("type").and_then(Value::as_str) == Some("string") {
        obj.remove("type");
    }
    Ok(())
}

/// Adds the values [`spec_enum_beside_ref`] collected to their enum components: those the
/// component does not list already (as a value or as an alias of one).
pub fn apply_enum_additions(
    doc: &mut Value,
    additions: &std::collections::BTreeMap<String, Vec<Value>>,
) {
    for (name, values) in additions {
        let Some(component) = doc
            .pointer_mut(&format!("/components/schemas/{}", super::escape(name)))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let aliases: Vec<String> = component
            .get("x-deck-aliases")
            .and_then(Value::as_object)
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default();
        let Some(Value::Array(existing)) = component.get_mut("enum") else {
            continue;
        };
        let mut added = 0;
        for v in values {
            let alias = v.as_str().is_some_and(|s| aliases.iter().any(|a| a == s));
            if !existing.contains(v) && !alias {
                existing.push(v.clone());
                added += 1;
            }
        }
        // `x-enum-varnames` is parallel to `enum`: the new values are named automatically.
        if let Some(Value::Array(names)) = component.get_mut("x-enum-varnames") {
            names.extend(std::iter::repeat_n(Value::Null, added));
        }
    }
}

/// Rule: a 3.1 `$ref` with siblings (`description`, `nullable`, …) becomes `allOf: [$ref]` plus
/// the siblings, because 3.0 ignores siblings of `$ref` (a `nullable` sibling would silently make a
/// required-nullable field non-optional).
pub fn ref_siblings_to_all_of(schema: &mut Value, _ptr: &str) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    if obj.len() > 1
        && let Some(reference) = obj.remove("$ref")
    {
        obj.insert("allOf".into(), json!([{ "$ref": reference }]));
    }
    Ok(())
}

/// Rule: `const: v` becomes `enum: [v]` (3.0 has no `const`; a dropped `const` loses the
/// constraint), falsy values included.
pub fn const_to_enum(schema: &mut Value, ptr: &str) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    if let Some(value) = obj.remove("const") {
        if let Some(existing) = obj.get("enum")
            && !existing
                .as_array()
                .is_some_and(|values| values.contains(&value))
        {
            return fail(ptr, "`const` contradicts `enum`");
        }
        obj.insert("enum".into(), json!([value]));
    }
    Ok(())
}

/// Rule: a schema's `examples: [..]` (3.1) becomes `example` (its first element).
pub fn examples_to_example(schema: &mut Value, ptr: &str) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    if let Some(examples) = obj.remove("examples") {
        let Some(list) = examples.as_array() else {
            return fail(ptr, "schema `examples` must be a list");
        };
        if let Some(first) = list.first() {
            obj.entry("example").or_insert_with(|| first.clone());
        }
    }
    Ok(())
}

/// Rule: numeric `exclusiveMinimum: n` / `exclusiveMaximum: n` (3.1) become
/// `minimum: n, exclusiveMinimum: true` (3.0); the boolean form passes through.
pub fn numeric_exclusive_bounds(schema: &mut Value, ptr: &str) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    for (exclusive, inclusive) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match obj.get(exclusive) {
            Some(Value::Number(n)) => {
                let n = n.clone();
                if obj.contains_key(inclusive) {
                    return fail(
                        ptr,
                        format!("both `{exclusive}` (numeric) and `{inclusive}` are set"),
                    );
                }
                obj.insert(inclusive.into(), Value::Number(n));
                obj.insert(exclusive.into(), json!(true));
            }
            Some(Value::Bool(_)) | None => {}
            Some(_) => return fail(ptr, format!("`{exclusive}` must be a number")),
        }
    }
    Ok(())
}

/// Rule: `type` arrays. `['null', T]` → `T` + `nullable`. `[integer, string]` with ASP.NET's
/// digits pattern → a plain `integer` marked `x-deck-int-or-string` (the public type is `i32` /
/// `i64`; the generator makes it decode `123` and `"123"` alike); with `'null'` too, the same,
/// nullable. Any other combination is refused.
pub fn type_arrays(schema: &mut Value, ptr: &str) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    let Some(Value::Array(types)) = obj.get("type") else {
        if obj.get("type").and_then(Value::as_str) == Some("null") {
            return fail(ptr, "`type: null` outside a union has no OpenAPI 3.0 form");
        }
        return Ok(());
    };
    let mut names: Vec<&str> = Vec::new();
    for t in types {
        match t.as_str() {
            Some(name) if !names.contains(&name) => names.push(name),
            Some(_) => {}
            None => return fail(ptr, "`type` entries must be strings"),
        }
    }
    let nullable = names.contains(&"null");
    names.retain(|t| *t != "null");
    match names.as_slice() {
        [single] => {
            obj.insert("type".into(), json!(single));
            if nullable {
                obj.insert("nullable".into(), json!(true));
                strip_null_from_enum(obj);
            }
        }
        [a, b] if is_int_or_string(a, b) => {
            match obj.get("pattern").and_then(Value::as_str) {
                Some(DIGITS_PATTERN) | None => {}
                Some(other) => {
                    return fail(
                        ptr,
                        format!("[integer, string] with pattern `{other}`, not the digits pattern"),
                    );
                }
            }
            let format = match obj.get("format").and_then(Value::as_str) {
                Some("int32") => "int32",
                Some("int64") | None => "int64",
                Some(other) => {
                    return fail(ptr, format!("[integer, string] with format `{other}`"));
                }
            };
            obj.remove("pattern");
            obj.insert("type".into(), json!("integer"));
            obj.insert("format".into(), json!(format));
            obj.insert("x-deck-int-or-string".into(), json!(true));
            if nullable {
                obj.insert("nullable".into(), json!(true));
            }
        }
        [] => return fail(ptr, "`type: [null]` has no OpenAPI 3.0 form"),
        other => {
            return fail(
                ptr,
                format!(
                    "type union {other:?} is not understood (only [T, null] and [integer, string])"
                ),
            );
        }
    }
    Ok(())
}

fn is_int_or_string(a: &str, b: &str) -> bool {
    matches!((a, b), ("integer", "string") | ("string", "integer"))
}

fn strip_null_from_enum(obj: &mut Map<String, Value>) {
    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
}

/// Rule: `oneOf`/`anyOf` with a `{type: 'null'}` branch → the other branch + `nullable: true`.
/// A single `$ref` branch becomes `allOf: [$ref]` so the nullability survives (progenitor ignores
/// `nullable` beside a bare `$ref`, and panics on `type: null`).
pub fn null_branches(schema: &mut Value, ptr: &str) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(branches)) = obj.get(key) else {
            continue;
        };
        let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
        if !branches.iter().any(is_null) {
            continue;
        }
        if let Some(b) = branches
            .iter()
            .find(|b| is_null(b) && b.as_object().is_some_and(|o| o.len() > 1))
        {
            return fail(ptr, format!("a null branch with other keywords: {b}"));
        }
        let rest: Vec<Value> = branches.iter().filter(|b| !is_null(b)).cloned().collect();
        obj.remove(key);
        obj.insert("nullable".into(), json!(true));
        match rest.as_slice() {
            [] => return fail(ptr, format!("`{key}` holds only the null branch")),
            [single]
                if single.get("$ref").is_some()
                    && single.as_object().is_some_and(|o| o.len() == 1) =>
            {
                if obj.contains_key("allOf") {
                    return fail(ptr, format!("`{key}` with a null branch beside `allOf`"));
                }
                obj.insert("allOf".into(), json!([single]));
            }
            [single] => {
                let Some(branch) = single.as_object() else {
                    return fail(ptr, format!("a `{key}` branch that is not a schema object"));
                };
                for (k, v) in branch.clone() {
                    if obj.contains_key(&k) {
                        return fail(ptr, format!("`{k}` set both beside and inside `{key}`"));
                    }
                    obj.insert(k, v);
                }
            }
            many => {
                obj.insert(key.into(), Value::Array(many.to_vec()));
            }
        }
    }
    Ok(())
}

/// Rule: a `type` beside `allOf: [$ref]` that the referenced component declares too is dropped.
/// This is what an overlay produces when it types a plain field by merging a `$ref` into it
/// (`{type: string, $ref: RunStatus}`, valid 3.1); 3.0 generators would see two schemas to
/// intersect. A `type` the component contradicts, or a component without a declared type, is
/// refused.
pub fn redundant_type_beside_ref(schema: &mut Value, ptr: &str, ctx: &Ctx) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    let Some(Value::String(ty)) = obj.get("type") else {
        return Ok(());
    };
    let Some(Value::Array(all)) = obj.get("allOf") else {
        return Ok(());
    };
    let [single] = all.as_slice() else {
        return Ok(());
    };
    let Some(name) = single
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(component_ref)
    else {
        return Ok(());
    };
    // `type: object` with properties beside a base reference is composition, not redundancy.
    if ["properties", "items", "enum", "additionalProperties"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        return Ok(());
    }
    match ctx.component_types.get(name) {
        Some(Some(declared)) if declared == ty => {
            obj.remove("type");
            Ok(())
        }
        Some(Some(declared)) => fail(
            ptr,
            format!("`type: {ty}` beside a reference to `{name}`, which is `{declared}`"),
        ),
        _ => fail(
            ptr,
            format!("`type: {ty}` beside a reference to `{name}`, which declares no type"),
        ),
    }
}

/// Rule: a string the overlay marks as a resource id (`x-deck-id: TaskRunId`, by position: the
/// run's `id`, every `run_id`) becomes a reference to an id component of that name (created here,
/// `x-deck-id: true`), which the generator emits as a typed id (`deck::types::TaskRunId`). A mark
/// on something that is not a string is left unapplied and noted.
pub fn resource_ids(schema: &mut Value, ptr: &str, ctx: &mut Ctx) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    let Some(mark) = obj.remove("x-deck-id") else {
        return Ok(());
    };
    let Some(name) = mark.as_str().map(String::from) else {
        return fail(&format!("{ptr}/x-deck-id"), "expected the id type's name");
    };
    // A list of ids (`source_id[]`): the mark is for its items, typed when the walk reaches them.
    if obj.get("type").and_then(Value::as_str) == Some("array")
        && let Some(Value::Object(items)) = obj.get_mut("items")
    {
        items.insert("x-deck-id".into(), mark);
        return Ok(());
    }
    let plain_string = obj.get("type").and_then(Value::as_str) == Some("string")
        && ![
            "enum", "format", "pattern", "$ref", "allOf", "oneOf", "anyOf",
        ]
        .iter()
        .any(|k| obj.contains_key(*k));
    if !plain_string {
        ctx.notes.push(format!(
            "resource id `{name}` not applied at {ptr}: not a plain string there"
        ));
        return Ok(());
    }
    let description = format!(
        "The id of a Deck resource, as Deck sends it (no format is assumed: Deck says id length \
         and format may change). `{name}` converts from strings but not from other kinds of ids."
    );
    ctx.add(
        ptr,
        &name,
        json!({"type": "string", "description": description, "x-deck-id": true}),
    )?;
    obj.remove("type");
    obj.remove("minLength");
    obj.remove("maxLength");
    let nullable = obj.remove("nullable") == Some(Value::Bool(true));
    if nullable || obj.keys().any(|k| !k.starts_with("x-")) {
        obj.insert("allOf".into(), json!([schema_ref(&name)]));
        if nullable {
            obj.insert("nullable".into(), json!(true));
        }
    } else {
        obj.insert("$ref".into(), json!(format!("#/components/schemas/{name}")));
    }
    Ok(())
}

/// Rule: every string enum is open. Inline enums move to a named component (named by the
/// overlay's `x-deck-name`, else after where they sit, e.g. `TaskRunStorageItemPurpose`) and
/// every string-enum component gets `x-deck-open-enum: true`; the generator replaces those with
/// enums that keep unknown values in an `Unknown(String)` variant instead of failing the whole
/// response. An `x-deck-name` on an inline schema that is not a string enum is refused (the
/// generator could not honour it).
pub fn open_string_enums(schema: &mut Value, ptr: &str, hint: &str, ctx: &mut Ctx) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    let is_string_enum = obj.get("type").and_then(Value::as_str) == Some("string")
        && matches!(obj.get("enum"), Some(Value::Array(_)));
    let name = match obj.get("x-deck-name") {
        Some(Value::String(n)) if is_string_enum => n.clone(),
        Some(_) => {
            return fail(
                ptr,
                "`x-deck-name` on an inline schema names only string enums (name components instead)",
            );
        }
        None => hint.to_string(),
    };
    if !is_string_enum {
        return Ok(());
    }
    let Some(Value::Array(values)) = obj.get("enum") else {
        return Ok(());
    };
    if !values.iter().all(Value::is_string) {
        return fail(ptr, "a string enum with non-string values");
    }
    if is_component_root(ptr) {
        obj.insert("x-deck-open-enum".into(), json!(true));
        return Ok(());
    }
    let mut component = Map::new();
    for (key, value) in obj.iter() {
        let keep = matches!(key.as_str(), "type" | "enum" | "description")
            || (key.starts_with("x-") && key != "x-deck-name");
        if keep {
            component.insert(key.clone(), value.clone());
        }
    }
    component.insert("x-deck-open-enum".into(), json!(true));
    ctx.add(ptr, &name, Value::Object(component))?;
    obj.retain(|key, _| !(key == "type" || key == "enum" || key.starts_with("x-")));
    obj.insert("allOf".into(), json!([schema_ref(&name)]));
    Ok(())
}

fn is_component_root(ptr: &str) -> bool {
    ptr.strip_prefix("/components/schemas/")
        .is_some_and(|rest| !rest.contains('/'))
}

/// Rule: after the rewrites above, only OpenAPI 3.0 schema keywords (and `x-` extensions) may
/// remain; `if`/`then`/`else`, `prefixItems`, `$defs`, `unevaluatedProperties`, … are refused.
pub fn check_keywords(schema: &mut Value, ptr: &str) -> Result<()> {
    let obj = schema.as_object().expect("schema object");
    for key in obj.keys() {
        if !SCHEMA_KEYWORDS_30.contains(&key.as_str()) && !key.starts_with("x-") {
            return fail(ptr, format!("schema keyword `{key}` is not understood"));
        }
    }
    // A constraint needs a type to constrain: progenitor cannot generate `{format: int32,
    // maximum: 100}` without one (it stops on it), and guessing would decide the Rust type.
    const TYPED_ONLY: &[&str] = &[
        "format",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
    ];
    let shaped = [
        "type",
        "$ref",
        "allOf",
        "oneOf",
        "anyOf",
        "not",
        "enum",
        "properties",
        "items",
    ]
    .iter()
    .any(|k| obj.contains_key(*k));
    if !shaped && let Some(k) = TYPED_ONLY.iter().find(|k| obj.contains_key(**k)) {
        return fail(ptr, format!("`{k}` on a schema without a `type`"));
    }
    if let Some(t) = obj.get("type")
        && !matches!(
            t.as_str(),
            Some("string" | "integer" | "number" | "boolean" | "array" | "object")
        )
    {
        return fail(ptr, format!("`type: {t}` is not an OpenAPI 3.0 type"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_spec_enum_beside_an_overlay_enum_joins_it() {
        let mut ctx = Ctx::default();
        let mut s = json!({"type": "string", "enum": ["queued", "paused", null], "$ref": "#/components/schemas/RunStatus"});
        spec_enum_beside_ref(&mut s, "", &mut ctx).unwrap();
        assert_eq!(s, json!({"$ref": "#/components/schemas/RunStatus"}));
        let mut doc = json!({"components": {"schemas": {"RunStatus": {"type": "string", "enum": ["queued", "canceling"],
            "x-enum-varnames": ["Queued", "Canceling"], "x-deck-aliases": {"cancelling": "canceling"}}}}});
        ctx.enum_additions
            .get_mut("RunStatus")
            .unwrap()
            .push(json!("cancelling"));
        apply_enum_additions(&mut doc, &ctx.enum_additions);
        let run_status = &doc["components"]["schemas"]["RunStatus"];
        assert_eq!(run_status["enum"], json!(["queued", "canceling", "paused"]));
        assert_eq!(
            run_status["x-enum-varnames"],
            json!(["Queued", "Canceling", null])
        );
    }

    #[test]
    fn marked_strings_become_resource_ids() {
        let mut ctx = Ctx::default();
        let mut id = json!({"type": "string", "x-deck-id": "TaskRunId"});
        resource_ids(&mut id, "/a", &mut ctx).unwrap();
        assert_eq!(id, json!({"$ref": "#/components/schemas/TaskRunId"}));
        let mut nullable = json!({"type": "string", "nullable": true, "description": "d", "x-deck-id": "TaskRunId"});
        resource_ids(&mut nullable, "/b", &mut ctx).unwrap();
        assert_eq!(
            nullable,
            json!({"description": "d", "allOf": [{"$ref": "#/components/schemas/TaskRunId"}], "nullable": true})
        );
        assert_eq!(ctx.new_components["TaskRunId"]["x-deck-id"], true);
        let mut list =
            json!({"type": "array", "items": {"type": "string"}, "x-deck-id": "SourceId"});
        resource_ids(&mut list, "/l", &mut ctx).unwrap();
        assert_eq!(
            list,
            json!({"type": "array", "items": {"type": "string", "x-deck-id": "SourceId"}})
        );
        let mut number = json!({"type": "integer", "x-deck-id": "TaskRunId"});
        resource_ids(&mut number, "/c", &mut ctx).unwrap();
        assert_eq!(number, json!({"type": "integer"}));
        assert_eq!(ctx.notes.len(), 1);
    }

    #[test]
    fn constraints_without_a_type_are_refused() {
        let mut untyped = json!({"format": "int32", "maximum": 100});
        let err = check_keywords(&mut untyped, "/p").unwrap_err();
        assert_eq!(err.pointer, "/p");
        assert!(err.message.contains("without a `type`"), "{err}");
        check_keywords(&mut json!({"type": "integer", "format": "int32"}), "").unwrap();
        check_keywords(&mut json!({"description": "any"}), "").unwrap();
    }

    #[test]
    fn ref_siblings_become_all_of() {
        let mut s = json!({"$ref": "#/components/schemas/A", "description": "d", "nullable": true});
        ref_siblings_to_all_of(&mut s, "").unwrap();
        assert_eq!(
            s,
            json!({"allOf": [{"$ref": "#/components/schemas/A"}], "description": "d", "nullable": true})
        );
        let mut bare = json!({"$ref": "#/components/schemas/A"});
        ref_siblings_to_all_of(&mut bare, "").unwrap();
        assert_eq!(bare, json!({"$ref": "#/components/schemas/A"}));
    }

    #[test]
    fn const_becomes_one_value_enum_including_falsy_values() {
        for value in [json!("deck"), json!(false), json!(0)] {
            let mut s = json!({"const": value.clone()});
            const_to_enum(&mut s, "").unwrap();
            assert_eq!(s, json!({"enum": [value]}));
        }
        let mut contradiction = json!({"const": "a", "enum": ["b"]});
        assert!(const_to_enum(&mut contradiction, "").is_err());
    }

    #[test]
    fn examples_become_example() {
        let mut s = json!({"type": "string", "examples": ["a", "b"]});
        examples_to_example(&mut s, "").unwrap();
        assert_eq!(s, json!({"type": "string", "example": "a"}));
    }

    #[test]
    fn numeric_exclusive_bounds_become_30_form() {
        let mut s = json!({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10});
        numeric_exclusive_bounds(&mut s, "").unwrap();
        assert_eq!(
            s,
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": true})
        );
        let mut both = json!({"exclusiveMinimum": 0, "minimum": 1});
        assert!(numeric_exclusive_bounds(&mut both, "").is_err());
    }

    #[test]
    fn type_arrays_become_nullable_or_plain_integers() {
        let mut s = json!({"type": ["null", "string"], "description": "d"});
        type_arrays(&mut s, "/x").unwrap();
        assert_eq!(
            s,
            json!({"type": "string", "nullable": true, "description": "d"})
        );

        let mut n =
            json!({"type": ["integer", "string"], "pattern": DIGITS_PATTERN, "format": "int64"});
        type_arrays(&mut n, "/x").unwrap();
        assert_eq!(
            n,
            json!({"type": "integer", "format": "int64", "x-deck-int-or-string": true})
        );

        let mut nn = json!({"type": ["null", "integer", "string"], "pattern": DIGITS_PATTERN,
                            "format": "int32", "maximum": 100});
        type_arrays(&mut nn, "/x").unwrap();
        assert_eq!(
            nn,
            json!({"type": "integer", "format": "int32", "x-deck-int-or-string": true,
                   "nullable": true, "maximum": 100})
        );

        let mut odd = json!({"type": ["boolean", "string"]});
        assert!(type_arrays(&mut odd, "/x").is_err());
        let mut other_pattern = json!({"type": ["integer", "string"], "pattern": "^[0-9a-f]+$"});
        assert!(type_arrays(&mut other_pattern, "/x").is_err());
        let mut float = json!({"type": ["integer", "string"], "format": "double"});
        assert!(type_arrays(&mut float, "/x").is_err());
    }

    #[test]
    fn null_branches_become_nullable() {
        let mut r = json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/J"}], "description": "d"});
        null_branches(&mut r, "").unwrap();
        assert_eq!(
            r,
            json!({"allOf": [{"$ref": "#/components/schemas/J"}], "nullable": true, "description": "d"})
        );
        let mut inline = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
        null_branches(&mut inline, "").unwrap();
        assert_eq!(inline, json!({"type": "string", "nullable": true}));
        let mut many =
            json!({"oneOf": [{"type": "null"}, {"type": "string"}, {"type": "integer"}]});
        null_branches(&mut many, "").unwrap();
        assert_eq!(
            many,
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
        );
        let mut only_null = json!({"oneOf": [{"type": "null"}]});
        assert!(null_branches(&mut only_null, "").is_err());
    }

    fn ctx_with(types: &[(&str, Option<&str>)]) -> Ctx {
        Ctx {
            component_types: types
                .iter()
                .map(|(n, t)| (n.to_string(), t.map(String::from)))
                .collect::<BTreeMap<_, _>>(),
            ..Ctx::default()
        }
    }

    #[test]
    fn a_type_the_referenced_component_declares_is_dropped() {
        let ctx = ctx_with(&[("RunStatus", Some("string")), ("Any", None)]);
        let mut s = json!({"allOf": [{"$ref": "#/components/schemas/RunStatus"}], "type": "string", "nullable": true});
        redundant_type_beside_ref(&mut s, "/p", &ctx).unwrap();
        assert_eq!(
            s,
            json!({"allOf": [{"$ref": "#/components/schemas/RunStatus"}], "nullable": true})
        );
        let mut contradiction =
            json!({"allOf": [{"$ref": "#/components/schemas/RunStatus"}], "type": "integer"});
        let err = redundant_type_beside_ref(&mut contradiction, "/p", &ctx).unwrap_err();
        assert_eq!(err.pointer, "/p");
        let mut untyped =
            json!({"allOf": [{"$ref": "#/components/schemas/Any"}], "type": "object"});
        assert!(redundant_type_beside_ref(&mut untyped, "/p", &ctx).is_err());
        // Composition (a base plus own properties) is left alone.
        let mut composed = json!({"allOf": [{"$ref": "#/components/schemas/Any"}], "type": "object",
                                  "properties": {"a": {}}});
        let before = composed.clone();
        redundant_type_beside_ref(&mut composed, "/p", &ctx).unwrap();
        assert_eq!(composed, before);
    }

    #[test]
    fn open_string_enums_are_hoisted_and_marked() {
        let mut ctx = Ctx::default();
        let mut inline = json!({"type": "string", "enum": ["a", "b"], "description": "d"});
        open_string_enums(
            &mut inline,
            "/components/schemas/Item/properties/purpose",
            "ItemPurpose",
            &mut ctx,
        )
        .unwrap();
        assert_eq!(
            inline,
            json!({"allOf": [{"$ref": "#/components/schemas/ItemPurpose"}], "description": "d"})
        );
        assert_eq!(
            ctx.new_components["ItemPurpose"],
            json!({"type": "string", "enum": ["a", "b"], "description": "d", "x-deck-open-enum": true})
        );
        let mut root = json!({"type": "string", "enum": ["x"]});
        open_string_enums(&mut root, "/components/schemas/Kind", "Kind", &mut ctx).unwrap();
        assert_eq!(root["x-deck-open-enum"], true);

        // The overlay's name wins over the position, and the enum's extensions travel with it.
        let mut named = json!({"type": "string", "enum": ["output"], "x-deck-name": "StoragePurpose",
                               "x-deck-aliases": {"out": "output"}});
        open_string_enums(
            &mut named,
            "/components/schemas/I/properties/p",
            "IP",
            &mut ctx,
        )
        .unwrap();
        assert_eq!(
            named,
            json!({"allOf": [{"$ref": "#/components/schemas/StoragePurpose"}]})
        );
        assert_eq!(
            ctx.new_components["StoragePurpose"]["x-deck-aliases"],
            json!({"out": "output"})
        );
        let mut stray = json!({"type": "object", "x-deck-name": "Thing"});
        assert!(
            open_string_enums(
                &mut stray,
                "/components/schemas/I/properties/q",
                "IQ",
                &mut ctx
            )
            .is_err()
        );
    }

    #[test]
    fn check_keywords_refuses_31_only_keywords() {
        for bad in [
            json!({"prefixItems": []}),
            json!({"if": {}, "then": {}}),
            json!({"$defs": {}}),
            json!({"type": "null"}),
        ] {
            let mut s = bad.clone();
            assert!(check_keywords(&mut s, "/s").is_err(), "{bad}");
        }
        let mut ok = json!({"type": "string", "x-anything": 1, "nullable": true});
        check_keywords(&mut ok, "/s").unwrap();
    }
}
