//! `deck-codegen`: Deck's OpenAPI spec → the `deck-api` Rust client, as `prost-build` is to
//! `prost`. The crate `deck-api` calls it from its build script ([`build::run`], which can also
//! generate from a newer Deck spec named by `DECK_API_SPEC`); its `xtask` calls the same
//! functions for the surface snapshot, the spec diff ([`diff`]: two verdicts per change) and the
//! drift check, so there is one model of the API: the one the generator itself decided.
//!
//! The pipeline:
//!
//! 1. [`overlay`]: `openapi/overlay.json` (OpenAPI Overlay 1.0) adds what Deck's spec does not
//!    say (typed enums, SDK type names, documented shapes) to the vendored spec, which stays
//!    exactly what Deck publishes.
//! 2. [`normalize`]: the OpenAPI 3.1.1 document becomes the 3.0.3 progenitor reads, one tested
//!    rule a function, failing loudly with a JSON pointer on what it does not understand.
//! 3. progenitor 0.15 generates the client (builder style) with the settings in `settings`.
//! 4. `postprocess`: rules on the syntax tree (open enums, plain integers, `deck::Error` from
//!    every `send`, per-call options, pagination, …).
//! 5. [`surface`]: the public surface, read from the result; printed with prettyplease.

#![warn(missing_docs)]

pub mod build;
pub mod contract;
pub mod diff;
pub mod normalize;
pub mod overlay;
mod postprocess;
mod settings;
pub mod surface;
mod validate;

pub use overlay::Overlay;
pub use surface::Surface;

use serde_json::Value;
use std::fmt;

/// Why a document could not become a client. Each variant names the first step that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// Not JSON at all (an HTML error page, YAML, a truncated body…).
    NotJson(String),
    /// JSON, but `openapi` is missing or not `3.1.x`.
    NotOpenApi31 {
        /// The `openapi` (or `swagger`) value found, if any.
        found: Option<String>,
    },
    /// The overlay could not be applied.
    Overlay(overlay::OverlayError),
    /// The normaliser refused it (a construct it does not understand).
    Normalize(normalize::NormalizeError),
    /// The generator refused the normalised document.
    Generate(String),
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::NotJson(e) => write!(f, "the document is not JSON: {e}"),
            SpecError::NotOpenApi31 { found: Some(v) } => write!(
                f,
                "the document is OpenAPI `{v}`, expected an OpenAPI 3.1.x document (`openapi: 3.1.x`)"
            ),
            SpecError::NotOpenApi31 { found: None } => write!(
                f,
                "the document has no `openapi` version string; expected an OpenAPI 3.1.x document"
            ),
            SpecError::Overlay(e) => write!(f, "{e}"),
            SpecError::Normalize(e) => write!(f, "the normaliser rejects it {e}"),
            SpecError::Generate(e) => write!(f, "code generation fails: {e}"),
        }
    }
}

impl std::error::Error for SpecError {}

/// A spec read, overlaid and normalised: everything the generator and the diff work from.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The document as published.
    pub raw: Value,
    /// The document with the overlay applied (still OpenAPI 3.1).
    pub overlaid: Value,
    /// The OpenAPI 3.0.3 document the generator is given.
    pub normalised: Value,
    /// What each overlay action matched.
    pub overlay: overlay::Report,
    /// What the normaliser could not apply of what the overlay asked for (see
    /// [`normalize::normalize_with_notes`]).
    pub notes: Vec<String>,
}

impl Spec {
    /// `info.version`.
    pub fn version(&self) -> &str {
        self.raw
            .pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Parses `text`, checks it is an OpenAPI 3.1 document, applies `overlay` and normalises; then
/// proves every `$ref` of the result resolves. Never panics: a panic anywhere on the way is an
/// error, and nothing is printed.
pub fn load(text: &str, overlay: Option<&Overlay>) -> Result<Spec, SpecError> {
    quietly(|| load_inner(text, overlay))
}

fn load_inner(text: &str, overlay: Option<&Overlay>) -> Result<Spec, SpecError> {
    let raw: Value = serde_json::from_str(text).map_err(|e| SpecError::NotJson(e.to_string()))?;
    let version = raw.get("openapi").and_then(Value::as_str);
    if !version.is_some_and(|v| v.starts_with("3.1.")) {
        return Err(SpecError::NotOpenApi31 {
            found: version.map(String::from).or_else(|| {
                raw.get("swagger")
                    .and_then(Value::as_str)
                    .map(|v| format!("swagger {v}"))
            }),
        });
    }
    if !raw.is_object() || !raw.get("paths").is_none_or(Value::is_object) {
        return Err(SpecError::Normalize(normalize::NormalizeError {
            pointer: "/paths".into(),
            message: "`paths` must be an object".into(),
        }));
    }
    let mut overlaid = raw.clone();
    let report = match overlay {
        Some(o) => o.apply(&mut overlaid).map_err(SpecError::Overlay)?,
        None => overlay::Report::default(),
    };
    let (normalised, notes) =
        normalize::normalize_with_notes(&overlaid).map_err(SpecError::Normalize)?;
    validate::references(&normalised).map_err(SpecError::Normalize)?;
    Ok(Spec {
        raw,
        overlaid,
        normalised,
        overlay: report,
        notes,
    })
}

thread_local! {
    /// Set while this thread runs the generator: its panics are turned into errors, not printed.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic (ours, progenitor's or typify's) into [`SpecError::Generate`]
/// without printing it: the panic hook stays silent for this thread while `f` runs, so a user
/// regenerating against a spec the generator cannot use sees one error line, never a panic
/// message or a backtrace. Other threads' panics print as before.
fn quietly<T>(f: impl FnOnce() -> Result<T, SpecError>) -> Result<T, SpecError> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "no message".into());
        Err(SpecError::Generate(format!(
            "the generator cannot use this spec (it failed inside: {msg}); the normaliser should \
             have refused it with a JSON pointer: please report it with the spec"
        )))
    })
}

