//! `spec diff`: what changed for a Rust user of `deck` between two specs, and whether it breaks
//! their code.
//!
//! Both specs go through the whole generator (overlay, normaliser, progenitor, post-processing)
//! and the diff compares the two [`Surface`]s it produced, so it sees the API the way the
//! generated code spells it: `type: [string, null]` and `anyOf: [string, null]` are the same
//! `Option<String>`, and a field typed by the overlay is compared as that type.
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
//! | `pagination_removed` | always (the paginator methods disappear) |
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
//! | `response_status_removed` | always (a declared success status) |
//! | `response_retyped` | always (the success body type changed) |
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

use crate::surface::{
    Field, Kind as TypeKind, Operation, Param, Presence, Surface, TypeDef, Usage,
};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Compares the surfaces generated from two specs.
pub fn diff(old: &Surface, new: &Surface) -> Report {
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
                    def.kind.describe(),
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
                format!(
                    "new type ({}, used in {})",
                    def.kind.describe(),
                    def.usage.describe()
                ),
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
        p.wire,
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
    match (&old.pagination, &new.pagination) {
        (None, Some(_)) => out.push(Change::op(
            Kind::PaginationAdded,
            name,
            false,
            "now paginated (`items()`, `pages()`, `collect_all()`)".into(),
        )),
        (Some(_), None) => out.push(Change::op(
            Kind::PaginationRemoved,
            name,
            true,
            "no longer paginated (no `cursor` parameter or no Deck page response)".into(),
        )),
        _ => {}
    }

    let key = |p: &Param| (p.location.clone(), p.wire.clone());
    let old_keys: BTreeSet<_> = old.params.values().map(key).collect();
    let new_keys: BTreeSet<_> = new.params.values().map(key).collect();
    let mut removed: Vec<(&String, &Param)> = old
        .params
        .iter()
        .filter(|(_, p)| !new_keys.contains(&key(p)))
        .collect();
    let mut added: Vec<(&String, &Param)> = new
        .params
        .iter()
        .filter(|(_, p)| !old_keys.contains(&key(p)))
        .collect();
    // A removed and an added parameter with the same location and type: a rename. Pairs are
    // taken in spec order, so `starting_after` + `ending_before` → `cursor` pairs the first.
    removed.sort_by_key(|(_, p)| p.position);
    added.sort_by_key(|(_, p)| p.position);
    let mut renames = Vec::new();
    removed.retain(|(setter, r)| {
        match added
            .iter()
            .position(|(_, a)| a.location == r.location && a.ty == r.ty)
        {
            Some(i) => {
                renames.push((*setter, *r, added.remove(i).1));
                false
            }
            None => true,
        }
    });
    for (setter, r, a) in renames {
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
                    "{} renamed to `{}`{required}: the `.{setter}(…)` setter is gone",
                    describe_param(r),
                    a.wire,
                ),
            )
            .with_param(&r.wire)
            .with_value(&a.wire),
        );
    }
    for (_, r) in removed {
        out.push(
            Change::op(
                Kind::ParameterRemoved,
                name,
                true,
                format!("{} removed", describe_param(r)),
            )
            .with_param(&r.wire),
        );
    }
    for (_, a) in added {
        out.push(
            Change::op(
                Kind::ParameterAdded,
                name,
                a.required,
                format!("new {}", describe_param(a)),
            )
            .with_param(&a.wire),
        );
    }
    for o in old.params.values() {
        let Some(n) = new.params.values().find(|n| key(n) == key(o)) else {
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
                        o.location, o.wire, o.ty, n.ty
                    ),
                )
                .with_param(&o.wire),
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
                    format!("{} parameter `{}` {what}", o.location, o.wire),
                )
                .with_param(&o.wire),
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

    if old.response != new.response {
        out.push(Change::op(
            Kind::ResponseRetyped,
            name,
            true,
            format!("success body changed: {} → {}", old.response, new.response),
        ));
    }
    for status in &old.success_statuses {
        if !new.success_statuses.contains(status) {
            out.push(
                Change::op(
                    Kind::ResponseStatusRemoved,
                    name,
                    true,
                    format!("success response {status} removed"),
                )
                .with_value(status),
            );
        }
    }
    for status in &new.success_statuses {
        if !old.success_statuses.contains(status) {
            out.push(
                Change::op(
                    Kind::ResponseStatusAdded,
                    name,
                    false,
                    format!("new success response {status}"),
                )
                .with_value(status),
            );
        }
    }
}

