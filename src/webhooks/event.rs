//! The decoded webhook body.
//!
//! A placeholder until the event types are generated from the spec (`Event { id, type,
//! created_at, data }` with `data` typed per event type). Verification does not depend on this
//! definition: it decodes with `serde_json::from_slice::<Event>` after the signature checks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A Deck event, the body of a webhook delivery:
/// `{"id":"evt_…","object":"event","type":"task_run.completed","data":{…},"created_at":"…"}`.
///
/// Delivery is at least once and unordered: deduplicate on [`id`](Self::id) and order by
/// [`created_at`](Self::created_at). `object` and any field not named here are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event id (`evt_…`), the same on every redelivery: the deduplication key.
    pub id: String,
    /// The event type, `object.action`, e.g. `"task_run.completed"`.
    #[serde(rename = "type")]
    pub r#type: String,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// A summary of the resource at event time, as sent.
    pub data: serde_json::Value,
}
