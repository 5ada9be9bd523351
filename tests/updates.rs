//! Updates that can clear, setters that take values, and bounds checked before sending, against
//! MockDeck. The update operations, their nullable fields and the bounds come from the spec (the
//! vendored spec with the overlay, through `deck-codegen`), not from a hand-kept list.

mod common;

use deck::ErrorKind;
use deck::mock::MockDeck;
use deck::types::{CreateTaskRequest, UpdateCredentialRequest, UpdateTaskRequest};
use serde_json::{Map, Value, json};

/// `schema` with `$ref`s and one-entry `allOf`s followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let r = schema
        .get("$ref")
        .or_else(|| schema.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str);
    match r.and_then(|r| doc.pointer(&r[1..])) {
        Some(target) => resolve(doc, target),
        None => schema,
    }
}

/// One `PATCH` operation of the spec: its id, its path, the read of the same path, and the body
/// fields that can be cleared (nullable in the request and in the resource read back).
struct Update {
    id: String,
    path: String,
    get: String,
    param: String,
    nullable: Vec<String>,
    clearable: Vec<String>,
}

fn updates() -> Vec<Update> {
    let doc = common::normalised_spec();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("patch") else {
            continue;
        };
        let body = resolve(
            &doc,
            op.pointer("/requestBody/content/application~1json/schema")
                .unwrap(),
        );
        let get = &item["get"];
        let read = resolve(
            &doc,
            get.pointer("/responses/200/content/application~1json/schema")
                .unwrap(),
        );
        let mut nullable = Vec::new();
        let mut clearable = Vec::new();
        for (name, schema) in body["properties"].as_object().unwrap() {
            if schema["nullable"] != json!(true) {
                continue;
            }
            nullable.push(name.clone());
            let back = &read["properties"][name];
            if back["nullable"] == json!(true) && back["type"] == "string" {
                clearable.push(name.clone());
            }
        }
        let param = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["in"] == "path")
            .unwrap()["name"]
            .as_str()
            .unwrap()
            .to_string();
        out.push(Update {
            id: op["operationId"].as_str().unwrap().into(),
            path: path.clone(),
            get: get["operationId"].as_str().unwrap().into(),
            param,
            nullable,
            clearable,
        });
    }
    out
}

/// The operation listing the collection an update's path is in (`/agents/{agent_id}` →
/// `listAgents`), and the one creating in it.
fn collection_ops(path: &str) -> (String, Option<String>) {
    let doc = common::normalised_spec();
    let collection = &path[..path.rfind("/{").unwrap()];
    let item = &doc["paths"][collection];
    (
        item["get"]["operationId"].as_str().unwrap().into(),
        item["post"]["operationId"].as_str().map(String::from),
    )
}

/// An existing resource of the update's collection (created when MockDeck seeds none).
async fn some_id(client: &deck::Client, update: &Update) -> String {
    let (list, create) = collection_ops(&update.path);
    let (_, page) = client
        .__call_operation(&list, &Map::new(), None)
        .await
        .unwrap();
    if let Some(id) = page["data"][0]["id"].as_str() {
        return id.to_string();
    }
    // Only event destinations are not seeded; a webhook one needs its configuration.
    let body = json!({"name": "hook", "type": "webhook", "events": ["*"],
                      "webhook": {"url": "https://example.com/hook"}});
    let (_, created) = client
        .__call_operation(&create.unwrap(), &Map::new(), Some(body))
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_string()
}

/// `after` with what changes on every call (`updated_at`, `request_id`) taken from `before`.
fn stable(mut after: Value, before: &Value) -> Value {
    for key in ["updated_at", "request_id"] {
        after[key] = before[key].clone();
    }
    after
}

