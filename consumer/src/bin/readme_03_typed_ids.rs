// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
use deck::types::{Task, TaskId};

let task: Task = client.list_tasks().collect_all().await?.remove(0);
let again = client.get_task().task_id(&task.id).send().await?;
assert_eq!(again.id, task.id);
let from_a_database: String = task.id.to_string();
let parsed = TaskId::from(from_a_database);
assert_eq!(parsed.as_str(), task.id.as_str());
let runs = client.list_task_runs().task_id(&parsed).send().await?;
println!("{} runs of {}", runs.data.len(), task.id);
Ok(()) }
