//! The comparison itself: one function per level (operation, webhook, type, field), each
//! change with its two verdicts (see the table in the module docs of `diff`).

use super::wire::{self, Direction, Mode};
use super::{Change, Kind, Report, Verdict};
use crate::surface::{
    Field, Kind as TypeKind, Operation, Param, Presence, Surface, TypeDef, Usage, Webhook,
};
use std::collections::BTreeSet;

/// The two surfaces being compared.
#[derive(Clone, Copy)]
struct Sides<'a> {
    old: &'a Surface,
    new: &'a Surface,
}

impl Sides<'_> {
    /// Whether a deployed client's decoder (`old_ty` in the old surface) accepts every value the
    /// new spec allows (`new_ty`): the rule for what is received.
    fn received_ok(&self, old_ty: &str, new_ty: &str) -> bool {
        wire::covers(self.old, old_ty, self.new, new_ty, Mode::Received)
    }

    /// Whether the new server (`new_ty`) accepts every value a deployed client sends (`old_ty`):
    /// the rule for what is sent. `text`: the value travels as text (a parameter).
    fn sent_ok(&self, old_ty: &str, new_ty: &str, text: bool) -> bool {
        wire::covers(self.new, new_ty, self.old, old_ty, Mode::Sent { text })
    }
}

/// Compares the surfaces generated from two specs (no overlay findings: see
/// [`super::diff_specs`] and [`Report::with_overlay`]).
pub fn diff(old: &Surface, new: &Surface) -> Report {
    let sides = Sides { old, new };
    let mut changes = Vec::new();
    for (name, op) in &old.operations {
        match new.operations.get(name) {
            None => changes.push(Change::op(
                Kind::OperationRemoved,
                name,
                Verdict::BOTH,
                format!(
                    "operation `{}` ({} {}) removed: deployed clients call a route that is gone",
                    op.operation_id, op.method, op.path
                ),
            )),
            Some(new_op) => diff_operation(sides, name, op, new_op, &mut changes),
        }
    }
    for (name, op) in &new.operations {
        if !old.operations.contains_key(name) {
            changes.push(Change::op(
                Kind::OperationAdded,
                name,
                Verdict::NEITHER,
                format!(
                    "new operation `{}` ({} {})",
                    op.operation_id, op.method, op.path
                ),
            ));
        }
    }
    diff_webhooks(sides, &mut changes);
    for (name, def) in &old.types {
        match new.types.get(name) {
            None => changes.push(Change::ty(
                Kind::TypeRemoved,
                name,
                Verdict::SOURCE,
                format!(
                    "type removed (was {}, used in {})",
                    def.kind.describe(),
                    def.usage.describe()
                ),
            )),
            Some(new_def) => diff_type(sides, name, def, new_def, &mut changes),
        }
    }
    for (name, def) in &new.types {
        if !old.types.contains_key(name) {
            changes.push(Change::ty(
                Kind::TypeAdded,
                name,
                Verdict::NEITHER,
                format!(
                    "new type ({}, used in {})",
                    def.kind.describe(),
                    def.usage.describe()
                ),
            ));
        }
    }
    changes.sort_by_key(Change::sort_key);
    Report {
        changes,
        ..Report::default()
    }
}

