//! The results of a conformance run, as written to `results.json` and read by the reports.
//!
//! Its JSON Schema is derived from these types ([`schema`]) and written beside the results.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The outcome of one check against one provider on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every case held.
    Passed,
    /// At least one case broke the check; see [`CheckResult::failure`].
    Failed,
    /// Not run (no key for a live provider, budget spent, check not applicable); see
    /// [`CheckResult::detail`].
    Skipped,
}

/// Where the checks ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The embedded emulators, in process.
    Emulator,
    /// A live provider (or any server speaking its API, via `--base-url`).
    Live,
    /// Recorded cassettes, with no network.
    Replay,
}

/// One HTTP response, as recorded for a failing case (keys and secrets redacted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// The `content-type` header, if any.
    pub content_type: Option<String>,
    /// The body: JSON when it parsed, otherwise a string (cut to a bounded length).
    pub body: Value,
}

/// The minimal failing case of a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// What was wrong, naming the field, the value and the rule where there is one.
    pub message: String,
    /// The operation called.
    pub operation: Option<String>,
    /// The (shrunk) request body sent, keys redacted.
    pub request: Option<Value>,
    /// The response received.
    pub response: Option<RecordedResponse>,
}

/// One check × provider × target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    /// The check's id (`positive_acceptance`, `negative_rejection`, ...).
    pub check: String,
    /// One line saying what the check asserts.
    pub description: String,
    /// The provider id (`x-provider.id`).
    pub provider: String,
    /// Where it ran.
    pub target: Target,
    /// Passed, failed or skipped.
    pub status: Status,
    /// Cases run.
    pub cases: u32,
    /// Requests sent to the target.
    pub requests: u32,
    /// Wall time, milliseconds.
    pub duration_ms: u64,
    /// Why it was skipped, or a one-line summary of the failure.
    pub detail: Option<String>,
    /// The minimal failing case, when it failed.
    pub failure: Option<Failure>,
    /// Client grading: the scenario the client ran under (`happy`, `stuck`...); absent for checks
    /// of a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Client grading: the client graded (`img2img`, or an SDK's package name); absent for checks of a
    /// server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunResults {
    /// Version of the tool that wrote the file.
    pub tool_version: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When it finished (RFC 3339, UTC).
    pub finished_at: String,
    /// The proptest seed; the same seed replays the same cases.
    pub seed: u64,
    /// Cases per property check.
    pub cases_per_check: u32,
    /// Every check × provider × target (client grading: × scenario).
    pub results: Vec<CheckResult>,
    /// Client grading (`conformance client`): one entry per scenario the command ran under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_runs: Vec<ClientRun>,
}

/// One run of a graded client's command under one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClientRun {
    /// The client's name (`--name`, or the command's file name).
    pub client: String,
    /// The provider id (`x-provider.id`).
    pub provider: String,
    /// The scenario's name.
    pub scenario: String,
    /// What the scenario does to the client.
    pub description: String,
    /// The command and its arguments, as run (keys redacted).
    pub command: Vec<String>,
    /// The command's exit code; `None` when it was killed (time limit) or ended by a signal.
    pub exit_code: Option<i32>,
    /// Whether the time limit ended it.
    pub timed_out: bool,
    /// Wall time of the command, milliseconds.
    pub duration_ms: u64,
    /// Requests the emulator received during the run.
    pub requests: u32,
    /// The last lines the command printed (stdout and stderr, in the order read; keys redacted).
    pub output_tail: Vec<String>,
}

impl RunResults {
    /// Whether nothing failed (skipped checks do not fail a run).
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.status != Status::Failed)
    }

    /// How many results have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

/// The JSON Schema of `results.json`, derived from [`RunResults`].
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(RunResults)).expect("a schema serializes")
}
