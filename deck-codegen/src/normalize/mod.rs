//! Deck's OpenAPI 3.1.1 document (overlay applied) → an OpenAPI 3.0.3 document progenitor 0.15
//! accepts.
//!
//! Each rule is one function with one unit test, grouped by what it rewrites: [`document`]
//! (top-level members, component names), [`operation`] (bodies, responses) and [`schema`]
//! (JSON Schema 2020-12 constructs and Deck's number and enum shapes). The pass never drops
//! meaning silently: a construct it does not understand is an error naming its JSON pointer, so a
//! spec refresh that brings in, say, `prefixItems` fails the build instead of generating a wrong
//! type.
//!
//! Extensions carry decisions from the overlay and from this pass to the generator:
//!
//! | extension | set by | on | meaning |
//! |---|---|---|---|
//! | `x-deck-name` | overlay | a component, or an inline string enum | the SDK's name for the type (`GetTaskRunResponse` → `TaskRun`) |
//! | `x-deck-schema` | [`document::sdk_names`] | a renamed component | the name Deck's spec gives it |
//! | `x-deck-aliases` | overlay | a string enum | other wire spellings of a value (`cancelling` → `canceling`) |
//! | `x-enum-varnames` | overlay | a string enum | Rust variant names, parallel to `enum` |
//! | `x-deck-open-enum` | [`schema::open_string_enums`] | a string-enum component | generated as an enum that keeps unknown values |
//! | `x-deck-int-or-string` | [`schema::type_arrays`] | an integer | ASP.NET's "integer or numeric string": decoded from both |
//! | `x-deck-webhooks` | overlay | the document | webhooks Deck documents in prose; [`document::overlay_webhooks`] uses them while the spec has no `webhooks` |
//! | `x-deck-empty-is-null` | overlay | an object component | its optional fields decode `""` as `None` (event snapshots) |
//! | `x-deck-event-data` | overlay | the event's `data` property | typed per event type from the webhooks (`EventData`) |
//! | `x-deck-id` | overlay (a name), [`schema::resource_ids`] (`true` on the component) | a string that refers to a resource | a typed id (`TaskRunId`) |
//! | `x-deck-at`, `x-deck-operation`, `x-deck-path-params`, `x-deck-pin` | overlay actions | | see [`crate::overlay`] |
//! | `x-deck-replaced` | overlay | a component | dropped once nothing refers to it ([`document::drop_replaced`]) |
//! | `x-deck-minimum` | overlay | a number | a documented minimum checked before sending ([`crate::postprocess::bounds`]) that the type does not carry (`minimum: 1` would make typify generate `NonZeroU32`) |
//! | `x-deck-multipart` | [`operation::multipart_body`] | a request body | sent as `multipart/form-data` (the form's schema); generated as a raw body |

pub mod components;
pub(crate) mod document;
pub(crate) mod operation;
pub(crate) mod schema;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// The digits pattern ASP.NET puts on `[integer, string]` numbers.
pub const DIGITS_PATTERN: &str = r"^-?(?:0|[1-9]\d*)$";

/// Name of the one error type every non-2xx response decodes into.
pub const ERROR_BODY: &str = "DeckErrorBody";

