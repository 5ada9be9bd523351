//! Setup: everything a task needs, made through the API, then cleaned up. Creates an agent, a
//! source (the website), a credential for it and a task whose input and output schemas are
//! derived from Rust types; runs the task with a typed input, reads its output as a Rust type,
//! then deletes what it created (also when a step fails).
//!
//! ```text
//! cargo run --example setup
//! ```
//!
//! Without `DECK_API_KEY` it runs against `MockDeck`, an offline Deck inside this process. With
//! `DECK_API_KEY` set it calls the real API, creating (and deleting) real objects, configured by:
//!
//! - `DECK_SOURCE_URL`: the website (default `https://example.com`);
//! - `DECK_USERNAME` / `DECK_PASSWORD`: the login the credential stores (default: demo values
//!   that the website will reject, so the run fails at login; the cleanup still runs);
//! - `DECK_BASE_URL`: another API root.
//!
//! Needs the crate's `schemars` feature (`deck-api = { features = ["schemars"] }`) for
//! `deck::json_schema`; `TaskRun::output_as` works without it.

use deck::schemars::JsonSchema;
use deck::types::{
    AuthMethod, CreateAgentRequest, CreateCredentialRequest, CreateSourceRequest,
    CreateTaskRequest, RunTaskRequest, SourceType, TaskRun, Website,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

/// `println!` that ignores a closed stdout (e.g. `| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// What a run of the task is given: its `input_schema` is derived from this type.
#[derive(Serialize, JsonSchema)]
#[schemars(crate = "deck::schemars")]
struct BillRequest {
    /// The account number, as printed on the bill.
    account_number: String,
}

/// What the task extracts: its `output_schema` is derived from this type, and the run's output
/// is read back as it.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "deck::schemars")]
struct Bill {
    /// Amount due, in the bill's currency.
    amount_due: f64,
    /// Due date as printed (`2026-12-01`).
    due_date: String,
    /// Line items of the bill.
    lines: Vec<BillLine>,
}

/// One line of a bill.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "deck::schemars")]
struct BillLine {
    label: String,
    amount: f64,
}

/// What this example created, deleted in reverse order at the end.
#[derive(Default)]
struct Created {
    agent: Option<deck::types::AgentId>,
    source: Option<deck::types::SourceId>,
    credential: Option<deck::types::CredentialId>,
    task: Option<deck::types::TaskId>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let live = std::env::var("DECK_API_KEY").is_ok_and(|k| !k.trim().is_empty());
    // Kept alive until the end: dropping it stops the server.
    let mut mock = None;
    let client = if live {
        let client = deck::Client::from_env()?;
        say!("Using Deck at {} (DECK_API_KEY is set).", client.base_url());
        client
    } else {
        let server = deck::mock::MockDeck::start().await;
        say!(
            "DECK_API_KEY is not set: using MockDeck, an offline Deck at {}.",
            server.base_url()
        );
        let client = server.client();
        mock = Some(server);
        client
    };

    let mut created = Created::default();
    let outcome = run(&client, live, &mut created).await;
    cleanup(&client, created).await;
    drop(mock);
    // Errors are shown with their Display form (message and Deck's request_id), not Debug.
    outcome.map_err(|e| e.to_string().into())
}

async fn run(client: &deck::Client, live: bool, created: &mut Created) -> Result<(), deck::Error> {
    let agent = client
        .create_agent()
        .body(
            CreateAgentRequest::builder()
                .name("deck-rs setup example")
                .description(Some(
                    "Created by deck-rs's setup example; safe to delete.".into(),
                )),
        )
        .send()
        .await?;
    created.agent = Some(agent.id.clone());
    say!("Agent:      {} ({})", agent.id, agent.name);

    let url = std::env::var("DECK_SOURCE_URL").unwrap_or_else(|_| "https://example.com".into());
    let source = client
        .create_source()
        .body(
            CreateSourceRequest::builder()
                .type_(SourceType::Website)
                .name(Some("deck-rs setup example".into()))
                .website(Website::builder().url(Some(url))),
        )
        .send()
        .await?;
    created.source = Some(source.id.clone());
    say!("Source:     {} ({})", source.id, source.type_);

    let username = std::env::var("DECK_USERNAME").unwrap_or_else(|_| "demo@example.com".into());
    let password = std::env::var("DECK_PASSWORD").unwrap_or_else(|_| "demo-password".into());
    let credential = client
        .create_credential()
        .body(
            CreateCredentialRequest::builder()
                .source_id(&source.id)
                .auth_method(Some(AuthMethod::UsernamePassword))
                .auth_credentials(Some(json!({"username": username, "password": password}))),
        )
        .send()
        .await?;
    created.credential = Some(credential.id.clone());
    // `Debug` of a credential (or of its request) never shows what it stores.
    say!("Credential: {} ({})", credential.id, credential.status);

    let task = client
        .create_task()
        .body(
            CreateTaskRequest::builder()
                .name("deck-rs setup example: latest bill")
                .agent_id(&agent.id)
                .prompt(Some(
                    "Sign in, open the latest bill and read the amount due, the due date and \
                     its line items."
                        .into(),
                ))
                .extraction(true)
                .input_schema(deck::json_schema::<BillRequest>())
                .output_schema(deck::json_schema::<Bill>()),
        )
        .send()
        .await?;
    created.task = Some(task.id.clone());
    say!("Task:       {} ({}, {})", task.id, task.name, task.status);

    let run = client
        .run_task()
        .task_id(&task.id)
        .body(
            RunTaskRequest::builder()
                .credential_id(Some(credential.id.clone()))
                .source_id(Some(source.id.clone())),
        )
        .input(&BillRequest {
            account_number: "1234-5678".into(),
        })
        .send()
        .await?;
    say!("Run:        {} is {}", run.id, run.status);

    let timeout = if live { 15 * 60 } else { 30 };
    let run: TaskRun = client
        .wait_for_task_run(&run.id)
        .initial_interval(Duration::from_millis(if live { 2000 } else { 50 }))
        .timeout(Duration::from_secs(timeout))
        .await?;
    say!("Finished:   {} ({})", run.status, result_text(&run));
    if run.status.needs_input() {
        say!("The run waits for input (see the quickstart for answering); canceling it.");
        client.cancel_task_run().run_id(&run.id).send().await?;
        return Ok(());
    }
    // MockDeck fills the output with placeholders of the schema's types (`0`, `""`).
    match run.output_as::<Bill>() {
        Ok(bill) => {
            say!("Bill:       {} due {:?}", bill.amount_due, bill.due_date);
            for line in &bill.lines {
                say!("            {:?}: {}", line.label, line.amount);
            }
        }
        // A failed run (wrong password, say) has no output: a typed error, not a panic.
        Err(e) => say!("No bill:    {e}"),
    }
    Ok(())
}

fn result_text(run: &TaskRun) -> String {
    run.result
        .as_ref()
        .map_or_else(|| "no result".into(), |r| format!("result {r}"))
}

/// Deletes what `run` created, newest first; a failure is reported and the rest still deleted.
async fn cleanup(client: &deck::Client, created: Created) {
    if let Some(id) = created.task {
        report("task", &id, client.delete_task().task_id(&id).send().await);
    }
    if let Some(id) = created.credential {
        let deleted = client.delete_credential().credential_id(&id).send().await;
        report("credential", &id, deleted);
    }
    if let Some(id) = created.source {
        report(
            "source",
            &id,
            client.delete_source().source_id(&id).send().await,
        );
    }
    if let Some(id) = created.agent {
        report(
            "agent",
            &id,
            client.delete_agent().agent_id(&id).send().await,
        );
    }
}

fn report<T>(what: &str, id: &str, result: Result<T, deck::Error>) {
    match result {
        Ok(_) => say!("Deleted {what} {id}."),
        Err(e) => say!("Could not delete {what} {id}: {e}"),
    }
}
