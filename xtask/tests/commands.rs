//! The commands end to end, through the built binary: `spec refresh` (from a loopback HTTP server
//! and from a file, and every way it can refuse), `spec check` exit codes, `spec diff --fail-on`,
//! `codegen --check/--write`, and `--help`. No network: servers are on 127.0.0.1 and started here;
//! every write goes to a temporary copy of `openapi/`.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const UNREACHABLE: i32 = 3;

fn repo_spec_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/v2.json"))
        .expect("the vendored spec is readable")
}

fn repo_spec() -> Value {
    serde_json::from_str(&repo_spec_text()).expect("the vendored spec is JSON")
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn xtask(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("the xtask binary runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A scratch copy of `openapi/` (the vendored spec, the overlay and a surface snapshot), removed
/// on drop.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "xtask-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        std::fs::write(dir.join("v2.json"), repo_spec_text()).expect("copy spec");
        let overlay = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/overlay.json");
        std::fs::copy(overlay, dir.join("overlay.json")).expect("copy overlay");
        std::fs::write(dir.join("surface.txt"), "# an old snapshot\n").expect("write surface");
        Scratch { dir }
    }

    fn spec(&self) -> String {
        self.dir.join("v2.json").display().to_string()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write(&self, name: &str, content: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, content).expect("write scratch file");
        path.display().to_string()
    }

    /// Every file in the directory with its bytes.
    fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&self.dir)
            .expect("list scratch dir")
            .map(|e| {
                let e = e.expect("dir entry");
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).expect("read scratch file"),
                )
            })
            .collect();
        files.sort();
        files
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A one-shot HTTP/1.1 server on 127.0.0.1 answering every request with `status` and `body`.
struct Server {
    url: String,
    handle: Option<JoinHandle<usize>>,
}

impl Server {
    fn start(status: u16, content_type: &'static str, body: String, requests: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!(
            "http://{}/api-reference/v2.json",
            listener.local_addr().expect("local addr")
        );
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let handle = std::thread::spawn(move || {
            // Accepts until `requests` were served or 30 s passed, so a test whose command never
            // connects fails on its assertions instead of hanging here.
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut served = 0;
            while served < requests && Instant::now() < deadline {
                let mut stream = match listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    Err(_) => continue,
                };
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let reason = if status == 200 { "OK" } else { "Not Found" };
                let head = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
                served += 1;
            }
            served
        });
        Server {
            url,
            handle: Some(handle),
        }
    }

    /// Waits for the expected requests and returns how many were served.
    fn finish(mut self) -> usize {
        self.handle
            .take()
            .map(|h| h.join().expect("server thread"))
            .unwrap_or(0)
    }
}

/// A loopback URL nothing listens on.
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}/api-reference/v2.json")
}

/// The vendored spec plus one new optional response field and a new include value.
fn upstream_with_a_new_field() -> Value {
    let mut doc = repo_spec();
    doc["components"]["schemas"]["TestApiKeyResponse"]["properties"]["organization_id"] =
        json!({"type": ["null", "string"], "description": "The organization the key belongs to."});
    doc
}

