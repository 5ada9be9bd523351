//! Deck's OpenAPI 3.1.1 document → an OpenAPI 3.0.3 document progenitor 0.15 accepts.
//!
//! One module, three users: `build.rs` and the `xtask` include this file with `#[path]`, and the
//! library compiles it only for its unit tests. It depends on `serde_json` alone so the build script
//! stays lean.
//!
//! Each rule is one function with one unit test. The pass never drops meaning silently: a construct
//! it does not understand is an error naming its JSON pointer, so a spec refresh that brings in,
//! say, `prefixItems` fails the build instead of generating a wrong type.
//!
//! Two extensions carry decisions to the generator (`build.rs`), which swaps in hand-written types:
//! - `x-deck-open-enum: true` on a component: a string enum that must accept values Deck adds later.
//! - `x-deck-int: "int32" | "int64"` on a component: ASP.NET's "integer or numeric string".

#![allow(dead_code)]

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// The digits pattern ASP.NET puts on `[integer, string]` numbers.
pub const DIGITS_PATTERN: &str = r"^-?(?:0|[1-9]\d*)$";

/// Media types Deck lists beside `application/json` that carry the same JSON.
const JSON_ALIASES: &[&str] = &["text/plain", "text/json", "application/*+json"];

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

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where and why normalisation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizeError {
    /// JSON pointer into the input document.
    pub pointer: String,
    /// What was not understood.
    pub message: String,
}

impl fmt::Display for NormalizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.pointer, self.message)
    }
}

impl std::error::Error for NormalizeError {}

type Result<T> = std::result::Result<T, NormalizeError>;

fn fail<T>(pointer: &str, message: impl Into<String>) -> Result<T> {
    Err(NormalizeError {
        pointer: pointer.to_string(),
        message: message.into(),
    })
}

/// Components the schema rules create while they walk (hoisted enums, number types).
#[derive(Default)]
struct Ctx {
    new_components: BTreeMap<String, Value>,
}

impl Ctx {
    /// Adds a component, failing if the name is taken by a different schema.
    fn add(&mut self, pointer: &str, name: &str, schema: Value) -> Result<()> {
        match self.new_components.get(name) {
            Some(existing) if *existing != schema => fail(
                pointer,
                format!("component name `{name}` would hold two different schemas"),
            ),
            _ => {
                self.new_components.insert(name.to_string(), schema);
                Ok(())
            }
        }
    }
}

/// Normalises a Deck OpenAPI 3.1 document into a 3.0.3 document. Deterministic: the same input
/// gives the same output, byte for byte once serialised.
pub fn normalize(input: &Value) -> Result<Value> {
    let mut doc = input.clone();
    set_version(&mut doc)?;
    move_31_top_level(&mut doc)?;
    let mut ctx = Ctx::default();
    walk_document(&mut doc, &mut ctx)?;
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| NormalizeError {
            pointer: "/components/schemas".into(),
            message: "the document has no component schemas".into(),
        })?;
    for (name, schema) in ctx.new_components {
        if let Some(existing) = schemas.get(&name)
            && *existing != schema
        {
            return fail(
                "/components/schemas",
                format!("`{name}` already exists with a different schema"),
            );
        }
        schemas.insert(name, schema);
    }
    add_error_body(&mut doc)?;
    page_items_request_id_optional(&mut doc)?;
    Ok(doc)
}

// ---------------------------------------------------------------------------------------------
// Document rules
// ---------------------------------------------------------------------------------------------

