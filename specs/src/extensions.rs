//! The document-level `x-` extensions every spec carries (see `specs/README.md`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::view::{
    Answers, Cause, DOCS_FAMILY, EmulatorInfo, ErrorAnswer, ErrorDecision, ErrorRule, EtaUnit,
    FamilyAnswers, IdPlace, JobIdStyle, JobStatus, KeyPlacement, Limits, RateLimits,
    RenderDefaults, Stages, WebhookAnswer, status_kind,
};

/// `x-provider`: who the spec describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProviderInfo {
    /// Short id: the spec's file stem (`acme` for `specs/acme.yaml`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The model or model family the endpoint runs.
    pub model: String,
    /// The public docs page the spec is written from (an `https://` URL).
    pub docs: String,
    /// Environment variable holding a live key.
    pub key_env: String,
}

/// Where the key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthPlacement {
    /// In a request header.
    Header,
    /// In a top-level field of the JSON request body.
    Body,
}

/// `x-auth`: how a request carries the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AuthInfo {
    /// Header or body.
    #[serde(rename = "in")]
    pub placement: AuthPlacement,
    /// Header name, or body field name.
    pub name: String,
    /// What the client writes before the key (`""` for a raw key, `"Bearer "`).
    pub prefix: String,
    /// Every prefix the provider accepts.
    pub accepted_prefixes: Vec<String>,
}

/// How a job runs from create to result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobStyle {
    /// The create call returns an id; the result call is polled.
    Poll,
    /// The create call answers with the result, or with a queued status to fetch later.
    SyncOrQueued,
}

/// One API family of a job (`x-job.aliases[]`, and the docs' pair named `docs`): its create
/// operations, the result operations its answers are polled at, and where its answers differ from
/// the top-level `x-job` ([`JobOverrides`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFamily", into = "RawFamily")]
pub struct JobFamily {
    /// A short name for reports (`enterprise-images`, `v6`); `docs` names the docs' pair.
    pub name: String,
    /// operationId of this family's first create call.
    pub create: String,
    /// operationId of the result call a create of this family points to (the first of
    /// [`JobFamily::results`]).
    pub result: String,
    /// Every create call of the family (`create` first).
    pub creates: Vec<String>,
    /// Every result call of the family (`result` first): other ways to fetch the same job (a
    /// fetch by id in the path and a fetch by id in the body).
    pub results: Vec<String>,
    /// Where the family's answers differ from the top-level `x-job`.
    pub overrides: JobOverrides,
}

impl JobFamily {
    /// Whether `operation` is one of the family's creates.
    pub fn creates_with(&self, operation: &str) -> bool {
        self.creates.iter().any(|c| c == operation)
    }

    /// Whether `operation` is one of the family's results.
    pub fn results_with(&self, operation: &str) -> bool {
        self.results.iter().any(|r| r == operation)
    }

    /// Whether `operation` is one of the family's creates or results.
    pub fn has(&self, operation: &str) -> bool {
        self.creates_with(operation) || self.results_with(operation)
    }
}

/// The keys of the top-level `x-job` an API family may set for itself (`x-job.aliases[]`); each
/// absent one is the top-level value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct JobOverrides {
    /// `style`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<JobStyle>,
    /// `id-pointer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_pointer: Option<String>,
    /// `id-fallback-pointers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_fallback_pointers: Option<Vec<String>>,
    /// `status-pointer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_pointer: Option<String>,
    /// `pending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Vec<String>>,
    /// `succeeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeeded: Option<Vec<String>>,
    /// `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<Vec<String>>,
    /// `stages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Stages>,
    /// `eta-pointer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_pointer: Option<String>,
    /// `eta-unit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_unit: Option<EtaUnit>,
    /// `progress-pointer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_pointer: Option<String>,
    /// `outputs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<String>,
    /// `failure-pointers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_pointers: Option<Vec<String>>,
    /// `poll-url-pointer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_url_pointer: Option<String>,
    /// `create-fields`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_fields: Option<serde_json::Map<String, Value>>,
}

type RawFamily = serde_json::Map<String, Value>;

