//! The public surface of the generated client as text, one item a line (`openapi/surface.txt`).
//!
//! Read from the generated source itself (parsed with `syn`), so it is exactly what users get:
//! every client method with its HTTP method, path, response and error types, pagination and
//! parameters (type, location, required); every generated type with its fields (Rust type, serde
//! presence rules, wire renames) or variants; every open-enum value. Sections are sorted by name
//! and members within them, so the file only changes when the surface does.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use std::collections::BTreeMap;
use syn::{Fields, GenericArgument, Item, PathArguments, Type};

/// First line of the snapshot.
pub const HEADER: &str = "# Public surface of the generated `deck` client (openapi/v2.json after normalisation).\n\
# One item a line; regenerate with `cargo xtask codegen --write` (or `cargo xtask spec refresh`).";

/// Lists the public surface of `code` (the output of `codegen::generate`).
pub fn surface(code: &str) -> Result<String, String> {
    let file =
        syn::parse_file(code).map_err(|e| format!("the generated code does not parse: {e}"))?;
    let mut lines: Vec<String> = vec![HEADER.to_string()];

    let mut methods: BTreeMap<String, String> = BTreeMap::new(); // builder → method
    let mut api_version = None;
    let mut builder_items: &[Item] = &[];
    let mut type_items: &[Item] = &[];
    for item in &file.items {
        match item {
            Item::Impl(imp) if imp.trait_.is_none() && type_name(&imp.self_ty) == "Client" => {
                for it in &imp.items {
                    if let syn::ImplItem::Fn(f) = it
                        && is_pub(&f.vis)
                        && let syn::ReturnType::Type(_, ty) = &f.sig.output
                    {
                        methods.insert(type_name(ty), f.sig.ident.to_string());
                    }
                }
            }
            Item::Impl(imp) if type_name(&imp.self_ty) == "Client" => {
                for it in &imp.items {
                    if let syn::ImplItem::Fn(f) = it
                        && f.sig.ident == "api_version"
                    {
                        api_version = first_string_literal(f.block.to_token_stream());
                    }
                }
            }
            Item::Mod(m) if m.ident == "builder" => {
                builder_items = m.content.as_ref().map_or(&[], |c| c.1.as_slice());
            }
            Item::Mod(m) if m.ident == "types" => {
                type_items = m.content.as_ref().map_or(&[], |c| c.1.as_slice());
            }
            _ => {}
        }
    }
    if let Some(v) = api_version {
        lines.push(format!("client api-version header: \"{v}\""));
    }
    operations(builder_items, &methods, &mut lines);
    types(type_items, &mut lines);
    let mut text = lines.join("\n");
    text.push('\n');
    Ok(text)
}

struct Op {
    header: Option<String>,
    paginated: Option<String>,
    params: Vec<String>,
}

