//! The API as a Rust user of `deck` sees it, read from a **normalised** spec.
//!
//! The model is what [`crate::diff`] compares: operations (keyed by the Rust method name), their
//! parameters, request body and response statuses, and every type the generator emits (component
//! schemas plus the inline objects it names after their parent, `ParentField`), each with its
//! fields (Rust-ish type, required, nullable), its enum values and whether it is sent in requests,
//! received in responses, or both. Types are rendered the way the generated code spells them
//! (`Option` aside, which the diff derives from `required`/`nullable`), so `[integer, string]` and a
//! plain `integer` are different (`wire::Int64` vs `i64`) but `type: [string, null]` and
//! `anyOf: [string, null]` are the same.

use crate::spec::{LoadedSpec, snake};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The whole API surface of one spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Api {
    /// Operations by Rust method name (`list_task_runs`).
    pub operations: BTreeMap<String, Operation>,
    /// Generated types by name (`GetTaskRunResponse`).
    pub types: BTreeMap<String, TypeDef>,
}

/// One operation: one method on `deck::Client`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The spec's `operationId` (`listTaskRuns`).
    pub operation_id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template, e.g. `/task-runs/{run_id}`.
    pub path: String,
    /// Parameters, path-level ones first, in spec order.
    pub params: Vec<Param>,
    /// The JSON request body, if any.
    pub body: Option<Body>,
    /// Response status (`200`, `4XX`) → body type (`None` for no body).
    pub responses: BTreeMap<String, Option<String>>,
    /// Whether the generator implements `Paginate` for it (Deck's cursor page).
    pub paginated: bool,
}

/// One parameter (a builder setter).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Wire name.
    pub name: String,
    /// `path`, `query` or `header`.
    pub location: String,
    /// Rendered type.
    pub ty: String,
    /// Whether `send()` fails without it.
    pub required: bool,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// Rendered type.
    pub ty: String,
    /// `requestBody.required`.
    pub required: bool,
}

/// One generated type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// What it is: `struct`, `open enum`, `enum`, `integer or numeric string`,
    /// `one of (A | B)`, `newtype(serde_json::Value)`, …
    pub kind: String,
    /// Struct fields by wire name.
    pub fields: BTreeMap<String, Field>,
    /// Enum values, in spec order (non-string values as JSON).
    pub values: Vec<String>,
    /// An open enum (`x-deck-open-enum`): unknown values decode into `Unknown(String)`.
    pub open: bool,
    /// Where the type travels.
    pub usage: Usage,
}

/// One struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Rendered type without the `Option` that `required`/`nullable` add.
    pub ty: String,
    /// Listed in `required`.
    pub required: bool,
    /// `nullable: true` (after normalisation).
    pub nullable: bool,
}

impl Field {
    /// The Rust type of the field: `Option<T>` unless it is required and not nullable.
    pub fn rust_type(&self) -> String {
        if self.required && !self.nullable {
            self.ty.clone()
        } else {
            format!("Option<{}>", self.ty)
        }
    }
}

/// Where a type is reachable from: request parameters/bodies, responses (errors included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Reachable from a parameter or request body.
    pub request: bool,
    /// Reachable from a response body.
    pub response: bool,
}

impl Usage {
    /// Combines the usage of a type in two versions of the spec.
    pub fn union(self, other: Usage) -> Usage {
        Usage {
            request: self.request || other.request,
            response: self.response || other.response,
        }
    }

    /// Rules for responses apply: used in a response, or not used at all (conservative).
    pub fn in_response(self) -> bool {
        self.response || !self.request
    }

    /// Rules for requests apply: used in a request, or not used at all (conservative).
    pub fn in_request(self) -> bool {
        self.request || !self.response
    }

    /// `request`, `response`, `request and response` or `unused`.
    pub fn describe(self) -> &'static str {
        match (self.request, self.response) {
            (true, true) => "request and response",
            (true, false) => "request",
            (false, true) => "response",
            (false, false) => "unused",
        }
    }
}

/// The Rust type `src/codegen.rs` puts in place of a component, when it replaces it: the
/// error union, the integer-or-numeric-string numbers, and components that constrain nothing
/// (any JSON, e.g. Deck's `JsonElement`).
fn replacement(name: &str, schema: &Value) -> Option<&'static str> {
    if name == crate::normalize::ERROR_BODY {
        return Some("error::ErrorBody");
    }
    match schema.get("x-deck-int").and_then(Value::as_str) {
        Some("int32") => return Some("wire::Int32"),
        Some(_) => return Some("wire::Int64"),
        None => {}
    }
    crate::normalize::is_any_schema(schema).then_some("serde_json::Value")
}

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Builds the model of a loaded (normalised) spec.
pub fn build(spec: &LoadedSpec) -> Api {
    Builder::new(&spec.normalised).build()
}

