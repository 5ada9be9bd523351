//! The seed catalog (six task templates on four agents) and the data generated from it: seeded
//! tasks and runs, run inputs, task outputs and the files a finished run stores. Everything draws
//! from one seeded generator, so the same seed gives the same world.

use super::state::{
    Agent, Credential, Run, Session, Source, Status, Task, World, add_screenshots, finish_failure,
    finish_success, mfa_interaction, new_id,
};
use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Statements,
    UtilityBill,
    ClaimStatus,
    PayrollExport,
    AddressChange,
    TaxDocuments,
}

pub(crate) struct Template {
    pub(crate) kind: Kind,
    pub(crate) name: &'static str,
    pub(crate) prompt: &'static str,
    pub(crate) status: &'static str,
    pub(crate) agent: usize,
    pub(crate) mfa: bool,
    /// Relative weight when seeding runs.
    pub(crate) weight: u32,
}

const AGENTS: usize = 4;

/// Per seeded agent: its name and description, and the name and website of its one source.
const PROFILES: [(&str, &str, &str, &str); AGENTS] = [
    (
        "Acme Bank portal",
        "Statements and tax documents from Acme Bank's online banking.",
        "Acme Bank",
        "https://online.acmebank.example",
    ),
    (
        "City Power & Light",
        "Bills from the City Power & Light customer portal.",
        "City Power & Light",
        "https://myaccount.citypower.example",
    ),
    (
        "Northwind Insurance",
        "Claims and policy changes on the Northwind Insurance portal.",
        "Northwind Insurance",
        "https://portal.northwind-insurance.example",
    ),
    (
        "Contoso Payroll",
        "Payroll exports from Contoso Payroll.",
        "Contoso Payroll",
        "https://app.contoso-payroll.example",
    ),
];

/// The user names of each agent's three seeded credentials.
const USERNAMES: [&str; 3] = ["jdoe", "asmith", "mlee"];

pub(crate) const CATALOG: [Template; 6] = [
    Template {
        kind: Kind::Statements,
        name: "Download monthly statements",
        prompt: "Log in to the bank portal, open Statements, and download the PDF statement for \
                 the requested month. Extract the opening and closing balance.",
        status: "live",
        agent: 0,
        mfa: true,
        weight: 10,
    },
    Template {
        kind: Kind::UtilityBill,
        name: "Fetch latest utility bill",
        prompt: "Sign in to the utility account, download the most recent bill and report the \
                 amount due and due date.",
        status: "live",
        agent: 1,
        mfa: false,
        weight: 9,
    },
    Template {
        kind: Kind::ClaimStatus,
        name: "Check insurance claim status",
        prompt: "Look up the claim by number and report its current status and last update.",
        status: "live",
        agent: 2,
        mfa: false,
        weight: 7,
    },
    Template {
        kind: Kind::PayrollExport,
        name: "Export payroll register",
        prompt: "Export the payroll register for the pay period ending on the given date as CSV.",
        status: "test",
        agent: 3,
        mfa: false,
        weight: 4,
    },
    Template {
        kind: Kind::AddressChange,
        name: "Update mailing address",
        prompt: "Change the policy holder's mailing address and capture the confirmation page.",
        status: "live",
        agent: 2,
        mfa: false,
        weight: 3,
    },
    Template {
        kind: Kind::TaxDocuments,
        name: "Pull tax documents",
        prompt: "Download every tax form available for the given tax year.",
        status: "learning",
        agent: 0,
        mfa: true,
        weight: 1,
    },
];

