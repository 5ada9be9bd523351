//! Many runs: the batch runner, the run tracker (events, list, webhooks) and the event feed
//! (duplicates, out-of-order events, checkpoints), against MockDeck.

use deck::feed::FeedCheckpoint;
use deck::mock::MockDeck;
use deck::tracker::{TrackBy, TrackerOptions};
use deck::types::{
    CreateEventDestinationRequest, EventDestinationType, EventType, RunStatus, TaskRun,
    WebhookConfig,
};
use deck::webhooks::Webhook;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const GET_RUN: &str = "GET /v2/task-runs/{run_id}";

fn input(account: &str, mfa: bool) -> Value {
    json!({"account_number": account, "statement_month": "2026-10", "mfa": mfa})
}

async fn timed_mock(session_limit: Option<usize>) -> MockDeck {
    let mut builder = MockDeck::builder()
        .runs(0)
        .run_duration(Duration::from_secs(30)..=Duration::from_secs(120))
        .time_scale(1_000.0);
    if let Some(n) = session_limit {
        builder = builder.session_limit(n);
    }
    builder.start().await
}

fn tracked_client(mock: &MockDeck, key: &str, options: TrackerOptions) -> deck::Client {
    mock.client_builder()
        .api_key(key)
        .run_tracker(options)
        .build()
        .unwrap()
}

fn fast() -> TrackerOptions {
    TrackerOptions::new().poll_interval(Duration::from_millis(10))
}

async fn start_runs(client: &deck::Client, task: &str, n: usize) -> Vec<TaskRun> {
    let mut runs = Vec::new();
    for i in 0..n {
        let run = client
            .run_task()
            .task_id(task)
            .input(&input(&i.to_string(), false))
            .send()
            .await
            .unwrap();
        runs.push(run.into_inner());
    }
    runs
}

#[tokio::test]
async fn a_restarted_batch_starts_nothing_twice() {
    let mock = timed_mock(None).await;
    let task = mock.task_ids()[0].clone();
    let items: Vec<(String, Value)> = (0..6)
        .map(|i| (format!("acct-{i}"), input(&format!("{i}"), false)))
        .collect();

    // The first attempt "crashes" after its first result: some runs were started, some not.
    let first = tracked_client(&mock, "sk_test_first", fast());
    let mut results = first
        .run_batch(&task)
        .key("batch-1")
        .max_in_flight(3)
        .run(items.clone());
    results.next().await.unwrap().result.unwrap();
    drop(results);
    let started_before = mock.run_count();
    assert!((1..6).contains(&started_before), "{started_before}");

    // Run again with the same keys, from a fresh client (a restarted process).
    let second = tracked_client(&mock, "sk_test_second", fast());
    let outcomes: Vec<_> = second
        .run_batch(&task)
        .key("batch-1")
        .max_in_flight(3)
        .run(items)
        .collect()
        .await;
    let keys: HashSet<String> = outcomes.iter().map(|o| o.key.clone()).collect();
    assert_eq!(keys.len(), 6);
    let ids: HashSet<deck::types::TaskRunId> = outcomes
        .into_iter()
        .map(|o| {
            let run = o.result.unwrap();
            assert_eq!(run.status, RunStatus::Completed);
            run.id
        })
        .collect();
    assert_eq!(ids.len(), 6);
    // Exactly one run per item, whatever the first attempt had started.
    assert_eq!(mock.run_count(), 6);
}

#[tokio::test]
async fn session_limit_exceeded_waits_for_a_free_session() {
    let mock = timed_mock(Some(2)).await;
    let task = mock.task_ids()[0].clone();
    // No retries of its own: the batch alone deals with the 429s.
    let client = mock
        .client_builder()
        .api_key("sk_test_sessions")
        .retry(deck::RetryPolicy::none())
        .run_tracker(fast())
        .build()
        .unwrap();
    let outcomes: Vec<_> = client
        .run_batch(&task)
        .key("sessions")
        .max_in_flight(6)
        .run((0..6).map(|i| (i.to_string(), input(&i.to_string(), false))))
        .collect()
        .await;
    assert_eq!(outcomes.len(), 6);
    for outcome in outcomes {
        assert_eq!(outcome.result.unwrap().status, RunStatus::Completed);
    }
    assert!(mock.usage().session_limited > 0, "the cap was reached");
}

