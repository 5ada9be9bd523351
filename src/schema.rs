//! JSON Schema from Rust types (feature `schemars`), for a task's `input_schema` and
//! `output_schema`.
//!
//! Derive [`schemars::JsonSchema`] through the re-export [`deck::schemars`](crate::schemars),
//! with `#[schemars(crate = "deck::schemars")]` on the type (so the versions match, and your
//! crate needs no `schemars` dependency), next to serde's traits, then create the task with
//! [`json_schema`], run it
//! with your input type ([`builder::RunTask::input`](crate::builder::RunTask::input)) and read
//! the output as your type ([`TaskRun::output_as`](crate::types::TaskRun::output_as)):
//!
//! ```no_run
//! # async fn f(client: &deck::Client, agent_id: &str) -> Result<(), deck::Error> {
//! use deck::schemars::JsonSchema;
//! use deck::types::CreateTaskRequest;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, JsonSchema)]
//! #[schemars(crate = "deck::schemars")]
//! struct BillRequest {
//!     account_number: String,
//! }
//!
//! #[derive(Deserialize, JsonSchema)]
//! #[schemars(crate = "deck::schemars")]
//! struct Bill {
//!     amount_due: f64,
//!     due_date: String,
//! }
//!
//! let task = client
//!     .create_task()
//!     .body(
//!         CreateTaskRequest::builder()
//!             .name("Fetch latest bill")
//!             .agent_id(agent_id)
//!             .extraction(true)
//!             .input_schema(deck::json_schema::<BillRequest>())
//!             .output_schema(deck::json_schema::<Bill>()),
//!     )
//!     .send()
//!     .await?;
//! let run = client
//!     .run_task()
//!     .task_id(&task.id)
//!     .input(&BillRequest { account_number: "42".into() })
//!     .send()
//!     .await?;
//! let run = client.wait_for_task_run(&run.id).await?;
//! let bill: Bill = run.output_as()?;
//! # Ok(()) }
//! ```

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;

/// The JSON Schema (2020-12) of `T`, self-contained: nested types are inlined rather than
/// referenced through `$defs` (recursive types excepted), which is the form a task's
/// `input_schema`/`output_schema` is easiest to read in, for Deck's agent and for people.
pub fn json_schema<T: JsonSchema + ?Sized>() -> serde_json::Value {
    let schema = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>();
    schema.to_value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Line {
        label: String,
        amount: f64,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Statement {
        account: String,
        lines: Vec<Line>,
        note: Option<String>,
    }

    #[test]
    fn schemas_are_self_contained_objects_with_required_fields() {
        let schema = json_schema::<Statement>();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["account", "lines"]));
        assert_eq!(
            schema["properties"]["lines"]["items"]["properties"]["amount"]["type"],
            "number"
        );
        assert!(schema.get("$defs").is_none(), "{schema}");
    }

    #[test]
    fn open_enums_accept_any_string_and_list_known_values() {
        let schema = json_schema::<crate::types::RunStatus>();
        assert_eq!(schema["type"], "string");
        assert!(
            schema["examples"]
                .as_array()
                .unwrap()
                .contains(&json!("interaction_required"))
        );
        // Generated types carry the same serde names as on the wire.
        let run = json_schema::<crate::types::TaskRun>();
        assert!(
            run["required"]
                .as_array()
                .unwrap()
                .contains(&json!("status"))
        );
        assert_eq!(run["properties"]["status"]["type"], "string");
    }
}
