//! Every operation in `openapi/v2.json` against a loopback server: what goes on the wire, and
//! what a realistic response decodes into.

mod common;

use common::*;
use deck::types::StoragePurpose as Purpose;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1, "exactly one request");
    requests.remove(0)
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Headers every call carries, and the ones it must not.
fn assert_common_headers(request: &Request) {
    assert_eq!(
        header(request, "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(header(request, "accept"), Some("application/json"));
    let ua = header(request, "user-agent").unwrap();
    assert!(
        ua.starts_with(&format!("deck-api/{}", env!("CARGO_PKG_VERSION"))),
        "{ua}"
    );
    assert!(ua.contains("deck-spec 2.0.0"), "{ua}");
    assert!(
        header(request, "api-version").is_none(),
        "progenitor's api-version is stripped"
    );
}

#[tokio::test]
async fn get_task_run_wire_and_forward_compatible_decoding() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/task-runs/trun_a%2Fb%20c"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(task_run_full("trun_a/b c", "cancelling")),
        )
        .mount(&server)
        .await;
    let client = client(&server.uri());
    let run = client
        .get_task_run()
        .run_id("trun_a/b c")
        .include("input,storage,artifacts")
        .send()
        .await
        .unwrap()
        .into_inner();

    let request = only_request(&server).await;
    assert_common_headers(&request);
    assert_eq!(
        request.url.query(),
        Some("include=input%2Cstorage%2Cartifacts")
    );
    assert!(
        header(&request, "idempotency-key").is_none(),
        "GETs carry no key"
    );

    assert_eq!(run.id, "trun_a/b c");
    assert_eq!(run.status, deck::types::RunStatus::Canceling);
    assert_eq!(run.runtime_ms.unwrap(), 1234, "number sent as a string");
    assert_eq!(run.input, Some(json!({"account": "42"})));
    assert_eq!(run.session_id, None);
    let storage = run.storage.unwrap();
    assert_eq!(storage[0].file_size, 12);
    assert_eq!(storage[1].file_size, 34);
    assert_eq!(
        storage[0].purpose,
        Purpose::Unknown("thumbnail".into()),
        "unknown enum value kept"
    );
    assert_eq!(storage[1].purpose, Purpose::Output);
    assert_eq!(storage[0].extraction, Some(json!({"total": 10})));
    let shots = run.artifacts.unwrap().screenshots;
    assert_eq!(shots[0].file_size, 2048);
    assert_eq!(run.request_id, "req_run_1");
}

#[tokio::test]
async fn list_task_runs_sends_every_filter_and_decodes_nulls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/task-runs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![
                task_run_item_nulls("trun_1", "canceling"),
                task_run_item_nulls("trun_2", "queued"),
            ],
            Some("cur_2"),
        )))
        .mount(&server)
        .await;
    let client = client(&server.uri());
    let after: chrono::DateTime<chrono::Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
    let page = client
        .list_task_runs()
        .status([
            deck::types::RunStatus::Queued,
            deck::types::RunStatus::Running,
        ])
        .outcome([deck::types::RunResult::Success])
        .source_id(vec!["src_1".into()])
        .task_id("task_abc")
        .agent_id("agt_1")
        .credential_id("cred_1")
        .workflow_id("wflo_1")
        .created_after(after)
        .search("statements & more")
        .limit(50)
        .cursor("cur_1")
        .send()
        .await
        .unwrap()
        .into_inner();

    let request = only_request(&server).await;
    assert_common_headers(&request);
    assert_eq!(
        request.url.query().unwrap(),
        "agent_id=agt_1&created_after=2026-11-01T00%3A00%3A00Z&credential_id=cred_1&cursor=cur_1\
         &limit=50&outcome=success&search=statements+%26+more&source_id=src_1\
         &status=queued&status=running&task_id=task_abc&workflow_id=wflo_1"
    );
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].status, deck::types::RunStatus::Canceling);
    assert_eq!(page.data[0].runtime_ms, None);
    assert_eq!(page.data[0].credential_id, None);
    assert_eq!(page.data[0].output, None);
    assert_eq!(page.data[0].errors, None);
    assert_eq!(page.has_more, Some(true));
    assert_eq!(page.next_cursor.as_deref(), Some("cur_2"));
}

#[tokio::test]
async fn get_task_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tasks/task_abc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(task("task_abc")))
        .mount(&server)
        .await;
    let task = client(&server.uri())
        .get_task()
        .task_id("task_abc")
        .send()
        .await
        .unwrap();
    assert_common_headers(&only_request(&server).await);
    assert_eq!(task.name, "Download statements");
    assert_eq!(task.prompt, None);
    assert_eq!(task.input_schema, Some(json!({"type": "object"})));
}

