//! Pagination semantics against a loopback server: filters on every page, limit defaults,
//! stop rules, empty pages, cursor loops, errors, early drop and prefetch.

mod common;

use common::*;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Serves a fixed list of pages keyed by cursor (`None` = first page).
struct Pages(HashMap<Option<String>, ResponseTemplate>);

impl Respond for Pages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let cursor = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.into_owned());
        self.0.get(&cursor).cloned().unwrap_or_else(|| {
            ResponseTemplate::new(404).set_body_json(envelope(
                "request",
                "cursor_invalid",
                "bad cursor",
                "r",
            ))
        })
    }
}

fn items(prefix: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| task_run_item_nulls(&format!("{prefix}{i}"), "completed"))
        .collect()
}

fn page_json(
    items: Vec<Value>,
    has_more: bool,
    next: Option<&str>,
    request_id: &str,
) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"data": items, "has_more": has_more, "next_cursor": next, "request_id": request_id}),
    )
}

async fn serve(pages: Vec<(Option<&str>, ResponseTemplate)>) -> MockServer {
    let server = MockServer::start().await;
    let map = pages
        .into_iter()
        .map(|(c, t)| (c.map(String::from), t))
        .collect();
    Mock::given(method("GET"))
        .and(path("/v2/task-runs"))
        .respond_with(Pages(map))
        .mount(&server)
        .await;
    server
}

async fn queries(server: &MockServer) -> Vec<Vec<(String, String)>> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .collect()
}

fn three_pages() -> Vec<(Option<&'static str>, ResponseTemplate)> {
    vec![
        (None, page_json(items("a", 2), true, Some("c2"), "req_1")),
        (
            Some("c2"),
            page_json(items("b", 2), true, Some("c3"), "req_2"),
        ),
        (Some("c3"), page_json(items("c", 1), false, None, "req_3")),
    ]
}

#[tokio::test]
async fn every_filter_is_sent_on_every_page_with_limit_100() {
    let server = serve(three_pages()).await;
    let client = client(&server.uri());
    let runs = client
        .list_task_runs()
        .status([
            deck::types::RunStatus::Queued,
            deck::types::RunStatus::Running,
        ])
        .task_id("task_abc")
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a0", "a1", "b0", "b1", "c0"]
    );
    let qs = queries(&server).await;
    assert_eq!(qs.len(), 3);
    for (i, q) in qs.iter().enumerate() {
        let get = |k: &str| {
            q.iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("status"), ["queued", "running"], "page {i}");
        assert_eq!(get("task_id"), ["task_abc"], "page {i}");
        assert_eq!(get("limit"), ["100"], "page {i}");
        let expected_cursor: Vec<&str> = match i {
            0 => vec![],
            1 => vec!["c2"],
            _ => vec!["c3"],
        };
        assert_eq!(get("cursor"), expected_cursor, "page {i}");
    }
}

#[tokio::test]
async fn a_user_limit_is_kept_on_every_page() {
    let server = serve(three_pages()).await;
    let client = client(&server.uri());
    let n = client.list_task_runs().limit(2).items().count().await;
    assert_eq!(n, 5);
    for q in queries(&server).await {
        assert!(q.contains(&("limit".into(), "2".into())), "{q:?}");
    }
}

#[tokio::test]
async fn has_more_without_a_cursor_is_a_pagination_error_not_a_silent_end() {
    let server = serve(vec![(None, page_json(items("a", 2), true, None, "r1"))]).await;
    let results: Vec<_> = client(&server.uri())
        .list_task_runs()
        .items()
        .collect()
        .await;
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(results[..2].iter().all(Result::is_ok));
    let err = results[2].as_ref().unwrap_err();
    assert_eq!(err.kind(), deck::ErrorKind::Pagination, "{err}");
    assert!(err.to_string().contains("has_more"), "{err}");
    assert_eq!(queries(&server).await.len(), 1);
}

/// Serves empty pages forever, each with a fresh cursor.
struct EndlessEmptyPages;

impl Respond for EndlessEmptyPages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map_or(0, |(_, v)| v.parse::<u64>().unwrap() + 1);
        page_json(vec![], true, Some(&n.to_string()), "r")
    }
}

