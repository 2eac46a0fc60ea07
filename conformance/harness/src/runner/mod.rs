//! A whole run: for each provider, open its [`Target`] (an in-process emulator, the live provider
//! with an optional recording proxy, or a replay server), run each check in order within its time
//! bounds, collect the results.
//!
//! - `options`: [`RunOptions`], [`Target`], the defaults and [`plan`].
//! - `session`: one provider's target, opened and closed ([`RunError`] when it cannot be).

mod options;
mod recording;
mod session;

use std::time::{Duration, Instant};

use img2img_report::results::{CheckResult, RunResults, Status, Target as Reported};
use img2img_specs::Provider;

use super::budget::Budget;
use super::cassette::Recording;
pub use super::checks::Polling;
use super::checks::{self, CheckId, Context, Verdict};
pub use options::{
    DEFAULT_CHECK_TIMEOUT, DEFAULT_EMULATOR_JOB_TTL, DEFAULT_LIVE_CHECK_TIMEOUT, LIVE_SHRINK_ITERS,
    RunOptions, Target, plan,
};
pub use session::RunError;
use session::{Opened, Session};

/// Extra time a check gets past its deadline to report how far it came.
const REPORT_GRACE: Duration = Duration::from_secs(2);

/// Progress reported while a run goes on.
#[derive(Debug, Clone)]
pub enum Event {
    /// A check started.
    Started {
        /// The provider.
        provider: Provider,
        /// The check.
        check: CheckId,
    },
    /// A check finished.
    Finished(Box<CheckResult>),
}

/// Runs the checks; `on_event` hears each start and finish.
pub async fn run(
    options: &RunOptions,
    mut on_event: impl FnMut(Event),
) -> Result<RunResults, RunError> {
    let started_at = now();
    // A replay keeps the recording's budget, so it stops where the recording ran out.
    let budget = if options.spends() || matches!(options.target, Target::Replay(_)) {
        Budget::new(options.max_requests)
    } else {
        Budget::unlimited()
    };
    let bounds = Bounds::new(options);
    let target = options.reported_target();
    let mut results = Vec::new();
    let mut finish = |result: CheckResult, on_event: &mut dyn FnMut(Event)| {
        on_event(Event::Finished(Box::new(result.clone())));
        results.push(result);
    };
    for &provider in &options.providers {
        let session = match Session::open(options, provider).await? {
            Opened::Ready(session) => session,
            Opened::Unavailable(reason) => {
                for &check in &options.checks {
                    let verdict = Verdict::Skipped(reason.clone());
                    let result = to_result(check, provider, target, verdict, 0, Duration::ZERO);
                    finish(result, &mut on_event);
                }
                continue;
            }
        };
        let context = Context {
            caller: session.caller(&budget),
            payload: options.payload.clone(),
            cases: options.cases,
            seed: options.seed,
            max_shrink_iters: options.max_shrink_iters(),
            polling: options.polling(),
            target,
            deadline: None,
            job_ttl: session.job_ttl(options),
        };
        for &check in &options.checks {
            on_event(Event::Started { provider, check });
            let before = budget.spent();
            let refused_before = budget.refused();
            let clock = Instant::now();
            let verdict = match budget.too_small_for(check, options.cases) {
                Some(why) => Verdict::Skipped(why),
                None => bounds.run(check, &context).await,
            };
            let verdict = budget.settle(refused_before, verdict);
            let requests = budget.spent() - before;
            let result = to_result(check, provider, target, verdict, requests, clock.elapsed());
            finish(result, &mut on_event);
        }
        session.close().await?;
    }
    if let Some(dir) = options.record_dir() {
        Recording::of(options)
            .save(dir)
            .map_err(|message| RunError::Recording { message })?;
    }
    Ok(RunResults {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at,
        finished_at: now(),
        seed: options.seed,
        cases_per_check: options.cases,
        results,
        client_runs: Vec::new(),
    })
}

/// The time bounds of a run: each check's own, and the whole run's (`--max-time`).
struct Bounds {
    check_timeout: Duration,
    max_time: Option<Duration>,
    run_deadline: Option<tokio::time::Instant>,
}

impl Bounds {
    fn new(options: &RunOptions) -> Bounds {
        Bounds {
            check_timeout: options.check_timeout(),
            max_time: options.max_time,
            run_deadline: options
                .max_time
                .map(|limit| tokio::time::Instant::now() + limit),
        }
    }

    /// Runs `check` within the earlier of its own bound and the run's; a check not started
    /// because the run's time is spent, or cut short, fails with the reason.
    async fn run(&self, check: CheckId, context: &Context) -> Verdict {
        let now = tokio::time::Instant::now();
        let max_time = || {
            format!(
                "the run's --max-time of {} s",
                self.max_time.unwrap_or_default().as_secs()
            )
        };
        if self.run_deadline.is_some_and(|end| now >= end) {
            return Verdict::Failed {
                cases: 0,
                failure: checks::failure(format!("not started: {} was spent", max_time()), None),
            };
        }
        let own = now + self.check_timeout;
        let (deadline, bound) = match self.run_deadline {
            Some(run_end) if run_end < own => (run_end, max_time()),
            _ => (
                own,
                format!("its time bound of {} s", self.check_timeout.as_secs()),
            ),
        };
        let bounded = Context {
            deadline: Some(deadline),
            ..context.clone()
        };
        match tokio::time::timeout_at(deadline + REPORT_GRACE, checks::run(check, &bounded)).await {
            Ok(verdict) => verdict,
            Err(_) => Verdict::Failed {
                cases: 0,
                failure: checks::failure(
                    format!("cut short: {} did not finish within {bound}", check.id()),
                    context.caller.journal().last(),
                ),
            },
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn to_result(
    check: CheckId,
    provider: Provider,
    target: Reported,
    verdict: Verdict,
    requests: u32,
    elapsed: Duration,
) -> CheckResult {
    let (status, cases, detail, failure) = match verdict {
        Verdict::Passed { cases } => (Status::Passed, cases, None, None),
        Verdict::Failed { cases, failure } => (
            Status::Failed,
            cases,
            Some(failure.message.clone()),
            Some(failure),
        ),
        Verdict::Skipped(reason) => (Status::Skipped, 0, Some(reason), None),
    };
    CheckResult {
        check: check.id().to_owned(),
        description: check.description().to_owned(),
        provider: provider.id().to_owned(),
        target,
        status,
        cases,
        requests,
        duration_ms: elapsed.as_millis() as u64,
        detail,
        failure,
        scenario: None,
        client: None,
    }
}
