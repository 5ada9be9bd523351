//! Wire questions behind the verdicts for deployed clients: does one side accept every value the
//! other may put on the wire, and in which direction did a validation keyword move.

use super::Kind;
use crate::surface::{Constraints, Field, Kind as TypeKind, Presence, Surface};
use std::collections::BTreeSet;

/// Who decodes, which decides what an enum accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// A deployed client decodes what the server sends (its open enums accept any string).
    Received,
    /// The server, following its spec, checks what a deployed client sends (an enum accepts its
    /// values only). `text`: the value travels as text (a path, query or header parameter), so
    /// a string accepts any scalar.
    Sent {
        /// Carried as text.
        text: bool,
    },
}

/// Whether `at` (in surface `a`, the decoding side) accepts every value of `bt` (in surface
/// `b`). Conservative: `false` unless the rules below show it.
pub(super) fn covers(a: &Surface, at: &str, b: &Surface, bt: &str, mode: Mode) -> bool {
    covers_at(a, at, b, bt, mode, 0)
}

/// Whether a value of type `ty` (in `s`, with wrappers) is checked against string constraints
/// while decoding: typify turns a string with `maxLength`, `minLength` or `pattern` into a
/// newtype whose `Deserialize` validates them.
pub(super) fn validates_on_decode(s: &Surface, ty: &str) -> bool {
    let (head, args) = split(ty);
    if !args.is_empty() {
        return matches!(head, "Option" | "Vec") && validates_on_decode(s, args[0]);
    }
    matches!(s.types.get(ty).map(|d| &d.kind), Some(TypeKind::Newtype(inner)) if inner == "String")
}

/// `Vec<Option<X>>` → (`Vec`, [`Option<X>`]); `HashMap<String, X>` → (`HashMap`, [`String`, `X`]).
fn split(ty: &str) -> (&str, Vec<&str>) {
    let Some(open) = ty.find('<') else {
        return (ty, Vec::new());
    };
    let Some(inner) = ty[open + 1..].strip_suffix('>') else {
        return (ty, Vec::new());
    };
    let mut args = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                args.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    args.push(inner[start..].trim());
    (&ty[..open], args)
}

/// Follows generated aliases (`type X = Y`).
fn resolve<'a>(s: &'a Surface, mut ty: &'a str) -> &'a str {
    for _ in 0..8 {
        match s.types.get(ty).map(|d| &d.kind) {
            Some(TypeKind::Alias(target)) => ty = target,
            _ => break,
        }
    }
    ty
}

/// The range of an integer type, or `None`.
fn int_range(ty: &str) -> Option<(i128, i128)> {
    let ty = ty.strip_prefix("std::num::").unwrap_or(ty);
    Some(match ty {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        "NonZeroU8" => (1, u8::MAX.into()),
        "NonZeroU16" => (1, u16::MAX.into()),
        "NonZeroU32" => (1, u32::MAX.into()),
        "NonZeroU64" => (1, u64::MAX.into()),
        _ => return None,
    })
}

fn is_float(ty: &str) -> bool {
    matches!(ty, "f32" | "f64")
}

/// Strings a type accepts or produces: any, or these values.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Strings {
    Any,
    Values(BTreeSet<String>),
}

/// The strings `ty` may carry on the wire (`None`: not a string).
fn string_values(s: &Surface, ty: &str) -> Option<Strings> {
    match ty {
        "String" | "chrono::DateTime<Utc>" | "chrono::NaiveDate" | "uuid::Uuid" => {
            return Some(Strings::Any);
        }
        _ => {}
    }
    match s.types.get(ty).map(|d| &d.kind)? {
        TypeKind::OpenEnum(values) => Some(Strings::Values(values.keys().cloned().collect())),
        TypeKind::Newtype(inner) if inner == "String" => Some(Strings::Any),
        _ => None,
    }
}

