//! `spec diff` on pairs of specs built from the real drift cases in
//! `../shared/deck-spec/drift.md`, each with the exact expected change list and both verdicts.
//!
//! Every pair starts from the vendored `openapi/v2.json` and sets the old and the new state of
//! the part under test explicitly on both sides (inserting or removing it), so the expected list
//! does not depend on what the vendored spec currently says about that part.
//!
//! Each expected line starts with the verdicts: `both` (breaks deployed clients and source),
//! `deployed` (breaks clients already deployed against the old spec only), `source` (breaks code
//! once the client is regenerated only) or `ok` (neither).

use serde_json::{Value, json};
use xtask::commands::diff_texts;
use xtask::diff::{Change, Report};

fn base() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/v2.json");
    let text = std::fs::read_to_string(path).expect("the vendored spec is readable");
    serde_json::from_str(&text).expect("the vendored spec is JSON")
}

/// `both|deployed|source|ok kind location [value=…]`: one line per change, in report order.
fn summary(c: &Change) -> String {
    let verdict = match (c.breaking, c.source_breaking) {
        (true, true) => "both",
        (true, false) => "deployed",
        (false, true) => "source",
        (false, false) => "ok",
    };
    let mut s = format!("{verdict} {} {}", c.kind.as_str(), c.location());
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
    assert_report(&report, expected);
    report
}

fn assert_report(report: &Report, expected: &[&str]) {
    let got: Vec<String> = report.changes.iter().map(summary).collect();
    assert_eq!(got, expected, "\nfull report:\n{}", report.to_text());
    let count = |prefixes: &[&str]| {
        expected
            .iter()
            .filter(|e| prefixes.iter().any(|p| e.starts_with(p)))
            .count()
    };
    assert_eq!(report.breaking(), count(&["both ", "deployed "]));
    assert_eq!(report.source_breaking(), count(&["both ", "source "]));
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
            "both parameter_renamed list_task_runs(starting_after) value=cursor",
            "both parameter_removed list_task_runs(ending_before)",
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
            "both parameter_removed list_task_runs(result)",
            "ok parameter_added list_task_runs(outcome)",
            // The type itself is only a Rust name; where it was used is the parameter above.
            "source type_removed ListTaskRunsResult",
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
            // Required (nullable) response fields: deployed clients fail on bodies without them.
            "both field_removed TaskRun.canceled_at",
            "both field_removed TaskRun.workflow_id",
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
            // Sent: deployed clients may still ask for `screenshots`.
            "both enum_value_removed GetTaskRunIncludeItem value=screenshots",
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
            // Optional in the response: deployed clients decode bodies without it.
            "source field_removed TaskRun.screenshots",
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
    // The spec's own enum joins the overlay's `RunStatus` (the spec wins where it speaks, the
    // overlay keeps what it lacks): `review_required` is already a `RunStatus` value, so the
    // typed filter does not change.
    assert_changes(&old, &new, &[]);
    // A value the overlay does not know yet is a new `RunStatus` value: not breaking.
    let mut newer = new.clone();
    set_param(
        &mut newer,
        "/task-runs",
        "get",
        status_filter(json!(["queued", "running", "paused"])),
    );
    assert_changes(
        &new,
        &newer,
        &["ok enum_value_added RunStatus value=paused"],
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
    // Both spellings are `RunStatus::Canceling` (`cancelling` is its alias), whichever the
    // spec lists: nothing changes for deployed or regenerated code.
    assert_changes(&old, &new, &[]);
    // A spelling nobody knows, dropped: a breaking removal of that `RunStatus` value.
    let mut odd = base();
    set_param(
        &mut odd,
        "/task-runs",
        "get",
        status_filter(json!(["queued", "halted"])),
    );
    assert_changes(
        &odd,
        &new,
        &["both enum_value_removed RunStatus value=halted"],
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
    assert_changes(&old, &new, &["both field_made_optional ApiKeyCheck.status"]);

    // A response field made nullable: same.
    let mut new = old.clone();
    set_field(
        &mut new,
        "TestApiKeyResponse",
        "status",
        json!({"type": ["string", "null"]}),
        true,
    );
    assert_changes(&old, &new, &["both field_made_nullable ApiKeyCheck.status"]);

    // A nullable response field made optional: still `Option<T>` in source, but deployed clients
    // require it present (`null` or a value) and fail on bodies without it.
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
        &["deployed field_made_optional ApiKeyCheck.environment"],
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
            "both field_retyped ErrorDetail.code",
            "ok field_added RunTaskRequest.note",
            "both field_made_required RunTaskRequest.session_id",
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
            "both parameter_added list_tasks(region)",
            "both parameter_made_required list_tasks(agent_id)",
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
    let report = assert_changes(
        &old,
        &new,
        &[
            "both operation_removed test_api_key",
            "source type_removed ApiKeyCheck",
        ],
    );
    // The overlay's actions about the removed operation (its identity, its type's name) no
    // longer have a target.
    let dangling: Vec<&str> = report
        .dangling_overlay_actions
        .iter()
        .map(|a| a.target.as_str())
        .collect();
    assert!(!dangling.is_empty(), "{}", report.to_text());
    assert!(
        dangling.iter().all(|t| t.contains("'testApiKey'")),
        "{dangling:?}"
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
            "source_breaking",
            "type",
            "value",
            "webhook"
        ]
    );
    assert_eq!(change["kind"], "parameter_added");
    assert_eq!(change["operation"], "list_task_runs");
    assert_eq!(change["param"], "search");
    assert_eq!(change["type"], Value::Null);
    assert_eq!(change["breaking"], false);
    assert_eq!(change["source_breaking"], false);
    let top: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        top,
        [
            "breaking",
            "changes",
            "contract",
            "dangling_overlay_actions",
            "normaliser_notes",
            "overlay_overrides",
            "source_breaking",
            "total"
        ]
    );
    assert_eq!(json["dangling_overlay_actions"], json!([]));

    let markdown = report.to_markdown();
    assert!(markdown.contains("### Not breaking"), "{markdown}");
    assert!(!markdown.contains("### Breaking"), "{markdown}");
}

