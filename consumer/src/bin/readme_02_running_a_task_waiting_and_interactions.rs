// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
let task_id = client.list_tasks().collect_all().await?.into_iter()
    .find(|t| t.name.contains("statements")).unwrap().id;
use deck::types::{RunResult, RunStatus, RunTaskRequest, SubmitInteractionRequest};
use serde_json::json;

let started = client
    .run_task()
    .task_id(&task_id)
    .body(RunTaskRequest::builder().input(json!({"account_number": "000123456789", "statement_month": "2026-10"})))
    .send()
    .await?;
let mut run = client.wait_for_task_run(&started.id).await?;
while run.status == RunStatus::InteractionRequired {
    // e.g. an MFA code: the interaction says which fields Deck wants
    let answers: serde_json::Map<String, serde_json::Value> = run
        .interaction
        .iter()
        .flat_map(|i| i.fields.iter().flatten())
        .filter_map(|field| field.name.clone())
        .map(|name| (name, json!("123456")))
        .collect();
    client
        .submit_task_run_interaction()
        .run_id(&run.id)
        .body(SubmitInteractionRequest::builder().input(answers))
        .send()
        .await?;
    run = client.wait_for_task_run(&run.id).await?;
}
assert!(run.status.is_terminal());
if run.result == Some(RunResult::Success) {
    // Numbers are plain integers (`Option<i32>` here), whatever form Deck sent them in.
    let budget_ms = run.runtime_ms.unwrap_or(0) + 5;
    println!("{} finished within {budget_ms} ms: {:?}", run.id, run.output);
}

// Cancelling: the run moves to `canceling`, then `canceled`.
let other = client.run_task().task_id(&task_id)
    .body(RunTaskRequest::builder().input(json!({"account_number": "1", "statement_month": "2026-09"})))
    .send().await?;
let canceling = client.cancel_task_run().run_id(&other.id).send().await?;
assert_eq!(canceling.status, RunStatus::Canceling);
Ok(()) }
