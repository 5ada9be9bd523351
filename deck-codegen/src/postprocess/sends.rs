//! Rules on the client and its request builders: what happens when a call is sent.

use quote::quote;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, ImplItem, ImplItemFn, Item, Stmt, parse_quote};

/// Rule: `Client::new` and `Client::new_with_client` are crate-private. They build a client
/// without the API key, timeouts or retry settings; users go through `Client::builder()`.
pub fn private_client_constructors(file: &mut syn::File) -> Result<(), String> {
    let mut found = 0;
    for item in &mut file.items {
        let Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() || super::type_ident(&imp.self_ty).as_deref() != Some("Client") {
            continue;
        }
        for member in &mut imp.items {
            if let ImplItem::Fn(f) = member
                && (f.sig.ident == "new" || f.sig.ident == "new_with_client")
            {
                f.vis = parse_quote!(pub(crate));
                found += 1;
            }
        }
    }
    if found != 2 {
        return Err(format!(
            "expected progenitor's `Client::new` and `Client::new_with_client`, found {found}"
        ));
    }
    Ok(())
}

/// Every operation builder's `send` method.
fn sends_mut(file: &mut syn::File) -> Result<Vec<&mut ImplItemFn>, String> {
    let builder = super::module_mut(file, "builder")?;
    let mut out = Vec::new();
    for item in super::items_mut(builder) {
        let Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        for member in &mut imp.items {
            if let ImplItem::Fn(f) = member
                && f.sig.ident == "send"
            {
                out.push(f);
            }
        }
    }
    Ok(out)
}

fn is_path(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Path(p) if p.path.is_ident(name))
}

/// `header_map.append(HeaderName::from_static("api-version"), …)`.
fn is_api_version_append(stmt: &Stmt) -> bool {
    let Stmt::Expr(Expr::MethodCall(call), _) = stmt else {
        return false;
    };
    if call.method != "append" || !is_path(&call.receiver, "header_map") {
        return false;
    }
    let Some(Expr::Call(name)) = call.args.first() else {
        return false;
    };
    matches!(name.args.first(), Some(Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }))
        if s.value() == "api-version")
}

/// Counts uses of the `header_map` variable, and how many of them are `.headers(header_map)`.
#[derive(Default)]
struct HeaderMapUses {
    uses: usize,
    in_headers_call: usize,
}

impl<'ast> Visit<'ast> for HeaderMapUses {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if is_path(expr, "header_map") {
            self.uses += 1;
        }
        if let Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.len() == 1
            && is_path(&call.args[0], "header_map")
        {
            self.in_headers_call += 1;
        }
        syn::visit::visit_expr(self, expr);
    }
}

/// Replaces `x.headers(header_map)` by `x`.
struct StripHeadersCall;

impl VisitMut for StripHeadersCall {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.len() == 1
            && is_path(&call.args[0], "header_map")
        {
            *expr = (*call.receiver).clone();
        }
    }
}

fn declares(stmt: &Stmt, name: &str) -> bool {
    matches!(stmt, Stmt::Local(local) if matches!(&local.pat,
        syn::Pat::Ident(p) if p.ident == name))
}

/// Rule: the `api-version: <spec version>` header progenitor adds to every request is not
/// generated. Deck documents no such header, and ASP.NET API Versioning reads exactly that name;
/// the hook used to strip it again on every call. When nothing else goes in the header map, the
/// map and its `.headers(…)` call go too.
pub fn drop_api_version_header(file: &mut syn::File) -> Result<(), String> {
    for send in sends_mut(file)? {
        let stmts = &mut send.block.stmts;
        stmts.retain(|s| !is_api_version_append(s));
        let mut uses = HeaderMapUses::default();
        for stmt in stmts.iter().filter(|s| !declares(s, "header_map")) {
            uses.visit_stmt(stmt);
        }
        if uses.uses == uses.in_headers_call {
            stmts.retain(|s| !declares(s, "header_map"));
            for stmt in stmts.iter_mut() {
                StripHeadersCall.visit_stmt_mut(stmt);
            }
        }
    }
    Ok(())
}

