//! `spec diff` on pairs of specs built from the real drift cases in
//! `../shared/deck-spec/drift.md`, each with the exact expected change list.
//!
//! Every pair starts from the vendored `openapi/v2.json` and sets the old and the new state of
//! the part under test explicitly on both sides (inserting or removing it), so the expected list
//! does not depend on what the vendored spec currently says about that part.

use serde_json::{Value, json};
use xtask::commands::diff_texts;
use xtask::diff::{Change, Report};

fn base() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/v2.json");
    let text = std::fs::read_to_string(path).expect("the vendored spec is readable");
    serde_json::from_str(&text).expect("the vendored spec is JSON")
}

/// `BREAKING|ok kind location [value=…]`: one line per change, in report order.
fn summary(c: &Change) -> String {
    let mut s = format!(
        "{} {} {}",
        if c.breaking { "BREAKING" } else { "ok" },
        c.kind.as_str(),
        c.location()
    );
    if let Some(v) = &c.value {
        s.push_str(&format!(" value={v}"));
    }
    s
}

fn diff(old: &Value, new: &Value) -> Report {
    diff_texts(&old.to_string(), &new.to_string()).expect("both sides normalise")
}

fn assert_changes(old: &Value, new: &Value, expected: &[&str]) -> Report {
    let report = diff(old, new);
    let got: Vec<String> = report.changes.iter().map(summary).collect();
    assert_eq!(got, expected, "\nfull report:\n{}", report.to_text());
    assert_eq!(
        report.breaking(),
        expected
            .iter()
            .filter(|e| e.starts_with("BREAKING"))
            .count()
    );
    report
}

fn op<'a>(doc: &'a mut Value, path: &str, method: &str) -> &'a mut Value {
    doc.get_mut("paths")
        .and_then(|p| p.get_mut(path))
        .and_then(|p| p.get_mut(method))
        .unwrap_or_else(|| panic!("the vendored spec has {method} {path}"))
}

fn params<'a>(doc: &'a mut Value, path: &str, method: &str) -> &'a mut Vec<Value> {
    let op = op(doc, path, method);
    if op.get("parameters").is_none() {
        op["parameters"] = json!([]);
    }
    op["parameters"]
        .as_array_mut()
        .expect("parameters is a list")
}

fn remove_param(doc: &mut Value, path: &str, method: &str, name: &str) {
    params(doc, path, method).retain(|p| p["name"] != name);
}

/// Replaces the parameter of that name, or appends it.
fn set_param(doc: &mut Value, path: &str, method: &str, param: Value) {
    let list = params(doc, path, method);
    match list.iter_mut().find(|p| p["name"] == param["name"]) {
        Some(existing) => *existing = param,
        None => list.push(param),
    }
}

fn schema<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    doc.pointer_mut(&format!("/components/schemas/{name}"))
        .unwrap_or_else(|| panic!("the vendored spec has component {name}"))
}

fn set_field(doc: &mut Value, ty: &str, field: &str, definition: Value, required: bool) {
    let s = schema(doc, ty);
    s["properties"][field] = definition;
    if s.get("required").is_none() {
        s["required"] = json!([]);
    }
    let req = s["required"].as_array_mut().expect("required is a list");
    req.retain(|r| r != field);
    if required {
        req.push(json!(field));
    }
}

fn remove_field(doc: &mut Value, ty: &str, field: &str) {
    let s = schema(doc, ty);
    if let Some(props) = s["properties"].as_object_mut() {
        props.remove(field);
    }
    if let Some(req) = s.get_mut("required").and_then(Value::as_array_mut) {
        req.retain(|r| r != field);
    }
}

fn set_schema(doc: &mut Value, name: &str, definition: Value) {
    doc["components"]["schemas"][name] = definition;
}

fn remove_schema(doc: &mut Value, name: &str) {
    doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas")
        .remove(name);
}

fn string_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string"}})
}

