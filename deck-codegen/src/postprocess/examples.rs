//! Rule: every operation's doc example is a doctest that runs against MockDeck.

use super::key;
use crate::settings::OpenEnum;
use serde_json::Value;
use syn::{ImplItem, Item};

/// What the schema cannot say about a body MockDeck (like Deck) accepts: extra setters, by
/// operation (a destination needs the configuration of its type; an interaction answers the
/// question the run asked).
const EXTRA: &[(&str, &str)] = &[
    (
        "createEventDestination",
        r#"{"type": "webhook", "webhook": {"url": "https://example.com/hook"}}"#,
    ),
    (
        "submitTaskRunInteraction",
        r#"{"input": {"code": "123456"}}"#,
    ),
];

/// The component a schema names (`$ref`, or a one-entry `allOf`).
fn component(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .or_else(|| schema.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

struct Writer<'a> {
    doc: &'a Value,
    open_enums: &'a [OpenEnum],
    types: &'a [Item],
    operation: &'a str,
    /// Ids the example needs, fetched (hidden) from MockDeck before the call.
    ids: Vec<String>,
    /// Names that hold a resource's id: the spec's path parameters (`agent_id`, `run_id`).
    resource_ids: Vec<String>,
}

impl Writer<'_> {
    /// The Rust path of the generated type for `component`.
    fn type_path(&self, component: &str) -> Option<String> {
        self.types.iter().find_map(|item| match item {
            Item::Struct(s) if key(&s.ident.to_string()) == key(component) => {
                Some(format!("deck::types::{}", s.ident))
            }
            _ => None,
        })
    }

    fn id(&mut self, name: &str) -> String {
        if !self.ids.iter().any(|i| i == name) {
            self.ids.push(name.to_string());
        }
        format!("&{name}")
    }

    /// A Rust expression for a value of `schema` (named `name`), or `None` when no sensible
    /// one can be written (the field is then left out if optional).
    fn value(
        &mut self,
        schema: &Value,
        name: &str,
        depth: usize,
        given: Option<&Value>,
    ) -> Option<String> {
        if let Some(c) = component(schema) {
            if let Some(e) = self.open_enums.iter().find(|e| e.name == c) {
                let value = match given.and_then(Value::as_str) {
                    Some(wire) => e.values.iter().find(|v| v.wire == wire)?,
                    None => e.values.first()?,
                };
                return Some(format!("deck::types::{}::{}", e.name, value.variant));
            }
            let target = self.doc.pointer(&format!("/components/schemas/{c}"))?;
            if target.get("properties").is_some() {
                let path = self.type_path(c)?;
                let setters = self.setters(target, depth + 1, false, given)?;
                return Some(format!("{path}::builder(){setters}"));
            }
            return self.value(target, name, depth, given);
        }
        if let Some(given) = given {
            return Some(match given {
                Value::String(_) | Value::Bool(_) | Value::Number(_) => given.to_string(),
                _ => format!("serde_json::json!({given})"),
            });
        }
        if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
            return Some(first.to_string());
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("string") => Some(match schema.get("format").and_then(Value::as_str) {
                Some("uri") => "\"https://example.com/\"".into(),
                Some("date-time") => return None,
                _ if self.resource_ids.iter().any(|p| p == name) => self.id(name),
                _ if name == "url" => "\"https://example.com/\"".into(),
                _ => format!("\"Example {}\"", name.replace('_', " ")),
            }),
            Some("integer") | Some("number") => Some(
                schema
                    .get("minimum")
                    .and_then(Value::as_i64)
                    .unwrap_or(1)
                    .max(1)
                    .to_string(),
            ),
            Some("boolean") => Some("false".into()),
            Some("object") if schema.get("properties").is_none() => {
                Some("serde_json::json!({})".into())
            }
            None if schema.get("properties").is_none() => Some("serde_json::json!({})".into()),
            _ => None,
        }
    }

    /// `.field(value)` for the required properties of an object schema (and, for an update
    /// body, its first nullable string, so the example changes something).
    fn setters(
        &mut self,
        schema: &Value,
        depth: usize,
        update: bool,
        given: Option<&Value>,
    ) -> Option<String> {
        if depth > 3 {
            return None;
        }
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut out = String::new();
        let props = schema.get("properties").and_then(Value::as_object)?;
        let shown = update
            .then(|| {
                props
                    .iter()
                    .find(|(n, s)| s["nullable"] == true && s["type"] == "string" && *n != "name")
                    .map(|(n, _)| n.as_str())
            })
            .flatten();
        for (prop, sub) in props {
            let given = given.and_then(|g| g.get(prop));
            if !required.contains(&prop.as_str()) && Some(prop.as_str()) != shown && given.is_none()
            {
                continue;
            }
            let value = self.value(sub, prop, depth, given)?;
            let setter = match prop.as_str() {
                "type" => "type_".to_string(),
                p => p.to_string(),
            };
            let indent = "    ".repeat(depth + 2);
            out.push_str(&format!("\n{indent}.{setter}({value})"));
        }
        Some(out)
    }
}