fn rename_path(doc: &mut Value, from: &str, to: &str) {
    let paths = doc["paths"].as_object_mut().expect("paths");
    let item = paths
        .remove(from)
        .unwrap_or_else(|| panic!("the vendored spec has {from}"));
    paths.insert(to.to_string(), item);
}

/// An operation that moves keeps its method name, so regenerated code compiles; every deployed
/// binary still calls the old route. drift.md 2.3: the cancel route's path parameter is
/// `task_run_id` in the concept pages and `run_id` in the reference: the same route on the wire,
/// and (its setter name pinned by the overlay) the same Rust API.
#[test]
fn an_operation_moved() {
    let old = base();
    let mut new = base();
    rename_path(&mut new, "/test", "/auth/test");
    let report = assert_changes(&old, &new, &["deployed operation_moved test_api_key"]);
    assert!(
        report.changes[0]
            .detail
            .contains("now GET /auth/test (was GET /test)"),
        "{}",
        report.changes[0].detail
    );

    // Another method on the same path moves it too.
    let mut new = base();
    let cancel = op(&mut new, "/task-runs/{run_id}/cancel", "post").clone();
    new["paths"]["/task-runs/{run_id}/cancel"] = json!({"delete": cancel});
    assert_changes(&old, &new, &["deployed operation_moved cancel_task_run"]);

    // Only the path parameter's name changes: the same route, a renamed setter.
    let mut old = base();
    let new = base();
    rename_path(
        &mut old,
        "/task-runs/{run_id}/cancel",
        "/task-runs/{task_run_id}/cancel",
    );
    op(&mut old, "/task-runs/{task_run_id}/cancel", "post")["parameters"][0]["name"] =
        json!("task_run_id");
    // The overlay pins the setter's name (`run_id`) to the path's first parameter, so the same
    // route under another parameter name is the same API: no change on either axis.
    assert_changes(&old, &new, &[]);
}

/// drift.md §3.3: create-a-source answers 200 where every other create answers 201. The client
/// decodes any 2xx as the success type, so a status changing within 2xx breaks nothing.
#[test]
fn a_success_status_changing_within_2xx_breaks_nothing() {
    let move_status = |doc: &mut Value, path: &str, method: &str, from: &str, to: &str| {
        let responses = &mut op(doc, path, method)["responses"];
        let response = responses
            .as_object_mut()
            .unwrap()
            .remove(from)
            .unwrap_or_else(|| panic!("{method} {path} answers {from}"));
        responses[to] = response;
    };
    let old = base();
    let mut new = base();
    move_status(&mut new, "/sources", "post", "200", "201");
    assert_changes(
        &old,
        &new,
        &[
            "ok response_status_removed create_source value=200",
            "ok response_status_added create_source value=201",
        ],
    );
    let mut new = base();
    move_status(&mut new, "/tasks/{task_id}/run", "post", "201", "200");
    assert_changes(
        &old,
        &new,
        &[
            "ok response_status_removed run_task value=201",
            "ok response_status_added run_task value=200",
        ],
    );
}

