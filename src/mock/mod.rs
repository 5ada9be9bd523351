//! `MockDeck`: a stateful, in-process Deck on loopback, for tests and offline examples.
//!
//! [`MockDeck::start`] binds `127.0.0.1` on a free port, serves Deck's REST API v2 from a
//! spawned Tokio task and hands out [`Client`]s already pointed at it. The server stops when the
//! `MockDeck` is dropped (or on [`MockDeck::shutdown`]).
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), deck::Error> {
//! use deck::mock::MockDeck;
//! use deck::types::RunStatus;
//!
//! let mock = MockDeck::start().await; // 6 tasks and 150 task runs, seeded
//! let client = mock.client();
//!
//! let page = client.list_task_runs().limit(5).send().await?.into_inner();
//! assert_eq!(page.data.len(), 5);
//! assert_eq!(page.has_more, Some(true));
//!
//! let completed = client
//!     .list_task_runs()
//!     .status([RunStatus::Completed])
//!     .collect_all()
//!     .await?;
//! assert!(completed.iter().all(|run| run.status == RunStatus::Completed));
//! # Ok(()) }
//! ```
//!
//! # What it serves
//!
//! Every operation Deck documents, with Deck's behaviour. Those of `openapi/v2.json` have client
//! methods; the others (marked †) follow the transcribed spec and are reached over plain HTTP
//! until the client has them.
//!
//! | Operation | Route | Notes |
//! |---|---|---|
//! | `listTaskRuns` | `GET /task-runs` | newest first; filters `status`, `outcome`, `source_id` (repeatable), `task_id`, `agent_id`, `credential_id`, `workflow_id`, `created_after`/`created_before` (RFC 3339, exclusive), `search` (task name, task id or run id) |
//! | `getTaskRun` | `GET /task-runs/{run_id}` | `include=input,storage,artifacts` (comma-separated, unknown values ignored); sections are *omitted* unless requested |
//! | `cancelTaskRun` | `POST /task-runs/{run_id}/cancel` | → `canceling`, then `canceled` on the next step; 409 when already terminal |
//! | `submitTaskRunInteraction` | `POST /task-runs/{run_id}/interaction` | only while `interaction_required` (else 409); resumes the run (`running`) |
//! | `listTaskRunStorage` | `GET /task-runs/{run_id}/storage` | paginated |
//! | `listTasks` | `GET /tasks` | filters `agent_id`, `status` |
//! | `getTask` | `GET /tasks/{task_id}` | |
//! | `runTask` | `POST /tasks/{task_id}/run` | 201 with a `queued` run; 422 when `input` misses a field the task's `input_schema` requires; the `credential_id`, `source_id` and `session_id` it names must exist (404), the credential not be deleted and the session not completed (409) |
//! | `createTask` † | `POST /tasks` | 201, status `learning`, on an existing agent; an `id` of your own is kept (409 if taken) |
//! | `updateTask` † | `PATCH /tasks/{task_id}` | a new `prompt` or schema sends a `live` task back to `test` |
//! | `deleteTask` † | `DELETE /tasks/{task_id}` | delete confirmation; the task's runs stay |
//! | `resetTask` † | `POST /tasks/{task_id}/reset` | back to `learning` |
//! | `listAgents`, `createAgent`, `getAgent`, `updateAgent`, `deleteAgent` † | `/agents`, `/agents/{agent_id}` | an agent lists its `tasks` (`{id, object, name, status}`); create 201 |
//! | `listSources`, `createSource`, `getSource`, `updateSource`, `deleteSource` † | `/sources`, `/sources/{source_id}` | create answers **200**, as Deck documents |
//! | `listCredentials`, `createCredential`, `getCredential`, `updateCredential`, `deleteCredential` † | `/credentials`, `/credentials/{credential_id}` | filters `source_id`, `status` (repeatable), `external_id`; created `unverified`; secrets are never answered (`auth_credentials` shows the username and `source_fields`); delete → status `deleted`, still readable |
//! | `listSessions`, `createSession`, `getSession` † | `/sessions`, `/sessions/{session_id}` | a session lists its `task_runs` |
//! | `endSession` † | `POST /sessions/{session_id}/end` | → `completed`; its active runs → `canceled` |
//! | `listEventDestinations`, `createEventDestination`, `getEventDestination`, `updateEventDestination`, `deleteEventDestination` † | `/event-destinations`, `/event-destinations/{destination_id}` | one configuration object named by `type` (default `webhook`); `events` non-empty, `["*"]` alone or known types; secrets never answered |
//! | `listEventDeliveries` † | `GET /event-destinations/{destination_id}/event-deliveries` | the deliveries to a `webhook` destination (see [Webhook deliveries](#webhook-deliveries)); `status` and `type` filter them |
//! | `listEvents`, `getEvent` † | `/events`, `/events/{event_id}` | newest first; filters `type` (repeatable), `created_after`/`created_before` |
//! | `listEventTypes` † | `GET /event-types` | not paginated |
//! | `getStorageItem` † | `GET /storage/{storage_id}` | the files of finished runs |
//! | `createSessionToken` † | `POST /token` | 201, `tok_…` with a `tk_…` token, expiring 30 minutes later |
//! | `testApiKey` | `GET /test` | `{"status":"ready","environment":"live"}` (Deck has no test environment) |
//!
//! Lists take `limit` (1–100, default 20) and an opaque `cursor`, and answer
//! `{data, has_more, next_cursor, request_id}`, newest first. Where the spec reuses a resource's
//! single-object schema for list items (every list but task runs and their storage), the items
//! carry the list's `request_id` too.
//!
//! Errors look like Deck's: unknown ids get a 404 envelope
//! (`{"errors":[{"type":"request","code":"task_run_not_found",…}],"request_id":"req_…"}`),
//! malformed input (a bad `limit`, a body that is not JSON, a field of the wrong type, a missing
//! required field) the ASP.NET 400 validation map
//! (`{"title":…,"status":400,"errors":{"limit":[…]},"traceId":"req_…"}`), and a missing or wrong
//! `Authorization` header a 401 with an empty body; a known path with the wrong method gets a
//! bodiless 405 with `Allow`, an unknown path a 404 envelope (`route_not_found`). Every response
//! carries an `x-request-id` header, and every JSON body its `request_id` (`traceId` in the
//! validation map).
//!
//! Writes (`POST`, `PATCH`, `DELETE`) honour `Idempotency-Key`: the first successful response
//! for a key is replayed (with an `idempotent-replayed: true` header) when the same key comes
//! back with the same method, path and body; the same key with anything else gets a 409
//! envelope of type `idempotency`, code `idempotency_error`. Error responses are not remembered.
//!
//! # Events
//!
//! Changes are recorded as events (`evt_…`, `{id, object, type, data, created_at}`, `data` a
//! summary of the resource then) from the mock's start; seeded data has no history:
//!
//! - every run status change: `task_run.queued`, `.running`, `.interaction_required`,
//!   `.completed`, `.failed`, `.canceling`, `.canceled`, and `storage.created` per stored file;
//! - `agent.*`, `source.*` and `task.*` (`created`, `updated`, `deleted`, and `task.reset`);
//! - `credential.created`, `.deleted`, `.verified` / `.invalid` when a run logs in with it (it
//!   completes / fails with `login_failed`), and `.unverified` when new details send a verified
//!   or invalid credential back;
//! - `session.completed` when a session is ended;
//! - `event_destination.activated` / `.deactivated` when a destination's status changes.
//!
//! ## MockDeck's own behaviour
//!
//! Where Deck's docs are silent, MockDeck decides, and these choices are the mock's, not Deck's:
//!
//! - the 409 codes `task_run_not_cancelable` (cancel a finished run),
//!   `task_run_not_awaiting_interaction` (answer a run that is not paused),
//!   `credential_deleted` (use or update a deleted credential), `session_not_active` (run in a
//!   completed session) and `task_already_exists` (create a task with a taken `id`);
//! - the 422 codes `invalid_input` (a `runTask` input missing a field the task's `input_schema`
//!   requires, or not an object; any other value a request may not hold, e.g. an unknown
//!   `auth_method`, destination `type` or event type) and `invalid_interaction_input` (an answer
//!   without `code`);
//! - 405 with `Allow` for a known path with another method (HEAD included), and the 404 code
//!   `route_not_found` for an unknown path;
//! - the `idempotent-replayed: true` header on a replayed write;
//! - the input flags `mfa` and `fail` and the MFA code `000000` described below;
//! - deletes never cascade: the tasks of a deleted agent, the credentials of a deleted source and
//!   the runs of a deleted task stay, naming it; deleting a deleted credential answers the same
//!   confirmation again;
//! - a session has no clock of its own: it is `running` while one of its runs is active, `idle`
//!   otherwise, and `completed` once ended or after Deck's documented 10-minute idle timeout;
//!   ending it cancels its active runs at once (no `canceling` step), and ending a completed
//!   session answers it unchanged;
//! - a task reset sends the task back to `learning`; a task created through the API answers its
//!   runs with a placeholder per `output_schema` property (`""`, `0`, `false`, the first `enum`
//!   value; nested objects, one-item arrays and `$ref`s followed, so the output decodes as the
//!   type a schema from `deck::json_schema` describes) and stores no files; `extraction` and
//!   `settings` are checked, not kept (the task object has neither);
//! - new event destinations are `active` at once (only `webhook` ones are ever contacted), and
//!   only the documented configuration fields are answered (`webhook.url`, not its `secret` or
//!   `custom_headers`); a `webhook.secret` not given is made up (see
//!   [`MockDeck::webhook_secret`]), and deliveries to a destination whose secret is not a
//!   Standard Webhooks `whsec_<base64>` secret fail at once, unsent (MockDeck cannot sign them);
//! - a storage item's `result` is `success` and its `metadata` null;
//! - every write through the API moves the mock clock by a millisecond, so writes are ordered in
//!   time.
//!
//! Event snapshots are what Deck sends: a `task_run.*` event's `data` is the run's summary
//! (`id`, `object`, `status`, `result`, `task_id`, `credential_id`, `agent_id`, `source_id`,
//! `workflow_id`, `runtime_ms`, `created_at`, `updated_at`) and a `credential.*` event's the
//! credential's, with empty fields as `""`, not `null` (Deck's "frozen subset snapshot").
//!
//! # Runs that take time
//!
//! For batches and benchmarks, [`MockDeckBuilder::run_duration`] makes each run created through
//! the API take a time drawn from a range, on a mock clock that follows real time times
//! [`MockDeckBuilder::time_scale`]: a run is `running` at once and `completed` (or `failed`, per
//! its input) once its time has passed; a run that asks for MFA pauses half way. Timestamps,
//! `runtime_ms` and events follow that clock. [`MockDeckBuilder::session_limit`] caps the busy
//! sessions (each active run without `session_id` holds one; runs naming the same session
//! share it): a run started beyond the cap gets Deck's `429 rate_limit/session_limit_exceeded`.
//! [`MockDeck::usage_of`] counts the requests (and 429s) of each API key.
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), deck::Error> {
//! use deck::mock::MockDeck;
//! use std::time::Duration;
//!
//! // Runs of 30–120 s, at 600 mock seconds per real second: 50–200 ms each.
//! let mock = MockDeck::builder()
//!     .run_duration(Duration::from_secs(30)..=Duration::from_secs(120))
//!     .time_scale(600.0)
//!     .session_limit(1)
//!     .start()
//!     .await;
//! let client = mock.client_builder().retry(deck::RetryPolicy::none()).build()?;
//! let task_id = &mock.task_ids()[0];
//! let input = serde_json::json!({"account_number": "1", "statement_month": "2026-10", "mfa": false});
//! let run = client.run_task().task_id(task_id).input(&input).send().await?;
//! let busy = client.run_task().task_id(task_id).input(&input).send().await.unwrap_err();
//! assert_eq!(busy.code(), Some("session_limit_exceeded"));
//! let done = client.wait_for_task_run(&run.id).initial_interval(Duration::from_millis(20)).await?;
//! assert!(done.status.is_terminal());
//! # Ok(()) }
//! ```
//!
//! # Webhook deliveries
//!
//! Every event MockDeck records (run state changes, credential checks, resource writes) is
//! POSTed to each active `webhook` destination subscribed to its type (`["*"]`, or no `events`,
//! for all), signed per Standard Webhooks with the destination's secret, so a receiver built
//! on [`deck::webhooks`](crate::webhooks) is tested end to end offline. As Deck documents: the
//! body is the event (as `GET /events/{id}` answers it), a 2xx within 5 seconds acknowledges,
//! a failure is retried up to 3 times with exponential backoff, and a destination whose every
//! attempt fails becomes `inactive`. MockDeck's own choices: `webhook-id` is the event id; the
//! first retry waits [`MockDeckBuilder::webhook_retry_delay`] (default 1 s), each next one
//! twice as long; deliveries go one at a time, in the order events are recorded; and MockDeck
//! never leaves the machine: a delivery to a host other than `localhost`, `127.0.0.0/8` or `::1`
//! fails at once, unsent, so a test cannot reach the network whatever URL it registers. Each
//! attempt reads the destination as it is then: deleted, deactivated or `inactive`, it gets
//! nothing more. After a secret rotation, deliveries are signed with the new and the previous
//! secret for 24 hours of mock clock (Deck: "previous secret valid 24 h"). Deck delivers at
//! least once and in no promised order; MockDeck delivers exactly once and in order unless
//! [`MockDeckBuilder::delivery_fault`] asks for duplicates or reordering ([`DeliveryFault`], a
//! switch of MockDeck's own) to test that a receiver copes.
//! [`MockDeck::webhook_deliveries_settled`] waits until every queued delivery is done.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use deck::mock::MockDeck;
//! use deck::types::{CreateEventDestinationRequest, EventDestinationType, WebhookConfig};
//!
//! let mock = MockDeck::start().await;
//! let client = mock.client();
//! let destination = client
//!     .create_event_destination()
//!     .body(
//!         CreateEventDestinationRequest::builder()
//!             .name("my receiver")
//!             .type_(Some(EventDestinationType::Webhook))
//!             .webhook(Some(
//!                 WebhookConfig::builder()
//!                     .url("http://127.0.0.1:9/unreachable")
//!                     .try_into()
//!                     .unwrap(),
//!             )),
//!     )
//!     .send()
//!     .await
//!     .unwrap();
//! // The secret to verify deliveries with (MockDeck made one up: none was given).
//! let secret = mock.webhook_secret(&destination.id).unwrap();
//! assert!(secret.starts_with("whsec_"));
//! # }
//! ```
//!
//! # Faults and rate limiting
//!
//! To test your own retry, timeout and idempotency handling offline, MockDeck misbehaves on
//! request. A [`Fault`] hits the requests its [`Injection`] selects (every request, the next
//! `n`, a fraction, one route; they combine), from the start ([`MockDeckBuilder::fault`]) or
//! from now on ([`MockDeck::inject`], until [`MockDeck::clear_faults`]). Faults apply after
//! authentication and the rate limit; [`MockDeck::injected_count`] says how many requests they
//! hit.
//!
//! | fault | what the client sees | the request is carried out |
//! |---|---|---|
//! | `Fault::Status(503)` | a 503 with Deck's envelope (`api`/`api_error`; 429 gets `rate_limit_exceeded`) | no |
//! | `Fault::Disconnect` | the connection closes before any answer | yes: the answer is lost |
//! | `Fault::DisconnectMidBody` | the head and half the body, then the connection closes | yes |
//! | `Fault::SlowBody(d)` | the head at once, then one body byte every `d` | yes |
//! | `Fault::Delay(d)` | nothing for `d`, then the answer | yes, after `d` |
//!
//! The rate-limit mode ([`MockDeckBuilder::rate_limit`], [`MockDeck::set_rate_limit`]) answers
//! 429 with Deck's envelope (`rate_limit`/`rate_limit_exceeded`, "Too many requests.") once
//! more than the limit's `requests` arrive within any `period` (a sliding window over the
//! requests it let through; [`RateLimit::DECK`] is Deck's documented 200 per 10 s per
//! organisation). Deck documents neither how it counts nor a `Retry-After` header: the sliding
//! window, the strictest reading of Deck's words, is MockDeck's own, and its 429s carry no
//! `Retry-After` (as Deck documents none), so a burst test that passes here does not lean on a
//! header Deck may not send. [`MockDeck::rate_limited_count`] counts the 429s.
//!
//! [`MockDeck::client`] retries as a default client does, so your test sees what production
//! would; shorten its backoff to keep tests fast:
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), deck::Error> {
//! use deck::mock::{Fault, MockDeck};
//! use deck::types::RunTaskRequest;
//! use deck::{ErrorKind, RateLimit, RetryPolicy};
//! use serde_json::json;
//! use std::time::Duration;
//!
//! let mock = MockDeck::start().await;
//! let fast_retries = RetryPolicy::default().initial_backoff(Duration::from_millis(10));
//! let client = mock.client_builder().retry(fast_retries).build()?;
//!
//! // Two 503s, then an answer: the caller sees only the answer.
//! mock.inject(Fault::Status(503).times(2));
//! client.test_api_key().send().await?;
//! assert_eq!(mock.injected_count(), 2);
//!
//! // The first answer of a run_task is lost after the run was created. The client retries
//! // with the same Idempotency-Key, and MockDeck replays the run instead of creating another.
//! let task = client.list_tasks().collect_all().await?.into_iter()
//!     .find(|t| t.name.contains("statements")).unwrap();
//! let runs = mock.run_count();
//! mock.inject(Fault::Disconnect.on("POST /tasks/{task_id}/run").times(1));
//! let input = json!({"account_number": "42", "statement_month": "2026-10"});
//! let run = client.run_task().task_id(&task.id)
//!     .body(RunTaskRequest::builder().input(input)).send().await?;
//! assert_eq!(mock.run_count(), runs + 1);
//!
//! // A client without retries gets the fault itself.
//! let no_retries = mock.client_builder().retry(RetryPolicy::none()).build()?;
//! mock.inject(Fault::Status(502).on("/task-runs/{run_id}").times(1));
//! let err = no_retries.get_task_run().run_id(&run.id).send().await.unwrap_err();
//! assert_eq!((err.kind(), err.attempts()), (ErrorKind::Server, 1));
//!
//! // The rate limit: two requests a minute, then a 429 (no Retry-After, as from Deck).
//! mock.set_rate_limit(RateLimit::new(2, Duration::from_secs(60)));
//! no_retries.test_api_key().send().await?;
//! no_retries.test_api_key().send().await?;
//! let err = no_retries.test_api_key().send().await.unwrap_err();
//! assert_eq!((err.kind(), err.code()), (ErrorKind::RateLimited, Some("rate_limit_exceeded")));
//! assert!(err.api_error().unwrap().headers().get("retry-after").is_none());
//! # Ok(()) }
//! ```
//!
//! # The task-run state machine
//!
//! Runs move on a clock you control: one *step* moves a run one transition and moves the mock's
//! clock (timestamps, `runtime_ms`) by [`MockDeckBuilder::step_duration`] (default 3 s).
//!
//! ```text
//!  POST /tasks/{id}/run
//!          │
//!          ▼        step           step (needs MFA, not yet answered)
//!       queued ───────► running ───────────────────────────► interaction_required
//!                         │  ▲                                        │
//!                         │  └──── POST /task-runs/{id}/interaction ──┘
//!                         │ step
//!                         ├──► completed  (result `success`, output, storage, screenshots)
//!                         └──► failed     (result `failure`, errors; input `{"fail": true}`,
//!                                          or the MFA code `000000`)
//!
//!  queued / running / interaction_required / review_required
//!          ── POST /task-runs/{id}/cancel ──► canceling ── step ──► canceled
//! ```
//!
//! A run asks for MFA when its task does (the seeded task *Download monthly statements* and
//! *Pull tax documents* do) or when its input holds `"mfa": true` (`"mfa": false` turns it
//! off). The interaction asks for one field, `code`; any non-empty code is accepted, except
//! `000000`, which makes the run fail with `errors[0].code == "mfa_code_invalid"`.
//! `review_required` only occurs in seeded data (the API has no review endpoint): such runs
//! stay put until canceled. `completed`, `failed` and `canceled` are terminal.
//!
//! Who steps, per [`StepMode`]:
//!
//! - [`StepMode::OnPoll`] (the default): every `GET /task-runs/{id}` moves *that* run one step
//!   before answering, so [`Client::wait_for_task_run`] finishes by itself.
//! - [`StepMode::Manual`]: only [`MockDeck::step`] / [`MockDeck::advance`] move runs.
//! - [`StepMode::Every`]: a background task steps every interval of real time.
//!
//! `step()` and `advance(n)` work in every mode and move all active runs at once.
//!
//! # Seed data
//!
//! The builder seeds four agents (`agt_…`), each with one source (`src_…`) and three verified
//! credentials (`cred_…`), tasks (`task_…`, in statuses `live`, `test`, `learning`,
//! with input/output schemas and storage settings) and task runs (`trun_…`) spread over the 30
//! days before the mock's start time, mostly finished (`completed` with `success`, `failure` or
//! `unknown`, `failed`, `canceled`, a few `review_required`), the newest few still active. Finished
//! runs carry output, screenshots and storage items (`stor_…`, `file_size` sent as a string, as
//! Deck does); runs that name a session (`sess_…`) started it. The same
//! [`seed`](MockDeckBuilder::seed) gives the same ids and data; with a fixed
//! [`start_time`](MockDeckBuilder::start_time) the timestamps are the same too.

use crate::client::ClientBuilder;
use crate::{Client, RateLimit};
use chrono::{DateTime, TimeDelta, Utc};
use faults::Faults;
use state::{Shared, World};
use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// Layout: `state` is the world and the run state machine, `seed` the generated data, `routes` the
// router and what every request goes through, `body` request-body reading, `reply` the response
// shapes, `pagination` the paging every list shares, and `resources` one file of handlers per
// resource.
mod body;
mod deliveries;
mod examples;
mod faults;
mod pagination;
mod reply;
mod routes;
mod seed;
mod state;
mod timed;
mod usage;
mod resources {
    pub(crate) mod agents;
    pub(crate) mod credentials;
    pub(crate) mod event_destinations;
    pub(crate) mod events;
    pub(crate) mod sessions;
    pub(crate) mod sources;
    pub(crate) mod storage;
    pub(crate) mod task_runs;
    pub(crate) mod tasks;
    pub(crate) mod test;
    pub(crate) mod tokens;
}

pub use deliveries::DeliveryFault;
pub use faults::{Fault, Injection};
pub use usage::Usage;

/// The API key [`MockDeck::client`] uses when the builder set none.
/// In Deck's only key form, `sk_live_…` (Deck has no test keys and no test mode).
pub const DEFAULT_MOCK_API_KEY: &str = "sk_live_mockdeck";

/// Default seed of the generated data.
pub const DEFAULT_SEED: u64 = 0x00de_c0de;

/// Default number of seeded tasks.
pub const DEFAULT_TASKS: usize = 6;

/// Default number of seeded task runs.
pub const DEFAULT_RUNS: usize = 150;

/// Who moves task runs forward (see the [module docs](crate::mock#the-task-run-state-machine)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepMode {
    /// Each `GET /task-runs/{run_id}` moves that run one step before answering, so polling
    /// (e.g. [`Client::wait_for_task_run`]) sees it progress. The default.
    #[default]
    OnPoll,
    /// Runs move only when you call [`MockDeck::step`] or [`MockDeck::advance`].
    Manual,
    /// A background task calls [`MockDeck::step`] every interval of real time (a zero
    /// interval never steps).
    Every(Duration),
}

