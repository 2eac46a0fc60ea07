//! How an emulator behaves: keys, latency, modes, limits, faults and deliberate defects, and the
//! scenario file (`--scenario FILE`) that sets them for a run.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use img2img_specs::{ApiKey, Provider, Spec};
use serde::Deserialize;

/// Everything that shapes an emulator run. `Config::default()` is fast and permissive: any non-empty
/// key, a few milliseconds per job stage, ModelsLab answering synchronously, no rate limit, no
/// fault, no defect.
#[derive(Debug, Clone)]
pub struct Config {
    /// Accepted keys; empty means any non-empty key is accepted (a warning is logged once).
    pub api_keys: Vec<ApiKey>,
    /// How long each job stage lasts.
    pub latency: Latency,
    /// Whether ModelsLab answers with the images (`Sync`) or with `processing` and `fetch_result`.
    pub modelslab_mode: ModelslabMode,
    /// Rate limits as the providers apply them; `None` (the default) disables them.
    pub rate_limit: Option<RateLimit>,
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
            modelslab_mode: ModelslabMode::Sync,
            rate_limit: None,
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

/// Default pixel budget: 2048 x 2048 x 8, Novita's largest valid request (33.5 megapixels).
pub const DEFAULT_PIXEL_BUDGET: u64 = 2048 * 2048 * 8;

/// Duration of each stage of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// Time a job waits queued (Novita `TASK_STATUS_QUEUED`, GPTProto `pending`).
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

/// How ModelsLab's create call answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelslabMode {
    /// `status: success` with the images, once the job is done.
    #[default]
    Sync,
    /// `status: processing` with `eta`, `id` and `fetch_result`; fetch with `{key, request_id}`.
    Queued,
}

impl FromStr for ModelslabMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sync" => Ok(ModelslabMode::Sync),
            "queued" => Ok(ModelslabMode::Queued),
            other => Err(format!(
                "modelslab mode {other:?} is not one of sync, queued"
            )),
        }
    }
}

/// Rate limits as each provider applies them (`x-limits.rate-limit` of its spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Novita: images created per key in any 60 s window.
    pub novita_images_per_minute: u32,
    /// ModelsLab: jobs per key not yet finished.
    pub modelslab_queued_requests: u32,
    /// ModelsLab's `retry_after` in its 429 body, in seconds.
    pub modelslab_retry_after_secs: u32,
}

impl Default for RateLimit {
    /// The numbers of the specs' `x-limits.rate-limit` (Novita images per minute; ModelsLab queued
    /// requests and `retry_after`); a number a spec does not give is no limit (`u32::MAX`) and no
    /// wait (0).
    fn default() -> Self {
        let rate = |provider: Provider| {
            Spec::embedded(provider)
                .extensions()
                .limits
                .rate_limit
                .clone()
                .unwrap_or_default()
        };
        let (novita, modelslab) = (rate(Provider::Novita), rate(Provider::Modelslab));
        RateLimit {
            novita_images_per_minute: novita.images_per_minute.unwrap_or(u32::MAX),
            modelslab_queued_requests: modelslab.queued_requests.unwrap_or(u32::MAX),
            modelslab_retry_after_secs: modelslab.retry_after_seconds.unwrap_or(0),
        }
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
    /// Send success bodies that violate the response schema (a field of the wrong type).
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
    /// A finished job reports a status word its spec does not list (Novita `TASK_STATUS_DONE`,
    /// GPTProto and ModelsLab `done`), as a changed live API would.
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

/// Where webhooks may go, and how hard delivery tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Time the receiver has to answer one attempt (Novita: 5 s).
    pub timeout: Duration,
    /// Wait before the first retry; doubled for each further retry.
    pub backoff: Duration,
    /// Retries after a failed attempt (timeout or non-2xx): Novita documents 5; ModelsLab documents
    /// none, so it gets one attempt only.
    pub novita_retries: u32,
    /// Whether webhooks may go to hosts other than loopback (off: such a webhook is skipped and a
    /// warning logged; the request itself still succeeds).
    pub allow_remote: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(500),
            novita_retries: 5,
            allow_remote: false,
        }
    }
}

