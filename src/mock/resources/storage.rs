//! `/storage/{storage_id}`: one file a finished run stored, with its signed URL.

use crate::mock::reply::{Answer, not_found, object};
use crate::mock::resources::task_runs::storage_json;
use crate::mock::routes::RequestId;
use crate::mock::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// `result` is `success`: every seeded extraction worked. `metadata` is null.
pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
) -> Answer {
    let world = shared.lock();
    let &(i, k) = world
        .storage_index
        .get(&id)
        .ok_or_else(|| not_found("storage_not_found", "storage item", &id, &rid))?;
    let run = &world.runs[i];
    let mut fields = storage_json(&run.storage[k]);
    fields.insert("task_run_id".into(), json!(run.id));
    fields.insert("metadata".into(), Value::Null);
    fields.insert("result".into(), json!("success"));
    Ok(object(StatusCode::OK, fields, &rid))
}