/// drift.md X6: `starting_after`/`ending_before` → `cursor` on the list endpoints.
#[test]
fn starting_after_and_ending_before_become_cursor() {
    let mut old = base();
    let mut new = base();
    for name in ["cursor", "starting_after", "ending_before"] {
        remove_param(&mut old, "/task-runs", "get", name);
        remove_param(&mut new, "/task-runs", "get", name);
    }
    set_param(
        &mut old,
        "/task-runs",
        "get",
        string_param(
            "starting_after",
            "Cursor for forward pagination. Pass the ID of the last item from the previous page.",
        ),
    );
    set_param(
        &mut old,
        "/task-runs",
        "get",
        string_param(
            "ending_before",
            "Cursor for backward pagination. Pass the ID of the first item from the previous page.",
        ),
    );
    set_param(
        &mut new,
        "/task-runs",
        "get",
        string_param("cursor", "Cursor from a previous response for pagination."),
    );
    let report = assert_changes(
        &old,
        &new,
        &[
            "ok pagination_added list_task_runs",
            "BREAKING parameter_renamed list_task_runs(starting_after) value=cursor",
            "BREAKING parameter_removed list_task_runs(ending_before)",
        ],
    );
    assert!(
        report.changes[1]
            .detail
            .contains("`.starting_after(…)` setter is gone"),
        "{}",
        report.changes[1].detail
    );
}

/// drift.md 2.1: the `result` enum filter became the `outcome` string array.
#[test]
fn result_filter_becomes_outcome() {
    let mut old = base();
    let mut new = base();
    for doc in [&mut old, &mut new] {
        remove_param(doc, "/task-runs", "get", "result");
        remove_param(doc, "/task-runs", "get", "outcome");
    }
    set_param(
        &mut old,
        "/task-runs",
        "get",
        json!({"name": "result", "in": "query", "description": "Filter by result",
               "schema": {"type": "string", "enum": ["success", "failure", "unknown"]}}),
    );
    set_param(
        &mut new,
        "/task-runs",
        "get",
        json!({"name": "outcome", "in": "query",
               "description": "Filter by run result: success, failure, unknown.",
               "schema": {"type": "array", "items": {"type": "string"}}}),
    );
    // Different types (an open enum vs `Vec<String>`): a removal and an addition, not a rename.
    assert_changes(
        &old,
        &new,
        &[
            "BREAKING parameter_removed list_task_runs(result)",
            "ok parameter_added list_task_runs(outcome)",
            "BREAKING type_removed ListTaskRunsResult",
        ],
    );
}

/// drift.md 2.2 / X3: the newest task-run object has no `workflow_id` and no `canceled_at`.
#[test]
fn workflow_id_and_canceled_at_removed_from_the_task_run() {
    let mut old = base();
    let mut new = base();
    for doc in [&mut old, &mut new] {
        remove_field(doc, "GetTaskRunResponse", "workflow_id");
        remove_field(doc, "GetTaskRunResponse", "canceled_at");
    }
    set_field(
        &mut old,
        "GetTaskRunResponse",
        "workflow_id",
        json!({"description": "Prefixed with wflo_", "type": ["null", "string"]}),
        true,
    );
    set_field(
        &mut old,
        "GetTaskRunResponse",
        "canceled_at",
        json!({"description": "ISO 8601 timestamp of when the run was canceled, if applicable.",
               "type": ["null", "string"], "format": "date-time"}),
        true,
    );
    let report = assert_changes(
        &old,
        &new,
        &[
            "BREAKING field_removed TaskRun.canceled_at",
            "BREAKING field_removed TaskRun.workflow_id",
        ],
    );
    assert!(
        report.changes[0]
            .detail
            .contains("Option<chrono::DateTime<Utc>>"),
        "{}",
        report.changes[0].detail
    );
}