/// Configures a [`MockDeck`]; build one with [`MockDeck::builder`].
///
/// ```
/// # #[tokio::main] async fn main() {
/// use deck::mock::{MockDeck, StepMode};
/// use std::time::Duration;
///
/// let mock = MockDeck::builder()
///     .seed(42)
///     .runs(1_000)
///     .step_mode(StepMode::Manual)
///     .step_duration(Duration::from_secs(10))
///     .api_key("sk_live_only_this_key")
///     .start()
///     .await;
/// assert_eq!(mock.run_count(), 1_000);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MockDeckBuilder {
    seed: u64,
    tasks: usize,
    runs: usize,
    start_time: Option<DateTime<Utc>>,
    step_duration: Duration,
    step_mode: StepMode,
    api_key: Option<String>,
    faults: Vec<Injection>,
    rate_limit: Option<RateLimit>,
    webhook_retry_delay: Duration,
    delivery_fault: Option<DeliveryFault>,
    run_duration: Option<RangeInclusive<Duration>>,
    time_scale: f64,
    session_limit: Option<usize>,
}

impl Default for MockDeckBuilder {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            tasks: DEFAULT_TASKS,
            runs: DEFAULT_RUNS,
            start_time: None,
            step_duration: Duration::from_secs(3),
            step_mode: StepMode::OnPoll,
            api_key: None,
            faults: Vec::new(),
            rate_limit: None,
            webhook_retry_delay: Duration::from_secs(1),
            delivery_fault: None,
            run_duration: None,
            time_scale: 1.0,
            session_limit: None,
        }
    }
}