/// A fault the emulator injects into a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and the provider's error body for it.
    Status(u16),
    /// Wait this long before answering.
    Latency(Duration),
    /// The job created by this request fails with this reason.
    FailTask(String),
    /// The body is not JSON.
    Malformed,
    /// The JSON body is cut in half.
    Truncated,
    /// The connection is closed without a response.
    Drop,
    /// The request is served (a create makes its job, which then runs), then the connection is
    /// closed without sending the answer: an accepted and billed call whose answer is lost.
    DropAfter,
    /// The answer carries `Retry-After: N` (seconds); a `status=429` answer becomes the provider's
    /// rate-limit body, with its own wait field where it has one (ModelsLab `retry_after`).
    RetryAfter(u32),
    /// The response carries this `Content-Type`.
    ContentType(String),
}

/// The error for a fault that cannot be parsed, naming the text and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "fault {text:?}: {problem}; expected status=<100..599>, latency=<N>ms|s, fail=<reason>, malformed, truncate, drop, drop-after, retry-after=<0..86400> or content-type=<type>"
)]
pub struct ParseFaultError {
    /// The fault as written.
    pub text: String,
    /// What is wrong with it.
    pub problem: String,
}

impl FromStr for Fault {
    type Err = ParseFaultError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let error = |problem: String| ParseFaultError {
            text: text.to_owned(),
            problem,
        };
        let (name, value) = match text.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (text, None),
        };
        match (name, value) {
            ("status", Some(value)) => {
                let status: u16 = value
                    .parse()
                    .map_err(|_| error(format!("status {value:?} is not a number")))?;
                if !(100..=599).contains(&status) {
                    return Err(error(format!(
                        "status {status} is outside the range 100..599"
                    )));
                }
                Ok(Fault::Status(status))
            }
            ("latency", Some(value)) => parse_duration(value).map(Fault::Latency).map_err(error),
            ("fail", Some(reason)) if !reason.is_empty() => Ok(Fault::FailTask(reason.to_owned())),
            ("fail", _) => Err(error("fail needs a reason: fail=<reason>".into())),
            ("content-type", Some(kind)) if !kind.is_empty() => {
                Ok(Fault::ContentType(kind.to_owned()))
            }
            ("malformed", None) => Ok(Fault::Malformed),
            ("truncate" | "truncated", None) => Ok(Fault::Truncated),
            ("drop", None) => Ok(Fault::Drop),
            ("drop-after", None) => Ok(Fault::DropAfter),
            ("retry-after", Some(value)) => match value.parse::<u32>() {
                Ok(secs) if secs <= 86_400 => Ok(Fault::RetryAfter(secs)),
                _ => Err(error(format!(
                    "retry-after {value:?} is not a number of seconds in the range 0..86400"
                ))),
            },
            _ => Err(error(format!("{name:?} is not a known fault"))),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status(status) => write!(f, "status={status}"),
            Fault::Latency(duration) => write!(f, "latency={}ms", duration.as_millis()),
            Fault::FailTask(reason) => write!(f, "fail={reason}"),
            Fault::Malformed => f.write_str("malformed"),
            Fault::Truncated => f.write_str("truncate"),
            Fault::Drop => f.write_str("drop"),
            Fault::DropAfter => f.write_str("drop-after"),
            Fault::RetryAfter(secs) => write!(f, "retry-after={secs}"),
            Fault::ContentType(kind) => write!(f, "content-type={kind}"),
        }
    }
}

/// Parses the `x-emulator-fault` header: a comma-separated list of faults.
pub fn parse_fault_list(text: &str) -> Result<Vec<Fault>, ParseFaultError> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// `250ms`, `2s` or a bare number of milliseconds.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let (digits, scale) = if let Some(ms) = value.strip_suffix("ms") {
        (ms, 1)
    } else if let Some(s) = value.strip_suffix('s') {
        (s, 1000)
    } else {
        (value, 1)
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("latency {value:?} is not <N>ms or <N>s"))?;
    let millis = n.saturating_mul(scale);
    if millis > 600_000 {
        return Err(format!(
            "latency {value:?} is above the maximum 600s (600000ms)"
        ));
    }
    Ok(Duration::from_millis(millis))
}