fn artifact_types(doc: &mut Value) {
    set_schema(
        doc,
        "TaskRunScreenshot",
        json!({
            "type": "object",
            "required": ["file_name", "file_type", "file_size", "created_at"],
            "properties": {
                "file_name": {"type": "string"},
                "file_type": {"type": "string"},
                "file_size": {"type": ["integer", "string"], "format": "int64",
                              "pattern": "^-?(?:0|[1-9]\\d*)$"},
                "created_at": {"type": "string", "format": "date-time"},
                "url": {"type": ["null", "string"]},
                "reasoning": {"type": ["null", "string"]}
            }
        }),
    );
    set_schema(
        doc,
        "TaskRunArtifactData",
        json!({
            "type": "object",
            "properties": {
                "screenshots": {"type": "array",
                                "items": {"$ref": "#/components/schemas/TaskRunScreenshot"}}
            }
        }),
    );
}

fn without_artifacts(doc: &mut Value) {
    remove_field(doc, "GetTaskRunResponse", "artifacts");
    remove_field(doc, "GetTaskRunResponse", "screenshots");
    remove_schema(doc, "TaskRunArtifactData");
    remove_schema(doc, "TaskRunScreenshot");
}

/// drift.md 2.2: the newest run object gains `artifacts.screenshots[]` (include-gated, optional).
#[test]
fn new_artifacts_section() {
    let mut old = base();
    let mut new = base();
    without_artifacts(&mut old);
    without_artifacts(&mut new);
    artifact_types(&mut new);
    set_field(
        &mut new,
        "GetTaskRunResponse",
        "artifacts",
        json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/TaskRunArtifactData"}]}),
        false,
    );
    assert_changes(
        &old,
        &new,
        &[
            "ok type_added Screenshot",
            "ok field_added TaskRun.artifacts",
            "ok type_added TaskRunArtifacts",
        ],
    );
}

/// drift.md 2.2: the include flag `screenshots` became `artifacts` (as an enum of include
/// values), and the run object's screenshots moved under `artifacts`.
#[test]
fn screenshots_become_artifacts() {
    let include = |values: Value| {
        json!({"name": "include", "in": "query",
               "schema": {"type": "array", "items": {"type": "string", "enum": values}}})
    };
    let mut old = base();
    let mut new = base();
    set_param(
        &mut old,
        "/task-runs/{run_id}",
        "get",
        include(json!(["input", "storage", "screenshots"])),
    );
    set_param(
        &mut new,
        "/task-runs/{run_id}",
        "get",
        include(json!(["input", "storage", "artifacts"])),
    );
    assert_changes(
        &old,
        &new,
        &[
            "BREAKING enum_value_removed GetTaskRunIncludeItem value=screenshots",
            "ok enum_value_added GetTaskRunIncludeItem value=artifacts",
        ],
    );

    // The response side of the same rename: a top-level `screenshots` list → `artifacts`.
    let mut old = base();
    let mut new = base();
    without_artifacts(&mut old);
    without_artifacts(&mut new);
    artifact_types(&mut old);
    artifact_types(&mut new);
    remove_schema(&mut old, "TaskRunArtifactData");
    set_field(
        &mut old,
        "GetTaskRunResponse",
        "screenshots",
        json!({"type": "array", "items": {"$ref": "#/components/schemas/TaskRunScreenshot"}}),
        false,
    );
    set_field(
        &mut new,
        "GetTaskRunResponse",
        "artifacts",
        json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/TaskRunArtifactData"}]}),
        false,
    );
    assert_changes(
        &old,
        &new,
        &[
            "BREAKING field_removed TaskRun.screenshots",
            "ok field_added TaskRun.artifacts",
            "ok type_added TaskRunArtifacts",
        ],
    );
}

fn status_filter(values: Value) -> Value {
    json!({"name": "status", "in": "query",
           "schema": {"type": "array", "items": {"type": "string", "enum": values}}})
}

