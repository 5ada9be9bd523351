//! The commands behind the CLI: `spec refresh`, `spec diff`, `spec check`, `codegen`.
//!
//! Each returns the exit code on success (see [`crate::exit`]) and a [`Failure`] (code and a
//! message that says what failed and what was left untouched) otherwise. Reports go to stdout,
//! progress and errors to stderr.

use crate::diff::{self, Format, Report};
use crate::exit;
use crate::source::SpecSource;
use crate::spec;
use deck_codegen::{Overlay, Spec, SpecError};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A command that could not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Process exit code ([`exit::ERROR`] or [`exit::UNREACHABLE`]).
    pub code: u8,
    /// What went wrong, for stderr.
    pub message: String,
}

impl Failure {
    fn error(message: impl Into<String>) -> Self {
        Failure {
            code: exit::ERROR,
            message: message.into(),
        }
    }

    fn unreachable(message: impl Into<String>) -> Self {
        Failure {
            code: exit::UNREACHABLE,
            message: message.into(),
        }
    }

    /// [`exit::UNREACHABLE`] when the source could not be reached, [`exit::ERROR`] for a local
    /// problem (a bad git revision).
    fn read(error: &crate::source::ReadError, message: impl Into<String>) -> Self {
        if error.is_unreachable() {
            Failure::unreachable(message)
        } else {
            Failure::error(message)
        }
    }
}

/// When `spec diff` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// A change that breaks deployed clients (built from the old spec, talking to a server that
    /// follows the new one).
    Breaking,
    /// A change that breaks code using the client once it is regenerated.
    SourceBreaking,
    /// Any change at all, or an overlay action that matches nothing / a new overlay override.
    Any,
}

impl FailOn {
    /// The command-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Breaking => "breaking",
            FailOn::SourceBreaking => "source-breaking",
            FailOn::Any => "any",
        }
    }

    /// Whether `report` has something this asks to fail on.
    pub fn fails(self, report: &Report) -> bool {
        match self {
            FailOn::Breaking => report.breaking() > 0,
            FailOn::SourceBreaking => report.source_breaking() > 0,
            FailOn::Any => !report.is_empty(),
        }
    }
}

/// What changed between two loaded specs, with both verdicts on every change: both are
/// generated and their surfaces compared; the overlay findings are those of `new`.
pub fn diff_specs(old: &Spec, new: &Spec) -> Result<Report, SpecError> {
    diff::diff_specs(old, new)
}

/// Diff of two spec texts, each with the workspace's overlay applied (both must normalise and
/// generate).
pub fn diff_texts(old: &str, new: &str) -> Result<Report, SpecError> {
    let overlay = spec::vendored_overlay().map_err(SpecError::Generate)?;
    diff_specs(
        &deck_codegen::load(old, Some(&overlay))?,
        &deck_codegen::load(new, Some(&overlay))?,
    )
}

/// The overlay next to `spec_path`, or a local-error failure.
fn overlay_for(spec_path: &Path) -> Result<Overlay, Failure> {
    spec::read_overlay(&spec::overlay_path_for(spec_path)).map_err(Failure::error)
}

/// Prints (to stderr) the overlay actions that did not apply (matched nothing, or skipped) and
/// what the normaliser could not apply of the overlay; returns how many.
fn report_dangling(spec: &Spec, what: &str) -> usize {
    let mut messages = spec.overlay.dangling_messages();
    messages.extend(spec.notes.iter().cloned());
    for message in &messages {
        eprintln!("{what}: {message}");
    }
    messages.len()
}

