//! The scenario file (`--scenario FILE`): JSON setting any part of a [`Config`] for a run. Every
//! key is optional:
//!
//! ```json
//! {
//!   "api_keys": ["sk-test"],
//!   "latency_ms": {"queued": 200, "processing": 800},
//!   "answer_style": "queued",
//!   "providers": {"<id>": {"answer_style": "sync", "images_per_minute": 3, "queued_requests": 5,
//!                          "retry_after_secs": 30, "webhook_retries": 5}},
//!   "rate_limit": true,
//!   "pixel_budget": 4194304,
//!   "job_ttl_secs": 600,
//!   "faults": [
//!     {"operation": "<id>:create_img2img", "every_nth": 3, "fault": "status=503"},
//!     {"operation": "x-job.create", "times": 1, "fault": "drop-after"},
//!     {"fault": "latency=100ms"}
//!   ],
//!   "key_faults": [{"key": "sk-fail", "fault": "fail=nsfw detected"}],
//!   "defects": {"stall_jobs": false}
//! }
//! ```
//!
//! `latency_ms` may also be one number (each stage). `answer_style` applies to every provider;
//! `providers` sets each one's by id (see [`ProviderSettings`]). `rate_limit` is `true` (the specs'
//! `x-limits`), `false`, or an object of numbers, which turns the limits on. Older keys are still
//! read: `<id>_mode` is `providers.<id>.answer_style`, and in a `rate_limit` object
//! `<id>_images_per_minute` and `<id>_queued_requests` are those settings of provider `<id>`.

use std::collections::BTreeMap;
use std::time::Duration;

use img2img_specs::{ApiKey, Provider};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::{AnswerStyle, Config, Defects, Latency, ProviderSettings};
use super::faults::{FaultRule, KeyFault, ParseFaultError};

/// A scenario file. See the [module docs](self) for the format.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct Scenario {
    /// Accepted keys.
    pub api_keys: Option<Vec<ApiKey>>,
    /// Per-stage latency in milliseconds.
    pub latency_ms: Option<ScenarioLatency>,
    /// How every `sync-or-queued` provider's create call answers.
    pub answer_style: Option<AnswerStyle>,
    /// Per provider, by id.
    pub providers: BTreeMap<Provider, ProviderSettings>,
    /// Whether the specs' rate limits apply.
    pub rate_limit: Option<bool>,
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

/// The keys of a scenario file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Fields {
    api_keys: Option<Vec<ApiKey>>,
    latency_ms: Option<ScenarioLatency>,
    answer_style: Option<AnswerStyle>,
    providers: BTreeMap<Provider, ProviderSettings>,
    rate_limit: Option<RateLimit>,
    pixel_budget: Option<u64>,
    job_ttl_secs: Option<u64>,
    faults: Vec<ScenarioFault>,
    key_faults: Vec<ScenarioKeyFault>,
    defects: Option<Defects>,
}

/// `rate_limit` as written: on or off, or numbers per provider (`<id>_images_per_minute`,
/// `<id>_queued_requests`), which turn it on.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RateLimit {
    Enabled(bool),
    Numbers(BTreeMap<String, u32>),
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

/// The provider `key` names as `<id><suffix>` (an older, provider-named key).
fn provider_key(key: &str, suffix: &str) -> Option<Provider> {
    key.strip_suffix(suffix)?.parse().ok()
}

impl TryFrom<Map<String, Value>> for Scenario {
    type Error = String;

    fn try_from(mut map: Map<String, Value>) -> Result<Scenario, String> {
        // `<id>_mode`: the answer style of provider <id>.
        let mut styles = Vec::new();
        for key in map.keys().cloned().collect::<Vec<_>>() {
            if let Some(provider) = provider_key(&key, "_mode") {
                let value = map.remove(&key).unwrap_or_default();
                let style: AnswerStyle = serde_json::from_value(value)
                    .map_err(|e| format!("{key}: {e} (expected sync or queued)"))?;
                styles.push((provider, style));
            }
        }
        let fields: Fields =
            serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())?;
        let mut providers = fields.providers;
        for (provider, style) in styles {
            providers.entry(provider).or_default().answer_style = Some(style);
        }
        let rate_limit = match fields.rate_limit {
            None => None,
            Some(RateLimit::Enabled(on)) => Some(on),
            Some(RateLimit::Numbers(numbers)) => {
                for (key, number) in numbers {
                    if let Some(provider) = provider_key(&key, "_images_per_minute") {
                        providers.entry(provider).or_default().images_per_minute = Some(number);
                    } else if let Some(provider) = provider_key(&key, "_queued_requests") {
                        providers.entry(provider).or_default().queued_requests = Some(number);
                    } else {
                        return Err(format!(
                            "rate_limit.{key} is not <id>_images_per_minute or <id>_queued_requests of a known provider ({})",
                            Provider::known()
                        ));
                    }
                }
                Some(true)
            }
        };
        Ok(Scenario {
            api_keys: fields.api_keys,
            latency_ms: fields.latency_ms,
            answer_style: fields.answer_style,
            providers,
            rate_limit,
            pixel_budget: fields.pixel_budget,
            job_ttl_secs: fields.job_ttl_secs,
            faults: fields.faults,
            key_faults: fields.key_faults,
            defects: fields.defects,
        })
    }
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
        if let Some(style) = self.answer_style {
            for provider in Provider::all() {
                config.settings_mut(provider).answer_style = Some(style);
            }
        }
        for (provider, settings) in self.providers {
            let current = config.settings_mut(provider);
            *current = ProviderSettings {
                answer_style: settings.answer_style.or(current.answer_style),
                images_per_minute: settings.images_per_minute.or(current.images_per_minute),
                queued_requests: settings.queued_requests.or(current.queued_requests),
                retry_after_secs: settings.retry_after_secs.or(current.retry_after_secs),
                webhook_retries: settings.webhook_retries.or(current.webhook_retries),
            };
        }
        if let Some(on) = self.rate_limit {
            config.rate_limit = on;
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
