//! The comparison itself: one function per level (operation, webhook, type, field), each
//! change with its two verdicts (see the table in the module docs of `diff`).

use super::wire::{self, Mode};
use super::{Change, Kind, Report, Verdict};
use crate::surface::{Surface, Webhook};

mod operations;
mod types;

use operations::diff_operation;
use types::diff_type;

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

#[cfg(test)]
mod tests;
