//! Rules on body fields and their builders' setters: updates that can send `null`, and setters
//! that take the value itself.

use super::{generic_arg, key, type_ident};
use crate::normalize::escape;
use serde_json::Value;
use std::collections::BTreeSet;
use syn::punctuated::Punctuated;
use syn::{ImplItem, Item, Meta, Token, parse_quote};

/// The (component, property) pairs of `PATCH` request bodies whose schema allows `null`.
fn nullable_patch_fields(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for item in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.values())
    {
        let Some(reference) = item
            .pointer("/patch/requestBody/content/application~1json/schema/$ref")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let Some(component) = reference.strip_prefix("#/components/schemas/") else {
            continue;
        };
        let Some(props) = doc
            .pointer(&format!("{}/properties", &reference[1..]))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, schema) in props {
            if schema.get("nullable") == Some(&Value::Bool(true)) {
                out.insert((component.to_string(), name.clone()));
            }
        }
    }
    out
}

/// Rule: a field of a `PATCH` body the spec allows to be `null` becomes a
/// [`deck::Patch<T>`](crate) in the body type and in its `types::builder` twin: left alone it
/// stays out of the body (as before), cleared it is sent as `null` (which `Option<T>` could not
/// say: `None` was left out). A marked field that is not an `Option` or carries its own decoder
/// is refused.
pub fn patch_fields(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let mut wanted = nullable_patch_fields(doc);
    let patch_of = |ty: &syn::Type| -> Option<syn::Type> {
        let inner = generic_arg(ty, "Option")?;
        Some(parse_quote!(crate::Patch<#inner>))
    };
    let types = super::module_mut(file, "types")?;
    let items = super::items_mut(types);
    let mut done = BTreeSet::new();
    for item in items.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let struct_key = key(&s.ident.to_string());
        for field in s.fields.iter_mut() {
            let Some(wire) = super::types::wire_name(field) else {
                continue;
            };
            let Some(found) = wanted
                .iter()
                .find(|(c, p)| key(c) == struct_key && *p == wire)
                .cloned()
            else {
                continue;
            };
            let place = format!(
                "at /components/schemas/{}/properties/{}",
                escape(&found.0),
                escape(&found.1)
            );
            field.ty = patch_of(&field.ty)
                .ok_or_else(|| format!("{place}: a nullable update field that is not optional"))?;
            let mut metas: Punctuated<Meta, Token![,]> = Punctuated::new();
            for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
                let args = attr
                    .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                    .map_err(|e| format!("{place}: an unreadable serde attribute: {e}"))?;
                for meta in args {
                    if meta.path().is_ident("deserialize_with") || meta.path().is_ident("with") {
                        return Err(format!("{place}: an update field with its own decoder"));
                    }
                    if meta.path().is_ident("rename") {
                        metas.push(meta);
                    }
                }
            }
            metas.push(parse_quote!(default));
            metas.push(parse_quote!(skip_serializing_if = "crate::Patch::is_keep"));
            field.attrs.retain(|a| !a.path().is_ident("serde"));
            field.attrs.push(parse_quote!(
                /// Left alone it is not sent; [`Patch::Clear`](crate::Patch::Clear) sends `null`.
            ));
            field.attrs.push(parse_quote!(#[serde(#metas)]));
            done.insert(found);
        }
    }
    // The builder twin: `Result<Option<T>, String>` → `Result<Patch<T>, String>`.
    let builder = items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
            _ => None,
        })
        .ok_or("`types` has no `builder` module")?;
    for item in builder.1.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let struct_key = key(&s.ident.to_string());
        for field in s.fields.iter_mut() {
            let Some(name) = field.ident.as_ref().map(ToString::to_string) else {
                continue;
            };
            let wire = name.trim_start_matches("r#");
            if !done
                .iter()
                .any(|(c, p)| key(c) == struct_key && key(p) == key(wire))
            {
                continue;
            }
            let inner = generic_arg(&field.ty, "Result")
                .and_then(|t| patch_of(&t))
                .ok_or_else(|| {
                    format!(
                        "builder `{}` field `{name}` is not Result<Option<_>, _>",
                        s.ident
                    )
                })?;
            field.ty = parse_quote!(::std::result::Result<#inner, ::std::string::String>);
        }
    }
    wanted.retain(|pair| !done.contains(pair));
    match wanted.into_iter().next() {
        None => Ok(()),
        Some((component, property)) => Err(format!(
            "at /components/schemas/{}/properties/{}: no generated struct field for this \
             nullable update field",
            escape(&component),
            escape(&property)
        )),
    }
}

