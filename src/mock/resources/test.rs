//! `/test`: whether the API key works. Answered as Deck does (`environment: live`: Deck has no
//! test environment, and MockDeck invents none).

use crate::mock::reply::Reply;
use crate::mock::routes::RequestId;
use axum::Extension;
use axum::http::StatusCode;
use serde_json::json;

pub(crate) async fn test_api_key(Extension(RequestId(rid)): Extension<RequestId>) -> Reply {
    Reply::json(
        StatusCode::OK,
        json!({"status": "ready", "environment": "live", "request_id": rid}),
    )
}
