//! Generates the Deck client from `openapi/v2.json` and `openapi/overlay.json` at build time,
//! with `deck-codegen` (this workspace's generator crate; see its docs for the pipeline). Set
//! `DECK_API_SPEC=/abs/path/v2.json` to generate from another Deck spec (see the README).

fn main() {
    let manifest_dir = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    if let Err(message) = deck_codegen::build::run(&manifest_dir) {
        eprintln!("deck-api build script: {message}");
        std::process::exit(1);
    }
}