impl TryFrom<RawFamily> for JobFamily {
    type Error = String;

    /// `x-job.aliases[]` as written: `name`, `create` and/or `creates`, `result` and/or
    /// `results`, and the keys of [`JobOverrides`].
    fn try_from(mut raw: RawFamily) -> Result<Self, Self::Error> {
        let name = match raw.remove("name") {
            Some(Value::String(name)) => name,
            _ => return Err("an x-job family needs a `name` (a string)".into()),
        };
        let mut all = |key: &str| -> Result<Vec<String>, String> {
            let wrong = || {
                format!(
                    "x-job family {name:?}: `{key}` must be an operationId and `{key}s` a list of them"
                )
            };
            let mut list: Vec<String> = Vec::new();
            if let Some(first) = raw.remove(key) {
                list.push(first.as_str().ok_or_else(wrong)?.to_owned());
            }
            if let Some(rest) = raw.remove(&format!("{key}s")) {
                for item in rest.as_array().ok_or_else(wrong)? {
                    let item = item.as_str().ok_or_else(wrong)?.to_owned();
                    if !list.contains(&item) {
                        list.push(item);
                    }
                }
            }
            if list.is_empty() {
                return Err(format!(
                    "x-job family {name:?} names no {key} (`{key}` or `{key}s`)"
                ));
            }
            Ok(list)
        };
        let creates = all("create")?;
        let results = all("result")?;
        let overrides = serde_json::from_value(Value::Object(raw))
            .map_err(|e| format!("x-job family {name:?}: {e}"))?;
        Ok(JobFamily {
            create: creates[0].clone(),
            result: results[0].clone(),
            name,
            creates,
            results,
            overrides,
        })
    }
}

impl From<JobFamily> for RawFamily {
    fn from(family: JobFamily) -> Self {
        let mut raw = match serde_json::to_value(&family.overrides) {
            Ok(Value::Object(map)) => map,
            _ => RawFamily::new(),
        };
        raw.insert("name".into(), Value::String(family.name));
        raw.insert("create".into(), Value::String(family.create));
        raw.insert("result".into(), Value::String(family.result));
        let rest = |list: Vec<String>| Value::from(list.into_iter().skip(1).collect::<Vec<_>>());
        if family.creates.len() > 1 {
            raw.insert("creates".into(), rest(family.creates));
        }
        if family.results.len() > 1 {
            raw.insert("results".into(), rest(family.results));
        }
        raw
    }
}

/// `x-job`: the whole-job lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct JobInfo {
    /// operationId of the paid create call (the docs' path; what the generated client's users and
    /// `img2img-client` call).
    pub create: String,
    /// operationId of the poll or fetch call.
    pub result: String,
    /// Other live API families of the same job, each its creates, the results its answers point
    /// to, and where its request, answers and `x-job` words differ (see [`JobFamily`]).
    #[serde(default)]
    pub aliases: Vec<JobFamily>,
    /// Poll or sync-or-queued.
    pub style: JobStyle,
    /// JSON pointer to the job id in the create response.
    pub id_pointer: String,
    /// Older places the id may be found.
    #[serde(default)]
    pub id_fallback_pointers: Vec<String>,
    /// JSON pointer to the status in the result response.
    pub status_pointer: String,
    /// Statuses of a job still running.
    pub pending: Vec<String>,
    /// Terminal statuses of success.
    pub succeeded: Vec<String>,
    /// Terminal statuses of failure.
    pub failed: Vec<String>,
    /// JSON pointer to the provider's estimate of the time left.
    #[serde(default)]
    pub eta_pointer: Option<String>,
    /// Unit of that estimate (seconds when absent).
    #[serde(default)]
    pub eta_unit: Option<EtaUnit>,
    /// JSON pointer to how far a pending job is, in percent (see [`JobInfo::progress_of`]).
    #[serde(default)]
    pub progress_pointer: Option<String>,
    /// Where the output images are in a finished result: a JSON pointer in which `*` stands for
    /// every item of an array (`/images/*/image_url`); each value reached is a URL or base64 data.
    #[serde(default)]
    pub outputs: Option<String>,
    /// Where a failed result says why: JSON pointers tried in order (see
    /// [`JobInfo::failure_of`]).
    #[serde(default)]
    pub failure_pointers: Vec<String>,
    /// The status word reported at each stage (what an emulator answers).
    #[serde(default)]
    pub stages: Option<Stages>,
    /// Top-level fields every create body carries whatever the request says: what makes the call
    /// the image-to-image job (a `const` such as `action: img2img`).
    #[serde(default)]
    pub create_fields: serde_json::Map<String, Value>,
    /// JSON pointer into the create answer (and pending results) to an absolute URL the provider
    /// asks to be polled at (see [`JobInfo::poll_url_of`]).
    #[serde(default)]
    pub poll_url_pointer: Option<String>,
    /// Hosts other than the base URL's that a poll URL may name (reached over `https` only; the
    /// key is sent there).
    #[serde(default)]
    pub poll_url_hosts: Vec<String>,
}

