//! Quickstart: run a Deck task, wait for it (answering an MFA prompt), list recent runs, and
//! fetch one run with its input and storage.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Without `DECK_API_KEY` it runs against `MockDeck`, an offline Deck inside this process. With
//! `DECK_API_KEY` set it calls the real API (and really runs a task), configured by:
//!
//! - `DECK_TASK_ID`: the task to run (default: the first task `GET /tasks` returns);
//! - `DECK_TASK_INPUT`: its input as JSON (default: built from the task's `input_schema`
//!   examples and defaults);
//! - `DECK_MFA_CODE`: the answer to a verification-code prompt (default: asked on stdin);
//! - `DECK_BASE_URL`: another API root.

use chrono::{DateTime, TimeDelta, Utc};
use deck::ext::{Include, Section};
use deck::mock::MockDeck;
use deck::types::{
    Interaction, RunStatus, RunTaskRequest, SubmitInteractionRequest, Task, TaskRun,
};
use futures::TryStreamExt;
use serde_json::{Map, Value};
use std::error::Error;
use std::fmt;
use std::time::Duration;

/// `println!` that ignores a closed stdout (e.g. `| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Errors are shown with their Display form (message and Deck's request_id), not Debug.
    run()
        .await
        .map_err(|e| Box::new(Failed(e.to_string())) as Box<dyn Error>)
}

/// Where the client points.
enum Target {
    /// Kept alive for the whole run: dropping it stops the server.
    Mock {
        _server: MockDeck,
    },
    Live,
}

impl Target {
    fn is_mock(&self) -> bool {
        matches!(self, Target::Mock { .. })
    }
}

/// Returns `deck::Error` (not `Box<dyn Error>`) so that `?` on a `send()` converts progenitor's
/// error into `deck::Error`, whose message carries Deck's `request_id`.
async fn run() -> Result<(), deck::Error> {
    let key_set = std::env::var("DECK_API_KEY").is_ok_and(|k| !k.trim().is_empty());
    let (client, target) = if key_set {
        let client = deck::Client::from_env()?;
        say!("Using Deck at {} (DECK_API_KEY is set).", client.base_url());
        (client, Target::Live)
    } else {
        let mock = MockDeck::start().await;
        say!(
            "DECK_API_KEY is not set: using MockDeck, an offline Deck at {} (set the key to call the real API).",
            mock.base_url()
        );
        (mock.client(), Target::Mock { _server: mock })
    };

    let key = client.test_api_key().send().await?;
    say!(
        "API key: {} (environment: {})",
        key.status,
        key.environment.as_deref().unwrap_or("unknown")
    );

    // 1. Pick a task and run it.
    let task = pick_task(&client).await?;
    say!("\nTask:  {} ({}, {})", task.name, task.id, task.status);
    let input = task_input(&task)?;
    say!("Input: {input}");
    let created = client
        .run_task()
        .task_id(task.id.as_str())
        .body(RunTaskRequest::builder().input(input))
        .send()
        .await?;
    say!("Run:   {} is {}", created.id, created.status);

    // 2. Wait for it, answering interactions.
    let run = wait(&client, &target, &created.id).await?;
    print_outcome(&run);

    // 3. Recent runs of this task, paged, as a table.
    let since = Utc::now() - TimeDelta::days(7);
    let mut pages = client
        .list_task_runs()
        .task_id(task.id.as_str())
        .created_after(since)
        .into_paginator()
        .page_size(5)
        .max_items(10)
        .pages();
    let mut recent = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.try_next().await? {
        page_count += 1;
        recent.extend(page.items);
    }
    say!(
        "\nRecent runs of this task (last 7 days, {} in {} page{}):",
        recent.len(),
        page_count,
        plural(page_count)
    );
    print_table(&recent);

    // 4. One run with include flags.
    let full = client
        .get_task_run()
        .run_id(created.id.as_str())
        .include(Include::INPUT | Include::STORAGE)
        .send()
        .await?;
    print_sections(&full);
    Ok(())
}

