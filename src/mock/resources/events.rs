//! `/events` and `/event-types`: the events MockDeck has recorded, newest first, and the types
//! it knows. Events are recorded from the mock's start: seeded data comes without history.

use crate::mock::pagination::{self, table_page};
use crate::mock::reply::{Answer, Reply, into_fields, not_found, object};
use crate::mock::routes::{Query, RequestId};
use crate::mock::state::{Event, Shared, ts};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The event types of Deck's events reference, with its descriptions where it gives one.
/// (`event_destination.*` come from third-party listings.)
const EVENT_TYPES: [(&str, &str); 32] = [
    ("agent.created", "An agent was created."),
    ("agent.updated", "An agent was updated."),
    ("agent.deleted", "An agent was deleted."),
    ("source.created", "A source was created."),
    ("source.updated", "A source was updated."),
    ("source.deleted", "A source was deleted."),
    (
        "credential.created",
        "A credential was created with unverified status.",
    ),
    (
        "credential.unverified",
        "A previously verified credential was updated and reverted to unverified.",
    ),
    (
        "credential.verified",
        "A credential successfully authenticated for the first time.",
    ),
    ("credential.invalid", "The source rejected a credential."),
    ("credential.deleted", "A credential was deleted."),
    ("session.queued", "A session is waiting to be provisioned."),
    ("session.running", "A session is active and executing work."),
    (
        "session.idle",
        "A session has no active tasks and waits for new work.",
    ),
    (
        "session.completing",
        "A session's work is done and it is shutting down.",
    ),
    (
        "session.completed",
        "All work finished and the session was closed.",
    ),
    ("session.failed", "A session encountered an error."),
    ("task.created", "A task was created."),
    ("task.updated", "A task was updated."),
    ("task.deleted", "A task was deleted."),
    ("task.reset", "A task was reset."),
    ("task_run.queued", "Run is waiting to start."),
    ("task_run.running", "Execution begins."),
    (
        "task_run.interaction_required",
        "The source is asking for user input.",
    ),
    (
        "task_run.review_required",
        "The run is paused waiting for approval.",
    ),
    ("task_run.completed", "The run finished successfully."),
    ("task_run.failed", "The run failed."),
    ("task_run.canceling", "Cancellation was requested."),
    ("task_run.canceled", "The run was canceled."),
    ("storage.created", "A task run stored a file."),
    (
        "event_destination.activated",
        "An event destination was set active.",
    ),
    (
        "event_destination.deactivated",
        "An event destination was set inactive.",
    ),
];

pub(crate) fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.iter().any(|(t, _)| *t == name)
}

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    q: Query,
) -> Answer {
    let limit = pagination::limit(&q, &rid)?;
    let created_after = q.time("created_after", &rid)?;
    let created_before = q.time("created_before", &rid)?;
    let types: Vec<&str> = q
        .all("type")
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    let world = shared.lock();
    let keep = |e: &Event| {
        (types.is_empty() || types.contains(&e.kind.as_str()))
            && created_after.is_none_or(|t| e.created_at > t)
            && created_before.is_none_or(|t| e.created_at < t)
    };
    table_page(&world.events, &q, &rid, limit, keep, event_json)
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
) -> Answer {
    let world = shared.lock();
    let event = world
        .events
        .get(&id)
        .ok_or_else(|| not_found("event_not_found", "event", &id, &rid))?;
    Ok(object(StatusCode::OK, event_json(event), &rid))
}

/// Not paginated.
pub(crate) async fn types(Extension(RequestId(rid)): Extension<RequestId>) -> Reply {
    let data: Vec<Value> = EVENT_TYPES
        .iter()
        .map(|(t, description)| json!({"type": t, "description": description}))
        .collect();
    Reply::json(StatusCode::OK, json!({"data": data, "request_id": rid}))
}

pub(crate) fn event_json(e: &Event) -> Map<String, Value> {
    into_fields(json!({
        "id": e.id,
        "object": "event",
        "type": e.kind,
        "data": e.data,
        "created_at": ts(e.created_at),
    }))
}
