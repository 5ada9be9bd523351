// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
#[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
let mock = deck::mock::MockDeck::start().await;
let client = mock.client();
let credential_id = client.list_credentials().send().await?.data[0].id.clone();
use deck::types::UpdateCredentialRequest;

// Sends {"external_id": "crm-42"}.
client.update_credential().credential_id(&credential_id)
    .body(UpdateCredentialRequest::builder().external_id("crm-42"))
    .send().await?;
// Sends {"external_id": null}: the mapping is removed, everything else stays.
let credential = client.update_credential().credential_id(&credential_id)
    .body(UpdateCredentialRequest::builder().clear_external_id())
    .send().await?;
assert_eq!(credential.external_id, None);

// Bounds from the spec are checked before sending: nothing goes out.
let err = client.list_task_runs().limit(500).send().await.unwrap_err();
assert_eq!(err.kind(), deck::ErrorKind::InvalidRequest); // "parameter `limit` is 500, above its maximum 100"
Ok(()) }