impl MockDeckBuilder {
    /// Seed of the generated ids and data (default [`DEFAULT_SEED`]). The same seed gives the
    /// same tasks and runs, and the same ids for runs created afterwards in the same order.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Number of seeded tasks (default 6). With 0 there are no tasks and no seeded runs.
    pub fn tasks(mut self, n: usize) -> Self {
        self.tasks = n;
        self
    }

    /// Number of seeded task runs (default 150).
    pub fn runs(mut self, n: usize) -> Self {
        self.runs = n;
        self
    }

    /// The mock clock's start (default: now, to the second). Seeded data lies in the 30 days
    /// before it; set it to make timestamps reproducible.
    pub fn start_time(mut self, start: DateTime<Utc>) -> Self {
        self.start_time = Some(start);
        self
    }

    /// How far the mock clock moves per step (default 3 s).
    pub fn step_duration(mut self, step: Duration) -> Self {
        self.step_duration = step;
        self
    }

    /// Who moves runs forward (default [`StepMode::OnPoll`]).
    pub fn step_mode(mut self, mode: StepMode) -> Self {
        self.step_mode = mode;
        self
    }

    /// Accept only `Authorization: Bearer <key>` (default: any bearer token). Other keys get
    /// a 401 with an empty body, as from Deck.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Injects a fault from the start (see [`MockDeck::inject`]); call again for more.
    pub fn fault(mut self, injection: impl Into<Injection>) -> Self {
        self.faults.push(injection.into());
        self
    }

