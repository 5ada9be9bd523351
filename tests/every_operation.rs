//! Every operation in the spec, driven by the spec itself: each one is called through its typed
//! builder against MockDeck and must answer one of its documented success statuses with a body
//! its generated type decodes; then each is called against a fuzzing server and must answer a
//! typed result, never a panic. The operation list, the parameters and the request bodies come
//! from the vendored spec with the overlay (through `deck-codegen`, the generator itself), so a
//! refreshed spec is covered without editing this file; only Deck's state machine needs a few
//! words below (which run can be canceled, which one waits for input).

mod common;

use deck::mock::MockDeck;
use deck::{Client, ErrorKind};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One operation as the spec (normalised, overlaid) declares it.
struct Op {
    id: String,
    method: String,
    path: String,
    /// Wire names of the path parameters.
    path_params: Vec<String>,
    /// The request body schema, if any.
    body: Option<Value>,
    /// Declared success statuses.
    success: BTreeSet<u16>,
}

fn spec() -> (Value, Vec<Op>) {
    let doc = common::normalised_spec();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let params: Vec<&Value> = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect();
            ops.push(Op {
                id: id.to_string(),
                method: method.to_uppercase(),
                path: path.clone(),
                path_params: params
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect(),
                body: op
                    .pointer("/requestBody/content/application~1json/schema")
                    .cloned(),
                success: op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter_map(|s| s.parse().ok())
                    .filter(|s| (200..300).contains(s))
                    .collect(),
            });
        }
    }
    (doc, ops)
}

/// The order a tour of the API needs: things exist before they are read, changed, acted on and
/// deleted.
fn phase(op: &Op) -> u8 {
    match op.method.as_str() {
        "POST" if op.path_params.is_empty() => 0,
        "GET" if !op.path.ends_with('}') => 1,
        "GET" => 2,
        "PATCH" | "PUT" => 3,
        "DELETE" => 5,
        _ => 4,
    }
}

/// Ids seen in answers, by the `object` they name (`task_run`), the ones this test created
/// preferred.
#[derive(Default)]
struct Ids {
    seen: HashMap<String, String>,
    created: HashMap<String, String>,
    /// The answer when nothing was seen (the fuzz test, where ids do not matter).
    fallback: Option<String>,
}

impl Ids {
    fn record(&mut self, value: &Value, created: bool) {
        if let (Some(object), Some(id)) = (
            value.get("object").and_then(Value::as_str),
            value.get("id").and_then(Value::as_str),
        ) {
            self.seen
                .entry(object.to_string())
                .or_insert_with(|| id.to_string());
            if created {
                self.created.insert(object.to_string(), id.to_string());
            }
        }
        if let Some(items) = value.get("data").and_then(Value::as_array) {
            for item in items {
                self.record(item, false);
            }
        }
    }

    /// The id for parameter `agent_id`/`run_id`/…: the object named by its stem (`agent`,
    /// `task_run`, `event_destination`).
    fn for_param(&self, name: &str) -> Option<String> {
        let stem = name.strip_suffix("_id")?;
        let pick = |map: &HashMap<String, String>| {
            let mut hits: Vec<(&String, &String)> = map
                .iter()
                .filter(|(object, _)| {
                    object.as_str() == stem || object.ends_with(&format!("_{stem}"))
                })
                .collect();
            hits.sort();
            hits.first().map(|(_, id)| id.to_string())
        };
        pick(&self.created)
            .or_else(|| pick(&self.seen))
            .or_else(|| self.fallback.clone())
    }
}

/// A value for `schema` with only what is required, from the spec: enums take their first
/// value, `*_id` strings an id of that kind, other strings a format-shaped example.
/// `*_id` names with no id yet go to `missing`.
fn example(doc: &Value, schema: &Value, name: &str, ids: &Ids, missing: &mut Vec<String>) -> Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc.pointer(&r[1..]).unwrap_or(&Value::Null);
        return example(doc, target, name, ids, missing);
    }
    if let Some(first) = schema.get("allOf").and_then(|a| a.get(0)) {
        return example(doc, first, name, ids, missing);
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut out = Map::new();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (key, sub) in schema["properties"].as_object().unwrap() {
                if required.contains(&key.as_str()) {
                    out.insert(key.clone(), example(doc, sub, key, ids, missing));
                }
            }
            Value::Object(out)
        }
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("uri") => json!("https://example.com/"),
            Some("date-time") => json!("2026-11-20T12:00:00Z"),
            _ => match ids.for_param(name) {
                Some(id) => json!(id),
                None if name.ends_with("_id") => {
                    missing.push(name.to_string());
                    json!(null)
                }
                None if name == "url" => json!("https://example.com/"),
                None => json!(format!("every-operation {name}")),
            },
        },
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        _ => json!({}),
    }
}

