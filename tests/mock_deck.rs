//! MockDeck: pagination over 1,000+ runs, filters, include sections, the run lifecycle (stepped
//! and polled), errors, idempotency replay, and robustness against odd requests.

use chrono::{TimeDelta, TimeZone, Utc};
use deck::ext::{Include, Section};
use deck::mock::{MockDeck, StepMode};
use deck::types::{RunResult, RunStatus};
use deck::types::{RunTaskRequest, SubmitInteractionRequest};
use deck::{ErrorBody, ErrorKind, RequestOptions};
use futures::TryStreamExt;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

async fn manual(runs: usize) -> MockDeck {
    MockDeck::builder()
        .runs(runs)
        .start_time(start_time())
        .step_mode(StepMode::Manual)
        .start()
        .await
}

/// A task of the mock that does not ask for MFA (the utility-bill task), and one that does.
async fn tasks(client: &deck::Client) -> (deck::types::Task, deck::types::Task) {
    let all = client.list_tasks().collect_all().await.unwrap();
    let plain = all
        .iter()
        .find(|t| t.name == "Fetch latest utility bill")
        .cloned()
        .unwrap();
    let mfa = all
        .iter()
        .find(|t| t.name == "Download monthly statements")
        .cloned()
        .unwrap();
    (plain, mfa)
}

fn bill_input() -> deck::types::builder::RunTaskRequest {
    RunTaskRequest::builder().input(json!({"account_number": "7730019921"}))
}

fn fast(w: deck::runs::WaitForTaskRun<'_>) -> deck::runs::WaitForTaskRun<'_> {
    w.initial_interval(Duration::from_millis(5))
        .max_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(10))
}

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn collect_all_pages_through_1200_runs_completely() {
    let mock = manual(1_200).await;
    let client = mock.client();
    let runs = client.list_task_runs().collect_all().await.unwrap();
    assert_eq!(runs.len(), 1_200);
    let ids: HashSet<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 1_200, "ids are distinct");
    assert!(ids.iter().all(|id| id.starts_with("trun_")));
    assert!(
        runs.windows(2).all(|w| w[0].created_at >= w[1].created_at),
        "newest first"
    );
    // 12 requests of 100 (the paginator's page size).
    assert_eq!(mock.request_count(), 12);
}

#[tokio::test]
async fn pages_follow_cursor_and_has_more_with_the_callers_limit() {
    let mock = manual(1_000).await;
    let client = mock.client();
    let pages: Vec<_> = client
        .list_task_runs()
        .limit(37)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 28, "ceil(1000 / 37)");
    let (last, full) = pages.split_last().unwrap();
    assert!(full.iter().all(|p| p.items.len() == 37 && p.has_more));
    assert!(full.iter().all(|p| p.next_cursor.is_some()));
    assert_eq!(last.items.len(), 1_000 - 27 * 37);
    assert!(!last.has_more && last.next_cursor.is_none());
    let request_ids: HashSet<_> = pages
        .iter()
        .map(|p| p.request_id.clone().unwrap())
        .collect();
    assert_eq!(request_ids.len(), pages.len(), "one request id per page");
    let ids: HashSet<_> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|r| r.id.clone()))
        .collect();
    assert_eq!(ids.len(), 1_000);
}

#[tokio::test]
async fn default_limit_is_20_and_limits_are_validated() {
    let mock = manual(300).await;
    let client = mock.client();
    let page = client.list_task_runs().send().await.unwrap().into_inner();
    assert_eq!(page.data.len(), 20);
    assert_eq!(page.has_more, Some(true));
    let page = client
        .list_task_runs()
        .limit(100)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.data.len(), 100);

    // Above the spec's maximum the client refuses before sending (tests/updates.rs); MockDeck
    // refuses it too, as Deck does, for clients that do not check.
    let before = mock.request_count();
    let err = client.list_task_runs().limit(101).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(mock.request_count(), before);
    let raw = raw_http()
        .get(format!("{}/task-runs?limit=101", mock.base_url()))
        .bearer_auth(mock.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert!(body.to_string().contains("between 1 and 100"), "{body}");

    // Below Deck's documented minimum (1) likewise: the client refuses, MockDeck answers
    // Deck's validation problem.
    for bad in [0i32, -5] {
        let before = mock.request_count();
        let err = client.list_task_runs().limit(bad).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "limit {bad}");
        assert!(err.to_string().contains("minimum 1"), "{err}");
        assert_eq!(mock.request_count(), before);
        let raw = raw_http()
            .get(format!("{}/task-runs?limit={bad}", mock.base_url()))
            .bearer_auth(mock.api_key())
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 400);
        let header = raw.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(header.starts_with("req_"));
        let body: serde_json::Value = raw.json().await.unwrap();
        assert!(
            body["errors"]["limit"][0]
                .as_str()
                .is_some_and(|m| m.contains("between 1 and 100")),
            "{body}"
        );
        assert_eq!(
            body["traceId"],
            header.as_str(),
            "traceId is the request id"
        );
    }
}