/// `x-output`: what comes back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OutputInfo {
    /// Image formats the provider can return.
    pub formats: Vec<String>,
    /// The format returned when none is asked for.
    pub default_format: String,
    /// Whether images can come back inline (base64) instead of as URLs.
    pub inline_base64: bool,
}

/// All document-level extensions of one spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extensions {
    /// `x-provider`.
    #[serde(rename = "x-provider")]
    pub provider: ProviderInfo,
    /// `x-auth`.
    #[serde(rename = "x-auth")]
    pub auth: AuthInfo,
    /// `x-job`.
    #[serde(rename = "x-job")]
    pub job: JobInfo,
    /// `x-limits`: rate limits, TTLs, size caps.
    #[serde(rename = "x-limits", default)]
    pub limits: Limits,
    /// `x-output`.
    #[serde(rename = "x-output")]
    pub output: OutputInfo,
    /// `x-emulator`: what an emulator assumes where the docs are silent.
    #[serde(rename = "x-emulator", default)]
    pub emulator: Option<EmulatorInfo>,
    /// `x-errors`.
    #[serde(rename = "x-errors", default)]
    pub errors: ErrorsInfo,
}

/// What an error means, whatever words the provider uses for it: the kinds of `x-errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request was refused as it is (a field out of range, an unknown model).
    InvalidRequest,
    /// What the request names (a task id) does not exist, or no longer.
    NotFound,
    /// The key is missing, unknown or revoked.
    Unauthorized,
    /// The key is valid but may not do this.
    Forbidden,
    /// The account cannot pay for the job.
    InsufficientBalance,
    /// Too many requests.
    RateLimited,
    /// The prompt or image was refused on content-policy grounds.
    ContentPolicy,
    /// The service cannot take the request now.
    Unavailable,
    /// The provider failed.
    ServerError,
    /// The job ran and failed.
    TaskFailed,
}

/// One entry of `x-errors.reasons`: a reason the provider sends and what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ErrorReason {
    /// The reason, as found at `x-errors.reason-pointers` (`INVALID_API_KEY`).
    pub reason: String,
    /// What it means.
    pub kind: ErrorKind,
    /// The HTTP status it comes with; none when it comes with any.
    #[serde(default)]
    pub status: Option<u16>,
    /// The request field (`request.model_name`) or parameter (`task_id`) it is about, when it is
    /// always the same one.
    #[serde(default)]
    pub field: Option<String>,
}

