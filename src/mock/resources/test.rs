//! `/test`: whether the API key works. MockDeck answers as a test environment.

use crate::mock::reply::Reply;
use crate::mock::routes::RequestId;
use axum::Extension;
use axum::http::StatusCode;
use serde_json::json;

pub(crate) async fn test_api_key(Extension(RequestId(rid)): Extension<RequestId>) -> Reply {
    Reply::json(
        StatusCode::OK,
        json!({"status": "ready", "environment": "test", "request_id": rid}),
    )
}