fn diff_webhooks(sides: Sides<'_>, out: &mut Vec<Change>) {
    for (name, hook) in &sides.old.webhooks {
        match sides.new.webhooks.get(name) {
            None => out.push(Change::hook(
                Kind::WebhookRemoved,
                name,
                Verdict::BOTH,
                format!(
                    "webhook removed (payload {}): deployed receivers wait for events that never come",
                    hook.payload
                ),
            )),
            Some(new) if new.payload != hook.payload || new.data != hook.data => {
                let (old_ty, new_ty) = match (&hook.data, &new.data) {
                    (Some(a), Some(b)) if new.payload == hook.payload => (a.clone(), b.clone()),
                    _ => (describe_hook(hook), describe_hook(new)),
                };
                let deployed = !sides.received_ok(&old_ty, &new_ty);
                out.push(Change::hook(
                    Kind::WebhookRetyped,
                    name,
                    Verdict::new(deployed, true),
                    format!(
                        "payload type changed: {} → {}{}",
                        describe_hook(hook),
                        describe_hook(new),
                        if deployed {
                            ""
                        } else {
                            " (the old type decodes every new payload)"
                        }
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    for (name, hook) in &sides.new.webhooks {
        if !sides.old.webhooks.contains_key(name) {
            out.push(Change::hook(
                Kind::WebhookAdded,
                name,
                Verdict::NEITHER,
                format!("new webhook (payload {})", hook.payload),
            ));
        }
    }
}

/// `Event` or `Event, data TaskRunSnapshot`, as the surface prints it.
fn describe_hook(hook: &Webhook) -> String {
    match &hook.data {
        Some(data) => format!("{}, data {data}", hook.payload),
        None => hook.payload.clone(),
    }
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

/// `/task-runs/{run_id}` → `/task-runs/{}`: the route as it is on the wire.
fn wire_route(path: &str) -> String {
    let mut out = String::new();
    let mut in_name = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_name = true;
                out.push_str("{}");
            }
            '}' => in_name = false,
            _ if in_name => {}
            _ => out.push(c),
        }
    }
    out
}

fn diff_operation(
    sides: Sides<'_>,
    name: &str,
    old: &Operation,
    new: &Operation,
    out: &mut Vec<Change>,
) {
    if old.method != new.method || old.path != new.path {
        let same_route = old.method == new.method && wire_route(&old.path) == wire_route(&new.path);
        out.push(Change::op(
            Kind::OperationMoved,
            name,
            if same_route {
                Verdict::NEITHER
            } else {
                Verdict::DEPLOYED
            },
            if same_route {
                format!(
                    "path template now {} (was {}): only path-parameter names changed, the route is \
                     the same",
                    new.path, old.path
                )
            } else {
                format!(
                    "now {} {} (was {} {}): deployed clients still call the old route; the method \
                     keeps its name",
                    new.method, new.path, old.method, old.path
                )
            },
        ));
    }
    match (&old.pagination, &new.pagination) {
        (None, Some(_)) => out.push(Change::op(
            Kind::PaginationAdded,
            name,
            Verdict::NEITHER,
            "now paginated (`items()`, `pages()`, `collect_all()`)".into(),
        )),
        (Some(_), None) => out.push(Change::op(
            Kind::PaginationRemoved,
            name,
            Verdict::BOTH,
            "no longer paginated (no `cursor` parameter or no Deck page response): deployed \
             paginators follow a cursor protocol that is gone"
                .into(),
        )),
        (Some(o), Some(n)) if o.page_size > n.page_size => out.push(
            Change::op(
                Kind::PageSizeLowered,
                name,
                Verdict::DEPLOYED,
                format!(
                    "default page size {} → {} (`limit` maximum): deployed paginators still ask \
                     for {}, which the new spec refuses",
                    o.page_size, n.page_size, o.page_size
                ),
            )
            .with_value(&n.page_size.to_string()),
        ),
        (Some(o), Some(n)) if o.page_size < n.page_size => out.push(
            Change::op(
                Kind::PageSizeRaised,
                name,
                Verdict::NEITHER,
                format!(
                    "default page size {} → {}: deployed paginators keep asking for {}, still \
                     allowed",
                    o.page_size, n.page_size, o.page_size
                ),
            )
            .with_value(&n.page_size.to_string()),
        ),
        _ => {}
    }

    diff_params(sides, name, old, new, out);
    diff_body(sides, name, old, new, out);

    if old.response != new.response {
        let deployed = !sides.received_ok(&old.response, &new.response);
        out.push(Change::op(
            Kind::ResponseRetyped,
            name,
            Verdict::new(deployed, true),
            format!(
                "success body changed: {} → {}{}",
                old.response,
                new.response,
                if deployed {
                    ""
                } else {
                    " (the old type decodes every new body)"
                }
            ),
        ));
    }
    for status in &old.success_statuses {
        if !new.success_statuses.contains(status) {
            let remains = !new.success_statuses.is_empty();
            out.push(
                Change::op(
                    Kind::ResponseStatusRemoved,
                    name,
                    if remains {
                        Verdict::NEITHER
                    } else {
                        Verdict::BOTH
                    },
                    if remains {
                        format!(
                            "success response {status} removed (now {}): any 2xx decodes as the \
                             success type",
                            new.success_statuses.join(", ")
                        )
                    } else {
                        format!("success response {status} removed: no success status is left")
                    },
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
                    Verdict::NEITHER,
                    format!("new success response {status} (any 2xx decodes as the success type)"),
                )
                .with_value(status),
            );
        }
    }
}

fn diff_params(
    sides: Sides<'_>,
    name: &str,
    old: &Operation,
    new: &Operation,
    out: &mut Vec<Change>,
) {
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
        let path = r.location == "path";
        out.push(
            Change::op(
                Kind::ParameterRenamed,
                name,
                if path { Verdict::SOURCE } else { Verdict::BOTH },
                format!(
                    "{} renamed to `{}`{required}: the `.{setter}(…)` setter is gone{}",
                    describe_param(r),
                    a.wire,
                    if path {
                        " (a path parameter: its name is not on the wire)"
                    } else {
                        "; deployed clients send the old name, which the server ignores"
                    }
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
                Verdict::BOTH,
                format!(
                    "{} removed: the setter disappears, and the server ignores it when deployed \
                     clients send it",
                    describe_param(r)
                ),
            )
            .with_param(&r.wire),
        );
    }
    for (_, a) in added {
        out.push(
            Change::op(
                Kind::ParameterAdded,
                name,
                Verdict::new(a.required, a.required),
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
            let deployed = !sides.sent_ok(&o.ty, &n.ty, true);
            out.push(
                Change::op(
                    Kind::ParameterRetyped,
                    name,
                    Verdict::new(deployed, true),
                    format!(
                        "{} parameter `{}` changed type: {} → {}{}",
                        o.location,
                        o.wire,
                        o.ty,
                        n.ty,
                        if deployed {
                            ""
                        } else {
                            " (the new type accepts every value deployed clients send)"
                        }
                    ),
                )
                .with_param(&o.wire),
            );
        }
        if o.required != n.required {
            let (kind, verdict, what) = if n.required {
                (
                    Kind::ParameterMadeRequired,
                    Verdict::BOTH,
                    "is now required",
                )
            } else {
                (
                    Kind::ParameterMadeOptional,
                    Verdict::NEITHER,
                    "is now optional",
                )
            };
            out.push(
                Change::op(
                    kind,
                    name,
                    verdict,
                    format!("{} parameter `{}` {what}", o.location, o.wire),
                )
                .with_param(&o.wire),
            );
        }
        for c in wire::constraint_changes(&o.constraints, &n.constraints) {
            // Parameters are only ever sent.
            let deployed = c.direction != Direction::Relaxed;
            out.push(
                Change::op(
                    c.direction.kind(),
                    name,
                    Verdict::new(deployed, false),
                    format!(
                        "{} parameter `{}`: {}{}",
                        o.location,
                        o.wire,
                        c.describe(),
                        if deployed {
                            "; deployed clients may send values the new spec refuses"
                        } else {
                            ""
                        }
                    ),
                )
                .with_param(&o.wire)
                .with_value(c.keyword),
            );
        }
    }
}

fn diff_body(
    sides: Sides<'_>,
    name: &str,
    old: &Operation,
    new: &Operation,
    out: &mut Vec<Change>,
) {
    match (&old.body, &new.body) {
        (None, Some(b)) => out.push(Change::op(
            Kind::RequestBodyAdded,
            name,
            Verdict::new(b.required, b.required),
            format!(
                "now takes a {} request body of type {}",
                if b.required { "required" } else { "optional" },
                b.ty
            ),
        )),
        (Some(b), None) => out.push(Change::op(
            Kind::RequestBodyRemoved,
            name,
            Verdict::BOTH,
            format!(
                "no longer takes a request body (was {}): the server ignores what deployed \
                 clients send",
                b.ty
            ),
        )),
        (Some(o), Some(n)) => {
            if o.ty != n.ty {
                let deployed = !sides.sent_ok(&o.ty, &n.ty, false);
                out.push(Change::op(
                    Kind::RequestBodyRetyped,
                    name,
                    Verdict::new(deployed, true),
                    format!(
                        "request body type changed: {} → {}{}",
                        o.ty,
                        n.ty,
                        if deployed {
                            ""
                        } else {
                            " (the new type accepts every body deployed clients send)"
                        }
                    ),
                ));
            }
            if o.required != n.required {
                out.push(if n.required {
                    Change::op(
                        Kind::RequestBodyMadeRequired,
                        name,
                        Verdict::BOTH,
                        "request body is now required".into(),
                    )
                } else {
                    Change::op(
                        Kind::RequestBodyMadeOptional,
                        name,
                        Verdict::NEITHER,
                        "request body is now optional".into(),
                    )
                });
            }
        }
        (None, None) => {}
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

fn diff_type(sides: Sides<'_>, name: &str, old: &TypeDef, new: &TypeDef, out: &mut Vec<Change>) {
    let usage = old.usage.union(new.usage);
    if old.kind.describe() != new.kind.describe() {
        out.push(Change::ty(
            Kind::TypeRetyped,
            name,
            Verdict::BOTH,
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
                None => {
                    let deployed = usage.in_request()
                        || (usage.in_response() && o.presence != Presence::Optional);
                    out.push(
                        Change::ty(
                            Kind::FieldRemoved,
                            name,
                            Verdict::new(deployed, true),
                            format!(
                                "field `{field}` ({}) removed (type used in {}{})",
                                o.ty,
                                usage.describe(),
                                match (usage.in_request(), deployed) {
                                    (true, _) =>
                                        "; the server ignores it when deployed clients send it",
                                    (false, true) =>
                                        "; deployed clients fail to decode bodies without it",
                                    (false, false) => "; it was optional",
                                }
                            ),
                        )
                        .with_field(field),
                    )
                }
                Some(n) => diff_field(sides, name, field, o, n, usage, out),
            }
        }
        for (field, n) in new_fields {
            if old_fields.contains_key(field) {
                continue;
            }
            let required = n.presence != Presence::Optional;
            let breaking = required && usage.in_request();
            let why = if breaking {
                "required in a request type: callers must now set it, deployed clients do not send it"
            } else if required {
                "required, response only"
            } else {
                "optional"
            };
            out.push(
                Change::ty(
                    Kind::FieldAdded,
                    name,
                    Verdict::new(breaking, breaking),
                    format!("new field `{field}` ({}; {why})", n.ty),
                )
                .with_field(field),
            );
        }
    }
    let (old_values, new_values) = (enum_values(&old.kind), enum_values(&new.kind));
    for value in &old_values {
        if !new_values.contains(value) {
            let deployed = usage.in_request();
            out.push(
                Change::ty(
                    Kind::EnumValueRemoved,
                    name,
                    Verdict::new(deployed, true),
                    format!(
                        "enum value `{value}` removed (its variant disappears{})",
                        if deployed {
                            "; deployed clients may still send it"
                        } else {
                            "; response only: deployed clients just stop receiving it"
                        }
                    ),
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
                    Verdict::new(breaking, false),
                    format!("new enum value `{value}` ({why})"),
                )
                .with_value(value),
            );
        }
    }
}

fn diff_field(
    sides: Sides<'_>,
    name: &str,
    field: &str,
    o: &Field,
    n: &Field,
    usage: Usage,
    out: &mut Vec<Change>,
) {
    let (resp, req) = (usage.in_response(), usage.in_request());
    let change =
        |kind, verdict, detail: String| Change::ty(kind, name, verdict, detail).with_field(field);
    let (old_base, new_base) = (base_type(o), base_type(n));
    if old_base != new_base {
        let received = resp && !sides.received_ok(old_base, new_base);
        let sent = req && !sides.sent_ok(old_base, new_base, false);
        out.push(change(
            Kind::FieldRetyped,
            Verdict::new(received || sent, true),
            format!(
                "field `{field}` changed type: {} → {}{}",
                o.ty,
                n.ty,
                match (received, sent) {
                    (true, _) => "; deployed clients cannot decode every new value",
                    (false, true) => "; the server may refuse what deployed clients send",
                    (false, false) => "; the wire values deployed clients handle are unchanged",
                }
            ),
        ));
    } else if o.int_or_string != n.int_or_string {
        out.push(if n.int_or_string {
            change(
                Kind::FieldMadeIntOrString,
                Verdict::new(resp, false),
                format!(
                    "field `{field}` may now be a number or a numeric string (same Rust type {}){}",
                    n.ty,
                    if resp {
                        "; deployed clients reject \"123\""
                    } else {
                        ""
                    }
                ),
            )
        } else {
            change(
                Kind::FieldMadePlainInt,
                Verdict::NEITHER,
                format!(
                    "field `{field}` is now a plain integer (was number or numeric string); older \
                     clients accept both"
                ),
            )
        });
    }

    diff_presence(field, o, n, usage, out, &change);

    let validates = wire::validates_on_decode(sides.old, old_base);
    for c in wire::constraint_changes(&o.constraints, &n.constraints) {
        let sent = req && c.direction != Direction::Relaxed;
        let received = resp && validates && c.string_keyword && c.direction != Direction::Tightened;
        let why = match (sent, received) {
            (true, _) => "; deployed clients may send values the new spec refuses",
            (false, true) => "; deployed clients check the old constraint while decoding",
            (false, false) => "",
        };
        out.push(
            change(
                c.direction.kind(),
                Verdict::new(sent || received, false),
                format!("field `{field}`: {}{why}", c.describe()),
            )
            .with_value(c.keyword),
        );
    }
}

fn diff_presence(
    field: &str,
    o: &Field,
    n: &Field,
    usage: Usage,
    out: &mut Vec<Change>,
    change: &dyn Fn(Kind, Verdict, String) -> Change,
) {
    let (resp, req) = (usage.in_response(), usage.in_request());
    // Whether the Rust type changed with the presence (`T` ↔ `Option<T>`); a `Vec<T>` with
    // `#[serde(default)]` stays `Vec<T>` when it becomes optional.
    let retyped = o.ty != n.ty;
    let rust_change = if retyped && base_type(o) == base_type(n) {
        format!(" ({} → {})", o.ty, n.ty)
    } else {
        String::new()
    };
    use Presence::*;
    let (kind, verdict, what) = match (o.presence, n.presence) {
        (a, b) if a == b => return,
        // `T` → `Option<T>`: older clients fail when it is missing.
        (Required, Optional) => (
            Kind::FieldMadeOptional,
            Verdict::new(resp, resp && retyped),
            "is now optional",
        ),
        // `T` → `Option<T>`: older clients fail on `null`.
        (Required, RequiredNullable) => (
            Kind::FieldMadeNullable,
            Verdict::new(resp, resp && retyped),
            "is now nullable",
        ),
        // `Option<T>` → `T`: older clients omit it when unset.
        (Optional, Required) => (
            Kind::FieldMadeRequired,
            Verdict::new(req, (resp && retyped) || req),
            "is now required",
        ),
        // `Option<T>` → `T`: older clients may send `null`.
        (RequiredNullable, Required) => (
            Kind::FieldMadeNonNullable,
            Verdict::new(req, (resp && retyped) || req),
            "is no longer nullable",
        ),
        // Still `Option<T>`: callers building it must now set it; older clients omit it.
        (Optional, RequiredNullable) => (
            Kind::FieldMadeRequired,
            Verdict::new(req, req),
            "is now required",
        ),
        // Still `Option<T>`, but older clients require it present (null allowed).
        (RequiredNullable, Optional) => (
            Kind::FieldMadeOptional,
            Verdict::new(resp, false),
            "is now optional",
        ),
        _ => unreachable!("equal presences returned above"),
    };
    out.push(change(
        kind,
        verdict,
        format!("field `{field}` {what}{rust_change}"),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::{Body, Constraints, EnumValue, Pagination};
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
            webhooks: BTreeMap::new(),
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

    type Got = Vec<(Kind, bool, bool)>;

    fn got(report: &Report) -> Got {
        report
            .changes
            .iter()
            .map(|c| (c.kind, c.breaking, c.source_breaking))
            .collect()
    }

    /// (kind, breaking, source_breaking) of each change between two single-field structs.
    fn field_change(old: Field, new: Field, request: bool, response: bool) -> Got {
        let a = api(op("/p"), struct_with(old, request, response));
        let b = api(op("/p"), struct_with(new, request, response));
        got(&diff(&a, &b))
    }

    fn presence_change(old: Presence, new: Presence, request: bool, response: bool) -> Got {
        field_change(field(old), field(new), request, response)
    }

    const REQ: (bool, bool) = (true, false);
    const RESP: (bool, bool) = (false, true);

    fn presence(old: Presence, new: Presence, (request, response): (bool, bool)) -> Got {
        presence_change(old, new, request, response)
    }

    #[test]
    fn presence_rules_give_both_verdicts() {
        use Presence::*;
        // Response `T` → `Option<T>`: source-breaking, and deployed clients fail when missing.
        assert_eq!(
            presence(Required, Optional, RESP),
            [(Kind::FieldMadeOptional, true, true)]
        );
        // Response nullable → optional: still `Option<T>`, but deployed clients require it.
        assert_eq!(
            presence(RequiredNullable, Optional, RESP),
            [(Kind::FieldMadeOptional, true, false)]
        );
        // Request field made optional: nothing breaks.
        assert_eq!(
            presence(Required, Optional, REQ),
            [(Kind::FieldMadeOptional, false, false)]
        );
        // Response `T` → `Option<T>` by nullability: both; request: neither.
        assert_eq!(
            presence(Required, RequiredNullable, RESP),
            [(Kind::FieldMadeNullable, true, true)]
        );
        assert_eq!(
            presence(Required, RequiredNullable, REQ),
            [(Kind::FieldMadeNullable, false, false)]
        );
        // Response `Option<T>` → `T`: source only (deployed clients accept a present value).
        assert_eq!(
            presence(RequiredNullable, Required, RESP),
            [(Kind::FieldMadeNonNullable, false, true)]
        );
        assert_eq!(
            presence(Optional, Required, RESP),
            [(Kind::FieldMadeRequired, false, true)]
        );
        // Request `Option<T>` → `T`: both (deployed clients send null or omit it).
        assert_eq!(
            presence(RequiredNullable, Required, REQ),
            [(Kind::FieldMadeNonNullable, true, true)]
        );
        assert_eq!(
            presence(Optional, Required, REQ),
            [(Kind::FieldMadeRequired, true, true)]
        );
        // Response field made required but nullable: still `Option<T>`, nothing breaks.
        assert_eq!(
            presence(Optional, RequiredNullable, RESP),
            [(Kind::FieldMadeRequired, false, false)]
        );
        // A type used on both sides gets both rule sets.
        assert_eq!(
            presence_change(Optional, RequiredNullable, true, true),
            [(Kind::FieldMadeRequired, true, true)]
        );
    }

    #[test]
    fn a_defaulted_vec_made_optional_keeps_its_rust_type() {
        let vec = |presence| Field {
            ty: "Vec<String>".into(),
            ..field(presence)
        };
        // The server may now omit it: deployed clients without the default fail; the Rust type
        // is `Vec<String>` either way.
        assert_eq!(
            field_change(
                vec(Presence::Required),
                vec(Presence::Optional),
                false,
                true
            ),
            [(Kind::FieldMadeOptional, true, false)]
        );
        assert_eq!(
            field_change(
                vec(Presence::Optional),
                vec(Presence::Required),
                false,
                true
            ),
            [(Kind::FieldMadeRequired, false, false)]
        );
        // A request field now required: callers that never set it fail in the builder.
        assert_eq!(
            field_change(
                vec(Presence::Optional),
                vec(Presence::Required),
                true,
                false
            ),
            [(Kind::FieldMadeRequired, true, true)]
        );
    }

    #[test]
    fn field_additions_removals_and_retypes() {
        let empty = |request, response| TypeDef {
            kind: TypeKind::Struct(BTreeMap::new()),
            deck_name: None,
            usage: Usage { request, response },
        };
        let added = |presence, request, response| {
            got(&diff(
                &api(op("/p"), empty(request, response)),
                &api(op("/p"), struct_with(field(presence), request, response)),
            ))
        };
        let removed = |presence, request, response| {
            got(&diff(
                &api(op("/p"), struct_with(field(presence), request, response)),
                &api(op("/p"), empty(request, response)),
            ))
        };
        // A new required request field: both.
        assert_eq!(
            added(Presence::Required, true, false),
            [(Kind::FieldAdded, true, true)]
        );
        assert_eq!(
            added(Presence::Required, false, true),
            [(Kind::FieldAdded, false, false)]
        );
        assert_eq!(
            added(Presence::Optional, true, false),
            [(Kind::FieldAdded, false, false)]
        );
        // Removed: source always; deployed for request fields and non-optional response fields.
        assert_eq!(
            removed(Presence::Optional, false, true),
            [(Kind::FieldRemoved, false, true)]
        );
        assert_eq!(
            removed(Presence::RequiredNullable, false, true),
            [(Kind::FieldRemoved, true, true)]
        );
        assert_eq!(
            removed(Presence::Optional, true, false),
            [(Kind::FieldRemoved, true, true)]
        );

        let typed = |ty: &str| Field {
            ty: ty.into(),
            ..field(Presence::Required)
        };
        // A response `String` becoming `i64`: both. Becoming an open enum: source only (every
        // string still decodes into `String`).
        assert_eq!(
            field_change(typed("String"), typed("i64"), false, true),
            [(Kind::FieldRetyped, true, true)]
        );
        let mut old = api(op("/p"), struct_with(typed("String"), false, true));
        let mut new = api(op("/p"), struct_with(typed("Status"), false, true));
        let status = TypeDef {
            kind: TypeKind::OpenEnum(BTreeMap::from([(
                "a".to_string(),
                EnumValue {
                    variant: "A".into(),
                    aliases: vec![],
                },
            )])),
            deck_name: None,
            usage: Usage {
                request: false,
                response: true,
            },
        };
        new.types.insert("Status".into(), status.clone());
        assert_eq!(
            got(&diff(&old, &new))
                .into_iter()
                .filter(|c| c.0 == Kind::FieldRetyped)
                .collect::<Vec<_>>(),
            [(Kind::FieldRetyped, false, true)]
        );
        // The same change in a request type: the server may refuse what old clients send.
        for s in [&mut old, &mut new] {
            s.types.get_mut("Run").unwrap().usage = Usage {
                request: true,
                response: false,
            };
        }
        assert!(
            got(&diff(&old, &new)).contains(&(Kind::FieldRetyped, true, true)),
            "{:?}",
            diff(&old, &new)
        );
        // An integer widened in a response: deployed `i32` decoders overflow.
        assert_eq!(
            field_change(typed("i32"), typed("i64"), false, true),
            [(Kind::FieldRetyped, true, true)]
        );
        assert_eq!(
            field_change(typed("i64"), typed("i32"), false, true),
            [(Kind::FieldRetyped, false, true)]
        );
    }

    #[test]
    fn int_or_string_changes_break_only_deployed_receivers() {
        let int = |int_or_string| Field {
            ty: "i64".into(),
            int_or_string,
            ..field(Presence::Required)
        };
        // A plain integer that may now be "123": deployed clients reject it.
        assert_eq!(
            field_change(int(false), int(true), false, true),
            [(Kind::FieldMadeIntOrString, true, false)]
        );
        // The reverse: older clients accept both.
        assert_eq!(
            field_change(int(true), int(false), false, true),
            [(Kind::FieldMadePlainInt, false, false)]
        );
        // Sent only: the client sends numbers either way.
        assert_eq!(
            field_change(int(false), int(true), true, false),
            [(Kind::FieldMadeIntOrString, false, false)]
        );
    }

    fn constrained(ty: &str, c: Constraints) -> Field {
        Field {
            ty: ty.into(),
            constraints: c,
            ..field(Presence::Required)
        }
    }

    #[test]
    fn request_constraint_tightenings_break_deployed_clients_only() {
        let c = |f: fn(&mut Constraints)| {
            let mut c = Constraints::default();
            f(&mut c);
            c
        };
        let cases: Vec<(Constraints, Constraints, Kind, &str)> = vec![
            (
                c(|c| c.maximum = Some(100.0)),
                c(|c| c.maximum = Some(50.0)),
                Kind::ConstraintTightened,
                "maximum",
            ),
            (
                c(|c| c.maximum = Some(100.0)),
                c(|c| {
                    c.maximum = Some(100.0);
                    c.exclusive_maximum = true
                }),
                Kind::ConstraintTightened,
                "maximum",
            ),
            (
                c(|c| c.minimum = Some(1.0)),
                c(|c| c.minimum = Some(5.0)),
                Kind::ConstraintTightened,
                "minimum",
            ),
            (
                c(|c| c.max_length = Some(255)),
                c(|c| c.max_length = Some(100)),
                Kind::ConstraintTightened,
                "maxLength",
            ),
            (
                Constraints::default(),
                c(|c| c.min_length = Some(3)),
                Kind::ConstraintTightened,
                "minLength",
            ),
            (
                Constraints::default(),
                c(|c| c.pattern = Some("^a".into())),
                Kind::ConstraintTightened,
                "pattern",
            ),
            (
                c(|c| c.pattern = Some("^a".into())),
                c(|c| c.pattern = Some("^b".into())),
                Kind::ConstraintChanged,
                "pattern",
            ),
            (
                c(|c| c.max_items = Some(10)),
                c(|c| c.max_items = Some(5)),
                Kind::ConstraintTightened,
                "maxItems",
            ),
            (
                c(|c| c.min_items = Some(0)),
                c(|c| c.min_items = Some(1)),
                Kind::ConstraintTightened,
                "minItems",
            ),
            (
                Constraints::default(),
                c(|c| c.unique_items = true),
                Kind::ConstraintTightened,
                "uniqueItems",
            ),
            (
                c(|c| c.multiple_of = Some(2.0)),
                c(|c| c.multiple_of = Some(4.0)),
                Kind::ConstraintTightened,
                "multipleOf",
            ),
            (
                c(|c| c.max_length = Some(100)),
                c(|c| c.max_length = Some(255)),
                Kind::ConstraintRelaxed,
                "maxLength",
            ),
            (
                c(|c| c.minimum = Some(1.0)),
                Constraints::default(),
                Kind::ConstraintRelaxed,
                "minimum",
            ),
        ];
        for (old, new, kind, keyword) in cases {
            let deployed = kind != Kind::ConstraintRelaxed;
            // On a request field.
            let a = api(
                op("/p"),
                struct_with(constrained("String", old.clone()), true, false),
            );
            let b = api(
                op("/p"),
                struct_with(constrained("String", new.clone()), true, false),
            );
            let report = diff(&a, &b);
            assert_eq!(
                got(&report),
                [(kind, deployed, false)],
                "{keyword}: {report:?}"
            );
            assert_eq!(report.changes[0].value.as_deref(), Some(keyword));
            // On a parameter.
            let param = |constraints| Param {
                position: 0,
                wire: "limit".into(),
                location: "query".into(),
                ty: "i32".into(),
                required: false,
                constraints,
            };
            let mut old_op = op("/p");
            old_op.params.insert("limit".into(), param(old.clone()));
            let mut new_op = op("/p");
            new_op.params.insert("limit".into(), param(new.clone()));
            let ty = || struct_with(field(Presence::Required), false, true);
            let report = diff(&api(old_op, ty()), &api(new_op, ty()));
            assert_eq!(
                got(&report),
                [(kind, deployed, false)],
                "{keyword}: {report:?}"
            );
            assert_eq!(report.changes[0].location(), "run_task(limit)");
            // On a response-only field with a plain type: never breaking.
            let a = api(op("/p"), struct_with(constrained("i64", old), false, true));
            let b = api(op("/p"), struct_with(constrained("i64", new), false, true));
            assert_eq!(got(&diff(&a, &b)), [(kind, false, false)], "{keyword}");
        }
    }

    #[test]
    fn relaxed_string_constraints_break_deployed_decoders_that_check_them() {
        // A response field typed as a constrained-string newtype: deployed clients validate
        // `maxLength` while decoding, so raising it breaks them.
        let short = |max| Constraints {
            max_length: Some(max),
            ..Constraints::default()
        };
        let with_newtype = |max| {
            let mut s = api(
                op("/p"),
                struct_with(constrained("RunX", short(max)), false, true),
            );
            s.types.insert(
                "RunX".into(),
                TypeDef {
                    kind: TypeKind::Newtype("String".into()),
                    deck_name: None,
                    usage: Usage {
                        request: false,
                        response: true,
                    },
                },
            );
            s
        };
        assert_eq!(
            got(&diff(&with_newtype(10), &with_newtype(20))),
            [(Kind::ConstraintRelaxed, true, false)]
        );
        // Lowering it does not (the old check is looser than what the server now sends).
        assert_eq!(
            got(&diff(&with_newtype(20), &with_newtype(10))),
            [(Kind::ConstraintTightened, false, false)]
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
        assert_eq!(
            got(&report),
            [
                // Moved: every deployed binary calls the old route; the method keeps its name.
                (Kind::OperationMoved, true, false),
                (Kind::RequestBodyAdded, true, true)
            ]
        );

        let mut unpaged = moved.clone();
        unpaged.pagination = None;
        unpaged.body = Some(Body {
            ty: "Other".into(),
            required: false,
        });
        let report = diff(&api(moved, ty()), &api(unpaged, ty()));
        assert_eq!(
            got(&report),
            [
                (Kind::PaginationRemoved, true, true),
                (Kind::RequestBodyRetyped, true, true),
                (Kind::RequestBodyMadeOptional, false, false)
            ]
        );
    }

    #[test]
    fn a_path_parameter_renamed_is_the_same_route() {
        let ty = || struct_with(field(Presence::Required), false, true);
        let path_param = |wire: &str| Param {
            position: 0,
            wire: wire.into(),
            location: "path".into(),
            ty: "String".into(),
            required: true,
            constraints: Constraints::default(),
        };
        let mut old = op("/runs/{run_id}");
        old.params.insert("run_id".into(), path_param("run_id"));
        let mut new = op("/runs/{task_run_id}");
        new.params
            .insert("task_run_id".into(), path_param("task_run_id"));
        assert_eq!(
            got(&diff(&api(old, ty()), &api(new, ty()))),
            [
                (Kind::OperationMoved, false, false),
                (Kind::ParameterRenamed, false, true)
            ]
        );
        // A query parameter renamed: both.
        let query = |wire: &str| Param {
            location: "query".into(),
            required: false,
            ..path_param(wire)
        };
        let mut old = op("/runs");
        old.params.insert("a".into(), query("a"));
        let mut new = op("/runs");
        new.params.insert("b".into(), query("b"));
        assert_eq!(
            got(&diff(&api(old, ty()), &api(new, ty()))),
            [(Kind::ParameterRenamed, true, true)]
        );
    }

    #[test]
    fn parameter_rules() {
        let ty = || struct_with(field(Presence::Required), false, true);
        let param = |wire: &str, ty: &str, required| Param {
            position: 0,
            wire: wire.into(),
            location: "query".into(),
            ty: ty.into(),
            required,
            constraints: Constraints::default(),
        };
        let with = |params: Vec<Param>| {
            let mut o = op("/p");
            for p in params {
                o.params.insert(p.wire.clone(), p);
            }
            api(o, ty())
        };
        let d = |a, b| got(&diff(&with(a), &with(b)));
        assert_eq!(
            d(vec![], vec![param("r", "String", true)]),
            [(Kind::ParameterAdded, true, true)]
        );
        assert_eq!(
            d(vec![], vec![param("q", "String", false)]),
            [(Kind::ParameterAdded, false, false)]
        );
        assert_eq!(
            d(vec![param("q", "String", false)], vec![]),
            [(Kind::ParameterRemoved, true, true)]
        );
        assert_eq!(
            d(
                vec![param("q", "String", false)],
                vec![param("q", "String", true)]
            ),
            [(Kind::ParameterMadeRequired, true, true)]
        );
        assert_eq!(
            d(
                vec![param("q", "String", true)],
                vec![param("q", "String", false)]
            ),
            [(Kind::ParameterMadeOptional, false, false)]
        );
        // A query parameter from `i32` to `String`: every number deployed clients send is a
        // valid string on the wire; the setter's type still changed.
        assert_eq!(
            d(
                vec![param("q", "i32", false)],
                vec![param("q", "String", false)]
            ),
            [(Kind::ParameterRetyped, false, true)]
        );
        assert_eq!(
            d(
                vec![param("q", "String", false)],
                vec![param("q", "i32", false)]
            ),
            [(Kind::ParameterRetyped, true, true)]
        );
    }

    #[test]
    fn success_statuses_within_2xx_break_nothing() {
        let ty = || struct_with(field(Presence::Required), false, true);
        let mut new = op("/p");
        new.success_statuses = vec!["200".into()];
        assert_eq!(
            got(&diff(&api(op("/p"), ty()), &api(new, ty()))),
            [
                (Kind::ResponseStatusRemoved, false, false),
                (Kind::ResponseStatusAdded, false, false)
            ]
        );
        let mut none = op("/p");
        none.success_statuses = vec![];
        assert_eq!(
            got(&diff(&api(op("/p"), ty()), &api(none, ty()))),
            [(Kind::ResponseStatusRemoved, true, true)]
        );
    }

    #[test]
    fn a_response_type_only_renamed_breaks_source_not_deployed_clients() {
        let ty = || struct_with(field(Presence::Required), false, true);
        let old = api(op("/p"), ty());
        let mut renamed_op = op("/p");
        renamed_op.response = "RunV2".into();
        let mut new = api(renamed_op, ty());
        let def = new.types.remove("Run").unwrap();
        new.types.insert("RunV2".into(), def);
        let report = diff(&old, &new);
        assert_eq!(
            got(&report),
            [
                (Kind::ResponseRetyped, false, true),
                (Kind::TypeRemoved, false, true),
                (Kind::TypeAdded, false, false)
            ]
        );
        // A different shape under the new name: both.
        if let TypeKind::Struct(fields) = &mut new.types.get_mut("RunV2").unwrap().kind {
            fields.get_mut("x").unwrap().ty = "i64".into();
        }
        assert_eq!(
            got(&diff(&old, &new))[0],
            (Kind::ResponseRetyped, true, true)
        );
    }

    #[test]
    fn page_size_lowered_breaks_deployed_paginators() {
        let ty = || struct_with(field(Presence::Required), false, true);
        let paged = |size| {
            let mut o = op("/p");
            o.pagination = Some(Pagination {
                item: "Run".into(),
                page_size: size,
            });
            api(o, ty())
        };
        let report = diff(&paged(100), &paged(50));
        assert_eq!(got(&report), [(Kind::PageSizeLowered, true, false)]);
        assert!(report.changes[0].detail.contains("100 → 50"));
        assert_eq!(
            got(&diff(&paged(50), &paged(100))),
            [(Kind::PageSizeRaised, false, false)]
        );
    }

    #[test]
    fn webhook_rules() {
        let ty = || struct_with(field(Presence::Required), false, true);
        let with = |hooks: &[(&str, &str)]| {
            let mut s = api(op("/p"), ty());
            for (name, payload) in hooks {
                s.webhooks.insert(
                    name.to_string(),
                    Webhook {
                        payload: payload.to_string(),
                        data: None,
                    },
                );
            }
            s
        };
        let d = |a: &[(&str, &str)], b: &[(&str, &str)]| got(&diff(&with(a), &with(b)));
        assert_eq!(
            d(&[], &[("run.done", "Run")]),
            [(Kind::WebhookAdded, false, false)]
        );
        assert_eq!(
            d(&[("run.done", "Run")], &[]),
            [(Kind::WebhookRemoved, true, true)]
        );
        assert_eq!(
            d(&[("run.done", "Run")], &[("run.done", "serde_json::Value")]),
            [(Kind::WebhookRetyped, true, true)]
        );
        // From any JSON to a type: deployed receivers decoded any JSON already.
        assert_eq!(
            d(&[("run.done", "serde_json::Value")], &[("run.done", "Run")]),
            [(Kind::WebhookRetyped, false, true)]
        );
        // The same envelope with another `data` type is retyped too, judged on the data.
        let narrowed = |data: &str| {
            let mut s = with(&[("run.done", "Event")]);
            s.webhooks.get_mut("run.done").unwrap().data = Some(data.to_string());
            s
        };
        let report = diff(&narrowed("Run"), &narrowed("serde_json::Value"));
        assert_eq!(got(&report), [(Kind::WebhookRetyped, true, true)]);
        assert!(
            report.changes[0]
                .detail
                .contains("Event, data Run → Event, data serde_json::Value"),
            "{}",
            report.changes[0].detail
        );
        assert_eq!(got(&diff(&narrowed("Run"), &narrowed("Run"))), []);
        let report = diff(&with(&[]), &with(&[("run.done", "Run")]));
        assert_eq!(report.changes[0].location(), "webhook run.done");
        assert_eq!(report.changes[0].to_json()["webhook"], "run.done");
    }

    #[test]
    fn enum_value_rules() {
        let enum_def = |values: &[&str], open: bool, request: bool, response: bool| TypeDef {
            kind: if open {
                TypeKind::OpenEnum(
                    values
                        .iter()
                        .map(|v| {
                            (
                                v.to_string(),
                                EnumValue {
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
            usage: Usage { request, response },
        };
        let d = |old: &[&str], new: &[&str], open, request, response| {
            got(&diff(
                &api(op("/p"), enum_def(old, open, request, response)),
                &api(op("/p"), enum_def(new, open, request, response)),
            ))
        };
        // Added: an open enum breaks nothing; a closed one in a response breaks deployed
        // decoders (never source: generated enums are non-exhaustive).
        assert_eq!(
            d(&["a"], &["a", "b"], true, false, true),
            [(Kind::EnumValueAdded, false, false)]
        );
        assert_eq!(
            d(&["a"], &["a", "b"], false, false, true),
            [(Kind::EnumValueAdded, true, false)]
        );
        assert_eq!(
            d(&["a"], &["a", "b"], false, true, false),
            [(Kind::EnumValueAdded, false, false)]
        );
        // Removed: the variant disappears (source); deployed clients may still send it.
        assert_eq!(
            d(&["a", "b"], &["a"], true, true, false),
            [(Kind::EnumValueRemoved, true, true)]
        );
        assert_eq!(
            d(&["a", "b"], &["a"], true, false, true),
            [(Kind::EnumValueRemoved, false, true)]
        );
    }

    #[test]
    fn type_and_operation_removals() {
        let ty = || struct_with(field(Presence::Required), false, true);
        let old = api(op("/p"), ty());
        let empty = Surface {
            spec_version: "1".into(),
            ..Surface::default()
        };
        assert_eq!(
            got(&diff(&old, &empty)),
            [
                (Kind::OperationRemoved, true, true),
                (Kind::TypeRemoved, false, true)
            ]
        );
        assert_eq!(
            got(&diff(&empty, &old)),
            [
                (Kind::OperationAdded, false, false),
                (Kind::TypeAdded, false, false)
            ]
        );
        let mut retyped = api(op("/p"), ty());
        retyped.types.get_mut("Run").unwrap().kind = TypeKind::Enum(vec!["A".into()]);
        assert_eq!(
            got(&diff(&old, &retyped)),
            [(Kind::TypeRetyped, true, true)]
        );
    }

    #[test]
    fn wire_routes_ignore_parameter_names() {
        assert_eq!(wire_route("/a/{x}/b/{y}"), "/a/{}/b/{}");
        assert_eq!(wire_route("/a"), "/a");
    }
}
