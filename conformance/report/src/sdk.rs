//! The types of `target/conformance/sdk.json`, written by the SDK compatibility suite
//! (`conformance/harness/tests/it/sdk.rs`): for each official SDK, whether it completed whole jobs
//! against the emulator, and what it sent that the provider's docs do not mention. The report's
//! "Official SDKs" section is read from it; without the file it says "SDK suite not run".

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ReportError;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SdkRun {
    /// When the suite ran (RFC 3339).
    pub generated_at: String,
    /// One entry per official SDK, in the suite's order.
    pub sdks: Vec<SdkResult>,
}

/// How one SDK fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SdkOutcome {
    /// Every case ran and passed, and every exchange fits the spec.
    Works,
    /// A case failed, or an exchange broke the spec.
    Fails,
    /// Not run: the SDK or its language runtime is not installed.
    Skipped,
}

/// One official SDK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SdkResult {
    /// Its package name on its registry.
    pub sdk: String,
    /// The registry it comes from (`PyPI`, `npm`).
    pub registry: String,
    /// The pinned version run.
    pub version: String,
    /// The provider id it talks to.
    pub provider: String,
    /// Works, fails or skipped.
    pub outcome: SdkOutcome,
    /// A summary (cases passed, why it was skipped, what failed).
    pub detail: String,
    /// Each case the SDK's script ran.
    pub cases: Vec<SdkCase>,
    /// What it sent beyond the provider's docs.
    pub drift: SdkDrift,
    /// Exchanges that broke the spec: a request outside the accepting reading, an answer outside
    /// the response schema, a path no operation has.
    pub violations: Vec<String>,
    /// The operationIds its traffic reached, in the order first reached (empty in a file written
    /// before the suite recorded them).
    #[serde(default)]
    pub operations: Vec<String>,
}

/// One case of an SDK's script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SdkCase {
    /// The case name (`two_images_png`).
    pub case: String,
    /// Passed (`true`), failed (`false`) or skipped (`None`).
    pub ok: Option<bool>,
    /// What was seen.
    pub detail: String,
}

/// What an SDK sent that the docs' pages do not mention, from its recorded traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SdkDrift {
    /// Fields the docs do not declare (`request.extra`).
    pub fields: Vec<String>,
    /// Fields sent as `null` where the docs allow no null (`request.steps`).
    pub nulls: Vec<String>,
    /// Other values the docs rule out (the message of the sending reading).
    pub values: Vec<String>,
    /// Paths other than the docs' create and result (`POST /api/v1/enterprise/images/img2img`).
    pub paths: Vec<String>,
    /// Headers beyond the key and plain HTTP ones (an SDK's own `x-requested-with`), and a key
    /// sent in another form than the docs show.
    pub headers: Vec<String>,
}

impl SdkDrift {
    /// Whether it sent nothing beyond the docs.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.nulls.is_empty()
            && self.values.is_empty()
            && self.paths.is_empty()
            && self.headers.is_empty()
    }

    /// One line per kind, for tables (`fields: request.extra; nulls: request.steps`).
    pub fn lines(&self) -> Vec<String> {
        [
            ("fields", &self.fields),
            ("nulls", &self.nulls),
            ("values", &self.values),
            ("paths", &self.paths),
            ("headers", &self.headers),
        ]
        .into_iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(kind, list)| format!("{kind}: {}", list.join(", ")))
        .collect()
    }
}

/// Reads `sdk.json`; `Ok(None)` when the file does not exist (the suite has not run).
pub fn load(path: &Path) -> Result<Option<SdkRun>, ReportError> {
    crate::load_json(path)
}
