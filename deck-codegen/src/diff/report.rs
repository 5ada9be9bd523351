//! The report of a diff: the changes with their verdicts, what the overlay and the normaliser
//! no longer fit in the new spec, and its text, Markdown and JSON forms.

use super::Change;
use crate::overlay;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// An overlay action whose target matches nothing in the new spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DanglingAction {
    /// Position in the overlay's `actions`.
    pub index: usize,
    /// Its JSONPath target.
    pub target: String,
    /// Its description.
    pub description: Option<String>,
    /// Why it was skipped although its target matched (see
    /// [`overlay::ActionReport::skipped`]); `None` when it matched nothing.
    pub skipped: Option<String>,
}

impl DanglingAction {
    /// `overlay action 3 matches nothing in the spec: target `…` (description)`, or `overlay
    /// action 3 skipped: why: target …`.
    pub fn message(&self) -> String {
        let what = self
            .description
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        match &self.skipped {
            Some(why) => format!(
                "overlay action {} skipped: {why}: target `{}`{what}",
                self.index, self.target
            ),
            None => format!(
                "overlay action {} matches nothing in the spec: target `{}`{what}",
                self.index, self.target
            ),
        }
    }
}

/// A value of the new spec the overlay replaces (and did not in the old spec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayOverride {
    /// Position of the action in the overlay's `actions`.
    pub index: usize,
    /// The action's JSONPath target.
    pub target: String,
    /// JSON pointer of the replaced value in the spec.
    pub pointer: String,
    /// What the new spec says.
    pub spec: Value,
    /// What the overlay puts there instead.
    pub overlay: Value,
}

impl OverlayOverride {
    /// One line for reports.
    pub fn message(&self) -> String {
        format!(
            "overlay action {} replaces what the new spec says at `{}`: {} → {} (target `{}`); \
             the generated client follows the overlay, Deck's server its spec",
            self.index, self.pointer, self.spec, self.overlay, self.target
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
    /// `{"changes":[…],"breaking":n,"source_breaking":n,"total":n,…}`.
    Json,
}

/// A list of changes, sorted (operations by name, then webhooks, then types), and what the
/// overlay no longer fits in the new spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The changes.
    pub changes: Vec<Change>,
    /// Overlay actions whose target matches nothing in the new spec.
    pub dangling_overlay_actions: Vec<DanglingAction>,
    /// Values of the new spec the overlay overrides that it did not override in the old one.
    pub overlay_overrides: Vec<OverlayOverride>,
    /// Why `deck-api` cannot be regenerated from the new spec as it is (it lacks or retypes what
    /// the hand-written layer uses: [`crate::contract`]); `None` when it can.
    pub contract: Option<String>,
    /// What the normaliser could not apply, or kept from the overlay, in the new spec and not in
    /// the old ([`crate::Spec::notes`]).
    pub normaliser_notes: Vec<String>,
}

impl Report {
    /// How many changes break deployed clients.
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }

    /// How many changes break source once regenerated.
    pub fn source_breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.source_breaking).count()
    }

    /// No change and no overlay finding.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
            && self.dangling_overlay_actions.is_empty()
            && self.overlay_overrides.is_empty()
            && self.contract.is_none()
            && self.normaliser_notes.is_empty()
    }

    /// Adds the normaliser's notes on `new` that it did not make on `old`.
    pub fn with_notes(mut self, old: &[String], new: &[String]) -> Self {
        self.normaliser_notes = new.iter().filter(|n| !old.contains(n)).cloned().collect();
        self
    }

    /// Adds the overlay findings of `new` (dangling actions; overrides `old` did not have).
    pub fn with_overlay(mut self, old: &overlay::Report, new: &overlay::Report) -> Self {
        self.dangling_overlay_actions = new
            .dangling()
            .map(|a| DanglingAction {
                index: a.index,
                target: a.target.clone(),
                description: a.description.clone(),
                skipped: a.skipped.clone(),
            })
            .collect();
        // An override the same action made before is not news: the same value at the same
        // place, or a reference the action replaces in both (whatever the spec calls its target:
        // a rendition under other schema names moves the pointer and renames the value).
        let last = |p: &str| p.rsplit('/').next().unwrap_or("").to_string();
        let known: Vec<(usize, &str, String, &Value)> = old
            .overrides()
            .map(|(a, o)| (a.index, o.pointer.as_str(), last(&o.pointer), &o.spec))
            .collect();
        self.overlay_overrides = new
            .overrides()
            .filter(|(a, o)| {
                !known.iter().any(|(index, pointer, key, spec)| {
                    *index == a.index
                        && ((*pointer == o.pointer && **spec == o.spec)
                            || (*key == "$ref" && last(&o.pointer) == "$ref"))
                })
            })
            .map(|(a, o)| OverlayOverride {
                index: a.index,
                target: a.target.clone(),
                pointer: o.pointer.clone(),
                spec: o.spec.clone(),
                overlay: o.overlay.clone(),
            })
            .collect();
        self
    }

    /// The summary sentence: `3 change(s) to the generated API: 1 breaking for deployed clients,
    /// 2 source-breaking`.
    pub fn summary(&self) -> String {
        if self.changes.is_empty() {
            return "No changes to the generated API".into();
        }
        format!(
            "{} change(s) to the generated API: {} breaking for deployed clients, {} source-breaking",
            self.changes.len(),
            self.breaking(),
            self.source_breaking()
        )
    }

    /// The stable JSON form: `{"changes":[…],"breaking":n,"source_breaking":n,"total":n,
    /// "dangling_overlay_actions":[{"index","target","description"}],
    /// "overlay_overrides":[{"index","target","pointer","spec","overlay"}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "changes": self.changes.iter().map(Change::to_json).collect::<Vec<_>>(),
            "breaking": self.breaking(),
            "source_breaking": self.source_breaking(),
            "total": self.changes.len(),
            "dangling_overlay_actions": self.dangling_overlay_actions.iter().map(|a| json!({
                "index": a.index,
                "target": a.target,
                "description": a.description,
                "skipped": a.skipped,
            })).collect::<Vec<_>>(),
            "contract": self.contract,
            "normaliser_notes": self.normaliser_notes,
            "overlay_overrides": self.overlay_overrides.iter().map(|o| json!({
                "index": o.index,
                "target": o.target,
                "pointer": o.pointer,
                "spec": o.spec,
                "overlay": o.overlay,
            })).collect::<Vec<_>>(),
        })
    }

    /// One line per change with both verdicts (`deployed` then `source` column), then the
    /// overlay findings.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.changes.is_empty() {
            out.push_str("No changes to the generated API.\n");
        } else {
            let _ = writeln!(out, "{}:", self.summary());
            let _ = writeln!(out, "  deployed  source");
            for c in &self.changes {
                let mark = |b: bool| if b { "BREAKING" } else { "ok      " };
                let _ = writeln!(
                    out,
                    "  {}  {}  {}: {}",
                    mark(c.breaking),
                    mark(c.source_breaking),
                    c.location(),
                    c.detail
                );
            }
        }
        if let Some(contract) = &self.contract {
            let _ = writeln!(
                out,
                "Regenerating deck-api from the new spec stops: {contract}"
            );
        }
        if !self.dangling_overlay_actions.is_empty() {
            let _ = writeln!(
                out,
                "Overlay actions not applied to the new spec (what they typed falls back to the \
                 spec's plain shapes; update openapi/overlay.json):"
            );
            for a in &self.dangling_overlay_actions {
                let _ = writeln!(out, "  {}", a.message());
            }
        }
        if !self.overlay_overrides.is_empty() {
            let _ = writeln!(out, "Values of the new spec the overlay now overrides:");
            for o in &self.overlay_overrides {
                let _ = writeln!(out, "  {}", o.message());
            }
        }
        if !self.normaliser_notes.is_empty() {
            let _ = writeln!(out, "Normaliser notes on the new spec:");
            for n in &self.normaliser_notes {
                let _ = writeln!(out, "  {n}");
            }
        }
        out
    }

    /// A Markdown section: a summary line, one table per class (breaking for deployed clients,
    /// source-breaking only, not breaking) with both verdicts, then the overlay findings.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        if self.changes.is_empty() {
            out.push_str("No changes to the generated API.\n");
        } else {
            let _ = writeln!(out, "**{}.**\n", self.summary());
            type Class = fn(&Change) -> bool;
            let classes: [(&str, Class); 3] = [
                ("Breaking for deployed clients", |c| c.breaking),
                ("Source-breaking only (deployed clients unaffected)", |c| {
                    !c.breaking && c.source_breaking
                }),
                ("Not breaking", |c| !c.breaking && !c.source_breaking),
            ];
            for (title, class) in classes {
                let rows: Vec<&Change> = self.changes.iter().filter(|c| class(c)).collect();
                if rows.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "### {title}\n");
                out.push_str(
                    "| Change | Where | Deployed clients | Source | Detail |\n|---|---|---|---|---|\n",
                );
                for c in rows {
                    let cell = |b: bool| if b { "**breaking**" } else { "ok" };
                    let _ = writeln!(
                        out,
                        "| `{}` | `{}` | {} | {} | {} |",
                        c.kind.as_str(),
                        c.location(),
                        cell(c.breaking),
                        cell(c.source_breaking),
                        markdown_text(&c.detail)
                    );
                }
                out.push('\n');
            }
        }
        if let Some(contract) = &self.contract {
            let _ = writeln!(
                out,
                "\n### deck-api cannot be regenerated from the new spec as it is\n\n{}\n",
                markdown_text(contract)
            );
        }
        if !self.dangling_overlay_actions.is_empty() {
            let _ = writeln!(
                out,
                "\n### Overlay actions not applied to the new spec\n\nWhat they typed falls \
                 back to Deck's plain shapes; update `openapi/overlay.json`.\n"
            );
            for a in &self.dangling_overlay_actions {
                let what = a
                    .description
                    .as_deref()
                    .map(|d| format!(": {}", markdown_text(d)))
                    .unwrap_or_default();
                let why = a
                    .skipped
                    .as_deref()
                    .map(|w| format!(" (skipped: {})", markdown_text(w)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- action {}, target `{}`{why}{what}",
                    a.index, a.target
                );
            }
        }
        if !self.overlay_overrides.is_empty() {
            let _ = writeln!(
                out,
                "\n### Values of the new spec the overlay now overrides\n\nThe generated client \
                 follows the overlay there, Deck's server follows its spec.\n"
            );
            for o in &self.overlay_overrides {
                let _ = writeln!(
                    out,
                    "- action {} (`{}`) at `{}`: spec `{}`, overlay `{}`",
                    o.index, o.target, o.pointer, o.spec, o.overlay
                );
            }
        }
        if !self.normaliser_notes.is_empty() {
            let _ = writeln!(out, "\n### Normaliser notes on the new spec\n");
            for n in &self.normaliser_notes {
                let _ = writeln!(out, "- {}", markdown_text(n));
            }
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
pub(super) fn markdown_text(text: &str) -> String {
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
