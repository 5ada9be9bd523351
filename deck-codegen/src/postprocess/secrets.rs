//! Rule: the field names the TRACE body log redacts, per operation, from the overlay's
//! `x-deck-secret` markers: the one list behind both `Debug` redaction and log redaction.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use syn::parse_quote;

/// Rule: emits `pub(crate) fn secret_fields(operation: &str) -> &'static [&'static str]` at the
/// top of the generated file: for each operation (by its client method name, the name the
/// transport logs under), the wire names of the `x-deck-secret` properties of every component
/// schema its request body or responses reach. The hand-written redactor
/// (`src/transport.rs`) replaces the values of these fields, at any depth, in TRACE bodies.
pub fn secret_fields(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let secrets = super::types::marked_properties(doc, "x-deck-secret", false)?;
    let mut by_operation: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (method, _) in super::client_methods(file) {
        let Some((_, _, op)) = super::spec_operation(doc, &method) else {
            continue;
        };
        let mut reached = BTreeSet::new();
        for part in ["requestBody", "responses"] {
            if let Some(value) = op.get(part) {
                reach(doc, value, &mut reached);
            }
        }
        let fields: BTreeSet<String> = secrets
            .iter()
            .filter(|(component, _)| reached.contains(component))
            .map(|(_, property)| property.clone())
            .collect();
        if !fields.is_empty() {
            by_operation.insert(method, fields);
        }
    }
    let arms = by_operation.iter().map(|(operation, fields)| {
        let fields = fields.iter();
        quote::quote!(#operation => &[#(#fields),*],)
    });
    file.items.push(parse_quote! {
        /// The fields whose values a TRACE log of `operation`'s bodies never shows (from the
        /// overlay's `x-deck-secret` markers).
        pub(crate) fn secret_fields(operation: &str) -> &'static [&'static str] {
            match operation {
                #(#arms)*
                _ => &[],
            }
        }
    });
    Ok(())
}

/// Adds to `out` every component schema `value` reaches through `$ref`s (transitively).
fn reach(doc: &Value, value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(obj) => {
            if let Some(target) = obj.get("$ref").and_then(Value::as_str) {
                let name = target.strip_prefix("#/components/schemas/");
                let fresh = match name {
                    Some(name) => out.insert(unescape(name)),
                    None => true,
                };
                if fresh
                    && let Some(pointed) = target.strip_prefix('#').and_then(|p| doc.pointer(p))
                {
                    reach(doc, pointed, out);
                }
            }
            for v in obj.values() {
                reach(doc, v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| reach(doc, v, out)),
        _ => {}
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn secret_fields_follow_the_markers_through_refs() {
        let mut file = fixture::client();
        let mut doc = fixture::doc();
        // A marker on a component the list operation reaches through the page's items.
        doc["components"]["schemas"]["TaskRun"]["properties"]["server_url"] =
            serde_json::json!({"type": "string", "x-deck-secret": true});
        // A marker on a component no operation reaches names nothing.
        doc["components"]["schemas"]["Unused"] = serde_json::json!({"type": "object",
            "properties": {"token": {"type": "string", "x-deck-secret": true}}});
        secret_fields(&mut file, &doc).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash("\"list_task_runs\" => &[\"server_url\"],")),
            "{text}"
        );
        assert!(!text.contains("\"token\""), "{text}");
    }

    #[test]
    fn no_markers_no_fields() {
        let mut file = fixture::client();
        secret_fields(&mut file, &fixture::doc()).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash("match operation { _ => &[], }")),
            "{text}"
        );
    }
}
