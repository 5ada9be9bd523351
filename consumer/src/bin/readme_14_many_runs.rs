// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
use deck::store::RedisStore;
use std::sync::Arc;
use std::time::Duration;
let mock = deck::mock::MockDeck::start().await;

let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
let store = Arc::new(RedisStore::open(&redis_url)?.prefix("deck:my-org:"));
// Every replica: the same limit, the same store.
let client = mock
    .client_builder()
    .rate_limit(deck::RateLimit::DECK)
    .rate_limit_store(store.clone())
    .build()?;
let feed = client
    .event_feed()
    .dedup(store.clone(), Duration::from_secs(24 * 3600))
    .checkpoints(store.clone(), "statements-consumer")
    .start();
drop(feed);
if std::env::var_os("REDIS_URL").is_none() { return Ok(()); } // the rest needs a Redis
client.test_api_key().send().await?;
Ok(()) }
