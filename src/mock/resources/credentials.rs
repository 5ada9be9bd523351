//! `/credentials`: store, list, retrieve, update and delete credentials. Secrets go in and never
//! come out: a credential shows a summary (the username, non-secret `source_fields`), and a
//! deleted one stays readable with status `deleted` and nothing stored.

use crate::mock::body::{Fields, required};
use crate::mock::pagination::{self, table_page};
use crate::mock::reply::{Answer, Reply, conflict, into_fields, invalid, not_found, object};
use crate::mock::resources::sources::source_not_found;
use crate::mock::routes::{Query, RequestId, Write};
use crate::mock::state::{Credential, Shared, World, credential_summary, new_id, ts};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use std::sync::Arc;

const AUTH_METHODS: [&str; 2] = ["username_password", "none"];
const MAX_EXTERNAL_ID: usize = 255;
const MAX_SOURCE_FIELDS: usize = 10;

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    q: Query,
) -> Answer {
    let limit = pagination::limit(&q, &rid)?;
    let sources: Vec<&str> = q
        .all("source_id")
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let statuses: Vec<String> = q
        .all("status")
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let external_id = q.one("external_id");
    let world = shared.lock();
    let keep = |c: &Credential| {
        (sources.is_empty() || sources.contains(&c.source_id.as_str()))
            && (statuses.is_empty() || statuses.iter().any(|s| s == c.status))
            && external_id.is_none_or(|e| c.external_id.as_deref() == Some(e))
    };
    table_page(&world.credentials, &q, &rid, limit, keep, credential_json)
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
) -> Answer {
    let world = shared.lock();
    let credential = world
        .credentials
        .get(&id)
        .ok_or_else(|| credential_not_found(&id, &rid))?;
    Ok(object(StatusCode::OK, credential_json(credential), &rid))
}

/// Every credential starts `unverified`; a run that logs in with it verifies it.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| {
        let body = required(body, &rid)?;
        let fields = Fields::new(&body, &rid);
        let source_id = fields.required_string("source_id")?;
        let auth_method = fields.string("auth_method")?;
        let auth_credentials = fields.object("auth_credentials")?;
        let external_id = fields.string("external_id")?;
        if world.sources.get(&source_id).is_none() {
            return Err(source_not_found(&source_id, &rid));
        }
        let auth_method = match auth_method.as_deref() {
            None => "none",
            Some(m) => AUTH_METHODS.into_iter().find(|&x| x == m).ok_or_else(|| {
                invalid(
                    "auth_method",
                    format!("auth_method must be username_password or none, not '{m}'."),
                    &rid,
                )
            })?,
        };
        let summary = summarize(auth_method, auth_credentials.as_ref(), &rid)?;
        check_external_id(external_id.as_deref(), &rid)?;
        let now = world.tick();
        let credential = Credential {
            id: new_id(&mut world.rng, "cred"),
            source_id,
            status: "unverified",
            auth_method,
            summary,
            external_id,
            created_at: now,
            updated_at: now,
        };
        world.record("credential.created", credential_summary(&credential));
        let fields = credential_json(&credential);
        world.credentials.insert(credential);
        Ok(object(StatusCode::CREATED, fields, &rid))
    })
}

/// New authentication details make a verified (or invalid) credential `unverified` again,
/// as Deck's `credential.unverified` event describes; a new `external_id` alone does not.
pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, body| {
        let body = required(body, &rid)?;
        let fields = Fields::new(&body, &rid);
        let auth_credentials = fields.object("auth_credentials")?;
        let external_id = fields.patch_string("external_id")?;
        let auth_method = usable_credential(world, &id, &rid)?.auth_method;
        let summary = match &auth_credentials {
            Some(given) => Some(summarize(auth_method, Some(given), &rid)?),
            None => None,
        };
        if let Some(external_id) = &external_id {
            check_external_id(external_id.as_deref(), &rid)?;
        }
        let now = world.tick();
        let Some(credential) = world.credentials.get_mut(&id) else {
            return Err(credential_not_found(&id, &rid));
        };
        if let Some(external_id) = external_id {
            credential.external_id = external_id;
        }
        credential.updated_at = now;
        if let Some(summary) = summary {
            credential.summary = summary;
            world.set_credential_status(&id, "unverified");
        }
        let fields = world
            .credentials
            .get(&id)
            .map(credential_json)
            .unwrap_or_default();
        Ok(object(StatusCode::OK, fields, &rid))
    })
}