/// `spec diff OLD NEW`.
pub fn spec_diff(
    old: &SpecSource,
    new: &SpecSource,
    format: Format,
    fail_on: Option<FailOn>,
) -> Result<u8, Failure> {
    let overlay = spec::vendored_overlay().map_err(Failure::error)?;
    let load = |side: &str, source: &SpecSource| -> Result<Spec, Failure> {
        let text = source
            .read()
            .map_err(|e| Failure::error(format!("{side}: {e}")))?;
        deck_codegen::load(&text, Some(&overlay))
            .map_err(|e| Failure::error(format!("{side} ({source}): {e}")))
    };
    let new_spec = load("NEW", new)?;
    let report =
        diff_specs(&load("OLD", old)?, &new_spec).map_err(|e| Failure::error(e.to_string()))?;
    print!("{}", report.render(format));
    if let Some(fail_on) = fail_on.filter(|f| f.fails(&report)) {
        eprintln!(
            "spec diff: {} change(s), {} breaking for deployed clients, {} source-breaking, {} \
             dangling overlay action(s), {} new overlay override(s) (--fail-on {})",
            report.changes.len(),
            report.breaking(),
            report.source_breaking(),
            report.dangling_overlay_actions.len(),
            report.overlay_overrides.len(),
            fail_on.as_str()
        );
        return Ok(exit::FOUND);
    }
    Ok(exit::OK)
}

/// `spec refresh`: validates the document at `from`, then atomically replaces `spec_path` (and
/// rewrites `surface_path`). Nothing is written unless every check passed.
pub fn spec_refresh(
    from: &SpecSource,
    spec_path: &Path,
    surface_path: &Path,
    format: Format,
) -> Result<u8, Failure> {
    let untouched = format!("{} was left unchanged", spec_path.display());
    let text = from
        .read()
        .map_err(|e| Failure::read(&e, format!("{e}; {untouched}")))?;
    let overlay = overlay_for(spec_path)?;
    let (loaded, generated) = spec::validate(&text, &overlay)
        .map_err(|e| Failure::error(format!("refusing {from}: {e}; {untouched}")))?;
    if report_dangling(&loaded, "refresh") > 0 {
        eprintln!(
            "refresh: update openapi/overlay.json for the new spec (`cargo xtask codegen --check` \
             fails until every action matches)"
        );
    }
    let snapshot = generated.surface.render();

    let current = std::fs::read_to_string(spec_path).ok();
    let current_raw: Option<Value> = current
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    let spec_changed = current_raw.as_ref() != Some(&loaded.raw);
    let current_surface = std::fs::read_to_string(surface_path).ok();
    let surface_changed = current_surface.as_deref() != Some(snapshot.as_str());

    let mut writes: Vec<(&Path, String)> = Vec::new();
    if spec_changed {
        writes.push((spec_path, spec::canonical_text(&loaded.raw)));
    }
    if surface_changed {
        writes.push((surface_path, snapshot));
    }
    write_all_atomically(&writes).map_err(|e| Failure::error(format!("{e}; {untouched}")))?;

    if !spec_changed {
        eprintln!(
            "{} is already up to date with {from}{}",
            spec_path.display(),
            if surface_changed {
                format!("; rewrote {}", surface_path.display())
            } else {
                String::new()
            }
        );
        print!("{}", Report::default().render(format));
        return Ok(exit::OK);
    }
    eprintln!(
        "replaced {} with {from}{}",
        spec_path.display(),
        if surface_changed {
            format!(" and rewrote {}", surface_path.display())
        } else {
            String::new()
        }
    );
    match current
        .as_deref()
        .map(|c| deck_codegen::load(c, Some(&overlay)))
    {
        Some(Ok(old)) => match diff_specs(&old, &loaded) {
            Ok(report) => print!("{}", report.render(format)),
            Err(e) => eprintln!("(no types diff: the previous spec did not generate: {e})"),
        },
        Some(Err(e)) => eprintln!("(no types diff: the previous spec did not load: {e})"),
        None => eprintln!("(no types diff: there was no previous spec)"),
    }
    Ok(exit::OK)
}