/// A fault applied to a run's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// The operations it applies to; `None` for every operation. `create_img2img` is that
    /// operationId of every provider (Novita and ModelsLab share it), `novita:create_img2img` that of
    /// one provider, `modelslab:*` every operation of one provider; `x-job.create` and
    /// `x-job.result` the create and result operations of every `x-job` family (the docs' pair and
    /// each alias), `modelslab:x-job.result` those of one provider.
    pub operation: Option<String>,
    /// Applies to every n-th matching request (1 = every one, 2 = the 2nd, 4th, ...); 0 never.
    pub every_nth: u32,
    /// Applies at most this many times (`Some(1)` with `every_nth: 1`: the first matching request
    /// only); `None` for no limit.
    pub times: Option<u32>,
    /// The fault.
    pub fault: Fault,
}

impl FaultRule {
    /// Whether the rule applies to `operation` of `provider`.
    pub fn applies_to(&self, provider: Provider, operation: &str) -> bool {
        let Some(target) = self.operation.as_deref() else {
            return true;
        };
        let names = |what: &str| {
            let job = &img2img_specs::Spec::embedded(provider).extensions().job;
            match what {
                "x-job.create" => job.is_create(operation),
                "x-job.result" => job.is_result(operation),
                _ => what == operation,
            }
        };
        match target.split_once(':') {
            Some((who, what)) => who == provider.id() && (what == "*" || names(what)),
            None => names(target),
        }
    }

    /// A rule applying `fault` to every request of every operation.
    pub fn always(fault: Fault) -> Self {
        FaultRule {
            operation: None,
            every_nth: 1,
            times: None,
            fault,
        }
    }
}

/// Faults every request with one key gets (`--key-fault KEY=FAULT`, scenario `key_faults`).
#[derive(Debug, Clone)]
pub struct KeyFault {
    /// The key (never logged).
    pub key: ApiKey,
    /// The fault, as in the header.
    pub fault: Fault,
}

impl FromStr for KeyFault {
    type Err = String;

    /// `KEY=FAULT`, e.g. `sk-fail=fail=nsfw detected` (the first `=` ends the key).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (key, fault) = text
            .split_once('=')
            .filter(|(key, _)| !key.trim().is_empty())
            .ok_or_else(|| "a key fault is KEY=FAULT, e.g. sk-fail=fail=<reason>".to_owned())?;
        Ok(KeyFault {
            key: ApiKey::new(key.trim()),
            fault: fault.parse().map_err(|e: ParseFaultError| e.to_string())?,
        })
    }
}

/// A scenario file (`--scenario FILE`): JSON setting any part of a [`Config`]. See the
/// [module docs](super) for the format.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Accepted keys.
    pub api_keys: Option<Vec<ApiKey>>,
    /// Per-stage latency in milliseconds.
    pub latency_ms: Option<ScenarioLatency>,
    /// `sync` or `queued`.
    pub modelslab_mode: Option<ModelslabMode>,
    /// `true` for the specs' limits, or an object with the numbers.
    pub rate_limit: Option<ScenarioRateLimit>,
    /// Pixel budget.
    pub pixel_budget: Option<u64>,
    /// Job TTL in seconds.
    pub job_ttl_secs: Option<u64>,
    /// Faults for the run.
    pub faults: Vec<ScenarioFault>,
    /// Faults bound to keys.
    pub key_faults: Vec<ScenarioKeyFault>,
    /// Defects to switch on.
    pub defects: Option<Defects>,
}

/// `latency_ms` of a scenario.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum ScenarioLatency {
    /// The same for each stage.
    Each(u64),
    /// Per stage.
    Stages {
        /// Queued stage, ms.
        queued: u64,
        /// Processing stage, ms.
        processing: u64,
    },
}

/// `rate_limit` of a scenario.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum ScenarioRateLimit {
    /// `true`: the specs' limits; `false`: none.
    Enabled(bool),
    /// Explicit numbers; missing ones take the specs' values.
    Limits {
        /// Novita images per minute.
        novita_images_per_minute: Option<u32>,
        /// ModelsLab queued requests.
        modelslab_queued_requests: Option<u32>,
    },
}