#[tokio::test]
async fn a_cursor_from_another_list_is_refused() {
    let mock = manual(50).await;
    let client = mock.client();
    let tasks = client
        .list_tasks()
        .limit(2)
        .send()
        .await
        .unwrap()
        .into_inner();
    let cursor = tasks.next_cursor.unwrap();
    let err = client
        .list_task_runs()
        .cursor(cursor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(
        err.api_error()
            .unwrap()
            .validation_errors()
            .unwrap()
            .contains_key("cursor")
    );
}

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn filters_select_exactly_the_matching_runs() {
    let mock = manual(1_000).await;
    let client = mock.client();
    let all = client.list_task_runs().collect_all().await.unwrap();
    let ids = |runs: Vec<deck::types::TaskRunSummary>| -> Vec<String> {
        runs.into_iter().map(|r| r.id.into_string()).collect()
    };
    let expect = |pred: &dyn Fn(&deck::types::TaskRunSummary) -> bool| -> Vec<String> {
        all.iter()
            .filter(|r| pred(r))
            .map(|r| r.id.to_string())
            .collect()
    };

    // status (one value, then repeated values)
    let completed = ids(client
        .list_task_runs()
        .status([deck::types::RunStatus::Completed])
        .collect_all()
        .await
        .unwrap());
    assert_eq!(completed, expect(&|r| r.status == RunStatus::Completed));
    assert!(
        completed.len() > 500,
        "mostly completed: {}",
        completed.len()
    );
    let finished_badly = ids(client
        .list_task_runs()
        .status([
            deck::types::RunStatus::Failed,
            deck::types::RunStatus::Canceled,
        ])
        .collect_all()
        .await
        .unwrap());
    assert_eq!(
        finished_badly,
        expect(&|r| r.status == RunStatus::Failed || r.status == RunStatus::Canceled)
    );
    assert!(!finished_badly.is_empty());

    // task_id
    let task_id = all[500].task_id.clone();
    let of_task = ids(client
        .list_task_runs()
        .task_id(task_id.as_str())
        .collect_all()
        .await
        .unwrap());
    assert_eq!(of_task, expect(&|r| r.task_id == task_id));

    // created_after (exclusive), alone and with status and task_id
    let after = all[300].created_at;
    let recent = ids(client
        .list_task_runs()
        .created_after(after)
        .collect_all()
        .await
        .unwrap());
    assert_eq!(recent, expect(&|r| r.created_at > after));
    assert_eq!(recent.len(), 300);
    let combined = ids(client
        .list_task_runs()
        .created_after(after)
        .status([deck::types::RunStatus::Completed])
        .task_id(task_id.as_str())
        .collect_all()
        .await
        .unwrap());
    assert_eq!(
        combined,
        expect(&|r| r.created_at > after
            && r.status == RunStatus::Completed
            && r.task_id == task_id)
    );

    // created_before, outcome, agent_id, search by run id
    let before = all[900].created_at;
    let old = ids(client
        .list_task_runs()
        .created_before(before)
        .collect_all()
        .await
        .unwrap());
    assert_eq!(old, expect(&|r| r.created_at < before));
    let failures = ids(client
        .list_task_runs()
        .outcome([deck::types::RunResult::Failure])
        .collect_all()
        .await
        .unwrap());
    assert_eq!(failures, expect(&|r| r.result == Some(RunResult::Failure)));
    let agent = all[10].agent_id.clone();
    let of_agent = ids(client
        .list_task_runs()
        .agent_id(agent.as_str())
        .collect_all()
        .await
        .unwrap());
    assert_eq!(of_agent, expect(&|r| r.agent_id == agent));
    let found = ids(client
        .list_task_runs()
        .search(&all[42].id[5..15])
        .collect_all()
        .await
        .unwrap());
    assert_eq!(found, vec![all[42].id.clone()]);

    // A bad timestamp is a validation error.
    let response = raw_http()
        .get(format!(
            "{}/task-runs?created_after=yesterday",
            mock.base_url()
        ))
        .bearer_auth(mock.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"]["created_after"][0].is_string(), "{body}");
}

#[tokio::test]
async fn tasks_list_filters_and_lookup() {
    let mock = MockDeck::builder().tasks(9).start().await;
    let client = mock.client();
    let all = client.list_tasks().collect_all().await.unwrap();
    assert_eq!(all.len(), 9);
    assert_eq!(
        all.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        mock.task_ids()
    );
    let live = client
        .list_tasks()
        .status("live")
        .collect_all()
        .await
        .unwrap();
    assert!(
        !live.is_empty()
            && live
                .iter()
                .all(|t| t.status == deck::types::TaskStatus::Live)
    );
    let agent = all[0].agent_id.clone();
    let of_agent = client
        .list_tasks()
        .agent_id(agent.as_str())
        .collect_all()
        .await
        .unwrap();
    assert!(of_agent.iter().all(|t| t.agent_id == agent));
    assert_eq!(
        of_agent.len(),
        all.iter().filter(|t| t.agent_id == agent).count()
    );
    let one = client
        .get_task()
        .task_id(all[3].id.as_str())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.name, all[3].name);
    assert!(
        one.request_id
            .as_deref()
            .is_some_and(|id| id.starts_with("req_"))
    );
    assert!(one.input_schema.unwrap()["required"].is_array());
}

// ---------------------------------------------------------------------------------------------
// Include sections and storage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn include_sections_are_omitted_unless_requested() {
    let mock = manual(200).await;
    let client = mock.client();
    let done = client
        .list_task_runs()
        .status([deck::types::RunStatus::Completed])
        .outcome([deck::types::RunResult::Success])
        .collect_all()
        .await
        .unwrap();
    let mut with_files = None;
    for run in &done {
        let full = client
            .get_task_run()
            .run_id(run.id.as_str())
            .include(Include::STORAGE)
            .send()
            .await
            .unwrap()
            .into_inner();
        if full.storage.as_ref().is_some_and(|s| !s.is_empty()) {
            with_files = Some(full);
            break;
        }
    }
    let with_files = with_files.expect("a seeded run with storage");
    let id = with_files.id.as_str();

    let bare = client
        .get_task_run()
        .run_id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bare.storage_section(), Section::NotRequested);
    assert_eq!(bare.screenshots_section(), Section::NotRequested);
    assert!(bare.input.is_none() && bare.tokenized.is_none());

    let some = client
        .get_task_run()
        .run_id(id)
        .include("input,bogus")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(some.input.is_some(), "input returned");
    assert_eq!(
        some.storage_section(),
        Section::NotRequested,
        "unknown values ignored"
    );

    let all = client
        .get_task_run()
        .run_id(id)
        .include(Include::all())
        .send()
        .await
        .unwrap()
        .into_inner();
    let Section::Returned(files) = all.storage_section() else {
        panic!("storage requested")
    };
    assert!(!files.is_empty());
    assert!(files[0].file_size > 0);
    assert!(matches!(all.screenshots_section(), Section::Returned(s) if !s.is_empty()));

    // file_size is sent as a string, as Deck does.
    let raw: Value = raw_http()
        .get(format!(
            "{}/task-runs/{id}?include=storage",
            mock.base_url()
        ))
        .bearer_auth(mock.api_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(raw["storage"][0]["file_size"].is_string(), "{raw}");
    assert!(raw.get("input").is_none() && raw.get("artifacts").is_none());

    // The storage list pages with a cursor too.
    let listed = client
        .list_task_run_storage()
        .run_id(id)
        .limit(1)
        .pages()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(listed.len(), files.len());
    assert!(listed.iter().all(|p| p.items[0].task_run_id == id));
}

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn stepping_moves_a_run_through_its_lifecycle() {
    let mock = manual(20).await;
    let client = mock.client();
    let (plain, _) = tasks(&client).await;

    let created = client
        .run_task()
        .task_id(plain.id.as_str())
        .body(bill_input())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let run = created.into_inner();
    assert_eq!(run.status, RunStatus::Queued);
    assert!(run.result.is_none() && run.output.is_none());
    let id = run.id.clone();

    // Polling does not move runs in manual mode.
    for _ in 0..3 {
        let polled = client
            .get_task_run()
            .run_id(id.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(polled.status, RunStatus::Queued);
    }
    assert!(mock.step() >= 1);
    assert_eq!(mock.run_status(&id).as_deref(), Some("running"));
    mock.step();
    let done = client
        .get_task_run()
        .run_id(id.as_str())
        .include(Include::STORAGE)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.result, Some(RunResult::Success));
    assert_eq!(
        done.output.as_ref().unwrap()["account_number"],
        "7730019921"
    );
    assert_eq!(done.runtime_ms.unwrap(), 3_000, "one 3 s step of running");
    assert!(done.updated_at > done.created_at);
    assert_eq!(done.storage.as_ref().unwrap().len(), 1);
    let stored = client
        .list_task_run_storage()
        .run_id(id.as_str())
        .collect_all()
        .await
        .unwrap();
    assert_eq!(stored[0].file_type, "application/pdf");
    assert!(stored[0].extraction.is_some());

    // Terminal runs stay put.
    assert_eq!(mock.advance(5), 0);
}