/// Rule: `openapi: 3.1.x` becomes `3.0.3`; any other version is refused.
fn set_version(doc: &mut Value) -> Result<()> {
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

/// Rule: 3.1-only top-level members move under `x-` names (3.0 has no place for them, and the
/// client does not use them): `webhooks`, `jsonSchemaDialect`, `$schema`, `license.identifier`.
/// `components.pathItems` has no 3.0 meaning at all and is refused.
fn move_31_top_level(doc: &mut Value) -> Result<()> {
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

/// Walks every place a schema can sit, applying the operation rules on the way.
fn walk_document(doc: &mut Value, ctx: &mut Ctx) -> Result<()> {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let item_ptr = format!("/paths/{}", escape(path));
            let Some(item) = item.as_object_mut() else {
                return fail(&item_ptr, "a path item must be an object");
            };
            for (key, value) in item.iter_mut() {
                let ptr = format!("{item_ptr}/{key}");
                match key.as_str() {
                    "parameters" => walk_parameters(value, &ptr, "Path", ctx)?,
                    "summary" | "description" | "servers" => {}
                    k if k.starts_with("x-") => {}
                    k if HTTP_METHODS.contains(&k) => walk_operation(value, &ptr, ctx)?,
                    other => return fail(&ptr, format!("unknown path item member `{other}`")),
                }
            }
        }
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        for (kind, members) in components.iter_mut() {
            let kind_ptr = format!("/components/{kind}");
            match kind.as_str() {
                "schemas" => {
                    for (name, schema) in members.as_object_mut().into_iter().flatten() {
                        walk_schema(schema, &format!("{kind_ptr}/{}", escape(name)), name, ctx)?;
                    }
                }
                "securitySchemes" | "examples" => {}
                "parameters" | "responses" | "requestBodies" | "headers" => {
                    for (name, member) in members.as_object_mut().into_iter().flatten() {
                        let ptr = format!("{kind_ptr}/{}", escape(name));
                        match kind.as_str() {
                            "parameters" => walk_parameter(member, &ptr, name, ctx)?,
                            "responses" => walk_response(member, &ptr, name, ctx)?,
                            "requestBodies" => walk_content(member, &ptr, name, ctx)?,
                            _ => walk_schema_member(member, &ptr, name, ctx)?,
                        }
                    }
                }
                other if other.starts_with("x-") => {}
                other => {
                    return fail(
                        &kind_ptr,
                        format!("unsupported components member `{other}`"),
                    );
                }
            }
        }
    }
    Ok(())
}

fn walk_operation(op: &mut Value, ptr: &str, ctx: &mut Ctx) -> Result<()> {
    let Some(op_id) = op.get("operationId").and_then(Value::as_str) else {
        return fail(
            ptr,
            "every operation needs an operationId (it names the method)",
        );
    };
    let hint = pascal(op_id);
    if op.get("callbacks").is_some() {
        return fail(&format!("{ptr}/callbacks"), "callbacks are not supported");
    }
    if let Some(params) = op.get_mut("parameters") {
        walk_parameters(params, &format!("{ptr}/parameters"), &hint, ctx)?;
    }
    if let Some(body) = op.get_mut("requestBody") {
        let body_ptr = format!("{ptr}/requestBody");
        drop_ref_siblings(body, &body_ptr)?;
        keep_json_media_type(body, &body_ptr)?;
        walk_content(body, &body_ptr, &format!("{hint}Body"), ctx)?;
    }
    if let Some(responses) = op.get_mut("responses") {
        let responses_ptr = format!("{ptr}/responses");
        for (status, response) in responses.as_object_mut().into_iter().flatten() {
            let r_ptr = format!("{responses_ptr}/{status}");
            drop_ref_siblings(response, &r_ptr)?;
            keep_json_media_type(response, &r_ptr)?;
            walk_response(response, &r_ptr, &format!("{hint}Response"), ctx)?;
        }
        unify_error_responses(responses, &responses_ptr)?;
        any_success_status(responses, &responses_ptr)?;
    }
    Ok(())
}

fn walk_parameters(params: &mut Value, ptr: &str, hint: &str, ctx: &mut Ctx) -> Result<()> {
    let Some(list) = params.as_array_mut() else {
        return fail(ptr, "parameters must be a list");
    };
    for (i, param) in list.iter_mut().enumerate() {
        let p_ptr = format!("{ptr}/{i}");
        drop_ref_siblings(param, &p_ptr)?;
        let name = param.get("name").and_then(Value::as_str).unwrap_or("");
        let p_hint = format!("{hint}{}", pascal(name));
        walk_parameter(param, &p_ptr, &p_hint, ctx)?;
    }
    Ok(())
}

fn walk_parameter(param: &mut Value, ptr: &str, hint: &str, ctx: &mut Ctx) -> Result<()> {
    if param.get("content").is_some() {
        return fail(ptr, "parameters described by `content` are not supported");
    }
    walk_schema_member(param, ptr, hint, ctx)
}

