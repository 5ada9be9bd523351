//! Open enums: string enums that keep values this crate does not know.

use crate::settings::OpenEnum;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Rule: every open enum (see [`crate::settings::open_enums`]) is emitted into `types` as a
/// `#[non_exhaustive]` enum whose `Unknown(String)` variant keeps values Deck adds later, with
/// `as_str`, `From<&str>` (aliases decode into their value), `FromStr`, `Display` and string
/// serde impls.
pub fn emit_open_enums(file: &mut syn::File, enums: &[OpenEnum]) -> Result<(), String> {
    let items: Vec<TokenStream> = enums.iter().map(open_enum).collect();
    super::append(file, "types", quote!(#(#items)*))
}

fn open_enum(e: &OpenEnum) -> TokenStream {
    let ident = format_ident!("{}", e.name);
    let name = &e.name;
    let variants: Vec<syn::Ident> = e
        .values
        .iter()
        .map(|v| format_ident!("{}", v.variant))
        .collect();
    let wires: Vec<&str> = e.values.iter().map(|v| v.wire.as_str()).collect();
    let value_docs: Vec<String> = e
        .values
        .iter()
        .map(|v| match v.aliases.as_slice() {
            [] => format!("`{}`", v.wire),
            aliases => format!(
                "`{}` (also decoded from {})",
                v.wire,
                aliases
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
        .collect();
    let alias_arms = e.values.iter().flat_map(|v| {
        let variant = format_ident!("{}", v.variant);
        v.aliases
            .iter()
            .map(move |alias| quote!(#alias => Self::#variant,))
    });
    let schema_doc = format!(
        "{} Known values: {}; others may be added.",
        e.description.as_deref().unwrap_or(name),
        wires.join(", ")
    );
    let doc = format!(
        "{}\n\nOpen enum: a value Deck adds later decodes into [`{name}::Unknown`] instead of \
         failing the response.",
        e.description.as_deref().unwrap_or(name)
    );
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #ident {
            #( #[doc = #value_docs] #variants, )*
            /// A value this version of the crate does not know, kept as sent.
            Unknown(::std::string::String),
        }

        impl #ident {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #wires, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }
        }

        impl ::std::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                match value {
                    #( #wires => Self::#variants, )*
                    #( #alias_arms )*
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

        /// Any string: the known values are listed, and others are accepted as `Unknown`.
        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for #ident {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #name.into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({
                    "type": "string",
                    "description": #schema_doc,
                    "examples": [#(#wires),*],
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::EnumValue;

    #[test]
    fn open_enums_land_in_types_with_aliases_and_fallback() {
        let mut file = super::super::fixture::client();
        let status = OpenEnum {
            name: "RunStatus".into(),
            description: Some("Run status.".into()),
            values: vec![EnumValue {
                wire: "canceling".into(),
                variant: "Canceling".into(),
                aliases: vec!["cancelling".into()],
            }],
        };
        emit_open_enums(&mut file, &[status]).unwrap();
        let text = super::super::fixture::render(&file);
        use super::super::fixture;
        assert!(
            text.contains(&fixture::squash("pub enum RunStatus")),
            "{text}"
        );
        assert!(text.contains(&fixture::squash("#[non_exhaustive]")));
        assert!(
            text.contains(&fixture::squash("\"cancelling\" => Self::Canceling")),
            "{text}"
        );
        assert!(text.contains(&fixture::squash("Unknown(::std::string::String)")));
        assert!(
            text.contains(&fixture::squash(
                "#[cfg(feature = \"schemars\")] impl ::schemars::JsonSchema for RunStatus"
            )),
            "{text}"
        );
        let types = super::super::module(&file, "types").unwrap();
        assert!(
            types
                .iter()
                .any(|i| matches!(i, syn::Item::Enum(e) if e.ident == "RunStatus"))
        );
    }
}
