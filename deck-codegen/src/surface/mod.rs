//! The public surface of the generated client, as data: what `openapi/surface.txt` prints and
//! what `spec diff` compares.
//!
//! It is read from what the generator produced, not re-derived: Rust names and types come from
//! the generated syntax tree (after post-processing), wire facts (HTTP method, path, success
//! statuses, parameter locations, constraints, webhooks) from the document the generator was
//! given. The two are joined by `postprocess::key`, so no naming rule of progenitor's or
//! typify's is repeated here.

mod read;
mod render;

pub use read::read;

use std::collections::{BTreeMap, BTreeSet};

/// The whole public surface of one generated client.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Surface {
    /// `info.version` of the spec.
    pub spec_version: String,
    /// Operations by client method name (`list_task_runs`).
    pub operations: BTreeMap<String, Operation>,
    /// Generated types by Rust name (`TaskRun`).
    pub types: BTreeMap<String, TypeDef>,
    /// Webhooks (the spec's top-level `webhooks`, `x-webhooks` once normalised) by name: the
    /// event type, e.g. `task_run.completed`.
    pub webhooks: BTreeMap<String, Webhook>,
}

/// One webhook: an event Deck POSTs to a destination.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The payload's Rust type (the generated type of the `requestBody` schema; the payload
    /// counts as received, like a response body).
    pub payload: String,
    /// The Rust type of the payload's `data`, when the webhook narrows it (`allOf` the event
    /// envelope plus `properties.data`): what `EventData` decodes for this event type.
    pub data: Option<String>,
}

/// One operation: one method on `deck::Client`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The spec's `operationId` (`listTaskRuns`).
    pub operation_id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template, e.g. `/task-runs/{run_id}`.
    pub path: String,
    /// Parameters (builder setters), by Rust name.
    pub params: BTreeMap<String, Param>,
    /// The request body, if any.
    pub body: Option<Body>,
    /// The Rust type `send()` returns on success.
    pub response: String,
    /// The success statuses the spec declares (`200`, `201`); any 2xx decodes as `response`.
    pub success_statuses: Vec<String>,
    /// The paginator, for list operations.
    pub pagination: Option<Pagination>,
}

/// One parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Position among the operation's parameters in the spec (renames pair in this order).
    pub position: usize,
    /// Name on the wire.
    pub wire: String,
    /// `path`, `query` or `header`.
    pub location: String,
    /// The Rust type the setter takes (`TryInto` of it).
    pub ty: String,
    /// Whether `send()` fails without it.
    pub required: bool,
    /// What the spec allows.
    pub constraints: Constraints,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// The Rust type.
    pub ty: String,
    /// `requestBody.required`.
    pub required: bool,
}

/// The paginator of a list operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Pagination {
    /// The item type.
    pub item: String,
    /// The page size the paginator asks for unless told otherwise.
    pub page_size: u32,
}

/// Validation keywords of a schema that a server enforces on requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// `minimum` (inclusive unless `exclusive_minimum`).
    pub minimum: Option<f64>,
    /// `exclusiveMinimum: true`.
    pub exclusive_minimum: bool,
    /// `maximum` (inclusive unless `exclusive_maximum`).
    pub maximum: Option<f64>,
    /// `exclusiveMaximum: true`.
    pub exclusive_maximum: bool,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `uniqueItems: true`.
    pub unique_items: bool,
    /// `multipleOf`.
    pub multiple_of: Option<f64>,
    /// Allowed values, for enums (the type's values) — sorted. Not rendered and not diffed as a
    /// constraint: the values are the enum type's, and the type rules report them.
    pub values: Option<BTreeSet<String>>,
}

impl Constraints {
    /// Whether no keyword is set.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
}

/// Whether a struct field must be present, may be null, or may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Present and not null: `T`.
    Required,
    /// Present, possibly null: `Option<T>`, missing is an error.
    RequiredNullable,
    /// May be missing: `Option<T>` (missing or null), or a type with a default (`Vec<T>` with
    /// `#[serde(default)]`: missing decodes as empty).
    Optional,
}

/// One struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The Rust field name.
    pub name: String,
    /// The Rust type, `Option` included.
    pub ty: String,
    /// Presence rules.
    pub presence: Presence,
    /// Decoded from a number or a numeric string (Deck's ASP.NET integers).
    pub int_or_string: bool,
    /// Shown as `** redacted **` in `Debug` (the overlay's `x-deck-secret`).
    pub secret: bool,
    /// What the spec allows (enforced by the server on requests).
    pub constraints: Constraints,
}

/// One value of an open enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue {
    /// The Rust variant.
    pub variant: String,
    /// Other spellings decoded into it.
    pub aliases: Vec<String>,
}

/// What a generated type is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A struct, fields by wire name.
    Struct(BTreeMap<String, Field>),
    /// An enum that keeps unknown values, values by wire name.
    OpenEnum(BTreeMap<String, EnumValue>),
    /// Any other enum: variants with their payload, rendered.
    Enum(Vec<String>),
    /// A tuple struct around one type.
    Newtype(String),
    /// A type alias.
    Alias(String),
}

impl Kind {
    /// `struct`, `open enum`, `enum`, `newtype(T)` or `= T`.
    pub fn describe(&self) -> String {
        match self {
            Kind::Struct(_) => "struct".into(),
            Kind::OpenEnum(_) => "open enum".into(),
            Kind::Enum(_) => "enum".into(),
            Kind::Newtype(t) => format!("newtype({t})"),
            Kind::Alias(t) => format!("= {t}"),
        }
    }
}

/// Where a type is reachable from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Reachable from a parameter or request body.
    pub request: bool,
    /// Reachable from a response body (errors included).
    pub response: bool,
}

impl Usage {
    /// Combines the usage of a type in two versions of the spec.
    pub fn union(self, other: Usage) -> Usage {
        Usage {
            request: self.request || other.request,
            response: self.response || other.response,
        }
    }

    /// Rules for responses apply: used in a response, or not used at all (conservative).
    pub fn in_response(self) -> bool {
        self.response || !self.request
    }

    /// Rules for requests apply: used in a request, or not used at all (conservative).
    pub fn in_request(self) -> bool {
        self.request || !self.response
    }

    /// `request`, `response`, `request and response` or `unused`.
    pub fn describe(self) -> &'static str {
        match (self.request, self.response) {
            (true, true) => "request and response",
            (true, false) => "request",
            (false, true) => "response",
            (false, false) => "unused",
        }
    }
}

/// One generated type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// What it is.
    pub kind: Kind,
    /// The name Deck's spec gives it, when the overlay renamed it.
    pub deck_name: Option<String>,
    /// Where it travels.
    pub usage: Usage,
}