async fn pick_task(client: &deck::Client) -> Result<Task, deck::Error> {
    if let Some(id) = std::env::var("DECK_TASK_ID")
        .ok()
        .filter(|id| !id.is_empty())
    {
        return Ok(client.get_task().task_id(id).send().await?.into_inner());
    }
    let first = client.list_tasks().max_items(1).collect_all().await?;
    first
        .into_iter()
        .next()
        .ok_or_else(|| other("this account has no tasks: create one in Deck, or set DECK_TASK_ID"))
}

/// `DECK_TASK_INPUT`, else the required fields of the task's `input_schema`, filled from the
/// schema's `examples` or `default`.
fn task_input(task: &Task) -> Result<Value, deck::Error> {
    if let Ok(raw) = std::env::var("DECK_TASK_INPUT") {
        return serde_json::from_str(&raw)
            .map_err(|e| other(format!("DECK_TASK_INPUT is not valid JSON: {e}")));
    }
    let mut input = Map::new();
    let schema = task.input_schema.as_ref().unwrap_or(&Value::Null);
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    for name in required.iter().filter_map(Value::as_str) {
        let property = &schema["properties"][name];
        let value = property["examples"]
            .get(0)
            .or_else(|| property.get("default"))
            .cloned()
            .unwrap_or_else(|| match property["type"].as_str() {
                Some("integer") | Some("number") => Value::from(1),
                Some("boolean") => Value::Bool(false),
                _ => Value::from("example"),
            });
        input.insert(name.to_string(), value);
    }
    Ok(Value::Object(input))
}

async fn wait(
    client: &deck::Client,
    target: &Target,
    run_id: &str,
) -> Result<TaskRun, deck::Error> {
    let (first, longest, limit) = if target.is_mock() {
        (
            Duration::from_millis(200),
            Duration::from_secs(1),
            Duration::from_secs(30),
        )
    } else {
        (
            Duration::from_secs(2),
            Duration::from_secs(10),
            Duration::from_secs(15 * 60),
        )
    };
    for _ in 0..5 {
        say!("       waiting...");
        let run = client
            .wait_for_task_run(run_id)
            .initial_interval(first)
            .max_interval(longest)
            .timeout(limit)
            .await?;
        match run.status {
            RunStatus::InteractionRequired => {
                let interaction = run.interaction.clone().unwrap_or_default();
                say!(
                    "       interaction required: {}",
                    interaction
                        .message
                        .as_deref()
                        .unwrap_or("the agent needs input")
                );
                let answers = answer(&interaction, target).await?;
                client
                    .submit_task_run_interaction()
                    .run_id(run_id)
                    .body(SubmitInteractionRequest::builder().input(Value::Object(answers)))
                    .send()
                    .await?;
                say!("       answered; the run resumes");
            }
            RunStatus::ReviewRequired => {
                say!("       the run awaits review in the Deck dashboard; not waiting for it");
                return Ok(run);
            }
            _ => return Ok(run),
        }
    }
    Err(other("the run asked for input five times; giving up"))
}

/// Answers each field of an interaction: `code` from `DECK_MFA_CODE`; otherwise stdin, or a
/// fixed value against the mock.
async fn answer(
    interaction: &Interaction,
    target: &Target,
) -> Result<Map<String, Value>, deck::Error> {
    let mut answers = Map::new();
    for field in interaction.fields.iter().flatten() {
        let Some(name) = field.name.as_deref() else {
            continue;
        };
        let label = field.label.as_deref().unwrap_or(name);
        let from_env = (name == "code")
            .then(|| std::env::var("DECK_MFA_CODE").ok())
            .flatten()
            .filter(|c| !c.is_empty());
        let value = match (from_env, target) {
            (Some(code), _) => code,
            (None, Target::Mock { .. }) => "123456".to_string(),
            (None, Target::Live) => {
                // Typed by the user: not echoed again.
                answers.insert(name.to_string(), Value::from(prompt(label).await?));
                continue;
            }
        };
        say!(
            "       {label}: {}",
            "*".repeat(value.chars().count().min(8))
        );
        answers.insert(name.to_string(), Value::from(value));
    }
    Ok(answers)
}