struct Builder<'a> {
    doc: &'a Value,
    types: BTreeMap<String, TypeDef>,
    /// Type → the types its definition mentions.
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl<'a> Builder<'a> {
    fn new(doc: &'a Value) -> Self {
        Builder {
            doc,
            types: BTreeMap::new(),
            edges: BTreeMap::new(),
        }
    }

    fn build(mut self) -> Api {
        let schemas = self
            .doc
            .pointer("/components/schemas")
            .and_then(Value::as_object);
        for (name, schema) in schemas.into_iter().flatten() {
            self.define(name, schema);
        }
        let paged: BTreeSet<String> = crate::codegen::page_operations(self.doc)
            .into_iter()
            .map(|p| p.operation_id)
            .collect();

        let mut operations = BTreeMap::new();
        let mut request_roots = BTreeSet::new();
        let mut response_roots = BTreeSet::new();
        let paths = self.doc.get("paths").and_then(Value::as_object);
        for (path, item) in paths.into_iter().flatten() {
            let path_params = item.get("parameters");
            for method in HTTP_METHODS {
                let Some(op) = item.get(*method) else {
                    continue;
                };
                let operation_id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let hint = crate::normalize::pascal(&operation_id);
                let mut params: Vec<Param> = Vec::new();
                for p in [path_params, op.get("parameters")]
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_array)
                    .flatten()
                {
                    let p = self.resolve(p);
                    let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                    let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
                    let ty = match p.get("schema") {
                        Some(s) => self.type_of(
                            s,
                            &format!("{hint}{}", crate::normalize::pascal(name)),
                            &mut request_roots,
                        ),
                        None => "String".into(),
                    };
                    let param = Param {
                        name: name.to_string(),
                        location: location.to_string(),
                        ty,
                        required: location == "path"
                            || p.get("required") == Some(&Value::Bool(true)),
                    };
                    // An operation-level parameter overrides a path-level one of the same name.
                    params.retain(|q| !(q.name == param.name && q.location == param.location));
                    params.push(param);
                }
                let body = op.get("requestBody").map(|b| {
                    let b = self.resolve(b);
                    let ty = match b.pointer("/content/application~1json/schema") {
                        Some(s) => self.type_of(s, &format!("{hint}Body"), &mut request_roots),
                        None => "()".into(),
                    };
                    Body {
                        ty,
                        required: b.get("required") == Some(&Value::Bool(true)),
                    }
                });
                let mut responses = BTreeMap::new();
                for (status, response) in op
                    .get("responses")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let response = self.resolve(response);
                    let ty = response
                        .pointer("/content/application~1json/schema")
                        .map(|s| self.type_of(s, &format!("{hint}Response"), &mut response_roots));
                    responses.insert(status.clone(), ty);
                }
                operations.insert(
                    snake(&operation_id),
                    Operation {
                        paginated: paged.contains(&operation_id),
                        operation_id,
                        method: method.to_ascii_uppercase(),
                        path: path.clone(),
                        params,
                        body,
                        responses,
                    },
                );
            }
        }

        let request = self.reachable(request_roots);
        let response = self.reachable(response_roots);
        for (name, def) in self.types.iter_mut() {
            def.usage = Usage {
                request: request.contains(name),
                response: response.contains(name),
            };
        }
        // Components the generator swaps for hand-written types are not generated types.
        let schemas = self.doc.pointer("/components/schemas");
        self.types.retain(|name, _| {
            schemas
                .and_then(|s| s.get(name))
                .is_none_or(|schema| replacement(name, schema).is_none())
        });
        Api {
            operations,
            types: self.types,
        }
    }

    /// Follows `$ref`s to components other than schemas (parameters, responses, bodies).
    fn resolve(&self, value: &'a Value) -> &'a Value {
        let mut current = value;
        for _ in 0..16 {
            let Some(target) = current
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| self.doc.pointer(pointer))
            else {
                break;
            };
            current = target;
        }
        current
    }

    fn reachable(&self, roots: BTreeSet<String>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = roots.into_iter().collect();
        while let Some(name) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            for next in self.edges.get(&name).into_iter().flatten() {
                if !seen.contains(next) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    }

    /// Registers the type `name` defined by `schema` (a component, or an inline object).
    fn define(&mut self, name: &str, schema: &Value) {
        if self.types.contains_key(name) {
            return;
        }
        // Reserve the name first so a self-referencing inline object terminates.
        self.types.insert(
            name.to_string(),
            TypeDef {
                kind: String::new(),
                fields: BTreeMap::new(),
                values: Vec::new(),
                open: false,
                usage: Usage::default(),
            },
        );
        let mut refs = BTreeSet::new();
        let open = schema.get("x-deck-open-enum") == Some(&Value::Bool(true));
        let values: Vec<String> = schema
            .get("enum")
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
                    .collect()
            })
            .unwrap_or_default();
        let mut fields = BTreeMap::new();
        let kind = if open {
            "open enum".to_string()
        } else if let Some(bits) = schema.get("x-deck-int").and_then(Value::as_str) {
            format!("integer or numeric string ({bits})")
        } else if schema.get("enum").is_some() {
            format!("enum of {}", self.scalar(schema))
        } else if schema.get("properties").is_some()
            || (schema.get("type").and_then(Value::as_str) == Some("object")
                && schema.get("additionalProperties").is_none())
        {
            let required: BTreeSet<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (field, sub) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let ty = self.type_of(
                    sub,
                    &format!("{name}{}", crate::normalize::pascal(field)),
                    &mut refs,
                );
                fields.insert(
                    field.clone(),
                    Field {
                        ty,
                        required: required.contains(field.as_str()),
                        nullable: sub.get("nullable") == Some(&Value::Bool(true)),
                    },
                );
            }
            "struct".to_string()
        } else {
            let ty = self.type_of(schema, &format!("{name}Inner"), &mut refs);
            match ty.as_str() {
                t if t.starts_with("one of") || t.starts_with("all of") => t.to_string(),
                t => format!("newtype({t})"),
            }
        };
        self.edges.insert(name.to_string(), refs);
        self.types.insert(
            name.to_string(),
            TypeDef {
                kind,
                fields,
                values,
                open,
                usage: Usage::default(),
            },
        );
    }

    /// The Rust type a schema becomes, registering inline objects as types named after `hint`
    /// and collecting referenced type names into `refs`.
    fn type_of(&mut self, schema: &Value, hint: &str, refs: &mut BTreeSet<String>) -> String {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference
                .rsplit('/')
                .next()
                .unwrap_or(reference)
                .to_string();
            refs.insert(name.clone());
            let target = self
                .doc
                .pointer("/components/schemas")
                .and_then(|s| s.get(&name));
            return match target.and_then(|t| replacement(&name, t)) {
                Some(rust) => rust.to_string(),
                None => name,
            };
        }
        let has_properties = schema.get("properties").is_some();
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            if all.len() == 1 && !has_properties {
                return self.type_of(&all[0], hint, refs);
            }
            if !has_properties {
                let parts: Vec<String> = all
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.type_of(s, &format!("{hint}{i}"), refs))
                    .collect();
                return format!("all of ({})", parts.join(" & "));
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                let parts: Vec<String> = branches
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.type_of(s, &format!("{hint}{i}"), refs))
                    .collect();
                return format!("one of ({})", parts.join(" | "));
            }
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("array") => {
                let item = match schema.get("items") {
                    Some(items) => self.type_of(items, &format!("{hint}Item"), refs),
                    None => "serde_json::Value".into(),
                };
                format!("Vec<{item}>")
            }
            Some("object") | None if has_properties => {
                self.define(hint, schema);
                refs.insert(hint.to_string());
                hint.to_string()
            }
            Some("object") => match schema.get("additionalProperties") {
                Some(v) if v.is_object() => {
                    let value = self.type_of(v, &format!("{hint}Value"), refs);
                    format!("HashMap<String, {value}>")
                }
                _ => "serde_json::Map<String, serde_json::Value>".into(),
            },
            Some(_) => self.scalar(schema),
            None => "serde_json::Value".into(),
        }
    }

    /// Scalar types as progenitor maps them.
    fn scalar(&self, schema: &Value) -> String {
        let format = schema.get("format").and_then(Value::as_str);
        let ty = match (schema.get("type").and_then(Value::as_str), format) {
            (Some("string"), Some("date-time")) => "chrono::DateTime<Utc>",
            (Some("string"), Some("date")) => "chrono::NaiveDate",
            (Some("string"), Some("uuid")) => "uuid::Uuid",
            (Some("string"), _) => "String",
            (Some("integer"), Some("int32")) => "i32",
            (Some("integer"), Some("uint32")) => "u32",
            (Some("integer"), Some("uint64")) => "u64",
            (Some("integer"), _) => "i64",
            (Some("number"), Some("float")) => "f32",
            (Some("number"), _) => "f64",
            (Some("boolean"), _) => "bool",
            (Some(other), _) => other,
            (None, _) => "serde_json::Value",
        };
        ty.to_string()
    }
}
