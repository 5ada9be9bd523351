// Generated from README.md by tests/readme_consumer.rs: do not edit; rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
use deck::webhooks::{EventData, Webhook, WebhookError};
let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
let body = br#"{"id":"evt_1","object":"event","type":"task_run.completed","created_at":"2026-11-20T12:00:00Z","data":{"id":"trun_1","object":"task_run","status":"completed"}}"#;
let now = chrono::Utc::now().timestamp();
let mut headers = http::HeaderMap::new();
headers.insert("webhook-id", "evt_1".parse()?);
headers.insert("webhook-timestamp", now.to_string().parse()?);
headers.insert("webhook-signature", Webhook::new(secret)?.sign("evt_1", now, body).parse()?);

// The current secret, and during a rollover the previous one (valid 24 h at Deck).
let webhook = Webhook::with_secrets([secret])?;
match webhook.verify(body, &headers) {
    Ok(event) => match &event.data {
        EventData::TaskRun(run) => println!("{}: {:?}", event.type_, run.status),
        _ => {}
    },
    Err(WebhookError::InvalidEvent(e)) => eprintln!("genuine but undecodable: {e}"), // answer 2xx
    Err(e) => eprintln!("rejected: {e}"), // answer 400
}
Ok(()) }
