//! `/event-destinations`: create, list, retrieve, update and delete event destinations, and
//! list their deliveries. A new destination is `active` at once (Deck may verify it first);
//! `webhook` destinations receive signed deliveries (see `mock::deliveries`), the other types
//! are never contacted and list no deliveries.

use crate::mock::body::{Fields, required};
use crate::mock::pagination::{self, table_page};
use crate::mock::reply::{Answer, Reply, deleted, into_fields, invalid, not_found, object};
use crate::mock::resources::events::is_event_type;
use crate::mock::routes::{Query, RequestId, Write};
use crate::mock::state::{DeliveryRow, Destination, Shared, new_id, ts};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Destination types and the fields their configuration object answers with. Fields only sent
/// (`webhook.secret`, `webhook.custom_headers`, `hookdeck.token`) are checked and not kept.
const TYPES: [(&str, &[&str]); 9] = [
    ("webhook", &["url"]),
    ("aws_sqs", &["queue_url"]),
    ("aws_kinesis", &["stream_name", "region"]),
    ("aws_s3", &["bucket", "region"]),
    ("aws_eventbridge", &["event_bus_name", "region"]),
    ("gcp_pubsub", &["project_id", "topic"]),
    ("rabbitmq", &["exchange", "server_url"]),
    ("azure_servicebus", &["name"]),
    ("hookdeck", &[]),
];
const SENT_ONLY: [&str; 3] = ["secret", "custom_headers", "token"];

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    q: Query,
) -> Answer {
    let limit = pagination::limit(&q, &rid)?;
    let world = shared.lock();
    table_page(
        &world.destinations,
        &q,
        &rid,
        limit,
        |_| true,
        destination_json,
    )
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
) -> Answer {
    let world = shared.lock();
    let destination = world
        .destinations
        .get(&id)
        .ok_or_else(|| destination_not_found(&id, &rid))?;
    Ok(object(StatusCode::OK, destination_json(destination), &rid))
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
        let kind = match fields.string("type")? {
            None => "webhook",
            Some(t) => TYPES
                .iter()
                .map(|(kind, _)| *kind)
                .find(|kind| *kind == t)
                .ok_or_else(|| invalid("type", format!("Unknown destination type '{t}'."), &rid))?,
        };
        let events = fields.strings("events")?;
        if let Some(events) = &events {
            check_events(events, &rid)?;
        }
        let config = config(&fields, kind, &rid)?.ok_or_else(|| fields.missing(kind))?;
        let signing = signing(&fields, kind, &rid)?;
        let secret = match (kind, signing.secret) {
            ("webhook", None) => Some(generated_secret(&mut world.rng)),
            (_, secret) => secret,
        };
        let now = world.tick();
        let destination = Destination {
            id: new_id(&mut world.rng, "evtd"),
            name,
            status: "active",
            kind,
            events,
            config,
            secret,
            previous_secret: None,
            headers: signing.headers.unwrap_or_default(),
            created_at: now,
            updated_at: now,
        };
        let fields = destination_json(&destination);
        world.destinations.insert(destination);
        Ok(object(StatusCode::CREATED, fields, &rid))
    })
}

/// A status change records `event_destination.activated` or `.deactivated`.
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
        let status = fields.string("status")?;
        let events = fields.strings("events")?;
        let kind = world
            .destinations
            .get(&id)
            .ok_or_else(|| destination_not_found(&id, &rid))?
            .kind;
        let status = match status.as_deref() {
            None => None,
            Some("active") => Some("active"),
            Some("inactive") => Some("inactive"),
            Some(other) => {
                return Err(invalid(
                    "status",
                    format!("status must be active or inactive, not '{other}'."),
                    &rid,
                ));
            }
        };
        if let Some(events) = &events {
            check_events(events, &rid)?;
        }
        let config = config(&fields, kind, &rid)?;
        let signing = signing(&fields, kind, &rid)?;
        let now = world.tick();
        let Some(destination) = world.destinations.get_mut(&id) else {
            return Err(destination_not_found(&id, &rid));
        };
        let was = destination.status;
        if let Some(name) = name {
            destination.name = name;
        }
        if let Some(status) = status {
            destination.status = status;
        }
        if let Some(events) = events {
            destination.events = Some(events);
        }
        if let Some(config) = config {
            destination.config = config;
        }
        if let Some(secret) = signing.secret
            && destination.secret.as_ref() != Some(&secret)
        {
            // The old secret keeps verifying for 24 h (deliveries carry both signatures).
            destination.previous_secret = destination.secret.replace(secret).map(|old| (old, now));
        }
        if let Some(headers) = signing.headers {
            destination.headers = headers;
        }
        destination.updated_at = now;
        let fields = destination_json(destination);
        let event = match (was, destination.status) {
            ("active", "inactive") => Some("event_destination.deactivated"),
            (before, "active") if before != "active" => Some("event_destination.activated"),
            _ => None,
        };
        if let Some(event) = event {
            world.record(event, Value::Object(fields.clone()));
        }
        Ok(object(StatusCode::OK, fields, &rid))
    })
}

pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    write: Write,
) -> Reply {
    write.apply(&shared, &rid, |world, _| {
        world
            .destinations
            .remove(&id)
            .ok_or_else(|| destination_not_found(&id, &rid))?;
        world.tick();
        Ok(deleted(&id, "event_destination", &rid))
    })
}

/// The destination's deliveries, newest first, filtered by `status` (`success`, `failure`)
/// and `type` (the event type). A delivery still being attempted has no `status` yet.
pub(crate) async fn list_deliveries(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    Path(id): Path<String>,
    q: Query,
) -> Answer {
    let limit = pagination::limit(&q, &rid)?;
    let world = shared.lock();
    if world.destinations.get(&id).is_none() {
        return Err(destination_not_found(&id, &rid));
    }
    let status = q.one("status");
    let event_type = q.one("type");
    let keep = |d: &DeliveryRow| {
        d.destination_id == id
            && status.is_none_or(|s| d.status == Some(s))
            && event_type.is_none_or(|t| d.event_type == t)
    };
    table_page(&world.deliveries, &q, &rid, limit, keep, delivery_json)
}

fn delivery_json(d: &DeliveryRow) -> Map<String, Value> {
    into_fields(json!({
        "object": "event_delivery",
        "event_destination_id": d.destination_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "created_at": ts(d.created_at),
        "delivered_at": d.delivered_at.map(ts),
    }))
}

/// What a `webhook` configuration sends and is never answered.
struct Signing {
    secret: Option<String>,
    headers: Option<Vec<(String, String)>>,
}

/// The `webhook` object's `secret` and `custom_headers` (a JSON-encoded object of strings).
fn signing(fields: &Fields, kind: &str, rid: &str) -> Result<Signing, Reply> {
    let none = Signing {
        secret: None,
        headers: None,
    };
    if kind != "webhook" {
        return Ok(none);
    }
    let Some(given) = fields.object("webhook")? else {
        return Ok(none);
    };
    let secret = given.string("secret")?;
    let headers = match given.string("custom_headers")? {
        None => None,
        Some(text) => {
            let bad = || {
                invalid(
                    "webhook.custom_headers",
                    "custom_headers must be a JSON-encoded object of strings.".into(),
                    rid,
                )
            };
            let map: Map<String, Value> = serde_json::from_str(&text).map_err(|_| bad())?;
            let headers = map
                .into_iter()
                .map(|(k, v)| Some((k, v.as_str()?.to_string())))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(bad)?;
            Some(headers)
        }
    };
    Ok(Signing { secret, headers })
}

/// A signing secret for a webhook created without one (Deck: "Auto-generated if not
/// provided"): `whsec_` and 24 random bytes in base64.
fn generated_secret(rng: &mut fastrand::Rng) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = (0..24).map(|_| rng.u8(..)).collect();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn destination_not_found(id: &str, rid: &str) -> Reply {
    not_found("event_destination_not_found", "event destination", id, rid)
}

/// Deck's rules: not empty, and `*` (every type) alone.
fn check_events(events: &[String], rid: &str) -> Result<(), Reply> {
    let message = if events.is_empty() {
        "events must not be empty; use [\"*\"] for every event type.".to_string()
    } else if events.len() > 1 && events.iter().any(|e| e == "*") {
        "* cannot be combined with specific event types.".to_string()
    } else if let Some(unknown) = events.iter().find(|e| *e != "*" && !is_event_type(e)) {
        format!("Unknown event type '{unknown}'; GET /event-types lists them.")
    } else {
        return Ok(());
    };
    Err(invalid("events", message, rid))
}

/// The configuration object named by `kind`, as answered. An object named by another type is
/// refused: a destination has exactly one.
fn config(fields: &Fields, kind: &str, rid: &str) -> Result<Option<Value>, Reply> {
    if let Some((other, _)) = TYPES
        .iter()
        .find(|(other, _)| *other != kind && fields.value(other).is_some())
    {
        return Err(invalid(
            other,
            format!("A {kind} destination takes only the {kind} configuration object."),
            rid,
        ));
    }
    let Some(given) = fields.object(kind)? else {
        return Ok(None);
    };
    for key in SENT_ONLY {
        given.string(key)?;
    }
    let answered = TYPES
        .iter()
        .find(|(t, _)| *t == kind)
        .map_or(&[][..], |(_, f)| f);
    let mut config = Map::new();
    for &key in answered {
        let value = match (kind, key) {
            ("webhook", "url") => Some(given.required_string(key)?),
            _ => given.string(key)?,
        };
        config.insert(key.into(), json!(value));
    }
    Ok(Some(Value::Object(config)))
}

pub(crate) fn destination_json(d: &Destination) -> Map<String, Value> {
    let mut fields = into_fields(json!({
        "id": d.id,
        "object": "event_destination",
        "name": d.name,
        "status": d.status,
        "type": d.kind,
        "events": d.events,
        "created_at": ts(d.created_at),
        "updated_at": ts(d.updated_at),
    }));
    fields.insert(d.kind.into(), d.config.clone());
    fields
}
