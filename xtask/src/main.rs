//! `cargo xtask …`: maintenance commands for the `deck` crate (see `--help`).

use clap::{ArgGroup, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use xtask::FormatArg;
use xtask::commands::{self, CodegenMode, FailOn};
use xtask::diff::RULES;
use xtask::source::{self, DEFAULT_UPSTREAM, SpecSource};
use xtask::{assemble, exit};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (no drift / no failing change / snapshot up to date)
  1  found something: drift from upstream, a change matching --fail-on, a stale codegen snapshot,
     or an overlay action that matches nothing (the report is on stdout)
  2  error: bad arguments, unreadable local file, a spec that is not JSON, not OpenAPI 3.1, or that
     does not normalise or generate
  3  the spec source could not be reached or read (network error, timeout, HTTP error status,
     missing file, body not JSON): `spec check` and `spec refresh` only; this is not drift";

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Maintenance commands for the deck crate",
    after_long_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The drift corpus: Deck specs derived from openapi/v2.json, one per class of change, in
    /// drift-corpus/ (see xtask/src/corpus.rs). `--check` fails (exit 1) when the committed files
    /// differ from what the derivations give; `--write` rewrites them.
    #[command(group(ArgGroup::new("mode").required(true).args(["check", "write"])))]
    Corpus {
        /// Compare the committed corpus with the derivations.
        #[arg(long)]
        check: bool,
        /// Rewrite drift-corpus/.
        #[arg(long)]
        write: bool,
    },
    /// Commands on the vendored spec, openapi/v2.json.
    Spec {
        #[command(subcommand)]
        command: SpecCommand,
    },
    /// Check that code generation is deterministic and that openapi/surface.txt (the generated
    /// public surface, one item a line) matches the vendored spec.
    #[command(
        long_about = "Generate the client from the spec twice and require identical output, then \
compare the public surface of the generated code (every operation with its HTTP method, path, \
response type, pagination and parameters; every type with its fields and Rust types; every open-enum \
value) with the committed snapshot openapi/surface.txt. On a mismatch, print a unified diff and \
exit 1. `--write` rewrites the snapshot instead. Works offline.",
        after_long_help = EXIT_CODES,
        group(ArgGroup::new("mode").required(true).args(["check", "write"]))
    )]
    Codegen {
        /// Compare with the committed snapshot (exit 1 on a difference).
        #[arg(long)]
        check: bool,
        /// Rewrite the snapshot.
        #[arg(long)]
        write: bool,
        /// The spec to generate from [default: openapi/v2.json in the workspace].
        #[arg(long, value_name = "PATH")]
        spec: Option<PathBuf>,
        /// The snapshot [default: surface.txt next to the spec].
        #[arg(long, value_name = "PATH")]
        surface: Option<PathBuf>,
    },
    /// Run every benchmark (runtime and build cost) and print one summary table.
    #[command(
        long_about = "Runs `cargo bench --bench deck_bench` (per-call overhead against raw \
reqwest, paging throughput with and without prefetch, peak memory for 10k vs 200k items, decode \
speed), then measures the build script's run time, checks that no-op and src/ext.rs rebuilds do not \
rerun it (and that touching openapi/v2.json or openapi/overlay.json does), and compares clean \
builds of a user crate with code generated at build time against the same code pasted in (no build \
script, no build-dependencies), both from `cargo package` output: --samples clean builds of each, \
interleaved, reported as medians of wall-clock and CPU time with their range. Every figure is a \
median or ratio measured in this one run. Writes target/bench/summary.json."
    )]
    Bench {
        /// Run one part alone: `runs` (many task runs against MockDeck enforcing Deck's limit:
        /// batch + tracker vs per-run waits, webhooks, three processes sharing a Redis limiter).
        #[arg(value_parser = ["runs"])]
        only: Option<String>,
        /// Small sizes everywhere, and one clean build per variant unless --samples is given.
        #[arg(long)]
        quick: bool,
        /// Skip the clean-build comparison (the slow part: a few minutes per clean build).
        #[arg(long)]
        skip_clean_build: bool,
        /// Profile of the clean builds: `release` (how services ship) or `dev`.
        #[arg(long, default_value = "release", value_parser = ["release", "dev"])]
        profile: String,
        /// Clean builds per variant, interleaved (build, pasted, build, …) [default: 3, 1 with --quick].
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        samples: Option<u32>,
        /// Rewrite the table between the bench markers in CONTRIBUTING.md.
        #[arg(long)]
        update_readme: bool,
    },
}