fn walk_response(response: &mut Value, ptr: &str, hint: &str, ctx: &mut Ctx) -> Result<()> {
    if let Some(headers) = response.get_mut("headers").and_then(Value::as_object_mut) {
        for (name, header) in headers.iter_mut() {
            let h_ptr = format!("{ptr}/headers/{}", escape(name));
            drop_ref_siblings(header, &h_ptr)?;
            walk_schema_member(header, &h_ptr, &format!("{hint}{}", pascal(name)), ctx)?;
        }
    }
    walk_content(response, ptr, hint, ctx)
}

fn walk_content(holder: &mut Value, ptr: &str, hint: &str, ctx: &mut Ctx) -> Result<()> {
    if let Some(content) = holder.get_mut("content").and_then(Value::as_object_mut) {
        for (media, media_obj) in content.iter_mut() {
            let m_ptr = format!("{ptr}/content/{}", escape(media));
            walk_schema_member(media_obj, &m_ptr, hint, ctx)?;
        }
    }
    Ok(())
}

/// Walks the `schema` member of a parameter, header or media type object.
fn walk_schema_member(holder: &mut Value, ptr: &str, hint: &str, ctx: &mut Ctx) -> Result<()> {
    match holder.get_mut("schema") {
        Some(schema) => walk_schema(schema, &format!("{ptr}/schema"), hint, ctx),
        None => Ok(()),
    }
}

