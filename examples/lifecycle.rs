//! A task run's whole lifecycle in a few lines: run, wait, answer an interaction, wait again,
//! then run another and cancel it.
//!
//! ```text
//! cargo run --example lifecycle
//! ```
//!
//! Runs against `MockDeck` (offline) unless `DECK_API_KEY` is set; then it uses the real API with
//! `DECK_TASK_ID` and `DECK_TASK_INPUT` (JSON), and `DECK_MFA_CODE` for a verification prompt.

use deck::mock::MockDeck;
use deck::types::{RunStatus, RunTaskRequest, SubmitInteractionRequest};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), deck::Error> {
    let (_mock, client, task_id, input) = match std::env::var("DECK_API_KEY") {
        Ok(_) => {
            let task_id: deck::types::TaskId = std::env::var("DECK_TASK_ID")
                .map_err(|_| deck::Error::InvalidRequest("set DECK_TASK_ID".into()))?
                .into();
            let input: Value = std::env::var("DECK_TASK_INPUT")
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or(json!({}));
            (None, deck::Client::from_env()?, task_id, input)
        }
        Err(_) => {
            let mock = MockDeck::start().await;
            let client = mock.client();
            let task = client
                .list_tasks()
                .collect_all()
                .await?
                .into_iter()
                .find(|t| t.name.contains("statements"))
                .expect("MockDeck seeds a statements task");
            let input = json!({"account_number": "000123456789", "statement_month": "2026-10"});
            println!("(offline: MockDeck at {})", mock.base_url());
            (Some(mock), client, task.id, input)
        }
    };
    let body = || RunTaskRequest::builder().input(input.clone());

    // Run, and wait until it finishes or needs us.
    let started = client
        .run_task()
        .task_id(&task_id)
        .body(body())
        .send()
        .await?;
    println!("started {} ({})", started.id, started.status);
    let wait = |id: deck::types::TaskRunId| {
        client
            .wait_for_task_run(id)
            .initial_interval(Duration::from_millis(200))
            .timeout(Duration::from_secs(600))
    };
    let mut run = wait(started.id.clone()).await?;
    while run.status == RunStatus::InteractionRequired {
        let code = std::env::var("DECK_MFA_CODE").unwrap_or_else(|_| "123456".into());
        println!(
            "interaction: {}",
            run.interaction
                .as_ref()
                .and_then(|i| i.message.as_deref())
                .unwrap_or("(no message)")
        );
        client
            .submit_task_run_interaction()
            .run_id(&run.id)
            .body(SubmitInteractionRequest::builder().input(json!({"code": code})))
            .send()
            .await?;
        run = wait(run.id.clone()).await?;
    }
    println!("{} is {} ({:?})", run.id, run.status, run.result);

    // Run another and cancel it: `canceling` first, then `canceled`.
    let other = client
        .run_task()
        .task_id(&task_id)
        .body(body())
        .send()
        .await?;
    let canceling = client.cancel_task_run().run_id(&other.id).send().await?;
    println!("cancel requested: {} is {}", canceling.id, canceling.status);
    let done = wait(other.id.clone()).await?;
    println!("{} is {}", done.id, done.status);
    Ok(())
}
