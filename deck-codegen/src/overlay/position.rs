//! Positions: where a type sits in the API, independent of how Deck's spec names or lays it out.
//!
//! An overlay action selects an operation with its JSONPath `target` (by `operationId`, or by the
//! `x-deck-name` an earlier identity action gave it) and narrows it with `x-deck-at`, a position
//! written as `/`-separated steps from the operation:
//!
//! | step | selects |
//! |---|---|
//! | `response` (first step) | the JSON body schema of the operation's success responses |
//! | `response:STATUS` (first step) | the JSON body schema of that response (`response:404`) |
//! | `body` (first step) | the JSON request body schema |
//! | `param:NAME` (first step) | the schema of parameter `NAME` (the operation's, else the path item's) |
//! | a property name | that property, looking through `$ref`s, `allOf` members and nullable wrappers |
//! | `[]` | the array's items |
//! | `{}` | a map's values (`additionalProperties`) |
//! | `?` | the non-null branch of a nullable `oneOf`/`anyOf` (the schema itself when not a union) |
//! | `**` | every schema below, at any depth (`response/**/task_id`: every `task_id` in the body) |
//! | `@type` (last step) | the type at the position: the component a `$ref` points to, or the inline schema |
//!
//! `param:NAME` also finds a path parameter by the name the operation's identity action pinned
//! for its place in the path (`x-deck-path-params`), whatever Deck calls it.
//!
//! Every step follows Reference Objects (`components.responses`, `requestBodies`, `parameters`)
//! and schema `$ref`s, so `getSource` `response/website/@type` is the website type whatever Deck
//! calls it, inline or not. JSONPath (RFC 9535) cannot follow references, hence the extension.

use serde_json::Value;

/// A parsed `x-deck-at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    root: Root,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Root {
    Response,
    Status(String),
    Body,
    Param(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Descendants,
    Property(String),
    Items,
    Values,
    NonNull,
    Type,
}

impl Position {
    /// Parses `response/data/[]/@type`.
    pub fn parse(text: &str) -> Result<Position, String> {
        let mut parts = text.split('/');
        let root = match parts.next().unwrap_or("") {
            "response" => Root::Response,
            "body" => Root::Body,
            p => match (p.strip_prefix("param:"), p.strip_prefix("response:")) {
                (Some(name), _) if !name.is_empty() => Root::Param(name.to_string()),
                (_, Some(status)) if !status.is_empty() => Root::Status(status.to_string()),
                _ => {
                    return Err(format!(
                        "`{text}`: a position starts with `response`, `body` or `param:NAME`"
                    ));
                }
            },
        };
        let mut steps = Vec::new();
        for part in parts {
            if steps.last() == Some(&Step::Type) {
                return Err(format!("`{text}`: `@type` must be the last step"));
            }
            steps.push(match part {
                "[]" => Step::Items,
                "**" => Step::Descendants,
                "{}" => Step::Values,
                "?" => Step::NonNull,
                "@type" => Step::Type,
                "" => return Err(format!("`{text}`: an empty step")),
                name if name.starts_with('@') => {
                    return Err(format!("`{text}`: unknown step `{name}`"));
                }
                name => Step::Property(name.to_string()),
            });
        }
        Ok(Position { root, steps })
    }

    /// The JSON pointers this position selects from the operation at `op` (a pointer into
    /// `doc`), deduplicated, in document order of discovery. Empty when the spec has nothing
    /// there.
    pub fn resolve(&self, doc: &Value, op: &str) -> Vec<String> {
        let mut current = self.roots(doc, op);
        for step in &self.steps {
            let mut next: Vec<String> = Vec::new();
            for ptr in &current {
                for found in step_from(doc, ptr, step) {
                    if !next.contains(&found) {
                        next.push(found);
                    }
                }
            }
            current = next;
        }
        current
    }

