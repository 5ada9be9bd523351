// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main]
async fn main() -> Result<(), deck::Error> {
    let client = deck::Client::from_env()?;
    let check = client.test_api_key().send().await?;
    println!("key is {} ({:?})", check.status, check.environment);
    Ok(())
}
