//! The hand-written layer's contract: the generated items `deck-api`'s own code (`src/`) calls.
//!
//! Everything else in the generated client may come and go with Deck's spec; these may not, or
//! `src/` stops compiling. The build checks them right after generating, so a regenerated spec
//! that lacks one (or changes its type) fails with one message naming the item, who uses it and
//! what the spec did to it, instead of a rustc error inside `src/` or the generated code.
//!
//! Keep the list next to the code: a new use of a generated item in `src/` adds its line here
//! (`tests/contract.rs` in `deck-api` fails on a use the list misses for the operations and
//! types it can see).

use crate::surface::{Kind, Surface};
use std::fmt;

/// One generated item `src/` relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A client method (`Client::get_task_run`) and its builder.
    Operation {
        /// The method.
        op: &'static str,
        /// Who calls it.
        by: &'static str,
    },
    /// A builder setter and the type it takes.
    Param {
        /// The method.
        op: &'static str,
        /// The setter (Rust name).
        param: &'static str,
        /// Its Rust type, as the surface renders it.
        ty: &'static str,
        /// Who calls it.
        by: &'static str,
    },
    /// A generated type of some kind (`struct`, `open enum`).
    Type {
        /// The type.
        name: &'static str,
        /// [`Kind::describe`].
        kind: &'static str,
        /// Who uses it.
        by: &'static str,
    },
    /// A struct field and its Rust type (`Option` included).
    Field {
        /// The struct.
        ty: &'static str,
        /// The Rust field name.
        field: &'static str,
        /// Its Rust type.
        field_ty: &'static str,
        /// Who reads it.
        by: &'static str,
    },
    /// A variant of an open enum.
    Variant {
        /// The enum.
        ty: &'static str,
        /// The variant.
        variant: &'static str,
        /// Who matches on it.
        by: &'static str,
    },
}

use Need::*;

