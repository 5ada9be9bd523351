//! `spec diff`: what changed between two specs, and two verdicts on every change.
//!
//! Both specs go through the whole generator (overlay, normaliser, progenitor, post-processing)
//! and the diff compares the two [`Surface`](crate::Surface)s it produced, so it sees the API the way the
//! generated code spells it: `type: [string, null]` and `anyOf: [string, null]` are the same
//! `Option<String>`, and a field typed by the overlay is compared as that type. The surface also
//! carries the wire facts the generator used (method, path, success statuses, constraints,
//! webhooks, the paginator's page size), so the diff sees what goes over the wire too.
//!
//! # Two verdicts
//!
//! - **breaking** (for deployed clients): a program already built from the *old* spec misbehaves
//!   against a server that follows the *new* one: a call now fails (404, 400), a response or a
//!   webhook payload no longer decodes, or the server silently ignores what it sends.
//! - **source-breaking**: regenerating the client from the new spec breaks code that uses it:
//!   it no longer compiles, or a call that used to work now fails in `send()` (a required
//!   setter it never called).
//!
//! They are independent: an operation that moves to a new path breaks every deployed binary
//! but no source (the method keeps its name); a response field made optional breaks both
//! (`T` → `Option<T>` in source, and deployed clients fail to decode a body without it); a new
//! value in an open enum breaks neither.
//!
//! "Request side" means a type reachable from a parameter or request body; "response side" one
//! reachable from a response body (errors included) or a webhook payload (received too). A type
//! used on both sides gets both rule sets, and an unused type is treated as both.
//!
//! # Rules
//!
//! | kind | breaking (deployed clients) | source-breaking | example |
//! |---|---|---|---|
//! | `operation_added` | no | no | `GET /sessions` appears |
//! | `operation_removed` | yes: the route is gone | yes: the method disappears | `GET /test` removed |
//! | `operation_moved` (same operationId, new method or path) | yes, unless only path-parameter names changed in the template | no: the method keeps its name | `listTaskRuns` moves from `GET /task-runs` to `GET /runs` |
//! | `pagination_added` | no | no | a list gains `cursor` |
//! | `pagination_removed` | yes: the cursor protocol deployed paginators follow is gone | yes: `items()`/`pages()` disappear | `cursor` dropped from a list |
//! | `page_size_lowered` | yes: deployed paginators still ask for the old size, which the new spec refuses | no: the regenerated paginator asks for the new one | `limit` maximum 100 → 50 |
//! | `page_size_raised` | no | no | `limit` maximum 50 → 100 |
//! | `parameter_added` | when required | when required | a required `region` query parameter |
//! | `parameter_removed` | yes: the server ignores it (a filter silently stops filtering) | yes: the setter disappears | `workflow_id` filter removed |
//! | `parameter_renamed` (removed + added, same location and type) | yes, except a path parameter (its name is not on the wire) | yes: the setter is renamed | `starting_after` → `cursor` |
//! | `parameter_retyped` | unless the new type accepts every value of the old one | yes | query `status`: `String` → `TaskStatus` (deployed: yes); `i32` → `String` (deployed: no) |
//! | `parameter_made_required` | yes | yes | `agent_id` now required |
//! | `parameter_made_optional` | no | no | `agent_id` now optional |
//! | `request_body_added` | when required | when required | `POST /tasks/{id}/reset` now takes a body |
//! | `request_body_removed` | yes | yes: the `body` setter disappears | |
//! | `request_body_retyped` | unless the new type accepts every old body (e.g. only renamed) | yes | `RunTaskRequest` → `RunRequest` |
//! | `request_body_made_required` | yes | yes | |
//! | `request_body_made_optional` | no | no | |
//! | `response_status_added` | no | no | `200` beside `201` |
//! | `response_status_removed` | no while another 2xx remains: any 2xx decodes as the success type; yes when none is left | the same | `201` → `200` (removed + added: neither) |
//! | `response_retyped` | unless the old type decodes every new body (e.g. only renamed) | yes | `Run` → `RunV2` |
//! | `webhook_added` | no | no | `webhook session.idle` appears |
//! | `webhook_removed` | yes: deployed receivers wait for events that never come | yes: its typed event disappears | `task_run.pending` removed |
//! | `webhook_retyped` (payload type changed) | unless the old payload type decodes every new payload | yes | `TaskRunEvent` → `RunEvent` |
//! | `type_added` | no | no | `WorkflowRunData` appears |
//! | `type_removed` | no: the places that used it change, and are reported | yes: the type disappears | `ApiKeyCheck` removed |
//! | `type_retyped` (struct → enum, …) | yes | yes | struct → open enum |
//! | `field_added` | when required in a request type | when required in a request type | new required `RunTaskRequest.mode` |
//! | `field_removed` | request: yes (the server ignores it); response: unless it was optional | yes: the field disappears | `TaskRun.workflow_id` (required, nullable) removed: both |
//! | `field_retyped` | response: unless the old type decodes every new value; request: unless the new type accepts every old value | yes | response `String` → open enum: source only; `String` → `i64`: both |
//! | `field_made_required` | request: yes (deployed clients omit it) | request: yes; response: when `Option<T>` → `T` | response `Option<T>` → `T`: source only |
//! | `field_made_optional` | response: yes (deployed clients fail to decode a body without it) | response: when `T` → `Option<T>` | response `T` → `Option<T>`: both; nullable → optional: deployed only |
//! | `field_made_nullable` | response: yes (deployed clients fail on `null`) | response: yes (`T` → `Option<T>`) | |
//! | `field_made_non_nullable` | request: yes (deployed clients may send `null`) | yes (`Option<T>` → `T`) | |
//! | `field_made_int_or_string` (a plain integer that may now be a numeric string) | response: yes (deployed clients reject `"123"`) | no: the same Rust integer | |
//! | `field_made_plain_int` (`[integer, string]` → `integer`) | no: deployed clients accept both | no | |
//! | `constraint_tightened` | request side: yes (a deployed client may send what the new spec refuses) | no | `maximum` 100 → 50, `minimum` raised, `maxLength`/`maxItems` lowered, `minLength`/`minItems` raised, `pattern` or `uniqueItems` added, `multipleOf` made stricter |
//! | `constraint_relaxed` | response side, when the old Rust type checks it while decoding (a constrained-string newtype): yes | no | `maxLength` 10 → 20 on a request field: neither |
//! | `constraint_changed` (`pattern`, `multipleOf` to an unrelated value) | request side: yes; response side: as `constraint_relaxed` | no | `pattern` `^a` → `^b` |
//! | `enum_value_added` | a closed enum in a response (every string enum in `deck` is open: unknown values decode into `Unknown(String)`) | no: generated enums are `#[non_exhaustive]` | run status `review_required` |
//! | `enum_value_removed` | request side: yes (deployed clients may still send it) | yes: the variant disappears | `cancelling` → `canceling` |
//!
//! Error statuses are not part of the surface: every error status decodes into `ErrorBody`.
//! Enum values allowed in a parameter or field are diffed on their enum type (`enum_value_*`),
//! not again as constraints.
//!
//! # Overlay findings
//!
//! Beside the changes, a report lists the overlay actions whose target matches nothing in the
//! new spec (*dangling*: what they typed falls back to Deck's plain shapes; `spec check` fails)
//! and the values of the new spec the overlay now replaces (*overrides* the old spec did not
//! have: the generated client follows the overlay there, Deck's server follows its spec).

