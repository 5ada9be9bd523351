//! Webhook deliveries: every event MockDeck records goes, signed per Standard Webhooks, to each
//! active `webhook` destination subscribed to its type, so a receiver can be tested end to end
//! on loopback.
//!
//! As Deck documents it: a 2xx within 5 seconds acknowledges; a failed delivery is retried up
//! to 3 times with exponential backoff; when every attempt fails the destination becomes
//! `inactive` (and `event_destination.deactivated` is recorded). MockDeck's own choices: the
//! first retry waits [`MockDeckBuilder::webhook_retry_delay`](super::MockDeckBuilder::webhook_retry_delay)
//! (default 1 s) and each next one twice as long; `webhook-id` is the event id (the same on
//! every attempt); deliveries go one at a time, in the order events are recorded (unless a
//! [`DeliveryFault`] says otherwise); only loopback URLs are contacted (a delivery to any other
//! host fails at once, unsent).
//!
//! Each attempt reads the destination as it is *then*: one deleted, deactivated or set
//! `inactive` since the event was queued gets nothing more (the delivery is listed as a
//! failure), and a changed URL, secret or headers apply at once. After a secret rotation the
//! previous secret keeps verifying for 24 hours of mock clock (Deck: "previous secret valid
//! 24 h"): deliveries carry a signature with each secret, as Standard Webhooks does during a
//! rollover.

use super::state::{DeliveryRow, Event, Shared, World, new_id};
use crate::webhooks::Webhook;
use chrono::Utc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

/// How many times a failed delivery is retried (Deck: "up to 3 times").
pub(crate) const RETRIES: u32 = 3;

/// How long a receiver has to answer (Deck: "return a 2xx within 5 seconds").
pub(crate) const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// How long Deck keeps verifying a rotated-out secret.
const PREVIOUS_SECRET_VALID: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// How long [`DeliveryFault::Reorder`] holds a delivery back for the next one to overtake it.
const REORDER_HOLD: Duration = Duration::from_millis(500);

/// A way MockDeck's deliveries depart from "exactly once, in order", to test that a receiver
/// copes with what Deck promises: at-least-once delivery, in no guaranteed order. Set with
/// [`MockDeckBuilder::delivery_fault`](super::MockDeckBuilder::delivery_fault). The two modes
/// are MockDeck's own way of exercising Deck's documented guarantees; Deck documents no such
/// switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryFault {
    /// Every acknowledged delivery is sent a second time (the same `webhook-id`, signed
    /// anew): a receiver must deduplicate by `webhook-id`.
    Duplicate,
    /// Deliveries go out in swapped pairs: a delivery is held back (up to half a second) and
    /// the next one queued overtakes it.
    Reorder,
}

/// One delivery to make. The destination is read again at each attempt.
pub(crate) struct Pending {
    delivery_id: String,
    destination_id: String,
    event_id: String,
    body: Vec<u8>,
}

/// Where and how to send, as the destination is at the moment of an attempt.
struct Target {
    url: String,
    secrets: Vec<String>,
    headers: Vec<(String, String)>,
}

/// The destination `id` as it is now: `None` when it was deleted or is not `active`.
fn target(world: &World, id: &str) -> Option<Target> {
    let d = world.destinations.get(id)?;
    if d.status != "active" {
        return None;
    }
    let mut secrets = vec![d.secret.clone()?];
    if let Some((old, rotated_at)) = &d.previous_secret
        && world.now < *rotated_at + PREVIOUS_SECRET_VALID
    {
        secrets.push(old.clone());
    }
    Some(Target {
        url: d.config.get("url")?.as_str()?.to_string(),
        secrets,
        headers: d.headers.clone(),
    })
}

/// The queue between the world (which records events) and the delivery task.
#[derive(Clone)]
pub(crate) struct Outbox {
    tx: mpsc::UnboundedSender<Pending>,
    in_flight: Arc<AtomicUsize>,
    idle: Arc<Notify>,
}

