//! The document-level `x-` extensions every spec carries (see `specs/README.md`).

use serde::{Deserialize, Serialize};

pub use crate::view::{
    EmulatorInfo, EtaUnit, JobStatus, KeyPlacement, Limits, RateLimits, RenderDefaults, Stages,
};

/// `x-provider`: who the spec describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProviderInfo {
    /// Short id: `gptproto`, `novita` or `modelslab`.
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

/// `x-job`: the whole-job lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct JobInfo {
    /// operationId of the paid create call.
    pub create: String,
    /// operationId of the poll or fetch call.
    pub result: String,
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
    /// Where the output images are in a finished result: a JSON pointer in which `*` stands for
    /// every item of an array (`/images/*/image_url`); each value reached is a URL or base64 data.
    #[serde(default)]
    pub outputs: Option<String>,
    /// The status word reported at each stage (what an emulator answers).
    #[serde(default)]
    pub stages: Option<Stages>,
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
}
