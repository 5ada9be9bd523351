//! Events typed by their type: `Event.data` becomes `EventData`, one variant per event family
//! (`task_run.*` → `EventData::TaskRun(TaskRunSnapshot)`), read from the webhooks' payloads.

use super::{key, types::marked_properties, types::wire_name};
use crate::normalize::{component_ref, escape, pascal};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use std::collections::BTreeMap;
use syn::{Item, parse_quote};

/// One variant of `EventData`.
struct Family {
    /// `task_run`.
    prefix: String,
    /// `TaskRun`.
    variant: syn::Ident,
    /// The generated type of the snapshot.
    data: syn::Ident,
}

/// Event families from the webhooks: event type `task_run.completed` → prefix `task_run`, its
/// payload's `properties.data` (through the payload's `$ref`, if it is one) → the snapshot
/// component. Payloads whose `data` is not a component are left to `EventData::Unknown`; two
/// snapshots for one family are refused.
fn families(doc: &Value, types: &[Item]) -> Result<Vec<Family>, String> {
    let mut by_prefix: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (name, payload) in super::webhook_payloads(doc) {
        let pointer = format!("/x-webhooks/{}", escape(&name));
        let Some(payload) = payload else { continue };
        let payload = match payload.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix('#')
                .and_then(|p| doc.pointer(p))
                .cloned()
                .unwrap_or(payload),
            None => payload,
        };
        let Some(component) = payload
            .pointer("/properties/data/$ref")
            .and_then(Value::as_str)
            .and_then(component_ref)
        else {
            continue;
        };
        let prefix = name.split('.').next().unwrap_or_default().to_string();
        match by_prefix.get(&prefix) {
            Some((other, first)) if key(other) != key(component) => {
                return Err(format!(
                    "at {pointer}: event family `{prefix}` has data `{component}` here but \
                     `{other}` in `{first}`; one family, one snapshot type"
                ));
            }
            Some(_) => {}
            None => {
                by_prefix.insert(prefix, (component.to_string(), name.clone()));
            }
        }
    }
    let mut out = Vec::new();
    for (prefix, (component, first)) in by_prefix {
        let pointer = format!("/x-webhooks/{}", escape(&first));
        let variant = syn::parse_str::<syn::Ident>(&pascal(&prefix))
            .ok()
            .filter(|v| v != "Unknown")
            .ok_or_else(|| {
                format!("at {pointer}: event family `{prefix}` makes no Rust variant name")
            })?;
        let data = types
            .iter()
            .find_map(|item| match item {
                Item::Struct(s) if key(&s.ident.to_string()) == key(&component) => {
                    Some(s.ident.clone())
                }
                _ => None,
            })
            .ok_or_else(|| {
                format!("at {pointer}: the data type `{component}` has no generated struct")
            })?;
        out.push(Family {
            prefix,
            variant,
            data,
        });
    }
    Ok(out)
}

/// `EventData` and its impls.
fn event_data(families: &[Family]) -> TokenStream {
    let variants: Vec<&syn::Ident> = families.iter().map(|f| &f.variant).collect();
    let data: Vec<&syn::Ident> = families.iter().map(|f| &f.data).collect();
    let prefixes: Vec<&str> = families.iter().map(|f| f.prefix.as_str()).collect();
    let docs: Vec<String> = families
        .iter()
        .map(|f| format!("`{}.*` events: a [`{}`].", f.prefix, f.data))
        .collect();
    quote! {
        /// What an event is about: a snapshot of the resource at event time, typed by the
        /// event's family (`task_run.completed` → [`EventData::TaskRun`]).
        ///
        /// Decoding never fails: an event type this version of the crate does not know, data
        /// that is `null`, or data that does not match its family's snapshot is kept as sent in
        /// [`EventData::Unknown`], so a delivery is never rejected over its `data`.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum EventData {
            #( #[doc = #docs] #variants(#data), )*
            /// Anything else, as sent (see the type's documentation).
            Unknown(::serde_json::Value),
        }

        impl EventData {
            /// Decodes an event's `data` for its `type` (`task_run.completed`).
            pub fn decode(event_type: &str, data: ::serde_json::Value) -> Self {
                let family = event_type.split('.').next().unwrap_or_default();
                match family {
                    #( #prefixes => match <#data as ::serde::Deserialize>::deserialize(&data) {
                        Ok(snapshot) => Self::#variants(snapshot),
                        Err(_) => Self::Unknown(data),
                    }, )*
                    _ => Self::Unknown(data),
                }
            }
        }

        impl ::serde::Serialize for EventData {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #( Self::#variants(data) => data.serialize(s), )*
                    Self::Unknown(data) => data.serialize(s),
                }
            }
        }

        /// One of the snapshots, or any JSON.
        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for EventData {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                "EventData".into()
            }
            fn json_schema(generator: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({
                    "anyOf": [ #( generator.subschema_for::<#data>(), )* true ]
                })
            }
        }
    }
}

