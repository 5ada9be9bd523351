//! Building a [`Surface`] from the generated syntax tree and the normalised document.

use super::*;
use crate::normalize::{ERROR_BODY, component_ref};
use crate::postprocess::{self, generic_arg, key, types::wire_name};
use crate::settings::OpenEnum;
use proc_macro2::TokenStream;
use quote::ToTokens;
use serde_json::Value;
use syn::{Fields, GenericArgument, ImplItem, Item, PathArguments, Type};

/// Reads the surface of `file` (post-processed generator output) generated from `doc` (the
/// normalised document) with `open_enums`.
pub fn read(file: &syn::File, doc: &Value, open_enums: &[OpenEnum]) -> Result<Surface, String> {
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let component =
        |rust: &str| schemas.and_then(|s| s.iter().find(|(name, _)| key(name) == key(rust)));

    let mut types = BTreeMap::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let type_items = postprocess::module(file, "types")?;
    let names: BTreeSet<String> = type_items.iter().filter_map(item_name).collect();
    for item in type_items {
        let Some(name) = item_name(item) else {
            continue;
        };
        let schema = component(&name).map(|(_, s)| s);
        let kind = match item {
            Item::Struct(s) => match &s.fields {
                Fields::Named(named) => {
                    let mut fields = BTreeMap::new();
                    for f in &named.named {
                        let Some(wire) = wire_name(f) else { continue };
                        let prop = schema.and_then(|s| {
                            s.pointer(&format!("/properties/{}", crate::normalize::escape(&wire)))
                        });
                        edges
                            .entry(name.clone())
                            .or_default()
                            .extend(mentioned(&f.ty, &names));
                        fields.insert(wire, field(f, prop, doc));
                    }
                    Kind::Struct(fields)
                }
                Fields::Unnamed(unnamed) => {
                    for f in &unnamed.unnamed {
                        edges
                            .entry(name.clone())
                            .or_default()
                            .extend(mentioned(&f.ty, &names));
                    }
                    let inner: Vec<String> =
                        unnamed.unnamed.iter().map(|f| render(&f.ty)).collect();
                    Kind::Newtype(inner.join(", "))
                }
                Fields::Unit => Kind::Struct(BTreeMap::new()),
            },
            Item::Enum(e) => match open_enums.iter().find(|o| o.name == name) {
                Some(open) => Kind::OpenEnum(
                    open.values
                        .iter()
                        .map(|v| {
                            (
                                v.wire.clone(),
                                EnumValue {
                                    variant: v.variant.clone(),
                                    aliases: v.aliases.clone(),
                                },
                            )
                        })
                        .collect(),
                ),
                None => {
                    let mut variants = Vec::new();
                    for v in &e.variants {
                        let payload: Vec<String> = v.fields.iter().map(|f| render(&f.ty)).collect();
                        for f in &v.fields {
                            edges
                                .entry(name.clone())
                                .or_default()
                                .extend(mentioned(&f.ty, &names));
                        }
                        variants.push(if payload.is_empty() {
                            v.ident.to_string()
                        } else {
                            format!("{}({})", v.ident, payload.join(", "))
                        });
                    }
                    Kind::Enum(variants)
                }
            },
            Item::Type(t) => {
                edges
                    .entry(name.clone())
                    .or_default()
                    .extend(mentioned(&t.ty, &names));
                Kind::Alias(render(&t.ty))
            }
            _ => continue,
        };
        let deck_name = schema
            .and_then(|s| s.get("x-deck-schema"))
            .and_then(Value::as_str)
            .map(String::from);
        types.insert(
            name,
            TypeDef {
                kind,
                deck_name,
                usage: Usage::default(),
            },
        );
    }

    let builder_items = postprocess::module(file, "builder")?;
    let pages = paginations(builder_items);
    let mut operations = BTreeMap::new();
    let mut request_roots = BTreeSet::new();
    let mut response_roots = BTreeSet::new();
    for (method_name, builder) in postprocess::client_methods(file) {
        let (http_method, path, op) = postprocess::spec_operation(doc, &method_name)
            .ok_or_else(|| format!("client method `{method_name}` has no operation in the spec"))?;
        let fields = builder_struct(builder_items, &builder)
            .ok_or_else(|| format!("no builder struct `{builder}`"))?;
        let mut params = BTreeMap::new();
        let mut body = None;
        for f in fields {
            let Some(ident) = f.ident.as_ref().map(|i| i.to_string()) else {
                continue;
            };
            if ident == "client" || ident == "options" {
                continue;
            }
            let inner = generic_arg(&f.ty, "Result").unwrap_or_else(|| f.ty.clone());
            request_roots.extend(mentioned(&inner, &names));
            if ident == "body" {
                body = Some(Body {
                    ty: render(&inner),
                    required: op.pointer("/requestBody/required") == Some(&Value::Bool(true)),
                });
                continue;
            }
            let (ty, required) = match generic_arg(&inner, "Option") {
                Some(t) => (render(&t), false),
                None => (render(&inner), true),
            };
            let (position, spec_param) = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .find(|(_, p)| p["name"].as_str().is_some_and(|n| key(n) == key(&ident)))
                .ok_or_else(|| format!("`{method_name}` parameter `{ident}` is not in the spec"))?;
            params.insert(
                ident,
                Param {
                    position,
                    wire: spec_param["name"].as_str().unwrap_or_default().to_string(),
                    location: spec_param["in"].as_str().unwrap_or_default().to_string(),
                    ty,
                    required,
                    constraints: constraints(&spec_param["schema"], doc),
                },
            );
        }
        let response = send_response(builder_items, &builder)
            .ok_or_else(|| format!("builder `{builder}` has no `send` returning ResponseValue"))?;
        response_roots.extend(mentioned(&response, &names));
        let success_statuses = op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(status, _)| status.clone())
            .filter(|s| s.starts_with('2') && s != "2XX")
            .collect();
        operations.insert(
            method_name,
            Operation {
                operation_id: op["operationId"].as_str().unwrap_or_default().to_string(),
                method: http_method.to_ascii_uppercase(),
                path,
                params,
                body,
                response: render(&response),
                success_statuses,
                pagination: pages.get(&format!("{builder}Query")).cloned(),
            },
        );
    }
    // The error body is hand-written, but the schemas it decodes are generated and received.
    for branch in schemas
        .and_then(|s| s.get(ERROR_BODY))
        .and_then(|e| e.get("oneOf"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = branch
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(component_ref)
        {
            response_roots.extend(names.iter().filter(|n| key(n) == key(name)).cloned());
        }
    }
    // Webhook payloads are received, like response bodies.
    let webhooks = webhooks(doc, &names, |component| {
        schemas
            .and_then(|s| s.get(component))
            .is_some_and(crate::normalize::is_any_schema)
    });
    for hook in webhooks.values() {
        if names.contains(&hook.payload) {
            response_roots.insert(hook.payload.clone());
        }
    }
    let request = reachable(&edges, request_roots);
    let response = reachable(&edges, response_roots);
    for (name, def) in types.iter_mut() {
        def.usage = Usage {
            request: request.contains(name),
            response: response.contains(name),
        };
    }
    Ok(Surface {
        spec_version: doc
            .pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        operations,
        types,
        webhooks,
    })
}

