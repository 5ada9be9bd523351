//! Spec → Rust source. Shared by `build.rs` and `cargo xtask codegen` (both include this file with
//! `#[path]`; the library itself does not compile it, since it needs progenitor-impl).
//!
//! Steps: normalise the vendored 3.1 document (`crate::normalize`), hand it to progenitor's
//! generator with our settings, then add the items progenitor cannot know about:
//! open enums for every `x-deck-open-enum` component (placed in `types`) and the pagination trait
//! impls for every operation whose response is Deck's cursor page (placed in `builder`, where the
//! builders' private fields are visible). The result is printed with prettyplease, so the output
//! is deterministic and needs no rustfmt.

use crate::normalize::{self, Replacement};
use proc_macro2::TokenStream;
use progenitor_impl::{
    GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl,
};
use quote::{format_ident, quote};
use serde_json::Value;

/// The normalised document, its progenitor model, our replacements and generator settings.
struct Prepared {
    doc: Value,
    spec: openapiv3::OpenAPI,
    replacements: Vec<Replacement>,
    settings: GenerationSettings,
}

fn prepare(spec_text: &str) -> Result<Prepared, String> {
    let raw: Value =
        serde_json::from_str(spec_text).map_err(|e| format!("openapi/v2.json is not JSON: {e}"))?;
    let doc = normalize::normalize(&raw).map_err(|e| format!("normalising openapi/v2.json {e}"))?;
    let spec: openapiv3::OpenAPI = serde_json::from_value(doc.clone())
        .map_err(|e| format!("the normalised document is not OpenAPI 3.0: {e}"))?;

    let replacements = normalize::replacements(&doc);
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::ClientState))
        .with_hooks(HooksMode::Expected)
        .with_derive("PartialEq")
        // Decoded by a hand-written type that also copes with empty and non-JSON error bodies.
        .with_replacement(
            normalize::ERROR_BODY,
            "crate::error::ErrorBody",
            std::iter::empty(),
        );
    for r in &replacements {
        match r {
            Replacement::OpenEnum { name, .. } => settings.with_replacement(
                name,
                format!("crate::types::{name}"),
                [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
            ),
            Replacement::Int { name, bits } => settings.with_replacement(
                name,
                format!("crate::wire::Int{bits}"),
                [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
            ),
        };
    }

    // A component that constrains nothing (Deck's `JsonElement`) is any JSON: use
    // `serde_json::Value` itself rather than a newtype around it.
    for (name, schema) in doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if normalize::is_any_schema(schema) {
            settings.with_replacement(name, "::serde_json::Value", std::iter::empty());
        }
    }

    Ok(Prepared {
        doc,
        spec,
        replacements,
        settings,
    })
}

/// Runs progenitor, turning a panic into an error.
fn catch<T>(f: impl FnOnce() -> progenitor_impl::Result<T>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|panic| {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            format!("progenitor panicked on the normalised spec: {msg}")
        })?
        .map_err(|e| format!("progenitor rejected the normalised spec: {e}"))
}

/// Typed `httpmock` helpers (progenitor's `Generator::httpmock`) for the `httpmock` feature.
pub fn generate_httpmock(spec_text: &str) -> Result<String, String> {
    let Prepared { spec, settings, .. } = prepare(spec_text)?;
    let mut generator = Generator::new(&settings);
    let tokens = catch(|| generator.httpmock(&spec, "crate"))?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor produced unparsable code: {e}"))?;
    drop_array_query_matchers(&mut file.items);
    Ok(prettyplease::unparse(&file))
}

/// progenitor 0.15's httpmock generator renders array query parameters (`status=a&status=b`)
/// with `value.to_string()` on a `Vec`, which does not compile; those matcher methods are
/// removed (match such parameters with `when.into_inner().query_param(..)`).
fn drop_array_query_matchers(items: &mut [syn::Item]) {
    for item in items.iter_mut() {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = m.content.as_mut() {
                    drop_array_query_matchers(inner);
                }
            }
            syn::Item::Impl(imp) => imp.items.retain(|member| match member {
                syn::ImplItem::Fn(f) => {
                    let sig = &f.sig;
                    !quote!(#sig).to_string().contains(":: vec :: Vec <")
                }
                _ => true,
            }),
            _ => {}
        }
    }
}