/// Rule: the setter of an optional field in a `types::builder` takes the value itself
/// (`.prompt("…")`, a nested body's builder), an `Option` of it, or for an update field a
/// `Patch` (`None` clears), through [`deck::IntoField`](crate); update fields also get
/// `clear_<field>()`. typify's setter wanted `TryInto<Option<T>>`, which `&str` is not. Fields of
/// any-JSON type keep a plain `Into` bound: `serde_json::Value` converts from `Option`s itself,
/// which would make `Some(v)` ambiguous.
pub fn value_setters(file: &mut syn::File) -> Result<(), String> {
    let types = super::module_mut(file, "types")?;
    let builder = super::items_mut(types)
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
            _ => None,
        })
        .ok_or("`types` has no `builder` module")?;
    let items = &mut builder.1;
    // Builder name → its optional fields: (field, field type F, whether F is a Patch, T).
    let mut optional = std::collections::BTreeMap::new();
    for item in items.iter() {
        let Item::Struct(s) = item else { continue };
        let mut fields = Vec::new();
        for field in &s.fields {
            let (Some(ident), Some(ty)) = (field.ident.clone(), generic_arg(&field.ty, "Result"))
            else {
                continue;
            };
            let (is_patch, inner) = match (generic_arg(&ty, "Option"), generic_arg(&ty, "Patch")) {
                (Some(inner), _) => (false, inner),
                (_, Some(inner)) => (true, inner),
                _ => continue,
            };
            fields.push((ident, ty, is_patch, inner));
        }
        optional.insert(s.ident.to_string(), fields);
    }
    for item in items.iter_mut() {
        let Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        let Some(fields) = type_ident(&imp.self_ty).and_then(|n| optional.get(&n)) else {
            continue;
        };
        let mut extra: Vec<ImplItem> = Vec::new();
        for member in imp.items.iter_mut() {
            let ImplItem::Fn(f) = member else { continue };
            let Some((ident, ty, is_patch, inner)) =
                fields.iter().find(|(i, ..)| *i == f.sig.ident)
            else {
                continue;
            };
            let is_json = type_ident(inner).as_deref() == Some("Value");
            let message = format!("error converting supplied value for {ident}: {{e}}");
            if is_json && !is_patch {
                // `T: TryInto<Option<Value>>` already takes the value: keep typify's setter.
                continue;
            }
            *f = if is_json {
                parse_quote! {
                    /// Sets the field (`None` or [`Patch::Clear`](crate::Patch::Clear) sends `null`).
                    pub fn #ident<V>(mut self, value: V) -> Self
                    where
                        V: ::std::convert::Into<#ty>,
                    {
                        self.#ident = Ok(value.into());
                        self
                    }
                }
            } else if *is_patch {
                parse_quote! {
                    /// Sets the field: the value, an `Option` (`None` sends `null`, clearing it)
                    /// or a [`Patch`](crate::Patch).
                    pub fn #ident<V, M>(mut self, value: V) -> Self
                    where
                        V: crate::IntoField<#ty, M>,
                    {
                        self.#ident = value.into_field().map_err(|e| format!(#message));
                        self
                    }
                }
            } else {
                parse_quote! {
                    /// Sets the field: the value, or an `Option` of it.
                    pub fn #ident<V, M>(mut self, value: V) -> Self
                    where
                        V: crate::IntoField<#ty, M>,
                    {
                        self.#ident = value.into_field().map_err(|e| format!(#message));
                        self
                    }
                }
            };
            if *is_patch {
                let clear =
                    quote::format_ident!("clear_{}", ident.to_string().trim_start_matches("r#"));
                extra.push(parse_quote! {
                    /// Sends `null` for this field, removing its value.
                    pub fn #clear(mut self) -> Self {
                        self.#ident = Ok(crate::Patch::Clear);
                        self
                    }
                });
            }
        }
        imp.items.extend(extra);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;
    use serde_json::json;

    fn update_file() -> syn::File {
        syn::parse_str(
            r#"
            pub mod types {
                pub struct UpdateAgentRequest {
                    #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                    pub description: ::std::option::Option<::std::string::String>,
                    #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                    pub settings: ::std::option::Option<::serde_json::Value>,
                    #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                    pub label: ::std::option::Option<::std::string::String>,
                    pub name: ::std::string::String,
                }
                pub mod builder {
                    pub struct UpdateAgentRequest {
                        description: ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String>,
                        settings: ::std::result::Result<::std::option::Option<::serde_json::Value>, ::std::string::String>,
                        label: ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String>,
                        name: ::std::result::Result<::std::string::String, ::std::string::String>,
                    }
                    impl UpdateAgentRequest {
                        pub fn description<T>(mut self, value: T) -> Self
                        where T: ::std::convert::TryInto<::std::option::Option<::std::string::String>>, T::Error: ::std::fmt::Display
                        { self }
                        pub fn settings<T>(mut self, value: T) -> Self
                        where T: ::std::convert::TryInto<::std::option::Option<::serde_json::Value>>, T::Error: ::std::fmt::Display
                        { self }
                        pub fn label<T>(mut self, value: T) -> Self
                        where T: ::std::convert::TryInto<::std::option::Option<::std::string::String>>, T::Error: ::std::fmt::Display
                        { self }
                        pub fn name<T>(mut self, value: T) -> Self
                        where T: ::std::convert::TryInto<::std::string::String>, T::Error: ::std::fmt::Display
                        { self }
                    }
                }
            }
            "#,
        )
        .unwrap()
    }

    fn update_doc() -> Value {
        json!({
            "paths": {"/agents/{id}": {"patch": {"requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/UpdateAgentRequest"}}}}}}},
            "components": {"schemas": {"UpdateAgentRequest": {"type": "object", "properties": {
                "description": {"type": "string", "nullable": true},
                "settings": {"allOf": [{"$ref": "#/components/schemas/J"}], "nullable": true},
                "label": {"type": "string"},
                "name": {"type": "string"}
            }}}}
        })
    }

    #[test]
    fn nullable_update_fields_become_patches() {
        let mut file = update_file();
        patch_fields(&mut file, &update_doc()).unwrap();
        let text = fixture::render(&file);
        for needle in [
            "#[serde(default, skip_serializing_if = \"crate::Patch::is_keep\")]",
            "pub description: crate::Patch<::std::string::String>,",
            "pub settings: crate::Patch<::serde_json::Value>,",
            "description: ::std::result::Result<crate::Patch<::std::string::String>,",
            // Not nullable: unchanged.
            "pub label: ::std::option::Option<::std::string::String>,",
        ] {
            assert!(
                text.contains(&fixture::squash(needle)),
                "{needle} in:\n{text}"
            );
        }
        // A nullable field with no struct field to change is reported.
        let mut doc = update_doc();
        doc["components"]["schemas"]["UpdateAgentRequest"]["properties"]["gone"] =
            json!({"type": "string", "nullable": true});
        let err = patch_fields(&mut update_file(), &doc).unwrap_err();
        assert!(err.contains("UpdateAgentRequest/properties/gone"), "{err}");
    }

    #[test]
    fn optional_setters_take_values() {
        let mut file = update_file();
        patch_fields(&mut file, &update_doc()).unwrap();
        value_setters(&mut file).unwrap();
        let text = fixture::render(&file);
        for needle in [
            "pub fn description<V, M>(mut self, value: V) -> Self where V: crate::IntoField<crate::Patch<::std::string::String>, M>,",
            "pub fn clear_description(mut self) -> Self { self.description = Ok(crate::Patch::Clear); self }",
            "pub fn label<V, M>(mut self, value: V) -> Self where V: crate::IntoField<::std::option::Option<::std::string::String>, M>,",
            "pub fn settings<V>(mut self, value: V) -> Self where V: ::std::convert::Into<crate::Patch<::serde_json::Value>>,",
            "pub fn clear_settings(mut self)",
            // Required fields keep typify's setter.
            "pub fn name<T>(mut self, value: T) -> Self where T: ::std::convert::TryInto<::std::string::String>",
        ] {
            assert!(
                text.contains(&fixture::squash(needle)),
                "{needle} in:\n{text}"
            );
        }
        assert!(!text.contains("clear_label"), "{text}");
    }
}