mod report;
mod rules;
mod wire;

use crate::{Spec, SpecError};
use serde_json::{Value, json};

pub use report::{DanglingAction, Format, OverlayOverride, Report};
pub use rules::diff;

/// The rules in brief, for `--help`.
pub const RULES: &str = "\
Two verdicts per change:
  breaking         a deployed client, built from the old spec, misbehaves against a server that
                   follows the new one (a call fails, a body or payload no longer decodes, or the
                   server silently ignores what it sends)
  source-breaking  regenerating the client breaks code that uses it (it no longer compiles, or a
                   call fails in send() for a setter it never called)
\"Request side\" is a type reachable from a parameter or request body; \"response side\" one reachable
from a response body or a webhook payload; an unused type gets both rule sets.

Rules (breaking for deployed clients / source-breaking), with an example:
  operation_added              no / no
  operation_removed            yes / yes            GET /test removed
  operation_moved              yes / no             listTaskRuns: GET /task-runs -> GET /runs (only
                                                    path-parameter names changed: no / no)
  pagination_added             no / no
  pagination_removed           yes / yes            a list loses `cursor`
  page_size_lowered            yes / no             `limit` maximum 100 -> 50: deployed paginators
                                                    still ask for 100
  page_size_raised             no / no
  parameter_added              required / required  a new required `region`
  parameter_removed            yes / yes            a filter removed: the server ignores it
  parameter_renamed            yes / yes            starting_after -> cursor (a path parameter:
                                                    no / yes, its name is not on the wire)
  parameter_retyped            unless the new type accepts every old value / yes
                                                    String -> TaskStatus: yes / yes;
                                                    i32 -> String (query): no / yes
  parameter_made_required      yes / yes
  parameter_made_optional      no / no
  request_body_added           required / required
  request_body_removed         yes / yes
  request_body_retyped         unless the new type accepts every old body / yes
  request_body_made_required   yes / yes
  request_body_made_optional   no / no
  response_status_added        no / no
  response_status_removed      no / no while another 2xx remains (any 2xx decodes as the
                                                    success type; yes / yes when none is left):
                                                    201 -> 200 is neither
  response_retyped             unless the old type decodes every new body / yes
                                                    (a type only renamed: no / yes)
  webhook_added                no / no              webhook session.idle appears
  webhook_removed              yes / yes            deployed receivers wait for events that never come
  webhook_retyped              unless the old payload type decodes the new one / yes
  type_added                   no / no
  type_removed                 no / yes             where it was used is reported on its own
  type_retyped                 yes / yes            struct -> enum
  field_added                  required request field / required request field
  field_removed                request, or a response field that was not optional / yes
  field_retyped                unless the receiving side's type accepts every value / yes
                                                    response String -> open enum: no / yes
  field_made_required          request / request, or response Option<T> -> T
  field_made_optional          response / response T -> Option<T>
                                                    (response T -> Option<T>: yes / yes;
                                                    nullable -> optional: yes / no)
  field_made_nullable          response / response  T -> Option<T>
  field_made_non_nullable      request / yes        Option<T> -> T
  field_made_int_or_string     response / no        a plain integer that may now be \"123\"
  field_made_plain_int         no / no              [integer, string] -> integer
  constraint_tightened         request side / no    maximum 100 -> 50, minimum raised, maxLength or
                                                    maxItems lowered, minLength or minItems raised,
                                                    pattern or uniqueItems added
  constraint_relaxed           response side when the old type checks it on decode (a
                               constrained-string newtype) / no      maxLength 10 -> 20
  constraint_changed           request side, or as relaxed / no      pattern ^a -> ^b
  enum_value_added             closed enum in a response / no        open enums: no / no
  enum_value_removed           request side / yes   cancelling -> canceling
