//! `/tasks`: create, list, retrieve, update, delete and reset tasks, and run one (a new `queued`
//! run).

use crate::mock::body::{Fields, JsonBody, required};
use crate::mock::pagination::{self, page_reply, take};
use crate::mock::reply::{Answer, Reply, conflict, deleted, invalid, json_type, not_found, object};
use crate::mock::resources::agents::agent_not_found;
use crate::mock::resources::credentials::usable_credential;
use crate::mock::resources::sessions::session_not_found;
use crate::mock::resources::sources::source_not_found;
use crate::mock::resources::task_runs::run_reply;
use crate::mock::routes::{Query, RequestId, Write};
use crate::mock::state::{Run, Session, Shared, Status, Task, World, new_id, ts};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
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
    // A cursor names the last task of its page. Deleted since, that task is still known (tasks
    // stay in `world.tasks`): the list goes on after where it stood (newest first), so a cursor
    // survives deletes, as Deck's opaque cursors are expected to.
    let start = match pagination::cursor(&q, &rid, |id| {
        let t = match world.task_index.get(id) {
            Some(&t) => t,
            None => world.tasks.iter().position(|task| task.id == id)?,
        };
        let order = &world.task_order;
        Some(match order.iter().position(|&x| x == t) {
            Some(p) => p + 1,
            None => {
                let at = world.tasks[t].created_at;
                order
                    .iter()
                    .position(|&x| world.tasks[x].created_at < at)
                    .unwrap_or(order.len())
            }
        })
    }) {
        Ok(position) => position.unwrap_or(0),
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

pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| create_task(world, body, &rid))
}

/// A new task starts in `learning`, as Deck's do. `extraction` and `settings` are checked and
/// not kept: the task object has no place for them.
fn create_task(world: &mut World, body: JsonBody, rid: &str) -> Answer {
    let body = required(body, rid)?;
    let fields = Fields::new(&body, rid);
    let name = fields.required_string("name")?;
    let agent_id = fields.required_string("agent_id")?;
    let id = fields.string("id")?;
    let prompt = fields.string("prompt")?;
    fields.boolean("extraction")?;
    fields.object("settings")?;
    if world.agents.get(&agent_id).is_none() {
        return Err(agent_not_found(&agent_id, rid));
    }
    let id = match id {
        Some(id) if world.task_index.contains_key(&id) => {
            return Err(conflict(
                "task_already_exists",
                format!("A task with id '{id}' already exists."),
                rid,
            ));
        }
        Some(id) => id,
        None => new_id(&mut world.rng, "task"),
    };
    let now = world.tick();
    let schema = |key: &str| fields.value(key).cloned().unwrap_or(Value::Null);
    let task = Task {
        id: id.clone(),
        name,
        status: "learning",
        agent_id,
        prompt,
        input_schema: schema("input_schema"),
        output_schema: schema("output_schema"),
        storage: schema("storage"),
        kind: None,
        mfa: false,
        created_at: now,
        updated_at: now,
    };
    world.task_index.insert(id, world.tasks.len());
    world.task_order.insert(0, world.tasks.len());
    world.tasks.push(task);
    changed(
        world,
        world.tasks.len() - 1,
        "task.created",
        StatusCode::CREATED,
        rid,
    )
}

pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| {
        update_task(world, &id, body, &rid)
    })
}

/// Changing what a task does (its prompt or schemas) sends a `live` task back to `test`: Deck
/// says an updated task "may move back to learning or test"; when is MockDeck's choice.
fn update_task(world: &mut World, id: &str, body: JsonBody, rid: &str) -> Answer {
    let body = required(body, rid)?;
    let fields = Fields::new(&body, rid);
    let name = fields.patch_required("name")?;
    let prompt = fields.patch_string("prompt")?;
    fields.boolean("extraction")?;
    fields.object("settings")?;
    let Some(&t) = world.task_index.get(id) else {
        return Err(task_not_found(id, rid));
    };
    let now = world.tick();
    let task = &mut world.tasks[t];
    let mut relearn = false;
    if let Some(name) = name {
        task.name = name;
    }
    if let Some(prompt) = prompt {
        relearn |= prompt != task.prompt;
        task.prompt = prompt;
    }
    for (key, slot) in [
        ("input_schema", &mut task.input_schema),
        ("output_schema", &mut task.output_schema),
    ] {
        if let Some(value) = body.get(key) {
            relearn |= *value != *slot;
            *slot = value.clone();
        }
    }
    if let Some(storage) = body.get("storage") {
        task.storage = storage.clone();
    }
    if relearn && task.status == "live" {
        task.status = "test";
    }
    task.updated_at = now;
    changed(world, t, "task.updated", StatusCode::OK, rid)
}

