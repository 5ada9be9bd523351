//! `spec diff`: what changed for a Rust user of `deck` between two specs, and whether it breaks
//! their code.
//!
//! Both specs are normalised first (`src/normalize.rs`), then modelled ([`crate::model`]), so the
//! diff sees types the way the generated code spells them: `type: [string, null]` and
//! `anyOf: [string, null]` are the same `Option<String>`, while `[integer, string]` (`wire::Int64`)
//! and `integer` (`i64`) are different.
//!
//! # Breaking rules
//!
//! A change is *breaking* when code written against the old client may stop compiling, or a call
//! that used to work may now fail. "Response" means the type is reachable from any response body
//! (errors included); "request" means reachable from a parameter or request body; a type used in
//! both gets both rule sets, and an unused type is treated as both.
//!
//! | kind | breaking when |
//! |---|---|
//! | `operation_added` | never |
//! | `operation_removed` | always (the method disappears) |
//! | `operation_moved` (same operationId, new method/path) | never (the method keeps its name) |
//! | `pagination_added` | never |
//! | `pagination_removed` | always (`Paginate` is no longer implemented) |
//! | `parameter_added` | the parameter is required |
//! | `parameter_removed` | always (the setter disappears) |
//! | `parameter_renamed` (removed + added, same location and type) | always |
//! | `parameter_retyped` | always |
//! | `parameter_made_required` | always |
//! | `parameter_made_optional` | never |
//! | `request_body_added` | the body is required |
//! | `request_body_removed`, `request_body_retyped`, `request_body_made_required` | always |
//! | `request_body_made_optional` | never |
//! | `response_status_added` | never |
//! | `response_status_removed` | the status is a success (2xx) |
//! | `response_retyped` | the status is a success (errors all decode into `ErrorBody`) |
//! | `type_added` | never |
//! | `type_removed`, `type_retyped` (e.g. struct → enum) | always |
//! | `field_added` | the field is required and the type is used in requests |
//! | `field_removed`, `field_retyped` | always |
//! | `field_made_required` | request: always; response: when not nullable (`Option<T>` → `T`) |
//! | `field_made_optional` | response: when not nullable (`T` → `Option<T>`); request: never |
//! | `field_made_nullable` | response: when required (`T` → `Option<T>`); request: never |
//! | `field_made_non_nullable` | when required (response: `Option<T>` → `T`; request: `None` no longer accepted) |
//! | `enum_value_added` | never for open enums (every string enum in this crate is open: unknown values decode into `Unknown(String)`); for a closed enum, when used in responses |
//! | `enum_value_removed` | always (the variant disappears) |

use crate::model::{Api, Field, Operation, Param, TypeDef, Usage};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The breaking rules in brief, for `--help`.
pub const RULES: &str = "\
Breaking rules (computed on the normalised specs, i.e. on the Rust types users see):
  breaking:     operation removed; pagination removed; parameter removed, renamed or retyped;
                parameter made required or a new required parameter; request body removed,
                retyped or made required (or a new required body); success (2xx) status removed
                or its body retyped; type removed or retyped; field removed or retyped;
                response field made optional or nullable (T -> Option<T>) or made required /
                non-nullable (Option<T> -> T); request field made required or non-nullable, or a
                new required request field; enum value removed.
  not breaking: new operation, type, optional parameter or field; new response field; parameter
                or request field made optional/nullable; error status added/removed; new enum
                value (every string enum in deck is open: unknown values decode into
                `Unknown(String)`); operation moved to a new path (same method name).";

/// What kind of change (serialised as the snake_case name). Declaration order is report order
/// within one operation or type: removals first.
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
    /// A response status's body type changed.
    ResponseRetyped,
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
    /// An enum value is gone.
    EnumValueRemoved,
    /// A new enum value.
    EnumValueAdded,
}

impl Kind {
    /// The name used in reports and JSON (`parameter_renamed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OperationAdded => "operation_added",
            Kind::OperationRemoved => "operation_removed",
            Kind::OperationMoved => "operation_moved",
            Kind::PaginationAdded => "pagination_added",
            Kind::PaginationRemoved => "pagination_removed",
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
            Kind::EnumValueAdded => "enum_value_added",
            Kind::EnumValueRemoved => "enum_value_removed",
        }
    }
}