#[test]
fn refresh_from_a_loopback_server_replaces_the_spec_and_the_snapshot() {
    let scratch = Scratch::new("refresh-http");
    let upstream = upstream_with_a_new_field();
    // Served compact: the vendored file is written in the canonical (pretty, sorted) form.
    let server = Server::start(200, "application/json", upstream.to_string(), 1);
    let out = xtask(&[
        "spec",
        "refresh",
        "--from",
        &server.url,
        "--spec",
        &scratch.spec(),
    ]);
    assert_eq!(server.finish(), 1);
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let written = std::fs::read_to_string(scratch.file("v2.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), upstream);
    assert_eq!(
        written,
        format!("{}\n", serde_json::to_string_pretty(&upstream).unwrap())
    );
    let surface = std::fs::read_to_string(scratch.file("surface.txt")).unwrap();
    assert!(
        surface.contains("type ApiKeyCheck field organization_id: Option<String> (optional)"),
        "{surface}"
    );
    assert!(
        out.stdout
            .contains("ok        ApiKeyCheck.organization_id: new field"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("replaced"), "{}", out.stderr);
    // Only the two targets (and the overlay, untouched): no temporary files left behind.
    let names: Vec<String> = scratch.snapshot().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["overlay.json", "surface.txt", "v2.json"]);

    // Refreshing again from the same document changes nothing.
    let before = scratch.snapshot();
    let server = Server::start(200, "application/json", upstream.to_string(), 1);
    let out = xtask(&[
        "spec",
        "refresh",
        "--from",
        &server.url,
        "--spec",
        &scratch.spec(),
    ]);
    assert_eq!(server.finish(), 1, "one request reached the server");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("already up to date"), "{}", out.stderr);
    assert_eq!(scratch.snapshot(), before);
}

#[test]
fn refresh_from_a_file() {
    let scratch = Scratch::new("refresh-file");
    let upstream = upstream_with_a_new_field();
    let from = scratch.write("downloaded.json", &upstream.to_string());
    let out = xtask(&[
        "spec",
        "refresh",
        "--from",
        &from,
        "--spec",
        &scratch.spec(),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(scratch.file("v2.json")).unwrap()).unwrap();
    assert_eq!(written, upstream);
    let report: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert_eq!(report["total"], 1);
    assert_eq!(report["changes"][0]["kind"], "field_added");
    assert_eq!(report["changes"][0]["field"], "organization_id");
}

/// Runs a refresh that must fail, and checks that nothing in the directory changed.
fn refresh_must_fail(scratch: &Scratch, from: &str, code: i32, message: &str) {
    let before = scratch.snapshot();
    let out = xtask(&["spec", "refresh", "--from", from, "--spec", &scratch.spec()]);
    assert_eq!(
        out.code, code,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains(message),
        "expected `{message}` in:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("left unchanged"), "{}", out.stderr);
    assert_eq!(
        scratch.snapshot(),
        before,
        "a failed refresh touched the files"
    );
}

#[test]
fn refresh_failures_leave_the_vendored_spec_byte_identical() {
    let scratch = Scratch::new("refresh-failures");

    let server = Server::start(404, "text/html", "<h1>Not Found</h1>".into(), 1);
    refresh_must_fail(&scratch, &server.url.clone(), UNREACHABLE, "HTTP 404");
    assert_eq!(server.finish(), 1, "one request reached the server");

    let server = Server::start(200, "text/html", "<html>docs moved</html>".into(), 1);
    refresh_must_fail(&scratch, &server.url.clone(), 2, "not JSON");
    assert_eq!(server.finish(), 1, "one request reached the server");

    let mut v30 = repo_spec();
    v30["openapi"] = json!("3.0.3");
    let path = scratch.write("v30.json", &v30.to_string());
    refresh_must_fail(
        &scratch,
        &path,
        2,
        "OpenAPI `3.0.3`, expected an OpenAPI 3.1.x",
    );

    let mut tuple = repo_spec();
    tuple["components"]["schemas"]["TestApiKeyResponse"]["properties"]["pair"] =
        json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]});
    let path = scratch.write("prefix-items.json", &tuple.to_string());
    refresh_must_fail(&scratch, &path, 2, "prefixItems");

    refresh_must_fail(&scratch, &closed_port_url(), UNREACHABLE, "cannot fetch");
    let missing = scratch.file("missing.json").display().to_string();
    refresh_must_fail(&scratch, &missing, UNREACHABLE, "cannot read");
}