/// Generates the client source from the text of `openapi/v2.json`.
pub fn generate(spec_text: &str) -> Result<String, String> {
    let Prepared {
        doc,
        spec,
        replacements,
        settings,
    } = prepare(spec_text)?;
    let mut generator = Generator::new(&settings);
    let tokens = catch(|| generator.generate_tokens(&spec))?;

    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor produced unparsable code: {e}"))?;

    let open_enums: Vec<TokenStream> = replacements
        .iter()
        .filter_map(|r| match r {
            Replacement::OpenEnum {
                name,
                values,
                description,
            } => Some(open_enum(name, values, description.as_deref())),
            Replacement::Int { .. } => None,
        })
        .collect();
    append_to_module(&mut file, "types", quote!(#(#open_enums)*))?;

    let operations = operation_impls(&file)?;
    append_to_module(&mut file, "builder", operations)?;

    let pages = page_operations(&doc);
    let page_impls = pages
        .iter()
        .map(|p| page_impl(&file, p))
        .collect::<Result<Vec<TokenStream>, String>>()?;
    append_to_module(&mut file, "builder", quote!(#(#page_impls)*))?;

    Ok(prettyplease::unparse(&file))
}

fn append_to_module(file: &mut syn::File, module: &str, items: TokenStream) -> Result<(), String> {
    let extra: syn::File =
        syn::parse2(items).map_err(|e| format!("bad extra items for `{module}`: {e}"))?;
    for item in file.items.iter_mut() {
        if let syn::Item::Mod(m) = item
            && m.ident == module
        {
            let content = m
                .content
                .as_mut()
                .ok_or_else(|| format!("module `{module}` has no body"))?;
            content.1.extend(extra.items);
            return Ok(());
        }
    }
    Err(format!("progenitor output has no `{module}` module"))
}

/// `impl crate::client::Operation` for every builder with a `send`, so per-call options work on
/// all of them (the output type is read off the generated `send`).
fn operation_impls(file: &syn::File) -> Result<TokenStream, String> {
    let builder = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .ok_or("progenitor output has no `builder` module")?;
    let mut impls = Vec::new();
    for item in &builder.1 {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        let self_ty = &imp.self_ty;
        for member in &imp.items {
            let syn::ImplItem::Fn(f) = member else {
                continue;
            };
            if f.sig.ident != "send" || f.sig.asyncness.is_none() {
                continue;
            }
            let syn::ReturnType::Type(_, output) = &f.sig.output else {
                continue;
            };
            let response = success_type(output).ok_or_else(|| {
                format!(
                    "`send` of {} does not return Result<ResponseValue<T>, _>",
                    quote!(#self_ty)
                )
            })?;
            impls.push(quote! {
                impl<'a> crate::client::Operation for #self_ty {
                    type Response = #response;
                    fn send_operation(self) -> impl ::std::future::Future<Output = #output> + Send {
                        self.send()
                    }
                }
            });
        }
    }
    Ok(quote!(#(#impls)*))
}

/// `T` in `Result<ResponseValue<T>, _>`.
fn success_type(output: &syn::Type) -> Option<syn::Type> {
    let first_arg = |ty: &syn::Type, name: &str| -> Option<syn::Type> {
        let syn::Type::Path(path) = ty else {
            return None;
        };
        let last = path.path.segments.last()?;
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
    };
    first_arg(&first_arg(output, "Result")?, "ResponseValue")
}

/// A string enum that decodes values it does not know into `Unknown(String)`.
fn open_enum(name: &str, values: &[String], description: Option<&str>) -> TokenStream {
    let ident = format_ident!("{name}");
    let variants: Vec<syn::Ident> = values
        .iter()
        .map(|v| format_ident!("{}", normalize::pascal(v)))
        .collect();
    let doc = format!(
        "{}\n\nOpen enum: a value Deck adds later decodes into [`{name}::Unknown`] instead of \
         failing the response.",
        description.unwrap_or(name)
    );
    let value_docs: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #ident {
            #( #[doc = #value_docs] #variants, )*
            /// A value this version of the crate does not know, kept as sent.
            Unknown(::std::string::String),
        }

        impl #ident {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }
        }

        impl ::std::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl ::std::str::FromStr for #ident {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Ok(Self::from(value.as_ref()))
            }
        }
    }
}