pub(crate) fn input_schema(kind: Kind) -> Value {
    let login = json!({
        "username": {"type": "string", "description": "Portal user name, when no credential is given."},
        "password": {"type": "string", "writeOnly": true, "description": "Tokenized on receipt."}
    });
    let (mut properties, required) = match kind {
        Kind::Statements => (
            json!({
                "account_number": {"type": "string", "description": "Account to download statements for.", "examples": ["000123456789"]},
                "statement_month": {"type": "string", "pattern": "^\\d{4}-\\d{2}$", "examples": ["2026-10"]}
            }),
            json!(["account_number", "statement_month"]),
        ),
        Kind::UtilityBill => (
            json!({"account_number": {"type": "string", "examples": ["7730019921"]}}),
            json!(["account_number"]),
        ),
        Kind::ClaimStatus => (
            json!({"claim_number": {"type": "string", "pattern": "^CLM-\\d{7}$", "examples": ["CLM-0042137"]}}),
            json!(["claim_number"]),
        ),
        Kind::PayrollExport => (
            json!({"pay_period_end": {"type": "string", "format": "date", "examples": ["2026-10-31"]}}),
            json!(["pay_period_end"]),
        ),
        Kind::AddressChange => (
            json!({
                "street": {"type": "string", "examples": ["1 Market St"]},
                "city": {"type": "string", "examples": ["San Francisco"]},
                "postal_code": {"type": "string", "examples": ["94105"]},
                "country": {"type": "string", "default": "US"}
            }),
            json!(["street", "city", "postal_code"]),
        ),
        Kind::TaxDocuments => (
            json!({"tax_year": {"type": "integer", "minimum": 2000, "examples": [2025]}}),
            json!(["tax_year"]),
        ),
    };
    if matches!(
        kind,
        Kind::Statements | Kind::UtilityBill | Kind::TaxDocuments
    ) && let (Some(props), Value::Object(login)) = (properties.as_object_mut(), login)
    {
        props.extend(login);
    }
    json!({"type": "object", "properties": properties, "required": required})
}

pub(crate) fn output_schema(kind: Kind) -> Value {
    let properties = match kind {
        Kind::Statements => json!({
            "period": {"type": "string"}, "opening_balance": {"type": "number"},
            "closing_balance": {"type": "number"}, "currency": {"type": "string"},
            "statements_downloaded": {"type": "integer"}
        }),
        Kind::UtilityBill => json!({
            "account_number": {"type": "string"}, "amount_due": {"type": "number"},
            "currency": {"type": "string"}, "due_date": {"type": "string", "format": "date"},
            "kwh_used": {"type": "integer"}
        }),
        Kind::ClaimStatus => json!({
            "claim_number": {"type": "string"},
            "status": {"type": "string", "enum": ["in_review", "approved", "payment_sent", "more_info_needed"]},
            "last_updated": {"type": "string", "format": "date"}, "adjuster": {"type": "string"}
        }),
        Kind::PayrollExport => json!({
            "pay_period_end": {"type": "string", "format": "date"}, "employees": {"type": "integer"},
            "total_gross": {"type": "number"}, "currency": {"type": "string"}
        }),
        Kind::AddressChange => json!({
            "confirmation_number": {"type": "string"}, "effective_date": {"type": "string", "format": "date"}
        }),
        Kind::TaxDocuments => json!({
            "tax_year": {"type": "integer"}, "documents": {"type": "integer"}
        }),
    };
    json!({"type": "object", "properties": properties})
}

pub(crate) fn storage_config(kind: Kind) -> Value {
    match kind {
        Kind::Statements | Kind::UtilityBill | Kind::TaxDocuments => json!({
            "enabled": true, "file_types": ["application/pdf"], "extraction": {"enabled": true}
        }),
        Kind::PayrollExport => json!({
            "enabled": true, "file_types": ["text/csv"], "extraction": {"enabled": false}
        }),
        Kind::AddressChange => json!({
            "enabled": true, "file_types": ["image/png"], "extraction": {"enabled": false}
        }),
        Kind::ClaimStatus => Value::Null,
    }
}

pub(crate) const FAILURES: [(&str, &str, &str); 4] = [
    (
        "source",
        "login_failed",
        "The website rejected the username or password.",
    ),
    (
        "source",
        "site_unavailable",
        "The website answered HTTP 503 on 3 consecutive attempts.",
    ),
    (
        "task",
        "timeout",
        "The run exceeded the task's 30-minute time limit.",
    ),
    (
        "auth",
        "mfa_timeout",
        "No verification code was submitted before the interaction expired.",
    ),
];