/// Writes every file to a temporary sibling first, then renames them into place, so a failure
/// leaves the targets untouched.
fn write_all_atomically(writes: &[(&Path, String)]) -> Result<(), String> {
    let mut temps: Vec<(PathBuf, &Path)> = Vec::new();
    let cleanup = |temps: &[(PathBuf, &Path)]| {
        for (temp, _) in temps {
            let _ = std::fs::remove_file(temp);
        }
    };
    for (target, content) in writes {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "spec".into());
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| -> std::io::Result<()> {
            use std::io::Write as _;
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(content.as_bytes())?;
            file.sync_all()
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&temp);
            cleanup(&temps);
            return Err(format!("cannot write {}: {e}", temp.display()));
        }
        temps.push((temp, target));
    }
    for (i, (temp, target)) in temps.iter().enumerate() {
        if let Err(e) = std::fs::rename(temp, target) {
            cleanup(&temps[i..]);
            return Err(format!(
                "cannot move {} to {}: {e}",
                temp.display(),
                target.display()
            ));
        }
    }
    Ok(())
}

/// `spec check`: compares the vendored spec with upstream. 0: same document (key order and
/// formatting ignored) and every overlay action matches it; 1: drift, or an overlay action that
/// matches nothing in upstream (report on stdout); 3: upstream unreachable or not JSON.
pub fn spec_check(upstream: &SpecSource, spec_path: &Path, format: Format) -> Result<u8, Failure> {
    let text = upstream.read().map_err(|e| {
        Failure::read(
            &e,
            format!("cannot check for drift: upstream unreachable: {e} (this is not drift)"),
        )
    })?;
    let upstream_raw: Value = serde_json::from_str(&text).map_err(|e| {
        Failure::unreachable(format!(
            "cannot check for drift: upstream {upstream} did not return JSON ({e}); is it still \
             serving the spec? (this is not drift)"
        ))
    })?;
    let vendored_text = std::fs::read_to_string(spec_path)
        .map_err(|e| Failure::error(format!("cannot read {}: {e}", spec_path.display())))?;
    let overlay = overlay_for(spec_path)?;
    let vendored = deck_codegen::load(&vendored_text, Some(&overlay)).map_err(|e| {
        Failure::error(format!(
            "the vendored {} is broken: {e}",
            spec_path.display()
        ))
    })?;
    if vendored.raw == upstream_raw && vendored.overlay.dangling().next().is_some() {
        // No drift, but the overlay does not fit the spec upstream serves.
        let report = Report::default().with_overlay(&vendored.overlay, &vendored.overlay);
        print!(
            "{}",
            drift_report(upstream, spec_path, &report, None, &[], format)
        );
        return Ok(exit::FOUND);
    }
    if vendored.raw == upstream_raw {
        let msg = format!("{} matches upstream {upstream}", spec_path.display());
        match format {
            Format::Json => {
                let mut value = Report::default().to_json();
                value["drift"] = json!(false);
                value["upstream"] = json!(upstream.to_string());
                println!("{value}");
            }
            _ => println!("{msg}"),
        }
        return Ok(exit::OK);
    }

    let (report, problem) = match deck_codegen::load(&text, Some(&overlay)) {
        Ok(new) => match diff_specs(&vendored, &new) {
            // Dangling overlay actions and new overrides are in the report.
            Ok(report) => (report, None),
            Err(e) => (
                Report::default(),
                Some(format!("upstream does not generate: {e}")),
            ),
        },
        Err(e) => (
            Report::default(),
            Some(format!("upstream cannot be used as is: {e}")),
        ),
    };
    let pointers = spec::differing_pointers(&vendored.raw, &upstream_raw, 50);
    print!(
        "{}",
        drift_report(
            upstream,
            spec_path,
            &report,
            problem.as_deref(),
            &pointers,
            format
        )
    );
    Ok(exit::FOUND)
}

