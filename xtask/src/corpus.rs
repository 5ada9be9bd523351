//! The drift corpus: Deck specs derived from `openapi/v2.json`, one per class of change a newer
//! (or older, or independently generated) Deck spec can bring, each with what the generator must
//! do with it. `cargo xtask corpus --write` materialises them in `drift-corpus/` (with an
//! `index.json`); `--check` proves the committed files are what the derivations give; the tests
//! (`xtask/tests/corpus.rs`) generate, diff and check each, and CI builds `deck-api` from a few
//! with `DECK_API_SPEC`.
//!
//! The derivations are code, not hand-edited files, so a refreshed `v2.json` refreshes the corpus.

use serde_json::{Map, Value, json};

/// What regenerating `deck-api` from a corpus spec must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Wire-compatible and written differently: the same public API (identical surface).
    Same,
    /// The same API plus new things: `spec diff` reports only changes that break neither
    /// deployed clients nor source.
    Additions,
    /// A real change: `spec diff` reports it; the crate still generates and builds.
    Changes,
    /// The spec removes or retypes what `deck-api`'s own code uses: generation stops with the
    /// contract message naming the item.
    Contract,
}

impl Expect {
    /// `same`, `additions`, `changes` or `contract`.
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Same => "same",
            Expect::Additions => "additions",
            Expect::Changes => "changes",
            Expect::Contract => "contract",
        }
    }
}

/// One derived spec.
pub struct Case {
    /// File stem in `drift-corpus/`.
    pub name: &'static str,
    /// What it changes, and which real case it stands for.
    pub description: &'static str,
    /// What regenerating must give.
    pub expect: Expect,
    /// The derivation, applied to the vendored spec.
    pub derive: fn(&mut Value),
}

