//! The build script of `deck-api`: generate the client into `OUT_DIR`.
//!
//! By default from the vendored `openapi/v2.json` with `openapi/overlay.json`. A crate that
//! depends on `deck-api` can regenerate it against a newer Deck spec without forking: with the
//! environment variable [`SPEC_ENV`] (`DECK_API_SPEC=/path/to/v2.json`) set for the build, the
//! client is generated from that file instead (the overlay still applied), and the build prints
//! `cargo:warning`s naming the spec's `info.version` and the `spec diff` verdicts against the
//! vendored spec, one line per breaking change (capped). A relative path resolves against the
//! build script's current directory, which cargo sets to the `deck-api` package directory (in
//! the registry, for a dependency): use an absolute path, or cargo's
//! `[env] DECK_API_SPEC = { value = "…", relative = true }`, which makes it absolute.

use crate::{Overlay, Spec, diff, generate, generate_httpmock, load};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variable naming a spec to generate from instead of the vendored one.
pub const SPEC_ENV: &str = "DECK_API_SPEC";

/// At most this many breaking changes get a warning line of their own.
pub const MAX_CHANGE_WARNINGS: usize = 10;

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// What the build script reads from its environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildEnv {
    /// [`SPEC_ENV`]: generate from this spec instead of the vendored one (unset or empty: the
    /// vendored spec).
    pub spec: Option<PathBuf>,
    /// What a relative `spec` resolves against: the build script's current directory (cargo
    /// runs build scripts in the package directory).
    pub current_dir: PathBuf,
    /// The `httpmock` feature is on (`CARGO_FEATURE_HTTPMOCK`).
    pub httpmock: bool,
}

impl BuildEnv {
    /// Reads the environment of this process.
    pub fn from_process() -> Result<Self, String> {
        BuildEnv::from_vars(
            |name| std::env::var_os(name),
            std::env::current_dir()
                .map_err(|e| format!("cannot read the current directory: {e}"))?,
        )
    }

    /// Reads the variables through `var`, relative paths resolving against `current_dir`.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<OsString>,
        current_dir: PathBuf,
    ) -> Result<Self, String> {
        Ok(BuildEnv {
            spec: var(SPEC_ENV).filter(|v| !v.is_empty()).map(PathBuf::from),
            current_dir,
            httpmock: var("CARGO_FEATURE_HTTPMOCK").is_some(),
        })
    }
}

/// What one run decided: the `cargo:` instructions to print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOutput {
    /// `cargo:rerun-if-changed` paths.
    pub rerun_if_changed: Vec<PathBuf>,
    /// `cargo:rerun-if-env-changed` variables.
    pub rerun_if_env_changed: Vec<String>,
    /// `cargo:warning` lines.
    pub warnings: Vec<String>,
}

impl BuildOutput {
    /// The instruction lines, in order: reruns, then warnings.
    pub fn directives(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .rerun_if_changed
            .iter()
            .map(|p| format!("cargo:rerun-if-changed={}", p.display()))
            .collect();
        out.extend(
            self.rerun_if_env_changed
                .iter()
                .map(|v| format!("cargo:rerun-if-env-changed={v}")),
        );
        out.extend(
            self.warnings
                .iter()
                .map(|w| format!("cargo:warning={}", w.replace('\n', " "))),
        );
        out
    }
}

/// The build script's entry point: [`run_with`] on this process's environment and `OUT_DIR`,
/// printing its instructions.
pub fn run(manifest_dir: &Path) -> Result<(), String> {
    let out_dir = PathBuf::from(
        std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set (run from a build script)")?,
    );
    let output = run_with(manifest_dir, &out_dir, &BuildEnv::from_process()?)?;
    for line in output.directives() {
        println!("{line}");
    }
    Ok(())
}

