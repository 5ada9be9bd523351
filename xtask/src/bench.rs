//! `cargo xtask bench`: every benchmark of the crate in one summary table.
//!
//! Runtime figures (per-call overhead, paging throughput, memory, decode) come from
//! `cargo bench --bench deck_bench`, which measures each against its baseline in the same run.
//! This module adds the build-cost figures:
//! - the build script's own run time (spec → overlay → normalise → generate → format → write), by
//!   running the compiled build-script binary the way cargo does;
//! - whether a no-op rebuild and a rebuild after touching `src/ext.rs` rerun it (they must not),
//!   with touching `openapi/v2.json` and `openapi/overlay.json` as the positive controls;
//! - a clean build of a throwaway user crate depending on `deck-api` as published (the
//!   `cargo package` output of `deck-api` and `deck-codegen`), against the same crate with the
//!   generated code pasted in and no build script or build-dependencies. The variants alternate
//!   (build, pasted, build, pasted, …) so machine noise hits both alike; the figure is the ratio of
//!   the medians of wall-clock time, reported with every sample's range, next to the same builds'
//!   CPU time. Everything lives under `target/bench/clean-build/` and is deleted afterwards.

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
    /// Clean builds per variant, interleaved.
    pub samples: usize,
    /// Rewrite the table between the bench markers in CONTRIBUTING.md.
    pub update_readme: bool,
}

/// One row of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured.
    pub figure: String,
    /// The measured value (a median when `samples` is set).
    pub value: f64,
    /// Its baseline, measured in the same run.
    pub baseline: Option<f64>,
    /// Unit of value and baseline.
    pub unit: String,
    /// Upper bound on value/baseline, if the figure has one.
    pub target: Option<f64>,
    /// For yes/no figures: whether it holds.
    pub holds: Option<bool>,
    /// The samples behind `value` and `baseline`, where the table shows their spread.
    pub samples: Option<Samples>,
}

/// Interleaved samples of a figure and its baseline: `value[i]` was measured just before
/// `baseline[i]`.
#[derive(Debug, Clone)]
pub struct Samples {
    /// Samples of the value.
    pub value: Vec<f64>,
    /// Samples of the baseline.
    pub baseline: Vec<f64>,
}

impl Samples {
    /// value/baseline of each interleaved pair.
    fn pair_ratios(&self) -> Vec<f64> {
        self.value
            .iter()
            .zip(&self.baseline)
            .map(|(v, b)| v / b)
            .collect()
    }
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
    if options.samples == 0 {
        return Err("--samples must be at least 1".into());
    }
    if !["release", "dev"].contains(&options.profile.as_str()) {
        return Err(format!(
            "--profile must be release or dev, not {}",
            options.profile
        ));
    }
    let started = Instant::now();
    let load_before = load_average();
    let mut rows = runtime_rows(workspace, options.quick)?;
    rows.extend(runs_rows(workspace, options.quick)?);
    rows.push(build_script_time(workspace)?);
    rows.extend(rerun_checks(workspace)?);
    if !options.skip_clean_build {
        rows.extend(clean_build(workspace, &options.profile, options.samples)?);
    }
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    // Other jobs on a shared machine skew every figure; the load says how busy it was.
    let load = format!("{}, {}", load_before, load_average());
    let table = render(&rows);
    println!("\n{table}");
    println!("bench took {minutes:.1} min; 1-minute load average before and after: {load}");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let summary = json!({
        "date": today(),
        "cores": cores,
        "quick": options.quick,
        "minutes": minutes,
        "load_average_before_after": load,
        "rows": rows.iter().map(row_json).collect::<Vec<_>>(),
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
        update_readme(workspace, &table, cores, minutes, &load)?;
    }
    Ok(rows)
}

fn row_json(r: &Row) -> Value {
    let mut row = json!({
        "figure": r.figure, "value": r.value, "baseline": r.baseline, "unit": r.unit,
        "ratio": r.ratio(), "target": r.target, "met": r.met(),
    });
    if let Some(s) = &r.samples {
        let ratios = s.pair_ratios();
        row["samples"] = json!({
            "value": s.value, "baseline": s.baseline,
            "pair_ratios": ratios, "pair_ratio_median": median(&ratios),
            "value_min": min(&s.value), "value_max": max(&s.value),
            "baseline_min": min(&s.baseline), "baseline_max": max(&s.baseline),
            "pair_ratio_min": min(&ratios), "pair_ratio_max": max(&ratios),
        });
    }
    row
}

/// The 1-minute load average (Linux), or "?".
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
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
            samples: runtime_samples(&f["samples"]),
        })
        .collect())
}