/// Every case, in `index.json` order.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "rename-path-params",
            expect: Expect::Same,
            derive: rename_path_params,
            description: "Every path parameter renamed (`{agent_id}` → `{agentId}`): the URLs are the same.",
        },
        Case {
            name: "rename-schemas",
            expect: Expect::Same,
            derive: rename_schemas,
            description: "Every component schema renamed (`GetTaskRunResponse` → `Deck.Contracts.TaskRunModel`), shapes unchanged.",
        },
        Case {
            name: "params-on-path-items",
            expect: Expect::Same,
            derive: params_on_path_items,
            description: "Path parameters declared once on the path item instead of on each operation.",
        },
        Case {
            name: "params-in-components",
            expect: Expect::Same,
            derive: params_in_components,
            description: "Every parameter moved to `components.parameters` and referenced.",
        },
        Case {
            name: "responses-in-components",
            expect: Expect::Same,
            derive: responses_in_components,
            description: "Every response moved to `components.responses` (errors shared by status) and referenced.",
        },
        Case {
            name: "bodies-in-components",
            expect: Expect::Same,
            derive: bodies_in_components,
            description: "Every request body moved to `components.requestBodies` and referenced.",
        },
        Case {
            name: "no-operation-ids",
            expect: Expect::Same,
            derive: no_operation_ids,
            description: "No `operationId` anywhere (Swashbuckle without a naming convention).",
        },
        Case {
            name: "aspnet-operation-ids",
            expect: Expect::Same,
            derive: aspnet_operation_ids,
            description: "ASP.NET-style operation ids (`Agents_GetAgent`) instead of today's.",
        },
        Case {
            name: "problem-json-errors",
            expect: Expect::Same,
            derive: problem_json_errors,
            description: "Errors as `application/problem+json` (ASP.NET's default for validation problems).",
        },
        Case {
            name: "more-error-schemas",
            expect: Expect::Additions,
            derive: more_error_schemas,
            description: "A third error schema (409 and 422 with `ConflictProblem`).",
        },
        Case {
            name: "type-arrays-reordered",
            expect: Expect::Same,
            derive: type_arrays_reordered,
            description: "Every `type` array in reverse order, `examples` on fields, `$ref` with a `description` sibling.",
        },
        Case {
            name: "independent-rendition",
            expect: Expect::Same,
            derive: independent_rendition,
            description: "The same endpoints as another generator writes them: other schema names, operation ids and path parameter names, parameters, responses and bodies in components.",
        },
        Case {
            name: "spec-declares-webhooks",
            expect: Expect::Same,
            derive: spec_declares_webhooks,
            description: "Deck's spec declares one webhook itself (`task_run.completed`, the bare event envelope, `data` untyped): the overlay's typed payload stays for it, with a note, and the other 32 stay.",
        },
        Case {
            name: "spec-declares-enum",
            expect: Expect::Additions,
            derive: spec_declares_enum,
            description: "Deck's spec declares the run status enum inline, with a value the overlay lacks (`paused`).",
        },
        Case {
            name: "const-values",
            expect: Expect::Changes,
            derive: const_values,
            description: "`object` fields declared with `const` (OpenAPI 3.1): they become one-value enums.",
        },
        Case {
            name: "newer",
            expect: Expect::Additions,
            derive: newer,
            description: "A newer spec: a new operation, a new optional field, a new query filter (drift.md E4).",
        },
        Case {
            name: "octet-stream-upload",
            expect: Expect::Additions,
            derive: octet_stream_upload,
            description: "A new raw upload (`application/octet-stream` body).",
        },
        Case {
            name: "multipart-upload",
            expect: Expect::Additions,
            derive: multipart_upload,
            description: "A new form upload (`multipart/form-data` body: a file and a text field, as ASP.NET declares an `IFormFile`).",
        },
        Case {
            name: "older-pagination",
            expect: Expect::Changes,
            derive: older_pagination,
            description: "An older spec: `Limit`/`starting_after`/`ending_before` instead of `limit`/`cursor` (drift.md X6).",
        },
        Case {
            name: "older-task-run",
            expect: Expect::Additions,
            derive: older_task_run,
            description: "An older task run: `workflow_id` and `canceled_at` present (drift.md 2.2).",
        },
        Case {
            name: "older-without-artifacts",
            expect: Expect::Contract,
            derive: older_without_artifacts,
            description: "An older task run without `artifacts` (drift.md 2.2): `TaskRun::screenshots_section` in deck-api's own code reads it.",
        },
        Case {
            name: "result-filter-renamed",
            expect: Expect::Changes,
            derive: result_filter_renamed,
            description: "The run `outcome` filter back as `result` (drift.md 2.1): a renamed query parameter.",
        },
        Case {
            name: "operation-moved",
            expect: Expect::Changes,
            derive: operation_moved,
            description: "`POST /task-runs/{run_id}/cancel` moved to `POST /runs/{run_id}/cancel`.",
        },
        Case {
            name: "constraint-tightened",
            expect: Expect::Changes,
            derive: constraint_tightened,
            description: "A page size limit of 50 instead of 100, and `maxLength` on a create field.",
        },
        Case {
            name: "success-status-changed",
            expect: Expect::Changes,
            derive: success_status_changed,
            description: "`runTask` answers 202 instead of 201.",
        },
        Case {
            name: "field-retyped",
            expect: Expect::Changes,
            derive: field_retyped,
            description: "A response field changes type (an agent's `name` becomes an integer).",
        },
        Case {
            name: "removes-what-src-uses",
            expect: Expect::Contract,
            derive: removes_what_src_uses,
            description: "`GET /task-runs/{run_id}` removed: `wait_for_task_run` in deck-api's own code uses it.",
        },
        Case {
            name: "retypes-what-src-uses",
            expect: Expect::Contract,
            derive: retypes_what_src_uses,
            description: "The run's `status` becomes an object: deck-api's own code matches on its values.",
        },
    ]
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn operations(doc: &mut Value) -> Vec<&mut Map<String, Value>> {
    let mut out = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            if let Some(item) = item.as_object_mut() {
                for (k, op) in item.iter_mut() {
                    if METHODS.contains(&k.as_str())
                        && let Some(op) = op.as_object_mut()
                    {
                        out.push(op);
                    }
                }
            }
        }
    }
    out
}

fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in s.chars() {
        if c == '_' || c == '-' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn rename_path_params(doc: &mut Value) {
    let paths = doc["paths"].as_object_mut().expect("paths");
    let old = std::mem::take(paths);
    for (path, mut item) in old {
        let new_path = path
            .split('/')
            .map(
                |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => format!("{{{}}}", camel(name)),
                    None => seg.to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        for m in METHODS {
            if let Some(params) = item
                .get_mut(*m)
                .and_then(|o| o.get_mut("parameters"))
                .and_then(Value::as_array_mut)
            {
                for p in params {
                    if p["in"] == "path" {
                        let n = camel(p["name"].as_str().unwrap_or(""));
                        p["name"] = json!(n);
                    }
                }
            }
        }
        paths.insert(new_path, item);
    }
}

fn rewrite_schema_refs(value: &mut Value, rename: &dyn Fn(&str) -> String) {
    match value {
        Value::Object(obj) => {
            for (k, v) in obj.iter_mut() {
                if k == "$ref"
                    && let Some(name) = v
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    *v = json!(format!("#/components/schemas/{}", rename(name)));
                } else {
                    rewrite_schema_refs(v, rename);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_schema_refs(v, rename)),
        _ => {}
    }
}

fn rename_schemas(doc: &mut Value) {
    let rename = |name: &str| -> String {
        let base = name
            .strip_prefix("Get")
            .unwrap_or(name)
            .replace("Response", "Model")
            .replace("Request", "Input")
            .replace("PaginatedModelOf", "PageOf");
        format!("Deck.Contracts.{base}")
    };
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas");
    let old = std::mem::take(schemas);
    for (name, schema) in old {
        schemas.insert(rename(&name), schema);
    }
    rewrite_schema_refs(doc, &rename);
}

fn params_on_path_items(doc: &mut Value) {
    for item in doc["paths"].as_object_mut().expect("paths").values_mut() {
        let mut shared: Vec<Value> = Vec::new();
        for m in METHODS {
            if let Some(params) = item
                .get_mut(*m)
                .and_then(|o| o.get_mut("parameters"))
                .and_then(Value::as_array_mut)
            {
                for p in params.iter().filter(|p| p["in"] == "path") {
                    if !shared.iter().any(|s| s["name"] == p["name"]) {
                        shared.push(p.clone());
                    }
                }
                params.retain(|p| p["in"] != "path");
            }
        }
        if !shared.is_empty() {
            item["parameters"] = Value::Array(shared);
        }
    }
}

fn params_in_components(doc: &mut Value) {
    let mut components = Map::new();
    for op in operations(doc) {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("op")
            .to_string();
        if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
            for p in params.iter_mut() {
                let key = format!("{id}.{}", p["name"].as_str().unwrap_or(""));
                components.insert(key.clone(), p.clone());
                *p = json!({"$ref": format!("#/components/parameters/{key}")});
            }
        }
    }
    doc["components"]["parameters"] = Value::Object(components);
}

fn responses_in_components(doc: &mut Value) {
    let mut components = Map::new();
    for op in operations(doc) {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("op")
            .to_string();
        if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
            for (status, r) in responses.iter_mut() {
                let key = if status.starts_with('2') {
                    format!("{id}{status}")
                } else {
                    format!("Error{status}")
                };
                match components.get(&key) {
                    Some(existing) if *existing != *r => continue,
                    _ => {
                        components.insert(key.clone(), r.clone());
                    }
                }
                *r = json!({"$ref": format!("#/components/responses/{key}")});
            }
        }
    }
    doc["components"]["responses"] = Value::Object(components);
}

fn bodies_in_components(doc: &mut Value) {
    let mut components = Map::new();
    for op in operations(doc) {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("op")
            .to_string();
        if let Some(body) = op.get_mut("requestBody") {
            let key = format!("{id}Body");
            components.insert(key.clone(), body.clone());
            *body = json!({"$ref": format!("#/components/requestBodies/{key}"), "description": "The request."});
        }
    }
    doc["components"]["requestBodies"] = Value::Object(components);
}

fn no_operation_ids(doc: &mut Value) {
    for op in operations(doc) {
        op.remove("operationId");
    }
}

fn aspnet_operation_ids(doc: &mut Value) {
    for op in operations(doc) {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let tag = op
            .get("tags")
            .and_then(|t| t.get(0))
            .and_then(Value::as_str)
            .unwrap_or("Api")
            .replace(' ', "");
        let mut chars = id.chars();
        let action: String = chars
            .next()
            .map(|c| c.to_ascii_uppercase())
            .into_iter()
            .chain(chars)
            .collect();
        op.insert("operationId".into(), json!(format!("{tag}_{action}")));
    }
}

fn problem_json_errors(doc: &mut Value) {
    for op in operations(doc) {
        if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
            for (status, r) in responses.iter_mut() {
                if status.starts_with('4')
                    && let Some(content) = r.get_mut("content").and_then(Value::as_object_mut)
                {
                    let schema = content
                        .values()
                        .next()
                        .and_then(|m| m.get("schema"))
                        .cloned();
                    content.clear();
                    if let Some(schema) = schema {
                        content
                            .insert("application/problem+json".into(), json!({"schema": schema}));
                    }
                }
            }
        }
    }
}

