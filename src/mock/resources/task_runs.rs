//! `/task-runs`: list and retrieve runs (retrieving steps the run in [`StepMode::OnPoll`]),
//! cancel them, answer their interactions, and list their storage.

use crate::mock::StepMode;
use crate::mock::body::JsonBody;
use crate::mock::pagination::{self, page_reply, take};
use crate::mock::reply::{Reply, envelope, json_type, not_found, validation};
use crate::mock::routes::{Query, RequestId, Write};
use crate::mock::state::{Run, Shared, Status, StorageItem, World, splitmix, ts};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The MFA code the mock treats as wrong.
const WRONG_MFA_CODE: &str = "000000";

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    q: Query,
) -> Reply {
    let limit = match pagination::limit(&q, &rid) {
        Ok(l) => l,
        Err(reply) => return reply,
    };
    let created_after = match q.time("created_after", &rid) {
        Ok(t) => t,
        Err(reply) => return reply,
    };
    let created_before = match q.time("created_before", &rid) {
        Ok(t) => t,
        Err(reply) => return reply,
    };
    let lower = |v: Vec<&str>| -> Vec<String> {
        v.into_iter()
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let statuses = lower(q.all("status"));
    let outcomes = lower(q.all("outcome"));
    let sources: Vec<&str> = q
        .all("source_id")
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let task_id = q.one("task_id");
    let agent_id = q.one("agent_id");
    let credential_id = q.one("credential_id");
    let workflow_id = q.one("workflow_id");
    let search = q.one("search").map(str::to_lowercase);

    let world = shared.lock();
    // Runs are stored oldest first; the list walks them backwards from the cursor's run.
    let start = match pagination::cursor(&q, &rid, |id| world.run_index.get(id).copied()) {
        Ok(start) => start.unwrap_or(world.runs.len()),
        Err(reply) => return reply,
    };
    let matches = |run: &Run| -> bool {
        let task = &world.tasks[run.task];
        (statuses.is_empty() || statuses.iter().any(|s| s == run.status.as_str()))
            && (outcomes.is_empty() || run.result.is_some_and(|r| outcomes.iter().any(|o| o == r)))
            && (sources.is_empty()
                || run
                    .source_id
                    .as_deref()
                    .is_some_and(|s| sources.contains(&s)))
            && task_id.is_none_or(|t| task.id == t)
            && agent_id.is_none_or(|a| run.agent_id == a)
            && credential_id.is_none_or(|c| run.credential_id.as_deref() == Some(c))
            && workflow_id.is_none_or(|w| run.workflow_id.as_deref() == Some(w))
            && created_after.is_none_or(|t| run.created_at > t)
            && created_before.is_none_or(|t| run.created_at < t)
            && search.as_deref().is_none_or(|s| {
                task.name.to_lowercase().contains(s)
                    || task.id.to_lowercase().contains(s)
                    || run.id.to_lowercase().contains(s)
            })
    };
    let (page, has_more) = take(
        world.runs[..start].iter().rev().filter(|r| matches(r)),
        limit,
    );
    let data = page
        .iter()
        .map(|r| Value::Object(run_json(&world, r)))
        .collect();
    page_reply(data, has_more, page.last().map(|r| r.id.as_str()), &rid)
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    q: Query,
) -> Reply {
    let mut world = shared.lock();
    let Some(&i) = world.run_index.get(&id) else {
        return run_not_found(&id, &rid);
    };
    if shared.step_mode == StepMode::OnPoll {
        world.step_one(i);
    }
    let sections: Vec<String> = q
        .all("include")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let wants = |s: &str| sections.iter().any(|x| x == s);
    let run = &world.runs[i];
    let mut body = run_json(&world, run);
    if wants("input") {
        body.insert("input".into(), run.input.clone());
        if !run.tokenized.is_empty() {
            body.insert("tokenized".into(), json!(run.tokenized));
        }
    }
    if wants("storage") {
        let items: Vec<Value> = run
            .storage
            .iter()
            .map(|s| {
                let mut item = storage_json(s);
                item.insert("purpose".into(), json!(s.purpose));
                Value::Object(item)
            })
            .collect();
        body.insert("storage".into(), Value::Array(items));
    }
    if wants("artifacts") {
        let shots: Vec<Value> = run
            .screenshots
            .iter()
            .map(|s| {
                json!({
                    "file_name": s.file_name, "file_type": "image/png",
                    "file_size": s.file_size.to_string(),
                    "url": signed_url(&run.id, &s.file_name, world.now),
                    "reasoning": s.reasoning, "created_at": ts(s.created_at),
                })
            })
            .collect();
        body.insert("artifacts".into(), json!({"screenshots": shots}));
    }
    body.insert("request_id".into(), json!(rid));
    Reply::json(StatusCode::OK, Value::Object(body))
}

pub(crate) async fn cancel(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, _| Ok(cancel_run(world, &id, &rid)))
}

