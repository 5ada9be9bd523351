//! Task runs: what their status means, the sections `include` adds, and waiting for one to
//! finish or to need input.

use crate::Client;
use crate::client::RequestOptions;
use crate::error::Error;
use crate::ext::{Include, Section};
use crate::types::{RunStatus, Screenshot, TaskRun, TaskRunId, TaskRunStorageItem};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

impl RunStatus {
    /// The run will not change any more: `completed`, `canceled` or `failed`.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Canceled | Self::Failed)
    }

    /// The run is paused until you act: submit interaction input (`interaction_required`) or
    /// approve it (`review_required`).
    pub fn needs_input(&self) -> bool {
        matches!(self, Self::InteractionRequired | Self::ReviewRequired)
    }
}

impl TaskRun {
    /// The run's output decoded as `T` (the type its task's `output_schema` describes; see
    /// [`deck::json_schema`](crate::json_schema) with feature `schemars`).
    ///
    /// Fails with [`Error::Output`] when the run has no output (not finished, failed, or a task
    /// without extraction) or when the output does not match `T`, naming the first field that
    /// does not (`line_items[2].amount: invalid type: string "12x", expected f64`).
    pub fn output_as<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let output = match &self.output {
            Some(output) if !output.is_null() => output,
            _ => {
                return Err(Error::Output {
                    run_id: self.id.clone(),
                    message: format!("has no output (status `{}`)", self.status),
                });
            }
        };
        serde_path_to_error::deserialize(output).map_err(|e| Error::Output {
            run_id: self.id.clone(),
            message: format!(
                "output does not match `{}`: {}: {}",
                std::any::type_name::<T>(),
                e.path(),
                e.inner()
            ),
        })
    }

    /// The captured files: [`Section::NotRequested`] unless fetched with [`Include::STORAGE`].
    pub fn storage_section(&self) -> Section<&[TaskRunStorageItem]> {
        match &self.storage {
            Some(items) => Section::Returned(items),
            None => Section::NotRequested,
        }
    }

    /// The screenshots: [`Section::NotRequested`] unless fetched with [`Include::ARTIFACTS`].
    pub fn screenshots_section(&self) -> Section<&[Screenshot]> {
        match &self.artifacts {
            Some(artifacts) => Section::Returned(&artifacts.screenshots),
            None => Section::NotRequested,
        }
    }
}

/// A value serialised for a builder setter; the serialisation error, if any, surfaces from
/// `send()` as [`Error::InvalidRequest`].
struct Serialized(Result<serde_json::Value, serde_json::Error>);

impl TryFrom<Serialized> for Option<serde_json::Value> {
    type Error = serde_json::Error;
    fn try_from(value: Serialized) -> Result<Self, Self::Error> {
        value.0.map(Some)
    }
}

impl crate::builder::RunTask<'_> {
    /// Sets the run's `input` from any serialisable value (the type its task's `input_schema`
    /// describes). Same as `.body_map(|b| b.input(serde_json::to_value(input)))`; a value that
    /// does not serialise makes `send()` fail with [`Error::InvalidRequest`].
    pub fn input<T: Serialize + ?Sized>(self, input: &T) -> Self {
        let value = Serialized(serde_json::to_value(input));
        self.body_map(|b| b.input(value))
    }
}

/// Waits for a task run to finish or to need input; build with [`Client::wait_for_task_run`].
///
/// Polls `GET /task-runs/{run_id}`, starting at `initial_interval` and growing by half each
/// time up to `max_interval`, until the run is terminal or needs input, or `timeout` passes.
/// The timeout is a hard bound: each poll's call (its retries included) gets at most the time
/// that remains, so a server that never answers ends the wait on time with
/// [`Error::WaitTimeout`].
#[derive(Debug)]
#[must_use = "a wait does nothing until awaited"]
pub struct WaitForTaskRun<'a> {
    client: &'a Client,
    run_id: TaskRunId,
    include: Option<Include>,
    timeout: Duration,
    initial_interval: Duration,
    max_interval: Duration,
}