/// The generated client: its source and its public surface.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The Rust source (`include!`d by `deck-api`).
    pub code: String,
    /// The public surface, read from the source.
    pub surface: Surface,
}

/// Runs progenitor, turning its errors into [`SpecError::Generate`] (its panics are caught by
/// [`quietly`] around the whole generation).
fn catch<T>(f: impl FnOnce() -> progenitor_impl::Result<T>) -> Result<T, SpecError> {
    f().map_err(|e| SpecError::Generate(format!("progenitor rejected the normalised spec: {e}")))
}

fn openapi(spec: &Spec) -> Result<openapiv3::OpenAPI, SpecError> {
    serde_json::from_value(spec.normalised.clone()).map_err(|e| {
        SpecError::Generate(format!("the normalised document is not OpenAPI 3.0: {e}"))
    })
}

/// Generates the client from a loaded spec. Never panics (see [`load`]).
pub fn generate(spec: &Spec) -> Result<Generated, SpecError> {
    quietly(|| generate_inner(spec))
}

fn generate_inner(spec: &Spec) -> Result<Generated, SpecError> {
    let open_enums = settings::open_enums(&spec.normalised).map_err(SpecError::Generate)?;
    let settings = settings::generation_settings(&spec.normalised, &open_enums);
    let api = openapi(spec)?;
    let mut generator = progenitor_impl::Generator::new(&settings);
    let tokens = catch(|| generator.generate_tokens(&api))?;
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| SpecError::Generate(format!("progenitor produced unparsable code: {e}")))?;
    postprocess::apply(&mut file, &spec.normalised, &open_enums).map_err(SpecError::Generate)?;
    let surface =
        surface::read(&file, &spec.normalised, &open_enums).map_err(SpecError::Generate)?;
    Ok(Generated {
        code: prettyplease::unparse(&file),
        surface,
    })
}

/// Typed `httpmock` helpers (progenitor's `Generator::httpmock`) for the `httpmock` feature.
pub fn generate_httpmock(spec: &Spec) -> Result<String, SpecError> {
    quietly(|| generate_httpmock_inner(spec))
}

fn generate_httpmock_inner(spec: &Spec) -> Result<String, SpecError> {
    let open_enums = settings::open_enums(&spec.normalised).map_err(SpecError::Generate)?;
    let settings = settings::generation_settings(&spec.normalised, &open_enums);
    let api = openapi(spec)?;
    let mut generator = progenitor_impl::Generator::new(&settings);
    let tokens = catch(|| generator.httpmock(&api, "crate"))?;
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| SpecError::Generate(format!("progenitor produced unparsable code: {e}")))?;
    postprocess::httpmock::drop_array_query_matchers(&mut file.items);
    Ok(prettyplease::unparse(&file))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const SPEC: &str = include_str!("../../openapi/v2.json");
    const OVERLAY: &str = include_str!("../../openapi/overlay.json");

    /// The vendored spec with the vendored overlay applied.
    pub fn vendored_overlaid() -> Value {
        load(SPEC, Some(&Overlay::parse(OVERLAY).unwrap()))
            .unwrap()
            .overlaid
    }

    #[test]
    fn load_names_the_failing_step() {
        assert!(matches!(load("<html>", None), Err(SpecError::NotJson(_))));
        assert_eq!(
            load(r#"{"openapi": "3.0.3"}"#, None).unwrap_err(),
            SpecError::NotOpenApi31 {
                found: Some("3.0.3".into())
            }
        );
        assert_eq!(
            load(r#"{"swagger": "2.0"}"#, None).unwrap_err(),
            SpecError::NotOpenApi31 {
                found: Some("swagger 2.0".into())
            }
        );
        let err = load(r#"{"openapi": "3.1.0", "paths": {}}"#, None).unwrap_err();
        assert!(matches!(err, SpecError::Normalize(_)), "{err}");
    }

    #[test]
    fn the_vendored_overlay_applies_without_dangling_targets() {
        let spec = load(SPEC, Some(&Overlay::parse(OVERLAY).unwrap())).unwrap();
        assert_eq!(spec.overlay.dangling_messages(), Vec::<String>::new());
        // The overlay fills gaps; the values it replaces on purpose are `JsonElement`s (any
        // JSON) given their documented types: the run's `interaction` (`Interaction`), a task's
        // `storage` (`TaskStorage`), and the credential update's response, which is the
        // `Credential` Deck documents. `spec diff` reports any other.
        let overridden: Vec<&str> = spec
            .overlay
            .overrides()
            .map(|(_, o)| o.pointer.as_str())
            .collect();
        let schemas = "/components/schemas";
        let update = "/paths/~1credentials~1{credential_id}/patch/responses/200/content";
        let expected: Vec<String> = vec![
            format!("{schemas}/GetTaskRunResponse/properties/interaction/oneOf/1/$ref"),
            format!("{schemas}/ListTaskRunData/properties/interaction/oneOf/1/$ref"),
            format!("{schemas}/GetTaskResponse/properties/storage/oneOf/1/$ref"),
            format!("{schemas}/CreateTaskRequest/properties/storage/oneOf/1/$ref"),
            format!("{schemas}/UpdateTaskRequest/properties/storage/oneOf/1/$ref"),
            format!("{update}/application~1json/schema/$ref"),
            format!("{update}/text~1json/schema/$ref"),
            format!("{update}/text~1plain/schema/$ref"),
        ];
        assert_eq!(overridden, expected);
        assert_eq!(spec.raw, serde_json::from_str::<Value>(SPEC).unwrap());
    }
}
