// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
use deck::ErrorKind;

match client.get_task_run().run_id("trun_missing").send().await {
    Ok(run) => println!("{}", run.status),
    Err(e) => match e.kind() {
        ErrorKind::NotFound => {
            println!("no such run ({}; request {})", e.code().unwrap_or("?"), e.request_id().unwrap_or("?"))
        }
        _ => return Err(e),
    },
}
Ok(()) }