/// Every update in the spec: a field set to `null` through the typed body is sent as `null`
/// and reads back as `null`; untouched fields keep their values; an empty update changes nothing.
#[tokio::test]
async fn every_update_clears_nullable_fields_and_leaves_the_rest() {
    let updates = updates();
    assert!(updates.len() >= 5, "{} update operations", updates.len());
    assert!(
        updates
            .iter()
            .any(|u| u.clearable.contains(&"external_id".to_string()))
    );
    // Runs stay put: nothing but the updates changes a resource.
    let mock = common::manual_mock().await;
    let client = mock.client();
    for update in &updates {
        assert!(!update.nullable.is_empty(), "{}", update.id);
        let id = some_id(&client, update).await;
        let params: Map<String, Value> = [(update.param.clone(), json!(id))].into_iter().collect();
        let read = || async {
            client
                .__call_operation(&update.get, &params, None)
                .await
                .unwrap()
                .1
        };
        // An empty update sends `{}` and changes nothing but the timestamp.
        let before = read().await;
        client
            .__call_operation(&update.id, &params, Some(json!({})))
            .await
            .unwrap();
        let after = read().await;
        assert_eq!(
            stable(after, &before),
            before,
            "{}: an empty update changed the resource",
            update.id
        );
        for field in &update.clearable {
            // Set it first, so clearing has something to remove.
            let (_, set) = client
                .__call_operation(
                    &update.id,
                    &params,
                    Some(json!({ field.as_str(): "set-by-test" })),
                )
                .await
                .unwrap();
            assert_eq!(set[field], json!("set-by-test"), "{}.{field}", update.id);
            let before = read().await;
            let (_, cleared) = client
                .__call_operation(&update.id, &params, Some(json!({ field.as_str(): null })))
                .await
                .unwrap_or_else(|e| panic!("{}.{field}: {e:?}", update.id));
            assert_eq!(cleared[field], Value::Null, "{}.{field}", update.id);
            let mut after = read().await;
            assert_eq!(
                after[field],
                Value::Null,
                "{}.{field} on the next read",
                update.id
            );
            // Everything else stays.
            after[field] = before[field].clone();
            assert_eq!(
                stable(after, &before),
                before,
                "{}: clearing {field} changed more",
                update.id
            );
        }
    }
    mock.shutdown().await;
}

/// The acceptance case, written as a user would: clear a credential's `external_id`.
#[tokio::test]
async fn clearing_external_id_leaves_it_none_on_the_next_get() {
    let mock = MockDeck::start().await;
    let client = mock.client();
    let credential = client
        .list_credentials()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data[0]
        .clone();
    let id = credential.id.clone();
    let set = client
        .update_credential()
        .credential_id(&id)
        .body(UpdateCredentialRequest::builder().external_id("crm-42"))
        .send()
        .await
        .unwrap();
    assert_eq!(set.external_id.as_deref(), Some("crm-42"));
    // Left alone, the field stays out of the body and keeps its value.
    client
        .update_credential()
        .credential_id(&id)
        .body(UpdateCredentialRequest::builder())
        .send()
        .await
        .unwrap();
    let got = client
        .get_credential()
        .credential_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.external_id.as_deref(), Some("crm-42"));
    // `clear_external_id()` and `external_id(None)` both send `null`.
    for body in [
        UpdateCredentialRequest::builder().clear_external_id(),
        UpdateCredentialRequest::builder().external_id(None),
    ] {
        client
            .update_credential()
            .credential_id(&id)
            .body(UpdateCredentialRequest::builder().external_id("again"))
            .send()
            .await
            .unwrap();
        client
            .update_credential()
            .credential_id(&id)
            .body(body)
            .send()
            .await
            .unwrap();
        let got = client
            .get_credential()
            .credential_id(&id)
            .send()
            .await
            .unwrap();
        assert_eq!(got.external_id, None);
        assert_eq!(got.source_id, credential.source_id);
        assert_eq!(got.status, credential.status);
    }
    mock.shutdown().await;
}

