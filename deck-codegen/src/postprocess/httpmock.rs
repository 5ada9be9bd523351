//! Rules on progenitor's `httpmock` helpers (feature `httpmock`).

use syn::visit::Visit;
use syn::{ImplItem, Item};

/// Whether a signature mentions `Vec` anywhere: argument types, generic bounds, where clauses.
fn mentions_vec(sig: &syn::Signature) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
            self.0 |= segment.ident == "Vec";
            syn::visit::visit_path_segment(self, segment);
        }
        fn visit_type_slice(&mut self, _: &'ast syn::TypeSlice) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_signature(sig);
    finder.0
}

/// Rule: progenitor 0.15's httpmock generator renders array query parameters
/// (`status=a&status=b`) with `value.to_string()` on a `Vec`, which does not compile; those
/// matcher methods are removed (match such parameters with `when.into_inner().query_param(..)`).
pub fn drop_array_query_matchers(items: &mut [Item]) {
    for item in items.iter_mut() {
        match item {
            Item::Mod(m) => {
                if let Some((_, inner)) = m.content.as_mut() {
                    drop_array_query_matchers(inner);
                }
            }
            Item::Impl(imp) => imp.items.retain(|member| match member {
                ImplItem::Fn(f) => !mentions_vec(&f.sig),
                _ => true,
            }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_taking_vectors_are_dropped() {
        let mut file: syn::File = syn::parse_str(
            r#"pub mod operations {
                impl<'a> ListTaskRunsWhen<'a> {
                    pub fn status<T>(self, value: T) -> Self where T: Into<Option<&'a ::std::vec::Vec<types::RunStatus>>> { self }
                    pub fn cursor<'b, T>(self, value: T) -> Self where T: Into<Option<&'b str>> { self }
                    pub fn source_id(self, value: &[String]) -> Self { self }
                }
            }"#,
        )
        .unwrap();
        drop_array_query_matchers(&mut file.items);
        let text = prettyplease::unparse(&file);
        assert!(
            text.contains("fn cursor") && !text.contains("fn source_id"),
            "{text}"
        );
    }
}
