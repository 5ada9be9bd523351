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
        // A form upload is generated and sends a form: its `send` says `multipart/form-data`.
        let forms = text.matches("\"multipart/form-data\"").count();
        let sent = client
            .code
            .matches("from_static(\"multipart/form-data\")")
            .count();
        if forms != sent {
            failures.push(format!(
                "{}: {forms} multipart bodies in the spec, {sent} sent as multipart/form-data",
                case.name
            ));
        }
        let report = diff::diff(&base.surface, &client.surface)
            .with_overlay(&vendored.overlay, &spec.overlay);
        // What the normaliser kept from the overlay or could not apply is reported, not silent.
        let noted = report
            .clone()
            .with_notes(&vendored.notes, &spec.notes)
            .to_text();
        for note in spec.notes.iter().filter(|n| !vendored.notes.contains(n)) {
            if !noted.contains(note.as_str()) {
                failures.push(format!("{}: note not in the report: {note}", case.name));
            }
        }
        let fits = contract::check(&client.surface);
        let broken = report.breaking() + report.source_breaking();
        let ok = match case.expect {
            Expect::Same => {
                client.surface.render() == base_surface && fits.is_ok() && report.is_empty()
            }
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

/// A small deterministic generator (xorshift64*), so a failing seed reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(obj) => {
            for (k, v) in obj {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

/// One mutation at a random place: remove it, or replace it with a value of another kind, a
/// dangling reference, or a copy of another node.
fn mutate(doc: &mut Value, rng: &mut Rng) -> String {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let target = all[rng.below(all.len())].clone();
    let donor = doc
        .pointer(&all[rng.below(all.len())])
        .cloned()
        .unwrap_or(Value::Null);
    let (parent, key) = target.rsplit_once('/').expect("a pointer below the root");
    let replacement = match rng.below(7) {
        0 => None,
        1 => Some(Value::Null),
        2 => Some(serde_json::json!(7)),
        3 => Some(serde_json::json!("x")),
        4 => Some(serde_json::json!({"$ref": "#/components/schemas/Nowhere"})),
        5 => Some(serde_json::json!({"type": ["null", "object", "array"], "const": 1})),
        _ => Some(donor),
    };
    let what = format!(
        "{target}: {}",
        replacement.as_ref().map_or("removed".into(), |v| v
            .to_string()
            .chars()
            .take(60)
            .collect::<String>())
    );
    match (doc.pointer_mut(parent), replacement) {
        (Some(Value::Object(map)), None) => {
            map.remove(&key.replace("~1", "/").replace("~0", "~"));
        }
        (Some(Value::Array(items)), None) => {
            if let Ok(i) = key.parse::<usize>() {
                items.remove(i);
            }
        }
        (_, Some(v)) => {
            if let Some(slot) = doc.pointer_mut(&target) {
                *slot = v;
            }
        }
        _ => {}
    }
    what
}

#[test]
fn mutated_specs_are_refused_with_a_reason_or_generated_never_a_panic() {
    let overlay = overlay();
    let vendored: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("openapi/v2.json")).unwrap())
            .unwrap();
    // `DECK_FUZZ_ROUNDS` / `DECK_FUZZ_SEED` run a longer pass (maintainers, before a release).
    let rounds: usize = std::env::var("DECK_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    let seed: u64 = std::env::var("DECK_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x00de_c0de_2026_1203);
    let mut rng = Rng(seed);
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for round in 0..rounds {
        let mut doc = vendored.clone();
        let mutations: Vec<String> = (0..1 + rng.below(3))
            .map(|_| mutate(&mut doc, &mut rng))
            .collect();
        let result = load(&doc.to_string(), Some(&overlay)).and_then(|spec| generate(&spec));
        let outcome = match &result {
            Ok(_) => "generated",
            Err(e) => {
                let text = e.to_string();
                assert!(
                    !text.contains("failed inside"),
                    "round {round}: the generator panicked instead of refusing with a reason \
                     ({mutations:?}): {text}"
                );
                "refused"
            }
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    println!("{outcomes:?}");
    assert!(
        outcomes.contains_key("generated") && outcomes.contains_key("refused"),
        "{outcomes:?}"
    );
}
