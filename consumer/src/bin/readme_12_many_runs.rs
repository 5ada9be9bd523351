// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
use deck::tracker::TrackerOptions;
use futures::StreamExt;
use serde_json::json;
use std::time::Duration;

// MockDeck with runs of 30–120 s on a clock running 600× real time, and 5 sandboxes.
let mock = deck::mock::MockDeck::builder()
    .run_duration(Duration::from_secs(30)..=Duration::from_secs(120))
    .time_scale(600.0)
    .session_limit(5)
    .start()
    .await;
let client = mock
    .client_builder()
    .rate_limit(deck::RateLimit::DECK)
    .run_tracker(TrackerOptions::new().poll_interval(Duration::from_millis(20)))
    .build()?;
let task_id = &mock.task_ids()[0];

let accounts: Vec<String> = (0..20).map(|i| format!("{i:012}")).collect();
let mut results = client
    .run_batch(task_id)
    .key("statements-2026-10") // the same key after a crash: nothing starts twice
    .max_in_flight(10)
    .on_interaction(|_run| async { Some(json!({"code": "123456"})) }) // e.g. ask your user
    .run(accounts.iter().map(|a| (a.clone(), json!({"account_number": a, "statement_month": "2026-10"}))));
while let Some(item) = results.next().await {
    let run = item.result?;
    println!("{}: {} {:?}", item.key, run.status, run.output);
}
assert_eq!(mock.run_count(), 150 + 20);
Ok(()) }