impl<'a> WaitForTaskRun<'a> {
    /// Overall time limit, polls included (default 30 minutes, Deck's default task timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// First poll interval (default 1 s).
    pub fn initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }

    /// Longest poll interval (default 10 s).
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// Sections to include in the returned run.
    pub fn include(mut self, include: Include) -> Self {
        self.include = Some(include);
        self
    }

    /// Polls until the run is terminal or needs input; returns that run. With a
    /// [`RunTracker`](crate::tracker::RunTracker) on the client, waits through it instead (no
    /// poll of its own; `initial_interval` and `max_interval` do not apply).
    pub async fn send(self) -> Result<TaskRun, Error> {
        if let Some(tracker) = self.client.existing_tracker() {
            return self.through(tracker.clone()).await;
        }
        let started = tokio::time::Instant::now();
        let policy = self.client.retry_policy();
        let mut interval = self.initial_interval;
        let mut last_status = None;
        loop {
            // The poll's whole call (attempts and retries) fits in what remains of the wait.
            let remaining = self.timeout.saturating_sub(started.elapsed());
            let deadline = policy
                .overall_deadline()
                .map_or(remaining, |d| d.min(remaining));
            let mut request = self
                .client
                .get_task_run()
                .run_id(&self.run_id)
                .with_options(RequestOptions::new().retry(policy.clone().deadline(deadline)));
            if let Some(include) = self.include.clone().filter(|i| !i.is_empty()) {
                request = request.include(include);
            }
            let run = match request.send().await {
                Ok(run) => run.into_inner(),
                // The wait's own limit cut the poll short: that is the wait timing out.
                Err(Error::Timeout { .. }) if started.elapsed() >= self.timeout => {
                    return Err(Error::WaitTimeout {
                        run_id: self.run_id,
                        last_status,
                        waited: started.elapsed(),
                    });
                }
                Err(e) => return Err(e),
            };
            tracing::debug!(run_id = %self.run_id, status = %run.status, "polled task run");
            if run.status.is_terminal() || run.status.needs_input() {
                return Ok(run);
            }
            let waited = started.elapsed();
            if waited >= self.timeout {
                return Err(Error::WaitTimeout {
                    run_id: self.run_id,
                    last_status: Some(run.status),
                    waited,
                });
            }
            last_status = Some(run.status);
            tokio::time::sleep(interval.min(self.timeout - waited)).await;
            // Saturating: a huge interval must not overflow (`mul_f64` panics).
            interval = interval.saturating_add(interval / 2).min(self.max_interval);
        }
    }
}

impl WaitForTaskRun<'_> {
    /// The wait on the client's tracker: one look-up, then the tracker; the sections asked for
    /// come with one more `GET` at the end.
    async fn through(self, tracker: crate::tracker::RunTracker) -> Result<TaskRun, Error> {
        let include = self.include.clone().filter(|i| !i.is_empty());
        let get = || {
            let mut request = self.client.get_task_run().run_id(&self.run_id);
            if let Some(include) = include.clone() {
                request = request.include(include);
            }
            request.send()
        };
        let first = get().await?.into_inner();
        let last_status = first.status.clone();
        match tokio::time::timeout(self.timeout, tracker.wait_run(&first)).await {
            // Settled since the look-up: the list gave the run, a GET gives the sections.
            Ok(Ok(run)) if include.is_some() && run.updated_at != first.updated_at => {
                Ok(get().await?.into_inner())
            }
            Ok(result) => result,
            Err(_) => Err(Error::WaitTimeout {
                run_id: self.run_id,
                last_status: Some(last_status),
                waited: self.timeout,
            }),
        }
    }
}

impl<'a> IntoFuture for WaitForTaskRun<'a> {
    type Output = Result<TaskRun, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Client {
    /// Waits until task run `run_id` is terminal or needs input (see [`WaitForTaskRun`]).
    ///
    /// ```no_run
    /// # async fn f(client: &deck::Client) -> Result<(), deck::Error> {
    /// use std::time::Duration;
    /// let run = client
    ///     .wait_for_task_run("trun_123")
    ///     .timeout(Duration::from_secs(600))
    ///     .await?;
    /// if run.status.needs_input() {
    ///     // answer with client.submit_task_run_interaction()
    /// }
    /// # Ok(()) }
    /// ```
    pub fn wait_for_task_run(&self, run_id: impl Into<TaskRunId>) -> WaitForTaskRun<'_> {
        WaitForTaskRun {
            client: self,
            run_id: run_id.into(),
            include: None,
            timeout: Duration::from_secs(30 * 60),
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_decode_with_aliases_and_fallbacks() {
        let decode = |s: &str| serde_json::from_value::<RunStatus>(serde_json::json!(s)).unwrap();
        assert_eq!(decode("cancelling"), RunStatus::Canceling);
        assert_eq!(decode("canceling"), RunStatus::Canceling);
        assert_eq!(decode("paused"), RunStatus::Unknown("paused".into()));
        assert!(decode("failed").is_terminal());
        assert!(!decode("running").is_terminal());
        assert!(decode("interaction_required").needs_input());
        assert!(decode("review_required").needs_input());
        assert_eq!(RunStatus::Canceling.to_string(), "canceling");
        assert_eq!(
            serde_json::to_string(&RunStatus::Unknown("paused".into())).unwrap(),
            "\"paused\""
        );
    }
}