/// The strings `ty` accepts when decoding (`None`: not a plain string acceptor).
fn string_acceptance(s: &Surface, ty: &str, mode: Mode) -> Option<Strings> {
    if ty == "String" {
        return Some(Strings::Any);
    }
    match s.types.get(ty).map(|d| &d.kind)? {
        TypeKind::OpenEnum(_) if mode == Mode::Received => Some(Strings::Any),
        TypeKind::OpenEnum(values) => Some(Strings::Values(
            values
                .iter()
                .flat_map(|(wire, v)| std::iter::once(wire.clone()).chain(v.aliases.clone()))
                .collect(),
        )),
        _ => None,
    }
}

fn is_scalar(s: &Surface, ty: &str) -> bool {
    ty == "bool" || is_float(ty) || int_range(ty).is_some() || string_values(s, ty).is_some()
}

fn covers_at(a: &Surface, at: &str, b: &Surface, bt: &str, mode: Mode, depth: u8) -> bool {
    if depth > 16 {
        return false;
    }
    let (at, bt) = (resolve(a, at), resolve(b, bt));
    // The same name: the type's own changes, if any, are reported on the type itself.
    if at == bt || at == "serde_json::Value" {
        return true;
    }
    if let (Some(accepted), Some(values)) = (string_acceptance(a, at, mode), string_values(b, bt)) {
        return match (accepted, values) {
            (Strings::Any, _) => true,
            (Strings::Values(_), Strings::Any) => false,
            (Strings::Values(ok), Strings::Values(sent)) => sent.is_subset(&ok),
        };
    }
    if mode == (Mode::Sent { text: true }) && at == "String" && is_scalar(b, bt) {
        return true;
    }
    if let (Some((amin, amax)), Some((bmin, bmax))) = (int_range(at), int_range(bt)) {
        return amin <= bmin && bmax <= amax;
    }
    if is_float(at) && (is_float(bt) || int_range(bt).is_some()) {
        return at == "f64" || bt != "f64";
    }
    let ((ah, aargs), (bh, bargs)) = (split(at), split(bt));
    if ah == "Option" && aargs.len() == 1 {
        let inner_b = if bh == "Option" && bargs.len() == 1 {
            bargs[0]
        } else {
            bt
        };
        return covers_at(a, aargs[0], b, inner_b, mode, depth + 1);
    }
    if !aargs.is_empty() {
        return ah == bh
            && aargs.len() == bargs.len()
            && aargs
                .iter()
                .zip(&bargs)
                .all(|(x, y)| covers_at(a, x, b, y, mode, depth + 1));
    }
    let (Some(adef), Some(bdef)) = (a.types.get(at), b.types.get(bt)) else {
        return false;
    };
    match (&adef.kind, &bdef.kind) {
        (TypeKind::Struct(af), TypeKind::Struct(bf)) => {
            let fields_ok = af.iter().all(|(wire, fa)| match bf.get(wire) {
                None => fa.presence == Presence::Optional,
                Some(fb) => field_covers(a, fa, b, fb, mode, depth),
            });
            // A deployed client's decoder ignores fields it does not know; the server ignores
            // fields it no longer knows, which is not accepting them.
            let extra_ok = matches!(mode, Mode::Received) || bf.keys().all(|k| af.contains_key(k));
            fields_ok && extra_ok
        }
        (TypeKind::Enum(av), TypeKind::Enum(bv)) => bv.iter().all(|v| av.contains(v)),
        (TypeKind::Newtype(ai), TypeKind::Newtype(bi)) => {
            // A constrained string checks what the surface does not record: only the same
            // inner type, not a string, is known to accept.
            ai != "String" && covers_at(a, ai, b, bi, mode, depth + 1)
        }
        _ => false,
    }
}

fn field_covers(a: &Surface, fa: &Field, b: &Surface, fb: &Field, mode: Mode, depth: u8) -> bool {
    use Presence::*;
    let presence_ok = match fa.presence {
        Optional => true,
        RequiredNullable => fb.presence != Optional,
        Required => fb.presence == Required,
    };
    let numbers_ok = mode != Mode::Received || fa.int_or_string || !fb.int_or_string;
    presence_ok && numbers_ok && covers_at(a, unwrap(fa), b, unwrap(fb), mode, depth + 1)
}

