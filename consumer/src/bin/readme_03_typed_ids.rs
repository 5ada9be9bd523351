// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
use deck::types::{TaskId, TaskRunId};

let task: TaskId = client.list_tasks().collect_all().await?[0].id.clone();
let run = client.run_task().task_id(&task).send().await?;
let again = client.get_task_run().run_id(&run.id).send().await?;
assert_eq!(again.id, run.id);
let from_a_database: String = run.id.to_string();
let parsed = TaskRunId::from(from_a_database);
assert_eq!(parsed.as_str(), run.id.as_str());
Ok(()) }
