//! Operation-level rules: routes, parameters, request bodies, responses, pagination.

use super::super::wire::{self, Direction};
use super::super::{Change, Kind, Verdict};
use super::Sides;
use crate::surface::{Operation, Param};
use std::collections::BTreeSet;

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
pub(super) fn wire_route(path: &str) -> String {
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

pub(super) fn diff_operation(
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
