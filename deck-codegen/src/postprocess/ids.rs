//! Typed resource ids.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

/// Rule: every resource id component (see `normalize::schema::resource_ids`) is emitted into
/// `types` as `pub struct TaskRunId(String)` with serde's transparent form; its conversions
/// (from strings and from itself, never from another id type), `Display`, `Deref<Target = str>`
/// and comparisons with strings come from `deck-api`'s `__deck_resource_id!`, written and
/// tested once there.
pub fn emit_resource_ids(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let items: Vec<TokenStream> = crate::settings::resource_id_components(doc)
        .iter()
        .map(|name| {
            let ident = format_ident!("{}", name);
            let description = doc
                .pointer(&format!("/components/schemas/{name}/description"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let doc = format!(
                "{description}\n\nBuild one from a string (`{name}::from(\"…\")`, or pass a `&str`, `String` or `&{name}` to any setter that takes it); read it with `as_str()` or `Display`."
            );
            quote! {
                #[doc = #doc]
                #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, ::serde::Serialize, ::serde::Deserialize)]
                #[serde(transparent)]
                pub struct #ident(String);
                crate::__deck_resource_id!(#ident);
            }
        })
        .collect();
    super::append(file, "types", quote!(#(#items)*))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_id_component_becomes_a_newtype_with_the_shared_behaviour() {
        let mut file: syn::File = syn::parse_quote! { pub mod types {} };
        let doc = json!({"components": {"schemas": {
            "TaskRunId": {"type": "string", "x-deck-id": true, "description": "A run's id."},
            "Other": {"type": "string"}
        }}});
        emit_resource_ids(&mut file, &doc).unwrap();
        let text = prettyplease::unparse(&file);
        assert!(text.contains("pub struct TaskRunId(String);"), "{text}");
        assert!(
            text.contains("crate::__deck_resource_id!(TaskRunId);"),
            "{text}"
        );
        assert!(!text.contains("struct Other"), "{text}");
    }
}