/// Generates `deck_gen.rs` (and `deck_httpmock.rs` with the `httpmock` feature) into `out_dir`
/// from `openapi/v2.json` and `openapi/overlay.json` under `manifest_dir`, or from the spec
/// `env.spec` names (overlay applied). An overlay action that matches nothing becomes a
/// warning (a user regenerating against a newer spec still builds; `cargo xtask codegen
/// --check` fails on it instead). With `env.spec`, the warnings also name its version and the
/// verdicts of `spec diff` against the vendored spec.
pub fn run_with(
    manifest_dir: &Path,
    out_dir: &Path,
    env: &BuildEnv,
) -> Result<BuildOutput, String> {
    let vendored_path = manifest_dir.join("openapi/v2.json");
    let overlay_path = manifest_dir.join("openapi/overlay.json");
    let custom = env.spec.as_ref().map(|p| env.current_dir.join(p));
    let mut output = BuildOutput {
        rerun_if_changed: vec![vendored_path.clone(), overlay_path.clone()],
        rerun_if_env_changed: vec![SPEC_ENV.to_string()],
        warnings: Vec::new(),
    };
    if let Some(path) = &custom {
        output.rerun_if_changed.push(path.clone());
    }
    let overlay = Overlay::parse(&read(&overlay_path)?)
        .map_err(|e| format!("{}: {e}", overlay_path.display()))?;
    let spec_path = custom.as_deref().unwrap_or(&vendored_path);
    let text = read(spec_path).map_err(|e| match &env.spec {
        Some(given) if given.is_relative() => format!(
            "{SPEC_ENV}={}: {e} (a relative path resolves against the build's current directory, \
             {}, which cargo sets to the deck-api package directory: use an absolute path)",
            given.display(),
            env.current_dir.display()
        ),
        Some(given) => format!("{SPEC_ENV}={}: {e}", given.display()),
        None => e,
    })?;
    let spec = load(&text, Some(&overlay)).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    output.warnings.extend(spec.overlay.dangling_messages());
    output.warnings.extend(spec.notes.iter().cloned());
    let generated = generate(&spec).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    crate::contract::check(&generated.surface)
        .map_err(|e| format!("{}: {e}", spec_path.display()))?;
    write(&out_dir.join("deck_gen.rs"), &generated.code)?;
    if env.httpmock {
        let mocks = generate_httpmock(&spec).map_err(|e| e.to_string())?;
        write(&out_dir.join("deck_httpmock.rs"), &mocks)?;
    }
    if let Some(path) = &custom {
        output.warnings.extend(drift_warnings(
            &vendored_path,
            &overlay,
            path,
            &spec,
            &generated.surface,
        ));
    }
    Ok(output)
}

