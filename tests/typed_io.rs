//! Typed task input and output: a task whose schemas come from Rust types (feature `schemars`),
//! run with a typed input, its output read back as the type; and the typed errors when they do
//! not match.

mod common;

use deck::ErrorKind;
use deck::mock::MockDeck;
use deck::schemars::JsonSchema;
use deck::types::{CreateAgentRequest, CreateTaskRequest};
use serde::{Deserialize, Serialize};

#[derive(Serialize, JsonSchema)]
struct StatementRequest {
    account_number: String,
    month: String,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Line {
    label: String,
    amount: f64,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
enum Currency {
    #[serde(rename = "USD")]
    Usd,
    #[serde(rename = "EUR")]
    Eur,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Statement {
    total: f64,
    currency: Currency,
    lines: Vec<Line>,
    note: Option<String>,
}

/// A different shape than the task's output: `total` as text.
#[derive(Debug, Deserialize)]
struct WrongStatement {
    #[allow(dead_code)]
    total: String,
}

async fn statement_task(client: &deck::Client) -> deck::types::TaskId {
    let agent = client
        .create_agent()
        .body(CreateAgentRequest::builder().name("Statements"))
        .send()
        .await
        .unwrap();
    client
        .create_task()
        .body(
            CreateTaskRequest::builder()
                .name("Monthly statement")
                .agent_id(&agent.id)
                .extraction(true)
                .input_schema(deck::json_schema::<StatementRequest>())
                .output_schema(deck::json_schema::<Statement>()),
        )
        .send()
        .await
        .unwrap()
        .into_inner()
        .id
}

#[tokio::test]
async fn a_task_typed_by_rust_types_runs_with_typed_input_and_typed_output() {
    let mock = common::manual_mock().await;
    let client = mock.client();
    let task_id = statement_task(&client).await;
    let task = client.get_task().task_id(&task_id).send().await.unwrap();
    // The schema Deck stores is the one derived from the type.
    assert_eq!(
        task.input_schema,
        Some(deck::json_schema::<StatementRequest>())
    );

    let run = client
        .run_task()
        .task_id(&task_id)
        .input(&StatementRequest {
            account_number: "42".into(),
            month: "2026-10".into(),
        })
        .send()
        .await
        .unwrap();
    let sent = client
        .get_task_run()
        .run_id(&run.id)
        .include(deck::Include::INPUT)
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.input,
        Some(serde_json::json!({"account_number": "42", "month": "2026-10"}))
    );
    // Not finished: no output yet, a typed error (not a decode panic or a silent default).
    let early = run.output_as::<Statement>().unwrap_err();
    assert_eq!(early.kind(), ErrorKind::Output);
    assert!(early.to_string().contains("has no output"), "{early}");

    mock.advance(2);
    let done = client.get_task_run().run_id(&run.id).send().await.unwrap();
    let statement: Statement = done.output_as().unwrap();
    assert_eq!(
        statement,
        Statement {
            total: 0.0,
            currency: Currency::Usd,
            lines: vec![Line {
                label: String::new(),
                amount: 0.0
            }],
            note: Some(String::new()),
        }
    );

    let wrong = done.output_as::<WrongStatement>().unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::Output);
    let text = wrong.to_string();
    assert!(
        text.contains(done.id.as_str())
            && text.contains("total")
            && text.contains("WrongStatement"),
        "{text}"
    );
}

#[tokio::test]
async fn an_input_missing_a_field_its_schema_requires_is_refused() {
    #[derive(Serialize)]
    struct Partial {
        account_number: String,
    }
    let mock = MockDeck::builder().runs(0).start().await;
    let client = mock.client();
    let task_id = statement_task(&client).await;
    let err = client
        .run_task()
        .task_id(&task_id)
        .input(&Partial {
            account_number: "42".into(),
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422), "{err:?}");
}

#[tokio::test]
async fn an_input_that_does_not_serialise_fails_before_sending() {
    struct Unserialisable;
    impl Serialize for Unserialisable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no JSON form"))
        }
    }
    let mock = MockDeck::builder().runs(0).start().await;
    let client = mock.client();
    let before = mock.request_count();
    let err = client
        .run_task()
        .task_id("task_1")
        .input(&Unserialisable)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err:?}");
    assert!(err.to_string().contains("no JSON form"), "{err}");
    assert_eq!(mock.request_count(), before);
}
