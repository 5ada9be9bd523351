//! `/sources`: create, list, retrieve, update and delete sources (websites agents log in to).

use crate::mock::body::{Fields, required};
use crate::mock::pagination::{self, table_page};
use crate::mock::reply::{Answer, Reply, deleted, into_fields, not_found, object};
use crate::mock::routes::{Query, RequestId, Write};
use crate::mock::state::{Shared, Source, World, new_id, ts};
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
    table_page(&world.sources, &q, &rid, limit, |_| true, source_json)
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
) -> Answer {
    let world = shared.lock();
    let source = world
        .sources
        .get(&id)
        .ok_or_else(|| source_not_found(&id, &rid))?;
    Ok(object(StatusCode::OK, source_json(source), &rid))
}

/// Answers 200, not 201: Deck documents it so.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| {
        let body = required(body, &rid)?;
        let fields = Fields::new(&body, &rid);
        let kind = fields.required_string("type")?;
        let website = fields.object("website")?;
        let name = fields.string("name")?;
        let Some(website) = website else {
            return Err(fields.missing("website"));
        };
        let url = website.string("url")?;
        let now = world.tick();
        let source = Source {
            id: new_id(&mut world.rng, "src"),
            name,
            kind,
            url,
            created_at: now,
            updated_at: now,
        };
        let id = source.id.clone();
        world.sources.insert(source);
        Ok(changed(world, &id, "source.created", &rid))
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
        let name = fields.patch_string("name")?;
        let url = match fields.object("website")? {
            Some(website) => website.patch_string("url")?,
            None => None,
        };
        let now = world.tick();
        let source = world
            .sources
            .get_mut(&id)
            .ok_or_else(|| source_not_found(&id, &rid))?;
        if let Some(name) = name {
            source.name = name;
        }
        if let Some(url) = url {
            source.url = url;
        }
        source.updated_at = now;
        Ok(changed(world, &id, "source.updated", &rid))
    })
}

/// Credentials and runs of the source stay, still naming it (MockDeck's choice).
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, _| {
        let source = world
            .sources
            .remove(&id)
            .ok_or_else(|| source_not_found(&id, &rid))?;
        world.tick();
        world.record("source.deleted", Value::Object(source_json(&source)));
        Ok(deleted(&id, "source", &rid))
    })
}

pub(crate) fn source_not_found(id: &str, rid: &str) -> Reply {
    not_found("source_not_found", "source", id, rid)
}

/// Records event `kind` for source `id` and answers the source (200 for every write).
fn changed(world: &mut World, id: &str, kind: &str, rid: &str) -> Reply {
    let fields = world.sources.get(id).map(source_json).unwrap_or_default();
    world.record(kind, Value::Object(fields.clone()));
    object(StatusCode::OK, fields, rid)
}

fn source_json(source: &Source) -> Map<String, Value> {
    into_fields(json!({
        "id": source.id,
        "object": "source",
        "name": source.name,
        "type": source.kind,
        "website": {"url": source.url},
        "created_at": ts(source.created_at),
        "updated_at": ts(source.updated_at),
    }))
}