    /// Makes webhook deliveries duplicated or reordered (see [`DeliveryFault`]; default:
    /// each event delivered once, in order), to test a receiver against Deck's at-least-once,
    /// unordered delivery.
    pub fn delivery_fault(mut self, fault: DeliveryFault) -> Self {
        self.delivery_fault = Some(fault);
        self
    }

    /// Answers 429 once more than `limit` requests arrive within its period (see
    /// [Faults and rate limiting](crate::mock#faults-and-rate-limiting));
    /// [`RateLimit::DECK`] is Deck's documented 200 per 10 s. Default: no limit.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// How long a failed webhook delivery waits before its first retry (default 1 s; each
    /// next retry waits twice as long). Deck documents exponential backoff, not its timing.
    pub fn webhook_retry_delay(mut self, delay: Duration) -> Self {
        self.webhook_retry_delay = delay;
        self
    }

    /// Runs created through the API take a time drawn uniformly from `range` (mock time) and
    /// move on the mock clock by themselves, which then follows real time times
    /// [`time_scale`](Self::time_scale); see [Runs that take time](crate::mock#runs-that-take-time).
    /// Default: runs move by steps.
    pub fn run_duration(mut self, range: RangeInclusive<Duration>) -> Self {
        self.run_duration = Some(range);
        self
    }