/// `x-errors`: where a provider's error body says what went wrong, and what its reasons and words
/// mean.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ErrorsInfo {
    /// JSON pointers to the provider's message, tried in order.
    #[serde(default)]
    pub message_pointers: Vec<String>,
    /// JSON pointers to the machine-readable reason, tried in order.
    #[serde(default)]
    pub reason_pointers: Vec<String>,
    /// JSON pointers to the wait the provider asks for, in seconds (a number or a numeric string).
    #[serde(default)]
    pub retry_after_pointers: Vec<String>,
    /// In a validation message, the field is named before this separator (`width must be ...`:
    /// `" must "`).
    #[serde(default)]
    pub field_before: Option<String>,
    /// The reasons the provider sends, in order; the first listed for a kind and status is the one
    /// an emulator answers with.
    #[serde(default)]
    pub reasons: Vec<ErrorReason>,
    /// For errors that carry only a message: per kind, lists of lower-case words; a message means
    /// the kind when it holds a word of every list.
    #[serde(default)]
    pub words: BTreeMap<ErrorKind, Vec<Vec<String>>>,
    /// Per kind, the HTTP statuses with which its [`ErrorsInfo::words`] decide (a kind not listed:
    /// any status).
    #[serde(default)]
    pub word_statuses: BTreeMap<ErrorKind, Vec<u16>>,
    /// JSON pointers to the HTTP status an error body sent with a 2xx status stands for (a body's
    /// own `code`), tried in order.
    #[serde(default)]
    pub status_pointers: Vec<String>,
    /// The rules that decide what an error means, tried in order (see [`ErrorRule`]); `None` for
    /// [`ErrorRule::DEFAULT`].
    #[serde(default)]
    pub decide_by: Option<Vec<ErrorRule>>,
}

impl ErrorsInfo {
    /// The provider's message in an error body: the first non-empty string at
    /// [`ErrorsInfo::message_pointers`].
    pub fn message_in<'a>(&self, body: &'a Value) -> Option<&'a str> {
        first_string(body, &self.message_pointers)
    }

    /// The reason in an error body: the first non-empty string at
    /// [`ErrorsInfo::reason_pointers`].
    pub fn reason_in<'a>(&self, body: &'a Value) -> Option<&'a str> {
        first_string(body, &self.reason_pointers)
    }

    /// The wait an error body asks for: the first finite, non-negative number of seconds (or
    /// numeric string) at [`ErrorsInfo::retry_after_pointers`].
    pub fn retry_after_in(&self, body: &Value) -> Option<Duration> {
        self.retry_after_pointers.iter().find_map(|pointer| {
            let value = body.pointer(pointer)?;
            value
                .as_f64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
        })
    }

    /// What `reason` means, if the spec lists it.
    pub fn reason(&self, reason: &str) -> Option<&ErrorReason> {
        self.reasons.iter().find(|r| r.reason == reason)
    }

    /// The reason to answer an error of `kind` sent with `status`: the first listed for that kind
    /// with that status (or with any), else the first listed for that status (or for any).
    pub fn reason_for(&self, kind: ErrorKind, status: u16) -> Option<&ErrorReason> {
        self.reasons
            .iter()
            .find(|r| r.kind == kind && r.fits(status))
            .or_else(|| self.reason_for_status(status))
    }

    /// The first reason listed for `status` (or for any status).
    pub fn reason_for_status(&self, status: u16) -> Option<&ErrorReason> {
        self.reasons.iter().find(|r| r.fits(status))
    }

    /// Whether `message` says `kind` in the words of [`ErrorsInfo::words`] (case-insensitive).
    pub fn says(&self, kind: ErrorKind, message: &str) -> bool {
        let Some(lists) = self.words.get(&kind).filter(|l| !l.is_empty()) else {
            return false;
        };
        let text = message.to_ascii_lowercase();
        lists
            .iter()
            .all(|words| words.iter().any(|w| text.contains(w.as_str())))
    }

    /// The field a validation message names before [`ErrorsInfo::field_before`]
    /// (`request.width` in `request.width: value must be in range [128, 2048]`), if what stands
    /// there is a field path.
    pub fn field_in<'a>(&self, message: &'a str) -> Option<&'a str> {
        let separator = self.field_before.as_deref().filter(|s| !s.is_empty())?;
        let (head, _) = message.split_once(separator)?;
        let head = head.trim();
        let is_path = !head.is_empty()
            && head
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
        is_path.then_some(head)
    }
}

impl ErrorReason {
    /// Whether the reason comes with `status`.
    fn fits(&self, status: u16) -> bool {
        self.status.is_none_or(|s| s == status)
    }
}

fn first_string<'a>(body: &'a Value, pointers: &[String]) -> Option<&'a str> {
    pointers.iter().find_map(|pointer| {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    })
}