pub(crate) const REASONING: [&str; 4] = [
    "Opened the sign-in page and filled in the user name.",
    "Navigated to the documents section from the account overview.",
    "The requested item is listed; opening it to capture the file.",
    "Confirmation page is shown; capturing it before finishing.",
];

const CLAIM_STATUSES: [&str; 4] = ["in_review", "approved", "payment_sent", "more_info_needed"];
const ADJUSTERS: [&str; 3] = ["J. Ortega", "M. Chen", "A. Novak"];

const STREETS: [&str; 4] = [
    "1 Market St",
    "742 Evergreen Terrace",
    "55 Water St",
    "12 Harbor Way",
];
const CITIES: [(&str, &str); 4] = [
    ("San Francisco", "94105"),
    ("Springfield", "62704"),
    ("New York", "10041"),
    ("Seattle", "98101"),
];

/// Ids drawn for seeding runs that are not resources of their own (workflows), or not yet.
struct SeedIds {
    credentials: Vec<Vec<String>>,
    sources: Vec<String>,
    workflows: Vec<String>,
}

impl World {
    pub(crate) fn seed(
        seed: u64,
        n_tasks: usize,
        n_runs: usize,
        start: DateTime<Utc>,
        step: TimeDelta,
    ) -> World {
        let mut rng = fastrand::Rng::with_seed(seed);
        let agents: Vec<String> = (0..AGENTS).map(|_| new_id(&mut rng, "agt")).collect();
        let credentials: Vec<Vec<String>> = (0..AGENTS)
            .map(|_| (0..3).map(|_| new_id(&mut rng, "cred")).collect())
            .collect();
        let sources: Vec<String> = (0..AGENTS).map(|_| new_id(&mut rng, "src")).collect();
        let workflows: Vec<String> = (0..3).map(|_| new_id(&mut rng, "wf")).collect();

        let mut world = World {
            now: start,
            step,
            rng: fastrand::Rng::with_seed(0), // replaced once the seed data is drawn
            tasks: Vec::with_capacity(n_tasks),
            task_index: HashMap::new(),
            task_order: Vec::new(),
            runs: Vec::with_capacity(n_runs),
            run_index: HashMap::with_capacity(n_runs),
            storage_index: HashMap::new(),
            agents: Default::default(),
            sources: Default::default(),
            credentials: Default::default(),
            sessions: Default::default(),
            destinations: Default::default(),
            events: Default::default(),
            deliveries: Default::default(),
            outbox: None,
            event_rng: fastrand::Rng::with_seed(seed ^ 0x0e7e_0e7e),
            idempotency: HashMap::new(),
            timing: Default::default(),
        };
        // Agents, their sources and credentials take no draws: names and times are fixed, so the
        // tasks and runs are what they were before these resources existed.
        for (a, (name, description, source_name, url)) in PROFILES.iter().enumerate() {
            let created_at = start - TimeDelta::days(365 - 30 * a as i64);
            world.agents.insert(Agent {
                id: agents[a].clone(),
                name: name.to_string(),
                description: Some(description.to_string()),
                created_at,
                updated_at: created_at,
            });
            let source_at = created_at + TimeDelta::hours(1);
            world.sources.insert(Source {
                id: sources[a].clone(),
                name: Some(source_name.to_string()),
                kind: "website".to_string(),
                url: Some(url.to_string()),
                created_at: source_at,
                updated_at: source_at,
            });
            for (k, id) in credentials[a].iter().enumerate() {
                let at = created_at + TimeDelta::days(1) + TimeDelta::hours(k as i64);
                world.credentials.insert(Credential {
                    id: id.clone(),
                    source_id: sources[a].clone(),
                    // Seeded runs have logged in with all of them.
                    status: "verified",
                    auth_method: "username_password",
                    summary: json!({"username": USERNAMES[k]}),
                    external_id: Some(format!("user_{}", 3 * a + k + 1)),
                    created_at: at,
                    updated_at: at,
                });
            }
        }
        let seeded = SeedIds {
            credentials,
            sources,
            workflows,
        };

        // Tasks: the first of the catalog is the newest.
        for i in 0..n_tasks {
            let t = &CATALOG[i % CATALOG.len()];
            let name = match i / CATALOG.len() {
                0 => t.name.to_string(),
                n => format!("{} ({})", t.name, n + 1),
            };
            let created_at = start
                - TimeDelta::days(40 + 9 * i as i64)
                - TimeDelta::minutes(rng.i64(0..24 * 60));
            let updated_at = created_at + TimeDelta::days(rng.i64(1..30));
            let task = Task {
                id: new_id(&mut rng, "task"),
                name,
                status: t.status,
                agent_id: agents[t.agent].clone(),
                prompt: Some(t.prompt.to_string()),
                input_schema: input_schema(t.kind),
                output_schema: output_schema(t.kind),
                storage: storage_config(t.kind),
                kind: Some(t.kind),
                mfa: t.mfa,
                created_at,
                updated_at,
            };
            world.task_index.insert(task.id.clone(), world.tasks.len());
            world.tasks.push(task);
        }
        let mut order: Vec<usize> = (0..world.tasks.len()).collect();
        order.sort_by(|&a, &b| world.tasks[b].created_at.cmp(&world.tasks[a].created_at));
        world.task_order = order;

        if world.tasks.is_empty() {
            world.rng = fastrand::Rng::with_seed(rng.u64(..));
            return world;
        }

        // Runs: spread over the 30 days before `start`, the newest few still active.
        // Offsets before `start` in milliseconds, oldest first and all distinct.
        let thirty_days_ms = 30 * 24 * 3600 * 1000;
        let mut offsets: Vec<i64> = (0..n_runs)
            .map(|_| rng.i64(15 * 60 * 1000..thirty_days_ms))
            .collect();
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        for k in 1..offsets.len() {
            if offsets[k] >= offsets[k - 1] {
                offsets[k] = offsets[k - 1] - 1;
            }
        }
        let active = if n_runs == 0 {
            0
        } else {
            (n_runs / 100).clamp(3, 10).min(n_runs)
        };
        let weights: Vec<u32> = (0..world.tasks.len())
            .map(|i| CATALOG[i % CATALOG.len()].weight)
            .collect();
        let total_weight: u32 = weights.iter().sum();
        for (j, offset) in offsets.into_iter().enumerate() {
            let mut roll = rng.u32(0..total_weight.max(1));
            let task = weights
                .iter()
                .position(|&w| {
                    if roll < w {
                        true
                    } else {
                        roll -= w;
                        false
                    }
                })
                .unwrap_or(0);
            let newest = n_runs - j; // 1 for the newest run
            let (created_at, status) = if newest <= active {
                let created = start - TimeDelta::seconds(40 * newest as i64 + rng.i64(0..30));
                let status = match newest % 3 {
                    1 => Status::Running,
                    2 if world.tasks[task].mfa => Status::InteractionRequired,
                    2 => Status::Running,
                    _ => Status::Queued,
                };
                (created, status)
            } else {
                let status = match rng.u32(0..100) {
                    0..=80 => Status::Completed,
                    81..=89 => Status::Failed,
                    90..=96 => Status::Canceled,
                    _ => Status::ReviewRequired,
                };
                (start - TimeDelta::milliseconds(offset), status)
            };
            let run = world.seed_run(&mut rng, &seeded, task, created_at, status);
            world.insert_run(run);
        }
        // The seeded runs name their sessions; each started with its run.
        for run in &world.runs {
            if let Some(id) = &run.session_id {
                world.sessions.insert(Session {
                    id: id.clone(),
                    created_at: run.created_at,
                    ended_at: None,
                });
            }
        }
        // Runs created through the API draw from a generator of their own, so their ids depend
        // only on the seed and the order of writes.
        world.rng = fastrand::Rng::with_seed(rng.u64(..));
        world
    }