/// drift.md 2.1 / §4: the run status gained `review_required`; enums are open, so not breaking.
#[test]
fn a_new_enum_value_is_not_breaking() {
    let mut old = base();
    let mut new = base();
    set_param(
        &mut old,
        "/task-runs",
        "get",
        status_filter(json!([
            "queued",
            "running",
            "canceling",
            "interaction_required",
            "completed",
            "canceled",
            "failed"
        ])),
    );
    set_param(
        &mut new,
        "/task-runs",
        "get",
        status_filter(json!([
            "queued",
            "running",
            "canceling",
            "interaction_required",
            "review_required",
            "completed",
            "canceled",
            "failed"
        ])),
    );
    assert_changes(
        &old,
        &new,
        &["ok enum_value_added ListTaskRunsStatusItem value=review_required"],
    );

    // In a response type too: `TaskRunStorageItem.purpose` is an open enum.
    let purpose = |values: Value| json!({"type": "string", "enum": values, "description": "How the file relates to the run."});
    let mut old = base();
    let mut new = base();
    set_field(
        &mut old,
        "TaskRunStorageItem",
        "purpose",
        purpose(json!(["attachment", "extraction", "output"])),
        true,
    );
    set_field(
        &mut new,
        "TaskRunStorageItem",
        "purpose",
        purpose(json!(["attachment", "extraction", "output", "screenshot"])),
        true,
    );
    let report = assert_changes(
        &old,
        &new,
        &["ok enum_value_added StoragePurpose value=screenshot"],
    );
    assert!(report.changes[0].detail.contains("open enum"));
}

/// drift.md 2.3: `cancelling` → `canceling` is a removal (breaking) plus an addition.
#[test]
fn an_enum_value_respelled_is_a_breaking_removal() {
    let mut old = base();
    let mut new = base();
    set_param(
        &mut old,
        "/task-runs",
        "get",
        status_filter(json!(["queued", "cancelling"])),
    );
    set_param(
        &mut new,
        "/task-runs",
        "get",
        status_filter(json!(["queued", "canceling"])),
    );
    assert_changes(
        &old,
        &new,
        &[
            "BREAKING enum_value_removed ListTaskRunsStatusItem value=cancelling",
            "ok enum_value_added ListTaskRunsStatusItem value=canceling",
        ],
    );
}

/// drift.md 2.8: `GET /sessions` (known from the catalog) appears: a new operation and its types.
#[test]
fn a_new_operation() {
    // drift.md X3: the connections era listed workflow runs (`GET /v2/workflow-runs`).
    let old = base();
    let mut new = base();
    let list_op = op(&mut new, "/tasks", "get").clone();
    let mut runs = list_op;
    runs["operationId"] = json!("listWorkflowRuns");
    runs["summary"] = json!("List workflow runs");
    runs["parameters"] = json!([
        {"name": "limit", "in": "query",
         "schema": {"type": ["integer", "string"], "format": "int32",
                    "pattern": "^-?(?:0|[1-9]\\d*)$"}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}}
    ]);
    let page = json!({"$ref": "#/components/schemas/PaginatedResponseOfWorkflowRunData"});
    for media in ["application/json", "text/json", "text/plain"] {
        if runs["responses"]["200"]["content"].get(media).is_some() {
            runs["responses"]["200"]["content"][media]["schema"] = page.clone();
        }
    }
    new["paths"]["/workflow-runs"] = json!({"get": runs});
    set_schema(
        &mut new,
        "WorkflowRunData",
        json!({"type": "object", "required": ["id", "status"], "properties": {
            "id": {"type": "string", "description": "Prefixed with `wrun_`."},
            "status": {"type": "string",
                       "enum": ["queued", "running", "sleeping", "interaction_required",
                                "completed", "failed", "canceled"]}
        }}),
    );
    set_schema(
        &mut new,
        "PaginatedResponseOfWorkflowRunData",
        json!({"type": "object", "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/WorkflowRunData"}},
            "has_more": {"type": "boolean"},
            "next_cursor": {"type": ["null", "string"]},
            "request_id": {"type": ["null", "string"]}
        }}),
    );
    assert_changes(
        &old,
        &new,
        &[
            "ok operation_added list_workflow_runs",
            "ok type_added PaginatedResponseOfWorkflowRunData",
            "ok type_added WorkflowRunData",
            "ok type_added WorkflowRunDataStatus",
        ],
    );
    // The new operation is paginated like the other lists.
    let overlay = xtask::spec::vendored_overlay().unwrap();
    let spec = deck_codegen::load(&new.to_string(), Some(&overlay)).unwrap();
    let surface = deck_codegen::generate(&spec).unwrap().surface;
    assert!(
        surface.operations["list_workflow_runs"]
            .pagination
            .is_some()
    );
}