/// The credential stays, `deleted`, with nothing stored. Deleting it again answers the same.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, _| {
        let now = world.tick();
        let credential = world
            .credentials
            .get_mut(&id)
            .ok_or_else(|| credential_not_found(&id, &rid))?;
        if credential.status != "deleted" {
            credential.summary = Value::Null;
            credential.updated_at = now;
            world.set_credential_status(&id, "deleted");
        }
        Ok(Reply::json(
            StatusCode::OK,
            json!({"id": id, "object": "credential", "deleted": true, "status": "deleted", "request_id": rid}),
        ))
    })
}

pub(crate) fn credential_not_found(id: &str, rid: &str) -> Reply {
    not_found("credential_not_found", "credential", id, rid)
}

/// Credential `id`, if a run or a session may still use it: it exists and is not deleted.
pub(crate) fn usable_credential<'a>(
    world: &'a World,
    id: &str,
    rid: &str,
) -> Result<&'a Credential, Reply> {
    let credential = world
        .credentials
        .get(id)
        .ok_or_else(|| credential_not_found(id, rid))?;
    if credential.status == "deleted" {
        return Err(conflict(
            "credential_deleted",
            format!("Credential '{id}' was deleted and can no longer be used."),
            rid,
        ));
    }
    Ok(credential)
}

/// Checks `auth_credentials` against `auth_method` and keeps what may be shown of it.
fn summarize(auth_method: &str, given: Option<&Fields>, rid: &str) -> Result<Value, Reply> {
    let mut summary = Map::new();
    if auth_method == "username_password" {
        for key in ["username", "password"] {
            let value = match given {
                Some(fields) => fields.string(key)?,
                None => None,
            };
            if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                return Err(invalid(
                    &format!("auth_credentials.{key}"),
                    format!("auth_credentials.{key} is required for username_password."),
                    rid,
                ));
            }
            if key == "username" {
                summary.insert(key.into(), json!(value));
            }
        }
    }
    if let Some(source_fields) = given.and_then(|g| g.value("source_fields")) {
        summary.insert(
            "source_fields".into(),
            check_source_fields(source_fields, rid)?,
        );
    }
    Ok(match summary.is_empty() {
        true => Value::Null,
        false => Value::Object(summary),
    })
}

/// Deck's rules for `source_fields`: an object of at most 10 entries, keys
/// `^[a-z][a-z0-9_]{0,63}$` other than the reserved `username` and `password`.
fn check_source_fields(value: &Value, rid: &str) -> Result<Value, Reply> {
    let field = "auth_credentials.source_fields";
    let Some(map) = value.as_object() else {
        return Err(invalid(field, format!("{field} must be an object."), rid));
    };
    if map.len() > MAX_SOURCE_FIELDS {
        return Err(invalid(
            field,
            format!("{field} holds at most {MAX_SOURCE_FIELDS} entries."),
            rid,
        ));
    }
    let well_formed = |key: &str| {
        key.len() <= 64
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !matches!(key, "username" | "password")
    };
    if let Some(key) = map.keys().find(|k| !well_formed(k)) {
        return Err(invalid(
            field,
            format!("{field} key '{key}' must match ^[a-z][a-z0-9_]{{0,63}}$ and not be reserved."),
            rid,
        ));
    }
    Ok(value.clone())
}

fn check_external_id(external_id: Option<&str>, rid: &str) -> Result<(), Reply> {
    match external_id {
        Some(e) if e.chars().count() > MAX_EXTERNAL_ID => Err(invalid(
            "external_id",
            format!("external_id is at most {MAX_EXTERNAL_ID} characters."),
            rid,
        )),
        _ => Ok(()),
    }
}

fn credential_json(c: &Credential) -> Map<String, Value> {
    into_fields(json!({
        "id": c.id,
        "object": "credential",
        "status": c.status,
        "external_id": c.external_id,
        "source_id": c.source_id,
        "auth_method": c.auth_method,
        "auth_credentials": c.summary,
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
    }))
}