/// The names of the spec's path parameters.
fn path_parameters(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|op| op.get("parameters").and_then(Value::as_array))
        .flatten()
        .filter(|p| p["in"] == "path")
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The example for one operation: hidden setup (a MockDeck, a client, the ids the call needs),
/// then the call as a user writes it, with typed builders.
fn example(
    doc: &Value,
    open_enums: &[OpenEnum],
    types: &[Item],
    method: &str,
    op: &Value,
    verb: &str,
) -> Result<String, String> {
    let operation = op["operationId"].as_str().unwrap_or_default();
    let mut w = Writer {
        doc,
        open_enums,
        types,
        operation,
        ids: Vec::new(),
        resource_ids: path_parameters(doc),
    };
    let mut call = format!("let response = client\n    .{method}()");
    for param in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if param["required"] != true {
            continue;
        }
        let name = param["name"].as_str().unwrap_or_default();
        let value = w
            .value(&param["schema"], name, 0, None)
            .ok_or_else(|| format!("`{operation}`: no example value for parameter `{name}`"))?;
        call.push_str(&format!("\n    .{name}({value})"));
    }
    if let Some(body) = op.pointer("/requestBody/content/application~1json/schema") {
        let c = component(body).ok_or_else(|| format!("`{operation}`: an inline request body"))?;
        let path = w
            .type_path(c)
            .ok_or_else(|| format!("`{operation}`: no generated type for `{c}`"))?;
        let schema = doc
            .pointer(&format!("/components/schemas/{c}"))
            .ok_or_else(|| format!("`{operation}`: no component `{c}`"))?;
        let extra: Option<Value> = EXTRA
            .iter()
            .find(|(id, _)| *id == operation)
            .map(|(_, json)| serde_json::from_str(json).expect("EXTRA is JSON"));
        let setters = w
            .setters(schema, 0, verb == "patch", extra.as_ref())
            .ok_or_else(|| format!("`{operation}`: no example body for `{c}`"))?;
        call.push_str(&format!("\n    .body({path}::builder(){setters})"));
    }
    call.push_str("\n    .send()\n    .await?;\nprintln!(\"{:?}\", response.status());");
    let mut text = String::from(
        "```\n# #[tokio::main(flavor = \"current_thread\")]\n\
         # async fn main() -> Result<(), deck::Error> {\n\
         # let mock = deck::mock::MockDeck::start().await;\n\
         # let client = mock.client();\n",
    );
    for id in &w.ids {
        text.push_str(&format!(
            "# let {id} = mock.__example_id({:?}, {id:?}).await;\n",
            w.operation
        ));
    }
    text.push_str(&call);
    text.push_str("\n# Ok(())\n# }\n```");
    Ok(text)
}

/// Rule: the doc example on each of `Client`'s operation methods, progenitor's `ignore`d
/// placeholder (`.credential_id(credential_id).body(body)`), becomes a doctest that runs against
/// MockDeck: required parameters and the body's required fields from the spec with values of
/// their types (typed enums, nested body builders, ids of existing resources fetched from the
/// mock in hidden lines), the call awaited with `?`. A method whose docs have no placeholder,
/// or whose example cannot be written, is an error naming it.
pub fn operation_examples(
    file: &mut syn::File,
    doc: &Value,
    open_enums: &[OpenEnum],
) -> Result<(), String> {
    let types = super::module(file, "types")?.to_vec();
    let methods = super::client_methods(file);
    for item in file.items.iter_mut() {
        let Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() || super::type_ident(&imp.self_ty).as_deref() != Some("Client") {
            continue;
        }
        for member in imp.items.iter_mut() {
            let ImplItem::Fn(f) = member else { continue };
            let method = f.sig.ident.to_string();
            if !methods.iter().any(|(m, _)| *m == method) {
                continue;
            }
            let (verb, _, op) = super::spec_operation(doc, &method)
                .ok_or_else(|| format!("client method `{method}` has no operation in the spec"))?;
            let example = example(doc, open_enums, &types, &method, op, &verb)?;
            let mut replaced = false;
            for attr in f.attrs.iter_mut().filter(|a| a.path().is_ident("doc")) {
                let syn::Meta::NameValue(nv) = &attr.meta else {
                    continue;
                };
                let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
                else {
                    continue;
                };
                let text = s.value();
                let Some(start) = text.find("```ignore") else {
                    continue;
                };
                let end = text[start + 9..]
                    .find("```")
                    .map(|i| start + 9 + i + 3)
                    .ok_or_else(|| format!("`{method}`: an unclosed example"))?;
                let new = format!("{}{}{}", &text[..start], example, &text[end..]);
                *attr = syn::parse_quote!(#[doc = #new]);
                replaced = true;
            }
            if !replaced {
                return Err(format!("`{method}` has no `ignore`d example to replace"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn placeholders_become_runnable_examples() {
        let mut file = fixture::client();
        // progenitor's placeholder, as it documents `list_task_runs`.
        for item in file.items.iter_mut() {
            let Item::Impl(imp) = item else { continue };
            for member in imp.items.iter_mut() {
                if let ImplItem::Fn(f) = member
                    && f.sig.ident == "list_task_runs"
                {
                    f.attrs.push(syn::parse_quote!(#[doc = "List runs\n```ignore\nlet response = client.list_task_runs()\n    .limit(limit)\n    .send()\n    .await;\n```"]));
                }
            }
        }
        let mut doc = fixture::doc();
        doc["paths"]["/task-runs"]["get"]["parameters"][1]["required"] = true.into();
        operation_examples(&mut file, &doc, &[]).unwrap();
        let text = prettyplease::unparse(&file);
        assert!(!text.contains("```ignore"), "{text}");
        for needle in [
            "let mock = deck::mock::MockDeck::start().await;",
            "let response = client\n    .list_task_runs()\n    .limit(1)\n    .send()\n    .await?;",
        ] {
            assert!(text.contains(needle), "{needle} in:\n{text}");
        }
        // A method without a placeholder is reported.
        assert!(
            operation_examples(&mut file, &doc, &[])
                .unwrap_err()
                .contains("list_task_runs")
        );
    }
}