impl Outbox {
    fn send(&self, pending: Pending) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(pending).is_err() {
            self.done();
        }
    }

    fn done(&self) {
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Resolves once every queued delivery has succeeded or used up its retries.
    pub(crate) async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Queues `event` for every active webhook destination subscribed to its type, with a
/// delivery row each (listed by `GET /event-destinations/{id}/event-deliveries`).
pub(crate) fn enqueue(world: &mut World, event: &Event, body: &serde_json::Value) {
    let Some(outbox) = world.outbox.clone() else {
        return;
    };
    let body = body.to_string().into_bytes();
    let targets: Vec<Pending> = world
        .destinations
        .newest_first(world.destinations.end())
        .filter(|d| d.kind == "webhook" && d.status == "active")
        .filter(|d| {
            d.events
                .as_ref()
                .is_none_or(|types| types.iter().any(|t| t == "*" || *t == event.kind))
        })
        .filter(|d| d.secret.is_some() && d.config.get("url").is_some_and(|u| u.is_string()))
        .map(|d| Pending {
            delivery_id: String::new(),
            destination_id: d.id.clone(),
            event_id: event.id.clone(),
            body: body.clone(),
        })
        .collect();
    // Oldest destination first.
    for mut pending in targets.into_iter().rev() {
        pending.delivery_id = new_id(&mut world.event_rng, "edlv");
        world.deliveries.insert(DeliveryRow {
            id: pending.delivery_id.clone(),
            destination_id: pending.destination_id.clone(),
            event_id: event.id.clone(),
            event_type: event.kind.clone(),
            status: None,
            attempts: 0,
            created_at: world.now,
            delivered_at: None,
        });
        outbox.send(pending);
    }
}

/// Starts the delivery task; the returned outbox goes into the world.
pub(crate) fn start(
    shared: Arc<Shared>,
    retry_delay: Duration,
    fault: Option<DeliveryFault>,
) -> (Outbox, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Pending>();
    let outbox = Outbox {
        tx,
        in_flight: Arc::new(AtomicUsize::new(0)),
        idle: Arc::new(Notify::new()),
    };
    let worker = outbox.clone();
    let task = tokio::spawn(async move {
        // The crate's own TLS configuration: no process-wide provider is needed or set.
        let http = crate::client::tls_config(Vec::new()).and_then(|tls| {
            reqwest::Client::builder()
                .tls_backend_preconfigured(tls)
                .timeout(ANSWER_WITHIN)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .map_err(|e| crate::Error::InvalidRequest(e.to_string()))
        });
        while let Some(first) = rx.recv().await {
            let batch = match fault {
                // The next delivery queued within the hold overtakes this one.
                Some(DeliveryFault::Reorder) => {
                    match tokio::time::timeout(REORDER_HOLD, rx.recv()).await {
                        Ok(Some(second)) => vec![second, first],
                        _ => vec![first],
                    }
                }
                _ => vec![first],
            };
            let duplicate = fault == Some(DeliveryFault::Duplicate);
            for pending in batch {
                if let Ok(http) = &http {
                    tokio::select! {
                        _ = deliver(&shared, http, &pending, retry_delay, duplicate) => {}
                        _ = shared.stopping() => {}
                    }
                }
                worker.done();
            }
        }
    });
    (outbox, task)
}

/// Whether `url` points at this machine (`localhost`, `127.0.0.0/8`, `::1`): MockDeck never
/// sends anything off the machine, so tests stay on loopback whatever URL they register.
fn is_loopback(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| crate::client::is_loopback(&u))
}

/// Attempts one delivery until a 2xx, or until the retries are used up, reading the
/// destination at each attempt. With `duplicate`, an acknowledged delivery is sent once more.
async fn deliver(
    shared: &Shared,
    http: &reqwest::Client,
    p: &Pending,
    retry_delay: Duration,
    duplicate: bool,
) {
    let unsent = |why: &str| {
        tracing::warn!(destination = %p.destination_id, "MockDeck did not deliver: {why}");
        if let Some(row) = shared.lock().deliveries.get_mut(&p.delivery_id) {
            row.status = Some("failure");
        }
    };
    let mut delay = retry_delay;
    for attempt in 1..=RETRIES + 1 {
        let Some(target) = target(&shared.lock(), &p.destination_id) else {
            return unsent("the destination was deleted or is no longer active");
        };
        if !is_loopback(&target.url) {
            return unsent("MockDeck only delivers to loopback URLs");
        }
        let request = match signed(http, &target, p) {
            Ok(request) => request,
            // Deck documents no format check at creation; MockDeck cannot sign with a secret
            // that is not Standard Webhooks' `whsec_<base64>`.
            Err(e) => return unsent(&e.to_string()),
        };
        let acknowledged = match request.send().await {
            Ok(answer) => answer.status().is_success(),
            Err(_) => false,
        };
        if acknowledged
            && duplicate
            && let Ok(again) = signed(http, &target, p)
        {
            let _ = again.send().await;
        }
        let settled = acknowledged || attempt > RETRIES;
        {
            let mut world = shared.lock();
            let now = world.now;
            if let Some(row) = world.deliveries.get_mut(&p.delivery_id) {
                row.attempts = attempt;
                if acknowledged {
                    row.status = Some("success");
                    row.delivered_at = Some(now);
                } else if settled {
                    row.status = Some("failure");
                }
            }
            if settled && !acknowledged {
                world.deactivate_destination(&p.destination_id);
            }
        }
        if settled {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = delay.saturating_mul(2);
    }
}

/// The delivery request, signed now with every secret the destination verifies with.
fn signed(
    http: &reqwest::Client,
    target: &Target,
    p: &Pending,
) -> Result<reqwest::RequestBuilder, crate::webhooks::WebhookError> {
    let timestamp = Utc::now().timestamp();
    let mut signatures = Vec::with_capacity(target.secrets.len());
    for secret in &target.secrets {
        signatures.push(Webhook::new(secret)?.sign(&p.event_id, timestamp, &p.body));
    }
    let mut request = http
        .post(&target.url)
        .header("content-type", "application/json")
        .header("user-agent", "MockDeck")
        .header("webhook-id", &p.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "));
    for (name, value) in &target.headers {
        request = request.header(name, value);
    }
    Ok(request.body(p.body.clone()))
}
