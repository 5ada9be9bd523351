//! `openapi/surface.txt`: the surface as text, one item a line, sorted, so the file only changes
//! when the surface does and a spec change reads as a diff in review.

use super::*;

/// First lines of the snapshot.
pub const HEADER: &str = "# Public surface of the generated `deck` client (openapi/v2.json with openapi/overlay.json, normalised).\n\
# One item a line; regenerate with `cargo xtask codegen --write` (or `cargo xtask spec refresh`).";

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

impl Constraints {
    /// `minimum 1, maximum 100, maxLength 255, …` (enum values are listed with their type).
    pub fn render(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(n) = self.minimum {
            let word = if self.exclusive_minimum {
                "exclusiveMinimum"
            } else {
                "minimum"
            };
            out.push(format!("{word} {}", number(n)));
        }
        if let Some(n) = self.maximum {
            let word = if self.exclusive_maximum {
                "exclusiveMaximum"
            } else {
                "maximum"
            };
            out.push(format!("{word} {}", number(n)));
        }
        for (word, value) in [
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("minItems", self.min_items),
            ("maxItems", self.max_items),
        ] {
            if let Some(v) = value {
                out.push(format!("{word} {v}"));
            }
        }
        if self.unique_items {
            out.push("uniqueItems".into());
        }
        if let Some(n) = self.multiple_of {
            out.push(format!("multipleOf {}", number(n)));
        }
        if let Some(p) = &self.pattern {
            out.push(format!("pattern {p}"));
        }
        out
    }
}

impl Surface {
    /// The snapshot text.
    pub fn render(&self) -> String {
        let mut lines = vec![
            HEADER.to_string(),
            format!("spec version: {}", self.spec_version),
        ];
        for (name, op) in &self.operations {
            let statuses = op.success_statuses.join(", ");
            lines.push(format!(
                "op {name}: {} {} -> {} (success: {statuses})",
                op.method, op.path, op.response
            ));
            if let Some(p) = &op.pagination {
                lines.push(format!(
                    "op {name} paginated: item {}, page size {}",
                    p.item, p.page_size
                ));
            }
            if let Some(b) = &op.body {
                let presence = if b.required { "required" } else { "optional" };
                lines.push(format!("op {name} body: {} ({presence})", b.ty));
            }
            for (param, p) in &op.params {
                let mut notes = vec![
                    if p.wire == *param {
                        p.location.clone()
                    } else {
                        format!("{} \"{}\"", p.location, p.wire)
                    },
                    if p.required { "required" } else { "optional" }.to_string(),
                ];
                notes.extend(p.constraints.render());
                lines.push(format!(
                    "op {name} param {param}: {} ({})",
                    p.ty,
                    notes.join(", ")
                ));
            }
        }
        for (name, hook) in &self.webhooks {
            match &hook.data {
                Some(data) => lines.push(format!("webhook {name}: {}, data {data}", hook.payload)),
                None => lines.push(format!("webhook {name}: {}", hook.payload)),
            }
        }
        // Deck's schema name is left out: a rendition of the same API under other schema names
        // renders the same surface (`openapi/README.md` maps the names).
        for (name, def) in &self.types {
            lines.push(format!("type {name}: {}", def.kind.describe()));
            match &def.kind {
                Kind::Struct(fields) => {
                    for (wire, f) in fields {
                        let mut notes = Vec::new();
                        if *wire != f.name {
                            notes.push(format!("wire \"{wire}\""));
                        }
                        match f.presence {
                            Presence::Required => {}
                            Presence::RequiredNullable => notes.push("required, nullable".into()),
                            Presence::Optional => notes.push("optional".into()),
                        }
                        if f.int_or_string {
                            notes.push("number or numeric string".into());
                        }
                        if f.secret {
                            notes.push("secret: redacted in Debug".into());
                        }
                        notes.extend(f.constraints.render());
                        let notes = if notes.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", notes.join(", "))
                        };
                        lines.push(format!("type {name} field {}: {}{notes}", f.name, f.ty));
                    }
                }
                Kind::OpenEnum(values) => {
                    for (wire, v) in values {
                        let aliases = if v.aliases.is_empty() {
                            String::new()
                        } else {
                            let quoted: Vec<String> =
                                v.aliases.iter().map(|a| format!("\"{a}\"")).collect();
                            format!(" (also {})", quoted.join(", "))
                        };
                        lines.push(format!(
                            "type {name} value \"{wire}\" -> {}{aliases}",
                            v.variant
                        ));
                    }
                }
                Kind::Enum(variants) => {
                    for v in variants {
                        lines.push(format!("type {name} variant {v}"));
                    }
                }
                Kind::Newtype(_) | Kind::Alias(_) => {}
            }
        }
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_surface_renders_one_item_a_line() {
        let mut surface = Surface {
            spec_version: "2.0.0".into(),
            ..Surface::default()
        };
        surface.operations.insert(
            "list_runs".into(),
            Operation {
                operation_id: "listRuns".into(),
                method: "GET".into(),
                path: "/runs".into(),
                params: [(
                    "limit".to_string(),
                    Param {
                        position: 0,
                        wire: "limit".into(),
                        location: "query".into(),
                        ty: "i32".into(),
                        required: false,
                        constraints: Constraints {
                            maximum: Some(100.0),
                            ..Constraints::default()
                        },
                    },
                )]
                .into(),
                body: None,
                response: "RunPage".into(),
                success_statuses: vec!["200".into()],
                pagination: Some(Pagination {
                    item: "Run".into(),
                    page_size: 100,
                }),
            },
        );
        surface.types.insert(
            "RunStatus".into(),
            TypeDef {
                kind: Kind::OpenEnum(
                    [(
                        "canceling".to_string(),
                        EnumValue {
                            variant: "Canceling".into(),
                            aliases: vec!["cancelling".into()],
                        },
                    )]
                    .into(),
                ),
                deck_name: None,
                usage: Usage::default(),
            },
        );
        surface.webhooks.insert(
            "task_run.completed".into(),
            Webhook {
                payload: "TaskRunEvent".into(),
                data: None,
            },
        );
        let text = surface.render();
        let lines: Vec<&str> = text.lines().skip(2).collect();
        assert_eq!(
            lines,
            vec![
                "spec version: 2.0.0",
                "op list_runs: GET /runs -> RunPage (success: 200)",
                "op list_runs paginated: item Run, page size 100",
                "op list_runs param limit: i32 (query, optional, maximum 100)",
                "webhook task_run.completed: TaskRunEvent",
                "type RunStatus: open enum",
                "type RunStatus value \"canceling\" -> Canceling (also \"cancelling\")",
            ]
        );
    }
}
