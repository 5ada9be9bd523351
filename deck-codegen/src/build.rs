//! The build script of `deck-api`: generate the client into `OUT_DIR`.

use crate::{Overlay, generate, generate_httpmock, load};
use std::path::{Path, PathBuf};

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Generates `deck_gen.rs` (and `deck_httpmock.rs` with the `httpmock` feature) into
/// `OUT_DIR` from `openapi/v2.json` and `openapi/overlay.json` under `manifest_dir`. An overlay
/// action that matches nothing becomes a `cargo:warning` (a user regenerating against a newer
/// spec still builds; `cargo xtask codegen --check` fails on it instead).
pub fn run(manifest_dir: &Path) -> Result<(), String> {
    let spec_path = manifest_dir.join("openapi/v2.json");
    let overlay_path = manifest_dir.join("openapi/overlay.json");
    for input in [&spec_path, &overlay_path] {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    let overlay = Overlay::parse(&read(&overlay_path)?).map_err(|e| e.to_string())?;
    let spec = load(&read(&spec_path)?, Some(&overlay))
        .map_err(|e| format!("{}: {e}", spec_path.display()))?;
    for message in spec.overlay.dangling_messages() {
        println!("cargo:warning={message}");
    }
    let out_dir = PathBuf::from(
        std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set (run from a build script)")?,
    );
    write(
        &out_dir.join("deck_gen.rs"),
        &generate(&spec).map_err(|e| e.to_string())?.code,
    )?;
    if std::env::var_os("CARGO_FEATURE_HTTPMOCK").is_some() {
        let mocks = generate_httpmock(&spec).map_err(|e| e.to_string())?;
        write(&out_dir.join("deck_httpmock.rs"), &mocks)?;
    }
    Ok(())
}
