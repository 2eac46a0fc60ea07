//! A whole run: for each provider, bring up the target (in-process emulator, live provider with an
//! optional recording proxy, or a replay server), run each check in order, collect the results.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use img2img_specs::{ApiKey, Provider, Spec};

use super::budget::Budget;
use super::cassette::{Cassette, Recording};
pub use super::checks::Polling;
use super::checks::{self, CheckId, Context, Verdict};
use super::http::Caller;
use super::payload::Payload;
use super::proxy::{RecordingProxy, ReplayServer};
use img2img_emulator::Emulator;
use img2img_report::results::{CheckResult, RunResults, Status, Target};

/// Where a run points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetChoice {
    /// The embedded emulators, started in process on ephemeral loopback ports.
    Emulator,
    /// The live providers (or `--base-url`), with keys from the environment.
    Live,
}

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Emulator or live.
    pub target: TargetChoice,
    /// The providers to check.
    pub providers: Vec<Provider>,
    /// For live runs: any server speaking the provider's API (`scheme://host[:port]`).
    pub base_url: Option<String>,
    /// Most requests a live run may send, over all providers and checks.
    pub max_requests: u32,
    /// Store every live exchange here as cassettes, secrets redacted.
    pub record: Option<PathBuf>,
    /// Run against the cassettes here instead of any network.
    pub replay: Option<PathBuf>,
    /// Cases per property check.
    pub cases: u32,
    /// The proptest seed.
    pub seed: u64,
    /// The checks to run, in order.
    pub checks: Vec<CheckId>,
    /// What generated requests carry.
    pub payload: Payload,
    /// The emulators' configuration (faults and defects are for testing the harness).
    pub emulator: img2img_emulator::Config,
    /// Live keys given directly; a provider not listed takes its key from the environment.
    pub keys: Vec<(Provider, ApiKey)>,
    /// Most shrink steps per failing check (default: 256 on emulators and replays, 16 live, where
    /// each step costs requests).
    pub max_shrink_iters: Option<u32>,
    /// How jobs are polled (default: every few milliseconds and a 60 s deadline on emulators,
    /// no waiting on replays, 2 s to 20 s and a 600 s deadline live).
    pub polling: Option<Polling>,
    /// The longest one check may run; a check still running then is cut short and reported
    /// failed with the reason (default: [`DEFAULT_CHECK_TIMEOUT`], live [`DEFAULT_LIVE_CHECK_TIMEOUT`]).
    pub check_timeout: Option<Duration>,
    /// The longest the whole run may take: the check running then is cut short, and those not yet
    /// started are reported failed (`None`: only each check's own bound).
    pub max_time: Option<Duration>,
    /// How long a finished job is kept: on emulators, the TTL they are started with (default
    /// [`DEFAULT_EMULATOR_JOB_TTL`], overriding `emulator.job_ttl`); live, the target's TTL if
    /// known (`--job-ttl`), else the expiry check is skipped.
    pub job_ttl: Option<Duration>,
    /// The price of one image per provider, in USD, for the plan's cost (`--price`).
    pub prices: Vec<(Provider, f64)>,
}

/// Default time bound of one check against emulators and replays.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(600);
/// Default time bound of one check against a live target (a job may take minutes there).
pub const DEFAULT_LIVE_CHECK_TIMEOUT: Duration = Duration::from_secs(1800);
/// How long the embedded emulators keep a finished job, so the expiry check waits seconds.
pub const DEFAULT_EMULATOR_JOB_TTL: Duration = Duration::from_secs(3);
/// Shrink steps per failing check where each step costs requests (live, and so their replays).
pub const LIVE_SHRINK_ITERS: u32 = 16;
/// Extra time a check gets past its deadline to report how far it came.
const REPORT_GRACE: Duration = Duration::from_secs(2);

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            target: TargetChoice::Emulator,
            providers: Provider::all().collect::<Vec<_>>(),
            base_url: None,
            max_requests: 60,
            record: None,
            replay: None,
            cases: 32,
            seed: 0,
            checks: CheckId::ALL.to_vec(),
            payload: Payload::default(),
            emulator: img2img_emulator::Config::default(),
            keys: Vec::new(),
            polling: None,
            max_shrink_iters: None,
            check_timeout: None,
            max_time: None,
            job_ttl: None,
            prices: Vec::new(),
        }
    }
}