#[derive(Subcommand)]
enum SpecCommand {
    /// Rebuild openapi/v2.json from the Deck docs fragments plus openapi/transcribed.json,
    /// failing when two sources define the same component or operation differently.
    Assemble {
        /// Folder of verbatim OpenAPI fragments (YAML).
        #[arg(long, default_value = "../shared/deck-spec/fragments")]
        fragments: PathBuf,
        /// Operations transcribed from the reference pages (JSON).
        #[arg(long, default_value = "openapi/transcribed.json")]
        transcribed: PathBuf,
        /// Where to write the union.
        #[arg(long, default_value = "openapi/v2.json")]
        out: PathBuf,
        /// Compare with the existing file instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Replace openapi/v2.json with Deck's served spec (or a file) after validating it, rewrite
    /// openapi/surface.txt, and print the types diff.
    #[command(
        long_about = "Fetch Deck's served spec (or read a file), check that it is JSON, an OpenAPI \
3.1.x document, that it normalises (src/normalize.rs) and that the client generates from it, and \
only then replace the vendored spec (written to a temporary file next to it, then renamed) and \
rewrite the surface snapshot next to it. On any failure nothing is written, the vendored file stays \
byte-identical, and the message says which check failed. The file is written as pretty JSON with \
sorted keys. Prints the types diff between the old and the new spec.",
        after_long_help = EXIT_CODES
    )]
    Refresh {
        /// Where to read the spec: an http(s) URL, `git:REV[:PATH]`, or a file path.
        #[arg(long, value_name = "URL|PATH", default_value = DEFAULT_UPSTREAM)]
        from: SpecSource,
        /// The vendored spec to replace [default: openapi/v2.json in the workspace].
        #[arg(long, value_name = "PATH")]
        spec: Option<PathBuf>,
        /// The surface snapshot to rewrite [default: surface.txt next to --spec].
        #[arg(long, value_name = "PATH")]
        surface: Option<PathBuf>,
        /// Format of the printed types diff.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
    },
    /// What changed between two specs, each change with two verdicts: breaking for deployed
    /// clients, and source-breaking.
    #[command(
        long_about = "Compare two specs after normalisation and generation, i.e. the generated \
client and the wire facts it was built from: operations added/removed/moved; pagination \
added/removed and its default page size; parameters added, removed, renamed (removed + added on the \
same operation with the same location and type), retyped, made required/optional; request bodies; \
success statuses and the success body type; webhooks added/removed/retyped; types added, removed, \
retyped; fields added, removed, retyped, made required/optional/nullable/non-nullable, plain integer \
<-> integer-or-numeric-string; request constraints (minimum, maximum, minLength, maxLength, pattern, \
minItems, maxItems, uniqueItems, multipleOf) tightened, relaxed or changed; enum values \
added/removed. Each change gets two verdicts: `breaking` (a client already deployed, built from \
OLD, misbehaves against a server following NEW) and `source_breaking` (regenerating the client \
from NEW breaks code that uses it). The report also lists the overlay actions that match nothing \
in NEW and the values of NEW the overlay overrides (that it did not override in OLD).\n\n\
A spec is an http(s) URL, `git:REV[:PATH]` (PATH relative to the repository root, default \
openapi/v2.json) or a file path. Defaults: OLD = git:HEAD:openapi/v2.json (the committed spec), \
NEW = openapi/v2.json (the working file).\n\n\
--format json prints {\"changes\":[{\"kind\",\"operation\",\"webhook\",\"type\",\"field\",\"param\",\
\"value\",\"breaking\",\"source_breaking\",\"detail\"}],\"breaking\":n,\"source_breaking\":n,\"total\":n,\
\"dangling_overlay_actions\":[{\"index\",\"target\",\"description\"}],\"overlay_overrides\":[{\"index\",\
\"target\",\"pointer\",\"spec\",\"overlay\"}]}; every key is always present (null when it does not \
apply); `value` is an enum value, a response status, a renamed parameter's new name, a constraint \
keyword or the new page size.",
        after_long_help = format!("{RULES}\n\n{EXIT_CODES}")
    )]
    Diff {
        /// The old spec [default: git:HEAD:openapi/v2.json].
        #[arg(value_name = "OLD")]
        old: Option<SpecSource>,
        /// The new spec [default: openapi/v2.json in the workspace].
        #[arg(value_name = "NEW")]
        new: Option<SpecSource>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
        /// Exit 1 when a change breaks deployed clients (`breaking`), breaks code once regenerated
        /// (`source-breaking`), or on any change or overlay finding (`any`).
        #[arg(long, value_enum, value_name = "WHAT")]
        fail_on: Option<FailOn>,
    },
    /// The drift check: does the vendored spec still match what Deck serves?
    #[command(
        long_about = "Fetch the upstream spec and compare it with the vendored one as JSON values \
(key order and formatting do not count). Exit 0 when they match and every overlay action matches \
them; exit 1 when they differ, printing the report: every change with its two verdicts (breaking \
for deployed clients, source-breaking; see `spec diff --help` for the rules), the overlay actions \
that match nothing upstream and the upstream values the overlay newly overrides, whether `spec \
refresh` would accept the new document, and the JSON pointers that differ (documentation-only \
changes show up there); exit 1 too when the documents match but an overlay action matches \
nothing; exit 3 when upstream cannot be reached or does not return JSON, so CI can tell drift from \
offline.",
        after_long_help = EXIT_CODES
    )]
    Check {
        /// Where to read the upstream spec: an http(s) URL, `git:REV[:PATH]`, or a file path.
        #[arg(long, value_name = "URL|PATH", default_value = DEFAULT_UPSTREAM)]
        upstream: SpecSource,
        /// The vendored spec [default: openapi/v2.json in the workspace].
        #[arg(long, value_name = "PATH")]
        spec: Option<PathBuf>,
        /// Format of the drift report.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Spec { command } => match command {
            SpecCommand::Assemble {
                fragments,
                transcribed,
                out,
                check,
            } => assemble::run(&fragments, &transcribed, &out, check).map_err(|message| {
                commands::Failure {
                    code: exit::ERROR,
                    message,
                }
            }),
            SpecCommand::Refresh {
                from,
                spec,
                surface,
                format,
            } => {
                let spec = spec.unwrap_or_else(source::default_spec_path);
                let surface = surface.unwrap_or_else(|| source::surface_path_for(&spec));
                commands::spec_refresh(&from, &spec, &surface, format.into()).map(ExitCode::from)
            }
            SpecCommand::Diff {
                old,
                new,
                format,
                fail_on,
            } => {
                let old = old.unwrap_or_else(SpecSource::git_head);
                let new = new.unwrap_or_else(|| SpecSource::File(source::default_spec_path()));
                commands::spec_diff(&old, &new, format.into(), fail_on).map(ExitCode::from)
            }
            SpecCommand::Check {
                upstream,
                spec,
                format,
            } => {
                let spec = spec.unwrap_or_else(source::default_spec_path);
                commands::spec_check(&upstream, &spec, format.into()).map(ExitCode::from)
            }
        },
        Command::Corpus { check: _, write } => {
            commands::corpus(&source::workspace_root(), write).map(ExitCode::from)
        }
        Command::Codegen {
            check: _,
            write,
            spec,
            surface,
        } => {
            let spec = spec.unwrap_or_else(source::default_spec_path);
            let surface = surface.unwrap_or_else(|| source::surface_path_for(&spec));
            let mode = if write {
                CodegenMode::Write
            } else {
                CodegenMode::Check
            };
            commands::codegen(&spec, &surface, mode).map(ExitCode::from)
        }
        Command::Bench {
            only: Some(_),
            quick,
            ..
        } => match xtask::bench::runs(&source::workspace_root(), quick) {
            Ok(_) => Ok(ExitCode::SUCCESS),
            Err(message) => {
                eprintln!("error: {message}");
                Ok(ExitCode::from(xtask::exit::ERROR))
            }
        },
        Command::Bench {
            only: None,
            quick,
            skip_clean_build,
            profile,
            samples,
            update_readme,
        } => {
            let default_samples = if quick { 1 } else { 3 };
            let options = xtask::bench::BenchOptions {
                quick,
                skip_clean_build,
                profile,
                samples: samples.map_or(default_samples, |n| n as usize),
                update_readme,
            };
            match xtask::bench::run(&source::workspace_root(), &options) {
                Ok(_) => Ok(ExitCode::SUCCESS),
                Err(message) => {
                    eprintln!("error: {message}");
                    Ok(ExitCode::from(xtask::exit::ERROR))
                }
            }
        }
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
