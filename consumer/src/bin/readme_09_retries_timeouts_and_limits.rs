// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
let task_id = client.list_tasks().collect_all().await?.into_iter()
    .find(|t| t.name.contains("statements")).unwrap().id;
use deck::{IdempotencyKey, RequestOptions, RetryPolicy};
use deck::types::{RunStatus, RunTaskRequest};
use serde_json::json;
use std::time::Duration;

let body = RunTaskRequest::builder().input(json!({"account_number": "42", "statement_month": "2026-10"}));
let key = IdempotencyKey::new("order-42")?; // checked here: 1 to 256 visible ASCII characters
let first = client.run_task().task_id(&task_id).body(body.clone())
    .with_options(RequestOptions::new().idempotency_key(key.clone()))
    .send().await?;
// The same key with the same body: Deck replays the first result instead of running again.
let again = client.run_task().task_id(&task_id).body(body)
    .with_options(RequestOptions::new().idempotency_key(key))
    .send().await?;
assert_eq!(first.id, again.id);

// Options compose with filters and pagination, in any order.
let quick = RequestOptions::new().retry(RetryPolicy::default().deadline(Duration::from_secs(5)));
let failed = client.list_task_runs().with_options(quick).status([RunStatus::Failed]).max_items(10).collect_all().await?;
let _ = failed;
Ok(()) }
