//! MockDeck's webhook deliveries: events reach a loopback receiver signed per Standard Webhooks,
//! verify with `deck::webhooks`, decode into typed events, and failures retry up to 3 times,
//! then deactivate the destination.

mod common;

use deck::mock::{MockDeck, StepMode};
use deck::types::{
    CreateEventDestinationRequest, EventDeliveryStatus, EventDestinationStatus,
    EventDestinationType, EventType, WebhookConfig,
};
use deck::webhooks::{EventData, Webhook};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn mock() -> MockDeck {
    MockDeck::builder()
        .runs(0)
        .step_mode(StepMode::Manual)
        .webhook_retry_delay(Duration::from_millis(5))
        .start()
        .await
}

/// Answers `fail_first` requests with 500, then 204.
struct FailFirst(usize, Arc<AtomicUsize>);

impl Respond for FailFirst {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.1.fetch_add(1, Ordering::SeqCst) < self.0 {
            ResponseTemplate::new(500)
        } else {
            ResponseTemplate::new(204)
        }
    }
}

async fn receiver(fail_first: usize) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/deck"))
        .respond_with(FailFirst(fail_first, Arc::new(AtomicUsize::new(0))))
        .mount(&server)
        .await;
    server
}

async fn destination(
    client: &deck::Client,
    url: String,
    secret: Option<&str>,
    events: &[EventType],
) -> Result<deck::types::EventDestination, deck::Error> {
    let mut webhook = WebhookConfig::builder().url(url);
    if let Some(secret) = secret {
        webhook = webhook.secret(Some(secret.to_string()));
    }
    let mut body = CreateEventDestinationRequest::builder()
        .name("receiver")
        .type_(Some(EventDestinationType::Webhook))
        .webhook(Some(webhook.try_into().unwrap()));
    if !events.is_empty() {
        body = body.events(Some(events.to_vec()));
    }
    Ok(client
        .create_event_destination()
        .body(body)
        .send()
        .await?
        .into_inner())
}

/// Runs the seeded bill task to completion: `task_run.queued`, `.running`, `.completed`.
async fn run_bill(mock: &MockDeck, client: &deck::Client) -> String {
    let run = common::run_seeded(client, common::BILL_TASK, json!({"account_number": "1"})).await;
    mock.advance(2);
    run.id.into_string()
}

/// Every delivery to `destination` (with `status`, only those).
async fn deliveries(
    client: &deck::Client,
    destination: &str,
    status: Option<EventDeliveryStatus>,
) -> Vec<deck::types::EventDelivery> {
    let mut list = client.list_event_deliveries().destination_id(destination);
    if let Some(status) = status {
        list = list.status(status);
    }
    list.collect_all().await.unwrap()
}

fn headers(request: &Request) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in request.headers.iter() {
        map.append(name.clone(), value.clone());
    }
    map
}

