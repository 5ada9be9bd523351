//! Rules applied to progenitor's output, on the syntax tree (never on printed text). Each rule
//! is one function with one test; a shape it does not recognise is an error naming the item,
//! so a progenitor upgrade that changes its output fails the build instead of generating
//! something subtly different.

pub mod bounds;
pub mod dispatch;
pub mod enums;
pub mod events;
pub mod examples;
pub mod fields;
pub mod httpmock;
pub mod ids;
pub mod pages;
pub mod response;
pub mod secrets;
pub mod sends;
pub mod types;

use crate::settings::OpenEnum;
use proc_macro2::TokenStream;
use serde_json::Value;
use syn::{Item, ItemMod};

/// Every rule, in order, on the generated client. A rule that does not find the shape it
/// expects fails naming itself (`rule pages::pagination: …`) and what it looked for.
pub fn apply(file: &mut syn::File, doc: &Value, open_enums: &[OpenEnum]) -> Result<(), String> {
    let rule = |name: &str, result: Result<(), String>| {
        result.map_err(|e| format!("post-processing rule `{name}`: {e}"))
    };
    rule(
        "enums::emit_open_enums",
        enums::emit_open_enums(file, open_enums),
    )?;
    rule("ids::emit_resource_ids", ids::emit_resource_ids(file, doc))?;
    rule(
        "types::int_or_string_fields",
        types::int_or_string_fields(file, doc),
    )?;
    rule("types::redacted_debug", types::redacted_debug(file, doc))?;
    rule(
        "types::non_exhaustive_types",
        types::non_exhaustive_types(file),
    )?;
    rule(
        "types::json_schema_derives",
        types::json_schema_derives(file),
    )?;
    rule(
        "types::empty_is_null_fields",
        types::empty_is_null_fields(file, doc),
    )?;
    rule("fields::patch_fields", fields::patch_fields(file, doc))?;
    rule("fields::value_setters", fields::value_setters(file))?;
    rule(
        "events::typed_event_data",
        events::typed_event_data(file, doc),
    )?;
    rule(
        "sends::private_client_constructors",
        sends::private_client_constructors(file),
    )?;
    rule(
        "sends::drop_api_version_header",
        sends::drop_api_version_header(file),
    )?;
    rule(
        "sends::multipart_bodies",
        sends::multipart_bodies(file, doc),
    )?;
    rule("sends::builder_options", sends::builder_options(file))?;
    // Pagination copies the builders' fields (options included), so it runs before `send` is
    // rewritten but after the options field exists.
    rule("pages::pagination", pages::pagination(file, doc))?;
    // The dispatcher calls the builders' setters and `send`, whatever `send` has become.
    rule(
        "dispatch::operation_dispatch",
        dispatch::operation_dispatch(file, doc),
    )?;
    rule("bounds::spec_bounds", bounds::spec_bounds(file, doc))?;
    rule(
        "sends::send_through_transport",
        sends::send_through_transport(file),
    )?;
    rule(
        "response::own_response_value",
        response::own_response_value(file),
    )?;
    rule("secrets::secret_fields", secrets::secret_fields(file, doc))?;
    rule(
        "examples::operation_examples",
        examples::operation_examples(file, doc, open_enums),
    )?;
    Ok(())
}

/// The canonical form of a name, for joining the spec with generated code without re-deriving
/// progenitor's or typify's case conversions: `listTaskRuns`, `list_task_runs` and
/// `ListTaskRuns` all become `listtaskruns`.
pub fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

pub(crate) fn module<'a>(file: &'a syn::File, name: &str) -> Result<&'a [Item], String> {
    file.items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == name => m.content.as_ref().map(|c| c.1.as_slice()),
            _ => None,
        })
        .ok_or_else(|| format!("progenitor output has no `{name}` module"))
}

pub(crate) fn module_mut<'a>(
    file: &'a mut syn::File,
    name: &str,
) -> Result<&'a mut ItemMod, String> {
    file.items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == name && m.content.is_some() => Some(m),
            _ => None,
        })
        .ok_or_else(|| format!("progenitor output has no `{name}` module"))
}

pub(crate) fn items_mut(m: &mut ItemMod) -> &mut Vec<Item> {
    &mut m.content.as_mut().expect("checked by module_mut").1
}

/// Appends `tokens` (items) to module `name`.
pub(crate) fn append(file: &mut syn::File, name: &str, tokens: TokenStream) -> Result<(), String> {
    let extra: syn::File =
        syn::parse2(tokens).map_err(|e| format!("bad extra items for `{name}`: {e}"))?;
    items_mut(module_mut(file, name)?).extend(extra.items);
    Ok(())
}