Error statuses are not part of the surface: every error status decodes into ErrorBody.
Also reported, not changes: overlay actions that match nothing in the new spec (spec check fails)
and values of the new spec the overlay now overrides.";

/// The two verdicts on a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    /// A client built from the old spec misbehaves against a server following the new one.
    pub breaking: bool,
    /// Regenerating the client breaks code that uses it.
    pub source_breaking: bool,
}

impl Verdict {
    /// Breaks nothing.
    pub const NEITHER: Verdict = Verdict::new(false, false);
    /// Breaks deployed clients and source.
    pub const BOTH: Verdict = Verdict::new(true, true);
    /// Breaks deployed clients only.
    pub const DEPLOYED: Verdict = Verdict::new(true, false);
    /// Breaks source only.
    pub const SOURCE: Verdict = Verdict::new(false, true);

    /// A verdict from its two halves.
    pub const fn new(breaking: bool, source_breaking: bool) -> Self {
        Verdict {
            breaking,
            source_breaking,
        }
    }
}

/// What kind of change (serialised as the snake_case name). Declaration order is report order
/// within one operation, webhook or type: removals first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// An operation is gone.
    OperationRemoved,
    /// A new operation (client method).
    OperationAdded,
    /// Same operationId, different HTTP method or path.
    OperationMoved,
    /// The operation no longer gets `Paginate`.
    PaginationRemoved,
    /// The operation now gets `Paginate`.
    PaginationAdded,
    /// The paginator's default page size went down.
    PageSizeLowered,
    /// The paginator's default page size went up.
    PageSizeRaised,
    /// A parameter was renamed (removed + added with the same location and type).
    ParameterRenamed,
    /// A parameter is gone.
    ParameterRemoved,
    /// A new parameter.
    ParameterAdded,
    /// A parameter's type changed.
    ParameterRetyped,
    /// A parameter became required.
    ParameterMadeRequired,
    /// A parameter became optional.
    ParameterMadeOptional,
    /// The operation no longer takes a body.
    RequestBodyRemoved,
    /// The operation now takes a body.
    RequestBodyAdded,
    /// The body's type changed.
    RequestBodyRetyped,
    /// The body became required.
    RequestBodyMadeRequired,
    /// The body became optional.
    RequestBodyMadeOptional,
    /// A response status is gone.
    ResponseStatusRemoved,
    /// A new response status.
    ResponseStatusAdded,
    /// The success body type changed.
    ResponseRetyped,
    /// A webhook is gone.
    WebhookRemoved,
    /// A new webhook.
    WebhookAdded,
    /// A webhook's payload type changed.
    WebhookRetyped,
    /// A type is gone.
    TypeRemoved,
    /// A new type.
    TypeAdded,
    /// A type changed what it is (struct → enum, …).
    TypeRetyped,
    /// A field is gone.
    FieldRemoved,
    /// A new field.
    FieldAdded,
    /// A field's type changed.
    FieldRetyped,
    /// A field became required.
    FieldMadeRequired,
    /// A field became optional.
    FieldMadeOptional,
    /// A field became nullable.
    FieldMadeNullable,
    /// A field is no longer nullable.
    FieldMadeNonNullable,
    /// A plain integer field may now arrive as a numeric string.
    FieldMadeIntOrString,
    /// An integer-or-numeric-string field is now a plain integer.
    FieldMadePlainInt,
    /// A validation keyword now allows less.
    ConstraintTightened,
    /// A validation keyword now allows more.
    ConstraintRelaxed,
    /// A validation keyword changed in a way that is neither (a different `pattern`).
    ConstraintChanged,
    /// An enum value is gone.
    EnumValueRemoved,
    /// A new enum value.
    EnumValueAdded,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [Kind] = &[
        Kind::OperationRemoved,
        Kind::OperationAdded,
        Kind::OperationMoved,
        Kind::PaginationRemoved,
        Kind::PaginationAdded,
        Kind::PageSizeLowered,
        Kind::PageSizeRaised,
        Kind::ParameterRenamed,
        Kind::ParameterRemoved,
        Kind::ParameterAdded,
        Kind::ParameterRetyped,
        Kind::ParameterMadeRequired,
        Kind::ParameterMadeOptional,
        Kind::RequestBodyRemoved,
        Kind::RequestBodyAdded,
        Kind::RequestBodyRetyped,
        Kind::RequestBodyMadeRequired,
        Kind::RequestBodyMadeOptional,
        Kind::ResponseStatusRemoved,
        Kind::ResponseStatusAdded,
        Kind::ResponseRetyped,
        Kind::WebhookRemoved,
        Kind::WebhookAdded,
        Kind::WebhookRetyped,
        Kind::TypeRemoved,
        Kind::TypeAdded,
        Kind::TypeRetyped,
        Kind::FieldRemoved,
        Kind::FieldAdded,
        Kind::FieldRetyped,
        Kind::FieldMadeRequired,
        Kind::FieldMadeOptional,
        Kind::FieldMadeNullable,
        Kind::FieldMadeNonNullable,
        Kind::FieldMadeIntOrString,
        Kind::FieldMadePlainInt,
        Kind::ConstraintTightened,
        Kind::ConstraintRelaxed,
        Kind::ConstraintChanged,
        Kind::EnumValueRemoved,
        Kind::EnumValueAdded,
    ];

    /// The name used in reports and JSON (`parameter_renamed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OperationAdded => "operation_added",
            Kind::OperationRemoved => "operation_removed",
            Kind::OperationMoved => "operation_moved",
            Kind::PaginationAdded => "pagination_added",
            Kind::PaginationRemoved => "pagination_removed",
            Kind::PageSizeLowered => "page_size_lowered",
            Kind::PageSizeRaised => "page_size_raised",
            Kind::ParameterRenamed => "parameter_renamed",
            Kind::ParameterRemoved => "parameter_removed",
            Kind::ParameterAdded => "parameter_added",
            Kind::ParameterRetyped => "parameter_retyped",
            Kind::ParameterMadeRequired => "parameter_made_required",
            Kind::ParameterMadeOptional => "parameter_made_optional",
            Kind::RequestBodyAdded => "request_body_added",
            Kind::RequestBodyRemoved => "request_body_removed",
            Kind::RequestBodyRetyped => "request_body_retyped",
            Kind::RequestBodyMadeRequired => "request_body_made_required",
            Kind::RequestBodyMadeOptional => "request_body_made_optional",
            Kind::ResponseStatusAdded => "response_status_added",
            Kind::ResponseStatusRemoved => "response_status_removed",
            Kind::ResponseRetyped => "response_retyped",
            Kind::WebhookAdded => "webhook_added",
            Kind::WebhookRemoved => "webhook_removed",
            Kind::WebhookRetyped => "webhook_retyped",
            Kind::TypeAdded => "type_added",
            Kind::TypeRemoved => "type_removed",
            Kind::TypeRetyped => "type_retyped",
            Kind::FieldAdded => "field_added",
            Kind::FieldRemoved => "field_removed",
            Kind::FieldRetyped => "field_retyped",
            Kind::FieldMadeRequired => "field_made_required",
            Kind::FieldMadeOptional => "field_made_optional",
            Kind::FieldMadeNullable => "field_made_nullable",
            Kind::FieldMadeNonNullable => "field_made_non_nullable",
            Kind::FieldMadeIntOrString => "field_made_int_or_string",
            Kind::FieldMadePlainInt => "field_made_plain_int",
            Kind::ConstraintTightened => "constraint_tightened",
            Kind::ConstraintRelaxed => "constraint_relaxed",
            Kind::ConstraintChanged => "constraint_changed",
            Kind::EnumValueAdded => "enum_value_added",
            Kind::EnumValueRemoved => "enum_value_removed",
        }
    }
}

