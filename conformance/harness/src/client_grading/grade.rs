//! One grading run: for each scenario, an emulator of the provider on a free loopback port with
//! its journal on, the command run against it, and the checks that apply judged from the journal.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use img2img_emulator::{Emulator, Exchange, Outcome};
use img2img_report::results::{
    CheckResult, ClientRun, Failure, RecordedResponse, RunResults, Status, Target,
};
use img2img_specs::Provider;
use img2img_specs::extensions::AuthPlacement;
use serde_json::{Value, json};

use super::checks::{Bounds, ClientCheckId, Evidence, Judgement, judge};
use super::command::{self, CommandOutcome, Invocation};
use super::scenario::{ClientScenario, JobOutcome, ScenarioError};
use super::traffic::{self, Call};

/// What a grading run needs.
#[derive(Debug, Clone)]
pub struct GradeOptions {
    /// The client's name in the results.
    pub client: String,
    /// The provider whose emulator the command talks to.
    pub provider: Provider,
    /// The scenarios, in order.
    pub scenarios: Vec<ClientScenario>,
    /// The command and its arguments (`{base_url}`, `{work_dir}`, `{provider}` are replaced).
    pub command: Vec<String>,
    /// Each run is stopped after this long (a scenario whose job never ends stops sooner: at
    /// the give-up bound plus 2 s).
    pub time_limit: Duration,
    /// What "fast", "soon" and "late" mean.
    pub bounds: Bounds,
    /// Lines of output kept per run in the results.
    pub tail_lines: usize,
    /// Where each run's work directory goes (`<dir>/<scenario>`).
    pub work_root: PathBuf,
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
}

/// A graded run: the results, and each scenario's exchanges (redacted) for `exchanges/*.jsonl`.
#[derive(Debug, Clone)]
pub struct Graded {
    /// The results (`results.json`).
    pub results: RunResults,
    /// Per scenario, one JSON line per exchange, keys redacted.
    pub exchanges: Vec<(String, Vec<Value>)>,
}

/// A key nobody else knows, fresh for each run.
fn fresh_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("sk-grade-{:x}{:x}", nanos, std::process::id())
}

/// Grades `options.command` under every scenario of `options`.
pub async fn grade(
    options: &GradeOptions,
    mut on_event: impl FnMut(GradeEvent<'_>),
) -> Result<Graded, GradeError> {
    let started_at = now();
    let mut results = Vec::new();
    let mut runs = Vec::new();
    let mut exchanges = Vec::new();
    for scenario in &options.scenarios {
        on_event(GradeEvent::Started { scenario });
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
        let clock = Instant::now();
        let outcome = command::run(&options.command, &invocation).await;
        emulator.shutdown().await;
        let journaled = journal.exchanges();
        let calls = traffic::read(options.provider, &journaled);
        let scenario_results: Vec<CheckResult> = ClientCheckId::ALL
            .into_iter()
            .filter(|check| check.applies(&scenario.expect))
            .map(|check| {
                let evidence = Evidence {
                    provider: options.provider,
                    calls: &calls,
                    command: &outcome,
                    expect: &scenario.expect,
                    key: &key,
                    bounds: &options.bounds,
                };
                let judgement = judge(check, &evidence);
                to_result(options, scenario, check, judgement, &calls, &key, clock)
            })
            .collect();
        let run = client_run(options, scenario, &invocation, &outcome, &key, calls.len());
        on_event(GradeEvent::Finished {
            run: &run,
            results: &scenario_results,
        });
        exchanges.push((
            scenario.name.clone(),
            journaled
                .iter()
                .map(|e| exchange_line(options.provider, e, &key))
                .collect(),
        ));
        results.extend(scenario_results);
        runs.push(run);
    }
    Ok(Graded {
        results: RunResults {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at,
            finished_at: now(),
            seed: 0,
            cases_per_check: 1,
            results,
            client_runs: runs,
        },
        exchanges,
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `text` with every occurrence of `key` replaced by `[redacted]`.
pub fn redact(text: &str, key: &str) -> String {
    if key.is_empty() {
        text.to_owned()
    } else {
        text.replace(key, "[redacted]")
    }
}

/// Longest string kept whole in a recorded body (base64 images are cut).
const LONG_STRING: usize = 256;

fn redact_value(value: Value, key: &str) -> Value {
    match value {
        Value::String(s) => {
            // Redacted before it is cut, so no part of a key survives the cut.
            let s = redact(&s, key);
            let length = s.chars().count();
            if length > LONG_STRING {
                let head: String = s.chars().take(48).collect();
                Value::String(format!("{head}… ({length} characters)"))
            } else {
                Value::String(s)
            }
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| redact_value(v, key)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, redact_value(v, key)))
                .collect(),
        ),
        other => other,
    }
}

/// A body as JSON if it parses, else its text (cut to 2 KiB); keys redacted.
fn body_value(bytes: &[u8], key: &str) -> Value {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => redact_value(value, key),
        Err(_) => Value::String(redact(
            &String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]),
            key,
        )),
    }
}