fn operations(items: &[Item], methods: &BTreeMap<String, String>, lines: &mut Vec<String>) {
    let mut ops: BTreeMap<String, Op> = BTreeMap::new();
    let mut fields: BTreeMap<String, Vec<(String, Type)>> = BTreeMap::new();
    let mut sends: BTreeMap<String, (String, String, String, String, TokenStream)> =
        BTreeMap::new();
    for item in items {
        match item {
            Item::Struct(s) => {
                if let Fields::Named(named) = &s.fields {
                    let list = named
                        .named
                        .iter()
                        .filter_map(|f| Some((f.ident.as_ref()?.to_string(), f.ty.clone())))
                        .filter(|(name, _)| name != "client")
                        .collect();
                    fields.insert(s.ident.to_string(), list);
                }
            }
            Item::Impl(imp) if imp.trait_.is_none() => {
                let builder = type_name(&imp.self_ty);
                for it in &imp.items {
                    let syn::ImplItem::Fn(f) = it else { continue };
                    if f.sig.ident != "send" {
                        continue;
                    }
                    let (verb, path) = doc_request(&f.attrs);
                    let (ok, err) = match &f.sig.output {
                        syn::ReturnType::Type(_, ty) => result_types(ty),
                        syn::ReturnType::Default => ("()".into(), "()".into()),
                    };
                    sends.insert(
                        builder.clone(),
                        (verb, path, ok, err, f.block.to_token_stream()),
                    );
                }
            }
            Item::Impl(imp) => {
                let is_paginate = imp
                    .trait_
                    .as_ref()
                    .is_some_and(|(p, _)| p.segments.last().is_some_and(|s| s.ident == "Paginate"));
                if !is_paginate {
                    continue;
                }
                let builder = type_name(&imp.self_ty);
                let item = imp.items.iter().find_map(|it| match it {
                    syn::ImplItem::Type(t) if t.ident == "Item" => Some(render(&t.ty)),
                    _ => None,
                });
                let method = methods.get(&builder).cloned().unwrap_or(builder);
                ops.entry(method)
                    .or_insert_with(|| Op {
                        header: None,
                        paginated: None,
                        params: Vec::new(),
                    })
                    .paginated = item;
            }
            _ => {}
        }
    }
    for (builder, (verb, path, ok, err, block)) in &sends {
        let method = methods
            .get(builder)
            .cloned()
            .unwrap_or_else(|| builder.clone());
        let query = query_params(block);
        let mut params = Vec::new();
        for (name, ty) in fields.get(builder).into_iter().flatten() {
            if name == "body" {
                params.push(format!("op {method} body: {}", inner_result(ty)));
                continue;
            }
            let (ty, required) = match strip_generic(&inner_result_type(ty), "Option") {
                Some(t) => (render(&t), false),
                None => (render(&inner_result_type(ty)), true),
            };
            let location = if let Some(wire) = query.get(name) {
                if wire == name {
                    "query".to_string()
                } else {
                    format!("query \"{wire}\"")
                }
            } else if path.contains(&format!("{{{name}}}")) {
                "path".to_string()
            } else {
                "header".to_string()
            };
            let presence = if required { "required" } else { "optional" };
            params.push(format!(
                "op {method} param {name}: {ty} ({location}, {presence})"
            ));
        }
        params.sort();
        let op = ops.entry(method.clone()).or_insert_with(|| Op {
            header: None,
            paginated: None,
            params: Vec::new(),
        });
        op.header = Some(format!(
            "op {method}: {verb} {path} -> {ok} (errors: {err})"
        ));
        op.params = params;
    }
    for (method, op) in ops {
        lines.push(
            op.header
                .unwrap_or_else(|| format!("op {method}: (no send method found)")),
        );
        if let Some(item) = op.paginated {
            lines.push(format!("op {method} paginated: item {item}"));
        }
        lines.extend(op.params);
    }
}

