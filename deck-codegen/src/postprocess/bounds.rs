//! Rule: bounds the spec states are checked in `send()` before the request is built.

use super::{key, type_ident};
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;
use syn::{ImplItem, Item, Stmt};

/// The bounds a schema states, as tokens building a `crate::bounds::Bounds`; `None` when it
/// states none. `minLength`/`maxLength`/`pattern` only count on a plain `String` (typify turns
/// a constrained string component into a newtype that checks itself).
fn bounds_of(schema: &Value, rust: &syn::Type) -> Option<TokenStream> {
    let is_string = {
        let inner = super::generic_arg(rust, "Option")
            .or_else(|| super::generic_arg(rust, "Patch"))
            .unwrap_or_else(|| rust.clone());
        type_ident(&inner).as_deref() == Some("String")
    };
    let number = |k: &str| schema.get(k).and_then(Value::as_f64);
    let length = |k: &str| {
        schema
            .get(k)
            .and_then(Value::as_u64)
            .filter(|_| is_string)
            .map(|n| n as usize)
    };
    let pattern = schema
        .get("pattern")
        .and_then(Value::as_str)
        .filter(|_| is_string);
    // `x-deck-minimum`: a documented minimum the overlay adds for this check only (as
    // `minimum` it would change the generated type, e.g. `limit: NonZeroU32`).
    let (min, max, min_len, max_len) = (
        number("minimum").or_else(|| number("x-deck-minimum")),
        number("maximum"),
        length("minLength"),
        length("maxLength"),
    );
    if min.is_none() && max.is_none() && min_len.is_none() && max_len.is_none() && pattern.is_none()
    {
        return None;
    }
    let opt_f = |v: Option<f64>| match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    };
    let opt_u = |v: Option<usize>| match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    };
    let (min, max, min_len, max_len) = (opt_f(min), opt_f(max), opt_u(min_len), opt_u(max_len));
    let pattern = match pattern {
        Some(p) => quote!(Some(#p)),
        None => quote!(None),
    };
    Some(quote! {
        &crate::bounds::Bounds {
            minimum: #min, maximum: #max, min_length: #min_len, max_length: #max_len, pattern: #pattern,
        }
    })
}

/// `schema` with one `$ref` (or a one-entry `allOf`) followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let target = schema
        .get("$ref")
        .or_else(|| schema.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| doc.pointer(p));
    target.unwrap_or(schema)
}

/// The index of `let <name> = …;` in `stmts`.
fn binding(stmts: &[Stmt], name: &str) -> Option<usize> {
    stmts.iter().position(|s| {
        matches!(s, Stmt::Local(local) if matches!(&local.pat,
            syn::Pat::Ident(p) if p.ident == name))
    })
}

