//! `spec assemble`: the union of the verbatim docs fragments and the transcribed operations.

use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;

/// Writes (or, with `check`, compares) the union of `fragments/*.yaml` and `transcribed`.
pub fn run(
    fragments: &Path,
    transcribed: &Path,
    out: &Path,
    check: bool,
) -> Result<ExitCode, String> {
    let doc = assemble(fragments, transcribed)?;
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).expect("JSON values serialise")
    );
    if check {
        let current =
            std::fs::read_to_string(out).map_err(|e| format!("{}: {e}", out.display()))?;
        if current != text {
            eprintln!(
                "{} differs from the assembled union; run `cargo xtask spec assemble`",
                out.display()
            );
            return Ok(ExitCode::from(1));
        }
        println!("{} matches the union of its sources", out.display());
    } else {
        std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads every fragment and the transcribed operations and merges them.
pub fn assemble(fragments: &Path, transcribed: &Path) -> Result<Value, String> {
    let mut files: Vec<_> = std::fs::read_dir(fragments)
        .map_err(|e| format!("{}: {e}", fragments.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no YAML fragments in {}", fragments.display()));
    }
    let mut union = Value::Null;
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let fragment = parse_fragment(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        merge(&mut union, fragment, &file.display().to_string(), "")?;
    }
    let text = std::fs::read_to_string(transcribed)
        .map_err(|e| format!("{}: {e}", transcribed.display()))?;
    let extra: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", transcribed.display()))?;
    merge(&mut union, extra, &transcribed.display().to_string(), "")?;
    Ok(union)
}

/// Parses one fragment. The `listTaskRuns` page carries a stray empty `components:` line right
/// before the real one (a duplicate key, which YAML forbids); an empty duplicate is dropped,
/// anything else duplicated is an error from the YAML parser.
pub fn parse_fragment(text: &str) -> Result<Value, String> {
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim_end() == "components:"
            && lines.last().is_some_and(|l| l.trim_end() == "components:")
        {
            continue;
        }
        lines.push(line);
    }
    let cleaned = lines.join("\n");
    let value: Value = serde_norway::from_str(&cleaned).map_err(|e| e.to_string())?;
    Ok(value)
}

/// Deep merge: objects merge key by key; anything else must be equal where both sides have it.
/// Under `paths` and `components`, a key present in both must hold the same value (a component
/// defined twice must agree).
pub fn merge(into: &mut Value, from: Value, source: &str, pointer: &str) -> Result<(), String> {
    match (into, from) {
        (slot @ Value::Null, from) => {
            *slot = from;
            Ok(())
        }
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in b {
                let ptr = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match a.get_mut(&key) {
                    None => {
                        a.insert(key, value);
                    }
                    Some(existing) if is_definition(pointer) => {
                        if *existing != value {
                            return Err(format!(
                                "{source} defines {ptr} differently from an earlier source:\n  earlier: {}\n  here:    {}",
                                short(existing),
                                short(&value)
                            ));
                        }
                    }
                    Some(existing) => merge(existing, value, source, &ptr)?,
                }
            }
            Ok(())
        }
        (a, b) if *a == b => Ok(()),
        (a, b) => Err(format!(
            "{source} disagrees at {pointer}: {} vs {}",
            short(a),
            short(&b)
        )),
    }
}

/// Where a key names a whole definition (a component or a path), which must agree as a unit.
fn is_definition(pointer: &str) -> bool {
    let path_item = pointer
        .strip_prefix("/paths/")
        .is_some_and(|rest| !rest.contains('/'));
    path_item
        || matches!(
            pointer,
            "/components/schemas" | "/components/securitySchemes"
        )
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}
