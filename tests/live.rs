//! Read-only calls against the real Deck API. Opt-in: ignored by default, with the reason in
//! `cargo test`'s output; run them with your key (`DECK_BASE_URL` points elsewhere):
//!
//! ```text
//! DECK_API_KEY=sk_live_… cargo test --test live -- --ignored
//! ```

use deck::Client;

fn live() -> Client {
    let key = std::env::var("DECK_API_KEY").is_ok_and(|k| !k.trim().is_empty());
    assert!(
        key,
        "the live tests call the real Deck API: set DECK_API_KEY"
    );
    Client::from_env().expect("DECK_API_KEY makes a client")
}

#[tokio::test]
#[ignore = "calls the real Deck API: DECK_API_KEY=… cargo test --test live -- --ignored"]
async fn the_key_is_accepted_and_lists_decode() {
    let client = live();
    let key = client.test_api_key().send().await.unwrap();
    eprintln!("key status {}", key.status);
    // One page of each read-only list decodes into the generated types.
    client.list_tasks().limit(5).send().await.unwrap();
    client.list_task_runs().limit(5).send().await.unwrap();
    client.list_agents().limit(5).send().await.unwrap();
    client.list_sources().limit(5).send().await.unwrap();
    client.list_credentials().limit(5).send().await.unwrap();
    client.list_sessions().limit(5).send().await.unwrap();
    client.list_events().limit(5).send().await.unwrap();
    let destinations = client.list_event_destinations().limit(5);
    destinations.send().await.unwrap();
    let types = client.list_event_types().send().await.unwrap();
    eprintln!("{} event types", types.data.as_ref().map_or(0, Vec::len));
}