fn more_error_schemas(doc: &mut Value) {
    doc["components"]["schemas"]["ConflictProblem"] = json!({"type": "object", "properties": {
        "conflict": {"type": "string"}, "existing_id": {"type": ["null", "string"]}}, "required": ["conflict"]});
    let body = json!({"description": "Conflict", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ConflictProblem"}}}});
    for op in operations(doc) {
        if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
            responses.insert("409".into(), body.clone());
            responses.insert("422".into(), body.clone());
        }
    }
}

fn reverse_type_arrays(value: &mut Value, depth: usize) {
    match value {
        Value::Object(obj) => {
            if let Some(Value::Array(types)) = obj.get_mut("type") {
                types.reverse();
            }
            if obj.get("type") == Some(&json!("string"))
                && obj.get("format").is_none()
                && depth.is_multiple_of(3)
            {
                obj.insert("examples".into(), json!(["an example"]));
            }
            if let Some(r) = obj.get("$ref").cloned()
                && obj.len() == 1
                && depth.is_multiple_of(2)
            {
                obj.insert(
                    "description".into(),
                    json!(format!("See {}.", r.as_str().unwrap_or(""))),
                );
            }
            for v in obj.values_mut() {
                reverse_type_arrays(v, depth + 1);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| reverse_type_arrays(v, depth + 1)),
        _ => {}
    }
}

fn type_arrays_reordered(doc: &mut Value) {
    if let Some(schemas) = doc.pointer_mut("/components/schemas") {
        reverse_type_arrays(schemas, 0);
    }
}

fn independent_rendition(doc: &mut Value) {
    params_on_path_items(doc);
    rename_path_params(doc);
    params_in_components(doc);
    responses_in_components(doc);
    bodies_in_components(doc);
    aspnet_operation_ids(doc);
    rename_schemas(doc);
}

fn spec_declares_webhooks(doc: &mut Value) {
    doc["webhooks"] = json!({"task_run.completed": {"post": {"summary": "A run completed.", "requestBody": {"required": true,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GetEventResponse"}}}},
        "responses": {"200": {"description": "Acknowledged."}}}}});
}

fn spec_declares_enum(doc: &mut Value) {
    for name in ["GetTaskRunResponse", "ListTaskRunData"] {
        doc["components"]["schemas"][name]["properties"]["status"] = json!({"type": "string", "description": "The run's status.",
            "enum": ["queued", "running", "canceling", "interaction_required", "review_required", "completed", "canceled", "failed", "paused"]});
    }
}

fn const_values(doc: &mut Value) {
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas");
    for (name, object) in [
        ("GetAgentResponse", "agent"),
        ("GetSourceResponse", "source"),
    ] {
        if let Some(p) = schemas
            .get_mut(name)
            .and_then(|s| s.pointer_mut("/properties/object"))
        {
            *p = json!({"const": object, "description": "The object's kind."});
        }
    }
}

fn newer(doc: &mut Value) {
    doc["info"]["version"] = json!("2.1.0");
    doc["paths"]["/task-runs/{run_id}/replay"] = json!({"post": {"operationId": "replayTaskRun", "summary": "Replay a task run",
        "parameters": [{"name": "run_id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GetTaskRunResponse"}}}},
            "404": {"description": "Not Found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}}}});
    doc["components"]["schemas"]["GetTaskRunResponse"]["properties"]["session_url"] = json!({"type": ["null", "string"], "description": "Where to watch the run's session live."});
    if let Some(params) = doc
        .pointer_mut("/paths/~1task-runs/get/parameters")
        .and_then(Value::as_array_mut)
    {
        params.push(json!({"name": "tag", "in": "query", "schema": {"type": "string"}, "description": "Only runs with this tag."}));
    }
}

fn octet_stream_upload(doc: &mut Value) {
    doc["paths"]["/storage/{storage_id}/content"] = json!({"put": {"operationId": "uploadStorageContent", "summary": "Replace a stored file's content",
        "parameters": [{"name": "storage_id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GetStorageItemResponse"}}}}}}});
}

fn multipart_upload(doc: &mut Value) {
    doc["paths"]["/storage/files"] = json!({"post": {"operationId": "uploadStorageFile", "summary": "Upload a file to task storage",
        "requestBody": {"required": true, "content": {"multipart/form-data": {
            "schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary", "description": "The file."},
                "path": {"type": ["null", "string"], "description": "Where to store it."}}},
            "encoding": {"file": {"contentType": "application/octet-stream"}}}}},
        "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GetStorageItemResponse"}}}},
            "400": {"description": "Bad Request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}}}});
}