    fn seed_run(
        &mut self,
        rng: &mut fastrand::Rng,
        seeded: &SeedIds,
        task: usize,
        created_at: DateTime<Utc>,
        status: Status,
    ) -> Run {
        // Seeded task `i` was made from `CATALOG[i % CATALOG.len()]`.
        let template = &CATALOG[task % CATALOG.len()];
        let agent = template.agent;
        let (credential_id, source_id) = match rng.u32(0..10) {
            0..=6 => (
                Some(rng_pick(rng, &seeded.credentials[agent]).clone()),
                None,
            ),
            7 | 8 => (None, Some(seeded.sources[agent].clone())),
            _ => (None, None),
        };
        let mut input = sample_input(template.kind, rng, created_at);
        let mut tokenized = Vec::new();
        if credential_id.is_none()
            && matches!(
                template.kind,
                Kind::Statements | Kind::UtilityBill | Kind::TaxDocuments
            )
        {
            input["username"] = json!(format!("jdoe{}", rng.u32(10..99)));
            tokenized.push("password".to_string());
        }
        let mut run = Run {
            id: new_id(rng, "trun"),
            task,
            agent_id: self.tasks[task].agent_id.clone(),
            status: Status::Queued,
            result: None,
            credential_id,
            session_id: (rng.u32(0..100) < 15).then(|| new_id(rng, "sess")),
            source_id,
            workflow_id: (rng.u32(0..100) < 20).then(|| rng_pick(rng, &seeded.workflows).clone()),
            runtime_ms: None,
            input,
            tokenized,
            output: Value::Null,
            errors: None,
            interaction: None,
            created_at,
            updated_at: created_at,
            started_at: None,
            storage: Vec::new(),
            screenshots: Vec::new(),
            needs_mfa: template.mfa,
            mfa_answered: false,
            mfa_rejected: false,
            fail: false,
        };
        let started = created_at + TimeDelta::seconds(rng.i64(1..20));
        let ran = TimeDelta::milliseconds(rng.i64(8_000..240_000));
        match status {
            Status::Queued => {}
            Status::Running => {
                run.status = Status::Running;
                run.started_at = Some(started);
                run.updated_at = started;
                run.mfa_answered = rng.bool();
            }
            Status::InteractionRequired => {
                run.status = Status::InteractionRequired;
                run.started_at = Some(started);
                run.updated_at = started + TimeDelta::seconds(12);
                run.interaction = Some(mfa_interaction(run.updated_at));
                add_screenshots(&mut run, rng, 1, started);
            }
            Status::ReviewRequired => {
                run.status = Status::ReviewRequired;
                run.started_at = Some(started);
                run.updated_at = started + ran;
                run.mfa_answered = true;
                add_screenshots(&mut run, rng, 3, started);
                run.output = task_output(template.kind, &run.input, rng, run.updated_at);
            }
            Status::Completed => {
                run.started_at = Some(started);
                run.mfa_answered = true;
                let result = match rng.u32(0..100) {
                    0..=87 => "success",
                    88..=95 => "failure",
                    _ => "unknown",
                };
                finish_success(&mut run, &self.tasks[task], rng, started + ran, result);
            }
            Status::Failed => {
                run.started_at = Some(started);
                let (kind, code, message) = FAILURES[rng.usize(0..FAILURES.len())];
                finish_failure(&mut run, rng, started + ran, kind, code, message);
            }
            Status::Canceled | Status::Canceling => {
                run.status = Status::Canceled;
                if rng.bool() {
                    run.started_at = Some(started);
                    run.runtime_ms = Some(rng.i64(1_000..30_000));
                    add_screenshots(&mut run, rng, 1, started);
                }
                run.updated_at = started + TimeDelta::seconds(rng.i64(5..60));
            }
        }
        run
    }
}