    /// Mock seconds per real second while runs take time (default 1.0): with `60.0`, runs of
    /// 30–120 s finish in 0.5–2 s of real time. Values that are not positive mean 1.0.
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }

    /// At most `n` sessions busy at once: starting a run beyond that answers Deck's
    /// `429 rate_limit/session_limit_exceeded` ("Agent sandbox limit exceeded."), until a run
    /// finishes. Default: no cap.
    pub fn session_limit(mut self, n: usize) -> Self {
        self.session_limit = Some(n);
        self
    }

    /// Seeds the data, binds `127.0.0.1` on a free port and starts serving.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, or if no loopback port can be bound (see
    /// [`try_start`](Self::try_start)).
    pub async fn start(self) -> MockDeck {
        match self.try_start().await {
            Ok(mock) => mock,
            Err(e) => panic!("MockDeck could not bind 127.0.0.1: {e}"),
        }
    }

    /// Like [`start`](Self::start), returning the bind error instead of panicking.
    pub async fn try_start(self) -> std::io::Result<MockDeck> {
        let start = self
            .start_time
            .unwrap_or_else(|| truncate_to_seconds(Utc::now()));
        let step = TimeDelta::from_std(self.step_duration).unwrap_or(TimeDelta::seconds(3));
        let mut world = World::seed(self.seed, self.tasks, self.runs, start, step);
        world.timing = timed::Timing::new(
            self.run_duration.clone(),
            self.time_scale,
            self.session_limit,
            self.seed,
        );
        let timed = world.timing.has_durations();
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            api_key: self.api_key.clone(),
            step_mode: self.step_mode,
            requests: AtomicU64::new(0),
            usage: Default::default(),
            request_salt: self.seed ^ 0x05ee_df00_d1d5,
            faults: Mutex::new(Faults::new(self.seed, self.faults, self.rate_limit)),
            closing: tokio::sync::watch::Sender::new(false),
        });

        let (outbox, deliveries) = deliveries::start(
            shared.clone(),
            self.webhook_retry_delay,
            self.delivery_fault,
        );
        shared.lock().outbox = Some(outbox.clone());

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = routes::app(shared.clone());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let stopped = async {
                let _ = stop_rx.await;
            };
            if let Err(e) = axum::serve(listener, axum::ServiceExt::into_make_service(app))
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::warn!(error = %e, "MockDeck server stopped with an error");
            }
        });
        let ticker = match self.step_mode {
            StepMode::Every(period) if !period.is_zero() => {
                let shared = shared.clone();
                Some(tokio::spawn(async move {
                    let mut interval = tokio::time::interval(period);
                    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    interval.tick().await; // the first tick is immediate
                    loop {
                        interval.tick().await;
                        shared.lock().step_all();
                    }
                }))
            }
            _ if timed => {
                let shared = shared.clone();
                Some(tokio::spawn(async move {
                    let mut interval = tokio::time::interval(timed::DRIVER_TICK);
                    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        interval.tick().await;
                        shared.lock().drive(tokio::time::Instant::now());
                    }
                }))
            }
            _ => None,
        };
        Ok(MockDeck {
            base_url: format!("http://{addr}/v2"),
            addr,
            api_key: self
                .api_key
                .unwrap_or_else(|| DEFAULT_MOCK_API_KEY.to_string()),
            shared,
            stop: Some(stop_tx),
            server: Some(server),
            ticker,
            outbox,
            deliveries,
        })
    }
}