/// The drift report. `pointers` empty means the documents are equal (the report is then about
/// the overlay only).
fn drift_report(
    upstream: &SpecSource,
    spec_path: &Path,
    report: &Report,
    problem: Option<&str>,
    pointers: &[String],
    format: Format,
) -> String {
    let spec_name = spec_path.display();
    let drift = !pointers.is_empty();
    let dangling = report.dangling_overlay_actions.len();
    let mut out = String::new();
    match format {
        Format::Json => {
            let mut value = report.to_json();
            value["drift"] = json!(drift);
            value["upstream"] = json!(upstream.to_string());
            value["problem"] = json!(problem);
            value["differing_pointers"] = json!(pointers);
            out = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
            out.push('\n');
        }
        Format::Markdown => {
            let _ = writeln!(out, "# Deck spec drift\n");
            if drift {
                let _ = writeln!(
                    out,
                    "The vendored `{spec_name}` differs from upstream <{upstream}> \
                     (found by `cargo xtask spec check`).\n"
                );
            } else {
                let _ = writeln!(
                    out,
                    "The vendored `{spec_name}` matches upstream <{upstream}>, but {dangling} \
                     overlay action(s) match nothing in it (found by `cargo xtask spec check`).\n"
                );
            }
            if let Some(p) = problem {
                let _ = writeln!(out, "> **Refresh will fail:** {}\n", p.replace('\n', " "));
            }
            let _ = writeln!(
                out,
                "**Verdicts:** *breaking* = a client already deployed (built from the vendored \
                 spec) misbehaves against Deck serving the new spec; *source-breaking* = \
                 regenerating the client breaks code that uses it.\n"
            );
            let _ = writeln!(out, "## Changes to the generated API\n");
            out.push_str(&report.to_markdown());
            if drift {
                let _ = writeln!(
                    out,
                    "\n<details><summary>Differing JSON pointers in the raw document ({}{})</summary>\n",
                    pointers.len(),
                    if pointers.len() >= 50 {
                        ", first 50"
                    } else {
                        ""
                    }
                );
                for p in pointers {
                    let _ = writeln!(out, "- `{p}`");
                }
                let _ = writeln!(out, "\n</details>\n");
            }
            let _ = writeln!(
                out,
                "\nTo update: {}`cargo xtask spec refresh`, review `git diff openapi/`, run the \
                 tests, commit `openapi/v2.json` and `openapi/surface.txt`.",
                if dangling > 0 {
                    "fix `openapi/overlay.json` (every action must match), "
                } else {
                    ""
                }
            );
        }
        Format::Text => {
            if drift {
                let _ = writeln!(out, "Deck spec drift: {spec_name} differs from {upstream}");
            } else {
                let _ = writeln!(
                    out,
                    "{spec_name} matches {upstream}, but {dangling} overlay action(s) match \
                     nothing in it"
                );
            }
            if let Some(p) = problem {
                let _ = writeln!(out, "Refresh will fail: {p}");
            }
            out.push_str(&report.to_text());
            if drift {
                let _ = writeln!(out, "Differing JSON pointers in the raw document:");
                for p in pointers {
                    let _ = writeln!(out, "  {p}");
                }
                let _ = writeln!(out, "Run `cargo xtask spec refresh` to update.");
            } else {
                let _ = writeln!(out, "Update openapi/overlay.json so every action matches.");
            }
        }
    }
    out
}

/// What `codegen` does with the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodegenMode {
    /// Compare, exit 1 on a difference.
    Check,
    /// Rewrite the snapshot.
    Write,
}