fn sample_input(kind: Kind, rng: &mut fastrand::Rng, at: DateTime<Utc>) -> Value {
    match kind {
        Kind::Statements => {
            let prev = at - TimeDelta::days(i64::from(at.day()) + 1);
            json!({
                "account_number": digits(rng, 12),
                "statement_month": format!("{:04}-{:02}", prev.year(), prev.month()),
            })
        }
        Kind::UtilityBill => json!({"account_number": digits(rng, 10)}),
        Kind::ClaimStatus => json!({"claim_number": format!("CLM-{}", digits(rng, 7))}),
        Kind::PayrollExport => {
            let end = at - TimeDelta::days(i64::from(at.day()));
            json!({"pay_period_end": end.format("%Y-%m-%d").to_string()})
        }
        Kind::AddressChange => {
            let (city, zip) = CITIES[rng.usize(0..CITIES.len())];
            json!({
                "street": STREETS[rng.usize(0..STREETS.len())],
                "city": city, "postal_code": zip, "country": "US",
            })
        }
        Kind::TaxDocuments => json!({"tax_year": at.year() - 1}),
    }
}

pub(crate) fn task_output(
    kind: Kind,
    input: &Value,
    rng: &mut fastrand::Rng,
    at: DateTime<Utc>,
) -> Value {
    let text = |key: &str, fallback: String| {
        input
            .get(key)
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or(fallback)
    };
    match kind {
        Kind::Statements => {
            let opening = money(rng, 50_000, 900_000);
            json!({
                "period": text("statement_month", format!("{:04}-{:02}", at.year(), at.month())),
                "opening_balance": opening,
                "closing_balance": money(rng, 50_000, 900_000),
                "currency": "USD",
                "statements_downloaded": 1,
            })
        }
        Kind::UtilityBill => json!({
            "account_number": text("account_number", digits(rng, 10)),
            "amount_due": money(rng, 4_000, 40_000),
            "currency": "USD",
            "due_date": (at + TimeDelta::days(14)).format("%Y-%m-%d").to_string(),
            "kwh_used": rng.u32(150..1_400),
        }),
        Kind::ClaimStatus => json!({
            "claim_number": text("claim_number", format!("CLM-{}", digits(rng, 7))),
            "status": CLAIM_STATUSES[rng.usize(0..CLAIM_STATUSES.len())],
            "last_updated": (at - TimeDelta::days(rng.i64(0..10))).format("%Y-%m-%d").to_string(),
            "adjuster": ADJUSTERS[rng.usize(0..ADJUSTERS.len())],
        }),
        Kind::PayrollExport => json!({
            "pay_period_end": text("pay_period_end", at.format("%Y-%m-%d").to_string()),
            "employees": rng.u32(8..240),
            "total_gross": money(rng, 5_000_000, 90_000_000),
            "currency": "USD",
        }),
        Kind::AddressChange => json!({
            "confirmation_number": format!("CHG-{}", digits(rng, 6)),
            "effective_date": (at + TimeDelta::days(1)).format("%Y-%m-%d").to_string(),
        }),
        Kind::TaxDocuments => json!({
            "tax_year": input.get("tax_year").and_then(Value::as_i64).unwrap_or(i64::from(at.year()) - 1),
            "documents": 2,
        }),
    }
}