/// The interleaved samples a runtime figure carries (the per-call rows), for their spread.
fn runtime_samples(samples: &Value) -> Option<Samples> {
    let read = |key: &str| -> Option<Vec<f64>> {
        samples[key].as_array()?.iter().map(Value::as_f64).collect()
    };
    Some(Samples {
        value: read("value")?,
        baseline: read("baseline")?,
    })
}

/// `cargo xtask bench runs`: only the many-runs figures (`benches/many_runs.rs`), as a table.
pub fn runs(workspace: &Path, quick: bool) -> Result<Vec<Row>, String> {
    let rows = runs_rows(workspace, quick)?;
    println!("\n{}", render(&rows));
    Ok(rows)
}

/// Many runs against MockDeck enforcing Deck's limit: batch + tracker against per-run waits,
/// webhooks, and three processes sharing a Redis limiter (`cargo bench --bench many_runs`).
fn runs_rows(workspace: &Path, quick: bool) -> Result<Vec<Row>, String> {
    let mut cmd = cargo();
    cmd.current_dir(workspace)
        .args(["bench", "-p", "deck-api", "--bench", "many_runs"]);
    if quick {
        cmd.env("DECK_BENCH_QUICK", "1");
    }
    let status = cmd.status().map_err(|e| format!("cargo bench: {e}"))?;
    if !status.success() {
        return Err("cargo bench --bench many_runs failed".into());
    }
    let path = workspace.join("target/bench/runs.json");
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
            samples: None,
        })
        .collect())
}

