//! progenitor's typed httpmock helpers (feature `httpmock`): exact canned responses per operation.

mod common;

use common::*;
use deck::httpmock::MockServerExt;

#[tokio::test]
async fn typed_helpers_match_requests_and_return_canned_bodies() {
    let server = httpmock::MockServer::start_async().await;
    let run: deck::types::TaskRun =
        serde_json::from_value(task_run_full("trun_1", "completed")).unwrap();
    let found = server.get_task_run(|when, then| {
        when.run_id(&"trun_1".into()).include("storage");
        then.ok(&run);
    });
    let missing_body: deck::ErrorBody = serde_json::from_value(envelope(
        "request",
        "task_run_not_found",
        "No such run.",
        "req_404",
    ))
    .unwrap();
    let missing = server.get_task_run(|when, then| {
        when.run_id(&"trun_missing".into());
        then.client_error(404, &missing_body);
    });

    let client = deck::Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .retry(deck::RetryPolicy::none())
        .build()
        .unwrap();
    let got = client
        .get_task_run()
        .run_id("trun_1")
        .include("storage")
        .send()
        .await
        .unwrap();
    assert_eq!(got.into_inner(), run);
    let err = client
        .get_task_run()
        .run_id("trun_missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), deck::ErrorKind::NotFound);
    assert_eq!(err.request_id(), Some("req_404"));
    found.assert_async().await;
    missing.assert_async().await;
}
