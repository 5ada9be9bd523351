//! The library behind `cargo xtask`: spec assembly, refresh, diff and drift check, the codegen
//! determinism/surface check, and benchmarks. The binary (`src/main.rs`) is a thin clap front
//! end; tests use both.
//!
//! Everything about the API itself (overlay, normaliser, generation, surface, diff) comes from
//! `deck-codegen`, the same crate `deck-api`'s build script uses.

#![warn(missing_docs)]

pub mod assemble;
pub mod bench;
pub mod commands;
pub mod corpus;
pub mod source;
pub mod spec;

pub use deck_codegen::diff;

/// Process exit codes shared by every command.
pub mod exit {
    /// Success: no drift, no breaking change (with `--fail-on`), snapshot up to date.
    pub const OK: u8 = 0;
    /// The check found something: drift from upstream, a change matching `--fail-on`, a
    /// stale/nondeterministic codegen snapshot, or an overlay action that matches nothing. The
    /// report is on stdout.
    pub const FOUND: u8 = 1;
    /// The command could not do its job: bad arguments, unreadable local files, a spec that is
    /// not JSON / not OpenAPI 3.1 / does not normalise / does not generate.
    pub const ERROR: u8 = 2;
    /// The spec source could not be reached or read: network error, timeout, HTTP error status,
    /// missing file, or a body that is not JSON (`spec check`, `spec refresh`).
    pub const UNREACHABLE: u8 = 3;
}

/// Output format of reports (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Readable text, one change a line.
    Text,
    /// Markdown, for a PR body or an issue.
    Markdown,
    /// `{"changes":[…],"breaking":n,"source_breaking":n,"total":n,…}`.
    Json,
}

impl From<FormatArg> for diff::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => diff::Format::Text,
            FormatArg::Markdown => diff::Format::Markdown,
            FormatArg::Json => diff::Format::Json,
        }
    }
}
