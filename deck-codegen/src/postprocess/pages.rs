//! Pagination, derived from the spec: every list operation whose response is Deck's cursor page.

use super::key;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::Item;

/// Deck's documented largest page ("1-100"), for a `limit` whose schema states no maximum.
pub const DOCUMENTED_MAX_PAGE_SIZE: u64 = 100;

/// A list operation whose response is Deck's cursor page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOperation {
    /// The operationId, e.g. `listTaskRuns`.
    pub operation_id: String,
    /// The page component (`TaskRunPage`).
    pub page: String,
    /// The item component (`TaskRunSummary`).
    pub item: String,
    /// Whether the operation takes `limit`.
    pub has_limit: bool,
    /// The page size the paginator asks for: `limit`'s `maximum`, else Deck's documented 100.
    pub page_size: u64,
}

/// Finds every GET with a `cursor` query parameter whose 200 body is a component with
/// `data: [$ref]`, `has_more` and `next_cursor`: Deck's page, whatever the operation.
pub fn page_operations(doc: &Value) -> Vec<PageOperation> {
    let mut out = Vec::new();
    let schemas = doc.pointer("/components/schemas");
    for item in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.values())
    {
        let Some(op) = item.get("get") else { continue };
        let params: Vec<&Value> = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        let query_param = |name: &str| {
            params
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == name)
                .copied()
        };
        if query_param("cursor").is_none() {
            continue;
        }
        let Some(page) = op
            .pointer("/responses/200/content/application~1json/schema")
            .and_then(crate::normalize::schema_component)
        else {
            continue;
        };
        let Some(props) = schemas.and_then(|s| s.get(page)).map(|p| &p["properties"]) else {
            continue;
        };
        let Some(item_type) = props
            .pointer("/data/items")
            .and_then(crate::normalize::schema_component)
        else {
            continue;
        };
        if props.get("has_more").is_none() || props.get("next_cursor").is_none() {
            continue;
        }
        let limit = query_param("limit");
        let page_size = limit
            .and_then(|l| l.pointer("/schema/maximum"))
            .and_then(Value::as_u64)
            .unwrap_or(DOCUMENTED_MAX_PAGE_SIZE);
        out.push(PageOperation {
            operation_id: op["operationId"].as_str().unwrap_or_default().to_string(),
            page: page.to_string(),
            item: item_type.to_string(),
            has_limit: limit.is_some(),
            page_size,
        });
    }
    out.sort_by(|a, b| a.operation_id.cmp(&b.operation_id));
    out
}