/// Its runs stay, still naming it.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, _| {
        let Some(t) = world.task_index.remove(&id) else {
            return Err(task_not_found(&id, &rid));
        };
        world.task_order.retain(|&x| x != t);
        world.tick();
        let data = Value::Object(task_json(&world.tasks[t]));
        world.record("task.deleted", data);
        Ok(deleted(&id, "task", &rid))
    })
}

/// Deck does not say what a reset does; MockDeck sends the task back to `learning`.
pub(crate) async fn reset(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, _| {
        let Some(&t) = world.task_index.get(&id) else {
            return Err(task_not_found(&id, &rid));
        };
        let now = world.tick();
        let task = &mut world.tasks[t];
        task.status = "learning";
        task.updated_at = now;
        changed(world, t, "task.reset", StatusCode::OK, &rid)
    })
}

/// Records event `kind` for task `t` and answers the task.
fn changed(world: &mut World, t: usize, kind: &str, status: StatusCode, rid: &str) -> Answer {
    let fields = task_json(&world.tasks[t]);
    world.record(kind, Value::Object(fields.clone()));
    Ok(object(status, fields, rid))
}

fn run_task(world: &mut World, task_id: &str, body: JsonBody, rid: &str) -> Answer {
    let body = body.unwrap_or_default();
    let fields = Fields::new(&body, rid);
    let credential_id = fields.string("credential_id")?;
    let source_id = fields.string("source_id")?;
    let session_id = fields.string("session_id")?;
    let Some(&t) = world.task_index.get(task_id) else {
        return Err(task_not_found(task_id, rid));
    };
    usable_references(
        world,
        credential_id.as_deref(),
        source_id.as_deref(),
        session_id.as_deref(),
        rid,
    )?;
    let mut input = body.get("input").cloned().unwrap_or(Value::Null);
    let task = &world.tasks[t];
    let schema = &task.input_schema;
    if !(input.is_null() || input.is_object()) {
        return Err(invalid(
            "input",
            format!(
                "input must be an object matching the task's input_schema (got {}).",
                json_type(&input)
            ),
            rid,
        ));
    }
    if let Some(required) = schema["required"].as_array() {
        for name in required.iter().filter_map(Value::as_str) {
            let present = input.get(name).is_some_and(|v| !v.is_null());
            if !present {
                return Err(invalid(
                    &format!("input.{name}"),
                    format!("input.{name} is required by the task's input_schema."),
                    rid,
                ));
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
    let needs_mfa = flag("mfa").unwrap_or(task.mfa);
    let fail = flag("fail").unwrap_or(false);
    world.admit_session(session_id.as_deref(), rid)?;

    let now = world.tick();
    let id = new_id(&mut world.rng, "trun");
    // Deck starts a session for a run that names none; the run answers its `session_id`.
    let session_id = match session_id {
        Some(id) => id,
        None => {
            let session = Session {
                id: new_id(&mut world.rng, "sess"),
                created_at: now,
                ended_at: None,
            };
            let id = session.id.clone();
            world.sessions.insert(session);
            id
        }
    };
    let run = Run {
        id,
        task: t,
        agent_id: world.tasks[t].agent_id.clone(),
        status: Status::Queued,
        result: None,
        credential_id,
        session_id: Some(session_id),
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
    world.run_changed(i);
    world.run_started(i);
    Ok(run_reply(world, i, StatusCode::CREATED, rid))
}

/// The credential, source and session a run names must exist, and be usable: not a deleted
/// credential, not a session that has ended.
fn usable_references(
    world: &World,
    credential_id: Option<&str>,
    source_id: Option<&str>,
    session_id: Option<&str>,
    rid: &str,
) -> Result<(), Reply> {
    if let Some(id) = credential_id {
        usable_credential(world, id, rid)?;
    }
    if let Some(id) = source_id
        && world.sources.get(id).is_none()
    {
        return Err(source_not_found(id, rid));
    }
    if let Some(id) = session_id {
        let Some(session) = world.sessions.get(id) else {
            return Err(session_not_found(id, rid));
        };
        if world.session_state(session).0 == "completed" {
            return Err(conflict(
                "session_not_active",
                format!("Session '{id}' has completed; start a new one."),
                rid,
            ));
        }
    }
    Ok(())
}

pub(crate) fn task_not_found(id: &str, rid: &str) -> Reply {
    not_found("task_not_found", "task", id, rid)
}

pub(crate) fn task_json(task: &Task) -> Map<String, Value> {
    let value = json!({
        "id": task.id,
        "object": "task",
        "name": task.name,
        "prompt": task.prompt,
        "status": task.status,
        "agent_id": task.agent_id,
        "input_schema": task.input_schema,
        "output_schema": task.output_schema,
        "storage": task.storage,
        "created_at": ts(task.created_at),
        "updated_at": ts(task.updated_at),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