/// One change, as reported.
///
/// JSON form (every key always present, `null` when it does not apply):
/// `{"kind", "operation", "webhook", "type", "field", "param", "value", "breaking",
/// "source_breaking", "detail"}`, where `operation` is the Rust method name, `webhook` the
/// webhook (event) name, `type` the generated type, `param` the parameter's (old) name, and
/// `value` the enum value, the response status, a renamed parameter's new name, or the
/// constraint keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changed.
    pub kind: Kind,
    /// The client method (`list_task_runs`), for operation-level changes.
    pub operation: Option<String>,
    /// The webhook (`task_run.completed`), for webhook-level changes.
    pub webhook: Option<String>,
    /// The generated type (`TaskRun`), for type-level changes.
    pub type_name: Option<String>,
    /// The field's wire name.
    pub field: Option<String>,
    /// The parameter's wire name (the old one for a rename).
    pub param: Option<String>,
    /// Enum value, response status, a renamed parameter's new name, or a constraint keyword.
    pub value: Option<String>,
    /// Breaks deployed clients (built from the old spec, talking to a server following the new).
    pub breaking: bool,
    /// Breaks code that uses the client once it is regenerated.
    pub source_breaking: bool,
    /// A sentence for humans.
    pub detail: String,
}

impl Change {
    fn new(kind: Kind, verdict: Verdict, detail: String) -> Self {
        Change {
            kind,
            operation: None,
            webhook: None,
            type_name: None,
            field: None,
            param: None,
            value: None,
            breaking: verdict.breaking,
            source_breaking: verdict.source_breaking,
            detail,
        }
    }