/// The webhooks of the normalised document (`x-webhooks`: event name → path item, the payload
/// being the `requestBody` schema of its `post`, or of its only operation). A payload that is a
/// `$ref` names the generated type of that component (`serde_json::Value` for a component that
/// constrains nothing); an inline one is described (`inline object`).
fn webhooks(
    doc: &Value,
    names: &BTreeSet<String>,
    is_any: impl Fn(&str) -> bool,
) -> BTreeMap<String, Webhook> {
    postprocess::webhook_payloads(doc)
        .into_iter()
        .map(|(name, schema)| {
            let payload = match &schema {
                None => "()".to_string(),
                Some(schema) => payload_type(schema, names, &is_any),
            };
            let data = schema
                .as_ref()
                .and_then(|s| s.pointer("/properties/data"))
                .map(|data| payload_type(data, names, &is_any));
            (name, Webhook { payload, data })
        })
        .collect()
}

fn payload_type(
    schema: &Value,
    names: &BTreeSet<String>,
    is_any: &impl Fn(&str) -> bool,
) -> String {
    let reference = schema.get("$ref").or_else(|| match schema.get("allOf") {
        Some(Value::Array(all)) if all.len() == 1 => all[0].get("$ref"),
        _ => None,
    });
    if let Some(component) = reference.and_then(Value::as_str).and_then(component_ref) {
        return match names.iter().find(|n| key(n) == key(component)) {
            Some(rust) => rust.clone(),
            None if is_any(component) => "serde_json::Value".into(),
            None => component.to_string(),
        };
    }
    match schema.get("type").and_then(Value::as_str) {
        Some(t) => format!("inline {t}"),
        None => "inline schema".into(),
    }
}