/// A field's type without the `Option` its presence adds.
fn base_type(f: &Field) -> &str {
    match f.presence {
        Presence::Required => &f.ty,
        _ => {
            f.ty.strip_prefix("Option<")
                .and_then(|t| t.strip_suffix('>'))
                .unwrap_or(&f.ty)
        }
    }
}

fn enum_values(kind: &TypeKind) -> Vec<String> {
    match kind {
        TypeKind::OpenEnum(values) => values.keys().cloned().collect(),
        TypeKind::Enum(variants) => variants.clone(),
        _ => Vec::new(),
    }
}

fn diff_type(name: &str, old: &TypeDef, new: &TypeDef, out: &mut Vec<Change>) {
    let usage = old.usage.union(new.usage);
    if old.kind.describe() != new.kind.describe() {
        out.push(Change::ty(
            Kind::TypeRetyped,
            name,
            true,
            format!(
                "changed from {} to {}",
                old.kind.describe(),
                new.kind.describe()
            ),
        ));
        return;
    }
    if let (TypeKind::Struct(old_fields), TypeKind::Struct(new_fields)) = (&old.kind, &new.kind) {
        for (field, o) in old_fields {
            match new_fields.get(field) {
                None => out.push(
                    Change::ty(
                        Kind::FieldRemoved,
                        name,
                        true,
                        format!(
                            "field `{field}` ({}) removed (type used in {})",
                            o.ty,
                            usage.describe()
                        ),
                    )
                    .with_field(field),
                ),
                Some(n) => diff_field(name, field, o, n, usage, out),
            }
        }
        for (field, n) in new_fields {
            if old_fields.contains_key(field) {
                continue;
            }
            let required = n.presence != Presence::Optional;
            let breaking = required && usage.in_request();
            let why = if breaking {
                "required in a request type: callers must now set it"
            } else if required {
                "required, response only"
            } else {
                "optional"
            };
            out.push(
                Change::ty(
                    Kind::FieldAdded,
                    name,
                    breaking,
                    format!("new field `{field}` ({}; {why})", n.ty),
                )
                .with_field(field),
            );
        }
    }
    let (old_values, new_values) = (enum_values(&old.kind), enum_values(&new.kind));
    for value in &old_values {
        if !new_values.contains(value) {
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
    for value in &new_values {
        if !old_values.contains(value) {
            let open = matches!(new.kind, TypeKind::OpenEnum(_));
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
    if base_type(o) != base_type(n) {
        out.push(change(
            Kind::FieldRetyped,
            true,
            format!("field `{field}` changed type: {} → {}", o.ty, n.ty),
        ));
    }
    let rust_change = if o.ty != n.ty && base_type(o) == base_type(n) {
        format!(" ({} → {})", o.ty, n.ty)
    } else {
        String::new()
    };
    use Presence::*;
    let (kind, breaking, what) = match (o.presence, n.presence) {
        (a, b) if a == b => return,
        // `T` → `Option<T>`.
        (Required, Optional) => (Kind::FieldMadeOptional, resp, "is now optional"),
        (Required, RequiredNullable) => (Kind::FieldMadeNullable, resp, "is now nullable"),
        // `Option<T>` → `T`.
        (Optional, Required) => (Kind::FieldMadeRequired, resp || req, "is now required"),
        (RequiredNullable, Required) => (
            Kind::FieldMadeNonNullable,
            resp || req,
            "is no longer nullable",
        ),
        // Still `Option<T>`: callers building it must now set it.
        (Optional, RequiredNullable) => (Kind::FieldMadeRequired, req, "is now required"),
        (RequiredNullable, Optional) => (Kind::FieldMadeOptional, false, "is now optional"),
        _ => unreachable!("equal presences returned above"),
    };
    out.push(change(
        kind,
        breaking,
        format!("field `{field}` {what}{rust_change}"),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::{Body, Constraints, Pagination};
    use std::collections::BTreeMap;

    fn op(path: &str) -> Operation {
        Operation {
            operation_id: "runTask".into(),
            method: "POST".into(),
            path: path.into(),
            params: BTreeMap::new(),
            body: None,
            response: "Run".into(),
            success_statuses: vec!["201".into()],
            pagination: None,
        }
    }

    fn api(op: Operation, ty: TypeDef) -> Surface {
        Surface {
            spec_version: "1".into(),
            operations: BTreeMap::from([("run_task".to_string(), op)]),
            types: BTreeMap::from([("Run".to_string(), ty)]),
        }
    }

    fn struct_with(field: Field, request: bool, response: bool) -> TypeDef {
        TypeDef {
            kind: TypeKind::Struct(BTreeMap::from([("x".to_string(), field)])),
            deck_name: None,
            usage: Usage { request, response },
        }
    }

    fn field(presence: Presence) -> Field {
        Field {
            name: "x".into(),
            ty: match presence {
                Presence::Required => "String".into(),
                _ => "Option<String>".into(),
            },
            presence,
            int_or_string: false,
            secret: false,
            constraints: Constraints::default(),
        }
    }

    /// (kind, breaking) of each change between two single-field structs.
    fn field_change(
        old: Presence,
        new: Presence,
        request: bool,
        response: bool,
    ) -> Vec<(Kind, bool)> {
        let a = api(op("/p"), struct_with(field(old), request, response));
        let b = api(op("/p"), struct_with(field(new), request, response));
        diff(&a, &b)
            .changes
            .iter()
            .map(|c| (c.kind, c.breaking))
            .collect()
    }

    #[test]
    fn presence_rules_follow_the_rust_type() {
        use Presence::*;
        // Response: `Option<T>` → `T`.
        assert_eq!(
            field_change(RequiredNullable, Required, false, true),
            [(Kind::FieldMadeNonNullable, true)]
        );
        // Response: `T` → `Option<T>`.
        assert_eq!(
            field_change(Required, RequiredNullable, false, true),
            [(Kind::FieldMadeNullable, true)]
        );
        // Request field made nullable: callers can still pass a value.
        assert_eq!(
            field_change(Required, RequiredNullable, true, false),
            [(Kind::FieldMadeNullable, false)]
        );
        // Request field made optional: not breaking.
        assert_eq!(
            field_change(Required, Optional, true, false),
            [(Kind::FieldMadeOptional, false)]
        );
        // Response field made required but nullable: still `Option<T>`.
        assert_eq!(
            field_change(Optional, RequiredNullable, false, true),
            [(Kind::FieldMadeRequired, false)]
        );
        // A type used on both sides gets both rule sets.
        assert_eq!(
            field_change(Optional, RequiredNullable, true, true),
            [(Kind::FieldMadeRequired, true)]
        );
    }

    #[test]
    fn operation_level_rules() {
        let ty = || struct_with(field(Presence::Required), false, true);
        let paged = Some(Pagination {
            item: "Run".into(),
            page_size: 100,
        });
        let mut moved = op("/q");
        moved.pagination = paged.clone();
        moved.body = Some(Body {
            ty: "RunTaskRequest".into(),
            required: true,
        });
        let mut old = op("/p");
        old.pagination = paged;
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
        unpaged.pagination = None;
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
            kind: if open {
                TypeKind::OpenEnum(
                    values
                        .iter()
                        .map(|v| {
                            (
                                v.to_string(),
                                crate::surface::EnumValue {
                                    variant: v.to_uppercase(),
                                    aliases: vec![],
                                },
                            )
                        })
                        .collect(),
                )
            } else {
                TypeKind::Enum(values.iter().map(|v| v.to_string()).collect())
            },
            deck_name: None,
            usage: Usage {
                request: false,
                response: true,
            },
        };
        let added = |open| {
            diff(
                &api(op("/p"), enum_def(&["a"], open)),
                &api(op("/p"), enum_def(&["a", "b"], open)),
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
