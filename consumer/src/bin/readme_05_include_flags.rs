// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
let run_id = client.list_task_runs().limit(1).send().await?.data[0].id.clone();
use deck::ext::Section;
use deck::Include;

let run = client.get_task_run().run_id(&run_id).include(Include::INPUT | Include::STORAGE).send().await?;
if let Section::Returned(files) = run.storage_section() {
    println!("{} files", files.len());
}
assert_eq!(run.screenshots_section(), Section::NotRequested);
Ok(()) }