#[tokio::test]
async fn endless_empty_pages_with_fresh_cursors_end_with_a_pagination_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/task-runs"))
        .respond_with(EndlessEmptyPages)
        .mount(&server)
        .await;
    let results: Vec<_> = tokio::time::timeout(
        Duration::from_secs(60),
        client(&server.uri())
            .list_task_runs()
            .items()
            .collect::<Vec<_>>(),
    )
    .await
    .expect("the listing ends instead of following empty pages forever");
    assert_eq!(results.len(), 1, "{results:?}");
    let err = results[0].as_ref().unwrap_err();
    assert_eq!(err.kind(), deck::ErrorKind::Pagination, "{err}");
    assert!(err.to_string().contains("empty pages"), "{err}");
    // The bound: 20 empty pages in a row (the prefetch task may hold one more in flight).
    let sent = queries(&server).await.len();
    assert!((20..=21).contains(&sent), "{sent} requests");
}

/// Full pages of `size` items, forever.
struct FullPages(usize);

impl Respond for FullPages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map_or(0, |(_, v)| v.parse::<u64>().unwrap() + 1);
        page_json(
            items(&format!("p{n}_"), self.0),
            true,
            Some(&n.to_string()),
            "r",
        )
    }
}

/// `max_items(100)` at page size 100: one request, whether items or pages are taken, with
/// prefetch on a multi-thread runtime (the task fetching ahead must not ask for page 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_items_is_a_hard_bound_with_prefetch_on_a_multi_thread_runtime() {
    for pages in [false, true] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v2/task-runs"))
            .respond_with(FullPages(100))
            .mount(&server)
            .await;
        let client = client(&server.uri());
        let paginator = client.list_task_runs().max_items(100).prefetch(true);
        let got = if pages {
            let pages: Vec<_> = paginator.pages().collect().await;
            assert_eq!(pages.len(), 1);
            pages[0].as_ref().unwrap().items.len()
        } else {
            paginator.collect_all().await.unwrap().len()
        };
        assert_eq!(got, 100);
        // Give a prefetch task every chance to send what it would send.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(queries(&server).await.len(), 1, "pages={pages}");
        // A cap that is not a multiple of the page size: 150 at 100 a page is two requests.
        let two = client
            .list_task_runs()
            .into_paginator()
            .page_size(100)
            .max_items(150)
            .collect_all()
            .await
            .unwrap();
        assert_eq!(two.len(), 150);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(queries(&server).await.len(), 3, "pages={pages}");
    }
}

#[tokio::test]
async fn stops_when_has_more_is_false_even_with_a_cursor() {
    let server = serve(vec![
        (None, page_json(items("a", 2), false, Some("c2"), "r1")),
        (Some("c2"), page_json(items("b", 2), false, None, "r2")),
    ])
    .await;
    let all = client(&server.uri())
        .list_task_runs()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(queries(&server).await.len(), 1);
}

#[tokio::test]
async fn an_empty_page_with_a_cursor_is_followed() {
    let server = serve(vec![
        (None, page_json(vec![], true, Some("c2"), "r1")),
        (Some("c2"), page_json(vec![], true, Some("c3"), "r2")),
        (Some("c3"), page_json(items("c", 3), false, None, "r3")),
    ])
    .await;
    let all = client(&server.uri())
        .list_task_runs()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
}

#[tokio::test]
async fn a_repeated_cursor_ends_with_an_error_not_a_loop() {
    let server = serve(vec![
        (None, page_json(items("a", 1), true, Some("c2"), "r1")),
        (Some("c2"), page_json(items("b", 1), true, Some("c3"), "r2")),
        (Some("c3"), page_json(items("c", 1), true, Some("c2"), "r3")),
    ])
    .await;
    let results: Vec<_> = client(&server.uri())
        .list_task_runs()
        .items()
        .collect()
        .await;
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(results[..3].iter().all(Result::is_ok));
    let err = results[3].as_ref().unwrap_err();
    assert_eq!(err.kind(), deck::ErrorKind::Pagination);
    assert!(err.to_string().contains("c2"), "{err}");
    assert_eq!(queries(&server).await.len(), 3);
}

