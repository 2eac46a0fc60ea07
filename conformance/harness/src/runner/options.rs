//! What a run is asked to do ([`RunOptions`], [`Target`]) and its plan.

use std::path::PathBuf;
use std::time::Duration;

use img2img_report::results::Target as Reported;
use img2img_specs::{ApiKey, Provider, Spec};

use crate::checks::{CheckId, Polling};
use crate::payload::Payload;

/// Default time bound of one check against emulators and replays.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(600);
/// Default time bound of one check against a live target (a job may take minutes there).
pub const DEFAULT_LIVE_CHECK_TIMEOUT: Duration = Duration::from_secs(1800);
/// How long the embedded emulators keep a finished job, so the expiry check waits seconds.
pub const DEFAULT_EMULATOR_JOB_TTL: Duration = Duration::from_secs(3);
/// Shrink steps per failing check where each step costs requests (live, and so their replays).
pub const LIVE_SHRINK_ITERS: u32 = 16;

/// Where a run points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Target {
    /// The embedded emulators, started in process on ephemeral loopback ports.
    #[default]
    Emulator,
    /// The live providers, with keys from [`RunOptions::keys`] or the environment.
    Live {
        /// Any server speaking the provider's API instead of the spec's server
        /// (`scheme://host[:port]`: a proxy, staging, an emulator started elsewhere).
        base_url: Option<String>,
        /// Store every exchange in this directory as cassettes, secrets redacted.
        record: Option<PathBuf>,
    },
    /// The cassettes in this directory, served from loopback: no network.
    Replay(PathBuf),
}

impl Target {
    /// The live providers at the spec's servers, nothing recorded.
    pub fn live() -> Target {
        Target::Live {
            base_url: None,
            record: None,
        }
    }

    /// The target as results report it.
    pub fn reported(&self) -> Reported {
        match self {
            Target::Emulator => Reported::Emulator,
            Target::Live { .. } => Reported::Live,
            Target::Replay(_) => Reported::Replay,
        }
    }

    /// Whether requests cost money (live).
    pub fn spends(&self) -> bool {
        matches!(self, Target::Live { .. })
    }
}

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Emulators, live providers, or cassettes.
    pub target: Target,
    /// The providers to check.
    pub providers: Vec<Provider>,
    /// Most requests a live run may send, over all providers and checks.
    pub max_requests: u32,
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

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            target: Target::Emulator,
            providers: Provider::all().collect(),
            max_requests: 60,
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
    pub fn reported_target(&self) -> Reported {
        self.target.reported()
    }

    /// Whether requests cost money (live).
    pub fn spends(&self) -> bool {
        self.target.spends()
    }

    /// The directory a live run records its cassettes in, if it records.
    pub fn record_dir(&self) -> Option<&std::path::Path> {
        match &self.target {
            Target::Live { record, .. } => record.as_deref(),
            Target::Emulator | Target::Replay(_) => None,
        }
    }

    /// The time bound of one check: `check_timeout`, else the target's default.
    pub(crate) fn check_timeout(&self) -> Duration {
        self.check_timeout.unwrap_or(if self.spends() {
            DEFAULT_LIVE_CHECK_TIMEOUT
        } else {
            DEFAULT_CHECK_TIMEOUT
        })
    }

    /// How jobs are polled: `polling`, else the target's default.
    pub(crate) fn polling(&self) -> Polling {
        self.polling.clone().unwrap_or_else(|| match self.target {
            Target::Emulator => Polling {
                deadline: Duration::from_secs(60),
                initial: Duration::from_millis(5),
                max: Duration::from_millis(200),
            },
            Target::Replay(_) => Polling {
                deadline: Duration::from_secs(60),
                initial: Duration::ZERO,
                max: Duration::ZERO,
            },
            Target::Live { .. } => Polling {
                deadline: Duration::from_secs(600),
                initial: Duration::from_secs(2),
                max: Duration::from_secs(20),
            },
        })
    }

    /// Most shrink steps per failing check: `max_shrink_iters`, else fewer where steps cost money.
    pub(crate) fn max_shrink_iters(&self) -> u32 {
        self.max_shrink_iters.unwrap_or(if self.spends() {
            LIVE_SHRINK_ITERS
        } else {
            256
        })
    }

    /// The base URL a live run sends `spec`'s requests to: the one given, else the spec's server.
    pub(crate) fn live_url(&self, spec: &Spec) -> Option<String> {
        let given = match &self.target {
            Target::Live { base_url, .. } => base_url.clone(),
            Target::Emulator | Target::Replay(_) => None,
        };
        given.or_else(|| spec.openapi().servers.first().map(|s| s.url.clone()))
    }
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
        let key = &spec.extensions().provider.key_env;
        let place = if options.spends() {
            let url = options.live_url(spec).unwrap_or_default();
            match ApiKey::from_env(key) {
                Some(_) => url,
                None => format!("{url} (no {key}: every check would be skipped)"),
            }
        } else {
            "in-process".to_owned()
        };
        out.push_str(&format!("  {provider}: {place}\n"));
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
