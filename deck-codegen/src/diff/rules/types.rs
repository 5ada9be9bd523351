//! Type-level rules: types, fields, presence, enum values, constraints.

use super::super::wire::{self, Direction};
use super::super::{Change, Kind, Verdict};
use super::Sides;
use crate::surface::{Field, Kind as TypeKind, Presence, TypeDef, Usage};

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

pub(super) fn diff_type(
    sides: Sides<'_>,
    name: &str,
    old: &TypeDef,
    new: &TypeDef,
    out: &mut Vec<Change>,
) {
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