    fn roots(&self, doc: &Value, op: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Some(operation) = doc.pointer(op) else {
            return out;
        };
        match &self.root {
            Root::Response => {
                let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
                    return out;
                };
                for (status, _) in responses.iter().filter(|(s, _)| s.starts_with('2')) {
                    let ptr = follow_refs(doc, &format!("{op}/responses/{}", escape(status)));
                    out.extend(json_schemas(doc, &ptr));
                }
            }
            Root::Status(status) => {
                if operation
                    .pointer(&format!("/responses/{}", escape(status)))
                    .is_some()
                {
                    let ptr = follow_refs(doc, &format!("{op}/responses/{}", escape(status)));
                    out.extend(json_schemas(doc, &ptr));
                }
            }
            Root::Body => {
                if operation.get("requestBody").is_some() {
                    let ptr = follow_refs(doc, &format!("{op}/requestBody"));
                    out.extend(json_schemas(doc, &ptr));
                }
            }
            Root::Param(name) => {
                let item = op.rsplit_once('/').map(|(item, _)| item).unwrap_or("");
                // A path parameter under its pinned name: the template's parameter at that place.
                let template_name = operation
                    .get("x-deck-path-params")
                    .and_then(Value::as_array)
                    .and_then(|pinned| pinned.iter().position(|p| p == name.as_str()))
                    .and_then(|i| {
                        let path = item
                            .strip_prefix("/paths/")?
                            .replace("~1", "/")
                            .replace("~0", "~");
                        crate::normalize::components::template_params(&path)
                            .get(i)
                            .cloned()
                    });
                let names: Vec<&str> = [Some(name.as_str()), template_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                for holder in [op.to_string(), item.to_string()] {
                    let Some(params) = doc
                        .pointer(&format!("{holder}/parameters"))
                        .and_then(Value::as_array)
                    else {
                        continue;
                    };
                    for i in 0..params.len() {
                        let ptr = follow_refs(doc, &format!("{holder}/parameters/{i}"));
                        let named = doc
                            .pointer(&ptr)
                            .and_then(|p| p.get("name"))
                            .and_then(Value::as_str)
                            .is_some_and(|n| names.contains(&n));
                        if named && doc.pointer(&format!("{ptr}/schema")).is_some() {
                            out.push(format!("{ptr}/schema"));
                        }
                    }
                    if !out.is_empty() {
                        break;
                    }
                }
            }
        }
        out.dedup();
        out
    }
}