fn cancel_run(world: &mut World, id: &str, rid: &str) -> Reply {
    let Some(&i) = world.run_index.get(id) else {
        return run_not_found(id, rid);
    };
    let now = world.now;
    let run = &mut world.runs[i];
    match run.status {
        Status::Completed | Status::Canceled | Status::Failed => {
            return envelope(
                StatusCode::CONFLICT,
                "request",
                "task_run_not_cancelable",
                format!(
                    "Task run '{id}' is already {} and cannot be canceled.",
                    run.status.as_str()
                ),
                None,
                rid,
            );
        }
        Status::Canceling => {}
        Status::Queued | Status::Running | Status::InteractionRequired | Status::ReviewRequired => {
            run.status = Status::Canceling;
            run.interaction = None;
            run.updated_at = now;
            world.run_changed(i);
        }
    }
    run_reply(world, i, StatusCode::OK, rid)
}

pub(crate) async fn submit_interaction(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| {
        Ok(interact(world, &id, body, &rid))
    })
}

fn interact(world: &mut World, id: &str, body: JsonBody, rid: &str) -> Reply {
    // As in ASP.NET, the body is validated (400) before the action looks the run up (404).
    let input = match body.as_ref().and_then(|b| b.get("input")) {
        None | Some(Value::Null) => {
            return validation("input", "The input field is required.".into(), rid);
        }
        Some(Value::Object(map)) => map.clone(),
        Some(other) => {
            return validation(
                "input",
                format!(
                    "The input field must be an object (got {}).",
                    json_type(other)
                ),
                rid,
            );
        }
    };
    let Some(&i) = world.run_index.get(id) else {
        return run_not_found(id, rid);
    };
    let now = world.now;
    let run = &mut world.runs[i];
    if run.status != Status::InteractionRequired {
        return envelope(
            StatusCode::CONFLICT,
            "request",
            "task_run_not_awaiting_interaction",
            format!(
                "Task run '{id}' is {}, not interaction_required; there is nothing to answer.",
                run.status.as_str()
            ),
            None,
            rid,
        );
    }
    let code = match input.get("code") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return envelope(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request",
                "invalid_interaction_input",
                "The interaction requires a value for field 'code'.".into(),
                Some("code"),
                rid,
            );
        }
    };
    run.status = Status::Running;
    run.interaction = None;
    run.mfa_answered = true;
    run.mfa_rejected = code == WRONG_MFA_CODE;
    run.updated_at = now;
    world.run_changed(i);
    run_reply(world, i, StatusCode::OK, rid)
}

pub(crate) async fn list_storage(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    q: Query,
) -> Reply {
    let limit = match pagination::limit(&q, &rid) {
        Ok(l) => l,
        Err(reply) => return reply,
    };
    let world = shared.lock();
    let Some(&i) = world.run_index.get(&id) else {
        return run_not_found(&id, &rid);
    };
    let run = &world.runs[i];
    let start = match pagination::cursor(&q, &rid, |sid| match world.storage_index.get(sid) {
        Some(&(ri, k)) if ri == i => Some(k + 1),
        _ => None,
    }) {
        Ok(start) => start.unwrap_or(0),
        Err(reply) => return reply,
    };
    let rest = run.storage.get(start..).unwrap_or_default();
    let (page, has_more) = take(rest.iter(), limit);
    let data = page
        .iter()
        .map(|s| {
            let mut item = storage_json(s);
            item.insert("task_run_id".into(), json!(run.id));
            Value::Object(item)
        })
        .collect();
    page_reply(data, has_more, page.last().map(|s| s.id.as_str()), &rid)
}

pub(crate) fn run_not_found(id: &str, rid: &str) -> Reply {
    not_found("task_run_not_found", "task run", id, rid)
}

/// Run `i` as the single-object reply of a write.
pub(crate) fn run_reply(world: &World, i: usize, status: StatusCode, rid: &str) -> Reply {
    let mut body = run_json(world, &world.runs[i]);
    body.insert("request_id".into(), json!(rid));
    Reply::json(status, Value::Object(body))
}

/// The fields every task-run object has (list item and detail alike).
pub(crate) fn run_json(world: &World, run: &Run) -> Map<String, Value> {
    let value = json!({
        "id": run.id,
        "object": "task_run",
        "status": run.status.as_str(),
        "result": run.result,
        "task_id": world.tasks[run.task].id,
        "credential_id": run.credential_id,
        "session_id": run.session_id,
        "agent_id": run.agent_id,
        "source_id": run.source_id,
        "runtime_ms": run.runtime_ms,
        "output": run.output,
        "errors": run.errors,
        "interaction": run.interaction,
        "created_at": ts(run.created_at),
        "updated_at": ts(run.updated_at),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A storage item's common fields; `file_size` is a string, as Deck sends it.
pub(crate) fn storage_json(s: &StorageItem) -> Map<String, Value> {
    let value = json!({
        "id": s.id,
        "object": "storage",
        "file_name": s.file_name,
        "file_type": s.file_type,
        "file_size": s.file_size.to_string(),
        "url": signed_url(&s.id, &s.file_name, s.created_at),
        "extraction": s.extraction,
        "created_at": ts(s.created_at),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A placeholder "signed" URL on a host that never resolves (`.invalid`).
fn signed_url(owner: &str, file_name: &str, at: DateTime<Utc>) -> String {
    let expires = (at + TimeDelta::hours(1)).timestamp();
    let signature = splitmix(expires as u64 ^ owner.len() as u64 ^ file_name.len() as u64);
    format!(
        "https://storage.mockdeck.invalid/{owner}/{file_name}?expires={expires}&signature={signature:016x}"
    )
}