#[tokio::test]
async fn an_error_is_yielded_once_and_ends_the_stream() {
    let server = serve(vec![
        (None, page_json(items("a", 2), true, Some("c2"), "r1")),
        (Some("c2"), ResponseTemplate::new(403)),
        (Some("c3"), page_json(items("c", 2), false, None, "r3")),
    ])
    .await;
    let results: Vec<_> = client(&server.uri())
        .list_task_runs()
        .items()
        .collect()
        .await;
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[2].as_ref().unwrap_err().kind(),
        deck::ErrorKind::Forbidden
    );
    assert_eq!(queries(&server).await.len(), 2);
}

#[tokio::test]
async fn pages_carry_request_id_and_has_more() {
    let server = serve(three_pages()).await;
    let pages: Vec<_> = client(&server.uri())
        .list_task_runs()
        .pages()
        .map(Result::unwrap)
        .collect()
        .await;
    let ids: Vec<_> = pages
        .iter()
        .map(|p| p.request_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["req_1", "req_2", "req_3"]);
    assert_eq!(
        pages.iter().map(|p| p.has_more).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(pages[0].items.len(), 2);
}

#[tokio::test]
async fn max_items_caps_items_requests_and_page_size() {
    let server = serve(three_pages()).await;
    let client = client(&server.uri());
    let three = client
        .list_task_runs()
        .max_items(3)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(three.len(), 3);
    let qs = queries(&server).await;
    assert_eq!(qs.len(), 2, "no page after the cap is reached");
    assert!(qs[0].contains(&("limit".into(), "3".into())), "{:?}", qs[0]);
}

#[tokio::test]
async fn dropping_the_stream_sends_no_further_requests() {
    for prefetch in [false, true] {
        let server = serve(three_pages()).await;
        let client = client(&server.uri());
        let mut stream = client
            .list_task_runs()
            .into_paginator()
            .prefetch(prefetch)
            .items();
        stream.next().await.unwrap().unwrap();
        drop(stream);
        let at_drop = queries(&server).await.len();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let later = queries(&server).await.len();
        assert_eq!(later, at_drop, "prefetch={prefetch}: requests after drop");
        let limit = if prefetch { 2 } else { 1 };
        assert!(at_drop <= limit, "prefetch={prefetch}: {at_drop} requests");
    }
}

#[tokio::test]
async fn prefetch_fetches_one_page_ahead_and_no_further() {
    // None: the default (`.pages()` straight on the builder), which prefetches.
    for (prefetch, expected) in [(None, 2), (Some(true), 2), (Some(false), 1)] {
        let server = serve(three_pages()).await;
        let client = client(&server.uri());
        let mut pages = match prefetch {
            None => client.list_task_runs().pages(),
            Some(p) => client.list_task_runs().into_paginator().prefetch(p).pages(),
        };
        let first = pages.next().await.unwrap().unwrap();
        assert_eq!(first.request_id.as_deref(), Some("req_1"));
        // The caller is busy with page 1 and does not poll.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            queries(&server).await.len(),
            expected,
            "prefetch={prefetch:?}"
        );
        let rest: Vec<_> = pages.collect().await;
        assert_eq!(rest.len(), 2);
    }
}

#[tokio::test]
async fn other_list_operations_are_paginated_too() {
    let server = MockServer::start().await;
    let task_page = |ids: &[&str], next: Option<&str>| {
        ResponseTemplate::new(200)
            .set_body_json(page(ids.iter().map(|id| task(id)).collect(), next))
    };
    let map: HashMap<Option<String>, ResponseTemplate> = [
        (None, task_page(&["t1", "t2"], Some("n2"))),
        (Some("n2".to_string()), task_page(&["t3"], None)),
    ]
    .into_iter()
    .collect();
    Mock::given(method("GET"))
        .and(path("/v2/tasks"))
        .respond_with(Pages(map))
        .mount(&server)
        .await;
    let tasks = client(&server.uri())
        .list_tasks()
        .status("live")
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["t1", "t2", "t3"]
    );
    for q in queries(&server).await {
        assert!(q.contains(&("status".into(), "live".into())));
    }
}
