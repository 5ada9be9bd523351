//! progenitor's settings for the Deck client, and the types the generator writes itself instead
//! of letting typify derive them.

use crate::normalize::{self, ERROR_BODY, escape};
use progenitor_impl::{GenerationSettings, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;
use serde_json::Value;

/// A string enum the generator emits as an open enum (`Unknown(String)` for values added later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEnum {
    /// Component (and Rust type) name.
    pub name: String,
    /// The schema's description.
    pub description: Option<String>,
    /// Known values, in spec order.
    pub values: Vec<EnumValue>,
}

/// One value of an [`OpenEnum`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue {
    /// The value on the wire.
    pub wire: String,
    /// The Rust variant (`x-enum-varnames`, else the value in UpperCamelCase).
    pub variant: String,
    /// Other wire spellings that decode into this value (`x-deck-aliases`).
    pub aliases: Vec<String>,
}

/// Reads every component marked `x-deck-open-enum`, with its variant names and aliases. A
/// variant name that is not an identifier, collides with another or with `Unknown`, or an alias
/// of a value the enum does not have, is an error naming the component.
pub fn open_enums(doc: &Value) -> Result<Vec<OpenEnum>, String> {
    let mut out = Vec::new();
    for (name, schema) in doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if schema.get("x-deck-open-enum") != Some(&Value::Bool(true)) {
            continue;
        }
        let ptr = format!("/components/schemas/{}", escape(name));
        let wires: Vec<String> = schema["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
        let varnames: Vec<Option<&str>> = match schema.get("x-enum-varnames") {
            None => vec![None; wires.len()],
            Some(Value::Array(names)) if names.len() == wires.len() => {
                names.iter().map(Value::as_str).collect()
            }
            Some(_) => {
                return Err(format!(
                    "at {ptr}/x-enum-varnames: expected {} names, one per enum value",
                    wires.len()
                ));
            }
        };
        let mut values: Vec<EnumValue> = Vec::new();
        for (wire, varname) in wires.iter().zip(varnames) {
            let taken: Vec<&str> = values.iter().map(|v| v.variant.as_str()).collect();
            let variant = match varname {
                Some(v) => {
                    let is_ident = v.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                        && v.chars().all(|c| c.is_ascii_alphanumeric());
                    if !is_ident || v == "Unknown" || taken.contains(&v) {
                        return Err(format!(
                            "at {ptr}/x-enum-varnames: `{v}` (for `{wire}`) is not a free \
                             UpperCamelCase name (`Unknown` holds values added later)"
                        ));
                    }
                    v.to_string()
                }
                None => variant_name(wire, &taken),
            };
            values.push(EnumValue {
                wire: wire.clone(),
                variant,
                aliases: Vec::new(),
            });
        }
        for (alias, canonical) in schema
            .get("x-deck-aliases")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let target = canonical
                .as_str()
                .and_then(|c| values.iter_mut().find(|v| v.wire == c));
            match target {
                Some(value) if !wires.contains(alias) => value.aliases.push(alias.clone()),
                _ => {
                    return Err(format!(
                        "at {ptr}/x-deck-aliases: `{alias}` → {canonical} must map a spelling \
                         that is not itself a value onto one of {wires:?}"
                    ));
                }
            }
        }
        out.push(OpenEnum {
            name: name.clone(),
            description: schema
                .get("description")
                .and_then(Value::as_str)
                .map(String::from),
            values,
        });
    }
    Ok(out)
}

/// The Rust variant for wire value `wire`: its UpperCamelCase form, made an identifier
/// (`2fa` → `V2fa`, `` → `Empty`) and kept clear of `Unknown` (which holds values added later:
/// `unknown` → `UnknownValue`) and of the variants before it. Never fails, so an enum in a newer
/// spec always generates; the overlay can choose better names with `x-enum-varnames`.
fn variant_name(wire: &str, taken: &[&str]) -> String {
    let mut name = normalize::pascal(wire);
    if name.is_empty() {
        name = "Empty".into();
    }
    if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
        name = format!("V{name}");
    }
    if name == "Unknown" {
        name = "UnknownValue".into();
    }
    let base = name.clone();
    let mut n = 2;
    while taken.contains(&name.as_str()) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