impl RunOptions {
    /// The target as reported.
    pub fn reported_target(&self) -> Target {
        match (self.replay.is_some(), self.target) {
            (true, _) => Target::Replay,
            (false, TargetChoice::Emulator) => Target::Emulator,
            (false, TargetChoice::Live) => Target::Live,
        }
    }

    /// Whether requests cost money (live, not replayed).
    pub fn spends(&self) -> bool {
        self.reported_target() == Target::Live
    }
}

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

/// The plan of a run: what would be sent, and what it may cost.
pub fn plan(options: &RunOptions) -> String {
    let mut out = format!(
        "plan: {} provider(s) × {} check(s) against {:?}, {} cases per property check, seed {}\n",
        options.providers.len(),
        options.checks.len(),
        options.reported_target(),
        options.cases,
        options.seed
    );
    let mut total = 0u64;
    let mut total_cost = Some(0.0);
    for provider in &options.providers {
        let spec = Spec::embedded(*provider);
        let url = options
            .base_url
            .clone()
            .or_else(|| spec.openapi().servers.first().map(|s| s.url.clone()))
            .unwrap_or_default();
        let key = &spec.extensions().provider.key_env;
        let has_key = ApiKey::from_env(key).is_some();
        out.push_str(&format!(
            "  {provider}: {}{}\n",
            if options.reported_target() == Target::Live {
                url
            } else {
                "in-process".into()
            },
            if options.reported_target() == Target::Live && !has_key {
                format!(" (no {key}: every check would be skipped)")
            } else {
                String::new()
            }
        ));
        let mut creates = 0u64;
        for check in &options.checks {
            let cases = u64::from(check.cases(options.cases));
            let estimate = cases * u64::from(check.requests_per_case());
            let paid = cases * u64::from(check.creates_per_case());
            total += estimate;
            creates += paid;
            out.push_str(&format!(
                "    {:<24} up to ~{estimate} requests, {paid} of them creates\n",
                check.id()
            ));
        }
        if options.spends() {
            let images = creates * options.payload.max_images;
            match options.prices.iter().find(|(p, _)| p == provider) {
                Some((_, usd)) => {
                    let cost = images as f64 * usd;
                    total_cost = total_cost.map(|sum| sum + cost);
                    out.push_str(&format!(
                        "    cost: up to {creates} creates × {} image(s) × ${usd} = ${cost:.2} (--price)\n",
                        options.payload.max_images
                    ));
                }
                None => {
                    total_cost = None;
                    out.push_str(&format!(
                        "    cost: unknown: the spec gives no price; pass --price {provider}=USD (one image)\n"
                    ));
                }
            }
        }
    }
    if options.spends() {
        out.push_str(&format!(
            "estimated requests: ~{total} (shrinking a failure costs more); the run stops at --max-requests {}\n",
            options.max_requests
        ));
        if let Some(cost) = total_cost {
            // However many creates the checks would send, the budget stops the run first.
            let dearest = options
                .prices
                .iter()
                .filter(|(p, _)| options.providers.contains(p))
                .map(|(_, usd)| *usd)
                .fold(0.0, f64::max);
            let capped =
                f64::from(options.max_requests) * options.payload.max_images as f64 * dearest;
            out.push_str(&format!(
                "estimated cost: up to ${:.2} (--max-requests {} caps it at ${capped:.2})\n",
                cost, options.max_requests
            ));
        }
    } else {
        out.push_str(&format!(
            "estimated requests: ~{total}, none of them paid\n"
        ));
    }
    out
}

enum Prepared {
    Emulator(Emulator),
    Replay(ReplayServer),
    Live(Option<RecordingProxy>),
}