/// The last segment's name of a type path (`builder::ListTaskRuns<'_>` → `ListTaskRuns`).
pub(crate) fn type_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `Name<T>` → `T` (the first type argument) when the last segment is `name`.
pub(crate) fn generic_arg(ty: &syn::Type, name: &str) -> Option<syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// Operation builders by their client method: `list_task_runs` → `ListTaskRuns`, read off
/// `impl Client { pub fn list_task_runs(&self) -> builder::ListTaskRuns<'_> }`.
pub(crate) fn client_methods(file: &syn::File) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for item in &file.items {
        let Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() || type_ident(&imp.self_ty).as_deref() != Some("Client") {
            continue;
        }
        for member in &imp.items {
            if let syn::ImplItem::Fn(f) = member
                && matches!(f.vis, syn::Visibility::Public(_))
                && let syn::ReturnType::Type(_, ty) = &f.sig.output
                && let Some(builder) = type_ident(ty)
                && f.sig.inputs.len() == 1
            {
                out.push((f.sig.ident.to_string(), builder));
            }
        }
    }
    out
}

/// The spec operation whose `operationId` is `method` (joined by [`key`]).
pub(crate) fn spec_operation<'a>(
    doc: &'a Value,
    method: &str,
) -> Option<(String, String, &'a Value)> {
    for (path, item) in doc.get("paths")?.as_object()? {
        for verb in crate::normalize::HTTP_METHODS {
            if let Some(op) = item.get(*verb)
                && op["operationId"]
                    .as_str()
                    .is_some_and(|id| key(id) == key(method))
            {
                return Some((verb.to_string(), path.clone(), op));
            }
        }
    }
    None
}

