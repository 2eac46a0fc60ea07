//! One grading run: every scenario at once, each with an emulator of the provider on a free
//! loopback port whose journal streams to a [recorder](super::record) (judging and writing
//! `exchanges/<scenario>.jsonl` as the exchanges happen), the command run against it, and the
//! checks that apply judged from what the recorder kept.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use img2img_emulator::Emulator;
use img2img_report::results::{CheckResult, ClientRun, Failure, RunResults, Status, Target};
use img2img_specs::Provider;
use tokio::sync::Notify;

use super::checks::{Bounds, ClientCheckId, Evidence, Judgement, judge};
use super::command::{self, CommandOutcome, Invocation};
use super::record::{Recorded, Recorder, WriteError};
use super::scenario::{ClientScenario, JobOutcome, ScenarioError};

/// What a grading run needs.
#[derive(Debug, Clone)]
pub struct GradeOptions {
    /// The client's name in the results.
    pub client: String,
    /// The provider whose emulator the command talks to.
    pub provider: Provider,
    /// The scenarios, in order (their runs go at once).
    pub scenarios: Vec<ClientScenario>,
    /// The command and its arguments (`{base_url}`, `{work_dir}`, `{provider}` are replaced).
    pub command: Vec<String>,
    /// Each run is stopped after this long (a scenario whose job never ends stops sooner: at
    /// the give-up bound plus 2 s).
    pub time_limit: Duration,
    /// What "fast", "soon", "late" and "too many" mean.
    pub bounds: Bounds,
    /// Lines of output kept per run in the results.
    pub tail_lines: usize,
    /// Where each run's work directory goes (`<dir>/<scenario>`).
    pub work_root: PathBuf,
    /// Where each run's exchanges are written as they happen (`<dir>/<scenario>.jsonl`).
    pub exchanges_dir: PathBuf,
}

/// What happened while grading, as it happens.
#[derive(Debug, Clone)]
pub enum GradeEvent<'a> {
    /// A scenario's run starts.
    Started {
        /// The scenario.
        scenario: &'a ClientScenario,
    },
    /// A scenario's run was graded.
    Finished {
        /// The scenario.
        scenario: &'a ClientScenario,
        /// The run.
        run: &'a ClientRun,
        /// Its check results.
        results: &'a [CheckResult],
    },
}

/// Why a grading run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    /// A scenario cannot be turned into an emulator configuration.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The emulator could not start.
    #[error("cannot start the {provider} emulator: {source}")]
    Emulator {
        /// The provider.
        provider: Provider,
        /// The IO error.
        source: std::io::Error,
    },
    /// A run's exchanges could not be written.
    #[error(transparent)]
    Exchanges(#[from] WriteError),
}

/// A graded run: the results, and the file of each scenario's exchanges.
#[derive(Debug, Clone)]
pub struct Graded {
    /// The results (`results.json`).
    pub results: RunResults,
    /// Per scenario, in order, its `<scenario>.jsonl`: one JSON line per exchange, keys
    /// redacted.
    pub exchanges: Vec<PathBuf>,
}

/// A key nobody else knows, fresh for each run.
fn fresh_key() -> String {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "sk-grade-{:x}{:x}{:x}",
        nanos,
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}

/// One scenario's run, graded.
struct ScenarioRun {
    run: ClientRun,
    results: Vec<CheckResult>,
    exchanges: PathBuf,
}

/// Grades `options.command` under every scenario of `options`, the runs going at once.
pub async fn grade(
    options: &GradeOptions,
    on_event: impl FnMut(GradeEvent<'_>),
) -> Result<Graded, GradeError> {
    let started_at = now();
    std::fs::create_dir_all(&options.exchanges_dir).map_err(|source| WriteError {
        path: options.exchanges_dir.clone(),
        source,
    })?;
    let on_event = Mutex::new(on_event);
    let event = |event: GradeEvent<'_>| {
        let mut on_event = on_event.lock().unwrap_or_else(|p| p.into_inner());
        (*on_event)(event)
    };
    let runs = futures::future::join_all(
        options
            .scenarios
            .iter()
            .map(|scenario| run_scenario(options, scenario, &event)),
    )
    .await;
    let mut results = Vec::new();
    let mut client_runs = Vec::new();
    let mut exchanges = Vec::new();
    for run in runs {
        let run = run?;
        results.extend(run.results);
        client_runs.push(run.run);
        exchanges.push(run.exchanges);
    }
    Ok(Graded {
        results: RunResults {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at,
            finished_at: now(),
            seed: 0,
            cases_per_check: 1,
            results,
            client_runs,
        },
        exchanges,
    })
}