    fn op(kind: Kind, operation: &str, verdict: Verdict, detail: String) -> Self {
        Change {
            operation: Some(operation.to_string()),
            ..Change::new(kind, verdict, detail)
        }
    }

    fn hook(kind: Kind, webhook: &str, verdict: Verdict, detail: String) -> Self {
        Change {
            webhook: Some(webhook.to_string()),
            ..Change::new(kind, verdict, detail)
        }
    }

    fn ty(kind: Kind, type_name: &str, verdict: Verdict, detail: String) -> Self {
        Change {
            type_name: Some(type_name.to_string()),
            ..Change::new(kind, verdict, detail)
        }
    }

    fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }

    fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }

    fn with_value(mut self, value: &str) -> Self {
        self.value = Some(value.to_string());
        self
    }

    /// Both verdicts.
    pub fn verdict(&self) -> Verdict {
        Verdict::new(self.breaking, self.source_breaking)
    }

    /// Where the change is: `list_task_runs`, `list_task_runs(cursor)`, `webhook
    /// task_run.completed`, `TaskRun.url`.
    pub fn location(&self) -> String {
        match (&self.operation, &self.webhook, &self.type_name) {
            (Some(op), _, _) => match &self.param {
                Some(p) => format!("{op}({p})"),
                None => op.clone(),
            },
            (None, Some(hook), _) => format!("webhook {hook}"),
            (None, None, Some(ty)) => match &self.field {
                Some(f) => format!("{ty}.{f}"),
                None => ty.clone(),
            },
            (None, None, None) => String::new(),
        }
    }

    /// The JSON object of this change (stable keys, see the type docs).
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.as_str(),
            "operation": self.operation,
            "webhook": self.webhook,
            "type": self.type_name,
            "field": self.field,
            "param": self.param,
            "value": self.value,
            "breaking": self.breaking,
            "source_breaking": self.source_breaking,
            "detail": self.detail,
        })
    }

    /// `breaking for deployed clients, source-breaking` / `…` / `not breaking`.
    pub fn verdict_text(&self) -> &'static str {
        match (self.breaking, self.source_breaking) {
            (true, true) => "breaking for deployed clients, source-breaking",
            (true, false) => "breaking for deployed clients",
            (false, true) => "source-breaking",
            (false, false) => "not breaking",
        }
    }

    fn sort_key(&self) -> (u8, String, Kind, String, String) {
        let (scope, name) = match (&self.operation, &self.webhook, &self.type_name) {
            (Some(op), _, _) => (0, op.clone()),
            (None, Some(hook), _) => (1, hook.clone()),
            (None, None, Some(ty)) => (2, ty.clone()),
            (None, None, None) => (3, String::new()),
        };
        let member = self
            .param
            .clone()
            .or_else(|| self.field.clone())
            .unwrap_or_default();
        (
            scope,
            name,
            self.kind,
            member,
            self.value.clone().unwrap_or_default(),
        )
    }
}