fn types(items: &[Item], lines: &mut Vec<String>) {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in items {
        match item {
            Item::Struct(s) if is_pub(&s.vis) => {
                let name = s.ident.to_string();
                let mut members = Vec::new();
                let header = match &s.fields {
                    Fields::Named(named) => {
                        for f in &named.named {
                            let Some(ident) = &f.ident else { continue };
                            let serde = serde_args(&f.attrs);
                            let mut notes = Vec::new();
                            if let Some(wire) = serde_value(&serde, "rename") {
                                notes.push(format!("wire \"{wire}\""));
                            }
                            let is_option = strip_generic(&f.ty, "Option").is_some();
                            if serde.contains("Option::deserialize") {
                                notes.push("required, nullable".into());
                            } else if is_option || serde.contains("default") {
                                notes.push("optional".into());
                            }
                            let notes = if notes.is_empty() {
                                String::new()
                            } else {
                                format!(" ({})", notes.join(", "))
                            };
                            members.push(format!(
                                "type {name} field {ident}: {}{notes}",
                                render(&f.ty)
                            ));
                        }
                        format!("type {name}: struct")
                    }
                    Fields::Unnamed(unnamed) => {
                        let inner: Vec<String> =
                            unnamed.unnamed.iter().map(|f| render(&f.ty)).collect();
                        format!("type {name}: newtype({})", inner.join(", "))
                    }
                    Fields::Unit => format!("type {name}: unit struct"),
                };
                members.sort();
                members.insert(0, header);
                out.insert(name, members);
            }
            Item::Enum(e) if is_pub(&e.vis) => {
                let name = e.ident.to_string();
                let open = e.variants.iter().any(|v| {
                    v.ident == "Unknown"
                        && matches!(&v.fields, Fields::Unnamed(u) if u.unnamed.len() == 1)
                });
                let mut members = Vec::new();
                for v in &e.variants {
                    if open {
                        if v.ident == "Unknown" {
                            continue;
                        }
                        let wire = doc_text(&v.attrs).trim().trim_matches('`').to_string();
                        members.push(format!("type {name} value \"{wire}\" ({})", v.ident));
                    } else {
                        let payload = match &v.fields {
                            Fields::Unnamed(u) => format!(
                                "({})",
                                u.unnamed
                                    .iter()
                                    .map(|f| render(&f.ty))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            Fields::Named(n) => format!(
                                " {{ {} }}",
                                n.named
                                    .iter()
                                    .filter_map(|f| Some(format!(
                                        "{}: {}",
                                        f.ident.as_ref()?,
                                        render(&f.ty)
                                    )))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            Fields::Unit => String::new(),
                        };
                        let wire = serde_value(&serde_args(&v.attrs), "rename")
                            .map(|w| format!(" (wire \"{w}\")"))
                            .unwrap_or_default();
                        members.push(format!("type {name} variant {}{payload}{wire}", v.ident));
                    }
                }
                members.sort();
                let header = if open {
                    format!("type {name}: open enum")
                } else {
                    let tagging = serde_args(&e.attrs);
                    if tagging.contains("untagged") {
                        format!("type {name}: enum (untagged)")
                    } else {
                        format!("type {name}: enum")
                    }
                };
                members.insert(0, header);
                out.insert(name, members);
            }
            Item::Type(t) if is_pub(&t.vis) => {
                out.insert(
                    t.ident.to_string(),
                    vec![format!("type {} = {}", t.ident, render(&t.ty))],
                );
            }
            _ => {}
        }
    }
    for members in out.into_values() {
        lines.extend(members);
    }
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// The last path segment's name of a type (`builder::ListTaskRuns<'_>` → `ListTaskRuns`).
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// `Name<T>` → `T` (the first type argument) when the last segment is `name`.
fn strip_generic(ty: &Type, name: &str) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// A builder field's `Result<T, String>` → `T`.
fn inner_result_type(ty: &Type) -> Type {
    strip_generic(ty, "Result").unwrap_or_else(|| ty.clone())
}

/// A body field's `Result<types::builder::X, String>` → `X`.
fn inner_result(ty: &Type) -> String {
    render(&inner_result_type(ty))
}

/// `Result<ResponseValue<T>, Error<E>>` → (`T`, `E`).
fn result_types(ty: &Type) -> (String, String) {
    let Type::Path(p) = ty else {
        return (render(ty), String::new());
    };
    let Some(last) = p.path.segments.last() else {
        return (render(ty), String::new());
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return (render(ty), String::new());
    };
    let tys: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    let unwrap = |t: Option<&&Type>, wrapper: &str| match t {
        Some(t) => render(&strip_generic(t, wrapper).unwrap_or_else(|| (*t).clone())),
        None => "()".to_string(),
    };
    (
        unwrap(tys.first(), "ResponseValue"),
        unwrap(tys.get(1), "Error"),
    )
}

/// Renders a type the way a user writes it: `::std::vec::Vec<::std::string::String>` →
/// `Vec<String>`, `super::types::X` → `X`, `crate::wire::Int32` → `wire::Int32`.
pub fn render(ty: &Type) -> String {
    match ty {
        Type::Path(p) => {
            let segments: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| {
                    let mut out = s.ident.to_string();
                    if let PathArguments::AngleBracketed(args) = &s.arguments {
                        let inner: Vec<String> = args
                            .args
                            .iter()
                            .map(|a| match a {
                                GenericArgument::Type(t) => render(t),
                                GenericArgument::Lifetime(l) => l.to_string(),
                                other => compact(other.to_token_stream()),
                            })
                            .collect();
                        out.push_str(&format!("<{}>", inner.join(", ")));
                    }
                    out
                })
                .collect();
            shorten(&segments.join("::"))
        }
        Type::Reference(r) => format!("&{}", render(&r.elem)),
        Type::Tuple(t) if t.elems.is_empty() => "()".into(),
        other => compact(other.to_token_stream()),
    }
}

fn shorten(path: &str) -> String {
    const PREFIXES: &[&str] = &[
        "std::string::",
        "std::vec::",
        "std::option::",
        "std::collections::",
        "std::boxed::",
        "chrono::offset::",
        "super::types::",
        "types::builder::",
        "super::",
        "types::",
        "crate::",
    ];
    let mut s = path.to_string();
    loop {
        let before = s.clone();
        for prefix in PREFIXES {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest.to_string();
            }
        }
        if s == before {
            return s;
        }
    }
}

fn compact(tokens: TokenStream) -> String {
    tokens.to_string().replace(' ', "")
}

/// The concatenated `#[doc]` text of an item.
fn doc_text(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `Sends a `GET` request to `/task-runs`` → (`GET`, `/task-runs`).
fn doc_request(attrs: &[syn::Attribute]) -> (String, String) {
    let doc = doc_text(attrs);
    let quoted: Vec<&str> = doc.split('`').skip(1).step_by(2).collect();
    match quoted.as_slice() {
        [verb, path, ..] if doc.contains("Sends a") => (verb.to_string(), path.to_string()),
        _ => ("?".into(), "?".into()),
    }
}

/// All `#[serde(...)]` arguments of an item, as one token string.
fn serde_args(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .map(|a| a.meta.to_token_stream().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `rename = "traceId"` in a serde token string → `traceId`.
fn serde_value(serde: &str, key: &str) -> Option<String> {
    let start = serde.find(&format!("{key} = \""))? + key.len() + 4;
    let rest = &serde[start..];
    Some(rest[..rest.find('"')?].to_string())
}

fn first_string_literal(tokens: TokenStream) -> Option<String> {
    for tt in tokens {
        match tt {
            TokenTree::Literal(l) => {
                if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&l.to_string()) {
                    return Some(s.value());
                }
            }
            TokenTree::Group(g) => {
                if let Some(s) = first_string_literal(g.stream()) {
                    return Some(s);
                }
            }
            _ => {}
        }
    }
    None
}

/// Query parameters a `send()` body passes to `QueryParam::new("wire", &ident)`: ident → wire.
fn query_params(block: &TokenStream) -> BTreeMap<String, String> {
    fn walk(tokens: TokenStream, out: &mut BTreeMap<String, String>) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tt) in trees.iter().enumerate() {
            let TokenTree::Group(g) = tt else { continue };
            let is_query_new = i >= 4
                && matches!(&trees[i - 1], TokenTree::Ident(id) if id == "new")
                && matches!(&trees[i - 2], TokenTree::Punct(p) if p.as_char() == ':')
                && matches!(&trees[i - 3], TokenTree::Punct(p) if p.as_char() == ':')
                && matches!(&trees[i - 4], TokenTree::Ident(id) if id == "QueryParam");
            if is_query_new {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                // `("wire", &ident)`, possibly with a trailing comma.
                let ident = inner.iter().find(|t| matches!(t, TokenTree::Ident(_)));
                if let (Some(TokenTree::Literal(lit)), Some(TokenTree::Ident(ident))) =
                    (inner.first(), ident)
                    && let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&lit.to_string())
                {
                    out.insert(ident.to_string(), s.value());
                }
            }
            walk(g.stream(), out);
        }
    }
    let mut out = BTreeMap::new();
    walk(block.clone(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_render_as_users_write_them() {
        let ty: Type = syn::parse_str(
            "::std::option::Option<::std::vec::Vec<::chrono::DateTime<::chrono::offset::Utc>>>",
        )
        .unwrap();
        assert_eq!(render(&ty), "Option<Vec<chrono::DateTime<Utc>>>");
        let ty: Type = syn::parse_str("super::types::GetTaskRunResponse").unwrap();
        assert_eq!(render(&ty), "GetTaskRunResponse");
        let ty: Type = syn::parse_str("crate::wire::Int32").unwrap();
        assert_eq!(render(&ty), "wire::Int32");
    }

    #[test]
    fn a_small_generated_module_lists_its_surface() {
        let code = r#"
            pub mod types {
                pub struct Run {
                    pub id: ::std::string::String,
                    #[serde(rename = "traceId", skip_serializing_if = "::std::option::Option::is_none")]
                    pub trace_id: ::std::option::Option<::std::string::String>,
                    #[serde(deserialize_with = "::std::option::Option::deserialize")]
                    pub url: ::std::option::Option<::std::string::String>,
                }
                pub enum Purpose {
                    ///`output`
                    Output,
                    Unknown(::std::string::String),
                }
            }
            impl Client {
                pub fn get_run(&self) -> builder::GetRun<'_> { builder::GetRun::new(self) }
            }
            impl ClientInfo<()> for Client {
                fn api_version() -> &'static str { "2.0.0" }
            }
            pub mod builder {
                pub struct GetRun<'a> {
                    client: &'a super::Client,
                    run_id: Result<::std::string::String, String>,
                    include: Result<Option<::std::string::String>, String>,
                }
                impl<'a> GetRun<'a> {
                    ///Sends a `GET` request to `/runs/{run_id}`
                    pub async fn send(self) -> Result<ResponseValue<types::Run>, Error<crate::error::ErrorBody>> {
                        let request = client.client.get(url)
                            .query(&progenitor_client::QueryParam::new("include", &include));
                    }
                }
            }
        "#;
        let text = surface(code).unwrap();
        let lines: Vec<&str> = text.lines().skip(2).collect();
        assert_eq!(
            lines,
            vec![
                "client api-version header: \"2.0.0\"",
                "op get_run: GET /runs/{run_id} -> Run (errors: error::ErrorBody)",
                "op get_run param include: String (query, optional)",
                "op get_run param run_id: String (path, required)",
                "type Purpose: open enum",
                "type Purpose value \"output\" (Output)",
                "type Run: struct",
                "type Run field id: String",
                "type Run field trace_id: Option<String> (wire \"traceId\", optional)",
                "type Run field url: Option<String> (required, nullable)",
            ]
        );
    }

    #[test]
    fn unparsable_code_is_an_error_not_a_panic() {
        assert!(surface("pub struct {").is_err());
    }
}