/// A stateful Deck served on loopback; see the [module docs](crate::mock).
///
/// Dropping it stops the server (requests in flight finish first; slow bodies and delays are
/// cut short).
pub struct MockDeck {
    base_url: String,
    addr: SocketAddr,
    api_key: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    outbox: deliveries::Outbox,
    deliveries: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for MockDeck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockDeck")
            .field("base_url", &self.base_url)
            .field("step_mode", &self.shared.step_mode)
            .field("faults", &*self.shared.faults())
            .finish_non_exhaustive()
    }
}

impl MockDeck {
    /// Starts a mock with the default seed data (6 tasks, 150 runs) and [`StepMode::OnPoll`].
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, or if no loopback port can be bound.
    pub async fn start() -> MockDeck {
        Self::builder().start().await
    }

    /// A builder to configure seed data, the clock and authentication.
    pub fn builder() -> MockDeckBuilder {
        MockDeckBuilder::default()
    }

    /// The API root, e.g. `http://127.0.0.1:41234/v2`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The socket address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key [`client`](Self::client) sends: the builder's, else [`DEFAULT_MOCK_API_KEY`].
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// A client builder pointed at the mock with its API key and otherwise
    /// [`Client::builder`]'s defaults, retries included, to adjust (timeouts, a faster retry
    /// policy) before building.
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .api_key(self.api_key.clone())
            .base_url(self.base_url.clone())
    }

    /// A client pointed at the mock, configured as a default client is: it retries as in
    /// production (5 attempts, backoff of up to 1 s, 2 s, 4 s, 8 s, `Retry-After` honoured), so
    /// a test with [faults](crate::mock#faults-and-rate-limiting) sees what your code will.
    /// For faster tests, shorten the backoff:
    /// `mock.client_builder().retry(RetryPolicy::default().initial_backoff(Duration::from_millis(10))).build()`.
    ///
    /// # Panics
    ///
    /// If the API key given to [`MockDeckBuilder::api_key`] cannot be sent as a header.
    pub fn client(&self) -> Client {
        match self.client_builder().build() {
            Ok(client) => client,
            Err(e) => panic!("MockDeck client: {e}"),
        }
    }

    /// Moves every active run one step (and the clock by one step duration). Returns how many
    /// runs changed status.
    pub fn step(&self) -> usize {
        self.shared.lock().step_all()
    }

    /// Calls [`step`](Self::step) `n` times; returns the total number of status changes.
    pub fn advance(&self, n: usize) -> usize {
        let mut world = self.shared.lock();
        (0..n).map(|_| world.step_all()).sum()
    }

    /// The mock clock's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.lock().now
    }

    /// Ids of all tasks, newest first (the order of `GET /tasks`).
    pub fn task_ids(&self) -> Vec<String> {
        let world = self.shared.lock();
        world
            .task_order
            .iter()
            .map(|&i| world.tasks[i].id.clone())
            .collect()
    }

    /// Number of task runs, seeded and created.
    pub fn run_count(&self) -> usize {
        self.shared.lock().runs.len()
    }

    /// The status of run `run_id` (`None` if there is no such run), without stepping it.
    pub fn run_status(&self, run_id: &str) -> Option<String> {
        let world = self.shared.lock();
        let &i = world.run_index.get(run_id)?;
        Some(world.runs[i].status.as_str().to_string())
    }

    /// Number of HTTP requests served so far.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// What the requests of every client cost so far: requests, 429s, requests per route.
    pub fn usage(&self) -> Usage {
        self.shared.usage.total()
    }

    /// What the requests sent with API key `api_key` cost so far. Give each client (or each
    /// simulated process) a key of its own (any bearer key is accepted unless
    /// [`MockDeckBuilder::api_key`] set one) to count them apart.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), deck::Error> {
    /// let mock = deck::mock::MockDeck::start().await;
    /// let a = mock.client_builder().api_key("sk_test_a").build()?;
    /// a.test_api_key().send().await?;
    /// a.test_api_key().send().await?;
    /// assert_eq!(mock.usage_of("sk_test_a").requests, 2);
    /// assert_eq!(mock.usage_of("sk_test_a").by_route["GET /v2/test"], 2);
    /// assert_eq!(mock.usage_of("sk_test_b").requests, 0);
    /// # Ok(()) }
    /// ```
    pub fn usage_of(&self, api_key: &str) -> Usage {
        self.shared.usage.of(api_key)
    }

    /// Forgets the counts behind [`usage`](Self::usage) (e.g. after a test's setup).
    pub fn reset_usage(&self) {
        self.shared.usage.reset();
    }

    /// Injects a fault into the requests that follow (after authentication and the rate limit);
    /// see [Faults and rate limiting](crate::mock#faults-and-rate-limiting).
    pub fn inject(&self, injection: impl Into<Injection>) {
        self.shared.faults().inject(injection.into());
    }

    /// Removes every injected fault (the rate limit stays).
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Sets or (with `None`) removes the rate limit, starting a fresh window.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.shared.faults().set_rate_limit(limit);
    }

    /// Number of requests an injected fault hit so far.
    pub fn injected_count(&self) -> u64 {
        self.shared.faults().injected
    }

    /// Number of requests answered 429 by the rate limit so far.
    pub fn rate_limited_count(&self) -> u64 {
        self.shared.faults().rate_limited
    }

    /// Waits until every webhook delivery queued so far has been acknowledged or has used up
    /// its retries (see [Webhook deliveries](crate::mock#webhook-deliveries)).
    pub async fn webhook_deliveries_settled(&self) {
        self.outbox.idle().await;
    }

    /// The signing secret of webhook destination `destination_id` (`whsec_…`): the one it was
    /// created with, or the one MockDeck made up when none was given. Deck never answers a
    /// secret; this is MockDeck's way to hand it to your receiver.
    pub fn webhook_secret(&self, destination_id: &str) -> Option<String> {
        self.shared
            .lock()
            .destinations
            .get(destination_id)?
            .secret
            .clone()
    }

    /// Stops the server and waits until it has finished (in-flight requests complete).
    pub async fn shutdown(mut self) {
        self.stop.take();
        self.shared.closing.send_replace(true);
        self.deliveries.abort();
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for MockDeck {
    fn drop(&mut self) {
        // Dropping the sender is the shutdown signal.
        self.stop.take();
        self.shared.closing.send_replace(true);
        self.deliveries.abort();
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
    }
}

fn truncate_to_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}
