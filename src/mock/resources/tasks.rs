//! `/tasks`: list and retrieve the seeded tasks, and run one (a new `queued` run).

use crate::mock::pagination::{self, page_reply, take};
use crate::mock::reply::{Reply, envelope, json_type, not_found, validation};
use crate::mock::resources::task_runs::run_reply;
use crate::mock::routes::{JsonBody, Query, RequestId, Write};
use crate::mock::seed::{CATALOG, input_schema, output_schema, storage_config};
use crate::mock::state::{Run, Shared, Status, Task, World, new_id, ts};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    q: Query,
) -> Reply {
    let limit = match pagination::limit(&q, &rid) {
        Ok(l) => l,
        Err(reply) => return reply,
    };
    let agent_id = q.one("agent_id");
    let status = q.one("status").map(str::to_ascii_lowercase);
    let world = shared.lock();
    let start = match pagination::cursor(&q, &rid, |id| {
        let &t = world.task_index.get(id)?;
        world.task_order.iter().position(|&x| x == t)
    }) {
        Ok(position) => position.map_or(0, |p| p + 1),
        Err(reply) => return reply,
    };
    let matching = world.task_order[start..]
        .iter()
        .map(|&t| &world.tasks[t])
        .filter(|task| {
            agent_id.is_none_or(|a| task.agent_id == a)
                && status.as_deref().is_none_or(|s| task.status == s)
        });
    let (page, has_more) = take(matching, limit);
    // The spec reuses `GetTaskResponse` for list items, `request_id` (required) included.
    let data = page
        .iter()
        .map(|t| {
            let mut item = task_json(t);
            item.insert("request_id".into(), json!(rid));
            Value::Object(item)
        })
        .collect();
    page_reply(data, has_more, page.last().map(|t| t.id.as_str()), &rid)
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
) -> Reply {
    let world = shared.lock();
    let Some(&t) = world.task_index.get(&id) else {
        return task_not_found(&id, &rid);
    };
    let mut body = task_json(&world.tasks[t]);
    body.insert("request_id".into(), json!(rid));
    Reply::json(StatusCode::OK, Value::Object(body))
}

pub(crate) async fn run(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| {
        run_task(world, &id, body, &rid)
    })
}

fn run_task(world: &mut World, task_id: &str, body: JsonBody, rid: &str) -> Reply {
    let body = body.unwrap_or_default();
    let mut ids = [None, None, None];
    for (slot, field) in ids
        .iter_mut()
        .zip(["credential_id", "source_id", "session_id"])
    {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => *slot = Some(s.clone()),
            Some(other) => {
                return validation(
                    &format!("$.{field}"),
                    format!(
                        "The JSON value could not be converted to System.String (got {}). Path: $.{field}",
                        json_type(other)
                    ),
                    rid,
                );
            }
        }
    }
    let [credential_id, source_id, session_id] = ids;
    let Some(&t) = world.task_index.get(task_id) else {
        return task_not_found(task_id, rid);
    };
    let mut input = body.get("input").cloned().unwrap_or(Value::Null);
    let template = &CATALOG[world.tasks[t].template];
    let schema = input_schema(template.kind);
    if !(input.is_null() || input.is_object()) {
        return envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request",
            "invalid_input",
            format!(
                "input must be an object matching the task's input_schema (got {}).",
                json_type(&input)
            ),
            Some("input"),
            rid,
        );
    }
    if let Some(required) = schema["required"].as_array() {
        for name in required.iter().filter_map(Value::as_str) {
            let present = input.get(name).is_some_and(|v| !v.is_null());
            if !present {
                return envelope(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "request",
                    "invalid_input",
                    format!("input.{name} is required by the task's input_schema."),
                    Some(&format!("input.{name}")),
                    rid,
                );
            }
        }
    }
    // Fields the schema marks `writeOnly` are tokenized: removed from `input`, named in
    // `tokenized`.
    let mut tokenized = Vec::new();
    if let (Some(map), Some(props)) = (input.as_object_mut(), schema["properties"].as_object()) {
        for (name, prop) in props {
            if prop.get("writeOnly") == Some(&Value::Bool(true)) && map.remove(name).is_some() {
                tokenized.push(name.clone());
            }
        }
    }
    let flag = |name: &str| input.get(name).and_then(Value::as_bool);
    let needs_mfa = flag("mfa").unwrap_or(template.mfa);
    let fail = flag("fail").unwrap_or(false);

    // Each created run is a millisecond apart, so creation order shows in `created_at`.
    world.now += TimeDelta::milliseconds(1);
    let now = world.now;
    let run = Run {
        id: new_id(&mut world.rng, "trun"),
        task: t,
        agent_id: world.tasks[t].agent_id.clone(),
        status: Status::Queued,
        result: None,
        credential_id,
        session_id,
        source_id,
        workflow_id: None,
        runtime_ms: None,
        input,
        tokenized,
        output: Value::Null,
        errors: None,
        interaction: None,
        created_at: now,
        updated_at: now,
        started_at: None,
        storage: Vec::new(),
        screenshots: Vec::new(),
        needs_mfa,
        mfa_answered: false,
        mfa_rejected: false,
        fail,
    };
    let i = world.insert_run(run);
    run_reply(world, i, StatusCode::CREATED, rid)
}

fn task_not_found(id: &str, rid: &str) -> Reply {
    not_found("task_not_found", "task", id, rid)
}

fn task_json(task: &Task) -> Map<String, Value> {
    let t = &CATALOG[task.template];
    let value = json!({
        "id": task.id,
        "object": "task",
        "name": task.name,
        "prompt": t.prompt,
        "status": task.status,
        "agent_id": task.agent_id,
        "input_schema": input_schema(t.kind),
        "output_schema": output_schema(t.kind),
        "storage": storage_config(t.kind),
        "created_at": ts(task.created_at),
        "updated_at": ts(task.updated_at),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