fn item_name(item: &Item) -> Option<String> {
    match item {
        Item::Struct(s) if matches!(s.vis, syn::Visibility::Public(_)) => Some(s.ident.to_string()),
        Item::Enum(e) if matches!(e.vis, syn::Visibility::Public(_)) => Some(e.ident.to_string()),
        Item::Type(t) if matches!(t.vis, syn::Visibility::Public(_)) => Some(t.ident.to_string()),
        _ => None,
    }
}

fn field(f: &syn::Field, prop: Option<&Value>, doc: &Value) -> Field {
    let serde = serde_metas(&f.attrs);
    let is_option = generic_arg(&f.ty, "Option").is_some();
    let has = |name: &str| serde.iter().any(|(k, _)| k == name);
    let presence = if !is_option {
        // `#[serde(default)]` (an optional array, a field with a default): may be missing.
        if has("default") {
            Presence::Optional
        } else {
            Presence::Required
        }
    } else if has("deserialize_with") && !has("default") {
        Presence::RequiredNullable
    } else {
        Presence::Optional
    };
    let int_or_string = serde.iter().any(|(k, v)| {
        k == "deserialize_with"
            && matches!(
                v.as_str(),
                "crate::wire::int" | "crate::wire::option_int" | "crate::wire::option_int_or_empty"
            )
    });
    Field {
        name: f
            .ident
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        ty: render(&f.ty),
        presence,
        int_or_string,
        secret: prop.and_then(|p| p.get("x-deck-secret")) == Some(&Value::Bool(true)),
        constraints: prop.map(|p| constraints(p, doc)).unwrap_or_default(),
    }
}

/// `#[serde(a, b = "c")]` → `[("a", ""), ("b", "c")]`.
fn serde_metas(attrs: &[syn::Attribute]) -> Vec<(String, String)> {
    use syn::punctuated::Punctuated;
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let Ok(metas) =
            attr.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
        else {
            continue;
        };
        for meta in metas {
            let name = meta.path().to_token_stream().to_string();
            let value = match meta {
                syn::Meta::NameValue(nv) => match nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => s.value(),
                    other => other.to_token_stream().to_string(),
                },
                _ => String::new(),
            };
            out.push((name, value));
        }
    }
    out
}

/// The validation keywords of `schema` (following a single `allOf` reference, and into array
/// items for the allowed values).
fn constraints(schema: &Value, doc: &Value) -> Constraints {
    let resolved = |s: &Value| -> Value {
        let mut s = s.clone();
        if let Some(Value::Array(all)) = s.get("allOf").cloned()
            && let [only] = all.as_slice()
            && let Some(target) = only
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| doc.pointer(p))
            && let (Some(obj), Some(t)) = (s.as_object_mut(), target.as_object())
        {
            for (k, v) in t {
                obj.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        if let Some(r) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            && let Some(target) = doc.pointer(r)
        {
            return target.clone();
        }
        s
    };
    let s = resolved(schema);
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    let int = |k: &str| s.get(k).and_then(Value::as_u64);
    let values_of = |s: &Value| -> Option<BTreeSet<String>> {
        s.get("enum").and_then(Value::as_array).map(|v| {
            v.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), String::from))
                .collect()
        })
    };
    let values = values_of(&s).or_else(|| s.get("items").map(resolved).and_then(|i| values_of(&i)));
    Constraints {
        minimum: num("minimum"),
        exclusive_minimum: s.get("exclusiveMinimum") == Some(&Value::Bool(true)),
        maximum: num("maximum"),
        exclusive_maximum: s.get("exclusiveMaximum") == Some(&Value::Bool(true)),
        min_length: int("minLength"),
        max_length: int("maxLength"),
        pattern: s.get("pattern").and_then(Value::as_str).map(String::from),
        min_items: int("minItems"),
        max_items: int("maxItems"),
        unique_items: s.get("uniqueItems") == Some(&Value::Bool(true)),
        multiple_of: num("multipleOf"),
        values,
    }
}