/// Normalisation hides spelling differences a Rust user cannot see, and shows the ones they can.
#[test]
fn the_diff_is_computed_after_normalisation() {
    let old = base();
    let mut new = base();
    // Same meaning in another 3.1 spelling, plus reformatting: no change for a Rust user.
    set_field(
        &mut new,
        "TestApiKeyResponse",
        "environment",
        json!({"anyOf": [{"type": "string"}, {"type": "null"}]}),
        false,
    );
    let mut old_env = old.clone();
    set_field(
        &mut old_env,
        "TestApiKeyResponse",
        "environment",
        json!({"type": ["null", "string"]}),
        false,
    );
    let pretty = serde_json::to_string_pretty(&old_env).unwrap();
    let report = diff_texts(&pretty, &new.to_string()).unwrap();
    assert!(report.changes.is_empty(), "{}", report.to_text());

    // `[integer, string]` vs a plain integer on a parameter: the client only sends it, as an
    // `i32` either way, so nothing changes for a Rust user.
    let limit = |schema: Value| json!({"name": "limit", "in": "query", "schema": schema});
    let mut old = base();
    let mut new = base();
    set_param(
        &mut old,
        "/tasks",
        "get",
        limit(json!({"type": ["integer", "string"], "format": "int32",
                     "pattern": "^-?(?:0|[1-9]\\d*)$"})),
    );
    set_param(
        &mut new,
        "/tasks",
        "get",
        limit(json!({"type": "integer", "format": "int32"})),
    );
    assert_changes(&old, &new, &[]);
}

