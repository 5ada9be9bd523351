//! `/agents`: create, list, retrieve, update and delete agents. An agent shows its tasks.

use crate::mock::body::{Fields, required};
use crate::mock::pagination::{self, table_page};
use crate::mock::reply::{Answer, Reply, deleted, into_fields, not_found, object};
use crate::mock::routes::{Query, RequestId, Write};
use crate::mock::state::{Agent, Shared, World, new_id, ts};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    q: Query,
) -> Answer {
    let limit = pagination::limit(&q, &rid)?;
    let world = shared.lock();
    table_page(
        &world.agents,
        &q,
        &rid,
        limit,
        |_| true,
        |a| agent_json(&world, a),
    )
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
) -> Answer {
    let world = shared.lock();
    let agent = world
        .agents
        .get(&id)
        .ok_or_else(|| agent_not_found(&id, &rid))?;
    Ok(object(StatusCode::OK, agent_json(&world, agent), &rid))
}

pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| {
        let body = required(body, &rid)?;
        let fields = Fields::new(&body, &rid);
        let name = fields.required_string("name")?;
        let description = fields.string("description")?;
        let now = world.tick();
        let agent = Agent {
            id: new_id(&mut world.rng, "agt"),
            name,
            description,
            created_at: now,
            updated_at: now,
        };
        let id = agent.id.clone();
        world.agents.insert(agent);
        Ok(changed(
            world,
            &id,
            "agent.created",
            StatusCode::CREATED,
            &rid,
        ))
    })
}

pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| {
        let body = required(body, &rid)?;
        let fields = Fields::new(&body, &rid);
        let name = fields.patch_required("name")?;
        let description = fields.patch_string("description")?;
        let now = world.tick();
        let agent = world
            .agents
            .get_mut(&id)
            .ok_or_else(|| agent_not_found(&id, &rid))?;
        if let Some(name) = name {
            agent.name = name;
        }
        if let Some(description) = description {
            agent.description = description;
        }
        agent.updated_at = now;
        Ok(changed(world, &id, "agent.updated", StatusCode::OK, &rid))
    })
}

/// Its tasks stay, still naming it (MockDeck's choice; Deck does not say).
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, _| {
        let agent = world
            .agents
            .remove(&id)
            .ok_or_else(|| agent_not_found(&id, &rid))?;
        world.tick();
        let data = Value::Object(agent_json(world, &agent));
        world.record("agent.deleted", data);
        Ok(deleted(&id, "agent", &rid))
    })
}

pub(crate) fn agent_not_found(id: &str, rid: &str) -> Reply {
    not_found("agent_not_found", "agent", id, rid)
}

/// Records event `kind` for agent `id` and answers the agent.
fn changed(world: &mut World, id: &str, kind: &str, status: StatusCode, rid: &str) -> Reply {
    let fields = world
        .agents
        .get(id)
        .map(|agent| agent_json(world, agent))
        .unwrap_or_default();
    world.record(kind, Value::Object(fields.clone()));
    object(status, fields, rid)
}

fn agent_json(world: &World, agent: &Agent) -> Map<String, Value> {
    let tasks: Vec<Value> = world
        .task_order
        .iter()
        .map(|&t| &world.tasks[t])
        .filter(|t| t.agent_id == agent.id)
        .map(|t| json!({"id": t.id, "object": "task", "name": t.name, "status": t.status}))
        .collect();
    into_fields(json!({
        "id": agent.id,
        "object": "agent",
        "name": agent.name,
        "description": agent.description,
        "tasks": tasks,
        "created_at": ts(agent.created_at),
        "updated_at": ts(agent.updated_at),
    }))
}