/// Optional fields take the value itself, an `Option` of it, or (updates) a `Patch`.
#[test]
fn optional_setters_take_values() {
    let id = String::from("crm-1");
    let maybe: Option<String> = Some("crm-2".into());
    let json = |v: &dyn erased::Json| v.json();
    let create = CreateTaskRequest::builder()
        .name("Statements")
        .extraction(false)
        .prompt("Download the statements")
        .agent_id(&id);
    assert_eq!(json(&create)["prompt"], json!("Download the statements"));
    assert_eq!(json(&create)["agent_id"], json!("crm-1"));
    let update = UpdateCredentialRequest::builder().external_id(&id);
    assert_eq!(json(&update), json!({"external_id": "crm-1"}));
    let update = UpdateCredentialRequest::builder().external_id(maybe);
    assert_eq!(json(&update), json!({"external_id": "crm-2"}));
    let update = UpdateCredentialRequest::builder().external_id(deck::Patch::Keep);
    assert_eq!(json(&update), json!({}));
    let update = UpdateTaskRequest::builder()
        .prompt("p")
        .extraction(true)
        .clear_output_schema();
    assert_eq!(
        json(&update),
        json!({"prompt": "p", "extraction": true, "output_schema": null})
    );
}

mod erased {
    /// A body builder, serialised as the body it builds.
    pub trait Json {
        fn json(&self) -> serde_json::Value;
    }
    impl Json for deck::types::builder::CreateTaskRequest {
        fn json(&self) -> serde_json::Value {
            let body = deck::types::CreateTaskRequest::try_from(self.clone()).unwrap();
            serde_json::to_value(body).unwrap()
        }
    }
    impl Json for deck::types::builder::UpdateCredentialRequest {
        fn json(&self) -> serde_json::Value {
            let body = deck::types::UpdateCredentialRequest::try_from(self.clone()).unwrap();
            serde_json::to_value(body).unwrap()
        }
    }
    impl Json for deck::types::builder::UpdateTaskRequest {
        fn json(&self) -> serde_json::Value {
            let body = deck::types::UpdateTaskRequest::try_from(self.clone()).unwrap();
            serde_json::to_value(body).unwrap()
        }
    }
}

/// Every parameter bound in the spec is checked before sending: one past it is
/// `InvalidRequest` naming the parameter and the bound, and MockDeck sees no request.
#[tokio::test]
async fn bounds_from_the_spec_are_enforced_before_sending() {
    let mock = MockDeck::start().await;
    let client = mock.client();
    // The acceptance case.
    let before = mock.request_count();
    let err = client.list_task_runs().limit(500).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("`limit`") && text.contains("maximum 100"),
        "{text}"
    );
    assert_eq!(mock.request_count(), before, "a request went out");
    // At the bound it goes out.
    client.list_task_runs().limit(100).send().await.unwrap();
    assert_eq!(mock.request_count(), before + 1);
    // Deck's documented minimum (1) holds too, on every list.
    let err = client.list_task_runs().limit(0).send().await.unwrap_err();
    assert!(err.to_string().contains("minimum 1"), "{err}");
    let err = client.list_agents().limit(0).send().await.unwrap_err();
    assert!(err.to_string().contains("minimum 1"), "{err}");
    assert_eq!(mock.request_count(), before + 1, "a request went out");

    let doc = common::normalised_spec();
    let mut checked = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let Some(max) = param["schema"]["maximum"].as_i64() else {
                    continue;
                };
                if param["in"] != "query" {
                    continue;
                }
                let name = param["name"].as_str().unwrap();
                let mut params = Map::new();
                for p in op["parameters"].as_array().unwrap() {
                    if p["in"] == "path" {
                        params.insert(p["name"].as_str().unwrap().into(), json!("x_1"));
                    }
                }
                params.insert(name.into(), json!(max + 1));
                let before = mock.request_count();
                let id = op["operationId"].as_str().unwrap();
                let err = client
                    .__call_operation(id, &params, None)
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{id}: {err:?}");
                let text = err.to_string();
                assert!(
                    text.contains(&format!("`{name}`")) && text.contains(&format!("maximum {max}")),
                    "{id}: {text}"
                );
                assert_eq!(mock.request_count(), before, "{id}: a request went out");
                checked += 1;
            }
        }
    }
    assert!(checked >= 1, "{checked} bounded parameters");
    mock.shutdown().await;
}