fn builder_struct<'a>(
    items: &'a [Item],
    name: &str,
) -> Option<&'a syn::punctuated::Punctuated<syn::Field, syn::Token![,]>> {
    items.iter().find_map(|item| match item {
        Item::Struct(s) if s.ident == name => match &s.fields {
            Fields::Named(n) => Some(&n.named),
            _ => None,
        },
        _ => None,
    })
}

/// `T` of `send(self) -> Result<ResponseValue<T>, _>` on builder `name`.
fn send_response(items: &[Item], name: &str) -> Option<Type> {
    for item in items {
        let Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() || postprocess::type_ident(&imp.self_ty).as_deref() != Some(name) {
            continue;
        }
        for member in &imp.items {
            if let ImplItem::Fn(f) = member
                && f.sig.ident == "send"
                && let syn::ReturnType::Type(_, ty) = &f.sig.output
            {
                return generic_arg(ty, "Result").and_then(|r| generic_arg(&r, "ResponseValue"));
            }
        }
    }
    None
}

/// Pagination of every `impl PageQuery for XQuery`, by `XQuery`.
fn paginations(items: &[Item]) -> BTreeMap<String, Pagination> {
    let mut out = BTreeMap::new();
    for item in items {
        let Item::Impl(imp) = item else { continue };
        let is_page_query = imp
            .trait_
            .as_ref()
            .is_some_and(|(p, _)| p.segments.last().is_some_and(|s| s.ident == "PageQuery"));
        let Some(query) = postprocess::type_ident(&imp.self_ty).filter(|_| is_page_query) else {
            continue;
        };
        let mut item_ty = None;
        let mut page_size = 0;
        for member in &imp.items {
            match member {
                ImplItem::Type(t) if t.ident == "Item" => item_ty = Some(render(&t.ty)),
                ImplItem::Const(c) if c.ident == "MAX_PAGE_SIZE" => {
                    if let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    }) = &c.expr
                    {
                        page_size = n.base10_parse().unwrap_or(0);
                    }
                }
                _ => {}
            }
        }
        if let Some(item) = item_ty {
            out.insert(query, Pagination { item, page_size });
        }
    }
    out
}

fn reachable(
    edges: &BTreeMap<String, BTreeSet<String>>,
    roots: BTreeSet<String>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.into_iter().collect();
    while let Some(name) = stack.pop() {
        if seen.insert(name.clone()) {
            stack.extend(edges.get(&name).into_iter().flatten().cloned());
        }
    }
    seen
}

/// Generated type names mentioned anywhere in `ty`.
fn mentioned(ty: &Type, names: &BTreeSet<String>) -> BTreeSet<String> {
    use syn::visit::Visit;
    struct Finder<'a>(&'a BTreeSet<String>, BTreeSet<String>);
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_path_segment(&mut self, s: &'ast syn::PathSegment) {
            let name = s.ident.to_string();
            if self.0.contains(&name) {
                self.1.insert(name);
            }
            syn::visit::visit_path_segment(self, s);
        }
    }
    let mut finder = Finder(names, BTreeSet::new());
    finder.visit_type(ty);
    finder.1
}