fn recorded(exchange: &Exchange, key: &str) -> Option<RecordedResponse> {
    let answer = exchange.produced()?;
    Some(RecordedResponse {
        status: answer.status,
        content_type: answer.header("content-type").map(str::to_owned),
        body: match &answer.body {
            Some(bytes)
                if answer
                    .header("content-type")
                    .is_some_and(|t| !t.starts_with("image/")) =>
            {
                body_value(bytes, key)
            }
            _ => json!(format!("<{} bytes>", answer.length)),
        },
    })
}

fn to_result(
    options: &GradeOptions,
    scenario: &ClientScenario,
    check: ClientCheckId,
    judgement: Judgement,
    calls: &[Call],
    key: &str,
    clock: Instant,
) -> CheckResult {
    let (status, detail, failure) = match judgement {
        Judgement::Passed => (Status::Passed, None, None),
        Judgement::Failed { message, call } => {
            let message = redact(&message, key);
            let call = call.and_then(|i| calls.get(i));
            let failure = Failure {
                message: message.clone(),
                operation: call.map(|c| {
                    c.operation
                        .as_ref()
                        .map_or_else(|| c.line(), |op| op.id.clone())
                }),
                request: call
                    .filter(|c| !c.exchange.body.is_empty())
                    .map(|c| body_value(&c.exchange.body, key)),
                response: call.and_then(|c| recorded(&c.exchange, key)),
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
        requests: calls.len() as u32,
        duration_ms: clock.elapsed().as_millis() as u64,
        detail,
        failure,
        scenario: Some(scenario.name.clone()),
        client: Some(options.client.clone()),
    }
}

fn client_run(
    options: &GradeOptions,
    scenario: &ClientScenario,
    invocation: &Invocation,
    outcome: &CommandOutcome,
    key: &str,
    requests: usize,
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
        requests: requests as u32,
        output_tail: outcome
            .tail(options.tail_lines)
            .iter()
            .map(|line| redact(line, key))
            .collect(),
    }
}

/// One exchange as a JSON line of `exchanges/<scenario>.jsonl`: times in ms, the request (the key
/// header dropped, body keys redacted) and what came back.
fn exchange_line(provider: Provider, exchange: &Exchange, key: &str) -> Value {
    let auth = &img2img_specs::Spec::embedded(provider).extensions().auth;
    let headers: serde_json::Map<String, Value> = exchange
        .headers
        .iter()
        .filter(|(name, _)| {
            !(auth.placement == AuthPlacement::Header && name.eq_ignore_ascii_case(&auth.name))
        })
        .map(|(name, value)| (name.clone(), Value::String(redact(value, key))))
        .collect();
    let outcome = match &exchange.outcome {
        Outcome::Answered(_) => "answered",
        Outcome::Dropped { unsent: Some(_) } => "dropped after the operation ran",
        Outcome::Dropped { unsent: None } => "dropped",
    };
    json!({
        "seq": exchange.seq,
        "received_ms": exchange.received.as_secs_f64() * 1000.0,
        "finished_ms": exchange.finished.as_secs_f64() * 1000.0,
        "method": exchange.method,
        "path": exchange.path,
        "query": exchange.query,
        "headers": headers,
        "body": (!exchange.body.is_empty()).then(|| body_value(&exchange.body, key)),
        "outcome": outcome,
        "response": recorded(exchange, key),
    })
}