/// Request constraints the server enforces: tightening one turns calls deployed clients make
/// into 400s (breaking for them), without changing the Rust surface (not source-breaking).
/// drift.md 2.3 (a plan-dependent `settings.timeout_seconds` cap), 2.6 ("the list must not be
/// empty"), X2 (`google_sso` dropped), 2.11 (an over-long idempotency key becomes a 400).
#[test]
fn request_constraints_tightened() {
    let timeout = |min: u32, max: u32| json!({"type": "integer", "minimum": min, "maximum": max});
    let case = |ty: &str, field: &str, old_def: Value, new_def: Value, expected: &[&str]| {
        let mut old = base();
        let mut new = base();
        set_field(&mut old, ty, field, old_def, false);
        set_field(&mut new, ty, field, new_def, false);
        assert_changes(&old, &new, expected);
    };
    case(
        "CreateTaskRequest",
        "timeout_seconds",
        timeout(60, 3600),
        timeout(60, 1800),
        &["deployed constraint_tightened CreateTaskRequest.timeout_seconds value=maximum"],
    );
    case(
        "CreateTaskRequest",
        "timeout_seconds",
        timeout(60, 3600),
        timeout(120, 3600),
        &["deployed constraint_tightened CreateTaskRequest.timeout_seconds value=minimum"],
    );
    let name = |min: u32, max: u32| json!({"type": "string", "minLength": min, "maxLength": max});
    case(
        "CreateAgentRequest",
        "name",
        name(1, 255),
        name(1, 100),
        &["deployed constraint_tightened CreateAgentRequest.name value=maxLength"],
    );
    case(
        "CreateAgentRequest",
        "name",
        name(1, 255),
        name(3, 255),
        &["deployed constraint_tightened CreateAgentRequest.name value=minLength"],
    );
    let id = |pattern: &str| json!({"type": ["null", "string"], "pattern": pattern});
    case(
        "CreateTaskRequest",
        "id",
        id("^task_"),
        id("^task_[a-z0-9]{8,}$"),
        &["deployed constraint_changed CreateTaskRequest.id value=pattern"],
    );
    // A pattern on a plain string: typify makes the field a validating newtype, so the Rust type
    // changes too (source-breaking), and deployed clients may send what it refuses.
    case(
        "CreateTaskRequest",
        "id",
        json!({"type": ["null", "string"]}),
        id("^task_"),
        &[
            "both field_retyped CreateTaskRequest.id",
            "deployed constraint_tightened CreateTaskRequest.id value=pattern",
            "ok type_added CreateTaskRequestId",
        ],
    );
    let events = |min: u32, max: u32| {
        json!({"type": ["null", "array"], "items": {"type": "string"},
               "minItems": min, "maxItems": max})
    };
    case(
        "CreateEventDestinationRequest",
        "events",
        events(0, 50),
        events(0, 20),
        &["deployed constraint_tightened CreateEventDestinationRequest.events value=maxItems"],
    );
    case(
        "CreateEventDestinationRequest",
        "events",
        events(0, 50),
        events(1, 50),
        &["deployed constraint_tightened CreateEventDestinationRequest.events value=minItems"],
    );
    // Enum values removed from a request field: reported on the enum type.
    let auth = |values: Value| json!({"type": ["null", "string"], "enum": values});
    case(
        "CreateCredentialRequest",
        "auth_method",
        auth(json!(["username_password", "google_sso", "none", null])),
        auth(json!(["username_password", "none", null])),
        &["both enum_value_removed AuthMethod value=google_sso"],
    );

    // A parameter: the server refuses a longer free-text search.
    let search = |max: u32| json!({"name": "search", "in": "query", "schema": {"type": "string", "maxLength": max}});
    let mut old = base();
    let mut new = base();
    set_param(&mut old, "/task-runs", "get", search(200));
    set_param(&mut new, "/task-runs", "get", search(100));
    let report = assert_changes(
        &old,
        &new,
        &["deployed constraint_tightened list_task_runs(search) value=maxLength"],
    );
    assert!(
        report.changes[0].detail.contains("maxLength 200 → 100"),
        "{}",
        report.changes[0].detail
    );
}