fn unwrap(f: &Field) -> &str {
    match f.presence {
        Presence::Required => &f.ty,
        _ => {
            f.ty.strip_prefix("Option<")
                .and_then(|t| t.strip_suffix('>'))
                .unwrap_or(&f.ty)
        }
    }
}

/// How a validation keyword moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// Allows less than before.
    Tightened,
    /// Allows more than before.
    Relaxed,
    /// Neither contains the other (a different `pattern`).
    Changed,
}

impl Direction {
    pub(super) fn kind(self) -> Kind {
        match self {
            Direction::Tightened => Kind::ConstraintTightened,
            Direction::Relaxed => Kind::ConstraintRelaxed,
            Direction::Changed => Kind::ConstraintChanged,
        }
    }
}

/// One validation keyword that changed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ConstraintChange {
    /// `maximum`, `maxLength`, `pattern`, …
    pub keyword: &'static str,
    /// Which way it moved.
    pub direction: Direction,
    old: Option<String>,
    new: Option<String>,
    /// A keyword a constrained-string newtype checks while decoding.
    pub string_keyword: bool,
}

impl ConstraintChange {
    /// `maximum 100 → 50`, `pattern none → ^a`.
    pub(super) fn describe(&self) -> String {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        let word = match self.direction {
            Direction::Tightened => "tightened",
            Direction::Relaxed => "relaxed",
            Direction::Changed => "changed",
        };
        format!(
            "{} {} → {} ({word})",
            self.keyword,
            show(&self.old),
            show(&self.new)
        )
    }
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// An upper bound (`maximum`, `maxLength`, …; `exclusive` for `exclusiveMaximum`) moving.
fn upper(old: Option<(f64, bool)>, new: Option<(f64, bool)>) -> Option<Direction> {
    match (old, new) {
        (None, None) => None,
        (None, Some(_)) => Some(Direction::Tightened),
        (Some(_), None) => Some(Direction::Relaxed),
        (Some(o), Some(n)) if o == n => None,
        (Some((o, oe)), Some((n, ne))) => Some(if n < o || (n == o && ne && !oe) {
            Direction::Tightened
        } else {
            Direction::Relaxed
        }),
    }
}

/// A lower bound moving: the mirror of [`upper`].
fn lower(old: Option<(f64, bool)>, new: Option<(f64, bool)>) -> Option<Direction> {
    let neg = |b: Option<(f64, bool)>| b.map(|(v, e)| (-v, e));
    upper(neg(old), neg(new))
}

/// Every validation keyword that differs between `o` and `n`, with its direction. Enum values
/// are left to the enum type's rules.
pub(super) fn constraint_changes(o: &Constraints, n: &Constraints) -> Vec<ConstraintChange> {
    let mut out = Vec::new();
    let bound = |v: Option<f64>, exclusive: bool| v.map(|v| (v, exclusive));
    let show_bound = |b: Option<(f64, bool)>| {
        b.map(|(v, e)| {
            if e {
                format!("{} (exclusive)", number(v))
            } else {
                number(v)
            }
        })
    };
    let mut push = |keyword, direction: Option<Direction>, old, new, string_keyword| {
        if let Some(direction) = direction {
            out.push(ConstraintChange {
                keyword,
                direction,
                old,
                new,
                string_keyword,
            });
        }
    };
    let (omin, nmin) = (
        bound(o.minimum, o.exclusive_minimum),
        bound(n.minimum, n.exclusive_minimum),
    );
    push(
        "minimum",
        lower(omin, nmin),
        show_bound(omin),
        show_bound(nmin),
        false,
    );
    let (omax, nmax) = (
        bound(o.maximum, o.exclusive_maximum),
        bound(n.maximum, n.exclusive_maximum),
    );
    push(
        "maximum",
        upper(omax, nmax),
        show_bound(omax),
        show_bound(nmax),
        false,
    );
    let count = |v: Option<u64>| v.map(|v| (v as f64, false));
    let show = |v: Option<u64>| v.map(|v| v.to_string());
    for (keyword, old, new, is_upper, string_keyword) in [
        ("minLength", o.min_length, n.min_length, false, true),
        ("maxLength", o.max_length, n.max_length, true, true),
        ("minItems", o.min_items, n.min_items, false, false),
        ("maxItems", o.max_items, n.max_items, true, false),
    ] {
        let direction = if is_upper {
            upper(count(old), count(new))
        } else {
            lower(count(old), count(new))
        };
        push(keyword, direction, show(old), show(new), string_keyword);
    }
    let flag = |b: bool| b.then(|| "true".to_string());
    push(
        "uniqueItems",
        match (o.unique_items, n.unique_items) {
            (false, true) => Some(Direction::Tightened),
            (true, false) => Some(Direction::Relaxed),
            _ => None,
        },
        flag(o.unique_items),
        flag(n.unique_items),
        false,
    );
    push(
        "multipleOf",
        match (o.multiple_of, n.multiple_of) {
            (None, Some(_)) => Some(Direction::Tightened),
            (Some(_), None) => Some(Direction::Relaxed),
            (Some(a), Some(b)) if a == b => None,
            // Every multiple of `b` is a multiple of `a` when `b` is a multiple of `a`.
            (Some(a), Some(b)) if (b / a).fract() == 0.0 => Some(Direction::Tightened),
            (Some(a), Some(b)) if (a / b).fract() == 0.0 => Some(Direction::Relaxed),
            (Some(_), Some(_)) => Some(Direction::Changed),
            (None, None) => None,
        },
        o.multiple_of.map(number),
        n.multiple_of.map(number),
        false,
    );
    push(
        "pattern",
        match (&o.pattern, &n.pattern) {
            (None, Some(_)) => Some(Direction::Tightened),
            (Some(_), None) => Some(Direction::Relaxed),
            (Some(a), Some(b)) if a != b => Some(Direction::Changed),
            _ => None,
        },
        o.pattern.clone(),
        n.pattern.clone(),
        true,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::{EnumValue, TypeDef, Usage};
    use std::collections::BTreeMap;

    fn surface(types: &[(&str, TypeKind)]) -> Surface {
        Surface {
            types: types
                .iter()
                .map(|(name, kind)| {
                    (
                        name.to_string(),
                        TypeDef {
                            kind: kind.clone(),
                            deck_name: None,
                            usage: Usage::default(),
                        },
                    )
                })
                .collect(),
            ..Surface::default()
        }
    }

    fn open_enum(values: &[&str]) -> TypeKind {
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
    }

    #[test]
    fn types_split_at_top_level_commas() {
        assert_eq!(
            split("HashMap<String, Vec<Option<X>>>"),
            ("HashMap", vec!["String", "Vec<Option<X>>"])
        );
        assert_eq!(split("String"), ("String", vec![]));
    }

    #[test]
    fn an_open_enum_accepts_any_string_only_on_the_client() {
        let s = surface(&[
            ("Status", open_enum(&["a", "b"])),
            ("Few", open_enum(&["a"])),
        ]);
        let received = Mode::Received;
        let sent = Mode::Sent { text: false };
        assert!(covers(&s, "Status", &s, "String", received));
        assert!(!covers(&s, "Status", &s, "String", sent));
        assert!(covers(&s, "Status", &s, "Few", sent));
        assert!(!covers(&s, "Few", &s, "Status", sent));
        assert!(covers(&s, "String", &s, "Status", sent));
        assert!(covers(&s, "Vec<String>", &s, "Vec<Status>", received));
        assert!(!covers(&s, "Vec<String>", &s, "String", received));
    }

    #[test]
    fn numbers_widen_and_text_parameters_take_any_scalar() {
        let s = Surface::default();
        assert!(covers(&s, "i64", &s, "i32", Mode::Received));
        assert!(!covers(&s, "i32", &s, "i64", Mode::Received));
        assert!(!covers(
            &s,
            "std::num::NonZeroU64",
            &s,
            "u64",
            Mode::Received
        ));
        assert!(covers(&s, "f64", &s, "i64", Mode::Received));
        assert!(!covers(&s, "i64", &s, "f64", Mode::Received));
        assert!(covers(&s, "String", &s, "i32", Mode::Sent { text: true }));
        assert!(!covers(&s, "String", &s, "i32", Mode::Sent { text: false }));
        assert!(covers(&s, "serde_json::Value", &s, "i32", Mode::Received));
        assert!(covers(&s, "Option<i64>", &s, "i32", Mode::Received));
        assert!(!covers(&s, "i64", &s, "Option<i64>", Mode::Received));
    }

    #[test]
    fn structs_compare_field_by_field() {
        let field = |ty: &str, presence| Field {
            name: "x".into(),
            ty: ty.into(),
            presence,
            int_or_string: false,
            secret: false,
            constraints: Constraints::default(),
        };
        let st = |fields: Vec<(&str, Field)>| {
            TypeKind::Struct(
                fields
                    .into_iter()
                    .map(|(k, f)| (k.to_string(), f))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        let old = surface(&[("A", st(vec![("x", field("String", Presence::Required))]))]);
        let same = surface(&[("B", st(vec![("x", field("String", Presence::Required))]))]);
        let more = surface(&[(
            "B",
            st(vec![
                ("x", field("String", Presence::Required)),
                ("y", field("Option<String>", Presence::Optional)),
            ]),
        )]);
        let optional = surface(&[(
            "B",
            st(vec![("x", field("Option<String>", Presence::Optional))]),
        )]);
        assert!(covers(&old, "A", &same, "B", Mode::Received));
        assert!(covers(&old, "A", &more, "B", Mode::Received));
        // The server no longer knows `y`, which a deployed client sends.
        assert!(!covers(&old, "A", &more, "B", Mode::Sent { text: false }));
        assert!(!covers(&old, "A", &optional, "B", Mode::Received));
        assert!(covers(&optional, "B", &old, "A", Mode::Received));
    }

    #[test]
    fn constrained_strings_validate_on_decode() {
        let s = surface(&[
            ("Short", TypeKind::Newtype("String".into())),
            (
                "Map",
                TypeKind::Newtype("serde_json::Map<String, serde_json::Value>".into()),
            ),
        ]);
        assert!(validates_on_decode(&s, "Short"));
        assert!(validates_on_decode(&s, "Option<Vec<Short>>"));
        assert!(!validates_on_decode(&s, "Map"));
        assert!(!validates_on_decode(&s, "String"));
    }

    #[test]
    fn bounds_move_in_a_direction() {
        assert_eq!(
            upper(Some((10.0, false)), Some((5.0, false))),
            Some(Direction::Tightened)
        );
        assert_eq!(
            upper(Some((10.0, false)), Some((10.0, true))),
            Some(Direction::Tightened)
        );
        assert_eq!(
            upper(Some((10.0, true)), Some((10.0, false))),
            Some(Direction::Relaxed)
        );
        assert_eq!(
            lower(Some((1.0, false)), Some((5.0, false))),
            Some(Direction::Tightened)
        );
        assert_eq!(lower(None, Some((0.0, false))), Some(Direction::Tightened));
        assert_eq!(lower(Some((1.0, false)), None), Some(Direction::Relaxed));
        assert_eq!(upper(Some((1.0, false)), Some((1.0, false))), None);
        let c = constraint_changes(
            &Constraints {
                maximum: Some(100.0),
                ..Constraints::default()
            },
            &Constraints {
                maximum: Some(50.0),
                exclusive_maximum: true,
                ..Constraints::default()
            },
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].describe(), "maximum 100 → 50 (exclusive) (tightened)");
    }
}