/// Builds the crate, then runs its build-script binary as cargo would, five times.
fn build_script_time(workspace: &Path) -> Result<Row, String> {
    build(workspace)?;
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
        figure: "build script run (spec → overlay → normalise → generate → format), ms".into(),
        value: median(&times),
        baseline: None,
        unit: "ms".into(),
        target: None,
        holds: None,
        samples: None,
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
fn build(workspace: &Path) -> Result<bool, String> {
    let out = cargo()
        .current_dir(workspace)
        .args(["build", "-p", "deck-api", "-v"])
        .output()
        .map_err(|e| format!("cargo build: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("cargo build failed:\n{log}"));
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
    build(workspace)?;
    let noop = build(workspace)?;
    touch(&workspace.join("src/ext.rs"))?;
    let after_ext = build(workspace)?;
    touch(&workspace.join("openapi/v2.json"))?;
    let after_spec = build(workspace)?;
    touch(&workspace.join("openapi/overlay.json"))?;
    let after_overlay = build(workspace)?;
    let row = |figure: &str, reran: bool, expected: bool| Row {
        figure: figure.into(),
        value: f64::from(u8::from(reran)),
        baseline: None,
        unit: if reran { "reran" } else { "did not rerun" }.into(),
        target: None,
        holds: Some(reran == expected),
        samples: None,
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
        row(
            "rebuild after touching openapi/overlay.json reruns it (control: must)",
            after_overlay,
            true,
        ),
    ])
}

/// The clean-build variants, in the order each round builds them.
const VARIANTS: [&str; 2] = ["build", "pasted"];

/// Clean builds of a user crate depending on `deck-api`, generated at build time vs pasted in,
/// `samples` of each, interleaved: the wall-clock row (the one with the target) and, on Linux, the
/// same builds' CPU time, which other jobs on a shared machine move far less.
///
/// Both variants start from `cargo package` of `deck-codegen` and `deck-api`, unpacked: the files
/// and the normalised manifests that crates.io would serve. `build/` holds both crates, the user
/// crate patching `deck-codegen` to the unpacked copy (it is not on crates.io); `pasted/` holds
/// `deck-api` only, with the generated code in `src/deck_gen.rs`, no build script and no
/// build-dependencies. Each sample starts from an empty target directory and the shared cargo
/// home, offline. One difference from a registry download remains for both variants alike: cargo
/// treats path dependencies as local, so it does not cap their lints.
fn clean_build(workspace: &Path, profile: &str, samples: usize) -> Result<Vec<Row>, String> {
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
    let (deck_api, deck_codegen) = package(workspace, &root.join("package"))?;
    let lock = workspace.join("Cargo.lock");

    let dir = root.join("build");
    let api = unpack(&deck_api, &dir)?;
    let codegen = unpack(&deck_codegen, &dir)?;
    user_crate(&dir.join("user"), &api, Some(&codegen), &lock)?;

    let dir = root.join("pasted");
    let api = unpack(&deck_api, &dir)?;
    paste(&dir.join(&api), &generated)?;
    user_crate(&dir.join("user"), &api, None, &lock)?;

    let mut wall = [Vec::new(), Vec::new()];
    let mut cpu = [Vec::new(), Vec::new()];
    for round in 1..=samples {
        for (i, variant) in VARIANTS.into_iter().enumerate() {
            let user = root.join(variant).join("user");
            let (secs, cpu_secs) = build_user_crate(&user, profile)?;
            check_variant(&user.join("target"), profile, variant, &generated)?;
            let _ = std::fs::remove_dir_all(user.join("target"));
            let cpu_note = cpu_secs
                .map(|c| format!(", {c:.1} s CPU"))
                .unwrap_or_default();
            eprintln!(
                "clean {profile} build {round}/{samples}, code {variant}: {secs:.1} s{cpu_note}"
            );
            wall[i].push(secs);
            cpu[i].extend(cpu_secs);
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    let row = |what: &str, [build, pasted]: [Vec<f64>; 2], target: Option<f64>| Row {
        figure: format!(
            "clean {profile} build of a user crate, {what}: generated at build time vs pasted, \
             median of {samples} (s)"
        ),
        value: median(&build),
        baseline: Some(median(&pasted)),
        unit: "s".into(),
        target,
        holds: None,
        samples: Some(Samples {
            value: build,
            baseline: pasted,
        }),
    };
    let cpu_complete = cpu.iter().all(|v| v.len() == samples);
    let mut rows = vec![row("wall clock", wall, Some(1.3))];
    if cpu_complete {
        rows.push(row("CPU time (user + system)", cpu, None));
    }
    Ok(rows)
}

/// `cargo package` of `deck-codegen` and `deck-api` (no verification build: the clean builds are
/// the verification); returns the two `.crate` files.
fn package(workspace: &Path, target_dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let out = cargo()
        .current_dir(workspace)
        .args(["package", "-p", "deck-codegen", "-p", "deck-api"])
        .args(["--no-verify", "--offline", "--allow-dirty", "--target-dir"])
        .arg(target_dir)
        .output()
        .map_err(|e| format!("cargo package: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo package failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let dir = target_dir.join("package");
    let find = |name: &str| -> Result<PathBuf, String> {
        std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                let file = p.file_name().unwrap_or_default().to_string_lossy();
                let version = file
                    .strip_prefix(name)
                    .and_then(|v| v.strip_suffix(".crate"));
                // `deck-api-` must not match a hypothetical `deck-api-foo-0.1.0.crate`.
                version.is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
            })
            .ok_or_else(|| format!("no {name}*.crate in {}", dir.display()))
    };
    Ok((find("deck-api-")?, find("deck-codegen-")?))
}

/// Unpacks a `.crate` (a gzipped tarball with one top directory, `name-version`) into `dir`;
/// returns the top directory's name.
fn unpack(krate: &Path, dir: &Path) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(krate)
        .arg("-C")
        .arg(dir)
        .status()
        .map_err(|e| format!("tar: {e}"))?;
    if !status.success() {
        return Err(format!("tar could not unpack {}", krate.display()));
    }
    let name = krate
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".crate"))
        .ok_or_else(|| format!("not a .crate file: {}", krate.display()))?;
    Ok(name.to_string())
}

/// Turns an unpacked `deck-api` into the pasted variant: the generated code in `src/`, the build
/// script and every build-dependency gone from the manifest.
fn paste(krate: &Path, generated: &str) -> Result<(), String> {
    let path = krate.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let mut out = String::new();
    let mut keep = true;
    for line in manifest.lines() {
        if line.starts_with('[') {
            keep = !line.contains("build-dependencies");
        }
        if !keep {
            continue;
        }
        // Explicitly off: with the key gone, cargo would look for a build.rs again.
        if line.starts_with("build = ") {
            out.push_str("build = false\n");
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if out.contains("deck-codegen") {
        return Err("the pasted manifest still mentions deck-codegen".into());
    }
    std::fs::write(&path, out).map_err(|e| e.to_string())?;
    std::fs::remove_file(krate.join("build.rs")).map_err(|e| e.to_string())?;
    std::fs::write(krate.join("src/deck_gen.rs"), generated).map_err(|e| e.to_string())?;
    let lib_path = krate.join("src/lib.rs");
    let lib = std::fs::read_to_string(&lib_path).map_err(|e| e.to_string())?;
    // Only the client: `deck_httpmock.rs` belongs to the `httpmock` feature, off in a user's build.
    let pasted = lib.replace(
        "include!(concat!(env!(\"OUT_DIR\"), \"/deck_gen.rs\"));",
        "include!(\"deck_gen.rs\");",
    );
    if pasted == lib {
        return Err("src/lib.rs no longer includes OUT_DIR/deck_gen.rs".into());
    }
    std::fs::write(&lib_path, pasted).map_err(|e| e.to_string())
}

/// A binary crate using `deck-api` (default features) from the sibling directory `api`; with
/// `codegen`, `deck-codegen` is patched to the sibling directory of that name. The lockfile is the
/// workspace's, so both variants build the same dependency versions.
fn user_crate(dir: &Path, api: &str, codegen: Option<&str>, lock: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    let patch = codegen
        .map(|c| format!("\n[patch.crates-io]\ndeck-codegen = {{ path = \"../{c}\" }}\n"))
        .unwrap_or_default();
    // `[workspace]`: the crate sits under this workspace's directory but is not a member.
    let manifest = format!(
        "[package]\nname = \"bench-user\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
         [dependencies]\ndeck-api = {{ path = \"../{api}\" }}\n{patch}\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("src/main.rs"),
        "fn main() { let _ = deck::Client::from_env(); }\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::copy(lock, dir.join("Cargo.lock")).map_err(|e| e.to_string())?;
    Ok(())
}

/// One clean build of the user crate in `user` (into `user/target`); returns its wall-clock
/// seconds and, where known, its CPU seconds.
fn build_user_crate(user: &Path, profile: &str) -> Result<(f64, Option<f64>), String> {
    let target = user.join("target");
    let _ = std::fs::remove_dir_all(&target);
    let mut cmd = cargo();
    cmd.current_dir(user)
        .args(["build", "--offline", "--quiet", "--profile", profile])
        .env("CARGO_TARGET_DIR", &target)
        // As cargo builds registry crates: never incrementally (path dependencies would be, in
        // the dev profile). And no compiler cache, which would make a clean build a cache read.
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER");
    let cpu_before = children_cpu_seconds();
    let started = Instant::now();
    let status = cmd.status().map_err(|e| format!("cargo build: {e}"))?;
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("clean build in {} failed", user.display()));
    }
    let cpu = cpu_before
        .zip(children_cpu_seconds())
        .map(|(before, after)| after - before);
    Ok((wall, cpu))
}

/// User + system CPU seconds of this process's finished children so far, theirs included (Linux:
/// cargo waits for rustc and build scripts, we wait for cargo). None where /proc is missing.
fn children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name, field 2, is in brackets and may hold spaces: count from after it, where
    // field 3 (state) is index 0, so cutime (field 16) and cstime (17) are indexes 13 and 14.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(13)?.parse::<f64>().ok()? + fields.get(14)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks_per_second())
}

/// `getconf CLK_TCK`, the unit of /proc's CPU times (100 nearly everywhere).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Checks that a clean build was the variant it claims: `build` compiled deck-codegen and ran the
/// build script, whose output is the code `pasted` has in its sources; `pasted` compiled neither.
fn check_variant(
    target: &Path,
    profile: &str,
    variant: &str,
    generated: &str,
) -> Result<(), String> {
    let out = target.join(if profile == "dev" { "debug" } else { profile });
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let codegen_built = names(&out.join("deps"))
        .iter()
        .any(|n| n.starts_with("libdeck_codegen-"));
    let script_output = names(&out.join("build"))
        .iter()
        .filter(|n| n.starts_with("deck-api-"))
        .map(|n| out.join("build").join(n).join("out/deck_gen.rs"))
        .find(|p| p.exists());
    match variant {
        "build" => {
            let code = script_output
                .ok_or("the build variant did not run deck-api's build script")
                .and_then(|p| std::fs::read_to_string(p).map_err(|_| "unreadable deck_gen.rs"))?;
            if !codegen_built {
                return Err("the build variant did not compile deck-codegen".into());
            }
            if code != generated {
                return Err(
                    "the build script generated other code than the pasted variant's".into(),
                );
            }
        }
        _ => {
            if codegen_built || script_output.is_some() {
                return Err(
                    "the pasted variant compiled deck-codegen or ran a build script".into(),
                );
            }
        }
    }
    Ok(())
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The summary as a markdown table. Sampled rows show each median's range in brackets, and the
/// range of the per-pair ratios next to the ratio of the medians.
pub fn render(rows: &[Row]) -> String {
    let mut s = String::from(
        "| figure | value | baseline | ratio | target | met |\n|---|---:|---:|---:|---:|:-:|\n",
    );
    for r in rows {
        let with_range = |v: f64, samples: Option<&Vec<f64>>| match samples {
            Some(all) => format!(
                "{} {} ({}–{})",
                number(v),
                r.unit,
                number(min(all)),
                number(max(all))
            ),
            None => format!("{} {}", number(v), r.unit),
        };
        let value = match r.holds {
            Some(_) => r.unit.clone(),
            None => with_range(r.value, r.samples.as_ref().map(|s| &s.value)),
        };
        let baseline = r
            .baseline
            .map(|b| with_range(b, r.samples.as_ref().map(|s| &s.baseline)))
            .unwrap_or_else(|| "–".into());
        let ratio = match (r.ratio(), &r.samples) {
            (Some(x), Some(s)) => {
                let pairs = s.pair_ratios();
                format!("{x:.3} ({:.3}–{:.3})", min(&pairs), max(&pairs))
            }
            (Some(x), None) => format!("{x:.3}"),
            (None, _) => "–".into(),
        };
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
    if rows.iter().any(|r| r.samples.is_some()) {
        s.push_str(
            "\nRows with ranges: value and baseline are medians of interleaved samples (per-call: \
             rounds of calls, SDK, raw, bare, SDK, …)",
        );
        if let Some(n) = rows
            .iter()
            .filter(|r| r.figure.starts_with("clean"))
            .find_map(|r| r.samples.as_ref())
        {
            s.push_str(&format!(
                "; clean builds: {} per variant (build, pasted, build, …)",
                n.value.len()
            ));
        }
        s.push_str(
            ", with the samples' range in brackets; the ratio is of the medians, with the range \
             of the per-pair ratios in brackets.\n",
        );
    }
    s
}

const BEGIN: &str = "<!-- bench:begin -->";
const END: &str = "<!-- bench:end -->";

fn update_readme(
    workspace: &Path,
    table: &str,
    cores: usize,
    minutes: f64,
    load: &str,
) -> Result<(), String> {
    let path = workspace.join("CONTRIBUTING.md");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        return Err("CONTRIBUTING.md has no bench markers".into());
    };
    let body = format!(
        "{BEGIN}\nMeasured {} on {cores} cores with `cargo xtask bench` ({minutes:.0} min; 1-minute \
         load average {load} before and after):\n\n{table}{END}",
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
                samples: None,
            },
            Row {
                figure: "b".into(),
                value: 0.0,
                baseline: None,
                unit: "did not rerun".into(),
                target: None,
                holds: Some(true),
                samples: None,
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

    #[test]
    fn sampled_rows_render_medians_and_ranges() {
        let rows = vec![Row {
            figure: "clean c".into(),
            value: median(&[120.0, 110.0, 130.0]),
            baseline: Some(median(&[100.0, 90.0, 104.0])),
            unit: "s".into(),
            target: Some(1.3),
            holds: None,
            samples: Some(Samples {
                value: vec![120.0, 110.0, 130.0],
                baseline: vec![100.0, 90.0, 104.0],
            }),
        }];
        let table = render(&rows);
        assert!(
            table.contains(
                "| clean c | 120 s (110–130) | 100 s (90.00–104) | 1.200 (1.200–1.250) | ≤ 1.3 | yes |"
            ),
            "{table}"
        );
        assert!(table.contains("clean builds: 3 per variant"), "{table}");
    }

    #[test]
    fn runtime_rows_keep_their_samples() {
        let samples = runtime_samples(&json!({"value": [2.0, 3.0], "baseline": [1.0, 2.0]}));
        let samples = samples.expect("read");
        assert_eq!(
            (samples.value, samples.baseline),
            (vec![2.0, 3.0], vec![1.0, 2.0])
        );
        assert!(runtime_samples(&Value::Null).is_none());
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