/// Rule: an operation whose body the normaliser marked `x-deck-multipart`
/// ([`crate::normalize::operation::multipart_body`]) sends `multipart/form-data`, not
/// progenitor's `application/octet-stream`: its `send` sets that content type (the transport
/// adds the boundary from the body a `deck::Multipart` made) and its `body` setter says to pass
/// one.
pub fn multipart_bodies(file: &mut syn::File, doc: &serde_json::Value) -> Result<(), String> {
    let mut marked = Vec::new();
    for (_, item) in doc
        .get("paths")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flatten()
    {
        for verb in crate::normalize::HTTP_METHODS {
            if let Some(op) = item.get(*verb)
                && op.pointer("/requestBody/x-deck-multipart").is_some()
            {
                marked.push(op["operationId"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    if marked.is_empty() {
        return Ok(());
    }
    let methods = super::client_methods(file);
    for operation in marked {
        let Some((_, builder)) = methods
            .iter()
            .find(|(method, _)| super::key(method) == super::key(&operation))
        else {
            return Err(format!(
                "no client method for multipart operation `{operation}`"
            ));
        };
        let mut content_types = 0;
        let module = super::module_mut(file, "builder")?;
        for item in super::items_mut(module) {
            let Item::Impl(imp) = item else { continue };
            if imp.trait_.is_some() || super::type_ident(&imp.self_ty).as_deref() != Some(builder) {
                continue;
            }
            for member in &mut imp.items {
                let ImplItem::Fn(f) = member else { continue };
                if f.sig.ident == "send" {
                    let mut swap = SwapContentType(0);
                    swap.visit_block_mut(&mut f.block);
                    content_types += swap.0;
                } else if f.sig.ident == "body" {
                    f.attrs.retain(|a| !a.path().is_ident("doc"));
                    f.attrs.push(parse_quote!(
                        #[doc = " The form to send: a [`Multipart`](crate::Multipart), sent as \
                                 `multipart/form-data` with its boundary."]
                    ));
                }
            }
        }
        if content_types != 1 {
            return Err(format!(
                "`{builder}::send` (multipart operation `{operation}`) sets the \
                 `application/octet-stream` content type {content_types} times, expected once"
            ));
        }
    }
    Ok(())
}

/// Replaces the `"application/octet-stream"` literal with `"multipart/form-data"`, counting.
struct SwapContentType(usize);

impl VisitMut for SwapContentType {
    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        if lit.value() == "application/octet-stream" {
            *lit = syn::LitStr::new("multipart/form-data", lit.span());
            self.0 += 1;
        }
    }
}

/// Rule: every operation builder carries its per-call options (`options:
/// crate::client::RequestOptions`, default none) and gets `with_options(..)`, so options
/// compose with every setter and with pagination in any order.
pub fn builder_options(file: &mut syn::File) -> Result<(), String> {
    let builder = super::module_mut(file, "builder")?;
    let items = super::items_mut(builder);
    let mut builders = Vec::new();
    for item in items.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let syn::Fields::Named(named) = &mut s.fields else {
            continue;
        };
        if !named
            .named
            .iter()
            .any(|f| f.ident.as_ref().is_some_and(|i| i == "client"))
        {
            continue;
        }
        if named
            .named
            .iter()
            .any(|f| f.ident.as_ref().is_some_and(|i| i == "options"))
        {
            return Err(format!(
                "builder `{}` already has a field `options` (an operation parameter named \
                 `options`?)",
                s.ident
            ));
        }
        named
            .named
            .push(syn::parse_quote!(options: crate::client::RequestOptions));
        builders.push(s.ident.to_string());
    }
    for item in items.iter_mut() {
        let Item::Impl(imp) = item else { continue };
        let Some(name) = super::type_ident(&imp.self_ty) else {
            continue;
        };
        if imp.trait_.is_some() || !builders.contains(&name) {
            continue;
        }
        let new = imp.items.iter_mut().find_map(|m| match m {
            ImplItem::Fn(f) if f.sig.ident == "new" => Some(f),
            _ => None,
        });
        let Some(Stmt::Expr(Expr::Struct(init), None)) = new.and_then(|f| f.block.stmts.last_mut())
        else {
            return Err(format!(
                "builder `{name}` has no `new` ending in `Self {{ .. }}`"
            ));
        };
        init.fields
            .push(parse_quote!(options: ::std::default::Default::default()));
        imp.items.push(parse_quote! {
            /// Per-call options: your own idempotency key, a timeout, a retry policy (see
            /// [`RequestOptions`](crate::RequestOptions)). On a list operation they apply to each
            /// page request its paginator makes.
            pub fn with_options(mut self, options: crate::client::RequestOptions) -> Self {
                self.options = options;
                self
            }
        });
    }
    Ok(())
}

/// `T` in `Result<ResponseValue<T>, _>`.
fn success_type(output: &syn::ReturnType) -> Option<syn::Type> {
    fn first_arg(ty: &syn::Type, name: &str) -> Option<syn::Type> {
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
    }
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    first_arg(&first_arg(ty, "Result")?, "ResponseValue")
}

/// `let info = OperationInfo { operation_id: "…" };` → the operation id.
fn operation_info(stmt: &Stmt) -> Option<String> {
    let Stmt::Local(local) = stmt else {
        return None;
    };
    let Expr::Struct(s) = &*local.init.as_ref()?.expr else {
        return None;
    };
    if !s.path.is_ident("OperationInfo") {
        return None;
    }
    s.fields.iter().find_map(|f| match (&f.member, &f.expr) {
        (
            syn::Member::Named(m),
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(id),
                ..
            }),
        ) if m == "operation_id" => Some(id.value()),
        _ => None,
    })
}

/// `let mut request = <builder chain>.build()?;` → the chain.
fn request_chain(stmt: &Stmt) -> Option<Expr> {
    let Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(p) = &local.pat else {
        return None;
    };
    if p.ident != "request" {
        return None;
    }
    let Expr::Try(t) = &*local.init.as_ref()?.expr else {
        return None;
    };
    match &*t.expr {
        Expr::MethodCall(call) if call.method == "build" && call.args.is_empty() => {
            Some((*call.receiver).clone())
        }
        _ => None,
    }
}

/// Rule: `send()` returns `Result<ResponseValue<T>, deck::Error>` and hands the request to the
/// crate's transport (`crate::transport::send`): retries, bounded reads, decoding and error
/// mapping live there, in one hand-written place. What progenitor generated after building the
/// request (hooks, a status `match`, its own error type) is replaced; parameter checks and
/// request building stay as generated. `Error` in the builder module is `deck::Error`, so the
/// generated `Error::InvalidRequest(..)` conversions produce it directly.
pub fn send_through_transport(file: &mut syn::File) -> Result<(), String> {
    {
        let builder = super::module_mut(file, "builder")?;
        let items = super::items_mut(builder);
        let mut replaced = false;
        for item in items.iter_mut() {
            let Item::Use(u) = item else { continue };
            let syn::UseTree::Path(path) = &mut u.tree else {
                continue;
            };
            let syn::UseTree::Group(group) = &mut *path.tree else {
                continue;
            };
            let before = group.items.len();
            group.items = std::mem::take(&mut group.items)
                .into_iter()
                .filter(|t| !matches!(t, syn::UseTree::Name(n) if n.ident == "Error"))
                .collect();
            replaced |= group.items.len() != before;
        }
        if !replaced {
            return Err("the builder module does not import progenitor's `Error`".into());
        }
        items.insert(
            0,
            parse_quote!(
                use crate::error::Error;
            ),
        );
    }
    for send in sends_mut(file)? {
        let name = send.sig.ident.to_string();
        let ok = success_type(&send.sig.output)
            .ok_or_else(|| format!("`{name}` does not return Result<ResponseValue<T>, _>"))?;
        send.sig.output = parse_quote!(-> Result<ResponseValue<#ok>, Error>);
        let stmts = &mut send.block.stmts;
        let Some(Stmt::Local(first)) = stmts.first_mut() else {
            return Err("`send` does not start with `let Self { .. } = self;`".into());
        };
        let syn::Pat::Struct(pattern) = &first.pat else {
            return Err("`send` does not start with `let Self { .. } = self;`".into());
        };
        let fields: Vec<&syn::Member> = pattern.fields.iter().map(|f| &f.member).collect();
        stmts[0] = parse_quote!(let Self { #(#fields,)* options } = self;);
        let info = stmts
            .iter()
            .position(|s| operation_info(s).is_some())
            .ok_or("`send` has no `let info = OperationInfo { .. }`")?;
        let operation = operation_info(&stmts[info]).expect("found above");
        let chain = info
            .checked_sub(1)
            .and_then(|i| request_chain(&stmts[i]))
            .ok_or_else(|| {
                format!("`send` of {operation} does not build its request right before `info`")
            })?;
        stmts.truncate(info - 1);
        stmts.push(parse_quote!(let request = #chain;));
        stmts.push(Stmt::Expr(
            syn::parse2(quote! {
                crate::transport::send(client, request, #operation, options).await
            })
            .map_err(|e| e.to_string())?,
            None,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn client_constructors_become_crate_private() {
        let mut file = fixture::client();
        private_client_constructors(&mut file).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash("pub(crate) fn new("))
                && text.contains(&fixture::squash("pub(crate) fn new_with_client(")),
            "{text}"
        );
    }

    #[test]
    fn a_multipart_operation_sends_a_form() {
        let mut file: syn::File = syn::parse_str(
            r#"
            impl Client {
                pub fn upload_file(&self) -> builder::UploadFile<'_> { builder::UploadFile::new(self) }
            }
            pub mod builder {
                pub struct UploadFile<'a> { client: &'a super::Client, body: Result<reqwest::Body, String> }
                impl<'a> UploadFile<'a> {
                    pub fn body<B>(mut self, value: B) -> Self where B: std::convert::TryInto<reqwest::Body> { self }
                    pub async fn send(self) -> Result<(), ()> {
                        let request = client.client.post(url)
                            .header(::reqwest::header::CONTENT_TYPE,
                                ::reqwest::header::HeaderValue::from_static("application/octet-stream"))
                            .body(body)
                            .build()?;
                        Ok(())
                    }
                }
            }
            "#,
        )
        .unwrap();
        let doc = serde_json::json!({"paths": {"/files": {"post": {"operationId": "uploadFile",
            "requestBody": {"x-deck-multipart": {"type": "object"}}}}}});
        let untouched = file.clone();
        multipart_bodies(&mut file, &serde_json::json!({"paths": {}})).unwrap();
        assert_eq!(fixture::render(&file), fixture::render(&untouched));
        multipart_bodies(&mut file, &doc).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash("from_static(\"multipart/form-data\")")),
            "{text}"
        );
        assert!(!text.contains("octet-stream"), "{text}");
        assert!(text.contains("crate::Multipart"), "{text}");
        // A second pass finds no octet-stream content type to replace: it says so.
        let err = multipart_bodies(&mut file, &doc).unwrap_err();
        assert!(err.contains("`UploadFile::send`"), "{err}");
        let missing = serde_json::json!({"paths": {"/x": {"put": {"operationId": "replaceFile",
            "requestBody": {"x-deck-multipart": {}}}}}});
        assert!(
            multipart_bodies(&mut file, &missing)
                .unwrap_err()
                .contains("`replaceFile`")
        );
    }

    #[test]
    fn the_api_version_header_is_not_generated() {
        let mut file = fixture::client();
        drop_api_version_header(&mut file).unwrap();
        let text = fixture::render(&file);
        assert!(!text.contains(&fixture::squash("api-version")), "{text}");
        assert!(!text.contains(&fixture::squash("header_map")), "{text}");
        assert!(text.contains(&fixture::squash(
            ".query(&progenitor_client::QueryParam::new(\"limit\", &limit))"
        )));
    }

    #[test]
    fn other_headers_keep_the_map() {
        let mut file = fixture::client();
        // An operation with a header parameter of its own keeps the map.
        for send in sends_mut(&mut file).unwrap() {
            send.block
                .stmts
                .insert(2, parse_quote!(header_map.append("x-trace", value);));
        }
        drop_api_version_header(&mut file).unwrap();
        let text = fixture::render(&file);
        assert!(
            !text.contains(&fixture::squash("api-version"))
                && text.contains(&fixture::squash(".headers(header_map)")),
            "{text}"
        );
    }

    #[test]
    fn builders_carry_options() {
        let mut file = fixture::client();
        builder_options(&mut file).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash("options: crate::client::RequestOptions,")),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash(
                "options: ::std::default::Default::default()"
            )),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash("pub fn with_options(mut self")),
            "{text}"
        );
        // A parameter already named `options` is reported, not shadowed.
        assert!(
            builder_options(&mut file)
                .unwrap_err()
                .contains("already has a field")
        );
    }

    #[test]
    fn send_returns_deck_errors_through_the_transport() {
        let mut file = fixture::client();
        builder_options(&mut file).unwrap();
        send_through_transport(&mut file).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash(
                "-> Result<ResponseValue<types::TaskRunPage>, Error>"
            )),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash("use crate::error::Error;")),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash(
                "let Self { client, cursor, limit, options } = self;"
            )),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash(
                "crate::transport::send(client, request, \"list_task_runs\", options).await"
            )),
            "{text}"
        );
        for gone in [
            "OperationInfo {",
            "client.pre(",
            "client.exec(",
            ".build()?",
            "match response",
        ] {
            assert!(
                !text.contains(&fixture::squash(gone)),
                "{gone} left in:\n{text}"
            );
        }
    }

    #[test]
    fn an_unexpected_send_shape_is_an_error() {
        let mut file = fixture::client();
        builder_options(&mut file).unwrap();
        for send in sends_mut(&mut file).unwrap() {
            send.block.stmts.retain(|s| operation_info(s).is_none());
        }
        let err = send_through_transport(&mut file).unwrap_err();
        assert!(err.contains("OperationInfo"), "{err}");
    }
}
