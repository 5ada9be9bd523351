//! Every action of the vendored `openapi/overlay.json` proves it applied: the surface lines it
//! lists in `x-expect` (field and parameter types, type names) are in the generated surface with
//! the whole overlay, and are not without that one action. A line starting with `!` is the
//! reverse (what a `remove` action takes away): absent with the action, present without it.
//!
//! Actions marked `x-deck-pin` keep a name Deck's spec gives today (an operation's method and
//! path parameters, a type's name) wherever Deck moves or renames it: on the vendored spec they
//! change nothing, so only their presence is checked here; `tests/renditions.rs` checks that a
//! rendition under other names generates the same surface.

use deck_codegen::{Overlay, generate, load};

const SPEC: &str = include_str!("../../openapi/v2.json");
const OVERLAY: &str = include_str!("../../openapi/overlay.json");

/// The surface text generated with `overlay`, or `None` when the spec no longer generates with it
/// (an action others depend on, such as the one adding the enum components, was left out).
fn surface(overlay: &Overlay) -> Option<String> {
    let spec = load(SPEC, Some(overlay)).ok()?;
    Some(generate(&spec).ok()?.surface.render())
}

fn expectations(overlay: &Overlay, index: usize) -> Vec<String> {
    let action = &overlay.actions[index];
    let expect = action
        .extensions
        .get("x-expect")
        .and_then(|e| e.as_array())
        .unwrap_or_else(|| panic!("action {index} (`{}`) has no x-expect", action.target));
    assert!(!expect.is_empty(), "action {index}: empty x-expect");
    expect
        .iter()
        .map(|line| line.as_str().expect("x-expect lists strings").to_string())
        .collect()
}

#[test]
fn every_action_produces_its_expected_surface_and_only_with_it() {
    let overlay = Overlay::parse(OVERLAY).unwrap();
    let full = surface(&overlay).expect("the vendored spec generates with the overlay");
    for index in 0..overlay.actions.len() {
        let target = &overlay.actions[index].target;
        let expected = expectations(&overlay, index);
        let pin = overlay.actions[index].extensions.get("x-deck-pin") == Some(&true.into());
        if pin {
            for line in &expected {
                assert!(
                    full.lines().any(|l| l == line),
                    "pin {index} (`{target}`): `{line}`"
                );
            }
            continue;
        }
        // Without the action and its fallbacks (pinned actions with the same update: the same
        // name or id from another position).
        let mut without = overlay.clone();
        let update = overlay.actions[index].update.clone();
        without.actions.retain(|a| {
            a.index != index
                && !(a.extensions.get("x-deck-pin") == Some(&true.into()) && a.update == update)
        });
        let without = surface(&without);
        for line in &expected {
            let (line, present) = match line.strip_prefix('!') {
                Some(absent) => (absent, false),
                None => (line.as_str(), true),
            };
            assert_eq!(
                full.lines().any(|l| l == line),
                present,
                "action {index} (`{target}`): `{line}` with the whole overlay"
            );
            if let Some(text) = &without {
                assert_eq!(
                    text.lines().any(|l| l == line),
                    !present,
                    "action {index} (`{target}`): `{line}` without the action"
                );
            }
        }
    }
}

#[test]
fn a_dangling_target_is_reported_with_the_action_target() {
    let mut overlay: serde_json::Value = serde_json::from_str(OVERLAY).unwrap();
    overlay["actions"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "target": "$.components.schemas.RenamedUpstream.properties.status",
            "description": "type a field of a schema Deck renamed",
            "update": {"$ref": "#/components/schemas/RunStatus"}
        }));
    let overlay = Overlay::parse(&overlay.to_string()).unwrap();
    let spec = load(SPEC, Some(&overlay)).unwrap();
    let messages = spec.overlay.dangling_messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("$.components.schemas.RenamedUpstream.properties.status"),
        "{}",
        messages[0]
    );
    // The spec still generates: a user regenerating against a newer spec keeps building.
    assert!(generate(&spec).is_ok());
}