/// Runs the checks; `on_event` hears each start and finish.
pub async fn run(
    options: &RunOptions,
    mut on_event: impl FnMut(Event),
) -> Result<RunResults, String> {
    let started_at = now();
    // A replay keeps the recording's budget, so it stops where the recording ran out.
    let budget = if options.spends() || options.replay.is_some() {
        Budget::new(options.max_requests)
    } else {
        Budget::unlimited()
    };
    let target = options.reported_target();
    let mut results = Vec::new();
    let run_deadline = options
        .max_time
        .map(|limit| tokio::time::Instant::now() + limit);
    let check_timeout = options.check_timeout.unwrap_or(match target {
        Target::Live => DEFAULT_LIVE_CHECK_TIMEOUT,
        Target::Emulator | Target::Replay => DEFAULT_CHECK_TIMEOUT,
    });
    for &provider in &options.providers {
        let spec = Spec::embedded(provider);
        let ext = spec.extensions();
        let key_field = (ext.auth.placement == img2img_specs::extensions::AuthPlacement::Body)
            .then(|| ext.auth.name.clone());

        let (prepared, base_url, key) = if let Some(dir) = &options.replay {
            let cassette = Cassette::load(&Cassette::path(dir, provider.id()))?;
            let server = ReplayServer::start(&cassette, key_field.clone())
                .await
                .map_err(|e| format!("cannot start the replay server: {e}"))?;
            let url = server.url().to_owned();
            (
                Some(Prepared::Replay(server)),
                url,
                Some(ApiKey::new("replay-key")),
            )
        } else {
            match options.target {
                TargetChoice::Emulator => {
                    let mut config = options.emulator.clone();
                    let key = ApiKey::new(format!("emulator-key-{:016x}", options.seed));
                    if config.api_keys.is_empty() {
                        config.api_keys = vec![key.clone()];
                    }
                    let key = config.api_keys[0].clone();
                    config.job_ttl = options.job_ttl.unwrap_or(DEFAULT_EMULATOR_JOB_TTL);
                    let running = Emulator::start(&[provider], config)
                        .await
                        .map_err(|e| format!("cannot start the {provider} emulator: {e}"))?;
                    let url = running.base_url();
                    (Some(Prepared::Emulator(running)), url, Some(key))
                }
                TargetChoice::Live => {
                    let given = options
                        .keys
                        .iter()
                        .find(|(p, _)| *p == provider)
                        .map(|(_, k)| k.clone());
                    let Some(key) = given.or_else(|| ApiKey::from_env(&ext.provider.key_env))
                    else {
                        let reason = format!(
                            "no {} in the environment: live checks need a key",
                            ext.provider.key_env
                        );
                        for check in &options.checks {
                            let result = skipped(*check, provider, target, &reason);
                            on_event(Event::Finished(Box::new(result.clone())));
                            results.push(result);
                        }
                        continue;
                    };
                    let upstream = options
                        .base_url
                        .clone()
                        .or_else(|| spec.openapi().servers.first().map(|s| s.url.clone()))
                        .ok_or_else(|| {
                            format!("the {provider} spec has no server and no --base-url was given")
                        })?;
                    match &options.record {
                        Some(_) => {
                            let proxy = RecordingProxy::start(
                                &upstream,
                                vec![key.expose_secret().to_owned()],
                                key_field.clone(),
                            )
                            .await
                            .map_err(|e| format!("cannot start the recording proxy: {e}"))?;
                            let url = proxy.url().to_owned();
                            (Some(Prepared::Live(Some(proxy))), url, Some(key))
                        }
                        None => (Some(Prepared::Live(None)), upstream, Some(key)),
                    }
                }
            }
        };

        let mut caller = Caller::new(provider, &base_url, key, budget.clone());
        if matches!(
            prepared,
            Some(Prepared::Replay(_)) | Some(Prepared::Live(Some(_)))
        ) {
            caller = caller.with_downloads_via(&base_url);
        }
        let context = Context {
            caller,
            payload: options.payload.clone(),
            cases: options.cases,
            seed: options.seed,
            max_shrink_iters: options.max_shrink_iters.unwrap_or(if options.spends() {
                LIVE_SHRINK_ITERS
            } else {
                256
            }),
            polling: options.polling.clone().unwrap_or_else(|| polling(target)),
            target,
            deadline: None,
            job_ttl: match &prepared {
                Some(Prepared::Emulator(_)) => {
                    Some(options.job_ttl.unwrap_or(DEFAULT_EMULATOR_JOB_TTL))
                }
                Some(Prepared::Live(_)) | Some(Prepared::Replay(_)) => options.job_ttl,
                None => None,
            },
        };
        for &check in &options.checks {
            on_event(Event::Started { provider, check });
            let before = budget.spent();
            let refused_before = budget.refused();
            let clock = Instant::now();
            let now = tokio::time::Instant::now();
            let spent = run_deadline.is_some_and(|d| now >= d);
            let verdict = if let Some(why) = budget.too_small_for(check, options.cases) {
                Verdict::Skipped(why)
            } else if spent {
                Verdict::Failed {
                    cases: 0,
                    failure: checks::failure(
                        format!(
                            "not started: the run's --max-time of {} s was spent",
                            options.max_time.unwrap_or_default().as_secs()
                        ),
                        None,
                    ),
                }
            } else {
                let own = now + check_timeout;
                let (deadline, bound) = match run_deadline {
                    Some(run_end) if run_end < own => (
                        run_end,
                        format!(
                            "the run's --max-time of {} s",
                            options.max_time.unwrap_or_default().as_secs()
                        ),
                    ),
                    _ => (
                        own,
                        format!("its time bound of {} s", check_timeout.as_secs()),
                    ),
                };
                let bounded = Context {
                    deadline: Some(deadline),
                    ..context.clone()
                };
                match tokio::time::timeout_at(deadline + REPORT_GRACE, checks::run(check, &bounded))
                    .await
                {
                    Ok(verdict) => verdict,
                    Err(_) => Verdict::Failed {
                        cases: 0,
                        failure: checks::failure(
                            format!("cut short: {} did not finish within {bound}", check.id()),
                            context.caller.journal().last(),
                        ),
                    },
                }
            };
            let verdict = budget.settle(refused_before, verdict);
            let result = to_result(
                check,
                provider,
                target,
                verdict,
                budget.spent() - before,
                clock.elapsed(),
            );
            on_event(Event::Finished(Box::new(result.clone())));
            results.push(result);
        }

        match prepared {
            Some(Prepared::Emulator(running)) => running.shutdown().await,
            Some(Prepared::Replay(server)) => server.shutdown().await,
            Some(Prepared::Live(Some(proxy))) => {
                let cassette = proxy.finish(provider.id()).await;
                if let Some(dir) = &options.record {
                    cassette.save(&Cassette::path(dir, provider.id()))?;
                }
            }
            Some(Prepared::Live(None)) | None => {}
        }
    }
    if let Some(dir) = &options.record {
        Recording::of(options).save(dir)?;
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

fn polling(target: Target) -> Polling {
    match target {
        Target::Emulator => Polling {
            deadline: Duration::from_secs(60),
            initial: Duration::from_millis(5),
            max: Duration::from_millis(200),
        },
        Target::Replay => Polling {
            deadline: Duration::from_secs(60),
            initial: Duration::ZERO,
            max: Duration::ZERO,
        },
        Target::Live => Polling {
            deadline: Duration::from_secs(600),
            initial: Duration::from_secs(2),
            max: Duration::from_secs(20),
        },
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn skipped(check: CheckId, provider: Provider, target: Target, reason: &str) -> CheckResult {
    to_result(
        check,
        provider,
        target,
        Verdict::Skipped(reason.to_owned()),
        0,
        Duration::ZERO,
    )
}

fn to_result(
    check: CheckId,
    provider: Provider,
    target: Target,
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
