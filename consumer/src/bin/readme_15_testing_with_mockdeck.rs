// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
use deck::mock::{MockDeck, StepMode};

let mock = MockDeck::builder().runs(500).step_mode(StepMode::Manual).start().await;
let client = mock.client(); // a deck::Client pointed at the mock
let page = client.list_task_runs().limit(50).send().await?;
assert_eq!(page.data.len(), 50);
mock.advance(3); // move every active run three steps
Ok(()) }
