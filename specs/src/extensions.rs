//! The document-level `x-` extensions every spec carries (see `specs/README.md`).

use serde::{Deserialize, Serialize};

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

/// One API family of a job: a create operation and the result operation its answers point to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct JobFamily {
    /// A short name for reports (`enterprise-images`, `v6`).
    pub name: String,
    /// operationId of this family's create call.
    pub create: String,
    /// operationId of the result call a create of this family points to.
    pub result: String,
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
    /// Other live API families of the same job (other paths, the same request and response
    /// schemas), each a create and the result its answers point to.
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
    /// Unit of that estimate.
    #[serde(default)]
    pub eta_unit: Option<String>,
    /// Where the output images are in a finished result: a JSON pointer in which `*` stands for
    /// every item of an array (`/images/*/image_url`); each value reached is a URL or base64 data.
    #[serde(default)]
    pub outputs: Option<String>,
}

impl JobInfo {
    /// Every family: the docs' pair first (named `docs`), then the aliases.
    pub fn families(&self) -> Vec<JobFamily> {
        let docs = JobFamily {
            name: "docs".into(),
            create: self.create.clone(),
            result: self.result.clone(),
        };
        std::iter::once(docs)
            .chain(self.aliases.iter().cloned())
            .collect()
    }

    /// The family whose create or result operation is `operation`.
    pub fn family_of(&self, operation: &str) -> Option<JobFamily> {
        self.families()
            .into_iter()
            .find(|f| f.create == operation || f.result == operation)
    }

    /// Whether `operation` creates a job (in any family).
    pub fn is_create(&self, operation: &str) -> bool {
        self.families().iter().any(|f| f.create == operation)
    }

    /// Whether `operation` reads a job's result (in any family).
    pub fn is_result(&self, operation: &str) -> bool {
        self.families().iter().any(|f| f.result == operation)
    }

    /// Whether `status` ends the job.
    pub fn is_terminal(&self, status: &str) -> bool {
        self.succeeded
            .iter()
            .chain(&self.failed)
            .any(|s| s == status)
    }
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
    /// `x-limits`: free-form numbers (rate limits, TTLs, size caps).
    #[serde(rename = "x-limits", default)]
    pub limits: serde_json::Map<String, serde_json::Value>,
    /// `x-output`.
    #[serde(rename = "x-output")]
    pub output: OutputInfo,
}