#[tokio::test]
async fn batch_answers_interactions() {
    let mock = timed_mock(None).await;
    let task = mock.task_ids()[0].clone();
    let client = tracked_client(&mock, "sk_test_mfa", fast());
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let outcomes: Vec<_> = client
        .run_batch(&task)
        .on_interaction(move |run| {
            assert_eq!(run.status, RunStatus::InteractionRequired);
            counter.fetch_add(1, Ordering::SeqCst);
            async { Some(json!({"code": "123456"})) }
        })
        .run((0..3).map(|i| (i.to_string(), input(&i.to_string(), true))))
        .collect()
        .await;
    for outcome in outcomes {
        assert_eq!(outcome.result.unwrap().status, RunStatus::Completed);
    }
    assert_eq!(asked.load(Ordering::SeqCst), 3);
}

/// Waits resolve from shared look-ups, not a poll per run.
async fn tracker_waits_for_all(by: TrackBy) {
    let mock = timed_mock(None).await;
    let task = mock.task_ids()[0].clone();
    let key = "sk_test_tracker";
    let client = tracked_client(&mock, key, fast().by(by));
    let runs = start_runs(&client, &task, 30).await;
    let tracker = client.run_tracker();
    let finished = futures::future::try_join_all(runs.iter().map(|run| tracker.wait_run(run)))
        .await
        .unwrap();
    for (run, done) in runs.iter().zip(&finished) {
        assert_eq!(run.id, done.id);
        assert_eq!(done.status, RunStatus::Completed);
        // What `GET /task-runs/{id}` answers: output and all.
        assert!(done.output.is_some());
    }
    let usage = mock.usage_of(key);
    let gets = usage.by_route.get(GET_RUN).copied().unwrap_or(0);
    assert!(gets < 30, "a GET per run: {usage:?}");
    assert_eq!(tracker.waiting(), 0);
}

#[tokio::test]
async fn tracker_without_webhooks_follows_events() {
    tracker_waits_for_all(TrackBy::Events).await;
}

#[tokio::test]
async fn tracker_without_events_follows_the_runs_list() {
    tracker_waits_for_all(TrackBy::List).await;
}

#[tokio::test]
async fn tracker_look_ups_do_not_queue_behind_calls() {
    // 20 requests an hour: calls get 19 slots, the tracker's look-ups the 20th.
    let mock = timed_mock(None).await;
    let task = mock.task_ids()[0].clone();
    let client = mock
        .client_builder()
        .api_key("sk_test_lanes")
        .rate_limit(deck::RateLimit::new(20, Duration::from_secs(3600)).unwrap())
        .run_tracker(fast().by(TrackBy::List))
        .build()
        .unwrap();
    let run = start_runs(&client, &task, 1).await.remove(0);
    for _ in 0..18 {
        client.list_agents().send().await.unwrap();
    }
    // The next call waits an hour for a slot.
    let queued = tokio::spawn({
        let client = client.clone();
        async move { client.list_agents().send().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await; // the run (at most 120 ms) is over
    let done = tokio::time::timeout(Duration::from_secs(10), client.run_tracker().wait_run(&run))
        .await
        .expect("the look-up waited behind the queued call")
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert!(!queued.is_finished());
    queued.abort();
}

/// A receiver that verifies each delivery and hands it to the tracker.
struct Receiver(Webhook, deck::tracker::RunTracker);

impl wiremock::Respond for Receiver {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        match self.0.verify(&request.body, &request.headers) {
            Ok(event) => {
                self.1.ingest(event);
                wiremock::ResponseTemplate::new(204)
            }
            Err(_) => wiremock::ResponseTemplate::new(400),
        }
    }
}

#[tokio::test]
async fn tracker_with_webhooks_resolves_from_deliveries() {
    let mock = timed_mock(None).await;
    let task = mock.task_ids()[0].clone();
    // Polling once an hour: only webhook deliveries can resolve these waits in time.
    let client = tracked_client(
        &mock,
        "sk_test_webhooks",
        TrackerOptions::new()
            .poll_interval(Duration::from_secs(3600))
            .list_every(0),
    );
    let tracker = client.run_tracker();
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Receiver(Webhook::new(secret).unwrap(), tracker.clone()))
        .mount(&server)
        .await;
    let webhook = WebhookConfig::builder()
        .url(format!("{}/hooks/deck", server.uri()))
        .secret(Some(secret.to_string()));
    client
        .create_event_destination()
        .body(
            CreateEventDestinationRequest::builder()
                .name("tracker")
                .type_(Some(EventDestinationType::Webhook))
                .webhook(Some(webhook.try_into().unwrap()))
                .events(Some(vec![EventType::TaskRunCompleted])),
        )
        .send()
        .await
        .unwrap();
    let runs = start_runs(&client, &task, 5).await;
    let waits = futures::future::try_join_all(runs.iter().map(|run| tracker.wait_run(run)));
    let finished = tokio::time::timeout(Duration::from_secs(30), waits)
        .await
        .expect("webhooks resolve the waits")
        .unwrap();
    assert!(finished.iter().all(|r| r.status == RunStatus::Completed));
}

#[tokio::test]
async fn feed_hands_each_event_on_once_and_resumes_from_a_checkpoint() {
    let mock = MockDeck::start().await;
    let client = mock.client();
    let task = mock.task_ids()[0].clone();
    start_runs(&client, &task, 2).await;
    let queued = [EventType::TaskRunQueued];
    let mut feed = client
        .event_feed()
        .types(queued.clone())
        .from_beginning()
        .poll_interval(Duration::from_millis(10))
        .start();
    let first = feed.next().await.unwrap().unwrap();
    let second = feed.next().await.unwrap().unwrap();
    assert_ne!(first.id, second.id);
    assert!(first.created_at <= second.created_at, "oldest first");
    // A webhook redelivery of an event already handed on is dropped.
    feed.pusher().push(first.clone());
    let checkpoint = feed.checkpoint();
    // Through serde, as a caller persists it.
    let saved = serde_json::to_string(&checkpoint).unwrap();
    drop(feed);

    start_runs(&client, &task, 1).await;
    let restored: FeedCheckpoint = serde_json::from_str(&saved).unwrap();
    let mut resumed = client
        .event_feed()
        .types(queued.clone())
        .resume_from(restored)
        .poll_interval(Duration::from_millis(10))
        .start();
    let next = resumed.next().await.unwrap().unwrap();
    assert!(
        next.id != first.id && next.id != second.id,
        "resumed after the checkpoint"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), resumed.next())
            .await
            .is_err(),
        "nothing handed on twice"
    );
}