/// The generation settings: builder style, one error type, open enums and any-JSON components
/// replaced. The client's hooks are not used (`send` calls the runtime directly, see
/// `postprocess::sends`), so they are optional.
pub fn generation_settings(doc: &Value, open_enums: &[OpenEnum]) -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::client::ClientState))
        .with_hooks(HooksMode::Optional)
        .with_derive("PartialEq")
        // Decoded by a hand-written type that also copes with empty and non-JSON error bodies.
        .with_replacement(ERROR_BODY, "crate::error::ErrorBody", std::iter::empty());
    for e in open_enums {
        settings.with_replacement(
            &e.name,
            format!("crate::types::{}", e.name),
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
    // Resource ids (`x-deck-id`) are emitted by `postprocess::ids` with their conversions.
    for name in resource_id_components(doc) {
        settings.with_replacement(
            &name,
            format!("crate::types::{name}"),
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
    // A component that constrains nothing (Deck's `JsonElement`) is any JSON: use
    // `serde_json::Value` itself rather than a newtype around it.
    for name in normalize::document::any_components(doc) {
        settings.with_replacement(&name, "::serde_json::Value", std::iter::empty());
    }
    settings
}

/// The resource id components (`x-deck-id: true`, see `normalize::schema::resource_ids`), by
/// name.
pub fn resource_id_components(doc: &Value) -> Vec<String> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, s)| s.get("x-deck-id") == Some(&Value::Bool(true)))
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn open_enums_read_names_and_aliases() {
        let doc = json!({"components": {"schemas": {
            "RunResult": {"type": "string", "enum": ["success", "unknown"], "x-deck-open-enum": true,
                          "x-enum-varnames": ["Success", "Undetermined"], "x-deck-aliases": {"ok": "success"}},
            "Plain": {"type": "string"}
        }}});
        let enums = open_enums(&doc).unwrap();
        assert_eq!(enums.len(), 1);
        assert_eq!(
            enums[0].values,
            vec![
                EnumValue {
                    wire: "success".into(),
                    variant: "Success".into(),
                    aliases: vec!["ok".into()]
                },
                EnumValue {
                    wire: "unknown".into(),
                    variant: "Undetermined".into(),
                    aliases: vec![]
                },
            ]
        );
    }

    #[test]
    fn automatic_variant_names_always_resolve() {
        let doc = json!({"components": {"schemas": {
            "R": {"type": "string", "enum": ["unknown", "2fa", "", "a-b", "a_b"], "x-deck-open-enum": true}
        }}});
        let names: Vec<String> = open_enums(&doc).unwrap()[0]
            .values
            .iter()
            .map(|v| v.variant.clone())
            .collect();
        assert_eq!(names, ["UnknownValue", "V2fa", "Empty", "AB", "AB2"]);
    }

    #[test]
    fn explicit_variant_names_and_aliases_are_checked() {
        let doc = json!({"components": {"schemas": {
            "R": {"type": "string", "enum": ["unknown"], "x-deck-open-enum": true,
                  "x-enum-varnames": ["Unknown"]}
        }}});
        let err = open_enums(&doc).unwrap_err();
        assert!(
            err.contains("/components/schemas/R/x-enum-varnames"),
            "{err}"
        );
        let bad_alias = json!({"components": {"schemas": {
            "R": {"type": "string", "enum": ["a"], "x-deck-open-enum": true, "x-deck-aliases": {"b": "c"}}
        }}});
        assert!(
            open_enums(&bad_alias)
                .unwrap_err()
                .contains("x-deck-aliases")
        );
    }
}
