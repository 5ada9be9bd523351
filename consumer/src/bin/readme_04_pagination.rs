// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
use deck::types::RunStatus;
use futures::TryStreamExt;

let mut runs = client.list_task_runs().status([RunStatus::Failed, RunStatus::Canceled]).items();
while let Some(run) = runs.try_next().await? {
    println!("{} {}", run.id, run.status);
}
let first_100 = client.list_task_runs().max_items(100).collect_all().await?;
assert_eq!(first_100.len(), 100);

// A status read from one run can be passed straight to the filter.
let same = client.list_task_runs().status([first_100[0].status.clone()]).limit(10).send().await?;
assert!(same.data.iter().all(|r| r.status == first_100[0].status));
Ok(()) }