#[tokio::test]
async fn mfa_runs_pause_for_interaction_and_resume() {
    let mock = manual(0).await;
    let client = mock.client();
    let (_, mfa) = tasks(&client).await;
    let run = client
        .run_task()
        .task_id(mfa.id.as_str())
        .body(RunTaskRequest::builder().input(
            json!({"account_number": "1", "statement_month": "2026-10", "password": "hunter2"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    let id = run.id.as_str();

    // Answering too early is a conflict.
    let early = client
        .submit_task_run_interaction()
        .run_id(id)
        .body(SubmitInteractionRequest::builder().input(json!({"code": "123456"})))
        .send()
        .await
        .unwrap_err();
    assert_eq!(early.kind(), ErrorKind::Conflict);
    assert_eq!(early.code(), Some("task_run_not_awaiting_interaction"));

    mock.advance(2);
    let paused = client
        .get_task_run()
        .run_id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paused.status, RunStatus::InteractionRequired);
    assert_eq!(
        paused
            .interaction
            .as_ref()
            .unwrap()
            .fields
            .as_ref()
            .unwrap()[0]
            .name
            .as_deref(),
        Some("code")
    );
    assert_eq!(mock.advance(3), 0, "a paused run waits for input");

    // A missing field is refused; the right one resumes the run.
    let missing = client
        .submit_task_run_interaction()
        .run_id(id)
        .body(SubmitInteractionRequest::builder().input(json!({"otp": "1"})))
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Unprocessable);
    assert_eq!(
        missing.api_error().unwrap().errors()[0].field.as_deref(),
        Some("code")
    );
    let resumed = client
        .submit_task_run_interaction()
        .run_id(id)
        .body(SubmitInteractionRequest::builder().input(json!({"code": "123456"})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resumed.status, RunStatus::Running);
    assert!(resumed.interaction.is_none());
    mock.step();
    let done = client
        .get_task_run()
        .run_id(id)
        .include(Include::INPUT)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status, RunStatus::Completed);
    // The writeOnly password was tokenized: removed from input, named in `tokenized`.
    assert!(done.input.as_ref().unwrap().get("password").is_none());
    assert_eq!(done.tokenized, Some(vec!["password".to_string()]));
}

#[tokio::test]
async fn wait_for_task_run_finishes_by_polling_and_answers_interactions() {
    let mock = MockDeck::builder().runs(10).start().await; // StepMode::OnPoll
    let client = mock.client();
    let (plain, _) = tasks(&client).await;

    // `{"mfa": true}` makes any task ask for a code.
    let run = client
        .run_task()
        .task_id(plain.id.as_str())
        .body(RunTaskRequest::builder().input(json!({"account_number": "42", "mfa": true})))
        .send()
        .await
        .unwrap()
        .into_inner();
    let paused = fast(client.wait_for_task_run(run.id.as_str()))
        .await
        .unwrap();
    assert_eq!(paused.status, RunStatus::InteractionRequired);
    client
        .submit_task_run_interaction()
        .run_id(run.id.as_str())
        .body(SubmitInteractionRequest::builder().input(json!({"code": "123456"})))
        .send()
        .await
        .unwrap();
    let done = fast(client.wait_for_task_run(run.id.as_str()))
        .include(Include::STORAGE)
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.result, Some(RunResult::Success));
    assert!(matches!(done.storage_section(), Section::Returned(s) if s.len() == 1));

    // The wrong code and `{"fail": true}` end in `failed` with errors.
    let bad = client
        .run_task()
        .task_id(plain.id.as_str())
        .body(RunTaskRequest::builder().input(json!({"account_number": "42", "mfa": true})))
        .send()
        .await
        .unwrap()
        .into_inner();
    fast(client.wait_for_task_run(bad.id.as_str()))
        .await
        .unwrap();
    client
        .submit_task_run_interaction()
        .run_id(bad.id.as_str())
        .body(SubmitInteractionRequest::builder().input(json!({"code": "000000"})))
        .send()
        .await
        .unwrap();
    let failed = fast(client.wait_for_task_run(bad.id.as_str()))
        .await
        .unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(failed.errors.unwrap()[0].code, "mfa_code_invalid");
    let doomed = client
        .run_task()
        .task_id(plain.id.as_str())
        .body(RunTaskRequest::builder().input(json!({"account_number": "42", "fail": true})))
        .send()
        .await
        .unwrap()
        .into_inner();
    let failed = fast(client.wait_for_task_run(doomed.id.as_str()))
        .await
        .unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(failed.result, Some(RunResult::Failure));
}

#[tokio::test]
async fn step_mode_every_moves_runs_in_real_time() {
    let mock = MockDeck::builder()
        .runs(0)
        .step_mode(StepMode::Every(Duration::from_millis(10)))
        .start()
        .await;
    let client = mock.client();
    let (plain, _) = tasks(&client).await;
    let run = client
        .run_task()
        .task_id(plain.id.as_str())
        .body(bill_input())
        .send()
        .await
        .unwrap()
        .into_inner();
    let done = client
        .wait_for_task_run(run.id.as_str())
        .initial_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
}

#[tokio::test]
async fn cancel_goes_through_canceling_and_refuses_terminal_runs() {
    let mock = manual(0).await;
    let client = mock.client();
    let (plain, _) = tasks(&client).await;
    let run = client
        .run_task()
        .task_id(plain.id.as_str())
        .body(bill_input())
        .send()
        .await
        .unwrap()
        .into_inner();
    mock.step();
    let canceling = client
        .cancel_task_run()
        .run_id(run.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(canceling.status, RunStatus::Canceling);
    mock.step();
    assert_eq!(mock.run_status(&run.id).as_deref(), Some("canceled"));
    let again = client
        .cancel_task_run()
        .run_id(run.id.as_str())
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Conflict);
    assert_eq!(again.code(), Some("task_run_not_cancelable"));
    assert!(again.request_id().unwrap().starts_with("req_"));
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_ids_are_404_envelopes_with_request_ids() {
    let mock = manual(10).await;
    let client = mock.client();
    let err = client
        .get_task_run()
        .run_id("trun_nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some("task_run_not_found"));
    let api = err.api_error().unwrap();
    assert_eq!(api.error_type(), Some("request"));
    assert!(api.message().unwrap().contains("trun_nope"));
    let header = api.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(api.request_id(), Some(header));
    assert!(header.starts_with("req_"));

    for err in [
        client
            .get_task()
            .task_id("task_nope")
            .send()
            .await
            .unwrap_err(),
        client
            .run_task()
            .task_id("task_nope")
            .body(RunTaskRequest::default())
            .send()
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(err.code(), Some("task_not_found"));
    }
    for err in [
        client
            .cancel_task_run()
            .run_id("trun_nope")
            .send()
            .await
            .unwrap_err(),
        client
            .list_task_run_storage()
            .run_id("trun_nope")
            .send()
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), Some("task_run_not_found"));
    }
}

#[tokio::test]
async fn missing_input_fields_are_422() {
    let mock = manual(0).await;
    let client = mock.client();
    let (plain, _) = tasks(&client).await;
    let err = client
        .run_task()
        .task_id(plain.id.as_str())
        .body(RunTaskRequest::default())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unprocessable);
    assert_eq!(err.code(), Some("invalid_input"));
    assert_eq!(
        err.api_error().unwrap().errors()[0].field.as_deref(),
        Some("input.account_number")
    );
    assert_eq!(mock.run_count(), 0);
}