#[tokio::test]
async fn run_events_arrive_signed_verified_and_typed() {
    let mock = mock().await;
    let client = mock.client();
    let receiver = receiver(0).await;
    let url = format!("{}/hooks/deck", receiver.uri());
    let dest = destination(&client, url, Some(SECRET), &[EventType::All])
        .await
        .unwrap();
    let run_id = run_bill(&mock, &client).await;
    mock.webhook_deliveries_settled().await;

    let webhook = Webhook::new(SECRET).unwrap();
    let received = receiver.received_requests().await.unwrap();
    let mut run_statuses = Vec::new();
    for request in &received {
        let event = webhook.verify(&request.body, &headers(request)).unwrap();
        // The webhook-id is the event id: the receiver's deduplication key.
        assert_eq!(request.headers["webhook-id"], event.id.as_str());
        if let EventData::TaskRun(run) = &event.data {
            assert_eq!(run.id.as_deref(), Some(run_id.as_str()));
            run_statuses.push(event.type_.clone());
        }
    }
    assert_eq!(
        run_statuses,
        [
            EventType::TaskRunQueued,
            EventType::TaskRunRunning,
            EventType::TaskRunCompleted
        ]
    );
    // Every recorded event was delivered once, and the deliveries are listed as successes.
    let events = client.list_events().collect_all().await.unwrap();
    assert_eq!(received.len(), events.len());
    let deliveries = deliveries(&client, &dest.id, None).await;
    assert_eq!(deliveries.len(), events.len());
    for d in &deliveries {
        assert_eq!(d.attempts, Some(1));
        assert_eq!(d.status, Some(EventDeliveryStatus::Success), "{d:?}");
    }
    // A receiver with the wrong secret refuses every one of them.
    let wrong = Webhook::new("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    assert!(
        received
            .iter()
            .all(|r| wrong.verify(&r.body, &headers(r)).is_err())
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_id_until_acknowledged() {
    let mock = mock().await;
    let client = mock.client();
    let receiver = receiver(2).await;
    let url = format!("{}/hooks/deck", receiver.uri());
    let dest = destination(&client, url, Some(SECRET), &[EventType::TaskRunQueued])
        .await
        .unwrap();
    run_bill(&mock, &client).await;
    mock.webhook_deliveries_settled().await;

    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 3, "two failures, then the acknowledgement");
    let webhook = Webhook::new(SECRET).unwrap();
    let ids: Vec<String> = received
        .iter()
        .map(|r| {
            webhook
                .verify(&r.body, &headers(r))
                .unwrap()
                .id
                .into_string()
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let deliveries = deliveries(&client, &dest.id, None).await;
    assert_eq!(deliveries.len(), 1, "only task_run.queued is subscribed");
    assert_eq!(deliveries[0].attempts, Some(3));
    assert_eq!(deliveries[0].event_type, Some(EventType::TaskRunQueued));
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_gets_four_attempts_then_its_destination_goes_inactive() {
    let mock = mock().await;
    let client = mock.client();
    let receiver = receiver(usize::MAX).await;
    let url = format!("{}/hooks/deck", receiver.uri());
    let dest = destination(&client, url, Some(SECRET), &[EventType::TaskRunQueued])
        .await
        .unwrap();
    run_bill(&mock, &client).await;
    mock.webhook_deliveries_settled().await;

    assert_eq!(receiver.received_requests().await.unwrap().len(), 4);
    let now = client
        .get_event_destination()
        .destination_id(&dest.id)
        .send()
        .await
        .unwrap();
    assert_eq!(now.status, EventDestinationStatus::Inactive);
    let deliveries = deliveries(&client, &dest.id, Some(EventDeliveryStatus::Failure)).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].attempts, Some(4));
    let deactivated = client
        .list_events()
        .type_(vec![EventType::EventDestinationDeactivated])
        .collect_all()
        .await
        .unwrap();
    assert_eq!(deactivated.len(), 1);

    // An inactive destination receives nothing more.
    run_bill(&mock, &client).await;
    mock.webhook_deliveries_settled().await;
    assert_eq!(receiver.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn secrets_are_checked_or_made_up_and_never_answered() {
    let mock = mock().await;
    let client = mock.client();
    let receiver = receiver(0).await;
    let url = format!("{}/hooks/deck", receiver.uri());
    // A secret MockDeck cannot sign with: accepted (Deck documents no check), nothing sent,
    // each delivery a failure with no attempt.
    let unusable = destination(
        &client,
        url.clone(),
        Some("not-a-secret"),
        &[EventType::CredentialCreated],
    )
    .await
    .unwrap();

    let dest = destination(&client, url, None, &[EventType::CredentialCreated])
        .await
        .unwrap();
    let secret = mock.webhook_secret(&dest.id).unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let answered = serde_json::to_string(&dest).unwrap();
    assert!(!answered.contains(&secret[6..]), "{answered}");

    // A credential created: its event verifies with the made-up secret.
    let source = client.list_sources().send().await.unwrap().data[0]
        .id
        .clone();
    client
        .create_credential()
        .body(deck::types::CreateCredentialRequest::builder().source_id(source))
        .send()
        .await
        .unwrap();
    mock.webhook_deliveries_settled().await;
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let failed = deliveries(&client, &unusable.id, None).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, Some(EventDeliveryStatus::Failure));
    assert_eq!(failed[0].attempts, Some(0));
    let event = Webhook::new(&secret)
        .unwrap()
        .verify(&received[0].body, &headers(&received[0]))
        .unwrap();
    assert_eq!(event.type_, EventType::CredentialCreated);
    assert!(matches!(event.data, EventData::Credential(_)), "{event:?}");
}

#[tokio::test]
async fn nothing_is_sent_off_the_machine() {
    let mock = mock().await;
    let client = mock.client();
    let dest = destination(
        &client,
        "https://example.invalid/hooks".into(),
        Some(SECRET),
        &[EventType::TaskRunQueued],
    )
    .await
    .unwrap();
    run_bill(&mock, &client).await;
    mock.webhook_deliveries_settled().await;
    let failed = deliveries(&client, &dest.id, None).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, Some(EventDeliveryStatus::Failure));
    assert_eq!(failed[0].attempts, Some(0), "never attempted");
}

/// A receiver that answers 204 after `delay` (deliveries queue up behind the slow one).
async fn slow_receiver(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/deck"))
        .respond_with(ResponseTemplate::new(204).set_delay(delay))
        .mount(&server)
        .await;
    server
}

/// Deliveries already queued follow the destination's state at send time: once it is deleted
/// or set inactive, it gets nothing more (the queued deliveries are listed as failures).
#[tokio::test]
async fn queued_deliveries_honour_the_destinations_state_at_send_time() {
    for delete in [true, false] {
        let mock = mock().await;
        let client = mock.client();
        let receiver = slow_receiver(Duration::from_secs(2)).await;
        let url = format!("{}/hooks/deck", receiver.uri());
        let dest = destination(&client, url, Some(SECRET), &[EventType::All])
            .await
            .unwrap();
        // Three events; the first delivery is in flight for 2 s, the other two wait behind it.
        run_bill(&mock, &client).await;
        if delete {
            client
                .delete_event_destination()
                .destination_id(&dest.id)
                .send()
                .await
                .unwrap();
        } else {
            let body = deck::types::UpdateEventDestinationRequest::builder()
                .status(Some(EventDestinationStatus::Inactive));
            client
                .update_event_destination()
                .destination_id(&dest.id)
                .body(body)
                .send()
                .await
                .unwrap();
        }
        mock.webhook_deliveries_settled().await;
        let received = receiver.received_requests().await.unwrap();
        assert_eq!(
            received.len(),
            1,
            "delete={delete}: only the one already in flight"
        );
    }
}

/// Ends a fresh session: one `session.completed` event.
async fn session_event(client: &deck::Client) {
    let session = client.create_session().send().await.unwrap().into_inner();
    client
        .end_session()
        .session_id(&session.id)
        .send()
        .await
        .unwrap();
}

/// After a rotation the previous secret keeps verifying for 24 h of mock clock (Deck's
/// rollover), then only the new one does.
#[tokio::test]
async fn a_rotated_secret_keeps_verifying_for_24_hours_of_mock_clock() {
    const NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let mock = MockDeck::builder()
        .runs(0)
        .step_mode(StepMode::Manual)
        .step_duration(Duration::from_secs(25 * 3600))
        .start()
        .await;
    let client = mock.client();
    let receiver = receiver(0).await;
    let url = format!("{}/hooks/deck", receiver.uri());
    let dest = destination(&client, url.clone(), Some(SECRET), &[EventType::All])
        .await
        .unwrap();
    let rotate = deck::types::UpdateEventDestinationRequest::builder().webhook(Some(
        WebhookConfig::builder()
            .url(url)
            .secret(Some(NEW.to_string()))
            .try_into()
            .unwrap(),
    ));
    client
        .update_event_destination()
        .destination_id(&dest.id)
        .body(rotate)
        .send()
        .await
        .unwrap();
    let (old, new) = (Webhook::new(SECRET).unwrap(), Webhook::new(NEW).unwrap());
    session_event(&client).await;
    mock.webhook_deliveries_settled().await;
    let received = receiver.received_requests().await.unwrap();
    let last = received.last().unwrap();
    assert!(new.verify(&last.body, &headers(last)).is_ok());
    assert!(
        old.verify(&last.body, &headers(last)).is_ok(),
        "the previous secret still verifies within 24 h"
    );
    // 25 hours of mock clock later, only the new secret verifies.
    mock.step();
    session_event(&client).await;
    mock.webhook_deliveries_settled().await;
    let received = receiver.received_requests().await.unwrap();
    let last = received.last().unwrap();
    assert!(new.verify(&last.body, &headers(last)).is_ok());
    assert!(old.verify(&last.body, &headers(last)).is_err());
}

/// `DeliveryFault::Duplicate`: each event arrives twice, with the same `webhook-id` (Deck
/// delivers at least once); the delivery is listed once.
#[tokio::test]
async fn the_duplicate_fault_delivers_each_event_twice_with_one_id() {
    let mock = MockDeck::builder()
        .runs(0)
        .step_mode(StepMode::Manual)
        .delivery_fault(deck::mock::DeliveryFault::Duplicate)
        .start()
        .await;
    let client = mock.client();
    let receiver = receiver(0).await;
    let url = format!("{}/hooks/deck", receiver.uri());
    let dest = destination(&client, url, Some(SECRET), &[EventType::All])
        .await
        .unwrap();
    session_event(&client).await;
    mock.webhook_deliveries_settled().await;
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].headers["webhook-id"],
        received[1].headers["webhook-id"]
    );
    assert_eq!(deliveries(&client, &dest.id, None).await.len(), 1);
}

/// `DeliveryFault::Reorder`: the events arrive, all of them, but not in the order recorded
/// (Deck does not promise order).
#[tokio::test]
async fn the_reorder_fault_delivers_every_event_out_of_order() {
    let mock = MockDeck::builder()
        .runs(0)
        .step_mode(StepMode::Manual)
        .delivery_fault(deck::mock::DeliveryFault::Reorder)
        .start()
        .await;
    let client = mock.client();
    let receiver = receiver(0).await;
    let url = format!("{}/hooks/deck", receiver.uri());
    destination(&client, url, Some(SECRET), &[EventType::All])
        .await
        .unwrap();
    run_bill(&mock, &client).await;
    mock.webhook_deliveries_settled().await;
    let received: Vec<String> = receiver
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_string())
        .collect();
    // Events are listed newest first; recorded order is the reverse.
    let mut recorded: Vec<String> = client
        .list_events()
        .collect_all()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id.into_string())
        .collect();
    recorded.reverse();
    assert_ne!(received, recorded);
    let (mut a, mut b) = (received.clone(), recorded.clone());
    a.sort();
    b.sort();
    assert_eq!(a, b, "every event arrives");
}