/// What `src/` uses, as of this version of the crate.
#[rustfmt::skip]
pub const CONTRACT: &[Need] = &[
    // Waiting for a run (`src/runs.rs`) and the run's sections.
    Operation { op: "get_task_run", by: "src/runs.rs (wait_for_task_run)" },
    Param { op: "get_task_run", param: "run_id", ty: "TaskRunId", by: "src/runs.rs" },
    Param { op: "get_task_run", param: "include", ty: "String", by: "src/runs.rs" },
    Type { name: "TaskRunId", kind: "newtype(String)", by: "src/runs.rs, src/error.rs" },
    Field { ty: "TaskRun", field: "id", field_ty: "TaskRunId", by: "src/runs.rs" },
    Field { ty: "TaskRun", field: "status", field_ty: "RunStatus", by: "src/runs.rs" },
    Field { ty: "TaskRun", field: "output", field_ty: "Option<serde_json::Value>", by: "src/schema.rs (TaskRun::output_as)" },
    Field { ty: "TaskRun", field: "storage", field_ty: "Option<Vec<TaskRunStorageItem>>", by: "src/runs.rs (storage_section)" },
    Field { ty: "TaskRun", field: "artifacts", field_ty: "Option<TaskRunArtifacts>", by: "src/runs.rs (screenshots_section)" },
    Field { ty: "TaskRunArtifacts", field: "screenshots", field_ty: "Vec<Screenshot>", by: "src/runs.rs" },
    Type { name: "TaskRunStorageItem", kind: "struct", by: "src/runs.rs" },
    Type { name: "Screenshot", kind: "struct", by: "src/runs.rs" },
    Type { name: "RunStatus", kind: "open enum", by: "src/runs.rs, src/error.rs" },
    Variant { ty: "RunStatus", variant: "Completed", by: "src/runs.rs (is_terminal)" },
    Variant { ty: "RunStatus", variant: "Canceled", by: "src/runs.rs (is_terminal)" },
    Variant { ty: "RunStatus", variant: "Failed", by: "src/runs.rs (is_terminal)" },
    Variant { ty: "RunStatus", variant: "InteractionRequired", by: "src/runs.rs (needs_input)" },
    Variant { ty: "RunStatus", variant: "ReviewRequired", by: "src/runs.rs (needs_input)" },
    // Error bodies (`src/error.rs`).
    Field { ty: "ErrorEnvelope", field: "errors", field_ty: "Vec<ErrorDetail>", by: "src/error.rs" },
    Field { ty: "ErrorEnvelope", field: "request_id", field_ty: "String", by: "src/error.rs" },
    Field { ty: "ErrorDetail", field: "code", field_ty: "String", by: "src/error.rs" },
    Field { ty: "ErrorDetail", field: "type_", field_ty: "String", by: "src/error.rs" },
    Field { ty: "ErrorDetail", field: "message", field_ty: "String", by: "src/error.rs" },
    Field { ty: "ValidationProblem", field: "errors", field_ty: "HashMap<String, Vec<String>>", by: "src/error.rs" },
    // Webhooks (`src/webhooks/`): the event envelope and its typed data.
    Type { name: "Event", kind: "struct", by: "src/webhooks/mod.rs (re-exported)" },
    Type { name: "EventType", kind: "open enum", by: "src/webhooks/mod.rs (re-exported)" },
    Type { name: "EventData", kind: "enum", by: "src/webhooks/mod.rs (re-exported)" },
    Field { ty: "Event", field: "id", field_ty: "EventId", by: "src/webhooks/mod.rs" },
    Field { ty: "Event", field: "data", field_ty: "EventData", by: "src/webhooks/mod.rs" },
    // Many runs (`src/feed.rs`, `src/tracker.rs`, `src/batch.rs`).
    Operation { op: "list_events", by: "src/feed.rs (event_feed)" },
    Param { op: "list_events", param: "type_", ty: "Vec<EventType>", by: "src/feed.rs" },
    Param { op: "list_events", param: "created_after", ty: "chrono::DateTime<Utc>", by: "src/feed.rs" },
    Param { op: "list_events", param: "limit", ty: "i32", by: "src/feed.rs" },
    Field { ty: "Event", field: "created_at", field_ty: "chrono::DateTime<Utc>", by: "src/feed.rs" },
    Field { ty: "Event", field: "type_", field_ty: "EventType", by: "src/tracker.rs" },
    Variant { ty: "EventData", variant: "TaskRun", by: "src/tracker.rs (events of runs)" },
    Variant { ty: "EventType", variant: "TaskRunCompleted", by: "src/tracker.rs" },
    Variant { ty: "EventType", variant: "TaskRunFailed", by: "src/tracker.rs" },
    Variant { ty: "EventType", variant: "TaskRunCanceled", by: "src/tracker.rs" },
    Variant { ty: "EventType", variant: "TaskRunInteractionRequired", by: "src/tracker.rs" },
    Variant { ty: "EventType", variant: "TaskRunReviewRequired", by: "src/tracker.rs" },
    Field { ty: "TaskRunSnapshot", field: "id", field_ty: "Option<TaskRunId>", by: "src/tracker.rs" },
    Field { ty: "TaskRunSnapshot", field: "status", field_ty: "Option<RunStatus>", by: "src/tracker.rs" },
    Operation { op: "list_task_runs", by: "src/tracker.rs (run_tracker)" },
    Param { op: "list_task_runs", param: "status", ty: "Vec<RunStatus>", by: "src/tracker.rs" },
    Param { op: "list_task_runs", param: "created_after", ty: "chrono::DateTime<Utc>", by: "src/tracker.rs" },
    Param { op: "list_task_runs", param: "created_before", ty: "chrono::DateTime<Utc>", by: "src/tracker.rs" },
    Field { ty: "TaskRunSummary", field: "id", field_ty: "TaskRunId", by: "src/tracker.rs" },
    Field { ty: "TaskRunSummary", field: "status", field_ty: "RunStatus", by: "src/tracker.rs" },
    Field { ty: "TaskRun", field: "updated_at", field_ty: "chrono::DateTime<Utc>", by: "src/runs.rs, src/tracker.rs" },
    Operation { op: "run_task", by: "src/batch.rs (run_batch)" },
    Param { op: "run_task", param: "task_id", ty: "TaskId", by: "src/batch.rs" },
    Operation { op: "submit_task_run_interaction", by: "src/batch.rs" },
    Param { op: "submit_task_run_interaction", param: "run_id", ty: "TaskRunId", by: "src/batch.rs" },
    Type { name: "SubmitInteractionRequest", kind: "struct", by: "src/batch.rs" },
];

/// Why a generated client does not fit `src/`: every need it misses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractError {
    /// One line per missing or changed item.
    pub problems: Vec<String>,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "this spec no longer provides what deck-api's own code uses ({} item(s)); the crate \
             cannot be built from it until its hand-written layer follows the change: {}",
            self.problems.len(),
            self.problems.join("; ")
        )
    }
}

impl std::error::Error for ContractError {}

/// Checks [`CONTRACT`] against a generated surface.
pub fn check(surface: &Surface) -> Result<(), ContractError> {
    check_needs(surface, CONTRACT)
}