#[test]
fn check_exit_codes() {
    let scratch = Scratch::new("check");
    let vendored = repo_spec();

    // Same document, other formatting: no drift.
    let server = Server::start(200, "application/json", vendored.to_string(), 1);
    let out = xtask(&[
        "spec",
        "check",
        "--upstream",
        &server.url,
        "--spec",
        &scratch.spec(),
    ]);
    assert_eq!(server.finish(), 1, "one request reached the server");
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains("matches upstream"), "{}", out.stdout);

    // Drift: exit 1 with the report (markdown, as the scheduled workflow asks for it).
    let server = Server::start(
        200,
        "application/json",
        upstream_with_a_new_field().to_string(),
        1,
    );
    let out = xtask(&[
        "spec",
        "check",
        "--upstream",
        &server.url,
        "--spec",
        &scratch.spec(),
        "--format",
        "markdown",
    ]);
    assert_eq!(server.finish(), 1, "one request reached the server");
    assert_eq!(
        out.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.starts_with("# Deck spec drift"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("| `field_added` | `ApiKeyCheck.organization_id` |"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("`/components/schemas/TestApiKeyResponse/properties/organization_id`"),
        "{}",
        out.stdout
    );

    // Drift that only touches documentation still counts, and says where.
    let mut docs_only = repo_spec();
    docs_only["info"]["description"] = json!("A reworded description.");
    let path = scratch.write("docs-only.json", &docs_only.to_string());
    let out = xtask(&[
        "spec",
        "check",
        "--upstream",
        &path,
        "--spec",
        &scratch.spec(),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert_eq!(report["total"], 0);
    assert_eq!(report["drift"], true);
    assert_eq!(report["differing_pointers"], json!(["/info/description"]));

    // Upstream unreachable: its own exit code, a clear message, and no report on stdout.
    let out = xtask(&[
        "spec",
        "check",
        "--upstream",
        &closed_port_url(),
        "--spec",
        &scratch.spec(),
    ]);
    assert_eq!(
        out.code, UNREACHABLE,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains("upstream unreachable"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("not drift"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);

    // Upstream answering with something that is not a spec: not drift either.
    let server = Server::start(200, "text/html", "<html>maintenance</html>".into(), 1);
    let out = xtask(&[
        "spec",
        "check",
        "--upstream",
        &server.url,
        "--spec",
        &scratch.spec(),
    ]);
    assert_eq!(server.finish(), 1, "one request reached the server");
    assert_eq!(out.code, UNREACHABLE, "{}", out.stderr);
    assert!(out.stderr.contains("did not return JSON"), "{}", out.stderr);
}

#[test]
fn check_reports_an_upstream_the_normaliser_rejects_as_drift() {
    let scratch = Scratch::new("check-rejected");
    let mut doc = repo_spec();
    doc["components"]["schemas"]["TestApiKeyResponse"]["properties"]["pair"] =
        json!({"type": "array", "prefixItems": [{"type": "string"}]});
    let path = scratch.write("upstream.json", &doc.to_string());
    let out = xtask(&[
        "spec",
        "check",
        "--upstream",
        &path,
        "--spec",
        &scratch.spec(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.contains("Refresh will fail"), "{}", out.stdout);
    assert!(out.stdout.contains("prefixItems"), "{}", out.stdout);
}

#[test]
fn diff_fails_on_each_verdict_only_when_asked() {
    let scratch = Scratch::new("diff");
    let mut old = repo_spec();
    old["components"]["schemas"]["TestApiKeyResponse"]["properties"]["legacy"] =
        json!({"type": "string"});
    let old_path = scratch.write("old.json", &old.to_string());
    let new_path = scratch.spec();

    // An optional response field removed: source-breaking (the field disappears), but deployed
    // clients decode bodies without it.
    let out = xtask(&["spec", "diff", &old_path, &new_path]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "  ok        BREAKING  ApiKeyCheck.legacy: field `legacy` (Option<String>) removed"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("deployed  source"), "{}", out.stdout);
    let out = xtask(&[
        "spec",
        "diff",
        &old_path,
        &new_path,
        "--fail-on",
        "breaking",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = xtask(&[
        "spec",
        "diff",
        &old_path,
        &new_path,
        "--fail-on",
        "source-breaking",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("--fail-on source-breaking"),
        "{}",
        out.stderr
    );
    let report: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert_eq!(
        (
            report["total"].clone(),
            report["breaking"].clone(),
            report["source_breaking"].clone()
        ),
        (json!(1), json!(0), json!(1))
    );
    assert_eq!(report["changes"][0]["source_breaking"], true);

    // An operation moved: every deployed binary calls a route that is gone; the method keeps
    // its name.
    let mut moved = repo_spec();
    let test = moved["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/test")
        .unwrap();
    moved["paths"]["/auth/test"] = test;
    let moved_path = scratch.write("moved.json", &moved.to_string());
    let out = xtask(&[
        "spec",
        "diff",
        &new_path,
        &moved_path,
        "--fail-on",
        "breaking",
        "--format",
        "markdown",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("| `operation_moved` | `test_api_key` | **breaking** | ok |"),
        "{}",
        out.stdout
    );
    let out = xtask(&[
        "spec",
        "diff",
        &new_path,
        &moved_path,
        "--fail-on",
        "source-breaking",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    // The reverse of the first pair only adds an optional field: nothing breaking either way.
    for verdict in ["breaking", "source-breaking"] {
        let out = xtask(&["spec", "diff", &new_path, &old_path, "--fail-on", verdict]);
        assert_eq!(out.code, 0, "{verdict}: {}", out.stderr);
    }
    let out = xtask(&["spec", "diff", &new_path, &old_path, "--fail-on", "any"]);
    assert_eq!(out.code, 1, "{}", out.stderr);

    // A side that is not a usable spec is an error (2), named.
    let bad = scratch.write("bad.json", "{\"openapi\": \"3.0.3\"}");
    let out = xtask(&["spec", "diff", &bad, &new_path]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("OLD"), "{}", out.stderr);
}

#[test]
fn diff_reports_overlay_actions_that_match_nothing_in_the_new_spec() {
    let scratch = Scratch::new("diff-dangling");
    let mut new = repo_spec();
    // Deck renames the storage item's `purpose`: the overlay action naming its enum dangles.
    let item = &mut new["components"]["schemas"]["TaskRunStorageItem"];
    let purpose = item["properties"]
        .as_object_mut()
        .unwrap()
        .remove("purpose")
        .unwrap();
    item["properties"]["kind"] = purpose;
    for r in item["required"].as_array_mut().unwrap() {
        if r == "purpose" {
            *r = json!("kind");
        }
    }
    let new_path = scratch.write("new.json", &new.to_string());
    // The action naming the purpose enum, found by what it does (indices move as the overlay
    // grows).
    let overlay: Value =
        serde_json::from_str(&std::fs::read_to_string(scratch.file("overlay.json")).unwrap())
            .unwrap();
    let (index, action) = overlay["actions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .find(|(_, a)| a["update"]["x-deck-name"] == "StoragePurpose")
        .expect("an action names the storage purpose");
    let target = action["target"].as_str().unwrap();
    let out = xtask(&[
        "spec",
        "diff",
        &scratch.spec(),
        &new_path,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert_eq!(report["dangling_overlay_actions"][0]["target"], target);
    assert_eq!(report["dangling_overlay_actions"][0]["index"], index);
    for format in ["text", "markdown"] {
        let out = xtask(&[
            "spec",
            "diff",
            &scratch.spec(),
            &new_path,
            "--format",
            format,
        ]);
        assert!(
            out.stdout.contains("not applied to the new spec") && out.stdout.contains(target),
            "{format}: {}",
            out.stdout
        );
    }
    let out = xtask(&["spec", "diff", &new_path, &new_path, "--fail-on", "any"]);
    assert_eq!(
        out.code, 1,
        "a dangling action alone fails `any`: {}",
        out.stdout
    );
    assert!(
        out.stdout.starts_with("No changes to the generated API."),
        "{}",
        out.stdout
    );
}

#[test]
fn check_fails_on_an_overlay_action_that_matches_nothing_upstream() {
    let scratch = Scratch::new("check-dangling");
    let mut overlay: Value =
        serde_json::from_str(&std::fs::read_to_string(scratch.file("overlay.json")).unwrap())
            .unwrap();
    overlay["actions"].as_array_mut().unwrap().push(json!({
        "target": "$.components.schemas.WorkflowRunData",
        "description": "SDK name for a schema Deck withdrew",
        "update": {"x-deck-name": "WorkflowRun"}
    }));
    scratch.write("overlay.json", &overlay.to_string());
    let index = overlay["actions"].as_array().unwrap().len() - 1;

    // Upstream is the vendored spec: no drift, but the overlay does not fit it.
    let upstream = scratch.write("upstream.json", &repo_spec().to_string());
    let out = xtask(&[
        "spec",
        "check",
        "--upstream",
        &upstream,
        "--spec",
        &scratch.spec(),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let report: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert_eq!(report["drift"], false);
    assert_eq!(report["dangling_overlay_actions"][0]["index"], index);
    let out = xtask(&[
        "spec",
        "check",
        "--upstream",
        &upstream,
        "--spec",
        &scratch.spec(),
        "--format",
        "markdown",
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("matches upstream"), "{}", out.stdout);
    assert!(
        out.stdout.contains("$.components.schemas.WorkflowRunData"),
        "{}",
        out.stdout
    );

    // With drift, the drift report lists it too.
    let out = xtask(&[
        "spec",
        "check",
        "--upstream",
        &scratch.write("drifted.json", &upstream_with_a_new_field().to_string()),
        "--spec",
        &scratch.spec(),
        "--format",
        "markdown",
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("differs from upstream"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("### Overlay actions not applied to the new spec"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("| `field_added` | `ApiKeyCheck.organization_id` | ok | ok |"),
        "{}",
        out.stdout
    );
}

#[test]
fn diff_defaults_to_the_committed_spec_against_the_working_file() {
    // Both defaults resolve from the workspace root (git HEAD and the working openapi/v2.json);
    // whatever the working tree holds, the command must run and print a report.
    let out = xtask(&["spec", "diff", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert!(report["total"].is_u64() && report["changes"].is_array());
}

#[test]
fn codegen_check_passes_on_the_repository() {
    let out = xtask(&["codegen", "--check"]);
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stderr.contains("deterministic"), "{}", out.stderr);
}

#[test]
fn codegen_check_shows_a_stale_snapshot_as_a_diff() {
    let scratch = Scratch::new("codegen");
    let out = xtask(&["codegen", "--check", "--spec", &scratch.spec()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.contains("-# an old snapshot"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("+op get_task_run: GET /task-runs/{run_id}"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("codegen --write"), "{}", out.stderr);

    let out = xtask(&["codegen", "--write", "--spec", &scratch.spec()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = xtask(&["codegen", "--check", "--spec", &scratch.spec()]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    // A spec change shows up as a readable one-line diff of the surface.
    let path = scratch.write("v2.json", &upstream_with_a_new_field().to_string());
    let out = xtask(&["codegen", "--check", "--spec", &path]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let changed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        changed,
        ["+type ApiKeyCheck field organization_id: Option<String> (optional)"]
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["spec", "--help"],
        vec!["spec", "refresh", "--help"],
        vec!["spec", "diff", "--help"],
        vec!["spec", "check", "--help"],
        vec!["spec", "assemble", "--help"],
        vec!["codegen", "--help"],
    ] {
        let out = xtask(&args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            out.stdout.contains("Usage: cargo xtask"),
            "{args:?}: {}",
            out.stdout
        );
    }
    let diff_help = xtask(&["spec", "diff", "--help"]).stdout;
    for needle in [
        "Two verdicts per change",
        "source-breaking",
        "enum_value_removed",
        "operation_moved",
        "Exit codes",
        "git:HEAD:openapi/v2.json",
    ] {
        assert!(
            diff_help.contains(needle),
            "`{needle}` missing from:\n{diff_help}"
        );
    }
    let check_help = xtask(&["spec", "check", "--help"]).stdout;
    assert!(
        check_help.contains("3  the spec source could not be reached"),
        "{check_help}"
    );
    // Without a mode, codegen refuses (clap usage error, exit 2).
    assert_eq!(xtask(&["codegen"]).code, 2);
}

/// The corpus spec `name` (see `xtask/src/corpus.rs`).
fn corpus_spec(name: &str) -> String {
    format!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../drift-corpus/{}.json"),
        name
    )
}

#[test]
fn diff_works_on_other_renditions_and_never_prints_a_panic() {
    let vendored = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/v2.json");
    // Deck's endpoints under other names: nothing changes.
    let same = xtask(&[
        "spec",
        "diff",
        vendored,
        &corpus_spec("independent-rendition"),
    ]);
    assert_eq!(same.code, 0, "{}{}", same.stdout, same.stderr);
    assert!(
        same.stdout.contains("No changes to the generated API"),
        "{}",
        same.stdout
    );
    // An older spec against a newer one: verdicts, and the regeneration stop named.
    let older = xtask(&[
        "spec",
        "diff",
        &corpus_spec("older-without-artifacts"),
        &corpus_spec("newer"),
    ]);
    assert_eq!(older.code, 0, "{}{}", older.stdout, older.stderr);
    let removed = xtask(&[
        "spec",
        "diff",
        vendored,
        &corpus_spec("removes-what-src-uses"),
    ]);
    assert!(
        removed
            .stdout
            .contains("Regenerating deck-api from the new spec stops: ")
            && removed.stdout.contains("operation `get_task_run`"),
        "{}",
        removed.stdout
    );
    // A spec the generator cannot use: one line with a JSON pointer, no panic, no backtrace.
    let scratch = Scratch::new("broken");
    let mut broken = repo_spec();
    broken["paths"]["/agents"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
        json!({"$ref": "#/components/schemas/Missing"});
    let path = scratch.dir.join("broken.json");
    std::fs::write(&path, broken.to_string()).unwrap();
    let refused = xtask(&["spec", "diff", vendored, path.to_str().unwrap()]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("/paths/~1agents/get/responses/200"),
        "{}",
        refused.stderr
    );
    for output in [&same, &older, &removed, &refused] {
        for needle in ["panicked", "stack backtrace", "RUST_BACKTRACE"] {
            assert!(
                !output.stderr.contains(needle),
                "{needle} in: {}",
                output.stderr
            );
        }
    }
}