/// One change, as reported.
///
/// JSON form (every key always present, `null` when it does not apply):
/// `{"kind", "operation", "type", "field", "param", "value", "breaking", "detail"}`, where
/// `operation` is the Rust method name, `type` the generated type, `param` the parameter's (old)
/// name, and `value` the enum value, the response status, or a renamed parameter's new name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changed.
    pub kind: Kind,
    /// The client method (`list_task_runs`), for operation-level changes.
    pub operation: Option<String>,
    /// The generated type (`GetTaskRunResponse`), for type-level changes.
    pub type_name: Option<String>,
    /// The field's wire name.
    pub field: Option<String>,
    /// The parameter's wire name (the old one for a rename).
    pub param: Option<String>,
    /// Enum value, response status, or a renamed parameter's new name.
    pub value: Option<String>,
    /// Whether the change breaks client code (see the module docs for the rules).
    pub breaking: bool,
    /// A sentence for humans.
    pub detail: String,
}

impl Change {
    fn op(kind: Kind, operation: &str, breaking: bool, detail: String) -> Self {
        Change {
            kind,
            operation: Some(operation.to_string()),
            type_name: None,
            field: None,
            param: None,
            value: None,
            breaking,
            detail,
        }
    }

    fn ty(kind: Kind, type_name: &str, breaking: bool, detail: String) -> Self {
        Change {
            kind,
            operation: None,
            type_name: Some(type_name.to_string()),
            field: None,
            param: None,
            value: None,
            breaking,
            detail,
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

    /// Where the change is: `list_task_runs`, `list_task_runs(cursor)`, `GetTaskRunResponse.url`.
    pub fn location(&self) -> String {
        match (&self.operation, &self.type_name) {
            (Some(op), _) => match &self.param {
                Some(p) => format!("{op}({p})"),
                None => op.clone(),
            },
            (None, Some(ty)) => match &self.field {
                Some(f) => format!("{ty}.{f}"),
                None => ty.clone(),
            },
            (None, None) => String::new(),
        }
    }

    /// The JSON object of this change (stable keys, see the type docs).
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.as_str(),
            "operation": self.operation,
            "type": self.type_name,
            "field": self.field,
            "param": self.param,
            "value": self.value,
            "breaking": self.breaking,
            "detail": self.detail,
        })
    }

    fn sort_key(&self) -> (u8, String, Kind, String, String) {
        let (scope, name) = match (&self.operation, &self.type_name) {
            (Some(op), _) => (0, op.clone()),
            (None, Some(ty)) => (1, ty.clone()),
            (None, None) => (2, String::new()),
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

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text, one change a line.
    Text,
    /// Markdown, for a PR body or an issue.
    Markdown,
    /// `{"changes":[…],"breaking":n,"total":n}`.
    Json,
}

/// A list of changes, sorted (operations by name, then types by name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The changes.
    pub changes: Vec<Change>,
}

impl Report {
    /// How many changes are breaking.
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }

    /// The stable JSON form: `{"changes":[…],"breaking":n,"total":n}`.
    pub fn to_json(&self) -> Value {
        json!({
            "changes": self.changes.iter().map(Change::to_json).collect::<Vec<_>>(),
            "breaking": self.breaking(),
            "total": self.changes.len(),
        })
    }

    /// One line per change, breaking ones marked.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.changes.is_empty() {
            out.push_str("No changes to the generated API.\n");
            return out;
        }
        let _ = writeln!(
            out,
            "{} change(s) to the generated API, {} breaking:",
            self.changes.len(),
            self.breaking()
        );
        for c in &self.changes {
            let mark = if c.breaking { "BREAKING" } else { "ok      " };
            let _ = writeln!(out, "  {mark}  {}: {}", c.location(), c.detail);
        }
        out
    }

    /// A Markdown section: a summary line and one table per class (breaking first).
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        if self.changes.is_empty() {
            out.push_str("No changes to the generated API.\n");
            return out;
        }
        let _ = writeln!(
            out,
            "**{} change(s) to the generated API, {} breaking.**\n",
            self.changes.len(),
            self.breaking()
        );
        for (title, breaking) in [("Breaking", true), ("Not breaking", false)] {
            let rows: Vec<&Change> = self
                .changes
                .iter()
                .filter(|c| c.breaking == breaking)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {title}\n");
            out.push_str("| Change | Where | Detail |\n|---|---|---|\n");
            for c in rows {
                let _ = writeln!(
                    out,
                    "| `{}` | `{}` | {} |",
                    c.kind.as_str(),
                    c.location(),
                    markdown_text(&c.detail)
                );
            }
            out.push('\n');
        }
        out
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.to_text(),
            Format::Markdown => self.to_markdown(),
            Format::Json => {
                let mut s = serde_json::to_string_pretty(&self.to_json())
                    .unwrap_or_else(|_| self.to_json().to_string());
                s.push('\n');
                s
            }
        }
    }
}