/// The HTTP methods a path item may hold, in the order OpenAPI lists them.
pub const HTTP_METHODS: &[&str] = &[
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

pub(crate) type Result<T> = std::result::Result<T, NormalizeError>;

pub(crate) fn fail<T>(pointer: &str, message: impl Into<String>) -> Result<T> {
    Err(NormalizeError {
        pointer: pointer.to_string(),
        message: message.into(),
    })
}

/// What the schema rules need from the whole document while they walk it.
#[derive(Default)]
pub(crate) struct Ctx {
    /// Components the rules create (hoisted enums).
    pub(crate) new_components: BTreeMap<String, Value>,
    /// The declared `type` of every component, for rules that look through a `$ref`.
    pub(crate) component_types: BTreeMap<String, Option<String>>,
    /// Values a spec's own `enum` adds to an overlay enum component it sits beside (see
    /// [`schema::spec_enum_beside_ref`]), by component name.
    pub(crate) enum_additions: BTreeMap<String, Vec<Value>>,
    /// What a rule could not apply of what the overlay asked (returned as notes).
    pub(crate) notes: Vec<String>,
}

impl Ctx {
    fn for_document(doc: &Value) -> Self {
        let component_types = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, schema)| {
                let ty = schema.get("type").and_then(Value::as_str).map(String::from);
                (name.clone(), ty)
            })
            .collect();
        Ctx {
            new_components: BTreeMap::new(),
            component_types,
            enum_additions: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a component, failing if the name is taken by a different schema.
    pub(crate) fn add(&mut self, pointer: &str, name: &str, schema: Value) -> Result<()> {
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
    normalize_with_notes(input).map(|(doc, _)| doc)
}

/// [`normalize`], also returning the notes of what the overlay asked for that could not be
/// applied to this document (a pinned path-parameter list that does not fit the path, a type
/// name another type holds): the build prints them as warnings, `codegen --check` fails on them.
pub fn normalize_with_notes(input: &Value) -> Result<(Value, Vec<String>)> {
    let mut doc = input.clone();
    let mut notes = Vec::new();
    document::set_version(&mut doc)?;
    document::overlay_webhooks(&mut doc, &mut notes)?;
    document::move_31_top_level(&mut doc)?;
    components::inline_component_refs(&mut doc)?;
    components::path_item_parameters(&mut doc)?;
    components::operation_ids(&mut doc)?;
    components::path_parameter_names(&mut doc, &mut notes)?;
    components::path_parameters_match_template(&doc)?;
    document::drop_replaced(&mut doc)?;
    document::inline_sdk_names(&mut doc)?;
    document::sdk_names(&mut doc)?;
    let mut ctx = Ctx::for_document(&doc);
    walk_document(&mut doc, &mut ctx)?;
    schema::apply_enum_additions(&mut doc, &ctx.enum_additions);
    notes.append(&mut ctx.notes);
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
    document::add_error_body(&mut doc)?;
    document::page_items_request_id_optional(&mut doc)?;
    Ok((doc, notes))
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
    // `components::operation_ids` named every operation.
    let op_id = op
        .get("operationId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let hint = pascal(op_id);
    if op.get("callbacks").is_some() {
        return fail(&format!("{ptr}/callbacks"), "callbacks are not supported");
    }
    if let Some(params) = op.get_mut("parameters") {
        walk_parameters(params, &format!("{ptr}/parameters"), &hint, ctx)?;
    }
    if let Some(body) = op.get_mut("requestBody") {
        let body_ptr = format!("{ptr}/requestBody");
        operation::drop_ref_siblings(body, &body_ptr)?;
        operation::multipart_body(body, &body_ptr)?;
        operation::keep_json_media_type(body, &body_ptr)?;
        walk_content(body, &body_ptr, &format!("{hint}Body"), ctx)?;
    }
    if let Some(responses) = op.get_mut("responses") {
        let responses_ptr = format!("{ptr}/responses");
        operation::default_response(responses, &responses_ptr)?;
        operation::unify_error_responses(responses, &responses_ptr)?;
        for (status, response) in responses.as_object_mut().into_iter().flatten() {
            let r_ptr = format!("{responses_ptr}/{status}");
            operation::drop_ref_siblings(response, &r_ptr)?;
            operation::keep_json_media_type(response, &r_ptr)?;
            walk_response(response, &r_ptr, &format!("{hint}Response"), ctx)?;
        }
        operation::any_success_status(responses, &responses_ptr)?;
    }
    Ok(())
}

fn walk_parameters(params: &mut Value, ptr: &str, hint: &str, ctx: &mut Ctx) -> Result<()> {
    let Some(list) = params.as_array_mut() else {
        return fail(ptr, "parameters must be a list");
    };
    for (i, param) in list.iter_mut().enumerate() {
        let p_ptr = format!("{ptr}/{i}");
        operation::drop_ref_siblings(param, &p_ptr)?;
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
            operation::drop_ref_siblings(header, &h_ptr)?;
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
    schema::spec_enum_beside_ref(schema, ptr, ctx)?;
    schema::ref_siblings_to_all_of(schema, ptr)?;
    schema::const_to_enum(schema, ptr)?;
    schema::examples_to_example(schema, ptr)?;
    schema::numeric_exclusive_bounds(schema, ptr)?;
    schema::type_arrays(schema, ptr)?;
    schema::null_branches(schema, ptr)?;
    schema::resource_ids(schema, ptr, ctx)?;
    schema::redundant_type_beside_ref(schema, ptr, ctx)?;
    schema::open_string_enums(schema, ptr, hint, ctx)?;
    schema::check_keywords(schema, ptr)?;

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

/// JSON-pointer escaping of one path segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `getTaskRun` / `run_id` / `task-runs` → `GetTaskRun` / `RunId` / `TaskRuns`: names for
/// components this pass creates (never a guess at progenitor's own naming).
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

/// Whether a component constrains nothing (Deck's `JsonElement`): the generator maps it to
/// `serde_json::Value` itself rather than a newtype around it.
pub fn is_any_schema(schema: &Value) -> bool {
    schema
        .as_object()
        .is_some_and(|o| o.keys().all(|k| is_documentation_key(k)))
}

/// Whether a schema keyword only documents (`description`, `title`, `example`, any `x-`).
pub(crate) fn is_documentation_key(key: &str) -> bool {
    matches!(key, "description" | "title" | "example") || key.starts_with("x-")
}

/// The component a schema is, by reference: `{$ref}` or, as a 3.1 reference with documentation
/// siblings normalises, `{allOf: [{$ref}], description}`.
pub fn schema_component(schema: &Value) -> Option<&str> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return component_ref(r);
    }
    let all = schema.get("allOf")?.as_array()?;
    let only_docs = schema
        .as_object()?
        .keys()
        .all(|k| k == "allOf" || is_documentation_key(k));
    match all.as_slice() {
        [single] if only_docs => component_ref(single.get("$ref")?.as_str()?),
        _ => None,
    }
}

/// `#/components/schemas/Name` → `Name`.
pub fn component_ref(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

pub(crate) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn schema_components_look_through_documented_references() {
        assert_eq!(
            schema_component(&json!({"$ref": "#/components/schemas/A"})),
            Some("A")
        );
        assert_eq!(
            schema_component(
                &json!({"allOf": [{"$ref": "#/components/schemas/A"}], "description": "d"})
            ),
            Some("A")
        );
        assert_eq!(
            schema_component(
                &json!({"allOf": [{"$ref": "#/components/schemas/A"}], "nullable": true})
            ),
            None
        );
        assert_eq!(schema_component(&json!({"type": "string"})), None);
    }

    #[test]
    fn pascal_case_names() {
        assert_eq!(pascal("getTaskRun"), "GetTaskRun");
        assert_eq!(pascal("run_id"), "RunId");
        assert_eq!(pascal("task-runs"), "TaskRuns");
    }

    #[test]
    fn the_vendored_spec_normalises_deterministically() {
        let doc = crate::tests::vendored_overlaid();
        let a = serde_json::to_string(&normalize(&doc).unwrap()).unwrap();
        let b = serde_json::to_string(&normalize(&doc).unwrap()).unwrap();
        assert_eq!(a, b);
        assert!(!a.contains("\"type\":[") && !a.contains("text/json"));
    }
}