/// Checks `needs` against a generated surface.
pub fn check_needs(surface: &Surface, needs: &[Need]) -> Result<(), ContractError> {
    let problems: Vec<String> = needs.iter().filter_map(|n| problem(surface, n)).collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ContractError { problems })
    }
}

fn problem(surface: &Surface, need: &Need) -> Option<String> {
    match *need {
        Operation { op, by } => (!surface.operations.contains_key(op))
            .then(|| format!("operation `{op}` (used by {by}) is gone from the spec")),
        Param { op, param, ty, by } => match surface.operations.get(op) {
            None => Some(format!(
                "operation `{op}` (used by {by}) is gone from the spec"
            )),
            Some(o) => match o.params.get(param) {
                None => Some(format!(
                    "parameter `{param}` of `{op}` (used by {by}) is gone from the spec"
                )),
                Some(p) if p.ty != ty => Some(format!(
                    "parameter `{param}` of `{op}` (used by {by}) changed type: `{}` instead of `{ty}`",
                    p.ty
                )),
                Some(_) => None,
            },
        },
        Type { name, kind, by } => match surface.types.get(name) {
            None => Some(format!(
                "type `{name}` (used by {by}) is gone from the spec"
            )),
            Some(t) if t.kind.describe() != kind => Some(format!(
                "type `{name}` (used by {by}) is now {} instead of {kind}",
                t.kind.describe()
            )),
            Some(_) => None,
        },
        Field {
            ty,
            field,
            field_ty,
            by,
        } => match surface.types.get(ty).map(|t| &t.kind) {
            None => Some(format!("type `{ty}` (used by {by}) is gone from the spec")),
            Some(Kind::Struct(fields)) => match fields.values().find(|f| f.name == field) {
                None => Some(format!(
                    "field `{ty}.{field}` (used by {by}) is gone from the spec"
                )),
                Some(f) if f.ty != field_ty => Some(format!(
                    "field `{ty}.{field}` (used by {by}) changed type: `{}` instead of `{field_ty}`",
                    f.ty
                )),
                Some(_) => None,
            },
            Some(other) => Some(format!(
                "type `{ty}` (used by {by}) is now {} instead of a struct",
                other.describe()
            )),
        },
        Variant { ty, variant, by } => match surface.types.get(ty).map(|t| &t.kind) {
            None => Some(format!("type `{ty}` (used by {by}) is gone from the spec")),
            Some(Kind::OpenEnum(values)) => (!values.values().any(|v| v.variant == variant))
                .then(|| format!("value `{ty}::{variant}` (used by {by}) is gone from the spec")),
            // `EventData`'s variants carry their payload (`TaskRun(TaskRunSnapshot)`).
            Some(Kind::Enum(variants)) => (!variants.iter().any(|v| {
                v == variant
                    || v.strip_prefix(variant)
                        .is_some_and(|rest| rest.starts_with('('))
            }))
            .then(|| format!("variant `{ty}::{variant}` (used by {by}) is gone from the spec")),
            Some(other) => Some(format!(
                "type `{ty}` (used by {by}) is now {} instead of an enum",
                other.describe()
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_spec_meets_the_contract() {
        let spec = crate::load(
            include_str!("../../openapi/v2.json"),
            Some(&crate::Overlay::parse(include_str!("../../openapi/overlay.json")).unwrap()),
        )
        .unwrap();
        let generated = crate::generate(&spec).unwrap();
        check(&generated.surface).unwrap();

        // Each kind of need, broken, names the item and its user.
        let mut surface = generated.surface.clone();
        surface.operations.remove("get_task_run");
        if let Some(Kind::Struct(fields)) = surface.types.get_mut("TaskRun").map(|t| &mut t.kind) {
            fields.get_mut("status").unwrap().ty = "String".into();
        }
        if let Some(Kind::OpenEnum(values)) =
            surface.types.get_mut("RunStatus").map(|t| &mut t.kind)
        {
            values.remove("failed");
        }
        surface.types.remove("Screenshot");
        let err = check(&surface).unwrap_err();
        let text = err.to_string();
        for needle in [
            "operation `get_task_run` (used by src/runs.rs (wait_for_task_run)) is gone",
            "field `TaskRun.status` (used by src/runs.rs) changed type: `String` instead of `RunStatus`",
            "value `RunStatus::Failed` (used by src/runs.rs (is_terminal)) is gone",
            "type `Screenshot` (used by src/runs.rs) is gone",
        ] {
            assert!(text.contains(needle), "`{needle}` not in: {text}");
        }
    }
}
