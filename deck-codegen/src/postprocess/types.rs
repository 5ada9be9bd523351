//! Rules on the generated types: plain integers that accept numeric strings, and
//! `#[non_exhaustive]` for semver.

use super::key;
use crate::normalize::escape;
use serde_json::Value;
use std::collections::BTreeSet;
use syn::punctuated::Punctuated;
use syn::{Item, Meta, Token, parse_quote};

/// The (component, property) pairs whose schema carries extension `marker: true`. Parameters
/// are skipped when `parameters_ok`; any other place (array items, nested inline objects) has no
/// struct field to act on and is refused.
pub(crate) fn marked_properties(
    doc: &Value,
    marker: &str,
    parameters_ok: bool,
) -> Result<BTreeSet<(String, String)>, String> {
    fn walk(value: &Value, marker: &str, ptr: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(obj) => {
                if obj.get(marker) == Some(&Value::Bool(true)) {
                    out.push(ptr.to_string());
                }
                for (k, v) in obj {
                    walk(v, marker, &format!("{ptr}/{}", escape(k)), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, marker, &format!("{ptr}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut pointers = Vec::new();
    walk(doc, marker, "", &mut pointers);
    let mut out = BTreeSet::new();
    for ptr in pointers {
        let parts: Vec<&str> = ptr.split('/').collect();
        match parts.as_slice() {
            [
                "",
                "components",
                "schemas",
                component,
                "properties",
                property,
            ] => {
                out.insert((unescape(component), unescape(property)));
            }
            [.., "parameters", _, "schema"] if parameters_ok => {}
            _ => {
                return Err(format!(
                    "at {ptr}: `{marker}` here has no struct field to act on (only component \
                     properties{} are supported)",
                    if parameters_ok { " and parameters" } else { "" }
                ));
            }
        }
    }
    Ok(out)
}

/// Where the normaliser marked an integer `x-deck-int-or-string`, as (component, property)
/// pairs. Parameters are fine as they are (the client only sends them); any other place (array
/// items, nested inline objects) has no struct field to attach the decoder to and is refused.
fn int_or_string_properties(doc: &Value) -> Result<BTreeSet<(String, String)>, String> {
    marked_properties(doc, "x-deck-int-or-string", true)
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The string value of `#[serde(key = "…")]` on a field, if any (unreadable attributes skipped).
fn serde_string(field: &syn::Field, key: &str) -> Option<String> {
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let Ok(metas) = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        else {
            continue;
        };
        for meta in metas {
            if let Meta::NameValue(nv) = meta
                && nv.path.is_ident(key)
                && let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = nv.value
            {
                return Some(s.value());
            }
        }
    }
    None
}

/// The wire name of a field: its `#[serde(rename = "…")]`, else its identifier.
pub(crate) fn wire_name(field: &syn::Field) -> Option<String> {
    serde_string(field, "rename").or_else(|| {
        field
            .ident
            .as_ref()
            .map(|i| i.to_string().trim_start_matches("r#").to_string())
    })
}

/// Rule: fields the normaliser marked `x-deck-int-or-string` keep their plain type (`i32`,
/// `Option<i64>`, …) and get `deserialize_with = "crate::wire::int"` (or `option_int`), so Deck
/// may send `1234` or `"1234"`. The field's other serde settings (`default`,
/// `skip_serializing_if`) stay; typify's `Option::deserialize` for required-nullable fields is
/// replaced (ours keeps requiring the field).
pub fn int_or_string_fields(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let mut wanted = int_or_string_properties(doc)?;
    let types = super::module_mut(file, "types")?;
    for item in super::items_mut(types) {
        let Item::Struct(s) = item else { continue };
        let struct_key = key(&s.ident.to_string());
        for field in s.fields.iter_mut() {
            let Some(wire) = wire_name(field) else {
                continue;
            };
            let Some(found) = wanted
                .iter()
                .find(|(c, p)| key(c) == struct_key && *p == wire)
                .cloned()
            else {
                continue;
            };
            wanted.remove(&found);
            let decoder = if super::type_ident(&field.ty).as_deref() == Some("Option") {
                "crate::wire::option_int"
            } else {
                "crate::wire::int"
            };
            set_deserialize_with(field, decoder)?;
        }
    }
    match wanted.into_iter().next() {
        None => Ok(()),
        Some((component, property)) => Err(format!(
            "at /components/schemas/{}/properties/{}: no generated struct field for this \
             integer-or-numeric-string",
            escape(&component),
            escape(&property)
        )),
    }
}

/// Rule: the optional fields of a component the overlay marks `x-deck-empty-is-null` (Deck's
/// event snapshots, which send an empty field as `""`) decode `""` as `None`:
/// `deserialize_with = "crate::wire::empty_as_none"` (`option_int_or_empty` for integers that
/// may come as strings). Required fields keep their decoding; a marked component without a
/// generated struct is refused.
pub fn empty_is_null_fields(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let marked: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, schema)| schema.get("x-deck-empty-is-null") == Some(&Value::Bool(true)))
        .map(|(name, _)| name.clone())
        .collect();
    let types = super::module_mut(file, "types")?;
    for component in marked {
        let found = super::items_mut(types)
            .iter_mut()
            .find_map(|item| match item {
                Item::Struct(s) if key(&s.ident.to_string()) == key(&component) => Some(s),
                _ => None,
            });
        let Some(s) = found else {
            return Err(format!(
                "at /components/schemas/{}: `x-deck-empty-is-null` on a schema with no generated \
                 struct",
                escape(&component)
            ));
        };
        for field in s.fields.iter_mut() {
            if super::type_ident(&field.ty).as_deref() != Some("Option") {
                continue;
            }
            let decoder = match serde_string(field, "deserialize_with").as_deref() {
                Some("crate::wire::option_int") => "crate::wire::option_int_or_empty",
                _ => "crate::wire::empty_as_none",
            };
            set_deserialize_with(field, decoder)?;
        }
    }
    Ok(())
}

/// Replaces the field's `deserialize_with`. A field that had none was optional (serde treats a
/// missing `Option` as `None` only without one), so it gets `default` to stay optional.
fn set_deserialize_with(field: &mut syn::Field, decoder: &str) -> Result<(), String> {
    let mut metas: Punctuated<Meta, Token![,]> = Punctuated::new();
    let mut kept_attrs = Vec::new();
    let mut had_deserialize_with = false;
    let is_option = super::type_ident(&field.ty).as_deref() == Some("Option");
    for attr in field.attrs.drain(..) {
        if attr.path().is_ident("serde") {
            let args = attr
                .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .map_err(|e| format!("an unreadable serde attribute: {e}"))?;
            for meta in args {
                if meta.path().is_ident("deserialize_with") {
                    had_deserialize_with = true;
                } else {
                    metas.push(meta);
                }
            }
        } else {
            kept_attrs.push(attr);
        }
    }
    if is_option && !had_deserialize_with && !metas.iter().any(|m| m.path().is_ident("default")) {
        metas.insert(0, parse_quote!(default));
    }
    metas.push(parse_quote!(deserialize_with = #decoder));
    kept_attrs.push(parse_quote!(#[serde(#metas)]));
    field.attrs = kept_attrs;
    Ok(())
}

/// Rule: a field the overlay marks `x-deck-secret` (passwords, tokens, signing secrets) prints
/// `** redacted **` in `Debug`: the struct and its `types::builder` twin lose their derived
/// `Debug` for one that names every field but shows no secret value.
pub fn redacted_debug(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let mut secrets: Vec<(String, String)> = marked_properties(doc, "x-deck-secret", false)?
        .into_iter()
        .collect();
    let mut seen = BTreeSet::new();
    let types = super::module_mut(file, "types")?;
    let mut impls = Vec::new();
    redact_in(super::items_mut(types), &secrets, &mut seen, &mut impls)?;
    for item in super::items_mut(types).iter_mut() {
        if let Item::Mod(m) = item
            && m.ident == "builder"
            && let Some((_, inner)) = m.content.as_mut()
        {
            let mut builder_impls = Vec::new();
            redact_in(inner, &secrets, &mut BTreeSet::new(), &mut builder_impls)?;
            inner.extend(builder_impls);
        }
    }
    super::items_mut(types).extend(impls);
    secrets.retain(|pair| !seen.contains(pair));
    match secrets.first() {
        None => Ok(()),
        Some((component, property)) => Err(format!(
            "at /components/schemas/{}/properties/{}: no generated struct field for this secret",
            escape(component),
            escape(property)
        )),
    }
}

fn redact_in(
    items: &mut [Item],
    secrets: &[(String, String)],
    seen: &mut BTreeSet<(String, String)>,
    impls: &mut Vec<Item>,
) -> Result<(), String> {
    for item in items.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let struct_key = key(&s.ident.to_string());
        let secret_of = |field: &syn::Field| -> Option<(String, String)> {
            let wire = wire_name(field)?;
            secrets
                .iter()
                .find(|(c, p)| key(c) == struct_key && *p == wire)
                .cloned()
        };
        let secret_fields: Vec<(String, String)> = s.fields.iter().filter_map(secret_of).collect();
        if secret_fields.is_empty() {
            continue;
        }
        seen.extend(secret_fields);
        drop_derive(&mut s.attrs, "Debug", &s.ident)?;
        let ident = &s.ident;
        let name = ident.to_string();
        let generics = &s.generics;
        let fields = s.fields.iter().filter_map(|f| {
            let field = f.ident.as_ref()?;
            let label = field.to_string();
            Some(if secret_of(f).is_some() {
                quote::quote!(.field(#label, &"** redacted **"))
            } else {
                quote::quote!(.field(#label, &self.#field))
            })
        });
        impls.push(parse_quote! {
            impl #generics ::std::fmt::Debug for #ident #generics {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(#name) #(#fields)* .finish()
                }
            }
        });
    }
    Ok(())
}

/// Rule: every public struct and enum in `types` is `#[non_exhaustive]`, so a field or value
/// Deck adds is a minor release of this crate, not a breaking one (build values with the
/// generated `builder()`s).
pub fn non_exhaustive_types(file: &mut syn::File) -> Result<(), String> {
    let types = super::module_mut(file, "types")?;
    for item in super::items_mut(types) {
        let attrs = match item {
            Item::Struct(s) if matches!(s.vis, syn::Visibility::Public(_)) => &mut s.attrs,
            Item::Enum(e) if matches!(e.vis, syn::Visibility::Public(_)) => &mut e.attrs,
            _ => continue,
        };
        if !attrs.iter().any(|a| a.path().is_ident("non_exhaustive")) {
            attrs.push(parse_quote!(#[non_exhaustive]));
        }
    }
    Ok(())
}

/// Whether `attrs` hold a `#[derive(...)]` naming `name` (by its last path segment).
/// Removes `name` (by its last path segment) from the `#[derive(...)]` attributes of `owner`.
pub(crate) fn drop_derive(
    attrs: &mut [syn::Attribute],
    name: &str,
    owner: &syn::Ident,
) -> Result<(), String> {
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let paths = attr
            .parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
            .map_err(|e| format!("an unreadable derive on `{owner}`: {e}"))?;
        let kept: Punctuated<syn::Path, Token![,]> = paths
            .into_iter()
            .filter(|p| p.segments.last().is_none_or(|seg| seg.ident != name))
            .collect();
        *attr = parse_quote!(#[derive(#kept)]);
    }
    Ok(())
}

fn derives(attrs: &[syn::Attribute], name: &str) -> Result<bool, String> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let paths = attr
            .parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
            .map_err(|e| format!("unreadable derive: {e}"))?;
        if paths
            .iter()
            .any(|p| p.segments.last().is_some_and(|s| s.ident == name))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Rule: with the `schemars` feature, every type in `types` that derives serde's `Deserialize`
/// also derives `schemars::JsonSchema`, so the schema follows the same serde attributes as the
/// wire (renames, optional fields). Open enums implement it by hand (see `enums`).
pub fn json_schema_derives(file: &mut syn::File) -> Result<(), String> {
    let types = super::module_mut(file, "types")?;
    for item in super::items_mut(types) {
        let attrs = match item {
            Item::Struct(s) => &mut s.attrs,
            Item::Enum(e) => &mut e.attrs,
            _ => continue,
        };
        if derives(attrs, "Deserialize")? {
            attrs.push(parse_quote!(
                #[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;
    use serde_json::json;

    #[test]
    fn snapshot_fields_decode_empty_strings_as_none() {
        let mut file: syn::File = syn::parse_str(
            r#"
            pub mod types {
                pub struct RunSnapshot {
                    pub id: ::std::string::String,
                    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                    pub status: ::std::option::Option<RunStatus>,
                    #[serde(default, deserialize_with = "crate::wire::option_int")]
                    pub runtime_ms: ::std::option::Option<i32>,
                }
                pub struct Other {
                    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                    pub note: ::std::option::Option<::std::string::String>,
                }
            }
            "#,
        )
        .unwrap();
        let doc = json!({"components": {"schemas": {
            "RunSnapshot": {"type": "object", "x-deck-empty-is-null": true},
            "Other": {"type": "object"}
        }}});
        empty_is_null_fields(&mut file, &doc).unwrap();
        let text = fixture::render(&file);
        assert!(text.contains(&fixture::squash(
            r#"#[serde(default, skip_serializing_if = "::std::option::Option::is_none", deserialize_with = "crate::wire::empty_as_none")] pub status"#
        )), "{text}");
        assert!(text.contains(&fixture::squash(
            r#"#[serde(default, deserialize_with = "crate::wire::option_int_or_empty")] pub runtime_ms"#
        )), "{text}");
        assert_eq!(text.matches("empty_as_none").count(), 1, "{text}");
        assert!(text.contains(&fixture::squash("pub id: ::std::string::String,")));
        let missing = json!({"components": {"schemas": {
            "Gone": {"type": "object", "x-deck-empty-is-null": true}
        }}});
        let err = empty_is_null_fields(&mut file, &missing).unwrap_err();
        assert!(err.contains("/components/schemas/Gone"), "{err}");
    }

    #[test]
    fn serde_types_derive_json_schema_under_the_feature() {
        let mut file: syn::File = syn::parse_str(
            r#"
            pub mod types {
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
                pub struct Agent { pub id: String }
                #[derive(Clone, Debug)]
                pub enum RunStatus { Queued, Unknown(String) }
                pub mod builder { pub struct Agent { id: Result<String, String> } }
            }
            "#,
        )
        .unwrap();
        json_schema_derives(&mut file).unwrap();
        let text = fixture::render(&file);
        let derive =
            fixture::squash(r#"#[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]"#);
        assert_eq!(text.matches(&derive).count(), 1, "{text}");
        assert!(
            text.contains(&fixture::squash(&format!("{derive} pub struct Agent"))),
            "{text}"
        );
    }

    #[test]
    fn int_or_string_fields_get_the_lenient_decoder() {
        let mut file = fixture::client();
        int_or_string_fields(&mut file, &fixture::doc()).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash(
                r#"#[serde(deserialize_with = "crate::wire::option_int")]"#
            )) && text.contains(&fixture::squash(
                "pub runtime_ms: ::std::option::Option<i32>"
            )),
            "{text}"
        );
        assert!(text.contains(&fixture::squash(
            r#"#[serde(default, skip_serializing_if = "::std::option::Option::is_none", deserialize_with = "crate::wire::option_int")]"#
        )), "{text}");
        assert!(
            text.contains(&fixture::squash(
                r#"#[serde(deserialize_with = "crate::wire::int")]"#
            )),
            "{text}"
        );
        assert!(
            !text.contains(&fixture::squash("Option::deserialize")),
            "{text}"
        );
        // An optional field stays optional: `default` is added beside the decoder.
        assert!(text.contains(&fixture::squash(
            r#"#[serde(default, skip_serializing_if = "::std::option::Option::is_none", deserialize_with = "crate::wire::option_int")] pub retries"#
        )), "{text}");
    }

    #[test]
    fn int_or_string_in_unsupported_places_is_refused() {
        let mut file = fixture::client();
        let doc = json!({"components": {"schemas": {"A": {"type": "array",
            "items": {"type": "integer", "x-deck-int-or-string": true}}}}});
        let err = int_or_string_fields(&mut file, &doc).unwrap_err();
        assert!(err.contains("/components/schemas/A/items"), "{err}");
        let missing = json!({"components": {"schemas": {"Gone": {"properties": {
            "n": {"type": "integer", "x-deck-int-or-string": true}}}}}});
        let err = int_or_string_fields(&mut file, &missing).unwrap_err();
        assert!(
            err.contains("/components/schemas/Gone/properties/n"),
            "{err}"
        );
    }

    #[test]
    fn secret_fields_are_redacted_in_debug_on_the_type_and_its_builder() {
        let mut file: syn::File = syn::parse_str(
            r#"pub mod types {
                #[derive(::serde::Deserialize, Clone, Debug, PartialEq)]
                pub struct Login { pub user: String, pub password: Option<String> }
                pub mod builder {
                    #[derive(Clone, Debug)]
                    pub struct Login { user: Result<String, String>, password: Result<Option<String>, String> }
                }
            }"#,
        )
        .unwrap();
        let doc = json!({"components": {"schemas": {"Login": {"properties": {
            "user": {"type": "string"}, "password": {"type": "string", "x-deck-secret": true}}}}}});
        redacted_debug(&mut file, &doc).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash(
                "#[derive(::serde::Deserialize, Clone, PartialEq)]"
            )),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash("#[derive(Clone)]")),
            "{text}"
        );
        assert_eq!(
            text.matches(&fixture::squash(r#".field("password", &"** redacted **")"#))
                .count(),
            2,
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash(r#".field("user", &self.user)"#)),
            "{text}"
        );
        let missing = json!({"components": {"schemas": {"Gone": {"properties": {
            "token": {"type": "string", "x-deck-secret": true}}}}}});
        let err = redacted_debug(&mut file, &missing).unwrap_err();
        assert!(
            err.contains("/components/schemas/Gone/properties/token"),
            "{err}"
        );
    }

    #[test]
    fn public_types_become_non_exhaustive() {
        let mut file = fixture::client();
        non_exhaustive_types(&mut file).unwrap();
        let types = super::super::module(&file, "types").unwrap();
        for item in types {
            if let Item::Struct(s) = item {
                assert!(
                    s.attrs.iter().any(|a| a.path().is_ident("non_exhaustive")),
                    "{}",
                    s.ident
                );
            }
        }
        // The builders inside `types::builder` are not touched.
        let text = fixture::render(&file);
        assert_eq!(text.matches("#[non_exhaustive]").count(), 2, "{text}");
    }
}