/// One fault rule of a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFault {
    /// operationId, or absent for every operation.
    #[serde(default)]
    pub operation: Option<String>,
    /// Every n-th matching request (default 1).
    #[serde(default = "one")]
    pub every_nth: u32,
    /// At most this many times (default: no limit).
    #[serde(default)]
    pub times: Option<u32>,
    /// The fault, written as in the header (`status=503`).
    pub fault: String,
}

/// One key fault of a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioKeyFault {
    /// The key whose requests get the fault.
    pub key: ApiKey,
    /// The fault, written as in the header (`fail=<reason>`).
    pub fault: String,
}

fn one() -> u32 {
    1
}

impl Scenario {
    /// Reads a scenario from JSON text.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        serde_json::from_str(text).map_err(|e| format!("scenario is not valid: {e}"))
    }

    /// `config` with everything this scenario sets.
    pub fn apply(self, mut config: Config) -> Result<Config, String> {
        if let Some(keys) = self.api_keys {
            config.api_keys = keys;
        }
        match self.latency_ms {
            Some(ScenarioLatency::Each(ms)) => {
                config.latency = Latency::per_stage(Duration::from_millis(ms));
            }
            Some(ScenarioLatency::Stages { queued, processing }) => {
                config.latency = Latency {
                    queued: Duration::from_millis(queued),
                    processing: Duration::from_millis(processing),
                };
            }
            None => {}
        }
        if let Some(mode) = self.modelslab_mode {
            config.modelslab_mode = mode;
        }
        match self.rate_limit {
            Some(ScenarioRateLimit::Enabled(true)) => {
                config.rate_limit = Some(RateLimit::default())
            }
            Some(ScenarioRateLimit::Enabled(false)) => config.rate_limit = None,
            Some(ScenarioRateLimit::Limits {
                novita_images_per_minute,
                modelslab_queued_requests,
            }) => {
                let defaults = RateLimit::default();
                config.rate_limit = Some(RateLimit {
                    novita_images_per_minute: novita_images_per_minute
                        .unwrap_or(defaults.novita_images_per_minute),
                    modelslab_queued_requests: modelslab_queued_requests
                        .unwrap_or(defaults.modelslab_queued_requests),
                    ..defaults
                });
            }
            None => {}
        }
        if let Some(budget) = self.pixel_budget {
            config.pixel_budget = budget;
        }
        if let Some(secs) = self.job_ttl_secs {
            config.job_ttl = Duration::from_secs(secs);
        }
        for rule in self.faults {
            let fault = rule
                .fault
                .parse()
                .map_err(|e: ParseFaultError| e.to_string())?;
            config.faults.push(FaultRule {
                operation: rule.operation,
                every_nth: rule.every_nth,
                times: rule.times,
                fault,
            });
        }
        for rule in self.key_faults {
            let fault = rule
                .fault
                .parse()
                .map_err(|e: ParseFaultError| e.to_string())?;
            config.key_faults.push(KeyFault {
                key: rule.key,
                fault,
            });
        }
        if let Some(defects) = self.defects {
            config.defects = defects;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_as_documented() {
        let faults =
            parse_fault_list("status=503, latency=250ms,fail=nsfw detected,malformed,truncate,drop,content-type=text/html,drop-after,retry-after=2")
                .unwrap();
        assert_eq!(
            faults,
            vec![
                Fault::Status(503),
                Fault::Latency(Duration::from_millis(250)),
                Fault::FailTask("nsfw detected".into()),
                Fault::Malformed,
                Fault::Truncated,
                Fault::Drop,
                Fault::ContentType("text/html".into()),
                Fault::DropAfter,
                Fault::RetryAfter(2),
            ]
        );
        let error = "retry-after=soon".parse::<Fault>().unwrap_err().to_string();
        assert!(error.contains("0..86400"), "{error}");
        assert_eq!(
            "latency=2s".parse::<Fault>().unwrap(),
            Fault::Latency(Duration::from_secs(2))
        );
        let error = "status=700".parse::<Fault>().unwrap_err().to_string();
        assert!(
            error.contains("700 is outside the range 100..599"),
            "{error}"
        );
        let error = "explode".parse::<Fault>().unwrap_err().to_string();
        assert!(
            error.contains("\"explode\" is not a known fault"),
            "{error}"
        );
    }

    #[test]
    fn fault_rules_target_operations_of_one_provider_or_all() {
        let rule = |target: &str| FaultRule {
            operation: Some(target.into()),
            every_nth: 1,
            fault: Fault::Drop,
            times: None,
        };
        assert!(rule("create_img2img").applies_to(Provider::Novita, "create_img2img"));
        assert!(rule("create_img2img").applies_to(Provider::Modelslab, "create_img2img"));
        assert!(rule("novita:create_img2img").applies_to(Provider::Novita, "create_img2img"));
        for (provider, operation) in [
            (Provider::Modelslab, "create_img2img"),
            (Provider::Modelslab, "create_img2img_enterprise_images"),
            (Provider::Modelslab, "create_img2img_v6"),
            (Provider::Novita, "create_img2img"),
        ] {
            assert!(
                rule("x-job.create").applies_to(provider, operation),
                "{operation}"
            );
            assert!(
                !rule("x-job.result").applies_to(provider, operation),
                "{operation}"
            );
        }
        assert!(rule("x-job.result").applies_to(Provider::Modelslab, "fetch_v6"));
        assert!(!rule("novita:x-job.result").applies_to(Provider::Modelslab, "fetch_v6"));
        assert!(!rule("novita:create_img2img").applies_to(Provider::Modelslab, "create_img2img"));
        assert!(rule("modelslab:*").applies_to(Provider::Modelslab, "fetch_v6"));
        assert!(!rule("modelslab:*").applies_to(Provider::Novita, "get_task_result"));
        assert!(FaultRule::always(Fault::Drop).applies_to(Provider::Gptproto, "x"));
        let parsed: KeyFault = "sk-1=fail=a=b".parse().unwrap();
        assert_eq!(parsed.key.expose_secret(), "sk-1");
        assert_eq!(parsed.fault, Fault::FailTask("a=b".into()));
        assert!("=fail=x".parse::<KeyFault>().is_err());
    }

    #[test]
    fn scenario_sets_the_config() {
        let scenario = Scenario::parse(
            r#"{"latency_ms": {"queued": 10, "processing": 20}, "modelslab_mode": "queued",
                "rate_limit": {"novita_images_per_minute": 3}, "pixel_budget": 1000000,
                "faults": [{"operation": "create_img2img", "every_nth": 2, "fault": "status=503"},
                           {"fault": "drop-after", "times": 1}],
                "key_faults": [{"key": "sk-fail", "fault": "fail=blocked"}],
                "defects": {"stall_jobs": true}}"#,
        )
        .unwrap();
        let config = scenario.apply(Config::default()).unwrap();
        assert_eq!(config.latency.processing, Duration::from_millis(20));
        assert_eq!(config.modelslab_mode, ModelslabMode::Queued);
        assert_eq!(config.rate_limit.unwrap().novita_images_per_minute, 3);
        assert_eq!(config.rate_limit.unwrap().modelslab_queued_requests, 5);
        assert_eq!(config.pixel_budget, 1_000_000);
        assert_eq!(config.faults[0].every_nth, 2);
        assert_eq!(config.faults[0].fault, Fault::Status(503));
        assert_eq!(config.faults[0].times, None);
        assert_eq!(config.faults[1].times, Some(1));
        assert_eq!(config.faults[1].fault, Fault::DropAfter);
        assert!(config.defects.stall_jobs);
        assert_eq!(config.key_faults[0].key.expose_secret(), "sk-fail");
        assert_eq!(
            config.key_faults[0].fault,
            Fault::FailTask("blocked".into())
        );
        let error = Scenario::parse(r#"{"defects": {"nope": true}}"#).unwrap_err();
        assert!(error.contains("nope"), "{error}");
    }
}
