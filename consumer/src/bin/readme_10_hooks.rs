// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
use deck::RequestOptions;

let client = mock
    .client_builder() // or deck::Client::builder().api_key(..)
    .before_attempt(|request| request.insert_header("x-tenant", "acme"))
    .after_attempt(|a| {
        println!("{} attempt {}: {:?} in {:?} ({:?})", a.operation, a.attempt, a.status, a.duration, a.error)
    })
    .build()?;
let tasks = client
    .list_tasks()
    .with_options(RequestOptions::new().before_attempt(|r| r.insert_header("x-trace-id", "checkout-42")))
    .send()
    .await?;
let _ = tasks;
Ok(()) }
