//! How an emulator behaves: keys, latency, limits, faults and deliberate defects, and per provider
//! (keyed by id) what differs from its spec's defaults.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use img2img_specs::{ApiKey, Provider};
use serde::Deserialize;

use super::faults::{FaultRule, KeyFault};

/// Everything that shapes an emulator run. `Config::default()` is fast and permissive: any non-empty
/// key, a few milliseconds per job stage, every provider as its spec says (a `sync-or-queued` one
/// answering synchronously), no rate limit, no fault, no defect.
#[derive(Debug, Clone)]
pub struct Config {
    /// Accepted keys; empty means any non-empty key is accepted (a warning is logged once).
    pub api_keys: Vec<ApiKey>,
    /// How long each job stage lasts.
    pub latency: Latency,
    /// Per provider, what differs from its spec's defaults; a provider not listed takes them all.
    pub providers: BTreeMap<Provider, ProviderSettings>,
    /// Apply each spec's rate limits (`x-limits.rate-limit`, with the numbers of `providers` where
    /// set); off by default.
    pub rate_limit: bool,
    /// Most output pixels (`width * height * count`) one request may ask for; above it the request
    /// is refused with a 4xx naming the size and the budget, before anything is allocated.
    pub pixel_budget: u64,
    /// Faults applied to every run's requests (besides the `x-emulator-fault` header).
    pub faults: Vec<FaultRule>,
    /// Faults bound to a key: every request carrying that key gets them (for clients that cannot
    /// add the `x-emulator-fault` header, such as SDKs). A key listed here is also accepted.
    pub key_faults: Vec<KeyFault>,
    /// Keep a [`Journal`](crate::Journal) of every exchange (request, answer, timing, the operation
    /// reached), for graders of clients and the SDK suite; off by default. Bounded: bodies above
    /// 256 KiB are held cut, at most 64 MiB held (see [`Journal`](crate::Journal)).
    pub journal: bool,
    /// Deliberate defects, each breaking one promise of the spec.
    pub defects: Defects,
    /// Finished jobs and their images are evicted this long after they end (images sooner when
    /// the provider's URL TTL is shorter).
    pub job_ttl: Duration,
    /// Most jobs held at once; when full, the oldest finished jobs are evicted, and when every job
    /// is still running a create is refused with the provider's 503.
    pub max_jobs: usize,
    /// Most encoded image bytes held at once; the oldest images are evicted beyond it.
    pub max_stored_bytes: u64,
    /// Webhook delivery settings.
    pub webhooks: WebhookConfig,
    /// Refuse image URLs the emulator did not serve (400), instead of standing in for each a
    /// deterministic input derived from the URL (the default, since the docs' own examples send
    /// such URLs). Either way the emulator never fetches a URL.
    pub strict_images: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_keys: Vec::new(),
            latency: Latency::default(),
            providers: BTreeMap::new(),
            rate_limit: false,
            pixel_budget: DEFAULT_PIXEL_BUDGET,
            faults: Vec::new(),
            key_faults: Vec::new(),
            journal: false,
            defects: Defects::default(),
            job_ttl: Duration::from_secs(3600),
            max_jobs: 10_000,
            max_stored_bytes: 256 * 1024 * 1024,
            webhooks: WebhookConfig::default(),
            strict_images: false,
        }
    }
}

impl Config {
    /// What differs from `provider`'s spec (nothing, if it is not listed).
    pub fn settings(&self, provider: Provider) -> ProviderSettings {
        self.providers.get(&provider).copied().unwrap_or_default()
    }

    /// The settings of `provider`, to change them.
    pub fn settings_mut(&mut self, provider: Provider) -> &mut ProviderSettings {
        self.providers.entry(provider).or_default()
    }

    /// `self` with `provider`'s create call answering in `style`.
    pub fn with_answer_style(mut self, provider: Provider, style: AnswerStyle) -> Self {
        self.settings_mut(provider).answer_style = Some(style);
        self
    }
}

/// Default pixel budget: 2048 x 2048 x 8 (33.5 megapixels), the largest valid request of the
/// specs this project began with.
pub const DEFAULT_PIXEL_BUDGET: u64 = 2048 * 2048 * 8;