/// What the schema alone cannot say about a request that MockDeck (like Deck) accepts.
fn body_for(op: &str, synthesized: Value) -> Value {
    let mut body = synthesized;
    let extra = match op {
        // A destination needs the configuration of its type.
        "createEventDestination" => {
            json!({"type": "webhook", "webhook": {"url": "https://example.com/hook"}})
        }
        "submitTaskRunInteraction" => json!({"input": {"code": "123456"}}),
        _ => json!({}),
    };
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

async fn call(
    client: &Client,
    op: &Op,
    params: &Map<String, Value>,
    body: Option<Value>,
) -> Result<(reqwest::StatusCode, Value), deck::Error> {
    client.__call_operation(&op.id, params, body).await
}

/// Runs seeded task `name` and lets MockDeck advance two steps; answers the run id.
async fn run_seeded(client: &Client, mock: &MockDeck, name: &str, input: Value) -> String {
    let run = common::run_seeded(client, name, input).await;
    mock.advance(2);
    run.id.into_string()
}

/// A tour of the whole API: every operation in the spec called once through its typed builder.
/// Answers each operation's MockDeck answer (for the fuzz test, as the shape to mutate).
async fn tour() -> BTreeMap<String, (u16, Value)> {
    let (doc, mut ops) = spec();
    ops.sort_by(|a, b| a.id.cmp(&b.id));
    let mock = common::manual_mock().await;
    let client = mock.client();
    let mut ids = Ids::default();
    // A finished run: storage items and events to read.
    let done = run_seeded(
        &client,
        &mock,
        common::BILL_TASK,
        json!({"account_number": "1"}),
    )
    .await;
    ids.seen.insert("task_run".into(), done.clone());

    let mut answers = BTreeMap::new();
    // Phase by phase; within one, an operation waits until the ids it needs exist (a credential
    // needs a source).
    for current in 0..=5 {
        let mut pending: Vec<&Op> = ops.iter().filter(|op| phase(op) == current).collect();
        while !pending.is_empty() {
            let mut waiting = Vec::new();
            let mut missing = Vec::new();
            for op in pending.iter().copied() {
                let before = missing.len();
                let body = op
                    .body
                    .as_ref()
                    .map(|schema| body_for(&op.id, example(&doc, schema, "", &ids, &mut missing)));
                let mut params = Map::new();
                for name in &op.path_params {
                    let id = match (op.id.as_str(), name.as_str()) {
                        // Deck's state machine: a run can be canceled while it is under way,
                        // and answered while it waits for input.
                        ("cancelTaskRun", "run_id") => {
                            let task = ids.for_param("task_id").unwrap();
                            let run = client.run_task().task_id(task).send().await.unwrap();
                            Some(run.into_inner().id.into_string())
                        }
                        ("submitTaskRunInteraction", "run_id") => {
                            let input =
                                json!({"account_number": "1", "statement_month": "2026-10"});
                            let task = "Download monthly statements";
                            Some(run_seeded(&client, &mock, task, input).await)
                        }
                        ("listTaskRunStorage", "run_id") => Some(done.clone()),
                        _ => ids.for_param(name),
                    };
                    match id {
                        Some(id) => drop(params.insert(name.clone(), json!(id))),
                        None => missing.push(name.clone()),
                    }
                }
                if missing.len() > before {
                    waiting.push(op);
                    continue;
                }
                let (status, value) = call(&client, op, &params, body)
                    .await
                    .unwrap_or_else(|e| panic!("{} {} ({}): {e:?}", op.method, op.path, op.id));
                assert!(
                    op.success.contains(&status.as_u16()),
                    "{}: status {status}, the spec declares {:?}",
                    op.id,
                    op.success
                );
                ids.record(&value, current == 0);
                answers.insert(op.id.clone(), (status.as_u16(), value));
            }
            assert!(
                waiting.len() < pending.len(),
                "no operation can supply {missing:?} for {:?}",
                waiting.iter().map(|op| &op.id).collect::<Vec<_>>()
            );
            pending = waiting;
        }
    }
    mock.shutdown().await;
    answers
}

#[tokio::test]
async fn every_operation_in_the_spec_round_trips_through_its_typed_builder() {
    let (_, ops) = spec();
    let answers = tour().await;
    let expected: BTreeSet<&str> = ops.iter().map(|o| o.id.as_str()).collect();
    let called: BTreeSet<&str> = answers.keys().map(String::as_str).collect();
    assert_eq!(called, expected);
    assert!(expected.len() >= 43, "{} operations", expected.len());
    // Decoded bodies are the resources, not empty shells.
    for (id, (_, value)) in &answers {
        assert!(
            value.as_object().is_some_and(|o| !o.is_empty()),
            "{id}: {value}"
        );
    }
    assert_eq!(answers["deleteAgent"].1["deleted"], json!(true));
    assert_eq!(answers["cancelTaskRun"].1["object"], json!("task_run"));
}

/// Bodies a fuzzing server sends: random bytes, cut-off JSON, JSON with values swapped for other
/// types, deep nesting and huge numbers.
fn hostile_body(rng: &mut fastrand::Rng, valid: &Value) -> Vec<u8> {
    let text = valid.to_string();
    match rng.u8(0..7) {
        0 => (0..rng.usize(0..300)).map(|_| rng.u8(..)).collect(),
        1 => text.as_bytes()[..rng.usize(0..=text.len())].to_vec(),
        2 => {
            let mut v = valid.clone();
            if let Some(obj) = v.as_object_mut() {
                let keys: Vec<String> = obj.keys().cloned().collect();
                for _ in 0..rng.usize(1..4) {
                    let key = &keys[rng.usize(..keys.len())];
                    obj[key] = match rng.u8(0..6) {
                        0 => json!(null),
                        1 => json!(rng.i64(..)),
                        2 => json!("12x"),
                        3 => json!([1, "two", null]),
                        4 => json!({"unexpected": true}),
                        _ => json!(1e308),
                    };
                }
            }
            v.to_string().into_bytes()
        }
        3 => format!(
            "{}{}",
            "[".repeat(rng.usize(100..5000)),
            "]".repeat(rng.usize(0..10))
        )
        .into_bytes(),
        4 => b"{\"errors\": [{\"type\": 1}], \"request_id\": 99999999999999999999999}".to_vec(),
        5 => {
            let mut bytes = text.into_bytes();
            for _ in 0..rng.usize(1..8) {
                let i = rng.usize(..bytes.len());
                bytes[i] = rng.u8(..);
            }
            bytes
        }
        _ => b"\xff\xfe\x00not utf8".to_vec(),
    }
}

/// Serves the scripted answers in turn.
struct Script(Arc<Vec<(u16, Vec<u8>)>>, Arc<AtomicUsize>);

impl wiremock::Respond for Script {
    fn respond(&self, _: &wiremock::Request) -> wiremock::ResponseTemplate {
        let n = self.1.fetch_add(1, Ordering::SeqCst);
        let (status, body) = &self.0[n % self.0.len()];
        wiremock::ResponseTemplate::new(*status)
            .insert_header("content-type", "application/json")
            .set_body_bytes(body.clone())
    }
}

#[tokio::test]
async fn hostile_answers_to_every_operation_are_typed_results_never_panics() {
    let (doc, ops) = spec();
    // Mutations start from what each operation really answers.
    let answers = tour().await;
    let mut rng = fastrand::Rng::with_seed(0xDEC0);
    let rounds = 12;
    let mut cases = Vec::new();
    for round in 0..rounds {
        for op in &ops {
            let (ok, valid) = &answers[&op.id];
            let status = if round % 2 == 0 {
                *ok
            } else {
                [400, 401, 403, 404, 409, 422, 429, 500, 502, 503][rng.usize(..10)]
            };
            cases.push((op.id.clone(), status, hostile_body(&mut rng, valid)));
        }
    }
    let served = Arc::new(cases.iter().map(|(_, s, b)| (*s, b.clone())).collect());
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(Script(served, Arc::new(AtomicUsize::new(0))))
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key("sk_test_fuzz")
        .base_url(format!("{}/v2", server.uri()))
        .retry(deck::RetryPolicy::none())
        .build()
        .unwrap();
    let by_id: HashMap<&str, &Op> = ops.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut outcomes = BTreeMap::<String, usize>::new();
    let ids = Ids {
        fallback: Some("x_1".into()),
        ..Ids::default()
    };
    for (id, status, _) in &cases {
        let op = by_id[id.as_str()];
        let params: Map<String, Value> = op
            .path_params
            .iter()
            .map(|p| (p.clone(), json!(ids.for_param(p))))
            .collect();
        let body = op
            .body
            .as_ref()
            .map(|schema| body_for(id, example(&doc, schema, "", &ids, &mut Vec::new())));
        let result = call(&client, op, &params, body).await;
        let label = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => {
                // Rendering never panics either.
                let _ = (e.to_string(), format!("{e:?}"), e.request_id(), e.code());
                format!("{:?}", e.kind())
            }
        };
        match (&result, *status) {
            // An error status always surfaces as a typed API error with its status.
            (Err(e), 400..) => {
                assert_eq!(e.status().map(|s| s.as_u16()), Some(*status), "{id}: {e:?}")
            }
            (Ok(_), 400..) => panic!("{id}: status {status} decoded as success"),
            // Any 2xx decodes as the operation's success type, or fails to decode.
            (Err(e), _) => assert_eq!(e.kind(), ErrorKind::Decode, "{id}: {e:?}"),
            (Ok(_), _) => {}
        }
        *outcomes.entry(label).or_default() += 1;
    }
    assert_eq!(outcomes.values().sum::<usize>(), rounds * ops.len());
    for kind in ["ok", "Decode", "Server"] {
        assert!(outcomes.contains_key(kind), "{kind}: {outcomes:?}");
    }
}
