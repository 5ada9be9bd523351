//! Webhooks in the surface: a spec with a top-level `webhooks` section (moved to `x-webhooks` by
//! the normaliser) gets one `webhook` line per event, and payload types reachable only from
//! webhooks count as received (response side), like response bodies.

use deck_codegen::{Overlay, generate, load};
use serde_json::{Value, json};

const SPEC: &str = include_str!("../../openapi/v2.json");
const OVERLAY: &str = include_str!("../../openapi/overlay.json");

fn with_webhooks() -> Value {
    let mut doc: Value = serde_json::from_str(SPEC).unwrap();
    let schemas = &mut doc["components"]["schemas"];
    schemas["SessionIdleData"] = json!({
        "type": "object", "required": ["session_id"],
        "properties": {"session_id": {"type": "string"}, "idle_seconds": {"type": "integer"}}
    });
    schemas["SessionIdleEvent"] = json!({
        "type": "object", "required": ["type", "data"],
        "properties": {
            "type": {"type": "string"},
            "data": {"$ref": "#/components/schemas/SessionIdleData"}
        }
    });
    let hook = |schema: &str| {
        json!({"post": {"requestBody": {"required": true, "content": {"application/json": {
            "schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
            "responses": {"200": {"description": "Acknowledged"}}}})
    };
    doc["webhooks"] = json!({
        "session.idle": hook("SessionIdleEvent"),
        "task_run.completed": hook("GetTaskRunResponse"),
    });
    doc
}

#[test]
fn webhooks_are_in_the_surface_and_their_payloads_are_received() {
    let overlay = Overlay::parse(OVERLAY).unwrap();
    let spec = load(&with_webhooks().to_string(), Some(&overlay)).unwrap();
    let surface = generate(&spec).unwrap().surface;
    let payloads: Vec<(&str, &str)> = surface
        .webhooks
        .iter()
        .map(|(k, v)| (k.as_str(), v.payload.as_str()))
        .collect();
    // The spec's own webhooks win for the event types they declare, and give their payload to
    // the other events of their family; the overlay fills in every other documented event (one
    // declared webhook does not erase the others). The overlay's SDK name applies to payloads
    // too (`GetTaskRunResponse` is `TaskRun`).
    let declared: Vec<(&str, &str)> = payloads
        .iter()
        .copied()
        .filter(|(k, _)| ["session.idle", "task_run.completed"].contains(k))
        .collect();
    assert_eq!(
        declared,
        [
            ("session.idle", "SessionIdleEvent"),
            ("task_run.completed", "TaskRun")
        ]
    );
    assert_eq!(payloads.len(), 33, "{payloads:?}");
    for (event, payload) in &payloads {
        let expected = match event.split('.').next() {
            Some("session") => "SessionIdleEvent",
            Some("task_run") => "TaskRun",
            _ => "Event",
        };
        assert_eq!(*payload, expected, "{event}");
    }
    for ty in ["SessionIdleEvent", "SessionIdleData"] {
        let usage = surface.types[ty].usage;
        assert!(usage.response && !usage.request, "{ty}: {usage:?}");
    }
    let text = surface.render();
    assert!(
        text.contains("\nwebhook session.idle: SessionIdleEvent\n"),
        "{text}"
    );
    assert!(text.contains("\nwebhook task_run.completed: TaskRun\n"));
}