/// What one provider does differently from its spec's defaults; `None` keeps the spec's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    /// How the create call of a `sync-or-queued` provider (`x-job.style`) answers (default:
    /// [`AnswerStyle::Sync`]).
    pub answer_style: Option<AnswerStyle>,
    /// Images per key in any 60 s window, with [`Config::rate_limit`] (default:
    /// `x-limits.rate-limit.images-per-minute`).
    pub images_per_minute: Option<u32>,
    /// Jobs per key not yet finished, with [`Config::rate_limit`] (default:
    /// `x-limits.rate-limit.queued-requests`).
    pub queued_requests: Option<u32>,
    /// The wait a refusal over the queued-requests limit asks for, in seconds (default:
    /// `x-limits.rate-limit.retry-after-seconds`, else 0).
    pub retry_after_secs: Option<u32>,
    /// Retries of a failed webhook delivery (default: `x-emulator.answers.webhook.retries`).
    pub webhook_retries: Option<u32>,
}

/// How the create call of a `sync-or-queued` provider answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerStyle {
    /// With the finished job, once it is done (a job still running after its latency plus the
    /// spec's `sync-grace-seconds` is answered as queued).
    #[default]
    Sync,
    /// At once, with the job still queued (the spec's answer for a running job).
    Queued,
}

/// An answer style that is neither `sync` nor `queued`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("answer style {0:?} is not one of sync, queued")]
pub struct UnknownAnswerStyle(pub String);

impl FromStr for AnswerStyle {
    type Err = UnknownAnswerStyle;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sync" => Ok(AnswerStyle::Sync),
            "queued" => Ok(AnswerStyle::Queued),
            other => Err(UnknownAnswerStyle(other.to_owned())),
        }
    }
}

impl fmt::Display for AnswerStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnswerStyle::Sync => "sync",
            AnswerStyle::Queued => "queued",
        })
    }
}

/// Duration of each stage of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// Time a job waits queued (the spec's `x-job.stages.queued`).
    pub queued: Duration,
    /// Time a job spends processing (at least as long as rendering its images takes).
    pub processing: Duration,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            queued: Duration::from_millis(2),
            processing: Duration::from_millis(5),
        }
    }
}

impl Latency {
    /// The same duration for each stage.
    pub fn per_stage(stage: Duration) -> Self {
        Latency {
            queued: stage,
            processing: stage,
        }
    }

    /// Queued plus processing.
    pub fn total(&self) -> Duration {
        self.queued + self.processing
    }
}

/// Deliberate defects: each one makes the emulator break one promise of the spec, so that a
/// harness can prove its checks fail when they should. All false by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Defects {
    /// Accept requests the spec rules out.
    pub skip_validation: bool,
    /// Accept missing or wrong keys.
    pub skip_auth: bool,
    /// Answer a successful create with HTTP 202, which no spec documents.
    pub undocumented_status: bool,
    /// Send JSON bodies as `text/plain`.
    pub wrong_content_type: bool,
    /// Send job answers that violate the response schema: a number where `x-job.status-pointer`
    /// points (in an answer without a status, where `x-job.id-pointer` points).
    pub break_response_schema: bool,
    /// Send validation errors as a bare JSON string that is not the provider's error shape and
    /// names no field.
    pub wrong_error_shape: bool,
    /// Outputs differ between two identical requests with the same seed.
    pub ignore_seed: bool,
    /// Jobs never reach a terminal status.
    pub stall_jobs: bool,
    /// Outputs are 16 pixels wider than requested.
    pub wrong_image_size: bool,
    /// A finished job reports a status word its spec does not list (the spec's
    /// `x-emulator.answers.unlisted-status`, `done` by default), as a changed live API would.
    pub unlisted_status: bool,
    /// The result operation answers every job as unknown, even one just created.
    pub forget_jobs: bool,
    /// An unknown job id is answered 400 (a bad request) instead of the spec's `x-not-found`.
    pub not_found_as_bad_request: bool,
    /// Jobs and images are never evicted, whatever their TTL.
    pub keep_expired_jobs: bool,
    /// A method the spec does not list for a path is answered 404 without `Allow`, instead of 405
    /// with the methods it lists.
    pub method_not_allowed_as_not_found: bool,
}

/// Where webhooks may go, and how long each attempt may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Time the receiver has to answer one attempt (5 s, the window providers document).
    pub timeout: Duration,
    /// Wait before the first retry; doubled for each further retry.
    pub backoff: Duration,
    /// Whether webhooks may go to hosts other than loopback (off: such a webhook is skipped and a
    /// warning logged; the request itself still succeeds).
    pub allow_remote: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(500),
            allow_remote: false,
        }
    }
}
