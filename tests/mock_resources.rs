//! MockDeck's resources beyond tasks and task runs (agents, sources, credentials, sessions, event
//! destinations, events, storage, tokens, task writes), over raw HTTP, so MockDeck's wire
//! behaviour (statuses, error codes, headers) is pinned independently of the generated client
//! (`every_operation.rs` drives every operation through the client).

use chrono::{DateTime, TimeZone, Utc};
use deck::mock::{MockDeck, StepMode};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;

async fn manual(runs: usize) -> MockDeck {
    MockDeck::builder()
        .runs(runs)
        .start_time(Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap())
        .step_mode(StepMode::Manual)
        .start()
        .await
}

struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
    body: Value,
}

impl Api {
    fn new(mock: &MockDeck) -> Api {
        // Building a deck client installs the rustls crypto provider reqwest needs.
        let _ = mock.client();
        Api {
            http: raw_http(),
            base: mock.base_url().to_string(),
            key: mock.api_key().to_string(),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body), None).await
    }

    async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body), None).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None, None).await
    }

    /// Every item of a list, following cursors.
    async fn all(&self, path: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=100&cursor={c}"),
                None => format!("{path}{sep}limit=100"),
            };
            let page = self.get(&url).await;
            assert_eq!(page.status, 200, "{url}: {}", page.text);
            items.extend(page.body["data"].as_array().unwrap().iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return items,
            }
        }
    }

    /// Types of the events recorded so far, oldest first.
    async fn event_types(&self) -> Vec<String> {
        let mut events: Vec<String> = self
            .all("/events")
            .await
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect();
        events.reverse();
        events
    }
}