/// A list operation whose response is Deck's cursor page.
pub struct PageOperation {
    /// The operationId, e.g. `listTaskRuns`.
    pub operation_id: String,
    item_type: String,
    has_limit: bool,
    limit_bits: u8,
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
        let Some(page_type) = op
            .pointer("/responses/200/content/application~1json/schema/$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        else {
            continue;
        };
        let Some(page) = schemas.and_then(|s| s.get(page_type)) else {
            continue;
        };
        let props = &page["properties"];
        let Some(item_type) = props
            .pointer("/data/items/$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        else {
            continue;
        };
        if props.get("has_more").is_none() || props.get("next_cursor").is_none() {
            continue;
        }
        let limit = query_param("limit");
        let limit_bits = match limit.map(|l| l.to_string()) {
            Some(s) if s.contains("Int32OrString") || s.contains("int32") => 32,
            _ => 64,
        };
        out.push(PageOperation {
            operation_id: op["operationId"].as_str().unwrap_or_default().to_string(),
            item_type: item_type.to_string(),
            has_limit: limit.is_some(),
            limit_bits,
        });
    }
    out.sort_by(|a, b| a.operation_id.cmp(&b.operation_id));
    out
}

/// For a list builder `X`, emits `XQuery` (the builder's parameters without the client, so a
/// paginator can own them and fetch from a spawned task) and the two pagination impls.
fn page_impl(file: &syn::File, op: &PageOperation) -> Result<TokenStream, String> {
    let builder = format_ident!("{}", normalize::pascal(&op.operation_id));
    let query = format_ident!("{}Query", builder);
    let item = format_ident!("{}", op.item_type);
    let fields = builder_fields(file, &builder.to_string())?;
    let names: Vec<&syn::Ident> = fields.iter().map(|(n, _)| n).collect();
    let types: Vec<&syn::Type> = fields.iter().map(|(_, t)| t).collect();
    let with_limit = if op.has_limit {
        let int = format_ident!("Int{}", op.limit_bits);
        let prim = format_ident!("i{}", op.limit_bits);
        quote! {
            if let Some(limit) = limit {
                b = b.limit(crate::wire::#int::from(#prim::from(limit)));
            }
        }
    } else {
        quote!(let _ = limit;)
    };
    let limit_is_set = if op.has_limit {
        quote!(matches!(self.limit, Ok(Some(_))))
    } else {
        quote!(true)
    };
    let doc =
        format!("The parameters of a [`{builder}`] request, without the client (for pagination).");
    Ok(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        pub struct #query {
            #( #names: #types, )*
        }

        impl<'a> crate::ext::Paginate for #builder<'a> {
            type Item = super::types::#item;
            type Query = #query;

            fn into_query(self) -> (super::Client, #query) {
                let Self { client, #(#names),* } = self;
                (client.clone(), #query { #(#names),* })
            }
        }

        impl crate::ext::PageQuery for #query {
            type Item = super::types::#item;

            fn limit_is_set(&self) -> bool {
                #limit_is_set
            }

            fn fetch<'c>(
                &self,
                client: &'c super::Client,
                cursor: ::std::option::Option<::std::string::String>,
                limit: ::std::option::Option<u8>,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<crate::ext::Page<Self::Item>, crate::Error>,
            > + Send + 'c {
                let mut b = #builder { client, #( #names: self.#names.clone(), )* };
                if let Some(cursor) = cursor {
                    b = b.cursor(cursor);
                }
                #with_limit
                async move {
                    let page = b.send().await.map_err(crate::Error::from)?.into_inner();
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

/// The fields of builder struct `name`, without its `client`.
fn builder_fields(file: &syn::File, name: &str) -> Result<Vec<(syn::Ident, syn::Type)>, String> {
    for item in &file.items {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "builder" {
            continue;
        }
        for inner in m.content.iter().flat_map(|c| c.1.iter()) {
            let syn::Item::Struct(st) = inner else {
                continue;
            };
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
    }
    Err(format!("no builder struct `{name}` in progenitor's output"))
}