async fn run_scenario(
    options: &GradeOptions,
    scenario: &ClientScenario,
    event: &impl Fn(GradeEvent<'_>),
) -> Result<ScenarioRun, GradeError> {
    event(GradeEvent::Started { scenario });
    let key = fresh_key();
    let config = scenario.config(&key)?;
    let emulator = Emulator::start(&[options.provider], config)
        .await
        .map_err(|source| GradeError::Emulator {
            provider: options.provider,
            source,
        })?;
    let journal = emulator
        .journal()
        .expect("ClientScenario::config turns the journal on");
    let time_limit = match scenario.expect.job {
        JobOutcome::NeverEnds => options
            .time_limit
            .min(options.bounds.give_up_within + Duration::from_secs(2)),
        _ => options.time_limit,
    };
    let invocation = Invocation {
        provider: options.provider,
        base_url: emulator.base_url(),
        key: key.clone(),
        work_dir: command::work_dir(&options.work_root, &scenario.name),
        time_limit,
    };
    let stop = Arc::new(Notify::new());
    let path = options
        .exchanges_dir
        .join(format!("{}.jsonl", scenario.name));
    let recorder = Recorder::create(
        options.provider,
        &key,
        journal.secrets(),
        &path,
        &options.bounds,
        Arc::clone(&stop),
    )
    .map(|r| Arc::new(Mutex::new(r)));
    let recorder = match recorder {
        Ok(recorder) => recorder,
        Err(e) => {
            emulator.shutdown().await;
            return Err(e.into());
        }
    };
    let sink = Arc::clone(&recorder);
    journal.stream_to(move |exchange| {
        sink.lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(exchange)
    });
    let clock = Instant::now();
    let outcome = command::run(&options.command, &invocation, stop.notified()).await;
    emulator.shutdown().await;
    let recorded = recorder
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .finish()?;
    let evidence = Evidence {
        judges: &recorded.judges,
        command: &outcome,
        expect: &scenario.expect,
        bounds: &options.bounds,
        capped: recorded.capped,
    };
    let results: Vec<CheckResult> = ClientCheckId::ALL
        .into_iter()
        .filter(|check| check.applies(&scenario.expect))
        .map(|check| {
            let judgement = judge(check, &evidence);
            to_result(options, scenario, check, judgement, &recorded, &key, clock)
        })
        .collect();
    let run = client_run(options, scenario, &invocation, &outcome, &key, &recorded);
    event(GradeEvent::Finished {
        scenario,
        run: &run,
        results: &results,
    });
    Ok(ScenarioRun {
        run,
        results,
        exchanges: recorded.path,
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `text` with every occurrence of `key` replaced by `[redacted]` (the command's output and
/// arguments, and messages quoting what it sent).
pub fn redact(text: &str, key: &str) -> String {
    if key.is_empty() {
        text.to_owned()
    } else {
        text.replace(key, img2img_emulator::REDACTED)
    }
}

fn to_result(
    options: &GradeOptions,
    scenario: &ClientScenario,
    check: ClientCheckId,
    judgement: Judgement,
    recorded: &Recorded,
    key: &str,
    clock: Instant,
) -> CheckResult {
    let (status, detail, failure) = match judgement {
        Judgement::Passed => (Status::Passed, None, None),
        Judgement::NotJudged(why) => (Status::Skipped, Some(why), None),
        Judgement::Failed(failed) => {
            let message = redact(&failed.message, key);
            let shown = failed.shown.unwrap_or_default();
            let failure = Failure {
                message: message.clone(),
                operation: (!shown.operation.is_empty()).then(|| redact(&shown.operation, key)),
                request: shown.request,
                response: shown.response,
            };
            (Status::Failed, Some(message), Some(failure))
        }
    };
    CheckResult {
        check: check.id().to_owned(),
        description: check.description().to_owned(),
        provider: options.provider.id().to_owned(),
        target: Target::Emulator,
        status,
        cases: 1,
        requests: requests(recorded),
        duration_ms: clock.elapsed().as_millis() as u64,
        detail,
        failure,
        scenario: Some(scenario.name.clone()),
        client: Some(options.client.clone()),
    }
}

fn requests(recorded: &Recorded) -> u32 {
    u32::try_from(recorded.judges.requests()).unwrap_or(u32::MAX)
}

fn client_run(
    options: &GradeOptions,
    scenario: &ClientScenario,
    invocation: &Invocation,
    outcome: &CommandOutcome,
    key: &str,
    recorded: &Recorded,
) -> ClientRun {
    ClientRun {
        client: options.client.clone(),
        provider: options.provider.id().to_owned(),
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        command: options
            .command
            .iter()
            .map(|a| redact(&command::expand(a, invocation), key))
            .collect(),
        exit_code: outcome.exit_code,
        timed_out: outcome.timed_out,
        duration_ms: outcome.duration.as_millis() as u64,
        requests: requests(recorded),
        output_tail: outcome
            .tail(options.tail_lines)
            .iter()
            .map(|line| redact(line, key))
            .collect(),
    }
}
