//! Generates the Deck client from `openapi/v2.json` at build time (see `src/codegen.rs`).
//!
//! Reruns only when its real inputs change: the spec, the normaliser, the generator module and
//! this file. Editing anything else under `src/` does not rerun codegen.

#[path = "src/codegen.rs"]
mod codegen;
#[path = "src/normalize.rs"]
mod normalize;

fn main() {
    for input in [
        "openapi/v2.json",
        "src/normalize.rs",
        "src/codegen.rs",
        "build.rs",
    ] {
        println!("cargo:rerun-if-changed={input}");
    }
    let spec = std::fs::read_to_string("openapi/v2.json")
        .unwrap_or_else(|e| fail(&format!("cannot read openapi/v2.json: {e}")));
    let generated = codegen::generate(&spec).unwrap_or_else(|e| fail(&e));
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("deck_gen.rs");
    std::fs::write(&out, generated)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
    // Typed httpmock helpers, only when the `httpmock` feature asks for them.
    if std::env::var_os("CARGO_FEATURE_HTTPMOCK").is_some() {
        let mocks = codegen::generate_httpmock(&spec).unwrap_or_else(|e| fail(&e));
        let out = out.with_file_name("deck_httpmock.rs");
        std::fs::write(&out, mocks)
            .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("deck-api build script: {message}");
    std::process::exit(1);
}
