//! `cargo xtask bench`: every benchmark of the crate in one summary table.
//!
//! Runtime figures (per-call overhead, paging throughput, memory, decode) come from
//! `cargo bench --bench deck_bench`, which measures each against its baseline in the same run.
//! This module adds the build-cost figures:
//! - the build script's own run time (spec → normalise → generate → format → write), by running
//!   the compiled build-script binary the way cargo does;
//! - whether a no-op rebuild and a rebuild after touching `src/ext.rs` rerun it (they must not),
//!   with touching `openapi/v2.json` as the positive control;
//! - a clean build of a throwaway user crate depending on `deck-api`, against the same with the
//!   generated code pasted into a copy of the crate and no build script or build-dependencies.
//!   Both copies live under the target directory and are deleted afterwards.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Small sizes everywhere (a smoke run).
    pub quick: bool,
    /// Skip the clean-build comparison (the slow part).
    pub skip_clean_build: bool,
    /// Build profile for the clean-build comparison: "release" or "dev".
    pub profile: String,
    /// Rewrite the table between the bench markers in CONTRIBUTING.md.
    pub update_readme: bool,
}

/// One row of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured.
    pub figure: String,
    /// The measured value.
    pub value: f64,
    /// Its baseline, measured in the same run.
    pub baseline: Option<f64>,
    /// Unit of value and baseline.
    pub unit: String,
    /// Upper bound on value/baseline, if the figure has one.
    pub target: Option<f64>,
    /// For yes/no figures: whether it holds.
    pub holds: Option<bool>,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        self.baseline.map(|b| self.value / b)
    }

    fn met(&self) -> Option<bool> {
        match (self.holds, self.target, self.ratio()) {
            (Some(h), _, _) => Some(h),
            (None, Some(t), Some(r)) => Some(r <= t),
            _ => None,
        }
    }
}

/// Runs everything and prints the table; returns the rows.
pub fn run(workspace: &Path, options: &BenchOptions) -> Result<Vec<Row>, String> {
    let mut rows = runtime_rows(workspace, options.quick)?;
    rows.push(build_script_time(workspace)?);
    rows.extend(rerun_checks(workspace)?);
    if !options.skip_clean_build {
        rows.push(clean_build(workspace, &options.profile)?);
    }
    let table = render(&rows);
    println!("\n{table}");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let summary = json!({
        "date": today(),
        "cores": cores,
        "quick": options.quick,
        "rows": rows.iter().map(|r| json!({
            "figure": r.figure, "value": r.value, "baseline": r.baseline, "unit": r.unit,
            "ratio": r.ratio(), "target": r.target, "met": r.met(),
        })).collect::<Vec<_>>(),
    });
    let out = workspace.join("target/bench/summary.json");
    std::fs::create_dir_all(out.parent().expect("has a parent")).map_err(|e| e.to_string())?;
    std::fs::write(
        &out,
        serde_json::to_string_pretty(&summary).expect("serialises"),
    )
    .map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    if options.update_readme {
        update_readme(workspace, &table, cores)?;
    }
    Ok(rows)
}

fn today() -> String {
    let out = Command::new("date").arg("-u").arg("+%Y-%m-%d").output();
    out.ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn runtime_rows(workspace: &Path, quick: bool) -> Result<Vec<Row>, String> {
    let mut cmd = cargo();
    cmd.current_dir(workspace)
        .args(["bench", "-p", "deck-api", "--bench", "deck_bench"]);
    if quick {
        cmd.env("DECK_BENCH_QUICK", "1");
    }
    let status = cmd.status().map_err(|e| format!("cargo bench: {e}"))?;
    if !status.success() {
        return Err("cargo bench --bench deck_bench failed".into());
    }
    let path = workspace.join("target/bench/runtime.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    Ok(doc["figures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| Row {
            figure: f["figure"].as_str().unwrap_or_default().to_string(),
            value: f["value"].as_f64().unwrap_or(f64::NAN),
            baseline: f["baseline"].as_f64(),
            unit: f["unit"].as_str().unwrap_or_default().to_string(),
            target: f["target"].as_f64(),
            holds: None,
        })
        .collect())
}

