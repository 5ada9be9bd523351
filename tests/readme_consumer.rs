//! The README's Rust examples, copied as a user would into `consumer/`, a crate outside this
//! workspace that depends on `deck-api` by path with the README's own dependency lines; CI builds
//! it (`.ci/run`), so an example that only compiles inside this crate (a derive needing
//! `schemars` in scope, say) fails there. This test keeps the copies in step with README.md:
//! one program per Rust block, hidden (`# `) lines included. After editing the README, rewrite
//! them with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.

use std::collections::BTreeMap;
use std::path::Path;

const HEADER: &str = "// Generated from README.md by tests/readme_consumer.rs: do not edit; \
                      rewrite with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`.\n";

/// One program per Rust block of the README, by file name.
fn programs(readme: &str) -> BTreeMap<String, String> {
    let mut programs = BTreeMap::new();
    let mut heading = String::from("readme");
    // In a fenced block: its lines, and whether it is Rust.
    let mut block: Option<(Vec<&str>, bool)> = None;
    for line in readme.lines() {
        match &mut block {
            None if line.starts_with('#') => {
                heading = slug(line.trim_start_matches('#'));
            }
            None if line.starts_with("```") => {
                // A `compile_fail` block shows what must not compile: not a program to copy.
                block = Some((
                    Vec::new(),
                    line.starts_with("```rust") && !line.contains("compile_fail"),
                ));
            }
            None => {}
            Some((lines, rust)) if line.starts_with("```") => {
                if *rust {
                    let name = format!("readme_{:02}_{heading}.rs", programs.len() + 1);
                    programs.insert(name, program(lines));
                }
                block = None;
            }
            Some((lines, _)) => lines.push(line),
        }
    }
    programs
}

/// The block as a user's program: hidden lines shown, and a `main` if the block has none.
fn program(lines: &[&str]) -> String {
    let code: Vec<&str> = lines
        .iter()
        .map(|l| match l.strip_prefix("# ") {
            Some(shown) => shown,
            None if l.trim() == "#" => "",
            None => l,
        })
        .collect();
    let mut code = code.join("\n");
    if !code.contains("fn main(") {
        code = format!("fn main() {{\n{code}\n}}");
    }
    format!("{HEADER}{code}\n")
}

fn slug(heading: &str) -> String {
    let words: Vec<String> = heading
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.join("_")
}

#[test]
fn consumer_holds_every_readme_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let expected = programs(&readme);
    assert!(expected.len() >= 8, "README Rust blocks: {expected:?}");
    let dir = root.join("consumer/src/bin");
    if std::env::var_os("DECK_UPDATE_README_CONSUMER").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, code) in &expected {
            std::fs::write(dir.join(name), code).unwrap();
        }
    }
    let actual: BTreeMap<String, String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    let fix = "rewrite them with `DECK_UPDATE_README_CONSUMER=1 cargo test --test readme_consumer`";
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "consumer/src/bin does not match README.md's Rust blocks: {fix}"
    );
    for (name, code) in &expected {
        assert_eq!(
            &actual[name], code,
            "consumer/src/bin/{name} differs from README.md: {fix}"
        );
    }
}

/// The consumer depends on what the README tells users to depend on: its `[dependencies]`
/// lines (other than `deck-api`, taken by path there) appear in `consumer/Cargo.toml` as written.
#[test]
fn consumer_uses_the_readme_dependency_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let manifest = std::fs::read_to_string(root.join("consumer/Cargo.toml")).unwrap();
    let usage = readme
        .split("```toml\n[dependencies]\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README's [dependencies] block");
    let lines: Vec<&str> = usage
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("deck-api"))
        .collect();
    assert!(lines.iter().any(|l| l.starts_with("tokio")), "{usage}");
    for line in lines {
        assert!(
            manifest.lines().any(|m| m == line),
            "consumer/Cargo.toml lacks the README's `{line}`"
        );
    }
}

#[test]
fn blocks_become_programs() {
    let readme = "# Deck\n## Setup and auth\n```rust,no_run\nfn main() {}\n```\n\
                  ```toml\nx = 1\n```\n### Pagination (streams)\n```rust\n# let a = 1;\n#\nlet b = a;\n```\n";
    let programs = programs(readme);
    assert_eq!(
        programs.keys().collect::<Vec<_>>(),
        [
            "readme_01_setup_and_auth.rs",
            "readme_02_pagination_streams.rs"
        ]
    );
    assert_eq!(
        programs["readme_02_pagination_streams.rs"],
        format!("{HEADER}fn main() {{\nlet a = 1;\n\nlet b = a;\n}}\n")
    );
}
