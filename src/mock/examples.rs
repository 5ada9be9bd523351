//! Ids for the operations' doc examples: each example is a doctest against a fresh MockDeck and
//! needs a resource in the state its operation expects (a run waiting for input, a cancelable
//! run, a storage item).

use super::MockDeck;
use serde_json::{Map, Value, json};

impl MockDeck {
    /// An id for parameter (or body field) `param` of operation `operation_id`, for the
    /// generated doc examples: an existing resource of that kind, or a new one in the state the
    /// operation needs. Not part of the API.
    ///
    /// # Panics
    ///
    /// For a parameter the mock cannot supply (a doc example would fail anyway).
    #[doc(hidden)]
    pub async fn __example_id(&self, operation_id: &str, param: &str) -> String {
        let client = self.client();
        let call = |op: &'static str, params: Map<String, Value>, body: Option<Value>| {
            let client = client.clone();
            async move {
                match client.__call_operation(op, &params, body).await {
                    Ok((_, value)) => value,
                    Err(e) => panic!("MockDeck example setup, {op}: {e}"),
                }
            }
        };
        let first = |page: Value| page["data"][0]["id"].as_str().map(String::from);
        let id = |value: Value| value["id"].as_str().map(String::from);
        let task_named = |name: &'static str| {
            let world = self.shared.lock();
            world
                .tasks
                .iter()
                .find(|t| t.name == name)
                .map(|t| t.id.clone())
        };
        let run_of = |task: String, input: Value| {
            let params: Map<String, Value> =
                [("task_id".to_string(), json!(task))].into_iter().collect();
            call("runTask", params, Some(json!({ "input": input })))
        };
        let found = match (operation_id, param) {
            // A run that waits for an answer, and one still under way.
            ("submitTaskRunInteraction", "run_id") => {
                let task = task_named("Download monthly statements");
                let input = json!({"account_number": "1", "statement_month": "2026-10"});
                let run = id(run_of(task.expect("seeded task"), input).await);
                self.advance(2);
                run
            }
            ("cancelTaskRun", "run_id") => {
                let task = task_named("Fetch latest utility bill");
                id(run_of(task.expect("seeded task"), json!({"account_number": "1"})).await)
            }
            (_, "run_id") => {
                let world = self.shared.lock();
                world
                    .runs
                    .iter()
                    .rev()
                    .find(|r| !r.storage.is_empty())
                    .map(|r| r.id.clone())
            }
            (_, "storage_id") => {
                let world = self.shared.lock();
                world.storage_index.keys().min().cloned()
            }
            // A task of its own, so updating, resetting or deleting it disturbs nothing else.
            (_, "task_id") => {
                let agent = first(call("listAgents", Map::new(), None).await);
                let body = json!({"name": "Example task", "agent_id": agent, "extraction": false});
                id(call("createTask", Map::new(), Some(body)).await)
            }
            (_, "destination_id") => {
                let page = call("listEventDestinations", Map::new(), None).await;
                match first(page) {
                    Some(found) => Some(found),
                    None => {
                        let body = json!({"name": "Example", "type": "webhook", "events": ["*"],
                                          "webhook": {"url": "https://example.com/hook"}});
                        id(call("createEventDestination", Map::new(), Some(body)).await)
                    }
                }
            }
            (_, "session_id") => {
                let page = call("listSessions", Map::new(), None).await;
                let sessions = page["data"].as_array().cloned().unwrap_or_default();
                sessions
                    .iter()
                    .find(|s| s["status"] == "active")
                    .or(sessions.first())
                    .and_then(|s| s["id"].as_str().map(String::from))
            }
            (_, "agent_id") => first(call("listAgents", Map::new(), None).await),
            (_, "credential_id") => first(call("listCredentials", Map::new(), None).await),
            (_, "source_id") => first(call("listSources", Map::new(), None).await),
            (_, "event_id") => match first(call("listEvents", Map::new(), None).await) {
                Some(found) => Some(found),
                None => {
                    // Nothing has happened yet: an update records an event.
                    let agent = first(call("listAgents", Map::new(), None).await);
                    let params: Map<String, Value> = [("agent_id".to_string(), json!(agent))]
                        .into_iter()
                        .collect();
                    call("updateAgent", params, Some(json!({}))).await;
                    first(call("listEvents", Map::new(), None).await)
                }
            },
            _ => None,
        };
        found.unwrap_or_else(|| panic!("MockDeck has no example `{param}` for {operation_id}"))
    }
}
