//! Rule: `send()` returns the crate's own `ResponseValue`, not progenitor-client's, so no
//! progenitor-client type is part of the public API (its version can then float with `^`).

use syn::Item;

/// Rule: the generated `pub use progenitor_client::{.., ResponseValue}` names
/// `crate::response::ResponseValue` instead; every use of `ResponseValue` in the generated code
/// goes through that import.
pub fn own_response_value(file: &mut syn::File) -> Result<(), String> {
    let mut replaced = false;
    for item in &mut file.items {
        let Item::Use(u) = item else { continue };
        let syn::UseTree::Path(path) = &mut u.tree else {
            continue;
        };
        if path.ident != "progenitor_client" {
            continue;
        }
        let syn::UseTree::Group(group) = &mut *path.tree else {
            continue;
        };
        let before = group.items.len();
        group.items = std::mem::take(&mut group.items)
            .into_iter()
            .filter(|t| !matches!(t, syn::UseTree::Name(n) if n.ident == "ResponseValue"))
            .collect();
        replaced |= group.items.len() != before;
    }
    if !replaced {
        return Err("progenitor's output does not import `ResponseValue` at its top".into());
    }
    file.items.insert(
        0,
        syn::parse_quote!(
            pub use crate::response::ResponseValue;
        ),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn response_value_is_the_crates_own() {
        let mut file = fixture::client();
        own_response_value(&mut file).unwrap();
        let text = fixture::render(&file);
        assert!(
            text.contains(&fixture::squash("pub use crate::response::ResponseValue;")),
            "{text}"
        );
        assert!(
            text.contains(&fixture::squash(
                "pub use progenitor_client::{ByteStream, ClientInfo, Error};"
            )),
            "{text}"
        );
        assert!(own_response_value(&mut file).is_err());
    }
}
