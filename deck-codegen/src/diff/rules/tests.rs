//! The rules, each with both verdicts, through `diff`.

use super::operations::wire_route;
use super::*;
use crate::surface::{
    Body, Constraints, EnumValue, Field, Kind as TypeKind, Operation, Pagination, Param, Presence,
    TypeDef, Usage,
};
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
