//! Include flags on the wire, sections, typed statuses and waiting for a run.

mod common;

use common::*;
use deck::ext::{Include, Section};
use deck::types::{RunResult, RunStatus};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[tokio::test]
async fn include_flags_are_one_comma_joined_value() {
    let server = MockServer::start().await;
    let mut run = task_run_full("trun_1", "completed");
    run.as_object_mut().unwrap().remove("artifacts");
    Mock::given(method("GET"))
        .and(path("/v2/task-runs/trun_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(run))
        .mount(&server)
        .await;
    let client = client(&server.uri());
    let run = client
        .get_task_run()
        .run_id("trun_1")
        .include(Include::STORAGE | Include::INPUT | Include::STORAGE)
        .send()
        .await
        .unwrap();
    let request = &server.received_requests().await.unwrap()[0];
    // One parameter, stable order, de-duplicated; the comma is percent-encoded by the form
    // encoder, which ASP.NET decodes back to a comma.
    assert_eq!(request.url.query(), Some("include=input%2Cstorage"));
    let values: Vec<_> = request
        .url
        .query_pairs()
        .filter(|(k, _)| k == "include")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(values, ["input,storage"]);

    assert!(matches!(run.storage_section(), Section::Returned(items) if items.len() == 2));
    assert_eq!(run.screenshots_section(), Section::NotRequested);
    assert_eq!(run.status, RunStatus::Completed);
}

#[tokio::test]
async fn include_escape_hatch_sends_unknown_sections() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(task_run_full("trun_1", "completed")),
        )
        .mount(&server)
        .await;
    client(&server.uri())
        .get_task_run()
        .run_id("trun_1")
        .include(Include::new().artifacts().other("screenshots"))
        .send()
        .await
        .unwrap();
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.url.query(), Some("include=artifacts%2Cscreenshots"));
}

/// A run that moves queued → running → interaction_required, then (after the input arrives)
/// running → completed.
struct Lifecycle {
    polls: AtomicUsize,
    answered: Mutex<Option<serde_json::Value>>,
}

impl Respond for Lifecycle {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if request.method.as_str() == "POST" {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            *self.answered.lock().unwrap() = Some(body);
            self.polls.store(10, Ordering::SeqCst);
            return ResponseTemplate::new(200).set_body_json(task_run_full("trun_1", "running"));
        }
        let n = self.polls.fetch_add(1, Ordering::SeqCst);
        let status = match n {
            0 => "queued",
            1 | 2 => "running",
            3..=9 => "interaction_required",
            10 | 11 => "running",
            _ => "completed",
        };
        let mut run = task_run_full("trun_1", status);
        if status == "interaction_required" {
            run["interaction"] = json!({"type": "mfa", "message": "Enter the code", "fields": [{"name": "code", "type": "text", "label": "Code"}]});
        }
        if status == "completed" {
            run["result"] = json!("success");
            run["output"] = json!({"balance": 10});
        }
        ResponseTemplate::new(200).set_body_json(run)
    }
}

#[tokio::test]
async fn wait_stops_for_input_then_for_completion() {
    let server = MockServer::start().await;
    let lifecycle = Arc::new(Lifecycle {
        polls: AtomicUsize::new(0),
        answered: Mutex::new(None),
    });
    Mock::given(path("/v2/task-runs/trun_1"))
        .respond_with(Shared(lifecycle.clone()))
        .mount(&server)
        .await;
    Mock::given(path("/v2/task-runs/trun_1/interaction"))
        .respond_with(Shared(lifecycle.clone()))
        .mount(&server)
        .await;
    let client = client(&server.uri());

    let run = fast(client.wait_for_task_run("trun_1")).await.unwrap();
    assert_eq!(run.status, RunStatus::InteractionRequired);
    assert!(run.status.needs_input());
    assert_eq!(
        run.interaction.as_ref().unwrap().fields.as_ref().unwrap()[0]
            .name
            .as_deref(),
        Some("code")
    );
    assert_eq!(
        lifecycle.polls.load(Ordering::SeqCst),
        4,
        "queued, running, running, interaction_required"
    );

    client
        .submit_task_run_interaction()
        .run_id(run.id.as_str())
        .body(deck::types::SubmitInteractionRequest::builder().input(json!({"code": "123456"})))
        .send()
        .await
        .unwrap();
    assert_eq!(
        *lifecycle.answered.lock().unwrap(),
        Some(json!({"input": {"code": "123456"}}))
    );

    let done = fast(client.wait_for_task_run("trun_1"))
        .include(Include::STORAGE)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert!(done.status.is_terminal());
    assert_eq!(done.result, Some(RunResult::Success));
    assert_eq!(done.output, Some(json!({"balance": 10})));
    let last = server.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(last.url.query(), Some("include=storage"));
}

#[tokio::test]
async fn wait_gives_up_after_the_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(task_run_full("trun_1", "running")))
        .mount(&server)
        .await;
    let client = client(&server.uri());
    let err = client
        .wait_for_task_run("trun_1")
        .initial_interval(Duration::from_millis(10))
        .max_interval(Duration::from_millis(40))
        .timeout(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), deck::ErrorKind::WaitTimeout);
    assert!(err.to_string().contains("running"), "{err}");
    let polls = server.received_requests().await.unwrap().len();
    assert!((3..=30).contains(&polls), "backoff between polls: {polls}");
}

fn fast(w: deck::runs::WaitForTaskRun<'_>) -> deck::runs::WaitForTaskRun<'_> {
    w.initial_interval(Duration::from_millis(5))
        .max_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(10))
}

/// Lets two mocks share one stateful responder.
struct Shared(Arc<Lifecycle>);

impl Respond for Shared {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}