/// Escapes text for a Markdown table cell: `|` everywhere, `<`, `>` and `&` outside code spans
/// (so `Option<String>` is not taken for an HTML tag).
fn markdown_text(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            let part = part.replace('|', "\\|");
            if i % 2 == 1 {
                part
            } else {
                part.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// Compares two modelled specs.
pub fn diff(old: &Api, new: &Api) -> Report {
    let mut changes = Vec::new();
    for (name, op) in &old.operations {
        match new.operations.get(name) {
            None => changes.push(Change::op(
                Kind::OperationRemoved,
                name,
                true,
                format!(
                    "operation `{}` ({} {}) removed",
                    op.operation_id, op.method, op.path
                ),
            )),
            Some(new_op) => diff_operation(name, op, new_op, &mut changes),
        }
    }
    for (name, op) in &new.operations {
        if !old.operations.contains_key(name) {
            changes.push(Change::op(
                Kind::OperationAdded,
                name,
                false,
                format!(
                    "new operation `{}` ({} {})",
                    op.operation_id, op.method, op.path
                ),
            ));
        }
    }
    for (name, def) in &old.types {
        match new.types.get(name) {
            None => changes.push(Change::ty(
                Kind::TypeRemoved,
                name,
                true,
                format!(
                    "type removed (was {}, used in {})",
                    def.kind,
                    def.usage.describe()
                ),
            )),
            Some(new_def) => diff_type(name, def, new_def, &mut changes),
        }
    }
    for (name, def) in &new.types {
        if !old.types.contains_key(name) {
            changes.push(Change::ty(
                Kind::TypeAdded,
                name,
                false,
                format!("new type ({}, used in {})", def.kind, def.usage.describe()),
            ));
        }
    }
    changes.sort_by_key(Change::sort_key);
    Report { changes }
}

fn describe_param(p: &Param) -> String {
    format!(
        "{} parameter `{}` ({}, {})",
        p.location,
        p.name,
        p.ty,
        if p.required { "required" } else { "optional" }
    )
}

fn diff_operation(name: &str, old: &Operation, new: &Operation, out: &mut Vec<Change>) {
    if old.method != new.method || old.path != new.path {
        out.push(Change::op(
            Kind::OperationMoved,
            name,
            false,
            format!(
                "now {} {} (was {} {})",
                new.method, new.path, old.method, old.path
            ),
        ));
    }
    match (old.paginated, new.paginated) {
        (false, true) => out.push(Change::op(
            Kind::PaginationAdded,
            name,
            false,
            "now implements `Paginate` (cursor pagination helpers)".into(),
        )),
        (true, false) => out.push(Change::op(
            Kind::PaginationRemoved,
            name,
            true,
            "no longer implements `Paginate` (no `cursor` parameter or no Deck page response)"
                .into(),
        )),
        _ => {}
    }

    let key = |p: &Param| (p.location.clone(), p.name.clone());
    let old_keys: BTreeSet<_> = old.params.iter().map(key).collect();
    let new_keys: BTreeSet<_> = new.params.iter().map(key).collect();
    let mut removed: Vec<&Param> = old
        .params
        .iter()
        .filter(|p| !new_keys.contains(&key(p)))
        .collect();
    let mut added: Vec<&Param> = new
        .params
        .iter()
        .filter(|p| !old_keys.contains(&key(p)))
        .collect();
    // A removed and an added parameter with the same location and type: a rename. Pairs are
    // taken in spec order, so `starting_after` + `ending_before` → `cursor` pairs the first.
    let mut renames = Vec::new();
    removed.retain(|r| {
        match added
            .iter()
            .position(|a| a.location == r.location && a.ty == r.ty)
        {
            Some(i) => {
                renames.push((*r, added.remove(i)));
                false
            }
            None => true,
        }
    });
    for (r, a) in renames {
        let required = if a.required && !r.required {
            ", and it is now required"
        } else {
            ""
        };
        out.push(
            Change::op(
                Kind::ParameterRenamed,
                name,
                true,
                format!(
                    "{} renamed to `{}`{required}: the `.{}(…)` setter is gone",
                    describe_param(r),
                    a.name,
                    rust_ident(&r.name)
                ),
            )
            .with_param(&r.name)
            .with_value(&a.name),
        );
    }
    for r in removed {
        out.push(
            Change::op(
                Kind::ParameterRemoved,
                name,
                true,
                format!("{} removed", describe_param(r)),
            )
            .with_param(&r.name),
        );
    }
    for a in added {
        out.push(
            Change::op(
                Kind::ParameterAdded,
                name,
                a.required,
                format!("new {}", describe_param(a)),
            )
            .with_param(&a.name),
        );
    }
    for o in &old.params {
        let Some(n) = new.params.iter().find(|n| key(n) == key(o)) else {
            continue;
        };
        if o.ty != n.ty {
            out.push(
                Change::op(
                    Kind::ParameterRetyped,
                    name,
                    true,
                    format!(
                        "{} parameter `{}` changed type: {} → {}",
                        o.location, o.name, o.ty, n.ty
                    ),
                )
                .with_param(&o.name),
            );
        }
        if o.required != n.required {
            let (kind, breaking, what) = if n.required {
                (Kind::ParameterMadeRequired, true, "is now required")
            } else {
                (Kind::ParameterMadeOptional, false, "is now optional")
            };
            out.push(
                Change::op(
                    kind,
                    name,
                    breaking,
                    format!("{} parameter `{}` {what}", o.location, o.name),
                )
                .with_param(&o.name),
            );
        }
    }

    match (&old.body, &new.body) {
        (None, Some(b)) => out.push(Change::op(
            Kind::RequestBodyAdded,
            name,
            b.required,
            format!(
                "now takes a {} request body of type {}",
                if b.required { "required" } else { "optional" },
                b.ty
            ),
        )),
        (Some(b), None) => out.push(Change::op(
            Kind::RequestBodyRemoved,
            name,
            true,
            format!("no longer takes a request body (was {})", b.ty),
        )),
        (Some(o), Some(n)) => {
            if o.ty != n.ty {
                out.push(Change::op(
                    Kind::RequestBodyRetyped,
                    name,
                    true,
                    format!("request body type changed: {} → {}", o.ty, n.ty),
                ));
            }
            if o.required != n.required {
                out.push(if n.required {
                    Change::op(
                        Kind::RequestBodyMadeRequired,
                        name,
                        true,
                        "request body is now required".into(),
                    )
                } else {
                    Change::op(
                        Kind::RequestBodyMadeOptional,
                        name,
                        false,
                        "request body is now optional".into(),
                    )
                });
            }
        }
        (None, None) => {}
    }

    let show = |ty: &Option<String>| ty.clone().unwrap_or_else(|| "no body".into());
    for (status, ty) in &old.responses {
        let success = status.starts_with('2');
        match new.responses.get(status) {
            None => out.push(
                Change::op(
                    Kind::ResponseStatusRemoved,
                    name,
                    success,
                    format!(
                        "{} response {status} ({}) removed",
                        if success { "success" } else { "error" },
                        show(ty)
                    ),
                )
                .with_value(status),
            ),
            Some(new_ty) if new_ty != ty => out.push(
                Change::op(
                    Kind::ResponseRetyped,
                    name,
                    success,
                    format!(
                        "response {status} body changed: {} → {}",
                        show(ty),
                        show(new_ty)
                    ),
                )
                .with_value(status),
            ),
            Some(_) => {}
        }
    }
    for (status, ty) in &new.responses {
        if !old.responses.contains_key(status) {
            out.push(
                Change::op(
                    Kind::ResponseStatusAdded,
                    name,
                    false,
                    format!("new response {status} ({})", show(ty)),
                )
                .with_value(status),
            );
        }
    }
}

fn diff_type(name: &str, old: &TypeDef, new: &TypeDef, out: &mut Vec<Change>) {
    let usage = old.usage.union(new.usage);
    if old.kind != new.kind {
        out.push(Change::ty(
            Kind::TypeRetyped,
            name,
            true,
            format!("changed from {} to {}", old.kind, new.kind),
        ));
        return;
    }
    for (field, o) in &old.fields {
        match new.fields.get(field) {
            None => out.push(
                Change::ty(
                    Kind::FieldRemoved,
                    name,
                    true,
                    format!(
                        "field `{field}` ({}) removed (type used in {})",
                        o.rust_type(),
                        usage.describe()
                    ),
                )
                .with_field(field),
            ),
            Some(n) => diff_field(name, field, o, n, usage, out),
        }
    }
    for (field, n) in &new.fields {
        if old.fields.contains_key(field) {
            continue;
        }
        let breaking = n.required && usage.in_request();
        let why = if breaking {
            "required in a request type: callers must now set it"
        } else if n.required {
            "required, response only"
        } else {
            "optional"
        };
        out.push(
            Change::ty(
                Kind::FieldAdded,
                name,
                breaking,
                format!("new field `{field}` ({}; {why})", n.rust_type()),
            )
            .with_field(field),
        );
    }
    for value in &old.values {
        if !new.values.contains(value) {
            out.push(
                Change::ty(
                    Kind::EnumValueRemoved,
                    name,
                    true,
                    format!("enum value `{value}` removed (its variant disappears)"),
                )
                .with_value(value),
            );
        }
    }
    for value in &new.values {
        if !old.values.contains(value) {
            let open = old.open && new.open;
            let breaking = !open && usage.in_response();
            let why = if open {
                "open enum: older clients decode it as `Unknown`"
            } else if breaking {
                "closed enum in a response: older clients fail to decode it"
            } else {
                "request only"
            };
            out.push(
                Change::ty(
                    Kind::EnumValueAdded,
                    name,
                    breaking,
                    format!("new enum value `{value}` ({why})"),
                )
                .with_value(value),
            );
        }
    }
}

fn diff_field(name: &str, field: &str, o: &Field, n: &Field, usage: Usage, out: &mut Vec<Change>) {
    let (resp, req) = (usage.in_response(), usage.in_request());
    let change =
        |kind, breaking, detail: String| Change::ty(kind, name, breaking, detail).with_field(field);
    if o.ty != n.ty {
        out.push(change(
            Kind::FieldRetyped,
            true,
            format!(
                "field `{field}` changed type: {} → {}",
                o.rust_type(),
                n.rust_type()
            ),
        ));
    }
    let was = o.rust_type();
    let now = n.rust_type();
    let rust_change = if was != now && o.ty == n.ty {
        format!(" ({was} → {now})")
    } else {
        String::new()
    };
    if o.required != n.required {
        if n.required {
            let breaking = req || (resp && !n.nullable);
            out.push(change(
                Kind::FieldMadeRequired,
                breaking,
                format!("field `{field}` is now required{rust_change}"),
            ));
        } else {
            let breaking = resp && !o.nullable;
            out.push(change(
                Kind::FieldMadeOptional,
                breaking,
                format!("field `{field}` is now optional{rust_change}"),
            ));
        }
    }
    if o.nullable != n.nullable {
        if n.nullable {
            let breaking = resp && o.required;
            out.push(change(
                Kind::FieldMadeNullable,
                breaking,
                format!("field `{field}` is now nullable{rust_change}"),
            ));
        } else {
            // Response: `Option<T>` → `T`; request: `None` is no longer accepted.
            let breaking = n.required;
            out.push(change(
                Kind::FieldMadeNonNullable,
                breaking,
                format!("field `{field}` is no longer nullable{rust_change}"),
            ));
        }
    }
}

/// The Rust identifier progenitor uses for a wire name (`type` → `type_`).
fn rust_ident(name: &str) -> String {
    let ident = crate::spec::snake(name);
    match ident.as_str() {
        "type" | "match" | "ref" | "self" | "struct" | "enum" | "fn" | "impl" | "use" | "mod"
        | "move" | "loop" | "for" | "in" | "where" | "as" | "async" | "await" | "dyn" => {
            format!("{ident}_")
        }
        _ => ident,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Body, Field};
    use std::collections::BTreeMap;

    fn op(path: &str) -> Operation {
        Operation {
            operation_id: "runTask".into(),
            method: "POST".into(),
            path: path.into(),
            params: Vec::new(),
            body: None,
            responses: BTreeMap::from([("201".to_string(), Some("Run".to_string()))]),
            paginated: false,
        }
    }

    fn api(op: Operation, ty: TypeDef) -> Api {
        Api {
            operations: BTreeMap::from([("run_task".to_string(), op)]),
            types: BTreeMap::from([("Run".to_string(), ty)]),
        }
    }

    fn struct_with(field: Field, request: bool, response: bool) -> TypeDef {
        TypeDef {
            kind: "struct".into(),
            fields: BTreeMap::from([("x".to_string(), field)]),
            values: Vec::new(),
            open: false,
            usage: Usage { request, response },
        }
    }

    fn field(required: bool, nullable: bool) -> Field {
        Field {
            ty: "String".into(),
            required,
            nullable,
        }
    }

    /// (kind, breaking) of each change between two single-field structs.
    fn field_change(old: Field, new: Field, request: bool, response: bool) -> Vec<(Kind, bool)> {
        let a = api(op("/p"), struct_with(old, request, response));
        let b = api(op("/p"), struct_with(new, request, response));
        diff(&a, &b)
            .changes
            .iter()
            .map(|c| (c.kind, c.breaking))
            .collect()
    }

    #[test]
    fn nullability_rules_follow_the_rust_type() {
        // Response: required nullable → required non-nullable is `Option<T>` → `T`.
        assert_eq!(
            field_change(field(true, true), field(true, false), false, true),
            [(Kind::FieldMadeNonNullable, true)]
        );
        // Optional response field made non-nullable: still `Option<T>`.
        assert_eq!(
            field_change(field(false, true), field(false, false), false, true),
            [(Kind::FieldMadeNonNullable, false)]
        );
        // Request field made nullable: callers can still pass a value.
        assert_eq!(
            field_change(field(true, false), field(true, true), true, false),
            [(Kind::FieldMadeNullable, false)]
        );
        // Request field made optional: not breaking; response field made required and nullable:
        // still `Option<T>`, not breaking.
        assert_eq!(
            field_change(field(true, false), field(false, false), true, false),
            [(Kind::FieldMadeOptional, false)]
        );
        assert_eq!(
            field_change(field(false, true), field(true, true), false, true),
            [(Kind::FieldMadeRequired, false)]
        );
        // A type used on both sides gets both rule sets.
        assert_eq!(
            field_change(field(false, true), field(true, true), true, true),
            [(Kind::FieldMadeRequired, true)]
        );
    }

    #[test]
    fn operation_level_rules() {
        let ty = || struct_with(field(true, false), false, true);
        let mut moved = op("/q");
        moved.paginated = true;
        moved.body = Some(Body {
            ty: "RunTaskRequest".into(),
            required: true,
        });
        let mut old = op("/p");
        old.paginated = true;
        let report = diff(&api(old, ty()), &api(moved.clone(), ty()));
        let got: Vec<(Kind, bool)> = report
            .changes
            .iter()
            .map(|c| (c.kind, c.breaking))
            .collect();
        assert_eq!(
            got,
            [
                (Kind::OperationMoved, false),
                (Kind::RequestBodyAdded, true)
            ]
        );

        let mut unpaged = moved.clone();
        unpaged.paginated = false;
        unpaged.body = Some(Body {
            ty: "Other".into(),
            required: false,
        });
        let report = diff(&api(moved, ty()), &api(unpaged, ty()));
        let got: Vec<(Kind, bool)> = report
            .changes
            .iter()
            .map(|c| (c.kind, c.breaking))
            .collect();
        assert_eq!(
            got,
            [
                (Kind::PaginationRemoved, true),
                (Kind::RequestBodyRetyped, true),
                (Kind::RequestBodyMadeOptional, false)
            ]
        );
    }

    #[test]
    fn closed_enums_in_responses_break_on_new_values() {
        let enum_def = |values: &[&str], open: bool| TypeDef {
            kind: if open { "open enum" } else { "enum of i64" }.into(),
            fields: BTreeMap::new(),
            values: values.iter().map(|v| v.to_string()).collect(),
            open,
            usage: Usage {
                request: false,
                response: true,
            },
        };
        let added = |open| {
            diff(
                &api(op("/p"), enum_def(&["1"], open)),
                &api(op("/p"), enum_def(&["1", "2"], open)),
            )
            .changes[0]
                .breaking
        };
        assert!(added(false));
        assert!(!added(true));
    }

    #[test]
    fn markdown_cells_escape_html_outside_code() {
        assert_eq!(
            markdown_text("field `a|b` (Option<String>) & more"),
            "field `a\\|b` (Option&lt;String&gt;) &amp; more"
        );
    }
}