/// Rule: every list operation's builder gets `into_paginator()`, `items()`, `pages()`,
/// `max_items(n)` and `collect_all()`, backed by an owned copy of its parameters (`…Query`,
/// sent with every page, so filters are never dropped after page one) that implements
/// `crate::ext::PageQuery`. The default page size is read from the spec per operation.
pub fn pagination(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let methods = super::client_methods(file);
    let types = super::module(file, "types")?;
    let type_named = |component: &str| -> Result<syn::Ident, String> {
        types
            .iter()
            .find_map(|item| match item {
                Item::Struct(s) if key(&s.ident.to_string()) == key(component) => {
                    Some(s.ident.clone())
                }
                _ => None,
            })
            .ok_or_else(|| format!("no generated type for component `{component}`"))
    };
    let mut impls = Vec::new();
    for op in page_operations(doc) {
        let builder = methods
            .iter()
            .find(|(method, _)| key(method) == key(&op.operation_id))
            .map(|(_, builder)| builder.clone())
            .ok_or_else(|| format!("no client method for list operation `{}`", op.operation_id))?;
        let item = type_named(&op.item)?;
        let fields = builder_fields(file, &builder)?;
        impls.push(page_impl(&builder, &item, &fields, &op)?);
    }
    super::append(file, "builder", quote!(#(#impls)*))
}

/// The fields of builder struct `name`, without its `client`.
fn builder_fields(file: &syn::File, name: &str) -> Result<Vec<(syn::Ident, syn::Type)>, String> {
    for item in super::module(file, "builder")? {
        let Item::Struct(st) = item else { continue };
        if st.ident != name {
            continue;
        }
        return Ok(st
            .fields
            .iter()
            .filter_map(|f| Some((f.ident.clone()?, f.ty.clone())))
            .filter(|(n, _)| n != "client")
            .collect());
    }
    Err(format!("no builder struct `{name}` in progenitor's output"))
}

fn page_impl(
    builder: &str,
    item: &syn::Ident,
    fields: &[(syn::Ident, syn::Type)],
    op: &PageOperation,
) -> Result<TokenStream, String> {
    let builder = format_ident!("{builder}");
    let query = format_ident!("{builder}Query");
    let names: Vec<&syn::Ident> = fields.iter().map(|(n, _)| n).collect();
    let types: Vec<&syn::Type> = fields.iter().map(|(_, t)| t).collect();
    let page_size = u32::try_from(op.page_size)
        .map(proc_macro2::Literal::u32_unsuffixed)
        .map_err(|_| {
            format!(
                "`{}`: page size {} is too large",
                op.operation_id, op.page_size
            )
        })?;
    let (with_limit, limit_is_set) = if op.has_limit {
        (
            quote! {
                if let Some(limit) = limit {
                    b = b.limit(limit);
                }
            },
            quote!(matches!(self.limit, Ok(Some(_)))),
        )
    } else {
        (quote!(let _ = limit;), quote!(true))
    };
    let query_doc = format!(
        "The parameters of a [`{builder}`] request, owned: what its paginator sends with every page."
    );
    Ok(quote! {
        #[doc = #query_doc]
        #[derive(Debug, Clone)]
        pub struct #query {
            #( #names: #types, )*
        }

        impl<'a> #builder<'a> {
            fn into_query(self) -> (super::Client, #query) {
                let Self { client, #(#names),* } = self;
                (client.clone(), #query { #(#names),* })
            }

            /// A paginator to configure (page size, item cap, prefetch) before streaming.
            pub fn into_paginator(self) -> crate::ext::Paginator<#query> {
                let (client, query) = self.into_query();
                crate::ext::Paginator::new(client, query)
            }

            /// Every item of every page, as a stream (the next page is fetched while you work
            /// on this one). Filters are sent with every page; an error ends the stream.
            pub fn items(self) -> ::futures::stream::BoxStream<'static, Result<types::#item, crate::Error>> {
                self.into_paginator().items()
            }

            /// Whole pages (items, `has_more`, `request_id`), as a stream.
            pub fn pages(self) -> ::futures::stream::BoxStream<'static, Result<crate::ext::Page<types::#item>, crate::Error>> {
                self.into_paginator().pages()
            }

            /// A paginator that stops after `n` items (no further page is requested).
            pub fn max_items(self, n: usize) -> crate::ext::Paginator<#query> {
                self.into_paginator().max_items(n)
            }

            /// Every item of every page, collected.
            pub async fn collect_all(self) -> Result<Vec<types::#item>, crate::Error> {
                self.into_paginator().collect_all().await
            }
        }

        impl crate::ext::sealed::Sealed for #query {}

        impl crate::ext::PageQuery for #query {
            type Item = types::#item;
            const MAX_PAGE_SIZE: u32 = #page_size;

            fn limit_is_set(&self) -> bool {
                #limit_is_set
            }

            fn fetch<'c>(
                &self,
                client: &'c super::Client,
                cursor: ::std::option::Option<::std::string::String>,
                limit: ::std::option::Option<u32>,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<crate::ext::Page<Self::Item>, crate::Error>,
            > + Send + 'c {
                let mut b = #builder { client, #( #names: self.#names.clone(), )* };
                if let Some(cursor) = cursor {
                    b = b.cursor(cursor);
                }
                #with_limit
                async move {
                    let page = b.send().await?.into_inner();
                    Ok(crate::ext::Page::from_parts(
                        page.data,
                        page.has_more,
                        page.next_cursor,
                        page.request_id,
                    ))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn list_operations_are_found_with_their_page_size() {
        let ops = page_operations(&fixture::doc());
        assert_eq!(
            ops,
            vec![PageOperation {
                operation_id: "listTaskRuns".into(),
                page: "TaskRunPage".into(),
                item: "TaskRun".into(),
                has_limit: true,
                page_size: 50,
            }]
        );
        let mut doc = fixture::doc();
        doc.pointer_mut("/paths/~1task-runs/get/parameters/1/schema")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("maximum");
        assert_eq!(page_operations(&doc)[0].page_size, DOCUMENTED_MAX_PAGE_SIZE);
    }

    #[test]
    fn list_builders_get_paginators_that_resend_every_parameter() {
        let mut file = fixture::client();
        crate::postprocess::sends::builder_options(&mut file).unwrap();
        pagination(&mut file, &fixture::doc()).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash("pub struct ListTaskRunsQuery")),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash("const MAX_PAGE_SIZE: u32 = 50;")),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash("pub fn items(self")),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash("options: self.options.clone()")),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash("type Item = types::TaskRun;")),
            "{text}"
        );
    }
}