/// Rule: the event type's field the overlay marks `x-deck-event-data` (`Event.data`) becomes
/// `EventData`, decoded from the event's `type`: `Event` loses its derived `Deserialize` for one
/// that reads the fields as before (a private copy of the struct, `data` as any JSON) and then
/// types `data`; its `types::builder` twin goes (events come from Deck, not from users). No
/// marker, or no webhook with a typed `data`, leaves the generated code alone.
pub fn typed_event_data(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let marked = marked_properties(doc, "x-deck-event-data", false)?;
    let Some((component, property)) = marked.iter().next().cloned() else {
        return Ok(());
    };
    if marked.len() > 1 {
        return Err(format!(
            "at /components/schemas/{}: only one property may be `x-deck-event-data`",
            escape(&marked.iter().nth(1).expect("len > 1").0)
        ));
    }
    let pointer = format!(
        "/components/schemas/{}/properties/{}",
        escape(&component),
        escape(&property)
    );
    let families = families(doc, super::module(file, "types")?)?;
    if families.is_empty() {
        return Ok(());
    }
    let types = super::module_mut(file, "types")?;
    let items = super::items_mut(types);
    let event = items
        .iter_mut()
        .find_map(|item| match item {
            Item::Struct(s) if key(&s.ident.to_string()) == key(&component) => Some(s),
            _ => None,
        })
        .ok_or_else(|| format!("at {pointer}: no generated struct for `{component}`"))?;
    let event_ident = event.ident.clone();

    // The wire struct: the fields as generated, `data` as any JSON.
    let mut wire = event.clone();
    wire.ident = format_ident!("{}Wire", event_ident);
    wire.vis = syn::Visibility::Inherited;
    wire.attrs = vec![parse_quote!(#[derive(::serde::Deserialize)])];
    let mut type_field = None;
    let mut data_field = None;
    for field in wire.fields.iter_mut() {
        field.attrs.retain(|a| a.path().is_ident("serde"));
        match wire_name(field).as_deref() {
            Some(w) if w == property => {
                field.attrs = vec![parse_quote!(#[serde(default)])];
                field.ty = parse_quote!(::serde_json::Value);
                data_field = field.ident.clone();
            }
            Some("type") => type_field = field.ident.clone(),
            _ => {}
        }
    }
    let data_field = data_field.ok_or_else(|| format!("at {pointer}: no such field"))?;
    let type_field = type_field
        .ok_or_else(|| format!("at {pointer}: `{component}` has no `type` field to type it by"))?;
    let moves = wire.fields.iter().filter_map(|f| {
        let ident = f.ident.as_ref()?;
        Some(if *ident == data_field {
            quote!(#ident: EventData::decode(&wire.#type_field.to_string(), wire.#ident))
        } else {
            quote!(#ident: wire.#ident)
        })
    });
    let wire_ident = &wire.ident;
    let deserialize: TokenStream = quote! {
        impl<'de> ::serde::Deserialize<'de> for #event_ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                #wire
                let wire = <#wire_ident as ::serde::Deserialize>::deserialize(d)?;
                Ok(Self { #(#moves,)* })
            }
        }
    };

    // The public struct: `data: EventData`, no derived `Deserialize`.
    for field in event.fields.iter_mut() {
        if field.ident.as_ref() == Some(&data_field) {
            field.attrs.retain(|a| !a.path().is_ident("serde"));
            field.ty = parse_quote!(EventData);
        }
    }
    super::types::drop_derive(&mut event.attrs, "Deserialize", &event_ident)?;
    // Its builder and `Event::builder()` go.
    items.retain(|item| match item {
        Item::Impl(imp) => {
            !(imp.trait_.is_none()
                && super::type_ident(&imp.self_ty).as_ref() == Some(&event_ident.to_string())
                && imp
                    .items
                    .iter()
                    .any(|i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "builder")))
        }
        _ => true,
    });
    if let Some(builder) = items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
        _ => None,
    }) {
        let name = event_ident.to_string();
        builder.1.retain(|item| match item {
            Item::Struct(s) => s.ident != name,
            Item::Impl(imp) => {
                let mentions = |ty: &syn::Type| super::type_ident(ty).as_deref() == Some(&name);
                let in_trait = imp.trait_.as_ref().is_some_and(|(path, _)| {
                    path.segments.last().is_some_and(|s| match &s.arguments {
                        syn::PathArguments::AngleBracketed(args) => args
                            .args
                            .iter()
                            .any(|a| matches!(a, syn::GenericArgument::Type(t) if mentions(t))),
                        _ => false,
                    })
                });
                !(mentions(&imp.self_ty) || in_trait)
            }
            _ => true,
        });
    }
    let data = event_data(&families);
    let generated: syn::File =
        syn::parse2(quote!(#deserialize #data)).map_err(|e| format!("bad event items: {e}"))?;
    items.extend(generated.items);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;
    use serde_json::json;

    fn file() -> syn::File {
        syn::parse_str(
            r#"
            pub mod types {
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, PartialEq)]
                pub struct Event {
                    pub created_at: ::std::string::String,
                    #[serde(deserialize_with = "::std::option::Option::deserialize")]
                    pub data: ::std::option::Option<::serde_json::Value>,
                    pub id: ::std::string::String,
                    #[serde(rename = "type")]
                    pub type_: ::std::string::String,
                }
                impl Event {
                    pub fn builder() -> builder::Event { Default::default() }
                }
                pub struct RunSnapshot { pub id: Option<String> }
                pub struct CredentialSnapshot { pub id: Option<String> }
                pub mod builder {
                    pub struct Event { id: Result<String, String> }
                    impl Default for Event { fn default() -> Self { todo!() } }
                    impl ::std::convert::TryFrom<Event> for super::Event {
                        type Error = String;
                        fn try_from(value: Event) -> Result<Self, String> { todo!() }
                    }
                    impl ::std::convert::From<super::Event> for Event {
                        fn from(value: super::Event) -> Self { todo!() }
                    }
                    pub struct RunSnapshot { id: Result<Option<String>, String> }
                }
            }
            "#,
        )
        .unwrap()
    }

    fn hook(data: &str) -> Value {
        json!({"post": {"requestBody": {"content": {"application/json": {"schema": {
            "allOf": [{"$ref": "#/components/schemas/Event"}],
            "properties": {"data": {"$ref": format!("#/components/schemas/{data}")}}
        }}}}}})
    }

    fn doc(hooks: Value) -> Value {
        json!({
            "components": {"schemas": {"Event": {"properties": {"data": {"x-deck-event-data": true}}}}},
            "x-webhooks": hooks
        })
    }

    #[test]
    fn event_data_is_typed_by_family_from_the_webhooks() {
        let mut file = file();
        let doc = doc(json!({
            "task_run.completed": hook("RunSnapshot"),
            "task_run.failed": hook("RunSnapshot"),
            "credential.verified": hook("CredentialSnapshot"),
            "ping": {"post": {}}
        }));
        typed_event_data(&mut file, &doc).unwrap();
        let text = fixture::render(&file);
        for needle in [
            "pub enum EventData { ///`credential.*` events: a [`CredentialSnapshot`]. Credential(CredentialSnapshot),",
            "TaskRun(RunSnapshot),",
            "Unknown(::serde_json::Value),",
            "\"task_run\" => { match <RunSnapshot as ::serde::Deserialize>::deserialize(&data)",
            "#[derive(::serde::Serialize, Clone, Debug, PartialEq)] pub struct Event",
            "pub data: EventData,",
            "struct EventWire",
            "#[serde(default)] pub data: ::serde_json::Value,",
            "data: EventData::decode(&wire.type_.to_string(), wire.data)",
        ] {
            assert!(text.contains(&fixture::squash(needle)), "{needle}\n{text}");
        }
        // Its builder is gone (events come from Deck); other builders stay.
        assert!(!text.contains("fn builder()"), "{text}");
        assert!(!text.contains(&fixture::squash("pub struct Event { id: Result")));
        assert!(!text.contains("TryFrom<Event>"), "{text}");
        assert!(text.contains(&fixture::squash("pub struct RunSnapshot { id: Result")));
    }

    #[test]
    fn conflicting_snapshots_for_one_family_are_refused_with_a_pointer() {
        let doc = doc(json!({
            "task_run.completed": hook("RunSnapshot"),
            "task_run.failed": hook("CredentialSnapshot"),
        }));
        let err = typed_event_data(&mut file(), &doc).unwrap_err();
        assert!(err.starts_with("at /x-webhooks/task_run.failed:"), "{err}");
        // No marker: nothing changes.
        let mut untouched = file();
        let mut unmarked = doc.clone();
        unmarked["components"]["schemas"]["Event"] = json!({});
        typed_event_data(&mut untouched, &unmarked).unwrap();
        assert_eq!(fixture::render(&untouched), fixture::render(&file()));
    }
}
