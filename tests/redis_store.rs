//! `RedisStore` against a real `redis-server` started on a free loopback port: one rate limit
//! shared by three clients (each with its own limiter and connection, as three processes),
//! webhook deliveries deduplicated across replicas, and a feed resumed after a restart.
//! Skipped, saying why, when `redis-server` is not installed (`.ci/run` installs it).

use deck::mock::MockDeck;
use deck::store::RedisStore;
use deck::types::EventType;
use deck::{RateLimit, RetryPolicy};
use futures::StreamExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A `redis-server` of this test's own; killed on drop.
struct Redis {
    child: Child,
    url: String,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn redis() -> Option<Redis> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) => {
            eprintln!(
                "SKIPPED: redis-server could not be started ({e}); install it (`apt-get install redis-server`)"
            );
            return None;
        }
    };
    let redis = Redis {
        child,
        url: format!("redis://127.0.0.1:{port}/"),
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(redis);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("redis-server did not listen on port {port}");
}

#[tokio::test]
async fn three_clients_share_one_limit() {
    let Some(redis) = redis().await else { return };
    let limit = RateLimit::new(10, Duration::from_millis(500)).unwrap();
    let mock = MockDeck::builder().rate_limit(limit).start().await;
    // Three "processes": each its own client, limiter and Redis connection; one allowance.
    let clients: Vec<deck::Client> = (0..3)
        .map(|i| {
            mock.client_builder()
                .api_key(format!("sk_test_process_{i}"))
                .retry(RetryPolicy::none())
                .rate_limit(limit)
                .rate_limit_store(Arc::new(RedisStore::open(&redis.url).unwrap()))
                .build()
                .unwrap()
        })
        .collect();
    let calls = clients.iter().flat_map(|client| {
        (0..12).map(move |_| async move { client.test_api_key().send().await.map(|_| ()) })
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(mock.rate_limited_count(), 0);
    for i in 0..3 {
        assert_eq!(mock.usage_of(&format!("sk_test_process_{i}")).requests, 12);
    }
}

#[tokio::test]
async fn replicas_handle_each_delivery_once() {
    let Some(redis) = redis().await else { return };
    let mock = MockDeck::start().await;
    let event: deck::types::Event = serde_json::from_value(serde_json::json!({
        "id": "evt_shared", "object": "event", "type": "task_run.completed",
        "created_at": "2026-11-01T10:00:00Z", "data": {"id": "trun_1"}}))
    .unwrap();
    let mut feeds = Vec::new();
    for _ in 0..2 {
        let store = Arc::new(RedisStore::open(&redis.url).unwrap().prefix("replicas:"));
        let feed = mock
            .client()
            .event_feed()
            .poll_interval(Duration::from_secs(3600))
            .dedup(store, Duration::from_secs(60))
            .start();
        // The same delivery reaches both replicas (a retry landing on the other one).
        feed.pusher().push(event.clone());
        feeds.push(feed);
    }
    let mut handed = 0;
    for feed in &mut feeds {
        if let Ok(Some(Ok(e))) = tokio::time::timeout(Duration::from_millis(300), feed.next()).await
        {
            assert_eq!(e.id, "evt_shared");
            handed += 1;
        }
    }
    assert_eq!(handed, 1);
}

#[tokio::test]
async fn a_feed_resumes_after_a_restart() {
    let Some(redis) = redis().await else { return };
    let mock = MockDeck::start().await;
    let client = mock.client();
    let task = mock.task_ids()[0].clone();
    let run = |account: &'static str| {
        let client = client.clone();
        let task = task.clone();
        async move {
            let input =
                serde_json::json!({"account_number": account, "statement_month": "2026-10"});
            client
                .run_task()
                .task_id(&task)
                .input(&input)
                .send()
                .await
                .unwrap()
        }
    };
    let feed = |store: Arc<RedisStore>| {
        client
            .event_feed()
            .types([EventType::TaskRunQueued])
            .from_beginning()
            .poll_interval(Duration::from_millis(10))
            .checkpoints(store, "statements")
            .start()
    };
    run("1").await;
    run("2").await;
    let mut first = feed(Arc::new(RedisStore::open(&redis.url).unwrap()));
    let a = first.next().await.unwrap().unwrap();
    let b = first.next().await.unwrap().unwrap();
    // Asking for more saves the checkpoint (everything handed on was taken).
    let _ = tokio::time::timeout(Duration::from_millis(100), first.next()).await;
    drop(first);

    let third = run("3").await;
    // A new process: same store, same name, no checkpoint in hand.
    let mut second = feed(Arc::new(RedisStore::open(&redis.url).unwrap()));
    let c = second.next().await.unwrap().unwrap();
    assert!(c.id != a.id && c.id != b.id);
    let deck::types::EventData::TaskRun(data) = &c.data else {
        panic!("a task_run event")
    };
    assert_eq!(data.id.as_deref(), Some(third.id.as_str()));
}
