// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
use deck::types::EventType;
use futures::StreamExt;
use std::time::Duration;
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
let input = serde_json::json!({"account_number": "1", "statement_month": "2026-10"});
client.run_task().task_id(&mock.task_ids()[0]).input(&input).send().await?;

let mut feed = client
    .event_feed()
    .types([EventType::TaskRunQueued, EventType::TaskRunCompleted])
    .from_beginning() // or .resume_from(saved_checkpoint)
    .poll_interval(Duration::from_secs(30)) // webhooks bring events sooner
    .start();
let pusher = feed.pusher(); // give it to your webhook handler:
// let event = webhook.verify(&body, &headers)?; pusher.push(event.clone()); tracker.ingest(event);
let event = feed.next().await.unwrap()?;
pusher.push(event.clone()); // a redelivery is not handed on again
let checkpoint = feed.checkpoint(); // persist it: serde_json::to_string(&checkpoint)
assert_eq!(event.type_, EventType::TaskRunQueued);
let _ = serde_json::to_string(&checkpoint).unwrap();
Ok(()) }