#[tokio::test]
async fn authentication_is_required() {
    let mock = MockDeck::builder()
        .api_key("sk_test_right")
        .runs(5)
        .start()
        .await;
    assert!(mock.client().test_api_key().send().await.is_ok());

    // A wrong key: 401 with an empty body, typed as Unauthorized.
    let wrong = mock
        .client_builder()
        .api_key("sk_test_wrong")
        .build()
        .unwrap();
    let err = wrong.list_task_runs().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.api_error().unwrap().body(), &ErrorBody::Empty);
    assert!(
        err.request_id().unwrap().starts_with("req_"),
        "from x-request-id"
    );

    // No Authorization header at all.
    let response = raw_http()
        .get(format!("{}/task-runs", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("x-request-id"));
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn test_api_key_reports_the_live_environment_as_deck_does() {
    let mock = manual(0).await;
    let ok = mock
        .client()
        .test_api_key()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.status, "ready");
    // Deck has no test environment; MockDeck does not invent one.
    assert_eq!(ok.environment.as_deref(), Some("live"));
    assert!(deck::mock::DEFAULT_MOCK_API_KEY.starts_with("sk_live_"));
    assert!(mock.api_key().starts_with("sk_live_"));
    assert!(ok.request_id.starts_with("req_"));
}

#[tokio::test]
async fn odd_requests_get_deck_errors_never_a_crash() {
    let mock = manual(30).await;
    let http = raw_http();
    let base = mock.base_url();
    let key = mock.api_key();
    let cases: Vec<(reqwest::Method, String, Option<&str>, u16)> = vec![
        (
            reqwest::Method::POST,
            format!("{base}/tasks/{}/run", mock.task_ids()[0]),
            Some("{not json"),
            400,
        ),
        (
            reqwest::Method::POST,
            format!("{base}/tasks/{}/run", mock.task_ids()[0]),
            Some("[1,2]"),
            400,
        ),
        (
            reqwest::Method::POST,
            format!("{base}/tasks/{}/run", mock.task_ids()[0]),
            Some(r#"{"credential_id": 5}"#),
            400,
        ),
        (
            reqwest::Method::POST,
            format!("{base}/task-runs/trun_x/interaction"),
            Some("{}"),
            400,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/task-runs?limit=abc"),
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/task-runs?limit=99999999999999999999"),
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/task-runs?cursor=%%%"),
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/task-runs?cursor=dHJ1bl9ub3BlCg"),
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/task-runs?created_before=2026-13-45"),
            None,
            400,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/task-runs/%ff%fe%"),
            None,
            404,
        ),
        (reqwest::Method::GET, format!("{base}/nope"), None, 404),
        (reqwest::Method::GET, base.to_string(), None, 404),
        (
            reqwest::Method::DELETE,
            format!("{base}/task-runs/trun_x"),
            None,
            405,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/task-runs/trun_x/cancel"),
            None,
            405,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/task-runs?status=bogus&outcome=&source_id[]=src_x"),
            None,
            200,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/task-runs/trun_x?include=,,%2C"),
            None,
            404,
        ),
    ];
    for (method, url, body, expected) in cases {
        let mut request = http.request(method.clone(), &url).bearer_auth(key);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{method} {url}");
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        let bytes = response.bytes().await.unwrap();
        if expected == 405 {
            continue;
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        match expected {
            400 => {
                assert!(body["errors"].is_object(), "{url}: {body}");
                assert_eq!(body["traceId"], request_id.as_str());
            }
            404 => assert_eq!(body["request_id"], request_id.as_str(), "{url}: {body}"),
            _ => assert!(body["data"].is_array()),
        }
    }
    // Still serving.
    assert!(mock.client().test_api_key().send().await.is_ok());
}

#[tokio::test]
async fn the_server_stops_on_shutdown() {
    let mock = manual(5).await;
    // Without retries: a default client would retry the refused connection for seconds.
    let client = mock
        .client_builder()
        .retry(deck::RetryPolicy::none())
        .build()
        .unwrap();
    assert!(client.test_api_key().send().await.is_ok());
    mock.shutdown().await;
    let err = client.test_api_key().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
}

// ---------------------------------------------------------------------------------------------
// Idempotency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn idempotency_keys_replay_the_first_response() {
    let mock = manual(10).await;
    let client = mock.client();
    let (plain, _) = tasks(&client).await;
    let before = mock.run_count();
    let send = |body: deck::types::builder::RunTaskRequest, key: &'static str| {
        client
            .run_task()
            .task_id(plain.id.as_str())
            .body(body)
            .with_options(RequestOptions::new().idempotency_key(key.parse().unwrap()))
            .send()
    };

    let first = send(bill_input(), "order-42").await.unwrap();
    let second = send(bill_input(), "order-42").await.unwrap();
    assert_eq!(first.id, second.id, "same run");
    assert_eq!(first.request_id, second.request_id, "replayed verbatim");
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(mock.run_count(), before + 1, "one run created");

    // The same key with another body is a conflict.
    let other = RunTaskRequest::builder().input(json!({"account_number": "999"}));
    let err = send(other.clone(), "order-42").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.api_error().unwrap().error_type(), Some("idempotency"));
    assert_eq!(err.code(), Some("idempotency_error"));
    assert_eq!(mock.run_count(), before + 1);

    // Errors are not remembered: a key that first met a 422 works once the body is fixed.
    let bad = send(RunTaskRequest::builder(), "order-43")
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::Unprocessable);
    let fixed = send(other, "order-43").await.unwrap();
    assert_ne!(fixed.id, first.id);
    assert_eq!(mock.run_count(), before + 2);

    // Without an explicit key the client sends a fresh one per call: two runs.
    for _ in 0..2 {
        client
            .run_task()
            .task_id(plain.id.as_str())
            .body(bill_input())
            .send()
            .await
            .unwrap();
    }
    assert_eq!(mock.run_count(), before + 4);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data() {
    let ids = |mock: MockDeck| async move {
        let client = mock.client();
        let runs = client
            .list_task_runs()
            .limit(50)
            .send()
            .await
            .unwrap()
            .into_inner();
        let created = client
            .run_task()
            .task_id(mock.task_ids()[1].as_str())
            .body(bill_input())
            .send()
            .await
            .unwrap()
            .into_inner();
        let mut ids: Vec<String> = runs.data.into_iter().map(|r| r.id.into_string()).collect();
        ids.push(created.id.into_string());
        ids
    };
    let a = ids(MockDeck::builder()
        .seed(7)
        .start_time(start_time())
        .start()
        .await)
    .await;
    let b = ids(MockDeck::builder()
        .seed(7)
        .start_time(start_time())
        .start()
        .await)
    .await;
    let c = ids(MockDeck::builder()
        .seed(8)
        .start_time(start_time())
        .start()
        .await)
    .await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    let recent = MockDeck::builder().start_time(start_time()).start().await;
    let newest = recent
        .client()
        .list_task_runs()
        .limit(1)
        .send()
        .await
        .unwrap()
        .into_inner();
    let age = start_time() - newest.data[0].created_at;
    assert!(
        age > TimeDelta::zero() && age < TimeDelta::hours(1),
        "{age}"
    );
}

