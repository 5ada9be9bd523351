//! One entry point that calls any operation by its `operationId`, for spec-driven tests.

use super::generic_arg;
use super::key;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::Item;

/// Rule: with the `mock` feature, `Client::__call_operation(operation_id, params, body)` calls
/// the operation's typed builder with parameters given as JSON by wire name and a JSON body, and
/// answers the status and the decoded success body as JSON. The crate's own tests iterate over
/// the spec's operations with it (so a refreshed spec is covered without a hand-written list);
/// it is `#[doc(hidden)]` and not part of the API.
pub fn operation_dispatch(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let methods = super::client_methods(file);
    let builders = super::module(file, "builder")?;
    let mut arms: Vec<TokenStream> = Vec::new();
    for (method, builder) in methods {
        let (_, _, op) = super::spec_operation(doc, &method)
            .ok_or_else(|| format!("client method `{method}` has no operation in the spec"))?;
        let operation_id = op["operationId"].as_str().unwrap_or_default();
        let fields = builders
            .iter()
            .find_map(|item| match item {
                Item::Struct(s) if s.ident == builder => Some(&s.fields),
                _ => None,
            })
            .ok_or_else(|| format!("no builder struct `{builder}`"))?;
        let mut setters = Vec::new();
        for field in fields {
            let Some(ident) = field.ident.as_ref() else {
                continue;
            };
            if ident == "client" || ident == "options" {
                continue;
            }
            let inner = generic_arg(&field.ty, "Result")
                .ok_or_else(|| format!("builder `{builder}` field `{ident}` is not a Result"))?;
            if ident == "body" {
                let name = super::type_ident(&inner)
                    .ok_or_else(|| format!("builder `{builder}` has an unnamed body type"))?;
                let body = format_ident!("{name}");
                setters.push(quote! {
                    if let Some(value) = body {
                        b = b.body(crate::wire::argument::<types::#body>("body", &value)?);
                    }
                });
                continue;
            }
            let ty = generic_arg(&inner, "Option").unwrap_or(inner);
            let wire = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p["name"].as_str())
                .find(|name| key(name) == key(&ident.to_string()))
                .ok_or_else(|| format!("`{method}` parameter `{ident}` is not in the spec"))?;
            setters.push(quote! {
                if let Some(value) = params.get(#wire) {
                    b = b.#ident(crate::wire::argument::<#ty>(#wire, value)?);
                }
            });
        }
        let method = format_ident!("{method}");
        let binding = if setters.is_empty() {
            quote!(let b = self.#method();)
        } else {
            quote!(let mut b = self.#method();)
        };
        arms.push(quote! {
            #operation_id => {
                #binding
                #(#setters)*
                let response = b.send().await?;
                let status = response.status();
                Ok((status, crate::wire::to_json(&response.into_inner())?))
            }
        });
    }
    super::append(
        file,
        "builder",
        quote! {
            /// Spec-driven testing support (feature `mock`); not part of the API.
            #[cfg(feature = "mock")]
            impl super::Client {
                /// Calls operation `operation_id` with `params` (JSON values by wire name) and a
                /// JSON `body`, through its typed builder; answers the status and the decoded
                /// success body, re-serialised. Public only for the crate's own tests, which
                /// iterate over the spec's operations with it.
                #[doc(hidden)]
                pub async fn __call_operation(
                    &self,
                    operation_id: &str,
                    params: &::serde_json::Map<::std::string::String, ::serde_json::Value>,
                    body: ::std::option::Option<::serde_json::Value>,
                ) -> ::std::result::Result<(::reqwest::StatusCode, ::serde_json::Value), crate::Error> {
                    match operation_id {
                        #(#arms)*
                        other => Err(crate::Error::InvalidRequest(format!(
                            "no operation `{other}` in this client"
                        ))),
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn every_operation_is_reachable_by_its_id() {
        let mut file = fixture::client();
        crate::postprocess::sends::builder_options(&mut file).unwrap();
        operation_dispatch(&mut file, &fixture::doc()).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash(
                "\"listTaskRuns\" => { let mut b = self.list_task_runs();"
            )),
            "{text}"
        );
        assert!(text.contains(&fixture::squash(
            "if let Some(value) = params.get(\"limit\") { b = b.limit(crate::wire::argument::<i32>(\"limit\", value)?); }"
        )), "{text}");
        assert!(
            text.contains(&fixture::squash("#[cfg(feature = \"mock\")]")),
            "{text}"
        );
    }
}
