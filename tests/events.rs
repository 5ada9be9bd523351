//! Typed events: `Event.data` is typed by the event's family, for every webhook the spec (with
//! the overlay) declares, through webhooks and `GET /events` alike; whatever does not decode is
//! kept as sent.

mod common;

use deck::types::{CredentialStatus, Event, EventData, EventType, RunStatus};
use serde_json::{Value, json};

fn event(event_type: &str, data: Value) -> Result<Event, serde_json::Error> {
    serde_json::from_value(json!({
        "id": "evt_1", "object": "event", "type": event_type,
        "created_at": "2026-11-20T12:00:00Z", "data": data
    }))
}

/// The webhooks the generator saw: event type → the `data` component, from the same overlay
/// and normaliser as the build.
fn webhooks() -> Vec<(String, String)> {
    let doc = common::normalised_spec();
    doc["x-webhooks"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, hook)| {
            let data = hook
                .pointer("/post/requestBody/content/application~1json/schema/properties/data/$ref")
                .and_then(Value::as_str)
                .unwrap();
            (name.clone(), data.rsplit('/').next().unwrap().to_string())
        })
        .collect()
}

/// The snapshot's type name, as `Debug` prints the variant's payload.
fn typed_as(data: &EventData) -> Option<String> {
    match data {
        EventData::Unknown(_) => None,
        other => {
            let debug = format!("{other:?}");
            let inner = debug.split_once('(')?.1;
            Some(inner.split([' ', '{']).next()?.to_string())
        }
    }
}

#[test]
fn every_webhook_in_the_spec_decodes_into_its_typed_snapshot() {
    let hooks = webhooks();
    assert!(hooks.len() >= 30, "{hooks:?}");
    for (name, snapshot) in hooks {
        let object = name.split('.').next().unwrap();
        let decoded = event(&name, json!({"id": "x_1", "object": object})).unwrap();
        assert_eq!(decoded.type_.as_str(), name);
        assert!(
            !matches!(decoded.type_, EventType::Unknown(_)),
            "{name} is not an EventType value"
        );
        assert_eq!(
            typed_as(&decoded.data).as_deref(),
            Some(snapshot.as_str()),
            "{name}"
        );
        // It serialises back to what came in.
        assert_eq!(
            serde_json::to_value(&decoded.data).unwrap(),
            json!({"id": "x_1", "object": object})
        );
    }
}

#[test]
fn documented_snapshots_decode_deck_s_empty_strings_as_none() {
    let run = event(
        "task_run.completed",
        json!({"id": "trun_1", "object": "task_run", "status": "completed", "result": "",
               "task_id": "task_1", "credential_id": "", "runtime_ms": "1234",
               "created_at": "2026-11-20T12:00:00Z", "updated_at": "", "workflow_id": ""}),
    )
    .unwrap();
    let EventData::TaskRun(run) = run.data else {
        panic!("{:?}", run.data)
    };
    assert_eq!(run.status, Some(RunStatus::Completed));
    assert_eq!(run.result, None);
    assert_eq!(run.credential_id, None);
    assert_eq!(run.runtime_ms, Some(1234));
    assert!(run.created_at.is_some() && run.updated_at.is_none());

    let credential = event(
        "credential.verified",
        json!({"id": "cred_1", "object": "credential", "status": "verified",
               "source_id": "src_1", "auth_method": "username_password", "external_id": ""}),
    )
    .unwrap();
    let EventData::Credential(credential) = credential.data else {
        panic!("{:?}", credential.data)
    };
    assert_eq!(credential.status, Some(CredentialStatus::Verified));
    assert_eq!(credential.external_id, None);
}

#[test]
fn unknown_types_and_mismatched_data_are_kept_as_sent() {
    // A type added later: the event decodes, its data kept whole.
    let later = event("invoice.paid", json!({"id": "inv_1", "amount": 5})).unwrap();
    assert_eq!(later.type_, EventType::Unknown("invoice.paid".into()));
    assert_eq!(
        later.data,
        EventData::Unknown(json!({"id": "inv_1", "amount": 5}))
    );
    // A known family whose data does not match its snapshot: kept, not rejected.
    let odd = json!({"id": 7, "status": ["running"]});
    let decoded = event("task_run.running", odd.clone()).unwrap();
    assert_eq!(decoded.data, EventData::Unknown(odd));
    // No data at all.
    let empty = event("task_run.queued", Value::Null).unwrap();
    assert_eq!(empty.data, EventData::Unknown(Value::Null));
    // The envelope itself is still checked: a missing id is an error.
    assert!(serde_json::from_value::<Event>(json!({"type": "task_run.queued"})).is_err());
}

#[tokio::test]
async fn events_read_through_the_api_carry_typed_data() {
    let mock = common::manual_mock().await;
    let client = mock.client();
    let run = common::run_seeded(&client, common::BILL_TASK, json!({"account_number": "1"})).await;
    mock.advance(1);
    let events = client.list_events().collect_all().await.unwrap();
    let typed: Vec<&EventData> = events
        .iter()
        .filter(|e| e.type_ == EventType::TaskRunRunning)
        .map(|e| &e.data)
        .collect();
    assert!(!typed.is_empty(), "{events:?}");
    for data in typed {
        let EventData::TaskRun(snapshot) = data else {
            panic!("{data:?}")
        };
        assert_eq!(snapshot.id.as_deref(), Some(run.id.as_str()));
        assert_eq!(snapshot.status, Some(RunStatus::Running));
    }
    let one = client
        .get_event()
        .event_id(&events[0].id)
        .send()
        .await
        .unwrap();
    assert_eq!(one.data, events[0].data);
}