/// Deck starts a session for a run that names none; the run answers its `session_id`, and the
/// session lists the run.
#[tokio::test]
async fn a_new_run_gets_a_session() {
    let mock = manual(0).await;
    let client = mock.client();
    let tasks = client.list_tasks().collect_all().await.unwrap();
    let task = tasks
        .iter()
        .find(|t| t.name == "Fetch latest utility bill")
        .unwrap();
    let run = client
        .run_task()
        .task_id(&task.id)
        .input(&json!({"account_number": "1"}))
        .send()
        .await
        .unwrap()
        .into_inner();
    let session_id = run.session_id.clone().expect("a session for the run");
    let session = client
        .get_session()
        .session_id(&session_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let listed = serde_json::to_value(&session).unwrap();
    assert!(listed.to_string().contains(run.id.as_str()), "{listed}");
}

/// A task-list cursor stays valid when the task it names is deleted: the next page goes on
/// from where that task stood.
#[tokio::test]
async fn a_task_list_cursor_survives_deleting_its_task() {
    let mock = manual(0).await;
    let client = mock.client();
    let all = mock.task_ids();
    assert!(all.len() >= 4);
    let first = client
        .list_tasks()
        .limit(2)
        .send()
        .await
        .unwrap()
        .into_inner();
    let cursor = first.next_cursor.clone().expect("more tasks");
    let last = first.data.last().unwrap().id.clone();
    client.delete_task().task_id(&last).send().await.unwrap();
    let next = client
        .list_tasks()
        .limit(2)
        .cursor(cursor)
        .send()
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = next.data.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids, all[2..4], "the page after the deleted task");
}

/// A bare reqwest client for raw requests. The `deck` crate installs no process-wide rustls
/// provider (it passes its own to its client), so a test building plain reqwest clients does
/// what an application does: install one.
fn raw_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