/// Builds the crate, then runs its build-script binary as cargo would, five times.
fn build_script_time(workspace: &Path) -> Result<Row, String> {
    build(workspace, false)?;
    let script = newest(&workspace.join("target/debug/build"), "build-script-build")
        .ok_or("no compiled build script under target/debug/build")?;
    let out_dir = workspace.join("target/bench/out");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let out = Command::new(&script)
            .current_dir(workspace)
            .env("OUT_DIR", &out_dir)
            .env("CARGO_MANIFEST_DIR", workspace)
            .output()
            .map_err(|e| format!("{}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "build script failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Row {
        figure: "build script run (spec → normalise → generate → format), ms".into(),
        value: median(times),
        baseline: None,
        unit: "ms".into(),
        target: None,
        holds: None,
    })
}

fn newest(dir: &Path, file: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("deck-api-"))
        .map(|e| e.path().join(file))
        .filter(|p| p.exists())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

/// `cargo build -p deck-api -v`; returns whether the build script ran.
fn build(workspace: &Path, verbose: bool) -> Result<bool, String> {
    let out = cargo()
        .current_dir(workspace)
        .args(["build", "-p", "deck-api", "-v"])
        .output()
        .map_err(|e| format!("cargo build: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("cargo build failed:\n{log}"));
    }
    if verbose {
        eprintln!("{log}");
    }
    Ok(log.lines().any(|l| {
        l.contains("Running") && l.contains("deck-api") && l.contains("build-script-build")
    }))
}

fn touch(path: &Path) -> Result<(), String> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.set_modified(std::time::SystemTime::now())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn rerun_checks(workspace: &Path) -> Result<Vec<Row>, String> {
    build(workspace, false)?;
    let noop = build(workspace, false)?;
    touch(&workspace.join("src/ext.rs"))?;
    let after_ext = build(workspace, false)?;
    touch(&workspace.join("openapi/v2.json"))?;
    let after_spec = build(workspace, false)?;
    let row = |figure: &str, reran: bool, expected: bool| Row {
        figure: figure.into(),
        value: f64::from(u8::from(reran)),
        baseline: None,
        unit: if reran { "reran" } else { "did not rerun" }.into(),
        target: None,
        holds: Some(reran == expected),
    };
    Ok(vec![
        row(
            "no-op rebuild reruns the build script (must not)",
            noop,
            false,
        ),
        row(
            "rebuild after touching src/ext.rs reruns it (must not)",
            after_ext,
            false,
        ),
        row(
            "rebuild after touching openapi/v2.json reruns it (control: must)",
            after_spec,
            true,
        ),
    ])
}

/// A clean build of a user crate depending on `deck-api`, generated at build time vs pasted in.
fn clean_build(workspace: &Path, profile: &str) -> Result<Row, String> {
    let root = workspace.join("target/bench/clean-build");
    let _ = std::fs::remove_dir_all(&root);
    let generated = {
        let spec = std::fs::read_to_string(workspace.join("openapi/v2.json"))
            .map_err(|e| e.to_string())?;
        let overlay = crate::spec::read_overlay(&workspace.join("openapi/overlay.json"))?;
        crate::spec::validate(&spec, &overlay)
            .map_err(|e| e.to_string())?
            .1
            .code
    };
    copy_crate(workspace, &root.join("deck-api-build"), None)?;
    copy_crate(workspace, &root.join("deck-api-pasted"), Some(&generated))?;
    let mut times = Vec::new();
    for (name, krate) in [("build", "deck-api-build"), ("pasted", "deck-api-pasted")] {
        let user = root.join(format!("user-{name}"));
        std::fs::create_dir_all(user.join("src")).map_err(|e| e.to_string())?;
        std::fs::write(
            user.join("Cargo.toml"),
            format!(
                "[package]\nname = \"bench-user\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
                 [dependencies]\ndeck-api = {{ path = \"../{krate}\" }}\n\n[workspace]\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(
            user.join("src/main.rs"),
            "fn main() { let _ = deck::Client::from_env(); }\n",
        )
        .map_err(|e| e.to_string())?;
        std::fs::copy(workspace.join("Cargo.lock"), user.join("Cargo.lock"))
            .map_err(|e| e.to_string())?;
        let mut cmd = cargo();
        cmd.current_dir(&user)
            .args(["build", "--offline", "--quiet"])
            .env("CARGO_TARGET_DIR", user.join("target"));
        if profile == "release" {
            cmd.arg("--release");
        }
        let started = Instant::now();
        let status = cmd.status().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("clean build of the {name} variant failed"));
        }
        let secs = started.elapsed().as_secs_f64();
        eprintln!("clean {profile} build, code {name}: {secs:.1} s");
        times.push(secs);
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(Row {
        figure: format!(
            "clean {profile} build of a user crate: generated at build time vs pasted (s)"
        ),
        value: times[0],
        baseline: Some(times[1]),
        unit: "s".into(),
        target: Some(1.3),
        holds: None,
    })
}

/// Copies the package (library sources, spec, manifest without dev/bench/workspace sections).
/// With `generated`, pastes the code in and drops the build script and its dependencies.
fn copy_crate(workspace: &Path, to: &Path, generated: Option<&str>) -> Result<(), String> {
    std::fs::create_dir_all(to.join("src")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(to.join("openapi")).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(workspace.join("src")).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        std::fs::copy(entry.path(), to.join("src").join(entry.file_name()))
            .map_err(|e| e.to_string())?;
    }
    for file in ["openapi/v2.json", "README.md"] {
        std::fs::copy(workspace.join(file), to.join(file)).map_err(|e| e.to_string())?;
    }
    let manifest =
        std::fs::read_to_string(workspace.join("Cargo.toml")).map_err(|e| e.to_string())?;
    let mut drop = vec!["[workspace]", "[dev-dependencies]", "[[bench]]"];
    if generated.is_some() {
        drop.push("[build-dependencies]");
    }
    let mut out = String::new();
    let mut keep = true;
    for line in manifest.lines() {
        if line.starts_with('[') {
            keep = !drop.contains(&line.trim());
        }
        let is_build_line = line.starts_with("build = ") || line.starts_with("include = ");
        if keep && !(is_build_line && generated.is_some()) && !line.starts_with("include = ") {
            out.push_str(line);
            out.push('\n');
        }
    }
    std::fs::write(to.join("Cargo.toml"), out).map_err(|e| e.to_string())?;
    match generated {
        Some(code) => {
            std::fs::write(to.join("src/deck_gen.rs"), code).map_err(|e| e.to_string())?;
            let lib = std::fs::read_to_string(to.join("src/lib.rs")).map_err(|e| e.to_string())?;
            let pasted = lib.replace(
                "include!(concat!(env!(\"OUT_DIR\"), \"/deck_gen.rs\"));",
                "include!(\"deck_gen.rs\");",
            );
            if pasted == lib {
                return Err("src/lib.rs no longer includes OUT_DIR/deck_gen.rs".into());
            }
            std::fs::write(to.join("src/lib.rs"), pasted).map_err(|e| e.to_string())?;
        }
        None => {
            std::fs::copy(workspace.join("build.rs"), to.join("build.rs"))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The summary as a markdown table.
pub fn render(rows: &[Row]) -> String {
    let mut s = String::from(
        "| figure | value | baseline | ratio | target | met |\n|---|---:|---:|---:|---:|:-:|\n",
    );
    for r in rows {
        let fmt = |v: f64| {
            if v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        };
        let value = match r.holds {
            Some(_) => r.unit.clone(),
            None => format!("{} {}", fmt(r.value), r.unit),
        };
        let baseline = r
            .baseline
            .map(|b| format!("{} {}", fmt(b), r.unit))
            .unwrap_or_else(|| "–".into());
        let ratio = r
            .ratio()
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "–".into());
        let target = r
            .target
            .map(|t| format!("≤ {t}"))
            .unwrap_or_else(|| "–".into());
        let met = match r.met() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        s.push_str(&format!(
            "| {} | {value} | {baseline} | {ratio} | {target} | {met} |\n",
            r.figure
        ));
    }
    s
}

const BEGIN: &str = "<!-- bench:begin -->";
const END: &str = "<!-- bench:end -->";

fn update_readme(workspace: &Path, table: &str, cores: usize) -> Result<(), String> {
    let path = workspace.join("CONTRIBUTING.md");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        return Err("CONTRIBUTING.md has no bench markers".into());
    };
    let body = format!(
        "{BEGIN}\nMeasured {} on {cores} cores with `cargo xtask bench`:\n\n{table}{END}",
        today()
    );
    let new = format!("{}{}{}", &text[..a], body, &text[b + END.len()..]);
    std::fs::write(&path, new).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_render_ratio_and_verdict() {
        let rows = vec![
            Row {
                figure: "a".into(),
                value: 1.1,
                baseline: Some(1.0),
                unit: "s".into(),
                target: Some(1.05),
                holds: None,
            },
            Row {
                figure: "b".into(),
                value: 0.0,
                baseline: None,
                unit: "did not rerun".into(),
                target: None,
                holds: Some(true),
            },
        ];
        let table = render(&rows);
        assert!(
            table.contains("| a | 1.10 s | 1.00 s | 1.100 | ≤ 1.05 | **no** |"),
            "{table}"
        );
        assert!(
            table.contains("| b | did not rerun | – | – | – | yes |"),
            "{table}"
        );
    }
}