fn older_pagination(doc: &mut Value) {
    for op in operations(doc) {
        if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut)
            && params.iter().any(|p| p["name"] == "cursor")
        {
            params.retain(|p| p["name"] != "cursor" && p["name"] != "limit");
            params.push(json!({"name": "Limit", "in": "query", "schema": {"type": "integer", "format": "int32"}}));
            params.push(
                json!({"name": "starting_after", "in": "query", "schema": {"type": "string"}}),
            );
            params.push(
                json!({"name": "ending_before", "in": "query", "schema": {"type": "string"}}),
            );
        }
    }
}

fn older_task_run(doc: &mut Value) {
    let run = &mut doc["components"]["schemas"]["GetTaskRunResponse"]["properties"];
    run["workflow_id"] = json!({"type": ["null", "string"], "description": "Prefixed with wflo_."});
    run["canceled_at"] = json!({"type": ["null", "string"], "format": "date-time"});
}

fn older_without_artifacts(doc: &mut Value) {
    if let Some(props) = doc
        .pointer_mut("/components/schemas/GetTaskRunResponse/properties")
        .and_then(Value::as_object_mut)
    {
        props.remove("artifacts");
    }
}

fn result_filter_renamed(doc: &mut Value) {
    if let Some(params) = doc
        .pointer_mut("/paths/~1task-runs/get/parameters")
        .and_then(Value::as_array_mut)
    {
        for p in params.iter_mut().filter(|p| p["name"] == "outcome") {
            p["name"] = json!("result");
        }
    }
}

fn operation_moved(doc: &mut Value) {
    let paths = doc["paths"].as_object_mut().expect("paths");
    if let Some(item) = paths.remove("/task-runs/{run_id}/cancel") {
        paths.insert("/runs/{run_id}/cancel".into(), item);
    }
}

fn constraint_tightened(doc: &mut Value) {
    for op in operations(doc) {
        if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
            for p in params.iter_mut().filter(|p| p["name"] == "limit") {
                p["schema"]["maximum"] = json!(50);
            }
        }
    }
    doc["components"]["schemas"]["CreateAgentRequest"]["properties"]["name"]["maxLength"] =
        json!(64);
}

fn success_status_changed(doc: &mut Value) {
    if let Some(responses) = doc
        .pointer_mut("/paths/~1tasks~1{task_id}~1run/post/responses")
        .and_then(Value::as_object_mut)
    {
        let ok: Vec<String> = responses
            .keys()
            .filter(|s| s.starts_with('2'))
            .cloned()
            .collect();
        for status in ok {
            if let Some(r) = responses.remove(&status) {
                responses.insert("202".into(), r);
            }
        }
    }
}

fn field_retyped(doc: &mut Value) {
    doc["components"]["schemas"]["GetAgentResponse"]["properties"]["name"] =
        json!({"type": "integer", "format": "int32"});
}

fn removes_what_src_uses(doc: &mut Value) {
    if let Some(item) = doc
        .pointer_mut("/paths/~1task-runs~1{run_id}")
        .and_then(Value::as_object_mut)
    {
        item.remove("get");
    }
}

fn retypes_what_src_uses(doc: &mut Value) {
    for name in ["GetTaskRunResponse", "ListTaskRunData"] {
        doc["components"]["schemas"][name]["properties"]["status"] =
            json!({"type": "object", "properties": {"code": {"type": "string"}}});
    }
}

/// The spec of `case`, derived from `vendored`.
pub fn derive(vendored: &Value, case: &Case) -> Value {
    let mut doc = vendored.clone();
    (case.derive)(&mut doc);
    doc
}

/// `index.json`: every case with its file, expectation and description.
pub fn index() -> Value {
    Value::Array(
        cases()
            .iter()
            .map(|c| json!({"file": format!("{}.json", c.name), "expect": c.expect.as_str(), "description": c.description}))
            .collect(),
    )
}
