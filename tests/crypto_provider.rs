//! The crate leaves the process-wide rustls provider alone: an application that builds a
//! client (and makes TLS calls) and then installs its own provider, as rustls' docs show, does
//! not panic. A test binary of its own, so that no other test touched the process state first.

use std::sync::Arc;

#[tokio::test]
async fn building_a_client_leaves_the_process_default_provider_alone() {
    let client = deck::Client::builder()
        .api_key("sk_live_example")
        .build()
        .unwrap();
    let _ = client.clone();
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_none(),
        "building a client installed a process-wide provider"
    );
    // The application's usual start-up line.
    rustls::crypto::ring::default_provider()
        .install_default()
        .expect("no provider was installed by the library");
    // Clients built afterwards still work with the application's provider in place.
    let provider: Option<&Arc<rustls::crypto::CryptoProvider>> =
        rustls::crypto::CryptoProvider::get_default();
    assert!(provider.is_some());
    deck::Client::builder()
        .api_key("sk_live_example")
        .build()
        .unwrap();
}