/// A `GET /events` that lists an event late: the first poll sees only the newer one.
struct LateListing(Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>);

fn event(id: &str, at: &str) -> Value {
    json!({"id": id, "object": "event", "type": "task_run.completed", "created_at": at,
           "data": {"id": format!("trun_{id}"), "object": "task_run", "status": "completed", "result": ""}})
}

impl wiremock::Respond for LateListing {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        self.1
            .lock()
            .unwrap()
            .push(request.url.query().unwrap_or("").to_string());
        let newer = event("evt_2", "2026-11-01T10:00:10.000Z");
        let older = event("evt_1", "2026-11-01T10:00:09.000Z");
        let data = if n == 0 {
            vec![newer]
        } else {
            vec![newer, older]
        };
        wiremock::ResponseTemplate::new(200).set_body_json(
            json!({"data": data, "has_more": false, "next_cursor": null, "request_id": "req_1"}),
        )
    }
}

#[tokio::test]
async fn feed_takes_duplicate_and_out_of_order_events() {
    let server = wiremock::MockServer::start().await;
    let queries = Arc::new(std::sync::Mutex::new(Vec::new()));
    wiremock::Mock::given(wiremock::matchers::path("/v2/events"))
        .respond_with(LateListing(Arc::new(AtomicUsize::new(0)), queries.clone()))
        .mount(&server)
        .await;
    let client = deck::Client::builder()
        .api_key("sk_test")
        .base_url(format!("{}/v2", server.uri()))
        .build()
        .unwrap();
    let mut feed = client
        .event_feed()
        .from_beginning()
        .overlap(Duration::from_secs(5))
        .poll_interval(Duration::from_millis(10))
        .start();
    let pusher = feed.pusher();
    let a = feed.next().await.unwrap().unwrap();
    assert_eq!(a.id, "evt_2");
    // The older event, listed late (and then listed again on every poll): handed on once.
    let b = feed.next().await.unwrap().unwrap();
    assert_eq!(b.id, "evt_1");
    // The same event again by webhook: dropped.
    pusher.push(serde_json::from_value(event("evt_2", "2026-11-01T10:00:10.000Z")).unwrap());
    assert!(
        tokio::time::timeout(Duration::from_millis(100), feed.next())
            .await
            .is_err()
    );
    // Each poll after the first looked back by the overlap.
    let queries = queries.lock().unwrap();
    assert!(
        queries[1].contains("created_after=2026-11-01T10%3A00%3A05"),
        "{queries:?}"
    );
}