/// Relaxed request constraints break nothing; a relaxed response constraint breaks deployed
/// clients whose generated type checks it while decoding (typify's constrained strings).
#[test]
fn constraints_relaxed() {
    let mut old = base();
    let mut new = base();
    let name = |max: u32| json!({"type": "string", "minLength": 1, "maxLength": max});
    set_field(&mut old, "CreateAgentRequest", "name", name(100), true);
    set_field(&mut new, "CreateAgentRequest", "name", name(255), true);
    let timeout = |max: u32| json!({"type": "integer", "minimum": 60, "maximum": max});
    set_field(
        &mut old,
        "CreateTaskRequest",
        "timeout_seconds",
        timeout(1800),
        false,
    );
    set_field(
        &mut new,
        "CreateTaskRequest",
        "timeout_seconds",
        timeout(3600),
        false,
    );
    let file_name = |max: u32| json!({"type": "string", "maxLength": max});
    set_field(
        &mut old,
        "TaskRunStorageItem",
        "file_name",
        file_name(255),
        true,
    );
    set_field(
        &mut new,
        "TaskRunStorageItem",
        "file_name",
        file_name(1024),
        true,
    );
    assert_changes(
        &old,
        &new,
        &[
            "ok constraint_relaxed CreateAgentRequest.name value=maxLength",
            "ok constraint_relaxed CreateTaskRequest.timeout_seconds value=maximum",
            "deployed constraint_relaxed TaskRunStorageItem.file_name value=maxLength",
        ],
    );
}

fn vendored_overlay_json() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/overlay.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn limit_with_maximum(doc: &mut Value, path: &str, maximum: Option<u32>) {
    let mut schema = json!({"type": ["integer", "string"], "format": "int32",
                            "pattern": "^-?(?:0|[1-9]\\d*)$"});
    if let Some(m) = maximum {
        schema["maximum"] = json!(m);
    }
    set_param(
        doc,
        path,
        "get",
        json!({"name": "limit", "in": "query", "schema": schema}),
    );
}

/// The paginator asks for the page size read from the spec at generation time (`limit`'s
/// `maximum`); a deployed client keeps asking for the old one.
#[test]
fn the_paginators_page_size() {
    // Deck states a `limit` maximum of 50. The vendored overlay sets 100 on every list, so it
    // now overrides the spec: every paginator, deployed or regenerated, asks for 100. Nothing
    // changed in the generated surface, but the override is reported.
    let mut old = base();
    let mut new = base();
    limit_with_maximum(&mut old, "/tasks", None);
    limit_with_maximum(&mut new, "/tasks", Some(50));
    let report = assert_changes(&old, &new, &[]);
    assert_eq!(report.overlay_overrides.len(), 1, "{}", report.to_text());
    let o = &report.overlay_overrides[0];
    assert!(
        o.pointer.starts_with("/paths/~1tasks/get/parameters/")
            && o.pointer.ends_with("/schema/maximum"),
        "{}",
        o.pointer
    );
    assert_eq!((&o.spec, &o.overlay), (&json!(50), &json!(100)));
    assert!(
        report.to_text().contains("overlay now overrides"),
        "{}",
        report.to_text()
    );

    // With an overlay that lets the spec's maximum through (the fix for the override above),
    // the lowered page size breaks deployed paginators, not source.
    let mut overlay = vendored_overlay_json();
    overlay["actions"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["x-deck-at"] != "param:limit");
    let overlay = deck_codegen::Overlay::parse(&overlay.to_string()).unwrap();
    let diff_with = |old: &Value, new: &Value| {
        let load = |doc: &Value| deck_codegen::load(&doc.to_string(), Some(&overlay)).unwrap();
        deck_codegen::diff::diff_specs(&load(old), &load(new)).unwrap()
    };
    let report = diff_with(&old, &new);
    assert_report(
        &report,
        &[
            "deployed page_size_lowered list_tasks value=50",
            "deployed constraint_tightened list_tasks(limit) value=maximum",
        ],
    );
    assert!(
        report.changes[0].detail.contains("100 → 50"),
        "{}",
        report.changes[0].detail
    );
    // The reverse: deployed paginators keep asking for 50, still allowed.
    assert_report(
        &diff_with(&new, &old),
        &[
            "ok page_size_raised list_tasks value=100",
            "ok constraint_relaxed list_tasks(limit) value=maximum",
        ],
    );
}

fn event_schema(doc: &mut Value, name: &str, data_required: bool) {
    let required = if data_required {
        json!(["type", "data"])
    } else {
        json!(["type"])
    };
    set_schema(
        doc,
        name,
        json!({"type": "object", "required": required, "properties": {
            "type": {"type": "string", "description": "The event type."},
            "data": {"$ref": "#/components/schemas/GetTaskRunResponse"}
        }}),
    );
}