#[tokio::test]
async fn list_tasks_sends_filters() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tasks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![task("task_1"), {
                // Deck's list items carry no request_id (the page has one).
                let mut t = task("task_2");
                t.as_object_mut().unwrap().remove("request_id");
                t
            }],
            None,
        )))
        .mount(&server)
        .await;
    let page = client(&server.uri())
        .list_tasks()
        .agent_id("agt_1")
        .status("live")
        .limit(100)
        .send()
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_common_headers(&request);
    assert_eq!(
        request.url.query(),
        Some("agent_id=agt_1&limit=100&status=live")
    );
    assert_eq!(page.data[0].id, "task_1");
    assert_eq!(page.data[1].request_id, None);
    assert_eq!(page.next_cursor, None);
}

#[tokio::test]
async fn run_task_posts_json_with_an_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/tasks/task_abc/run"))
        .respond_with(ResponseTemplate::new(201).set_body_json(task_run_full("trun_new", "queued")))
        .mount(&server)
        .await;
    let run = client(&server.uri())
        .run_task()
        .task_id("task_abc")
        .body(
            deck::types::RunTaskRequest::builder()
                .credential_id(Some("cred_1".into()))
                .input(json!({"account": "42"})),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 201);
    let request = only_request(&server).await;
    assert_common_headers(&request);
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    let key = header(&request, "idempotency-key").expect("writes carry a key");
    assert_eq!(key.len(), 36);
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"credential_id": "cred_1", "input": {"account": "42"}})
    );
    assert_eq!(run.status, deck::types::RunStatus::Queued);
}

#[tokio::test]
async fn cancel_task_run_posts_without_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/task-runs/trun_1/cancel"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(task_run_full("trun_1", "canceling")),
        )
        .mount(&server)
        .await;
    let run = client(&server.uri())
        .cancel_task_run()
        .run_id("trun_1")
        .send()
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_common_headers(&request);
    assert!(request.body.is_empty());
    assert!(header(&request, "idempotency-key").is_some());
    assert_eq!(run.status, deck::types::RunStatus::Canceling);
}

#[tokio::test]
async fn submit_interaction_posts_the_input() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/task-runs/trun_1/interaction"))
        .respond_with(ResponseTemplate::new(200).set_body_json(task_run_full("trun_1", "running")))
        .mount(&server)
        .await;
    let run = client(&server.uri())
        .submit_task_run_interaction()
        .run_id("trun_1")
        .body(deck::types::SubmitInteractionRequest::builder().input(json!({"code": "123456"})))
        .send()
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_common_headers(&request);
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, json!({"input": {"code": "123456"}}));
    assert_eq!(run.status, deck::types::RunStatus::Running);
}

#[tokio::test]
async fn list_task_run_storage_decodes_string_sizes() {
    let server = MockServer::start().await;
    let item = json!({
        "id": "stor_1", "object": "storage", "file_name": "a.pdf", "file_type": "application/pdf",
        "file_size": "4096", "url": null, "extraction": null, "task_run_id": "trun_1",
        "created_at": "2026-11-01T10:00:00Z", "metadata": {"pages": 2}
    });
    Mock::given(method("GET"))
        .and(path("/v2/task-runs/trun_1/storage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(vec![item], None)))
        .mount(&server)
        .await;
    let page = client(&server.uri())
        .list_task_run_storage()
        .run_id("trun_1")
        .limit(10)
        .send()
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_common_headers(&request);
    assert_eq!(request.url.query(), Some("limit=10"));
    assert_eq!(page.data[0].file_size, 4096);
    assert_eq!(page.data[0].url, None);
}

#[tokio::test]
async fn test_api_key_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"status": "ready", "environment": "live", "request_id": "req_t"}),
        ))
        .mount(&server)
        .await;
    let ok = client(&server.uri()).test_api_key().send().await.unwrap();
    assert_common_headers(&only_request(&server).await);
    assert_eq!(ok.status, "ready");
    assert_eq!(ok.environment.as_deref(), Some("live"));
}

#[tokio::test]
async fn wrong_content_type_with_valid_json_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/test"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"status":"ready","request_id":"r"}"#, "text/plain"),
        )
        .mount(&server)
        .await;
    let ok = client(&server.uri()).test_api_key().send().await.unwrap();
    assert_eq!(ok.status, "ready");
}
