//! Webhook receiver: an axum endpoint that verifies Deck's signed deliveries (Standard
//! Webhooks) with `deck::webhooks` and handles the typed events, skipping redeliveries.
//!
//! ```text
//! cargo run --example webhook_receiver
//! ```
//!
//! Without `DECK_WEBHOOK_SECRET` it runs offline: the receiver listens on loopback, MockDeck
//! (an offline Deck inside this process) gets a `webhook` event destination pointing at it, a
//! task runs, and every event MockDeck delivers is verified and printed. No key, no network.
//!
//! With `DECK_WEBHOOK_SECRET` (your destination's `whsec_…` secret; during a rollover also
//! `DECK_WEBHOOK_PREVIOUS_SECRET`) it serves real deliveries on `0.0.0.0:$PORT/webhooks/deck`
//! (default port 3000) until stopped: expose it over HTTPS and register that URL as a `webhook`
//! event destination in Deck.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use deck::mock::MockDeck;
use deck::types::{CreateEventDestinationRequest, EventDestinationType, EventType, WebhookConfig};
use deck::webhooks::{Event, EventData, Webhook, WebhookError};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `println!` that ignores a closed stdout (e.g. `| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The offline demo's signing secret, given to the destination when it is created.
const DEMO_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the handler shares: the verifier and the event ids already handled.
struct Receiver {
    webhook: Webhook,
    seen: Mutex<HashSet<deck::types::EventId>>,
    duplicates: Mutex<usize>,
}

/// `POST /webhooks/deck`: verify the raw body, skip redeliveries, handle, answer 2xx quickly.
async fn deck_events(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match receiver.webhook.verify(&body, &headers) {
        Ok(event) => {
            let first_time = receiver
                .seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(event.id.clone());
            if first_time {
                handle(&event);
            } else {
                *receiver
                    .duplicates
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) += 1;
            }
            // Duplicates are acknowledged too, or Deck keeps redelivering them.
            StatusCode::OK
        }
        // Genuine but not decodable by this version of the crate: acknowledge and log.
        Err(WebhookError::InvalidEvent(e)) => {
            say!("undecodable event: {e}");
            StatusCode::OK
        }
        Err(e) => {
            say!("rejected delivery: {e}");
            StatusCode::BAD_REQUEST
        }
    }
}

/// Your business logic; here, one line per event.
fn handle(event: &Event) {
    let what = match &event.data {
        EventData::TaskRun(run) => format!(
            "run {} {}",
            run.id.as_deref().unwrap_or("?"),
            run.status.as_ref().map_or("", |s| s.as_str())
        ),
        EventData::Credential(c) => format!(
            "credential {} {}",
            c.id.as_deref().unwrap_or("?"),
            c.status.as_ref().map_or("", |s| s.as_str())
        ),
        EventData::Session(s) => format!("session {}", s.id.as_deref().unwrap_or("?")),
        EventData::Storage(s) => format!(
            "file {} of run {}",
            s.file_name.as_deref().unwrap_or("?"),
            s.task_run_id.as_deref().unwrap_or("?")
        ),
        EventData::Unknown(data) => format!("(not typed) {data}"),
        other => format!("{other:?}"),
    };
    say!(
        "verified  {:<28} {}  {what}",
        event.type_.as_str(),
        event.id
    );
}

fn app(webhook: Webhook) -> (Router, Arc<Receiver>) {
    let receiver = Arc::new(Receiver {
        webhook,
        seen: Mutex::new(HashSet::new()),
        duplicates: Mutex::new(0),
    });
    let router = Router::new()
        .route("/webhooks/deck", post(deck_events))
        .with_state(receiver.clone());
    (router, receiver)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::var("DECK_WEBHOOK_SECRET") {
        Ok(secret) if !secret.trim().is_empty() => serve(secret).await,
        _ => demo().await,
    }
}

/// Real deliveries from Deck.
async fn serve(secret: String) -> Result<(), Box<dyn std::error::Error>> {
    let secrets = std::iter::once(secret).chain(std::env::var("DECK_WEBHOOK_PREVIOUS_SECRET").ok());
    let (router, _) = app(Webhook::with_secrets(secrets)?);
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await?;
    say!("Receiving Deck events on http://0.0.0.0:{port}/webhooks/deck (Ctrl-C to stop).");
    axum::serve(listener, router).await?;
    Ok(())
}

/// Offline: MockDeck delivers to a receiver on loopback.
async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let (router, receiver) = app(Webhook::new(DEMO_SECRET)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhooks/deck", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    say!("DECK_WEBHOOK_SECRET is not set: offline demo. Receiver at {url}.");

    let mock = MockDeck::start().await;
    let client = mock.client();
    let destination = client
        .create_event_destination()
        .body(
            CreateEventDestinationRequest::builder()
                .name("webhook_receiver example")
                .type_(Some(EventDestinationType::Webhook))
                .events(Some(vec![EventType::All]))
                .webhook(Some(
                    WebhookConfig::builder()
                        .url(url)
                        .secret(Some(DEMO_SECRET.to_string()))
                        .try_into()?,
                )),
        )
        .send()
        .await?;
    say!(
        "MockDeck at {}: destination {} receives every event.\n",
        mock.base_url(),
        destination.id
    );

    let tasks = client.list_tasks().send().await?.into_inner().data;
    let task = tasks
        .iter()
        .find(|t| t.name == "Fetch latest utility bill")
        .ok_or("the seeded task is missing")?;
    let run = client
        .run_task()
        .task_id(&task.id)
        .input(&serde_json::json!({"account_number": "1234-5678"}))
        .send()
        .await?;
    let run = client
        .wait_for_task_run(&run.id)
        .initial_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(30))
        .await?;
    mock.webhook_deliveries_settled().await;

    let received = receiver
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .len();
    let duplicates = *receiver
        .duplicates
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    say!(
        "\nRun {} finished {}; {received} verified event{} received, {duplicates} redeliver{} skipped.",
        run.id,
        run.status,
        if received == 1 { "" } else { "s" },
        if duplicates == 1 { "y" } else { "ies" }
    );
    server.abort();
    if received == 0 {
        return Err("no event was delivered".into());
    }
    Ok(())
}
