//! Shared test fixtures: realistic Deck payloads built from the spec's own field lists.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The key every test client uses; tests assert it never leaks.
pub const KEY: &str = "sk_live_TEST_SECRET_9f8e7d6c";

/// A client for a loopback server, with no retries unless a test sets them.
pub fn client(base: &str) -> deck::Client {
    deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{base}/v2"))
        .retry(deck::RetryPolicy::none())
        .build()
        .expect("client")
}

/// A task run as `GET /task-runs/{id}` returns it with every section included, in the awkward
/// forms Deck may send: numbers as strings, an unknown enum value, unknown extra fields.
pub fn task_run_full(id: &str, status: &str) -> Value {
    json!({
        "id": id,
        "object": "task_run",
        "status": status,
        "result": null,
        "task_id": "task_abc",
        "credential_id": "cred_1",
        "session_id": null,
        "agent_id": "agt_1",
        "source_id": null,
        "runtime_ms": "1234",
        "input": {"account": "42"},
        "tokenized": ["password"],
        "output": null,
        "storage": [{
            "id": "stor_1",
            "object": "storage",
            "file_name": "statement.pdf",
            "file_type": "application/pdf",
            "file_size": "12",
            "url": "https://files.example/stor_1",
            "extraction": {"total": 10},
            "purpose": "thumbnail",
            "created_at": "2026-11-01T10:00:00Z",
            "checksum": "added-later"
        }, {
            "id": "stor_2",
            "object": "storage",
            "file_name": "out.csv",
            "file_type": "text/csv",
            "file_size": 34,
            "url": null,
            "extraction": null,
            "purpose": "output",
            "created_at": "2026-11-01T10:00:01Z"
        }],
        "artifacts": {"screenshots": [{
            "file_name": "s1.png", "file_type": "image/png", "file_size": "2048",
            "url": null, "reasoning": null, "created_at": "2026-11-01T10:00:02Z"
        }]},
        "errors": null,
        "interaction": null,
        "created_at": "2026-11-01T09:59:00Z",
        "updated_at": "2026-11-01T10:00:05Z",
        "request_id": "req_run_1",
        "brand_new_field": {"nested": true}
    })
}

/// A list item with `null` in every nullable field.
pub fn task_run_item_nulls(id: &str, status: &str) -> Value {
    json!({
        "id": id, "object": "task_run", "status": status, "result": null,
        "task_id": "task_abc", "credential_id": null, "session_id": null, "agent_id": "agt_1",
        "source_id": null, "runtime_ms": null, "output": null, "errors": null,
        "interaction": null, "created_at": "2026-11-01T09:59:00Z",
        "updated_at": "2026-11-01T10:00:05Z"
    })
}

/// A task as `GET /tasks/{id}` returns it.
pub fn task(id: &str) -> Value {
    json!({
        "id": id, "object": "task", "name": "Download statements",
        "prompt": null, "status": "live", "agent_id": "agt_1",
        "input_schema": {"type": "object"}, "output_schema": null, "storage": null,
        "created_at": "2026-10-01T00:00:00Z", "updated_at": "2026-10-02T00:00:00Z",
        "request_id": "req_task_1", "extraction": false
    })
}

/// A page envelope.
pub fn page(items: Vec<Value>, next: Option<&str>) -> Value {
    json!({"data": items, "has_more": next.is_some(), "next_cursor": next, "request_id": "req_page"})
}

/// Deck's error envelope.
pub fn envelope(kind: &str, code: &str, message: &str, request_id: &str) -> Value {
    json!({"errors": [{"type": kind, "code": code, "message": message, "field": null}], "request_id": request_id})
}

/// A `tracing` writer that keeps everything written, for asserting on logs.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A MockDeck with its seeded tasks and no runs, whose runs move only when the test steps them.
pub async fn manual_mock() -> deck::mock::MockDeck {
    deck::mock::MockDeck::builder()
        .runs(0)
        .step_mode(deck::mock::StepMode::Manual)
        .start()
        .await
}

/// Runs the seeded task named `name` with `input`; answers the new (queued) run.
pub async fn run_seeded(client: &deck::Client, name: &str, input: Value) -> deck::types::TaskRun {
    let tasks = client.list_tasks().send().await.unwrap().into_inner().data;
    let task = tasks
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no seeded task {name:?}"));
    client
        .run_task()
        .task_id(&task.id)
        .input(&input)
        .send()
        .await
        .unwrap()
        .into_inner()
}

/// The seeded task that needs no MFA, and its input.
pub const BILL_TASK: &str = "Fetch latest utility bill";

/// The vendored spec with the overlay, normalised: the document the build generates from,
/// through the generator itself (for tests that follow the spec instead of a hand-kept list).
pub fn normalised_spec() -> Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |file: &str| std::fs::read_to_string(format!("{root}/openapi/{file}")).unwrap();
    let overlay = deck_codegen::Overlay::parse(&read("overlay.json")).unwrap();
    deck_codegen::load(&read("v2.json"), Some(&overlay))
        .unwrap()
        .normalised
}