/// `codegen --check|--write`: generates twice (must be identical), then compares or rewrites the
/// surface snapshot.
pub fn codegen(spec_path: &Path, surface_path: &Path, mode: CodegenMode) -> Result<u8, Failure> {
    let text = std::fs::read_to_string(spec_path)
        .map_err(|e| Failure::error(format!("cannot read {}: {e}", spec_path.display())))?;
    let overlay = overlay_for(spec_path)?;
    let generate = || -> Result<(Spec, deck_codegen::Generated), Failure> {
        spec::validate(&text, &overlay).map_err(|e| Failure::error(e.to_string()))
    };
    let (loaded, first) = generate()?;
    let (_, second) = generate()?;
    if first.code != second.code {
        println!(
            "{}",
            unified_diff(
                &first.code,
                &second.code,
                "first generation",
                "second generation"
            )
        );
        eprintln!("codegen is not deterministic: two runs on the same spec differ (diff above)");
        return Ok(exit::FOUND);
    }
    if report_dangling(&loaded, "codegen") > 0 {
        eprintln!(
            "codegen: openapi/overlay.json has actions that do not apply to {} (a target that \
             matches nothing, or an update that does not fit); what they typed has fallen back to \
             the spec's plain shapes",
            spec_path.display()
        );
        return Ok(exit::FOUND);
    }
    let snapshot = first.surface.render();
    let committed = std::fs::read_to_string(surface_path);
    match mode {
        CodegenMode::Write => {
            if committed.as_deref().ok() == Some(snapshot.as_str()) {
                eprintln!("{} is up to date", surface_path.display());
            } else {
                write_all_atomically(&[(surface_path, snapshot.clone())])
                    .map_err(Failure::error)?;
                eprintln!(
                    "wrote {} ({} lines)",
                    surface_path.display(),
                    snapshot.lines().count()
                );
            }
            Ok(exit::OK)
        }
        CodegenMode::Check => {
            let committed = match committed {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => {
                    return Err(Failure::error(format!(
                        "cannot read {}: {e}",
                        surface_path.display()
                    )));
                }
            };
            if committed == snapshot {
                eprintln!(
                    "codegen is deterministic and {} matches {} ({} lines)",
                    surface_path.display(),
                    spec_path.display(),
                    snapshot.lines().count()
                );
                return Ok(exit::OK);
            }
            println!(
                "{}",
                unified_diff(
                    &committed,
                    &snapshot,
                    &format!("{} (committed)", surface_path.display()),
                    &format!(
                        "{} (generated from {})",
                        surface_path.display(),
                        spec_path.display()
                    ),
                )
            );
            eprintln!(
                "{} is stale: the generated surface differs (diff above); run \
                 `cargo xtask codegen --write` and commit the result",
                surface_path.display()
            );
            Ok(exit::FOUND)
        }
    }
}

/// A unified diff (3 lines of context) of two texts.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut unified = diff.unified_diff();
    unified.context_radius(3).header(old_name, new_name);
    unified.to_string()
}

/// `corpus --check|--write`: the derived specs in `drift-corpus/` against the derivations.
pub fn corpus(root: &Path, write: bool) -> Result<u8, Failure> {
    let vendored_path = root.join("openapi/v2.json");
    let text = std::fs::read_to_string(&vendored_path)
        .map_err(|e| Failure::error(format!("{}: {e}", vendored_path.display())))?;
    let vendored: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Failure::error(format!("{}: {e}", vendored_path.display())))?;
    let dir = root.join("drift-corpus");
    let mut files: Vec<(String, String)> = crate::corpus::cases()
        .iter()
        .map(|case| {
            let doc = crate::corpus::derive(&vendored, case);
            (format!("{}.json", case.name), format!("{doc}\n"))
        })
        .collect();
    files.push((
        "index.json".into(),
        format!(
            "{}\n",
            serde_json::to_string_pretty(&crate::corpus::index()).expect("JSON")
        ),
    ));
    if write {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::error(format!("{}: {e}", dir.display())))?;
        for (name, text) in &files {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| Failure::error(format!("{}: {e}", path.display())))?;
        }
        println!("wrote {} files to {}", files.len(), dir.display());
        return Ok(crate::exit::OK);
    }
    let stale: Vec<&String> = files
        .iter()
        .filter(|(name, text)| {
            std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(text.as_str())
        })
        .map(|(name, _)| name)
        .collect();
    if stale.is_empty() {
        println!("drift-corpus/ is up to date ({} files)", files.len());
        Ok(crate::exit::OK)
    } else {
        println!("drift-corpus/ is stale (run `cargo xtask corpus --write`): {stale:?}");
        Ok(crate::exit::FOUND)
    }
}
