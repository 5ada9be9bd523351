//! The drift corpus (`drift-corpus/`, derived by `xtask/src/corpus.rs`): every Deck spec in it
//! generates (or stops with the contract message where it removes what `deck-api`'s own code
//! uses), diffs against the vendored spec and against every other corpus spec, and gives the
//! public API its class promises. Plus a fuzz pass: mutated specs may be refused, never panic.

use deck_codegen::{Generated, Overlay, Spec, contract, generate, load};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use xtask::corpus::{self, Expect};
use xtask::diff;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn overlay() -> Overlay {
    Overlay::parse(&std::fs::read_to_string(root().join("openapi/overlay.json")).unwrap()).unwrap()
}

fn generated(text: &str, overlay: &Overlay) -> (Spec, Generated) {
    let spec = load(text, Some(overlay)).unwrap_or_else(|e| panic!("loads: {e}"));
    let generated = generate(&spec).unwrap_or_else(|e| panic!("generates: {e}"));
    (spec, generated)
}

#[test]
fn the_committed_corpus_is_what_the_derivations_give() {
    let vendored: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("openapi/v2.json")).unwrap())
            .unwrap();
    for case in corpus::cases() {
        let path = root().join(format!("drift-corpus/{}.json", case.name));
        let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == corpus::derive(&vendored, &case),
            "{} is stale: run `cargo xtask corpus --write`",
            path.display()
        );
    }
}

#[test]
fn every_corpus_spec_regenerates_diffs_and_keeps_its_promise() {
    let overlay = overlay();
    let vendored_text = std::fs::read_to_string(root().join("openapi/v2.json")).unwrap();
    let (vendored, base) = generated(&vendored_text, &overlay);
    let base_surface = base.surface.render();
    let mut surfaces: BTreeMap<&str, (Spec, Generated)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in corpus::cases() {
        let text = std::fs::read_to_string(root().join(format!("drift-corpus/{}.json", case.name)))
            .unwrap();
        let (spec, client) = generated(&text, &overlay);
        let report = diff::diff(&base.surface, &client.surface)
            .with_overlay(&vendored.overlay, &spec.overlay);
        let fits = contract::check(&client.surface);
        let broken = report.breaking() + report.source_breaking();
        let ok = match case.expect {
            Expect::Same => client.surface.render() == base_surface && fits.is_ok(),
            Expect::Additions => !report.changes.is_empty() && broken == 0 && fits.is_ok(),
            Expect::Changes => !report.changes.is_empty() && fits.is_ok(),
            Expect::Contract => fits.is_err(),
        };
        if !ok {
            failures.push(format!(
                "{} (expect {}): {} change(s), {broken} breaking; contract: {:?}; skipped overlay \
                 actions: {:?}\n{}",
                case.name,
                case.expect.as_str(),
                report.changes.len(),
                fits.err().map(|e| e.to_string()),
                spec.overlay.dangling_messages(),
                report.to_text()
            ));
        }
        // Every skipped action is reported, never silently dropped; wire-identical renditions
        // need none of the overlay's actions skipped.
        if case.expect == Expect::Same && !spec.overlay.dangling_messages().is_empty() {
            failures.push(format!(
                "{}: actions skipped on a wire-identical rendition: {:#?}",
                case.name,
                spec.overlay.dangling_messages()
            ));
        }
        surfaces.insert(case.name, (spec, client));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // `spec diff A B` works for any two corpus specs.
    let names: Vec<&str> = surfaces.keys().copied().collect();
    for a in &names {
        for b in &names {
            let (sa, ga) = &surfaces[a];
            let (sb, gb) = &surfaces[b];
            let report =
                diff::diff(&ga.surface, &gb.surface).with_overlay(&sa.overlay, &sb.overlay);
            let _ = report.to_text();
        }
    }
}

#[test]
fn the_contract_message_names_the_item_and_its_user() {
    let overlay = overlay();
    let text =
        std::fs::read_to_string(root().join("drift-corpus/removes-what-src-uses.json")).unwrap();
    let (_, client) = generated(&text, &overlay);
    let err = contract::check(&client.surface).unwrap_err().to_string();
    assert!(
        err.contains("operation `get_task_run` (used by src/runs.rs (wait_for_task_run)) is gone"),
        "{err}"
    );
}