/// The webhooks of the normalised document (`x-webhooks`: event name → path item) with their
/// payload schema: the `requestBody` schema of the item's `post` (or of its only operation),
/// `$ref`s to path items and request bodies followed; `None` for a webhook without a body.
pub(crate) fn webhook_payloads(doc: &Value) -> std::collections::BTreeMap<String, Option<Value>> {
    let deref = |v: &Value| -> Value {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| doc.pointer(p))
        {
            Some(target) => target.clone(),
            None => v.clone(),
        }
    };
    let mut out = std::collections::BTreeMap::new();
    for (name, item) in doc
        .get("x-webhooks")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let item = deref(item);
        let op = item.get("post").or_else(|| {
            crate::normalize::HTTP_METHODS
                .iter()
                .find_map(|m| item.get(*m))
        });
        let body = op.and_then(|op| op.get("requestBody")).map(deref);
        let content = body.as_ref().and_then(|b| b.get("content"));
        let media = content.and_then(Value::as_object).and_then(|c| {
            c.get("application/json")
                .or_else(|| c.iter().find(|(m, _)| m.contains("json")).map(|(_, v)| v))
                .or_else(|| c.values().next())
        });
        out.insert(name.clone(), media.and_then(|m| m.get("schema")).cloned());
    }
    out
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A small generated file in progenitor's shape, for the rules' tests.

    pub fn client() -> syn::File {
        syn::parse_str(
            r#"
            pub use progenitor_client::{ByteStream, ClientInfo, Error, ResponseValue};
            pub mod types {
                pub struct TaskRun {
                    pub id: ::std::string::String,
                    #[serde(deserialize_with = "::std::option::Option::deserialize")]
                    pub runtime_ms: ::std::option::Option<i32>,
                    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                    pub file_size: ::std::option::Option<i64>,
                    pub attempts: i64,
                    #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                    pub retries: ::std::option::Option<i32>,
                }
                pub struct TaskRunPage {
                    pub data: ::std::vec::Vec<TaskRun>,
                    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                    pub has_more: ::std::option::Option<bool>,
                    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                    pub next_cursor: ::std::option::Option<::std::string::String>,
                    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                    pub request_id: ::std::option::Option<::std::string::String>,
                }
                pub mod builder {
                    pub struct TaskRun { id: Result<String, String> }
                }
            }
            pub struct Client { pub(crate) baseurl: String }
            impl Client {
                pub fn new(baseurl: &str, inner: crate::client::ClientState) -> Self { todo!() }
                pub fn new_with_client(baseurl: &str, client: reqwest::Client, inner: crate::client::ClientState) -> Self { todo!() }
            }
            impl Client {
                pub fn list_task_runs(&self) -> builder::ListTaskRuns<'_> { builder::ListTaskRuns::new(self) }
            }
            pub mod builder {
                use super::types;
                #[allow(unused_imports)]
                use super::{encode_path, ByteStream, ClientInfo, ClientHooks, Error, OperationInfo, RequestBuilderExt, ResponseValue};
                pub struct ListTaskRuns<'a> {
                    client: &'a super::Client,
                    cursor: Result<Option<::std::string::String>, String>,
                    limit: Result<Option<i32>, String>,
                }
                impl<'a> ListTaskRuns<'a> {
                    pub fn new(client: &'a super::Client) -> Self {
                        Self { client: client, cursor: Ok(None), limit: Ok(None) }
                    }
                    pub fn cursor<V>(mut self, value: V) -> Self where V: std::convert::TryInto<::std::string::String> { self }
                    pub fn limit<V>(mut self, value: V) -> Self where V: std::convert::TryInto<i32> { self }
                    pub async fn send(self) -> Result<ResponseValue<types::TaskRunPage>, Error<crate::error::ErrorBody>> {
                        let Self { client, cursor, limit } = self;
                        let cursor = cursor.map_err(Error::InvalidRequest)?;
                        let limit = limit.map_err(Error::InvalidRequest)?;
                        let url = format!("{}/task-runs", client.baseurl,);
                        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                        header_map.append(
                            ::reqwest::header::HeaderName::from_static("api-version"),
                            ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                        );
                        #[allow(unused_mut)]
                        let mut request = client.client.get(url)
                            .header(::reqwest::header::ACCEPT, ::reqwest::header::HeaderValue::from_static("application/json"))
                            .query(&progenitor_client::QueryParam::new("cursor", &cursor))
                            .query(&progenitor_client::QueryParam::new("limit", &limit))
                            .headers(header_map)
                            .build()?;
                        let info = OperationInfo { operation_id: "list_task_runs" };
                        client.pre(&mut request, &info).await?;
                        let result = client.exec(request, &info).await;
                        client.post(&result, &info).await?;
                        let response = result?;
                        match response.status().as_u16() {
                            200u16 => ResponseValue::from_response(response).await,
                            _ => Err(Error::UnexpectedResponse(response)),
                        }
                    }
                }
            }
            "#,
        )
        .expect("the fixture parses")
    }

    pub fn doc() -> serde_json::Value {
        serde_json::json!({
            "paths": {"/task-runs": {"get": {
                "operationId": "listTaskRuns",
                "parameters": [
                    {"in": "query", "name": "cursor", "schema": {"type": "string"}},
                    {"in": "query", "name": "limit", "schema": {"type": "integer", "format": "int32",
                        "maximum": 50, "x-deck-int-or-string": true}}
                ],
                "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/TaskRunPage"}}}}}
            }}},
            "components": {"schemas": {
                "TaskRun": {"type": "object", "properties": {
                    "id": {"type": "string"},
                    "runtime_ms": {"type": "integer", "format": "int32", "nullable": true, "x-deck-int-or-string": true},
                    "file_size": {"type": "integer", "format": "int64", "x-deck-int-or-string": true},
                    "attempts": {"type": "integer", "x-deck-int-or-string": true},
                    "retries": {"type": "integer", "format": "int32", "x-deck-int-or-string": true}
                }},
                "TaskRunPage": {"type": "object", "properties": {
                    "data": {"type": "array", "items": {"$ref": "#/components/schemas/TaskRun"}},
                    "has_more": {"type": "boolean"},
                    "next_cursor": {"type": "string", "nullable": true},
                    "request_id": {"type": "string", "nullable": true}
                }}
            }}
        })
    }

    /// The printed file with all whitespace removed, so assertions do not depend on where
    /// prettyplease wraps lines (compare with [`squash`]ed needles).
    pub fn render(file: &syn::File) -> String {
        squash(&prettyplease::unparse(file))
    }

    pub fn squash(text: &str) -> String {
        text.split_whitespace().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_join_spellings_of_one_name() {
        assert_eq!(key("listTaskRuns"), key("list_task_runs"));
        assert_eq!(key("ListTaskRuns"), "listtaskruns");
        assert_ne!(key("getTask"), key("getTaskRun"));
    }

    #[test]
    fn client_methods_map_operations_to_builders() {
        let file = fixture::client();
        assert_eq!(
            client_methods(&file),
            vec![("list_task_runs".to_string(), "ListTaskRuns".to_string())]
        );
    }
}