/// The `schema` of each JSON media type of a response or request body.
fn json_schemas(doc: &Value, holder: &str) -> Vec<String> {
    let Some(content) = doc
        .pointer(&format!("{holder}/content"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for (media, m) in content {
        let base = media.split(';').next().unwrap_or("").trim();
        let json = base == "application/json"
            || base == "application/problem+json"
            || base == "text/json"
            || base == "text/plain"
            || base.ends_with("+json");
        if json && m.get("schema").is_some() {
            out.push(format!("{holder}/content/{}/schema", escape(media)));
        }
    }
    out
}

/// Follows `$ref`s (any local one) from `ptr` until a node without one.
fn follow_refs(doc: &Value, ptr: &str) -> String {
    let mut ptr = ptr.to_string();
    for _ in 0..32 {
        match doc
            .pointer(&ptr)
            .and_then(|n| n.get("$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(target) if doc.pointer(target).is_some() => ptr = target.to_string(),
            _ => break,
        }
    }
    ptr
}

/// The schemas a property/items lookup should search from `ptr`: the schema itself behind its
/// `$ref`s, its `allOf` members, and the non-null branch of a nullable union.
fn searched(doc: &Value, ptr: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 8 {
        return;
    }
    let ptr = follow_refs(doc, ptr);
    if out.contains(&ptr) {
        return;
    }
    out.push(ptr.clone());
    let Some(node) = doc.pointer(&ptr) else {
        return;
    };
    if let Some(all) = node.get("allOf").and_then(Value::as_array) {
        for i in 0..all.len() {
            searched(doc, &format!("{ptr}/allOf/{i}"), depth + 1, out);
        }
    }
    if let Some(branch) = non_null_branch(node) {
        searched(doc, &format!("{ptr}/{branch}"), depth + 1, out);
    }
}

/// `oneOf/1` for `{oneOf: [{type: null}, X]}`: the one branch that is not `null`.
fn non_null_branch(node: &Value) -> Option<String> {
    for key in ["oneOf", "anyOf"] {
        let Some(branches) = node.get(key).and_then(Value::as_array) else {
            continue;
        };
        let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
        let rest: Vec<usize> = (0..branches.len())
            .filter(|i| !is_null(&branches[*i]))
            .collect();
        if let [only] = rest.as_slice()
            && rest.len() < branches.len()
        {
            return Some(format!("{key}/{only}"));
        }
    }
    None
}

/// Every schema at or below `ptr` (through references, each visited once).
fn descendants(doc: &Value, ptr: &str, out: &mut Vec<String>) {
    let ptr = follow_refs(doc, ptr);
    if out.contains(&ptr) || out.len() > 4096 {
        return;
    }
    out.push(ptr.clone());
    let Some(node) = doc.pointer(&ptr).and_then(Value::as_object) else {
        return;
    };
    for (key, child) in node {
        match (key.as_str(), child) {
            ("properties", Value::Object(props)) => {
                for name in props.keys() {
                    descendants(doc, &format!("{ptr}/properties/{}", escape(name)), out);
                }
            }
            ("items" | "additionalProperties" | "not", Value::Object(_)) => {
                descendants(doc, &format!("{ptr}/{key}"), out);
            }
            ("allOf" | "oneOf" | "anyOf", Value::Array(branches)) => {
                for i in 0..branches.len() {
                    descendants(doc, &format!("{ptr}/{key}/{i}"), out);
                }
            }
            _ => {}
        }
    }
}

fn step_from(doc: &Value, ptr: &str, step: &Step) -> Vec<String> {
    let child = |key: &str| -> Vec<String> {
        let mut places = Vec::new();
        searched(doc, ptr, 0, &mut places);
        places
            .into_iter()
            .map(|p| format!("{p}/{key}"))
            .filter(|p| doc.pointer(p).is_some_and(Value::is_object))
            .take(1)
            .collect()
    };
    match step {
        Step::Descendants => {
            let mut out = Vec::new();
            descendants(doc, ptr, &mut out);
            out
        }
        Step::Property(name) => child(&format!("properties/{}", escape(name))),
        Step::Items => child("items"),
        Step::Values => child("additionalProperties"),
        Step::NonNull => {
            let node = doc.pointer(ptr);
            match node.and_then(non_null_branch) {
                Some(branch) => vec![format!("{ptr}/{branch}")],
                None => vec![ptr.to_string()],
            }
        }
        Step::Type => {
            let mut ptr = follow_refs(doc, ptr);
            // `{allOf: [$ref]}` (a 3.1 reference with siblings, normalised or written so) and
            // nullable wrappers name the type they wrap.
            for _ in 0..8 {
                let Some(node) = doc.pointer(&ptr) else { break };
                if let Some(branch) = non_null_branch(node) {
                    ptr = follow_refs(doc, &format!("{ptr}/{branch}"));
                    continue;
                }
                match node.get("allOf").and_then(Value::as_array) {
                    Some(all)
                        if all.len() == 1
                            && all[0].get("$ref").is_some()
                            && node.get("properties").is_none() =>
                    {
                        ptr = follow_refs(doc, &format!("{ptr}/allOf/0"));
                    }
                    _ => break,
                }
            }
            vec![ptr]
        }
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `GET /agents/{}` (or with parameter names): the operations whose method matches and whose
/// path has the same shape once parameter names are blanked.
pub fn operations_by_route(doc: &Value, route: &str) -> Vec<String> {
    let Some((method, path)) = route.split_once(' ') else {
        return Vec::new();
    };
    let method = method.to_ascii_lowercase();
    let shape = crate::normalize::components::path_shape(path.trim());
    doc.get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(p, item)| {
            crate::normalize::components::path_shape(p) == shape && item.get(&method).is_some()
        })
        .map(|(p, _)| format!("/paths/{}/{method}", escape(p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "paths": {"/sources/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "get": {
                    "parameters": [{"name": "include", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"$ref": "#/components/responses/Source"}}
                },
                "patch": {"requestBody": {"content": {"application/json": {"schema": {"type": "object",
                    "properties": {"website": {"type": "object"}}}}}}, "responses": {}}
            }},
            "components": {
                "parameters": {"Id": {"name": "source_id", "in": "path", "schema": {"type": "string"}}},
                "responses": {"Source": {"content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SourceResponse"}},
                    "text/json": {"schema": {"$ref": "#/components/schemas/SourceResponse"}}}}},
                "schemas": {
                    "SourceResponse": {"allOf": [{"$ref": "#/components/schemas/Base"}], "properties": {
                        "website": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/SourceWebsite"}]},
                        "tags": {"type": "array", "items": {"type": "string"}}}},
                    "Base": {"properties": {"id": {"type": "string"}}},
                    "SourceWebsite": {"type": "object"}
                }
            }
        })
    }

    fn at(text: &str, op: &str) -> Vec<String> {
        Position::parse(text).unwrap().resolve(&doc(), op)
    }

    const GET: &str = "/paths/~1sources~1{id}/get";

    #[test]
    fn positions_follow_references_through_responses_and_schemas() {
        assert_eq!(
            at("response", GET),
            [
                "/components/responses/Source/content/application~1json/schema",
                "/components/responses/Source/content/text~1json/schema"
            ]
        );
        assert_eq!(
            at("response/@type", GET),
            ["/components/schemas/SourceResponse"]
        );
        assert_eq!(
            at("response/website", GET),
            ["/components/schemas/SourceResponse/properties/website"]
        );
        assert_eq!(
            at("response/website/?", GET),
            ["/components/schemas/SourceResponse/properties/website/oneOf/1"]
        );
        assert_eq!(
            at("response/website/@type", GET),
            ["/components/schemas/SourceWebsite"]
        );
        assert_eq!(
            at("response/id", GET),
            ["/components/schemas/Base/properties/id"]
        );
        assert_eq!(
            at("response/tags/[]", GET),
            ["/components/schemas/SourceResponse/properties/tags/items"]
        );
        assert_eq!(
            at("param:include", GET),
            [format!("{GET}/parameters/0/schema")]
        );
        assert_eq!(
            at("param:source_id", GET),
            ["/components/parameters/Id/schema"]
        );
        let patch = "/paths/~1sources~1{id}/patch";
        assert_eq!(
            at("body/website/@type", patch),
            [format!(
                "{patch}/requestBody/content/application~1json/schema/properties/website"
            )]
        );
        assert!(at("response/missing", GET).is_empty());
        assert_eq!(
            at("response:200/@type", GET),
            ["/components/schemas/SourceResponse"]
        );
        assert!(at("response:404", GET).is_empty());
        assert_eq!(
            at("response/**/id", GET),
            ["/components/schemas/Base/properties/id"]
        );
        assert!(at("body", GET).is_empty());
    }

    #[test]
    fn a_path_parameter_is_found_by_its_pinned_name() {
        let mut d = doc();
        d["paths"]["/sources/{id}"]["get"]["x-deck-path-params"] =
            serde_json::json!(["source_key"]);
        d["components"]["parameters"]["Id"]["name"] = serde_json::json!("id");
        let found = Position::parse("param:source_key")
            .unwrap()
            .resolve(&d, GET);
        assert_eq!(found, ["/components/parameters/Id/schema"]);
    }

    #[test]
    fn malformed_positions_are_refused() {
        for bad in [
            "",
            "responses",
            "param:",
            "response//x",
            "response/@type/x",
            "response/@what",
        ] {
            assert!(Position::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn routes_match_whatever_the_parameters_are_called() {
        assert_eq!(
            operations_by_route(&doc(), "GET /sources/{source_id}"),
            [GET]
        );
        assert_eq!(operations_by_route(&doc(), "get /sources/{}"), [GET]);
        assert!(operations_by_route(&doc(), "DELETE /sources/{}").is_empty());
    }
}
