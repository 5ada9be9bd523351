//! `/token`: short-lived session tokens for Deck's Auth Component. MockDeck keeps none: nothing
//! in the API reads a token back.

use crate::mock::reply::{Reply, into_fields, object};
use crate::mock::routes::{RequestId, Write};
use crate::mock::state::{Shared, new_id, ts};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::json;
use std::sync::Arc;

/// Deck's tokens expire 30 minutes after they are made.
const TOKEN_LIFETIME: TimeDelta = TimeDelta::minutes(30);

pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, _| {
        let now = world.tick();
        let fields = json!({
            "id": new_id(&mut world.rng, "tok"),
            "object": "token",
            "token": new_id(&mut world.rng, "tk"),
            "expires_at": ts(now + TOKEN_LIFETIME),
            "created_at": ts(now),
        });
        Ok(object(StatusCode::CREATED, into_fields(fields), &rid))
    })
}