/// Renders a type the way a user writes it: `::std::vec::Vec<::std::string::String>` →
/// `Vec<String>`, `super::types::X` → `X`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postprocess::fixture;

    #[test]
    fn types_render_as_users_write_them() {
        let ty: Type = syn::parse_str(
            "::std::option::Option<::std::vec::Vec<::chrono::DateTime<::chrono::offset::Utc>>>",
        )
        .unwrap();
        assert_eq!(render(&ty), "Option<Vec<chrono::DateTime<Utc>>>");
        let ty: Type = syn::parse_str("super::types::TaskRun").unwrap();
        assert_eq!(render(&ty), "TaskRun");
    }

    #[test]
    fn the_fixture_reads_into_a_surface() {
        let mut file = fixture::client();
        let doc = fixture::doc();
        crate::postprocess::types::int_or_string_fields(&mut file, &doc).unwrap();
        crate::postprocess::sends::builder_options(&mut file).unwrap();
        crate::postprocess::pages::pagination(&mut file, &doc).unwrap();
        crate::postprocess::sends::send_through_transport(&mut file).unwrap();
        let surface = read(&file, &doc, &[]).unwrap();
        let op = &surface.operations["list_task_runs"];
        assert_eq!(
            (op.method.as_str(), op.path.as_str()),
            ("GET", "/task-runs")
        );
        assert_eq!(op.response, "TaskRunPage");
        assert_eq!(op.success_statuses, vec!["200".to_string()]);
        assert_eq!(
            op.pagination,
            Some(Pagination {
                item: "TaskRun".into(),
                page_size: 50
            })
        );
        let limit = &op.params["limit"];
        assert_eq!((limit.ty.as_str(), limit.required), ("i32", false));
        assert_eq!(limit.constraints.maximum, Some(50.0));
        let Kind::Struct(fields) = &surface.types["TaskRun"].kind else {
            panic!()
        };
        assert_eq!(fields["runtime_ms"].presence, Presence::RequiredNullable);
        assert_eq!(fields["file_size"].presence, Presence::Optional);
        assert!(
            fields["attempts"].int_or_string && fields["attempts"].presence == Presence::Required
        );
        assert!(surface.types["TaskRun"].usage.response && !surface.types["TaskRun"].usage.request);
        assert!(surface.webhooks.is_empty());
    }

    #[test]
    fn webhooks_are_read_with_their_payload_types() {
        let names: BTreeSet<String> = ["TaskRunEvent".to_string()].into();
        let doc = serde_json::json!({
            "components": {
                "schemas": {"task_run_event": {"type": "object"}, "Anything": {}},
                "requestBodies": {"Ev": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/task_run_event"}}}}}
            },
            "x-webhooks": {
                "task_run.completed": {"post": {"requestBody": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/task_run_event"}}}}}},
                "task_run.failed": {"post": {"requestBody": {"$ref": "#/components/requestBodies/Ev"}}},
                "ping": {"post": {"requestBody": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Anything"}}}}}},
                "inline": {"post": {"requestBody": {"content": {"application/json": {
                    "schema": {"type": "object"}}}}}},
                "empty": {"post": {}},
                "narrowed": {"post": {"requestBody": {"content": {"application/json": {
                    "schema": {"allOf": [{"$ref": "#/components/schemas/task_run_event"}],
                               "properties": {"data": {"$ref": "#/components/schemas/Anything"}}}}}}}}
            }
        });
        let any = |c: &str| c == "Anything";
        let hooks = webhooks(&doc, &names, any);
        let payloads: Vec<(&str, &str)> = hooks
            .iter()
            .map(|(k, v)| (k.as_str(), v.payload.as_str()))
            .collect();
        assert_eq!(
            payloads,
            [
                ("empty", "()"),
                ("inline", "inline object"),
                ("narrowed", "TaskRunEvent"),
                ("ping", "serde_json::Value"),
                ("task_run.completed", "TaskRunEvent"),
                ("task_run.failed", "TaskRunEvent"),
            ]
        );
        assert_eq!(hooks["narrowed"].data.as_deref(), Some("serde_json::Value"));
        assert_eq!(hooks["task_run.completed"].data, None);
    }
}