async fn prompt(label: &str) -> Result<String, deck::Error> {
    use std::io::{IsTerminal, Write};
    let mut stdout = std::io::stdout();
    let _ = write!(stdout, "       {label}: ");
    let _ = stdout.flush();
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await;
    if !std::io::stdin().is_terminal() {
        say!("(read from stdin)");
    }
    match read {
        Ok(Ok(line)) if !line.trim().is_empty() => Ok(line.trim().to_string()),
        _ => Err(other(format!("no value given for `{label}`"))),
    }
}

/// A failure of this program (not of Deck), carried in `deck::Error`.
fn other(message: impl Into<String>) -> deck::Error {
    deck::Error::InvalidRequest(message.into())
}

fn print_outcome(run: &TaskRun) {
    let runtime = run
        .runtime_ms
        .map(|ms| format!(" in {:.1} s", f64::from(ms) / 1000.0))
        .unwrap_or_default();
    say!(
        "\nRun {} {}{runtime}, result: {}",
        run.id,
        run.status,
        run.result
            .as_ref()
            .map_or("none".into(), ToString::to_string)
    );
    for error in run.errors.iter().flatten() {
        say!("  error {}/{}: {}", error.type_, error.code, error.message);
    }
    if let Some(output) = &run.output {
        say!("Output:");
        let pretty = serde_json::to_string_pretty(output).unwrap_or_else(|_| output.to_string());
        for line in pretty.lines() {
            say!("  {line}");
        }
    }
}

fn print_table(runs: &[deck::types::TaskRunSummary]) {
    if runs.is_empty() {
        say!("  (none)");
        return;
    }
    let rows: Vec<[String; 4]> = runs
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                r.status.to_string(),
                r.result.as_ref().map_or("-".into(), ToString::to_string),
                when(r.created_at),
            ]
        })
        .collect();
    let header = ["ID", "STATUS", "RESULT", "CREATED (UTC)"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        say!("  {}", padded.join("  ").trim_end());
    };
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3]]);
    }
}

fn print_sections(run: &TaskRun) {
    say!("\nRun {} with include=input,storage:", run.id);
    match &run.input {
        Some(input) => say!("  input:     {input}"),
        None => say!("  input:     (none)"),
    }
    if let Some(tokenized) = run.tokenized.as_ref().filter(|t| !t.is_empty()) {
        say!("  tokenized: {}", tokenized.join(", "));
    }
    match run.storage_section() {
        Section::Returned(files) => {
            say!("  storage:   {} file{}", files.len(), plural(files.len()));
            let name_width = files.iter().map(|f| f.file_name.len()).max().unwrap_or(0);
            for file in files {
                let extraction = match &file.extraction {
                    Some(value) if !value.is_null() => format!("  extraction: {value}"),
                    _ => String::new(),
                };
                say!(
                    "    {:<name_width$}  {:<16}  {:>9}{extraction}",
                    file.file_name,
                    file.file_type,
                    size(file.file_size)
                );
            }
        }
        // `Section` is `#[non_exhaustive]`: any other case reads as "not returned".
        _ => say!("  storage:   (not returned)"),
    }
    if run.screenshots_section() == Section::NotRequested {
        say!("  artifacts: not requested (add Include::ARTIFACTS for screenshots)");
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / (1 << 10) as f64),
        b => format!("{b} B"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// An error shown as its message by `main`'s `Result` (which prints `Debug`).
struct Failed(String);

impl fmt::Debug for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Failed {}