/// Generates both specs and compares their surfaces, with the overlay findings of `new`.
pub fn diff_specs(old: &Spec, new: &Spec) -> Result<Report, SpecError> {
    let old_surface = crate::generate(old)?.surface;
    let new_surface = crate::generate(new)?.surface;
    let mut report = diff(&old_surface, &new_surface)
        .with_overlay(&old.overlay, &new.overlay)
        .with_notes(&old.notes, &new.notes);
    report.contract = crate::contract::check(&new_surface)
        .err()
        .map(|e| e.to_string());
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::report::markdown_text;
    use super::*;
    use crate::overlay;

    #[test]
    fn markdown_cells_escape_html_outside_code() {
        assert_eq!(
            markdown_text("field `a|b` (Option<String>) & more"),
            "field `a\\|b` (Option&lt;String&gt;) &amp; more"
        );
    }

    #[test]
    fn every_kind_is_documented_with_both_verdicts() {
        let module_docs = include_str!("diff.rs");
        let contributing = include_str!("../../CONTRIBUTING.md");
        for kind in Kind::ALL {
            let name = kind.as_str();
            assert!(
                module_docs.contains(&format!("//! | `{name}`")),
                "`{name}` has no row in the rules table of diff.rs"
            );
            assert!(
                RULES.contains(&format!("  {name} ")),
                "`{name}` is missing from RULES (--help)"
            );
            assert!(
                contributing.contains(&format!("| `{name}`")),
                "`{name}` has no row in CONTRIBUTING.md"
            );
        }
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
    }

    fn change(breaking: bool, source: bool) -> Change {
        Change::ty(
            Kind::FieldRemoved,
            "T",
            Verdict::new(breaking, source),
            "field `f` (Option<String>) removed".into(),
        )
        .with_field("f")
    }

    #[test]
    fn reports_show_both_verdicts_in_every_format() {
        let report = Report {
            changes: vec![change(true, true), change(true, false), change(false, true)],
            dangling_overlay_actions: vec![DanglingAction {
                index: 3,
                target: "$.a".into(),
                description: Some("d".into()),
                skipped: None,
            }],
            overlay_overrides: vec![],
            contract: Some("type `Screenshot` (used by src/runs.rs) is gone from the spec".into()),
            normaliser_notes: Vec::new(),
        };
        let json = report.to_json();
        assert_eq!(
            (&json["breaking"], &json["source_breaking"], &json["total"]),
            (&json!(2), &json!(2), &json!(3))
        );
        assert_eq!(json["changes"][1]["source_breaking"], false);
        assert_eq!(json["dangling_overlay_actions"][0]["index"], 3);
        assert!(json["contract"].as_str().unwrap().contains("Screenshot"));
        assert!(
            report
                .to_markdown()
                .contains("cannot be regenerated from the new spec")
        );
        assert!(
            report
                .to_text()
                .contains("Regenerating deck-api from the new spec stops: type `Screenshot`")
        );

        let text = report.to_text();
        assert!(
            text.contains("3 change(s) to the generated API: 2 breaking for deployed clients, 2 source-breaking"),
            "{text}"
        );
        assert!(text.contains("  BREAKING  ok        T.f: field"), "{text}");
        assert!(text.contains("  ok        BREAKING  T.f: field"), "{text}");
        assert!(text.contains("overlay action 3 matches nothing"), "{text}");

        let md = report.to_markdown();
        assert!(md.contains("### Breaking for deployed clients"), "{md}");
        assert!(md.contains("### Source-breaking only"), "{md}");
        assert!(!md.contains("### Not breaking"), "{md}");
        assert!(
            md.contains("| `field_removed` | `T.f` | **breaking** | ok |"),
            "{md}"
        );
        assert!(md.contains("- action 3, target `$.a`: d"), "{md}");
    }

    #[test]
    fn normaliser_notes_new_to_the_new_spec_are_reported() {
        let old = vec!["kept note".to_string()];
        let new = vec!["kept note".to_string(), "webhook `a.b`: kept".to_string()];
        let report = Report::default().with_notes(&old, &new);
        assert_eq!(report.normaliser_notes, ["webhook `a.b`: kept"]);
        assert!(!report.is_empty());
        assert!(
            report
                .to_text()
                .contains("Normaliser notes on the new spec:\n  webhook `a.b`: kept")
        );
        assert!(report.to_markdown().contains("- webhook `a.b`: kept"));
        assert_eq!(
            report.to_json()["normaliser_notes"],
            json!(["webhook `a.b`: kept"])
        );
        assert!(Report::default().with_notes(&new, &old).is_empty());
    }

    #[test]
    fn overlay_findings_keep_only_new_overrides() {
        let action = |overrides: Vec<overlay::Override>, matched| overlay::ActionReport {
            index: 8,
            target: "$.x".into(),
            description: None,
            matched,
            overrides,
            skipped: None,
            covered: false,
        };
        let o = |spec: i64| overlay::Override {
            pointer: "/a/maximum".into(),
            spec: json!(spec),
            overlay: json!(100),
        };
        let old = overlay::Report {
            actions: vec![action(vec![o(100 - 1)], 1)],
        };
        let new = overlay::Report {
            actions: vec![action(vec![o(99), o(50)], 1), action(vec![], 0)],
        };
        let report = Report::default().with_overlay(&old, &new);
        assert_eq!(report.overlay_overrides.len(), 1);
        assert_eq!(report.overlay_overrides[0].spec, json!(50));
        assert_eq!(report.dangling_overlay_actions.len(), 1);
        assert!(!report.is_empty());
        assert!(
            report
                .to_text()
                .contains("No changes to the generated API.")
        );
        assert!(
            report.to_text().contains("50 → 100"),
            "{}",
            report.to_text()
        );
    }
}