pub(crate) fn task_files(
    kind: Kind,
    output: &Value,
    rng: &mut fastrand::Rng,
) -> Vec<(String, &'static str, Value)> {
    let s = |key: &str| output.get(key).cloned().unwrap_or(Value::Null);
    match kind {
        Kind::Statements => vec![(
            format!(
                "statement-{}.pdf",
                output["period"].as_str().unwrap_or("latest")
            ),
            "application/pdf",
            json!({
                "period": s("period"), "opening_balance": s("opening_balance"),
                "closing_balance": s("closing_balance"), "currency": "USD",
                "transactions": rng.u32(4..120),
            }),
        )],
        Kind::UtilityBill => vec![(
            format!(
                "bill-{}.pdf",
                output["due_date"].as_str().unwrap_or("latest")
            ),
            "application/pdf",
            json!({"amount_due": s("amount_due"), "due_date": s("due_date"), "kwh_used": s("kwh_used")}),
        )],
        Kind::PayrollExport => vec![(
            format!(
                "payroll-register-{}.csv",
                output["pay_period_end"].as_str().unwrap_or("latest")
            ),
            "text/csv",
            Value::Null,
        )],
        Kind::AddressChange => vec![(
            "address-change-confirmation.png".to_string(),
            "image/png",
            Value::Null,
        )],
        Kind::TaxDocuments => {
            let year = output["tax_year"].as_i64().unwrap_or(2025);
            vec![
                (
                    format!("1099-INT-{year}.pdf"),
                    "application/pdf",
                    json!({"form": "1099-INT", "tax_year": year, "interest_income": money(rng, 100, 250_000)}),
                ),
                (
                    format!("1098-{year}.pdf"),
                    "application/pdf",
                    json!({"form": "1098", "tax_year": year, "mortgage_interest": money(rng, 100_000, 2_500_000)}),
                ),
            ]
        }
        Kind::ClaimStatus => Vec::new(),
    }
}