/// Rule: every parameter and top-level body field with `minimum`, `maximum`, `minLength`,
/// `maxLength` or `pattern` in the spec is checked in the operation's `send()` right after the
/// builder's value is unwrapped: `crate::bounds::check(&limit, "parameter `limit`", &Bounds { … })?`.
/// A violation is `Error::InvalidRequest` naming the parameter and the bound, and nothing is sent.
pub fn spec_bounds(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let methods = super::client_methods(file);
    let types = super::module(file, "types")?.to_vec();
    let builder = super::module_mut(file, "builder")?;
    for item in super::items_mut(builder) {
        let Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        let Some(name) = type_ident(&imp.self_ty) else {
            continue;
        };
        let Some((method, _)) = methods.iter().find(|(_, b)| *b == name) else {
            continue;
        };
        let (_, _, op) = super::spec_operation(doc, method)
            .ok_or_else(|| format!("client method `{method}` has no operation in the spec"))?;
        let Some(send) = imp.items.iter_mut().find_map(|m| match m {
            ImplItem::Fn(f) if f.sig.ident == "send" => Some(f),
            _ => None,
        }) else {
            continue;
        };
        let mut checks: Vec<(String, Stmt)> = Vec::new();
        // Parameters: the builder's variable is the parameter's name in snake case.
        for param in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(wire), Some(schema)) = (param["name"].as_str(), param.get("schema")) else {
                continue;
            };
            let Some(var) = send.block.stmts.iter().find_map(|s| match s {
                Stmt::Local(l) => match &l.pat {
                    syn::Pat::Ident(p) if key(&p.ident.to_string()) == key(wire) => {
                        Some(p.ident.clone())
                    }
                    _ => None,
                },
                _ => None,
            }) else {
                return Err(format!("`{method}` has no variable for parameter `{wire}`"));
            };
            // Parameter types are not visible here; a string parameter is checked as one when
            // the spec says so.
            let rust: syn::Type = if schema["type"] == "string" {
                syn::parse_quote!(String)
            } else {
                syn::parse_quote!(i64)
            };
            if let Some(bounds) = bounds_of(resolve(doc, schema), &rust) {
                let place = format!("parameter `{wire}`");
                checks.push((
                    var.to_string(),
                    syn::parse_quote!(crate::bounds::check(&#var, #place, #bounds)?;),
                ));
            }
        }
        // Body: top-level properties of its component, by the generated field's wire name.
        if let Some(body) = op.pointer("/requestBody/content/application~1json/schema") {
            let component = resolve(doc, body);
            let body_type = body
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .unwrap_or_default();
            let fields = types.iter().find_map(|item| match item {
                Item::Struct(s) if key(&s.ident.to_string()) == key(body_type) => Some(&s.fields),
                _ => None,
            });
            for (prop, schema) in component
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let Some(field) = fields.and_then(|fields| {
                    fields
                        .iter()
                        .find(|f| super::types::wire_name(f).as_deref() == Some(prop.as_str()))
                }) else {
                    continue;
                };
                if let Some(bounds) = bounds_of(resolve(doc, schema), &field.ty) {
                    let ident = field.ident.clone().expect("named field");
                    let place = format!("body field `{prop}`");
                    checks.push((
                        "body".into(),
                        syn::parse_quote!(crate::bounds::check(&body.#ident, #place, #bounds)?;),
                    ));
                }
            }
        }
        // Inserted after the binding they check, last first so indices stay valid.
        for (var, check) in checks.into_iter().rev() {
            let at = binding(&send.block.stmts, &var)
                .ok_or_else(|| format!("`{method}`'s send has no `let {var}`"))?;
            send.block.stmts.insert(at + 1, check);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn parameter_bounds_are_checked_before_sending() {
        let mut file = fixture::client();
        spec_bounds(&mut file, &fixture::doc()).unwrap();
        let text = fixture::render(&file);
        let check = fixture::squash(
            "let limit = limit.map_err(Error::InvalidRequest)?;
             crate::bounds::check(&limit, \"parameter `limit`\", &crate::bounds::Bounds {
                 minimum: None, maximum: Some(50f64), min_length: None, max_length: None, pattern: None,
             },)?;",
        );
        assert!(text.contains(&check), "{text}");
        // `cursor` states no bound: no check.
        assert_eq!(text.matches("crate::bounds::check").count(), 1, "{text}");

        // Body fields: checked on the converted body, by their wire names.
        let mut file: syn::File = syn::parse_str(
            r#"
            pub mod types {
                pub struct CreateAgentRequest {
                    pub name: ::std::string::String,
                    #[serde(rename = "max-runs")]
                    pub max_runs: ::std::option::Option<i64>,
                    pub note: ::std::option::Option<::std::string::String>,
                }
            }
            pub struct Client {}
            impl Client {
                pub fn create_agent(&self) -> builder::CreateAgent<'_> { builder::CreateAgent::new(self) }
            }
            pub mod builder {
                impl<'a> CreateAgent<'a> {
                    pub async fn send(self) -> Result<ResponseValue<types::Agent>, Error> {
                        let Self { client, body } = self;
                        let body = body.and_then(|v| types::CreateAgentRequest::try_from(v)).map_err(Error::InvalidRequest)?;
                        let url = format!("{}/agents", client.baseurl);
                    }
                }
            }
            "#,
        )
        .unwrap();
        let doc = serde_json::json!({
            "paths": {"/agents": {"post": {"operationId": "createAgent", "requestBody": {"content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/CreateAgentRequest"}}}}}}},
            "components": {"schemas": {"CreateAgentRequest": {"type": "object", "properties": {
                "name": {"type": "string", "maxLength": 64, "pattern": "^[a-z]"},
                "max-runs": {"type": "integer", "minimum": 1},
                "note": {"type": "string"}
            }}}}
        });
        spec_bounds(&mut file, &doc).unwrap();
        let text = fixture::render(&file);
        for needle in [
            "crate::bounds::check(&body.name, \"body field `name`\", &crate::bounds::Bounds {
                 minimum: None, maximum: None, min_length: None, max_length: Some(64usize), pattern: Some(\"^[a-z]\"),
             },)?;",
            "crate::bounds::check(&body.max_runs, \"body field `max-runs`\", &crate::bounds::Bounds {
                 minimum: Some(1f64), maximum: None,",
        ] {
            assert!(text.contains(&fixture::squash(needle)), "{needle} in:\n{text}");
        }
        assert_eq!(text.matches("crate::bounds::check").count(), 2, "{text}");
    }
}
