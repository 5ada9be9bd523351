//! The library behind `cargo xtask`: spec assembly, refresh, diff and drift check, and the
//! codegen determinism/surface check. The binary (`src/main.rs`) is a thin clap front end; tests
//! use both.
//!
//! The generator and normaliser are the library's own files, included by path so the xtask
//! generates byte-for-byte what `build.rs` generates. They are formatted and linted as part of
//! the `deck-api` package (whose build script and unit tests compile them), not here: rustfmt and
//! clippy skip them in this crate.

#![warn(missing_docs)]

#[rustfmt::skip]
#[path = "../../src/codegen.rs"]
#[allow(dead_code, clippy::all)]
mod codegen;
#[rustfmt::skip]
#[path = "../../src/normalize.rs"]
#[allow(clippy::all)]
mod normalize;

pub mod assemble;
pub mod bench;
pub mod commands;
pub mod diff;
pub mod model;
pub mod source;
pub mod spec;
pub mod surface;

/// Process exit codes shared by every command.
pub mod exit {
    /// Success: no drift, no breaking change (with `--fail-on`), snapshot up to date.
    pub const OK: u8 = 0;
    /// The check found something: drift from upstream, a breaking change with `--fail-on`, or a
    /// stale/nondeterministic codegen snapshot. The report is on stdout.
    pub const FOUND: u8 = 1;
    /// The command could not do its job: bad arguments, unreadable local files, a spec that is
    /// not JSON / not OpenAPI 3.1 / does not normalise / does not generate.
    pub const ERROR: u8 = 2;
    /// The spec source could not be reached or read: network error, timeout, HTTP error status,
    /// missing file, or a body that is not JSON (`spec check`, `spec refresh`).
    pub const UNREACHABLE: u8 = 3;
}

/// Generates the client source from spec text, exactly as `build.rs` does.
pub fn generate(spec_text: &str) -> Result<String, String> {
    codegen::generate(spec_text)
}