/// The breaking rules that are about optionality, requiredness and statuses.
#[test]
fn breaking_rules_for_optionality_and_statuses() {
    // A response field made optional: `String` → `Option<String>` breaks callers.
    let mut old = base();
    let mut new = base();
    set_field(
        &mut old,
        "TestApiKeyResponse",
        "status",
        json!({"type": "string"}),
        true,
    );
    set_field(
        &mut new,
        "TestApiKeyResponse",
        "status",
        json!({"type": "string"}),
        false,
    );
    assert_changes(
        &old,
        &new,
        &["BREAKING field_made_optional ApiKeyCheck.status"],
    );

    // A response field made nullable: same.
    let mut new = old.clone();
    set_field(
        &mut new,
        "TestApiKeyResponse",
        "status",
        json!({"type": ["string", "null"]}),
        true,
    );
    assert_changes(
        &old,
        &new,
        &["BREAKING field_made_nullable ApiKeyCheck.status"],
    );

    // A nullable response field made optional: still `Option<T>`, nothing breaks.
    let mut old = base();
    let mut new = base();
    let nullable = json!({"type": ["null", "string"]});
    set_field(
        &mut old,
        "TestApiKeyResponse",
        "environment",
        nullable.clone(),
        true,
    );
    set_field(
        &mut new,
        "TestApiKeyResponse",
        "environment",
        nullable,
        false,
    );
    assert_changes(
        &old,
        &new,
        &["ok field_made_optional ApiKeyCheck.environment"],
    );

    // A request field made required breaks callers that did not set it; a new optional one does
    // not; a response field retyped does.
    let mut old = base();
    let mut new = base();
    let s = json!({"type": ["null", "string"]});
    set_field(&mut old, "RunTaskRequest", "session_id", s.clone(), false);
    set_field(&mut new, "RunTaskRequest", "session_id", s, true);
    remove_field(&mut old, "RunTaskRequest", "note");
    set_field(
        &mut new,
        "RunTaskRequest",
        "note",
        json!({"type": "string"}),
        false,
    );
    set_field(
        &mut old,
        "TaskRunError",
        "code",
        json!({"type": "string"}),
        true,
    );
    set_field(
        &mut new,
        "TaskRunError",
        "code",
        json!({"type": "integer"}),
        true,
    );
    assert_changes(
        &old,
        &new,
        &[
            "BREAKING field_retyped ErrorDetail.code",
            "ok field_added RunTaskRequest.note",
            "BREAKING field_made_required RunTaskRequest.session_id",
        ],
    );

    // A new required parameter, a parameter made required, an optional one added.
    let mut old = base();
    let mut new = base();
    for doc in [&mut old, &mut new] {
        remove_param(doc, "/tasks", "get", "region");
        remove_param(doc, "/tasks", "get", "q");
    }
    set_param(&mut old, "/tasks", "get", string_param("agent_id", "a"));
    let mut required = string_param("agent_id", "a");
    required["required"] = json!(true);
    set_param(&mut new, "/tasks", "get", required);
    let mut region = string_param("region", "r");
    region["required"] = json!(true);
    set_param(&mut new, "/tasks", "get", region);
    set_param(&mut new, "/tasks", "get", string_param("q", "free text"));
    assert_changes(
        &old,
        &new,
        &[
            "ok parameter_added list_tasks(q)",
            "BREAKING parameter_added list_tasks(region)",
            "BREAKING parameter_made_required list_tasks(agent_id)",
        ],
    );

    // drift.md §3.3: create-a-source answers 200 where every other create answers 201. A success
    // status removed is breaking (the client rejects the new status); one added is not.
    let mut old = base();
    let mut new = base();
    let responses = &mut op(&mut new, "/tasks/{task_id}/run", "post")["responses"];
    let created = responses
        .as_object_mut()
        .unwrap()
        .remove("201")
        .expect("runTask answers 201");
    responses["200"] = created;
    let old_responses = &mut op(&mut old, "/tasks/{task_id}/run", "post")["responses"];
    old_responses.as_object_mut().unwrap().remove("200");
    assert_changes(
        &old,
        &new,
        &[
            "BREAKING response_status_removed run_task value=201",
            "ok response_status_added run_task value=200",
        ],
    );

    // An error status removed changes nothing a Rust user sees: every error status decodes into
    // `ErrorBody`, so error statuses are not part of the generated surface.
    let old = base();
    let mut new = base();
    op(&mut new, "/tasks/{task_id}", "get")["responses"]
        .as_object_mut()
        .unwrap()
        .remove("409");
    assert_changes(&old, &new, &[]);
}

/// Removing an operation or a type is breaking; identical specs have no changes.
#[test]
fn removals_and_identity() {
    let old = base();
    assert!(diff(&old, &old).changes.is_empty());

    let mut new = base();
    new["paths"].as_object_mut().unwrap().remove("/test");
    remove_schema(&mut new, "TestApiKeyResponse");
    assert_changes(
        &old,
        &new,
        &[
            "BREAKING operation_removed test_api_key",
            "BREAKING type_removed ApiKeyCheck",
        ],
    );
}

/// `--format json` has a stable schema: every key on every change, counts at the top.
#[test]
fn the_json_report_has_a_stable_schema() {
    let mut old = base();
    let new = base();
    remove_param(&mut old, "/task-runs", "get", "search");
    let report = diff(&old, &new);
    let json = report.to_json();
    assert_eq!(json["total"], 1);
    assert_eq!(json["breaking"], 0);
    let change = &json["changes"][0];
    let keys: Vec<&str> = change
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "breaking",
            "detail",
            "field",
            "kind",
            "operation",
            "param",
            "type",
            "value"
        ]
    );
    assert_eq!(change["kind"], "parameter_added");
    assert_eq!(change["operation"], "list_task_runs");
    assert_eq!(change["param"], "search");
    assert_eq!(change["type"], Value::Null);
    assert_eq!(change["breaking"], false);

    let markdown = report.to_markdown();
    assert!(markdown.contains("### Not breaking"), "{markdown}");
    assert!(!markdown.contains("### Breaking"), "{markdown}");
}