/// The warnings of a build from `DECK_API_SPEC`: a summary naming the spec's version and the
/// verdicts against the vendored spec, then one line per breaking change (capped).
fn drift_warnings(
    vendored_path: &Path,
    overlay: &Overlay,
    path: &Path,
    spec: &Spec,
    surface: &crate::Surface,
) -> Vec<String> {
    let origin = format!(
        "generated from {SPEC_ENV}={} (Deck spec {})",
        path.display(),
        spec.version()
    );
    let vendored = read(vendored_path).and_then(|text| {
        let vendored = load(&text, Some(overlay)).map_err(|e| e.to_string())?;
        let generated = generate(&vendored).map_err(|e| e.to_string())?;
        Ok((vendored, generated.surface))
    });
    let (vendored, vendored_surface) = match vendored {
        Ok(v) => v,
        Err(e) => {
            return vec![format!(
                "{origin}; not compared with the vendored spec, which does not generate: {e}"
            )];
        }
    };
    let report =
        diff::diff(&vendored_surface, surface).with_overlay(&vendored.overlay, &spec.overlay);
    if report.changes.is_empty() && report.overlay_overrides.is_empty() {
        return vec![format!(
            "{origin}: no changes to the generated API from the vendored spec (Deck spec {})",
            vendored.version()
        )];
    }
    let mut warnings = vec![format!(
        "{origin}: {} change(s) from the vendored spec (Deck spec {}), {} breaking for deployed \
         clients, {} source-breaking; run `cargo xtask spec diff {} {}` in a deck-api checkout \
         for details",
        report.changes.len(),
        vendored.version(),
        report.breaking(),
        report.source_breaking(),
        vendored_path.display(),
        path.display()
    )];
    let breaking: Vec<&diff::Change> = report
        .changes
        .iter()
        .filter(|c| c.breaking || c.source_breaking)
        .collect();
    for c in breaking.iter().take(MAX_CHANGE_WARNINGS) {
        warnings.push(format!(
            "{} ({}): {}: {}",
            c.kind.as_str(),
            c.verdict_text(),
            c.location(),
            c.detail
        ));
    }
    if breaking.len() > MAX_CHANGE_WARNINGS {
        warnings.push(format!(
            "… and {} more breaking change(s)",
            breaking.len() - MAX_CHANGE_WARNINGS
        ));
    }
    warnings.extend(
        report
            .overlay_overrides
            .iter()
            .take(MAX_CHANGE_WARNINGS)
            .map(diff::OverlayOverride::message),
    );
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SPEC: &str = include_str!("../../openapi/v2.json");
    const OVERLAY: &str = include_str!("../../openapi/overlay.json");

    /// A scratch package directory (`openapi/` with the vendored spec and overlay) and an
    /// `OUT_DIR`, removed on drop.
    struct Scratch {
        root: PathBuf,
    }

    impl Scratch {
        fn new() -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "deck-codegen-build-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(root.join("pkg/openapi")).unwrap();
            std::fs::create_dir_all(root.join("out")).unwrap();
            std::fs::write(root.join("pkg/openapi/v2.json"), SPEC).unwrap();
            std::fs::write(root.join("pkg/openapi/overlay.json"), OVERLAY).unwrap();
            Scratch { root }
        }

        fn pkg(&self) -> PathBuf {
            self.root.join("pkg")
        }

        fn out(&self) -> PathBuf {
            self.root.join("out")
        }

        fn generated(&self) -> String {
            std::fs::read_to_string(self.out().join("deck_gen.rs")).unwrap()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    /// The vendored spec, version 2.1.0, with a new `GET /sessions/{session_id}/runs`.
    fn newer_spec() -> Value {
        let mut doc: Value = serde_json::from_str(SPEC).unwrap();
        doc["info"]["version"] = json!("2.1.0");
        let mut op = doc["paths"]["/test"]["get"].clone();
        op["operationId"] = json!("pingSession");
        op["parameters"] = json!([
            {"name": "session_id", "in": "path", "required": true, "schema": {"type": "string"}}
        ]);
        doc["paths"]["/sessions/{session_id}/ping"] = json!({"get": op});
        doc
    }

    #[test]
    fn the_vendored_spec_by_default() {
        let scratch = Scratch::new();
        let env = BuildEnv::from_vars(|_| None, scratch.root.clone()).unwrap();
        let output = run_with(&scratch.pkg(), &scratch.out(), &env).unwrap();
        assert_eq!(output.warnings, Vec::<String>::new());
        assert_eq!(output.rerun_if_env_changed, [SPEC_ENV]);
        assert_eq!(
            output.rerun_if_changed,
            [
                scratch.pkg().join("openapi/v2.json"),
                scratch.pkg().join("openapi/overlay.json")
            ]
        );
        assert!(scratch.generated().contains("pub fn test_api_key"));
        assert!(!scratch.generated().contains("ping_session"));
        assert!(!scratch.out().join("deck_httpmock.rs").exists());
        let directives = output.directives();
        assert!(directives.contains(&format!("cargo:rerun-if-env-changed={SPEC_ENV}")));
    }

    #[test]
    fn deck_api_spec_generates_from_that_file_and_warns_with_the_verdicts() {
        let scratch = Scratch::new();
        let spec = scratch.root.join("newer.json");
        std::fs::write(&spec, newer_spec().to_string()).unwrap();
        let env = BuildEnv::from_vars(
            |name| (name == SPEC_ENV).then(|| spec.clone().into_os_string()),
            PathBuf::from("/nonexistent"),
        )
        .unwrap();
        let output = run_with(&scratch.pkg(), &scratch.out(), &env).unwrap();
        assert!(scratch.generated().contains("pub fn ping_session"));
        assert!(output.rerun_if_changed.contains(&spec));
        assert_eq!(output.rerun_if_env_changed, [SPEC_ENV]);
        assert_eq!(output.warnings.len(), 1, "{:#?}", output.warnings);
        let summary = &output.warnings[0];
        for needle in [
            &format!("generated from DECK_API_SPEC={}", spec.display()),
            "(Deck spec 2.1.0)",
            "1 change(s) from the vendored spec (Deck spec 2.0.0)",
            "0 breaking for deployed clients, 0 source-breaking",
            "cargo xtask spec diff",
        ] {
            assert!(summary.contains(needle), "`{needle}` not in: {summary}");
        }
    }

    #[test]
    fn breaking_changes_get_a_line_each_capped() {
        let scratch = Scratch::new();
        let mut doc = newer_spec();
        let paths = doc["paths"].as_object_mut().unwrap();
        let removed: Vec<String> = paths
            .keys()
            .filter(|p| {
                ["/agents", "/sources", "/credentials"]
                    .iter()
                    .any(|r| p.starts_with(r))
            })
            .cloned()
            .collect();
        for p in &removed {
            paths.remove(p);
        }
        let spec = scratch.root.join("removed.json");
        std::fs::write(&spec, doc.to_string()).unwrap();
        let env = BuildEnv {
            spec: Some(spec.clone()),
            current_dir: scratch.root.clone(),
            httpmock: false,
        };
        let output = run_with(&scratch.pkg(), &scratch.out(), &env).unwrap();
        let lines: Vec<&String> = output
            .warnings
            .iter()
            .filter(|w| {
                w.starts_with(
                    "operation_removed (breaking for deployed clients, source-breaking): ",
                )
            })
            .collect();
        assert_eq!(lines.len(), MAX_CHANGE_WARNINGS, "{:#?}", output.warnings);
        assert!(
            output
                .warnings
                .iter()
                .any(|w| w.starts_with("… and ") && w.ends_with("more breaking change(s)")),
            "{:#?}",
            output.warnings
        );
    }

    #[test]
    fn a_relative_path_resolves_against_the_current_directory() {
        let scratch = Scratch::new();
        std::fs::create_dir_all(scratch.root.join("specs")).unwrap();
        std::fs::write(scratch.root.join("specs/v2.json"), newer_spec().to_string()).unwrap();
        let env = BuildEnv {
            spec: Some(PathBuf::from("specs/v2.json")),
            current_dir: scratch.root.clone(),
            httpmock: true,
        };
        let output = run_with(&scratch.pkg(), &scratch.out(), &env).unwrap();
        assert!(scratch.generated().contains("pub fn ping_session"));
        assert!(scratch.out().join("deck_httpmock.rs").exists());
        assert!(
            output
                .rerun_if_changed
                .contains(&scratch.root.join("specs/v2.json"))
        );

        // The same relative path from another directory: an error that says how it resolved.
        let elsewhere = BuildEnv {
            current_dir: scratch.pkg(),
            ..env
        };
        let err = run_with(&scratch.pkg(), &scratch.out(), &elsewhere).unwrap_err();
        assert!(
            err.contains("DECK_API_SPEC=specs/v2.json")
                && err.contains("relative path resolves against")
                && err.contains("use an absolute path"),
            "{err}"
        );
    }

    fn corpus_env(scratch: &Scratch, name: &str) -> BuildEnv {
        BuildEnv {
            spec: Some(PathBuf::from(format!(
                "{}/../drift-corpus/{name}.json",
                env!("CARGO_MANIFEST_DIR")
            ))),
            current_dir: scratch.root.clone(),
            httpmock: false,
        }
    }

    #[test]
    fn another_rendition_of_the_same_api_builds_with_no_change_and_no_warning_but_the_summary() {
        let scratch = Scratch::new();
        let env = corpus_env(&scratch, "independent-rendition");
        let output = run_with(&scratch.pkg(), &scratch.out(), &env).unwrap();
        assert_eq!(output.warnings.len(), 1, "{:#?}", output.warnings);
        assert!(
            output.warnings[0].contains("no changes to the generated API"),
            "{:#?}",
            output.warnings
        );
        assert!(scratch.generated().contains("pub fn get_task_run"));
    }

    #[test]
    fn skipped_overlay_actions_are_warnings_and_a_contract_break_stops_the_build() {
        let scratch = Scratch::new();
        let mut doc: Value = serde_json::from_str(SPEC).unwrap();
        // An older spec without the artifacts section: the actions naming its types do not
        // apply (warnings), and src/ reads it (the contract stops the build, naming it).
        doc["components"]["schemas"]["GetTaskRunResponse"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("artifacts");
        let spec = scratch.root.join("older.json");
        std::fs::write(&spec, doc.to_string()).unwrap();
        let env = BuildEnv {
            spec: Some(spec),
            current_dir: scratch.root.clone(),
            httpmock: false,
        };
        let err = run_with(&scratch.pkg(), &scratch.out(), &env).unwrap_err();
        assert!(
            err.contains("no longer provides what deck-api's own code uses")
                && err.contains(
                    "field `TaskRun.artifacts` (used by src/runs.rs (screenshots_section)) is gone"
                ),
            "{err}"
        );
        // Without src/'s use of it, the same spec builds, and warns about each skipped action.
        let overlay = Overlay::parse(OVERLAY).unwrap();
        let loaded = load(&doc.to_string(), Some(&overlay)).unwrap();
        let skipped = loaded.overlay.dangling_messages();
        assert!(
            skipped.iter().any(|m| m.contains("TaskRunArtifacts")),
            "{skipped:#?}"
        );
        let removed = scratch.root.join("removed.json");
        let text = std::fs::read_to_string(format!(
            "{}/../drift-corpus/removes-what-src-uses.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        std::fs::write(&removed, text).unwrap();
        let err = run_with(
            &scratch.pkg(),
            &scratch.out(),
            &BuildEnv {
                spec: Some(removed),
                current_dir: scratch.root.clone(),
                httpmock: false,
            },
        )
        .unwrap_err();
        assert!(err.contains("operation `get_task_run`"), "{err}");
    }

    #[test]
    fn an_empty_variable_is_unset() {
        let env = BuildEnv::from_vars(|_| Some(OsString::new()), PathBuf::from("/")).unwrap();
        assert_eq!(env.spec, None);
        assert!(env.httpmock);
    }
}