fn error_code(answer: &Answer) -> &str {
    answer.body["errors"][0]["code"].as_str().unwrap_or("")
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// A seeded task that asks for no MFA, and its input.
async fn bill_task(api: &Api) -> String {
    let tasks = api.all("/tasks").await;
    let task = tasks
        .iter()
        .find(|t| t["name"] == "Fetch latest utility bill")
        .unwrap();
    task["id"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// Agents and sources
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn agents_are_created_read_listed_updated_and_deleted() {
    let mock = manual(10).await;
    let api = Api::new(&mock);

    let seeded = api.all("/agents").await;
    assert_eq!(seeded.len(), 4);
    let tasks = api.all("/tasks").await;
    for agent in &seeded {
        let own: HashSet<&str> = tasks
            .iter()
            .filter(|t| t["agent_id"] == agent["id"])
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        let listed: HashSet<&str> = agent["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(own, listed, "an agent lists its tasks");
        assert!(
            agent["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["object"] == "task")
        );
    }

    let created = api
        .post(
            "/agents",
            json!({"name": "Hilton Reservations", "description": "Fetch reservations"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let agent = &created.body;
    let id = agent["id"].as_str().unwrap();
    assert!(id.starts_with("agt_"));
    assert_eq!(agent["object"], "agent");
    assert_eq!(agent["tasks"], json!([]));
    assert!(agent["request_id"].as_str().unwrap().starts_with("req_"));
    assert_eq!(agent["created_at"], agent["updated_at"]);

    let got = api.get(&format!("/agents/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["name"], "Hilton Reservations");
    assert_eq!(api.all("/agents").await[0]["id"], id, "newest first");

    let updated = api
        .patch(&format!("/agents/{id}"), json!({"description": null}))
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(
        updated.body["name"], "Hilton Reservations",
        "absent: unchanged"
    );
    assert_eq!(updated.body["description"], Value::Null, "null: cleared");
    assert!(time(&updated.body["updated_at"]) > time(&agent["updated_at"]));

    let gone = api.delete(&format!("/agents/{id}")).await;
    assert_eq!(gone.status, 200);
    assert_eq!(
        gone.body,
        json!({"id": id, "object": "agent", "deleted": true, "request_id": gone.body["request_id"]})
    );
    for answer in [
        api.get(&format!("/agents/{id}")).await,
        api.patch(&format!("/agents/{id}"), json!({"name": "x"}))
            .await,
        api.delete(&format!("/agents/{id}")).await,
    ] {
        assert_eq!(answer.status, 404);
        assert_eq!(error_code(&answer), "agent_not_found");
    }
    assert_eq!(api.all("/agents").await.len(), 4);

    let events = api.event_types().await;
    assert_eq!(events, ["agent.created", "agent.updated", "agent.deleted"]);

    // Validation: a missing name is ASP.NET's 400 map.
    let bad = api.post("/agents", json!({"description": "no name"})).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["errors"]["name"][0].is_string(), "{}", bad.text);
    let bad = api.post("/agents", json!({"name": 5})).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["errors"]["$.name"].is_array(), "{}", bad.text);
}

#[tokio::test]
async fn sources_answer_200_on_create_and_404_after_delete() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    assert_eq!(api.all("/sources").await.len(), 4);

    let created = api
        .post(
            "/sources",
            json!({"type": "website", "name": "Hilton", "website": {"url": "https://www.hilton.com"}}),
        )
        .await;
    assert_eq!(
        created.status, 200,
        "Deck's documented quirk: {}",
        created.text
    );
    let id = created.body["id"].as_str().unwrap();
    assert!(id.starts_with("src_"));
    assert_eq!(created.body["object"], "source");
    assert_eq!(
        created.body["website"],
        json!({"url": "https://www.hilton.com"})
    );

    let updated = api
        .patch(
            &format!("/sources/{id}"),
            json!({"website": {"url": "https://hilton.com/login"}}),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["website"]["url"], "https://hilton.com/login");
    assert_eq!(updated.body["name"], "Hilton");

    let gone = api.delete(&format!("/sources/{id}")).await;
    assert_eq!((gone.status, &gone.body["object"]), (200, &json!("source")));
    assert_eq!(gone.body["deleted"], true);
    let after = api.get(&format!("/sources/{id}")).await;
    assert_eq!(
        (after.status, error_code(&after)),
        (404, "source_not_found")
    );

    let missing = api.post("/sources", json!({"type": "website"})).await;
    assert_eq!(missing.status, 400);
    assert!(
        missing.body["errors"]["website"].is_array(),
        "{}",
        missing.text
    );
    assert_eq!(
        api.event_types().await,
        ["source.created", "source.updated", "source.deleted"]
    );
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn credentials_keep_their_secrets_and_stay_readable_once_deleted() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    let source = api.all("/sources").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let created = api
        .post(
            "/credentials",
            json!({
                "source_id": source,
                "auth_method": "username_password",
                "auth_credentials": {"username": "jane", "password": "hunter2",
                                     "source_fields": {"company_id": "ACME"}},
                "external_id": "user_456",
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("cred_"));
    assert_eq!(created.body["status"], "unverified");
    assert_eq!(
        created.body["auth_credentials"],
        json!({"username": "jane", "source_fields": {"company_id": "ACME"}})
    );
    let got = api.get(&format!("/credentials/{id}")).await;
    for text in [&created.text, &got.text] {
        assert!(
            !text.contains("hunter2"),
            "the password never comes back: {text}"
        );
    }

    // Filters: source (repeatable), status (repeatable), external_id.
    let mine = api.all("/credentials?external_id=user_456").await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], id.as_str());
    let of_source = api.all(&format!("/credentials?source_id[]={source}")).await;
    assert_eq!(of_source.len(), 4, "3 seeded and the new one");
    let unverified = api
        .all("/credentials?status=unverified&status=invalid")
        .await;
    assert_eq!(unverified.len(), 1);
    assert_eq!(api.all("/credentials?status=verified").await.len(), 12);

    // New details send a verified credential back to unverified.
    let seeded = api.all("/credentials?status=verified").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let updated = api
        .patch(
            &format!("/credentials/{seeded}"),
            json!({"auth_credentials": {"username": "jdoe", "password": "new-one"}}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.body["status"], "unverified");
    let relabeled = api
        .patch(&format!("/credentials/{id}"), json!({"external_id": null}))
        .await;
    assert_eq!(relabeled.body["external_id"], Value::Null);
    assert_eq!(relabeled.body["auth_credentials"]["username"], "jane");

    // Delete: the credential stays, deleted, with nothing stored, and no run may use it.
    let gone = api.delete(&format!("/credentials/{id}")).await;
    assert_eq!(gone.status, 200);
    assert_eq!(gone.body["deleted"], true);
    assert_eq!(gone.body["status"], "deleted");
    assert_eq!(gone.body["object"], "credential");
    let after = api.get(&format!("/credentials/{id}")).await;
    assert_eq!(after.status, 200, "deleted credentials stay queryable");
    assert_eq!(after.body["status"], "deleted");
    assert_eq!(after.body["auth_credentials"], Value::Null);
    assert_eq!(api.delete(&format!("/credentials/{id}")).await.status, 200);
    let task = bill_task(&api).await;
    let refused = api
        .post(
            &format!("/tasks/{task}/run"),
            json!({"credential_id": id, "input": {"account_number": "1"}}),
        )
        .await;
    assert_eq!(
        (refused.status, error_code(&refused)),
        (409, "credential_deleted")
    );
    let refused = api
        .patch(&format!("/credentials/{id}"), json!({"external_id": "x"}))
        .await;
    assert_eq!(refused.status, 409);

    assert_eq!(
        api.event_types().await,
        [
            "credential.created",
            "credential.unverified",
            "credential.deleted"
        ]
    );

    // Refusals: an unknown source, a missing password, a bad source_fields key.
    let unknown = api
        .post("/credentials", json!({"source_id": "src_nope"}))
        .await;
    assert_eq!(
        (unknown.status, error_code(&unknown)),
        (404, "source_not_found")
    );
    let no_password = api
        .post(
            "/credentials",
            json!({"source_id": source, "auth_method": "username_password",
                   "auth_credentials": {"username": "x"}}),
        )
        .await;
    assert_eq!(no_password.status, 422);
    assert_eq!(
        no_password.body["errors"][0]["field"],
        "auth_credentials.password"
    );
    let bad_key = api
        .post(
            "/credentials",
            json!({"source_id": source, "auth_credentials": {"source_fields": {"Company": "x"}}}),
        )
        .await;
    assert_eq!(bad_key.status, 422);
    let none = api.post("/credentials", json!({"source_id": source})).await;
    assert_eq!(none.status, 201);
    assert_eq!(none.body["auth_method"], "none");
    assert_eq!(none.body["auth_credentials"], Value::Null);
}

#[tokio::test]
async fn a_run_verifies_its_credential_or_proves_it_invalid() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    let task = bill_task(&api).await;
    let source = api.all("/sources").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let created = api
            .post(
                "/credentials",
                json!({"source_id": source, "auth_method": "username_password",
                       "auth_credentials": {"username": "u", "password": "p"}}),
            )
            .await;
        ids.push(created.body["id"].as_str().unwrap().to_string());
    }
    let (good, bad) = (ids[0].clone(), ids[1].clone());
    for (credential, input) in [
        (&good, json!({"account_number": "1"})),
        (&bad, json!({"account_number": "1", "fail": true})),
    ] {
        let run = api
            .post(
                &format!("/tasks/{task}/run"),
                json!({"credential_id": credential, "input": input}),
            )
            .await;
        assert_eq!(run.status, 201, "{}", run.text);
    }
    mock.advance(2);
    for (id, status) in [(&good, "verified"), (&bad, "invalid")] {
        let credential = api.get(&format!("/credentials/{id}")).await;
        assert_eq!(credential.body["status"], status);
    }
    let events = api.event_types().await;
    assert!(
        events.contains(&"credential.verified".to_string()),
        "{events:?}"
    );
    assert!(
        events.contains(&"credential.invalid".to_string()),
        "{events:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn ending_a_session_completes_it_and_cancels_its_runs() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    let task = bill_task(&api).await;

    let created = api.post("/sessions", json!({})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("sess_"));
    assert_eq!(created.body["status"], "idle");
    assert_eq!(created.body["task_runs"], json!([]));

    let mut runs = Vec::new();
    for _ in 0..2 {
        let run = api
            .post(
                &format!("/tasks/{task}/run"),
                json!({"session_id": id, "input": {"account_number": "1"}}),
            )
            .await;
        assert_eq!(run.status, 201, "{}", run.text);
        assert_eq!(run.body["session_id"], id.as_str());
        runs.push(run.body["id"].as_str().unwrap().to_string());
    }
    mock.step(); // both running
    let session = api.get(&format!("/sessions/{id}")).await;
    assert_eq!(session.body["status"], "running");
    let listed: Vec<&str> = session.body["task_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, runs);
    assert_eq!(session.body["task_runs"][0]["task_id"], task.as_str());
    assert_eq!(
        api.all("/sessions").await[0]["id"],
        id.as_str(),
        "newest first"
    );

    let ended = api.post(&format!("/sessions/{id}/end"), json!({})).await;
    assert_eq!(ended.status, 200, "{}", ended.text);
    assert_eq!(ended.body["status"], "completed");
    assert!(ended.body["runtime_ms"].as_i64().unwrap() > 0);
    for run in &runs {
        assert_eq!(mock.run_status(run).as_deref(), Some("canceled"));
    }
    assert_eq!(mock.advance(3), 0, "nothing left to move");
    let again = api.post(&format!("/sessions/{id}/end"), json!({})).await;
    assert_eq!(
        (again.status, &again.body["status"]),
        (200, &json!("completed"))
    );

    let late = api
        .post(
            &format!("/tasks/{task}/run"),
            json!({"session_id": id, "input": {"account_number": "1"}}),
        )
        .await;
    assert_eq!(
        (late.status, error_code(&late)),
        (409, "session_not_active")
    );
    let unknown = api.get("/sessions/sess_nope").await;
    assert_eq!(
        (unknown.status, error_code(&unknown)),
        (404, "session_not_found")
    );

    let events = api.event_types().await;
    assert_eq!(
        events,
        [
            "task_run.queued",
            "task_run.queued",
            "task_run.running",
            "task_run.running",
            "task_run.canceled",
            "task_run.canceled",
            "session.completed",
        ]
    );
}

#[tokio::test]
async fn seeded_sessions_follow_their_runs() {
    let mock = manual(300).await;
    let api = Api::new(&mock);
    let sessions = api.all("/sessions").await;
    assert!(!sessions.is_empty());
    for session in &sessions {
        let runs = session["task_runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "one seeded run each");
        assert!(
            ["running", "idle", "completed"].contains(&session["status"].as_str().unwrap()),
            "{session}"
        );
    }
    // Sessions of long-finished runs are past Deck's 10-minute idle timeout.
    assert!(sessions.iter().any(|s| s["status"] == "completed"));
}

// ---------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tasks_are_created_run_updated_reset_and_deleted() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    let agent = api.all("/agents").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let created = api
        .post(
            "/tasks",
            json!({
                "name": "Fetch reservations",
                "agent_id": agent,
                "prompt": "List upcoming reservations.",
                "input_schema": {"type": "object", "properties": {"guest": {"type": "string"}},
                                 "required": ["guest"]},
                "output_schema": {"type": "object", "properties": {
                    "count": {"type": "integer"}, "next": {"type": "string"}}},
                "extraction": false,
                "settings": {"timeout_seconds": 600},
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("task_"));
    assert_eq!(created.body["status"], "learning");
    assert_eq!(
        api.all("/tasks").await[0]["id"],
        id.as_str(),
        "newest first"
    );
    let of_agent = api.get(&format!("/agents/{agent}")).await;
    assert_eq!(of_agent.body["tasks"][0]["id"], id.as_str());

    // Its input_schema is enforced, and runs produce output shaped by its output_schema.
    let refused = api
        .post(&format!("/tasks/{id}/run"), json!({"input": {}}))
        .await;
    assert_eq!(
        (refused.status, error_code(&refused)),
        (422, "invalid_input")
    );
    let run = api
        .post(
            &format!("/tasks/{id}/run"),
            json!({"input": {"guest": "Ada"}}),
        )
        .await;
    assert_eq!(run.status, 201);
    let run_id = run.body["id"].as_str().unwrap().to_string();
    mock.advance(2);
    let done = api.get(&format!("/task-runs/{run_id}")).await;
    assert_eq!(done.body["status"], "completed");
    assert_eq!(done.body["output"], json!({"count": 0, "next": ""}));

    // Changing what a live task does sends it back to test; a rename does not.
    let live = api.all("/tasks?status=live").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let renamed = api
        .patch(&format!("/tasks/{live}"), json!({"name": "Renamed"}))
        .await;
    assert_eq!(
        (renamed.status, &renamed.body["status"]),
        (200, &json!("live"))
    );
    let reworded = api
        .patch(
            &format!("/tasks/{live}"),
            json!({"prompt": "Do it differently."}),
        )
        .await;
    assert_eq!(reworded.body["status"], "test");
    assert_eq!(reworded.body["name"], "Renamed");
    let reset = api.post(&format!("/tasks/{live}/reset"), json!({})).await;
    assert_eq!(
        (reset.status, &reset.body["status"]),
        (200, &json!("learning"))
    );

    // Delete: 404 afterwards, its runs stay.
    let gone = api.delete(&format!("/tasks/{id}")).await;
    assert_eq!(gone.status, 200);
    assert_eq!(gone.body["object"], "task");
    assert_eq!(gone.body["deleted"], true);
    for answer in [
        api.get(&format!("/tasks/{id}")).await,
        api.post(
            &format!("/tasks/{id}/run"),
            json!({"input": {"guest": "Ada"}}),
        )
        .await,
        api.post(&format!("/tasks/{id}/reset"), json!({})).await,
    ] {
        assert_eq!(
            (answer.status, error_code(&answer)),
            (404, "task_not_found")
        );
    }
    let kept = api.get(&format!("/task-runs/{run_id}")).await;
    assert_eq!((kept.status, &kept.body["task_id"]), (200, &json!(id)));

    // Refusals: an unknown agent, a taken id, a missing name.
    let unknown = api
        .post("/tasks", json!({"name": "x", "agent_id": "agt_nope"}))
        .await;
    assert_eq!(
        (unknown.status, error_code(&unknown)),
        (404, "agent_not_found")
    );
    let taken = api
        .post(
            "/tasks",
            json!({"name": "x", "agent_id": agent, "id": live}),
        )
        .await;
    assert_eq!(
        (taken.status, error_code(&taken)),
        (409, "task_already_exists")
    );
    let chosen = api
        .post(
            "/tasks",
            json!({"name": "x", "agent_id": agent, "id": "task_mine"}),
        )
        .await;
    assert_eq!(
        (chosen.status, &chosen.body["id"]),
        (201, &json!("task_mine"))
    );
    let nameless = api.post("/tasks", json!({"agent_id": agent})).await;
    assert_eq!(nameless.status, 400);

    let events = api.event_types().await;
    for expected in [
        "task.created",
        "task.updated",
        "task.reset",
        "task.deleted",
        "task_run.completed",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "{expected}: {events:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Storage, events, event types
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn storage_items_of_finished_runs_are_retrievable() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    let task = bill_task(&api).await;
    let run = api
        .post(
            &format!("/tasks/{task}/run"),
            json!({"input": {"account_number": "77"}}),
        )
        .await;
    let run_id = run.body["id"].as_str().unwrap().to_string();
    mock.advance(2);
    let listed = api.all(&format!("/task-runs/{run_id}/storage")).await;
    assert_eq!(listed.len(), 1);
    let id = listed[0]["id"].as_str().unwrap();

    let item = api.get(&format!("/storage/{id}")).await;
    assert_eq!(item.status, 200, "{}", item.text);
    assert_eq!(item.body["object"], "storage");
    assert_eq!(item.body["task_run_id"], run_id.as_str());
    assert_eq!(item.body["file_name"], listed[0]["file_name"]);
    assert_eq!(item.body["url"], listed[0]["url"]);
    assert!(item.body["file_size"].is_string(), "as Deck sends it");
    assert_eq!(item.body["result"], "success");
    assert!(
        item.body["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );

    let nope = api.get("/storage/stor_nope").await;
    assert_eq!((nope.status, error_code(&nope)), (404, "storage_not_found"));
}

#[tokio::test]
async fn events_record_run_state_changes_and_filter_by_type_and_time() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    assert_eq!(
        api.all("/events").await,
        Vec::<Value>::new(),
        "no history at start"
    );
    let task = bill_task(&api).await;
    let statements = api
        .all("/tasks")
        .await
        .into_iter()
        .find(|t| t["name"] == "Download monthly statements")
        .unwrap();

    let plain = api
        .post(
            &format!("/tasks/{task}/run"),
            json!({"input": {"account_number": "1"}}),
        )
        .await;
    let plain = plain.body["id"].as_str().unwrap().to_string();
    let mfa = api
        .post(
            &format!("/tasks/{}/run", statements["id"].as_str().unwrap()),
            json!({"input": {"account_number": "1", "statement_month": "2026-10"}}),
        )
        .await;
    let mfa = mfa.body["id"].as_str().unwrap().to_string();
    mock.advance(2); // plain: running, completed; mfa: running, interaction_required
    let answered = api
        .post(
            &format!("/task-runs/{mfa}/interaction"),
            json!({"input": {"code": "123456"}}),
        )
        .await;
    assert_eq!(answered.status, 200);
    let canceled = api
        .post(&format!("/task-runs/{mfa}/cancel"), json!({}))
        .await;
    assert_eq!(canceled.status, 200);
    mock.step();

    let of = |run: &str, events: &[Value]| -> Vec<String> {
        let mut types: Vec<String> = events
            .iter()
            .filter(|e| e["data"]["id"] == run)
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect();
        types.reverse();
        types
    };
    let events = api.all("/events").await;
    assert_eq!(
        of(&plain, &events),
        ["task_run.queued", "task_run.running", "task_run.completed"]
    );
    assert_eq!(
        of(&mfa, &events),
        [
            "task_run.queued",
            "task_run.running",
            "task_run.interaction_required",
            "task_run.running",
            "task_run.canceling",
            "task_run.canceled",
        ]
    );
    let stored = events
        .iter()
        .find(|e| e["type"] == "storage.created")
        .unwrap();
    assert_eq!(stored["data"]["task_run_id"], plain.as_str());
    let completed = events
        .iter()
        .find(|e| e["type"] == "task_run.completed")
        .unwrap();
    assert_eq!(completed["object"], "event");
    assert!(completed["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(completed["data"]["object"], "task_run");
    assert_eq!(completed["data"]["result"], "success");
    assert!(
        events
            .windows(2)
            .all(|w| time(&w[0]["created_at"]) >= time(&w[1]["created_at"])),
        "newest first"
    );

    // Filters: `type` (repeatable, also as `type[]`), created_after/created_before (exclusive).
    let some = api
        .all("/events?type=task_run.completed&type[]=task_run.canceled")
        .await;
    assert_eq!(some.len(), 2);
    let cut = time(&completed["created_at"]);
    let after = api
        .all(&format!(
            "/events?created_after={}",
            cut.to_rfc3339().replace('+', "%2B")
        ))
        .await;
    assert!(!after.is_empty());
    assert!(after.iter().all(|e| time(&e["created_at"]) > cut));
    let before = api
        .all(&format!(
            "/events?created_before={}",
            cut.to_rfc3339().replace('+', "%2B")
        ))
        .await;
    assert_eq!(
        after.len()
            + before.len()
            + events
                .iter()
                .filter(|e| time(&e["created_at"]) == cut)
                .count(),
        events.len()
    );
    let bad = api.get("/events?created_after=yesterday").await;
    assert_eq!(bad.status, 400);

    // Paging with a cursor, and one event by id.
    let first = api.get("/events?limit=3").await;
    assert_eq!(first.body["data"].as_array().unwrap().len(), 3);
    assert_eq!(first.body["has_more"], true);
    let next = api
        .get(&format!(
            "/events?limit=3&cursor={}",
            first.body["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(next.body["data"][0]["id"], events[3]["id"]);
    let id = events[0]["id"].as_str().unwrap();
    let one = api.get(&format!("/events/{id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["type"], events[0]["type"]);
    assert!(one.body["request_id"].as_str().unwrap().starts_with("req_"));
    let nope = api.get("/events/evt_nope").await;
    assert_eq!((nope.status, error_code(&nope)), (404, "event_not_found"));
}

#[tokio::test]
async fn event_types_are_one_unpaginated_list() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    let types = api.get("/event-types").await;
    assert_eq!(types.status, 200);
    let data = types.body["data"].as_array().unwrap();
    assert!(types.body.get("has_more").is_none());
    let names: Vec<&str> = data.iter().map(|t| t["type"].as_str().unwrap()).collect();
    for expected in [
        "task_run.completed",
        "credential.verified",
        "agent.created",
        "session.completed",
    ] {
        assert!(names.contains(&expected), "{expected}");
    }
    assert!(data.iter().all(|t| t["description"].is_string()));
}

// ---------------------------------------------------------------------------------------------
// Event destinations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn event_destinations_are_managed_and_their_deliveries_listed() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    let created = api
        .post(
            "/event-destinations",
            json!({
                "name": "Production Webhook",
                "type": "webhook",
                "webhook": {"url": "https://example.com/deck", "secret": "whsec_topsecret"},
                "events": ["task_run.completed", "credential.verified"],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(
        !created.text.contains("whsec_topsecret"),
        "{}",
        created.text
    );
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("evtd_"));
    assert_eq!(created.body["object"], "event_destination");
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["type"], "webhook");
    assert_eq!(
        created.body["webhook"],
        json!({"url": "https://example.com/deck"})
    );
    let sqs = api
        .post(
            "/event-destinations",
            json!({"name": "Queue", "type": "aws_sqs", "aws_sqs": {"queue_url": "https://sqs/q"},
                   "events": ["*"]}),
        )
        .await;
    assert_eq!(sqs.status, 201, "{}", sqs.text);
    assert_eq!(sqs.body["aws_sqs"], json!({"queue_url": "https://sqs/q"}));
    assert_eq!(api.all("/event-destinations").await.len(), 2);

    let off = api
        .patch(
            &format!("/event-destinations/{id}"),
            json!({"status": "inactive", "events": ["*"]}),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text);
    assert_eq!(
        (&off.body["status"], &off.body["events"]),
        (&json!("inactive"), &json!(["*"]))
    );
    let on = api
        .patch(
            &format!("/event-destinations/{id}"),
            json!({"status": "active", "webhook": {"url": "https://example.com/v2"}}),
        )
        .await;
    assert_eq!(on.body["webhook"]["url"], "https://example.com/v2");
    assert_eq!(
        api.event_types().await,
        [
            "event_destination.deactivated",
            "event_destination.activated"
        ]
    );

    for (body, field) in [
        (json!({"events": []}), "events"),
        (json!({"events": ["*", "task_run.completed"]}), "events"),
        (json!({"events": ["task_run.exploded"]}), "events"),
        (json!({"status": "pending_verification"}), "status"),
        (json!({"aws_sqs": {"queue_url": "x"}}), "aws_sqs"),
    ] {
        let refused = api.patch(&format!("/event-destinations/{id}"), body).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert_eq!(refused.body["errors"][0]["field"], field);
    }
    let no_url = api
        .post("/event-destinations", json!({"name": "x", "webhook": {}}))
        .await;
    assert_eq!(no_url.status, 400);
    assert!(
        no_url.body["errors"]["webhook.url"].is_array(),
        "{}",
        no_url.text
    );
    let no_config = api.post("/event-destinations", json!({"name": "x"})).await;
    assert_eq!(
        no_config.status, 400,
        "the type defaults to webhook, which needs its object"
    );

    // Its own `activated` event was due to it; MockDeck never leaves the machine, so that
    // delivery to example.com failed unsent.
    mock.webhook_deliveries_settled().await;
    let deliveries = api
        .get(&format!(
            "/event-destinations/{id}/event-deliveries?status=failure"
        ))
        .await;
    assert_eq!(deliveries.status, 200);
    let data = deliveries.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", deliveries.text);
    assert_eq!(data[0]["event_type"], "event_destination.activated");
    assert_eq!(data[0]["attempts"], 0);
    assert_eq!(deliveries.body["has_more"], false);
    let none = api
        .get(&format!(
            "/event-destinations/{id}/event-deliveries?status=success"
        ))
        .await;
    assert_eq!(none.body["data"], json!([]));

    let gone = api.delete(&format!("/event-destinations/{id}")).await;
    assert_eq!(
        gone.body,
        json!({"id": id, "object": "event_destination", "deleted": true,
               "request_id": gone.body["request_id"]})
    );
    for path in [
        format!("/event-destinations/{id}"),
        format!("/event-destinations/{id}/event-deliveries"),
    ] {
        let answer = api.get(&path).await;
        assert_eq!(
            (answer.status, error_code(&answer)),
            (404, "event_destination_not_found")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Session tokens, routing, idempotency, paging
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn session_tokens_last_30_minutes() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    let token = api.call(Method::POST, "/token", None, None).await;
    assert_eq!(token.status, 201, "{}", token.text);
    assert!(token.body["id"].as_str().unwrap().starts_with("tok_"));
    assert!(token.body["token"].as_str().unwrap().starts_with("tk_"));
    assert_eq!(token.body["object"], "token");
    let lifetime = time(&token.body["expires_at"]) - time(&token.body["created_at"]);
    assert_eq!(lifetime, chrono::TimeDelta::minutes(30));
}

#[tokio::test]
async fn new_routes_answer_405_with_allow_and_replay_idempotent_writes() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    let agent = api.all("/agents").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let put = api
        .call(Method::PUT, &format!("/agents/{agent}"), None, None)
        .await;
    assert_eq!(put.status, 405);
    assert_eq!(put.headers["allow"], "GET, PATCH, DELETE");
    let head = api.call(Method::HEAD, "/events", None, None).await;
    assert_eq!(head.status, 405);
    assert_eq!(head.headers["allow"], "GET");

    let body = json!({"name": "Once"});
    let first = api
        .call(Method::POST, "/agents", Some(body.clone()), Some("agent-1"))
        .await;
    let second = api
        .call(Method::POST, "/agents", Some(body), Some("agent-1"))
        .await;
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    let other = api
        .call(
            Method::POST,
            "/agents",
            Some(json!({"name": "Twice"})),
            Some("agent-1"),
        )
        .await;
    assert_eq!(other.status, 409);
    let deletes: Vec<u16> = {
        let path = format!("/agents/{}", first.body["id"].as_str().unwrap());
        let mut statuses = Vec::new();
        for _ in 0..2 {
            statuses.push(
                api.call(Method::DELETE, &path, None, Some("delete-1"))
                    .await
                    .status,
            );
        }
        statuses
    };
    assert_eq!(
        deletes,
        [200, 200],
        "the second delete is the first one replayed"
    );
    assert_eq!(api.all("/agents").await.len(), 4);
}

#[tokio::test]
async fn every_list_pages_with_cursors_of_its_own() {
    let mock = manual(0).await;
    let api = Api::new(&mock);
    for k in 0..25 {
        let created = api
            .post("/agents", json!({"name": format!("Agent {k}")}))
            .await;
        assert_eq!(created.status, 201);
    }
    let first = api.get("/agents?limit=10").await;
    assert_eq!(first.body["data"].as_array().unwrap().len(), 10);
    assert_eq!(first.body["data"][0]["name"], "Agent 24");
    assert!(
        first.body["data"][0]["request_id"].is_string(),
        "items carry request_id"
    );
    let all = api.all("/agents").await;
    assert_eq!(all.len(), 29);
    let ids: HashSet<&str> = all.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 29);

    // A cursor stays valid when its item is deleted meanwhile.
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let last = first.body["data"][9]["id"].as_str().unwrap();
    assert_eq!(api.delete(&format!("/agents/{last}")).await.status, 200);
    let next = api.get(&format!("/agents?limit=10&cursor={cursor}")).await;
    assert_eq!(next.status, 200);
    assert_eq!(next.body["data"][0]["name"], "Agent 14");

    // Another list's cursor is refused; bad limits are validated everywhere.
    let foreign = api.get(&format!("/sources?cursor={cursor}")).await;
    assert_eq!(foreign.status, 400);
    assert!(foreign.body["errors"]["cursor"].is_array());
    for path in [
        "/sources",
        "/credentials",
        "/sessions",
        "/event-destinations",
        "/events",
    ] {
        let bad = api.get(&format!("{path}?limit=0")).await;
        assert_eq!(bad.status, 400, "{path}");
        assert!(bad.body["errors"]["limit"].is_array(), "{path}");
    }
}

/// A bare reqwest client for raw requests. The `deck` crate installs no process-wide rustls
/// provider (it passes its own to its client), so a test building plain reqwest clients does
/// what an application does: install one.
fn raw_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
