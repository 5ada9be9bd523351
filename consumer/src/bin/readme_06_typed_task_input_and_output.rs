// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
let agent_id = client.list_agents().collect_all().await?[0].id.clone();
use deck::schemars::JsonSchema;
use deck::types::CreateTaskRequest;
use serde::{Deserialize, Serialize};

// `crate = …` points the derive at deck's re-export: no `schemars` dependency of your own.
#[derive(Serialize, JsonSchema)]
#[schemars(crate = "deck::schemars")]
struct BillRequest { account_number: String }

#[derive(Deserialize, JsonSchema)]
#[schemars(crate = "deck::schemars")]
struct Bill { amount_due: f64, due_date: String }

let task = client
    .create_task()
    .body(
        CreateTaskRequest::builder()
            .name("Latest bill")
            .agent_id(agent_id)
            .extraction(true)
            .input_schema(deck::json_schema::<BillRequest>())
            .output_schema(deck::json_schema::<Bill>()),
    )
    .send()
    .await?;
let run = client
    .run_task()
    .task_id(&task.id)
    .input(&BillRequest { account_number: "42".into() })
    .send()
    .await?;
let run = client.wait_for_task_run(&run.id).await?;
let bill: Bill = run.output_as()?; // Error::Output (kind Output) when it does not match
let _ = (bill.amount_due, bill.due_date);
Ok(()) }