/// Output for a task made through the API (MockDeck's invention: Deck's agent reads the page):
/// a placeholder of each `output_schema` property's type, following nested objects, arrays'
/// `items` (one element), `enum` (the first value), `["T", "null"]` types (`T`) and local `$ref`s.
pub(crate) fn placeholder_output(schema: &Value) -> Value {
    match placeholder(schema, schema, 0) {
        Value::Object(output) => Value::Object(output),
        _ => json!({}),
    }
}

fn placeholder(root: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(target) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| root.pointer(pointer))
    {
        return placeholder(root, target, depth + 1);
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    if let Some(first) = ["anyOf", "oneOf", "allOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(|v| v.get(0)))
    {
        return placeholder(root, first, depth + 1);
    }
    let ty = match schema.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        Some(t) => t.as_str(),
        None => None,
    };
    match ty {
        Some("string") => json!(""),
        Some("number" | "integer") => json!(0),
        Some("boolean") => json!(false),
        Some("array") => match schema.get("items") {
            Some(items) => json!([placeholder(root, items, depth + 1)]),
            None => json!([]),
        },
        Some("object") | None if schema.get("properties").is_some() => {
            let properties = schema["properties"].as_object().into_iter().flatten();
            Value::Object(
                properties
                    .map(|(name, p)| (name.clone(), placeholder(root, p, depth + 1)))
                    .collect(),
            )
        }
        Some("object") => json!({}),
        _ => Value::Null,
    }
}

fn rng_pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(0..items.len())]
}

fn digits(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.u8(0..10))).collect()
}

fn money(rng: &mut fastrand::Rng, min_cents: u64, max_cents: u64) -> f64 {
    rng.u64(min_cents..max_cents) as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_nesting_nullable_types_enums_and_refs() {
        let schema = json!({
            "type": "object",
            "properties": {
                "total": {"type": ["number", "null"]},
                "currency": {"type": "string", "enum": ["USD", "EUR"]},
                "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}},
                "meta": {"type": "object", "properties": {"pages": {"type": "integer"}}}
            },
            "$defs": {"Line": {"type": "object", "properties": {"label": {"type": "string"}}}}
        });
        assert_eq!(
            placeholder_output(&schema),
            json!({"total": 0, "currency": "USD", "lines": [{"label": ""}], "meta": {"pages": 0}})
        );
        assert_eq!(placeholder_output(&json!({"type": "string"})), json!({}));
    }

    #[test]
    fn seeding_is_deterministic() {
        let start = Utc::now();
        let a = World::seed(7, 6, 50, start, TimeDelta::seconds(3));
        let b = World::seed(7, 6, 50, start, TimeDelta::seconds(3));
        let ids = |w: &World| w.runs.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert!(
            a.runs
                .windows(2)
                .all(|w| w[0].created_at <= w[1].created_at)
        );
    }
}