fn set_webhooks(doc: &mut Value, hooks: &[(&str, &str)]) {
    let mut section = serde_json::Map::new();
    for (event, payload) in hooks {
        section.insert(
            event.to_string(),
            json!({"post": {
                "requestBody": {"required": true, "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{payload}")}}}},
                "responses": {"200": {"description": "Acknowledge the delivery."}}
            }}),
        );
    }
    doc["webhooks"] = Value::Object(section);
}

/// drift.md 2.7: `task_run.pending` gives way to `task_run.review_required`; event payloads are
/// received, so their types follow the response rules.
#[test]
fn webhooks_added_removed_and_changed() {
    let mut old = base();
    let mut new = base();
    for doc in [&mut old, &mut new] {
        event_schema(doc, "TaskRunEvent", true);
    }
    set_webhooks(
        &mut old,
        &[
            ("task_run.pending", "TaskRunEvent"),
            ("task_run.completed", "TaskRunEvent"),
        ],
    );
    set_webhooks(
        &mut new,
        &[
            ("task_run.review_required", "TaskRunEvent"),
            ("task_run.completed", "TaskRunEvent"),
        ],
    );
    // `task_run.review_required` was there before too: the overlay documents it (Deck's docs
    // list it), and a spec's webhooks fill in beside the overlay's, whose family takes the
    // spec's payload. Only the removal is a change.
    assert_changes(
        &old,
        &new,
        &["both webhook_removed webhook task_run.pending"],
    );

    // A payload field made optional: a type reached only from webhooks is received, so it
    // breaks both (`T` → `Option<T>`, and deployed receivers fail on payloads without it).
    let mut changed = old.clone();
    event_schema(&mut changed, "TaskRunEvent", false);
    assert_changes(
        &old,
        &changed,
        &["both field_made_optional TaskRunEvent.data"],
    );

    // A payload retyped: under a new name with the same shape, only source breaks; with another
    // shape, deployed receivers too.
    let mut renamed = old.clone();
    event_schema(&mut renamed, "RunCompletedEvent", true);
    set_webhooks(
        &mut renamed,
        &[
            ("task_run.pending", "TaskRunEvent"),
            ("task_run.completed", "RunCompletedEvent"),
        ],
    );
    assert_changes(
        &old,
        &renamed,
        &[
            "source webhook_retyped webhook task_run.completed",
            "ok type_added RunCompletedEvent",
        ],
    );
    let mut reshaped = renamed.clone();
    set_schema(
        &mut reshaped,
        "RunCompletedEvent",
        json!({"type": "object", "required": ["type", "run_id"], "properties": {
            "type": {"type": "string"}, "run_id": {"type": "string"}
        }}),
    );
    assert_changes(
        &old,
        &reshaped,
        &[
            "both webhook_retyped webhook task_run.completed",
            "ok type_added RunCompletedEvent",
        ],
    );
}

/// drift.md 2.9-style rename of a field the overlay types: Deck calls the storage item's
/// `purpose` `kind`. The overlay action naming its enum matches nothing any more; the diff says
/// so beside the changes (what it typed fell back to Deck's plain shapes).
#[test]
fn a_dangling_overlay_target() {
    let old = base();
    let mut new = base();
    let purpose = schema(&mut new, "TaskRunStorageItem")["properties"]["purpose"].clone();
    remove_field(&mut new, "TaskRunStorageItem", "purpose");
    set_field(&mut new, "TaskRunStorageItem", "kind", purpose, true);
    let report = assert_changes(
        &old,
        &new,
        &[
            "source type_removed StoragePurpose",
            "both field_removed TaskRunStorageItem.purpose",
            "ok field_added TaskRunStorageItem.kind",
            "ok type_added TaskRunStorageItemKind",
        ],
    );
    // The action naming the purpose enum (found by what it does: indices move as the overlay
    // grows) no longer finds its field.
    let overlay = vendored_overlay_json();
    let (index, action) = overlay["actions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .find(|(_, a)| a["update"]["x-deck-name"] == "StoragePurpose")
        .expect("an action names the storage purpose");
    let target = action["target"].as_str().unwrap();
    let dangling: Vec<(usize, &str)> = report
        .dangling_overlay_actions
        .iter()
        .map(|a| (a.index, a.target.as_str()))
        .collect();
    assert_eq!(dangling, [(index, target)]);
    assert!(
        report
            .to_text()
            .contains(&format!("overlay action {index} matches nothing")),
        "{}",
        report.to_text()
    );
    assert!(
        report
            .to_markdown()
            .contains("### Overlay actions not applied to the new spec"),
        "{}",
        report.to_markdown()
    );
    assert_eq!(
        report.to_json()["dangling_overlay_actions"][0]["index"],
        index
    );
}