/// Applies the schema rules to one schema, then to its children.
fn walk_schema(schema: &mut Value, ptr: &str, hint: &str, ctx: &mut Ctx) -> Result<()> {
    if schema.is_boolean() {
        return fail(ptr, "boolean schemas are OpenAPI 3.1 only");
    }
    if !schema.is_object() {
        return fail(ptr, "a schema must be an object");
    }
    ref_siblings_to_all_of(schema, ptr)?;
    const_to_enum(schema, ptr)?;
    examples_to_example(schema, ptr)?;
    numeric_exclusive_bounds(schema, ptr)?;
    type_arrays(schema, ptr, ctx)?;
    null_branches(schema, ptr)?;
    open_string_enums(schema, ptr, hint, ctx)?;
    check_keywords(schema, ptr)?;

    let obj = schema.as_object_mut().expect("checked above");
    for (key, value) in obj.iter_mut() {
        let c_ptr = format!("{ptr}/{}", escape(key));
        match key.as_str() {
            "properties" => {
                for (prop, sub) in value.as_object_mut().into_iter().flatten() {
                    let p_ptr = format!("{c_ptr}/{}", escape(prop));
                    walk_schema(sub, &p_ptr, &format!("{hint}{}", pascal(prop)), ctx)?;
                }
            }
            "items" | "not" => walk_schema(value, &c_ptr, &format!("{hint}Item"), ctx)?,
            "additionalProperties" if value.is_object() => {
                walk_schema(value, &c_ptr, &format!("{hint}Value"), ctx)?
            }
            "allOf" | "oneOf" | "anyOf" => {
                for (i, sub) in value.as_array_mut().into_iter().flatten().enumerate() {
                    walk_schema(sub, &format!("{c_ptr}/{i}"), &format!("{hint}{i}"), ctx)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Schema rules
// ---------------------------------------------------------------------------------------------

/// Rule: a 3.1 `$ref` with siblings (`description`, `nullable`, …) becomes `allOf: [$ref]` plus
/// the siblings, because 3.0 ignores siblings of `$ref` (a `nullable` sibling would silently make a
/// required-nullable field non-optional).
fn ref_siblings_to_all_of(schema: &mut Value, _ptr: &str) -> Result<()> {
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
fn const_to_enum(schema: &mut Value, ptr: &str) -> Result<()> {
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
fn examples_to_example(schema: &mut Value, ptr: &str) -> Result<()> {
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
fn numeric_exclusive_bounds(schema: &mut Value, ptr: &str) -> Result<()> {
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

/// Rule: `type` arrays. `['null', T]` → `T` + `nullable`; `[integer, string]` with ASP.NET's
/// digits pattern → a reference to an `x-deck-int` component (decodes `123` and `"123"` into an
/// integer); with `'null'` too, the same, nullable. Any other combination is refused.
fn type_arrays(schema: &mut Value, ptr: &str, ctx: &mut Ctx) -> Result<()> {
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
            let name = if format == "int32" {
                "Int32OrString"
            } else {
                "Int64OrString"
            };
            ctx.add(ptr, name, int_or_string_component(format))?;
            for key in ["type", "pattern", "format"] {
                obj.remove(key);
            }
            obj.insert(
                "allOf".into(),
                json!([{ "$ref": format!("#/components/schemas/{name}") }]),
            );
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

fn int_or_string_component(format: &str) -> Value {
    json!({
        "description": "An integer that Deck may send as a JSON number or as a numeric string.",
        "oneOf": [
            { "type": "integer", "format": format },
            { "type": "string", "pattern": DIGITS_PATTERN }
        ],
        "x-deck-int": format
    })
}

fn strip_null_from_enum(obj: &mut Map<String, Value>) {
    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
}

/// Rule: `oneOf`/`anyOf` with a `{type: 'null'}` branch → the other branch + `nullable: true`.
/// A single `$ref` branch becomes `allOf: [$ref]` so the nullability survives (progenitor ignores
/// `nullable` beside a bare `$ref`, and panics on `type: null`).
fn null_branches(schema: &mut Value, ptr: &str) -> Result<()> {
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
            .find(|b| is_null(b) && b.as_object().unwrap().len() > 1)
        {
            return fail(ptr, format!("a null branch with other keywords: {b}"));
        }
        let rest: Vec<Value> = branches.iter().filter(|b| !is_null(b)).cloned().collect();
        obj.remove(key);
        obj.insert("nullable".into(), json!(true));
        match rest.as_slice() {
            [] => return fail(ptr, format!("`{key}` holds only the null branch")),
            [single] if single.get("$ref").is_some() && single.as_object().unwrap().len() == 1 => {
                if obj.contains_key("allOf") {
                    return fail(ptr, format!("`{key}` with a null branch beside `allOf`"));
                }
                obj.insert("allOf".into(), json!([single]));
            }
            [single] => {
                for (k, v) in single.as_object().expect("a schema branch").clone() {
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

/// Rule: every string enum is open. Inline enums move to a named component (named after where
/// they sit, e.g. `TaskRunStorageItemPurpose`) and every string-enum component gets
/// `x-deck-open-enum: true`; the generator replaces those with enums that keep unknown values
/// in an `Unknown(String)` variant instead of failing the whole response.
fn open_string_enums(schema: &mut Value, ptr: &str, hint: &str, ctx: &mut Ctx) -> Result<()> {
    let obj = schema.as_object_mut().expect("schema object");
    let Some(Value::Array(values)) = obj.get("enum") else {
        return Ok(());
    };
    if obj.get("type").and_then(Value::as_str) != Some("string") {
        return Ok(());
    }
    if !values.iter().all(Value::is_string) {
        return fail(ptr, "a string enum with non-string values");
    }
    if is_component_root(ptr) {
        obj.insert("x-deck-open-enum".into(), json!(true));
        return Ok(());
    }
    let mut component = Map::new();
    for key in ["type", "enum", "description"] {
        if let Some(v) = obj.get(key) {
            component.insert(key.into(), v.clone());
        }
    }
    component.insert("x-deck-open-enum".into(), json!(true));
    ctx.add(ptr, hint, Value::Object(component))?;
    obj.remove("type");
    obj.remove("enum");
    obj.insert(
        "allOf".into(),
        json!([{ "$ref": format!("#/components/schemas/{hint}") }]),
    );
    Ok(())
}

fn is_component_root(ptr: &str) -> bool {
    ptr.strip_prefix("/components/schemas/")
        .is_some_and(|rest| !rest.contains('/'))
}

/// Rule: after the rewrites above, only OpenAPI 3.0 schema keywords (and `x-` extensions) may
/// remain; `if`/`then`/`else`, `prefixItems`, `$defs`, `unevaluatedProperties`, … are refused.
fn check_keywords(schema: &mut Value, ptr: &str) -> Result<()> {
    let obj = schema.as_object().expect("schema object");
    for key in obj.keys() {
        if !SCHEMA_KEYWORDS_30.contains(&key.as_str()) && !key.starts_with("x-") {
            return fail(ptr, format!("schema keyword `{key}` is not understood"));
        }
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

// ---------------------------------------------------------------------------------------------
// Operation rules
// ---------------------------------------------------------------------------------------------

/// Rule: Reference Objects outside schemas (parameters, responses, bodies, headers) may carry
/// `summary`/`description` in 3.1; those only override documentation and are dropped. Any other
/// sibling is refused.
fn drop_ref_siblings(holder: &mut Value, ptr: &str) -> Result<()> {
    let Some(obj) = holder.as_object_mut() else {
        return fail(ptr, "expected an object");
    };
    if obj.contains_key("$ref") && obj.len() > 1 {
        obj.retain(|k, _| k == "$ref" || !matches!(k.as_str(), "summary" | "description"));
        if obj.len() > 1 {
            return fail(
                ptr,
                "a reference with siblings other than summary/description",
            );
        }
    }
    Ok(())
}

/// Rule: request and response bodies keep `application/json` only. Deck (ASP.NET) also lists
/// `text/plain`, `text/json` and `application/*+json` with the same schema; progenitor panics on
/// several request media types. A different schema under an alias, or a body with no JSON form,
/// is refused.
fn keep_json_media_type(holder: &mut Value, ptr: &str) -> Result<()> {
    let Some(content) = holder.get_mut("content").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let Some(json_media) = content.get("application/json").cloned() else {
        let found: Vec<&String> = content.keys().collect();
        return fail(
            &format!("{ptr}/content"),
            format!("no application/json body (found {found:?})"),
        );
    };
    for (media, value) in content.iter() {
        if media == "application/json" {
            continue;
        }
        if !JSON_ALIASES.contains(&media.as_str()) {
            return fail(
                &format!("{ptr}/content/{}", escape(media)),
                format!("media type `{media}` is not understood"),
            );
        }
        if value.get("schema") != json_media.get("schema") {
            return fail(
                &format!("{ptr}/content/{}", escape(media)),
                "its schema differs from the application/json one",
            );
        }
    }
    content.retain(|media, _| media == "application/json");
    Ok(())
}

/// Name of the one error type every non-2xx response decodes into.
pub const ERROR_BODY: &str = "DeckErrorBody";
const KNOWN_ERROR_SCHEMAS: &[&str] = &["ErrorResponse", "ValidationErrorResponse"];

/// Rule: one error type per operation. Deck declares `ValidationErrorResponse` for 400,
/// `ErrorResponse` for the rest and no body for 401/403; progenitor asserts at most one error
/// type. Every non-2xx response (plus `4XX`/`5XX` catch-alls, so 429 and 503 decode too) points
/// to `DeckErrorBody`, the union of the two; the client fills in a missing body.
fn unify_error_responses(responses: &mut Value, ptr: &str) -> Result<()> {
    let obj = responses.as_object_mut().expect("responses object");
    if obj.contains_key("default") {
        return fail(
            &format!("{ptr}/default"),
            "`default` responses are not supported (progenitor asserts on them)",
        );
    }
    let error_content = json!({
        "application/json": { "schema": { "$ref": format!("#/components/schemas/{ERROR_BODY}") } }
    });
    for (status, response) in obj.iter_mut() {
        if status.starts_with('2') {
            continue;
        }
        if let Some(content) = response.get("content") {
            let schema_ref = content
                .pointer("/application~1json/schema/$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"));
            if !schema_ref.is_some_and(|name| KNOWN_ERROR_SCHEMAS.contains(&name)) {
                return fail(
                    &format!("{ptr}/{status}"),
                    "an error body other than ErrorResponse/ValidationErrorResponse",
                );
            }
        }
        response["content"] = error_content.clone();
    }
    for range in ["4XX", "5XX"] {
        obj.entry(range).or_insert_with(|| {
            json!({
                "description": "Any other error, in Deck's error envelope.",
                "content": error_content.clone(),
            })
        });
    }
    Ok(())
}

/// Rule: an operation with one success response also accepts any other 2xx as that response
/// (`2XX`). Deck's docs show "Created" for some writes and the served status may differ; a
/// success must never surface as an "unexpected status" error. Several distinct success bodies
/// are refused (progenitor would need one type).
fn any_success_status(responses: &mut Value, ptr: &str) -> Result<()> {
    let obj = responses.as_object_mut().expect("responses object");
    let successes: Vec<(&String, &Value)> = obj
        .iter()
        .filter(|(status, _)| status.starts_with('2'))
        .collect();
    let Some((_, first)) = successes.first() else {
        return Ok(());
    };
    let content = first.get("content").cloned();
    if successes
        .iter()
        .any(|(_, r)| r.get("content") != content.as_ref())
    {
        return fail(ptr, "success responses with different bodies");
    }
    if !obj.contains_key("2XX") {
        let mut range = json!({"description": "Any other success status, with the same body."});
        if let Some(content) = content {
            range["content"] = content;
        }
        obj.insert("2XX".into(), range);
    }
    Ok(())
}

/// Rule: adds `DeckErrorBody`, the union of Deck's two error schemas, when any operation uses it.
fn add_error_body(doc: &mut Value) -> Result<()> {
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
    for name in KNOWN_ERROR_SCHEMAS {
        if !schemas.contains_key(*name) {
            return fail(
                "/components/schemas",
                format!("`{name}` is referenced by error responses but not defined"),
            );
        }
    }
    schemas.insert(
        ERROR_BODY.into(),
        json!({
            "description": "The body of any Deck error: the error envelope, or the validation map of a 400.",
            "oneOf": [
                { "$ref": "#/components/schemas/ErrorResponse" },
                { "$ref": "#/components/schemas/ValidationErrorResponse" }
            ]
        }),
    );
    Ok(())
}

/// Rule: `request_id` is optional in schemas used as page items. Deck's docs say list items carry
/// no `request_id` (the page has one), but `PaginatedResponseOfGetTaskResponse` reuses
/// `GetTaskResponse`, which requires it: taken literally, every `list_tasks` page would fail to
/// decode. Relaxing a required response field never rejects valid data; the field becomes
/// `Option<String>` everywhere the schema is used.
fn page_items_request_id_optional(doc: &mut Value) -> Result<()> {
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
        .filter_map(|r| r.strip_prefix("#/components/schemas/"))
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

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// JSON-pointer escaping of one path segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `getTaskRun` / `run_id` / `task-runs` → `GetTaskRun` / `RunId` / `TaskRuns`.
pub fn pascal(s: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

/// Components marked for the generator, with the Rust type each is replaced by.
pub fn replacements(doc: &Value) -> Vec<Replacement> {
    let mut out = Vec::new();
    for (name, schema) in doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if schema.get("x-deck-open-enum") == Some(&json!(true)) {
            let values = schema["enum"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            out.push(Replacement::OpenEnum {
                name: name.clone(),
                values,
                description: schema
                    .get("description")
                    .and_then(Value::as_str)
                    .map(String::from),
            });
        } else if let Some(format) = schema.get("x-deck-int").and_then(Value::as_str) {
            out.push(Replacement::Int {
                name: name.clone(),
                bits: if format == "int32" { 32 } else { 64 },
            });
        }
    }
    out
}

/// Whether a component constrains nothing (Deck's `JsonElement`): the generator maps it to
/// `serde_json::Value` itself rather than a newtype around it.
pub fn is_any_schema(schema: &Value) -> bool {
    schema.as_object().is_some_and(|o| {
        o.keys().all(|k| {
            matches!(k.as_str(), "description" | "title" | "example") || k.starts_with("x-")
        })
    })
}

/// A generated type the build script swaps for a hand-written or build-script-written one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replacement {
    /// A string enum that keeps unknown values.
    OpenEnum {
        /// Component name.
        name: String,
        /// Known values, in spec order.
        values: Vec<String>,
        /// The schema's description.
        description: Option<String>,
    },
    /// An integer that may arrive as a numeric string.
    Int {
        /// Component name.
        name: String,
        /// 32 or 64.
        bits: u8,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(v: Value) -> Value {
        v
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
    fn ref_siblings_become_all_of() {
        let mut s = schema(json!({"$ref": "#/components/schemas/A", "description": "d"}));
        ref_siblings_to_all_of(&mut s, "").unwrap();
        assert_eq!(
            s,
            json!({"allOf": [{"$ref": "#/components/schemas/A"}], "description": "d"})
        );
        let mut bare = schema(json!({"$ref": "#/components/schemas/A"}));
        ref_siblings_to_all_of(&mut bare, "").unwrap();
        assert_eq!(bare, json!({"$ref": "#/components/schemas/A"}));
    }

    #[test]
    fn const_becomes_one_value_enum_including_falsy_values() {
        for value in [json!("deck"), json!(false), json!(0)] {
            let mut s = schema(json!({"const": value.clone()}));
            const_to_enum(&mut s, "").unwrap();
            assert_eq!(s, json!({"enum": [value]}));
        }
        let mut contradiction = schema(json!({"const": "a", "enum": ["b"]}));
        assert!(const_to_enum(&mut contradiction, "").is_err());
    }

    #[test]
    fn examples_become_example() {
        let mut s = schema(json!({"type": "string", "examples": ["a", "b"]}));
        examples_to_example(&mut s, "").unwrap();
        assert_eq!(s, json!({"type": "string", "example": "a"}));
    }

    #[test]
    fn numeric_exclusive_bounds_become_30_form() {
        let mut s =
            schema(json!({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}));
        numeric_exclusive_bounds(&mut s, "").unwrap();
        assert_eq!(
            s,
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": true})
        );
        let mut both = schema(json!({"exclusiveMinimum": 0, "minimum": 1}));
        assert!(numeric_exclusive_bounds(&mut both, "").is_err());
    }

    #[test]
    fn type_arrays_become_nullable_or_int_or_string() {
        let mut ctx = Ctx::default();
        let mut s = schema(json!({"type": ["null", "string"], "description": "d"}));
        type_arrays(&mut s, "/x", &mut ctx).unwrap();
        assert_eq!(
            s,
            json!({"type": "string", "nullable": true, "description": "d"})
        );

        let mut n = schema(
            json!({"type": ["integer", "string"], "pattern": DIGITS_PATTERN, "format": "int64"}),
        );
        type_arrays(&mut n, "/x", &mut ctx).unwrap();
        assert_eq!(
            n,
            json!({"allOf": [{"$ref": "#/components/schemas/Int64OrString"}]})
        );

        let mut nn = schema(
            json!({"type": ["null", "integer", "string"], "pattern": DIGITS_PATTERN, "format": "int32"}),
        );
        type_arrays(&mut nn, "/x", &mut ctx).unwrap();
        assert_eq!(
            nn,
            json!({"allOf": [{"$ref": "#/components/schemas/Int32OrString"}], "nullable": true})
        );
        assert_eq!(ctx.new_components["Int32OrString"]["x-deck-int"], "int32");
        assert_eq!(ctx.new_components["Int64OrString"]["x-deck-int"], "int64");

        let mut odd = schema(json!({"type": ["boolean", "string"]}));
        assert!(type_arrays(&mut odd, "/x", &mut ctx).is_err());
        let mut other_pattern =
            schema(json!({"type": ["integer", "string"], "pattern": "^[0-9a-f]+$"}));
        assert!(type_arrays(&mut other_pattern, "/x", &mut ctx).is_err());
    }

    #[test]
    fn null_branches_become_nullable() {
        let mut r = schema(
            json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/J"}], "description": "d"}),
        );
        null_branches(&mut r, "").unwrap();
        assert_eq!(
            r,
            json!({"allOf": [{"$ref": "#/components/schemas/J"}], "nullable": true, "description": "d"})
        );
        let mut inline = schema(json!({"anyOf": [{"type": "string"}, {"type": "null"}]}));
        null_branches(&mut inline, "").unwrap();
        assert_eq!(inline, json!({"type": "string", "nullable": true}));
        let mut many =
            schema(json!({"oneOf": [{"type": "null"}, {"type": "string"}, {"type": "integer"}]}));
        null_branches(&mut many, "").unwrap();
        assert_eq!(
            many,
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
        );
        let mut only_null = schema(json!({"oneOf": [{"type": "null"}]}));
        assert!(null_branches(&mut only_null, "").is_err());
    }

    #[test]
    fn open_string_enums_are_hoisted_and_marked() {
        let mut ctx = Ctx::default();
        let mut inline = schema(json!({"type": "string", "enum": ["a", "b"], "description": "d"}));
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
        let mut root = schema(json!({"type": "string", "enum": ["x"]}));
        open_string_enums(&mut root, "/components/schemas/Kind", "Kind", &mut ctx).unwrap();
        assert_eq!(root["x-deck-open-enum"], true);
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
        let mut ok = schema(json!({"type": "string", "x-anything": 1, "nullable": true}));
        check_keywords(&mut ok, "/s").unwrap();
    }

    #[test]
    fn drop_ref_siblings_keeps_only_the_ref() {
        let mut p = json!({"$ref": "#/components/parameters/Limit", "description": "d"});
        drop_ref_siblings(&mut p, "").unwrap();
        assert_eq!(p, json!({"$ref": "#/components/parameters/Limit"}));
        let mut bad = json!({"$ref": "#/x", "required": true});
        assert!(drop_ref_siblings(&mut bad, "").is_err());
    }

    #[test]
    fn keep_json_media_type_drops_aliases_and_refuses_others() {
        let s = json!({"$ref": "#/components/schemas/A"});
        let mut body = json!({"content": {
            "application/json": {"schema": s}, "text/json": {"schema": s},
            "application/*+json": {"schema": s}, "text/plain": {"schema": s}
        }});
        keep_json_media_type(&mut body, "").unwrap();
        assert_eq!(
            body,
            json!({"content": {"application/json": {"schema": s}}})
        );
        let mut multipart = json!({"content": {"multipart/form-data": {"schema": s}}});
        assert!(keep_json_media_type(&mut multipart, "").is_err());
        let mut differing =
            json!({"content": {"application/json": {"schema": s}, "text/json": {"schema": {}}}});
        assert!(keep_json_media_type(&mut differing, "").is_err());
    }

    #[test]
    fn unify_error_responses_points_every_error_at_one_body() {
        let e = |name: &str| json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}});
        let mut responses = json!({
            "200": {"description": "OK"},
            "400": {"description": "bad", "content": e("ValidationErrorResponse")},
            "401": {"description": "Unauthorized."},
            "404": {"description": "nf", "content": e("ErrorResponse")}
        });
        unify_error_responses(&mut responses, "").unwrap();
        for status in ["400", "401", "404", "4XX", "5XX"] {
            assert_eq!(responses[status]["content"], e(ERROR_BODY), "{status}");
        }
        assert!(responses["200"].get("content").is_none());
        let mut unknown = json!({"404": {"content": e("Other")}});
        assert!(unify_error_responses(&mut unknown, "").is_err());
        let mut default = json!({"default": {}});
        assert!(unify_error_responses(&mut default, "").is_err());
    }

    #[test]
    fn any_success_status_adds_a_2xx_range() {
        let body = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}});
        let mut responses = json!({"201": {"description": "Created", "content": body}, "404": {}});
        any_success_status(&mut responses, "").unwrap();
        assert_eq!(responses["2XX"]["content"], body);
        let mut two = json!({"200": {"content": body}, "202": {"content": {}}});
        assert!(any_success_status(&mut two, "").is_err());
    }

    #[test]
    fn add_error_body_unions_the_two_error_schemas() {
        let mut doc = json!({
            "paths": {"/x": {"get": {"responses": {"404": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeckErrorBody"}}}}}}}},
            "components": {"schemas": {"ErrorResponse": {}, "ValidationErrorResponse": {}}}
        });
        add_error_body(&mut doc).unwrap();
        assert_eq!(
            doc["components"]["schemas"][ERROR_BODY]["oneOf"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        doc["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("ErrorResponse");
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
    fn replacements_list_marked_components() {
        let doc = json!({"components": {"schemas": {
            "P": {"type": "string", "enum": ["a"], "x-deck-open-enum": true},
            "Int32OrString": int_or_string_component("int32"),
            "Plain": {"type": "object"}
        }}});
        let r = replacements(&doc);
        assert_eq!(r.len(), 2);
        assert!(r.contains(&Replacement::Int {
            name: "Int32OrString".into(),
            bits: 32
        }));
    }

    #[test]
    fn any_schemas_constrain_nothing() {
        assert!(is_any_schema(
            &json!({"description": "Arbitrary JSON value."})
        ));
        assert!(is_any_schema(&json!({})));
        assert!(!is_any_schema(&json!({"type": "object"})));
        assert!(!is_any_schema(
            &json!({"description": "d", "nullable": true})
        ));
    }

    #[test]
    fn pascal_case_names() {
        assert_eq!(pascal("getTaskRun"), "GetTaskRun");
        assert_eq!(pascal("run_id"), "RunId");
        assert_eq!(pascal("task-runs"), "TaskRuns");
    }

    #[test]
    fn the_vendored_spec_normalises_deterministically() {
        let text = include_str!("../openapi/v2.json");
        let doc: Value = serde_json::from_str(text).unwrap();
        let a = serde_json::to_string(&normalize(&doc).unwrap()).unwrap();
        let b = serde_json::to_string(&normalize(&doc).unwrap()).unwrap();
        assert_eq!(a, b);
        assert!(!a.contains("\"type\":[") && !a.contains("text/json"));
    }
}
