//! `/sessions`: start, list, retrieve and end sessions. A session's status follows from its runs
//! (see [`World::session_state`]); ending one cancels the runs still active in it.

use crate::mock::body::{Fields, required};
use crate::mock::pagination::{self, table_page};
use crate::mock::reply::{Answer, Reply, into_fields, not_found, object};
use crate::mock::resources::credentials::usable_credential;
use crate::mock::resources::sources::source_not_found;
use crate::mock::routes::{Query, RequestId, Write};
use crate::mock::state::{Session, Shared, Status, World, new_id, ts};
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
        &world.sessions,
        &q,
        &rid,
        limit,
        |_| true,
        |s| session_json(&world, s),
    )
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
) -> Answer {
    let world = shared.lock();
    let session = world
        .sessions
        .get(&id)
        .ok_or_else(|| session_not_found(&id, &rid))?;
    Ok(object(StatusCode::OK, session_json(&world, session), &rid))
}

/// A new session has no runs yet, so it is `idle`.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| {
        let body = required(body, &rid)?;
        let fields = Fields::new(&body, &rid);
        let credential_id = fields.string("credential_id")?;
        let source_id = fields.string("source_id")?;
        if let Some(id) = &credential_id {
            usable_credential(world, id, &rid)?;
        }
        if let Some(id) = source_id.filter(|id| world.sources.get(id).is_none()) {
            return Err(source_not_found(&id, &rid));
        }
        let now = world.tick();
        let session = Session {
            id: new_id(&mut world.rng, "sess"),
            created_at: now,
            ended_at: None,
        };
        let fields = session_json(world, &session);
        world.sessions.insert(session);
        Ok(object(StatusCode::CREATED, fields, &rid))
    })
}

/// Closes the session: it is `completed` and its active runs are `canceled` at once (the
/// browser they ran in is gone, so there is no `canceling` step). Ending a completed session
/// answers it unchanged.
pub(crate) async fn end(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, _| {
        let session = world
            .sessions
            .get(&id)
            .ok_or_else(|| session_not_found(&id, &rid))?;
        if world.session_state(session).0 == "completed" {
            return Ok(object(StatusCode::OK, session_json(world, session), &rid));
        }
        let now = world.tick();
        let active: Vec<usize> = (0..world.runs.len())
            .filter(|&i| {
                let run = &world.runs[i];
                run.session_id.as_deref() == Some(id.as_str()) && run.status.is_active()
            })
            .collect();
        for i in active {
            let run = &mut world.runs[i];
            run.status = Status::Canceled;
            run.interaction = None;
            run.runtime_ms = run.started_at.map(|s| (now - s).num_milliseconds().max(0));
            run.updated_at = now;
            world.run_changed(i);
        }
        if let Some(session) = world.sessions.get_mut(&id) {
            session.ended_at = Some(now);
        }
        let fields = world
            .sessions
            .get(&id)
            .map(|s| session_json(world, s))
            .unwrap_or_default();
        world.record("session.completed", Value::Object(fields.clone()));
        Ok(object(StatusCode::OK, fields, &rid))
    })
}

pub(crate) fn session_not_found(id: &str, rid: &str) -> Reply {
    not_found("session_not_found", "session", id, rid)
}

fn session_json(world: &World, s: &Session) -> Map<String, Value> {
    let (status, updated_at, end) = world.session_state(s);
    let runs: Vec<Value> = world
        .session_runs(&s.id)
        .map(|r| {
            json!({
                "id": r.id,
                "task_id": world.tasks[r.task].id,
                "agent_id": r.agent_id,
                "credential_id": r.credential_id,
            })
        })
        .collect();
    into_fields(json!({
        "id": s.id,
        "object": "session",
        "status": status,
        "runtime_ms": (end - s.created_at).num_milliseconds().max(0),
        "task_runs": runs,
        "created_at": ts(s.created_at),
        "updated_at": ts(updated_at),
    }))
}
