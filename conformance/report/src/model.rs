//! The report's types: what `compatibility.json` holds (its JSON Schema is derived from them) and
//! what the Markdown and HTML renderers read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::results::{Failure, Status, Target};

/// The whole compatibility report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The tool that wrote it (`conformance report 0.1.0`).
    pub generated_by: String,
    /// One column per provider, in the order of every table.
    pub providers: Vec<ProviderColumn>,
    /// The capability matrix: one row per feature, one cell per provider.
    pub matrix: Vec<MatrixRow>,
    /// Sampler and scheduler names lined up under their common name (`x-common-names`).
    pub samplers: Vec<SamplerRow>,
    /// Parameter ranges side by side, with unit and default.
    pub ranges: Vec<RangeRow>,
    /// Feature ids of the vocabulary that no spec declares (so their absence is visible).
    pub undeclared_features: Vec<String>,
    /// The latest conformance run.
    pub conformance: Conformance,
    /// How graded clients behaved under the scenarios (`conformance client`).
    pub client_behaviour: crate::clients::ClientBehaviour,
    /// The official SDKs against the emulator (the SDK compatibility suite).
    pub sdks: SdkSection,
    /// What backs each operation: examples, the provider's own spec, SDKs, live recordings.
    pub coverage: crate::coverage::Coverage,
}

/// The official SDKs section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SdkSection {
    /// The `sdk.json` read.
    pub source: String,
    /// Shown instead of the rows when there are none (`SDK suite not run`).
    pub note: Option<String>,
    /// One row per official SDK.
    pub rows: Vec<crate::sdk::SdkResult>,
}

/// A provider as the report names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProviderColumn {
    /// The provider id (`x-provider.id`, the file stem of its spec).
    pub id: String,
    /// Display name (`x-provider.name`).
    pub name: String,
    /// The model the endpoint runs (`x-provider.model`).
    pub model: String,
    /// The spec it was read from (`specs/<id>.yaml`).
    pub spec: String,
    /// The spec's `info.version`.
    pub spec_version: String,
}

/// How well a provider supports a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    /// A request property implements it (`x-feature`), or the document says so.
    Supported,
    /// Available with a restriction the spec states (e.g. one fixed output format).
    Partial,
    /// Nothing in the spec implements it.
    NotSupported,
    /// A fact rather than a capability (auth style, polling style, limits).
    Info,
}

impl Support {
    /// The text label shown beside the colour.
    pub fn label(self) -> &'static str {
        match self {
            Support::Supported => "Supported",
            Support::Partial => "Partial",
            Support::NotSupported => "Not supported",
            Support::Info => "Info",
        }
    }

    /// The CSS class and anchor-friendly id (`supported`, `not-supported`...).
    pub fn slug(self) -> &'static str {
        match self {
            Support::Supported => "supported",
            Support::Partial => "partial",
            Support::NotSupported => "not-supported",
            Support::Info => "info",
        }
    }
}

/// Where a matrix row's cells come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowSource {
    /// Request properties tagged with this `x-feature` id.
    Feature,
    /// A document-level extension (`x-auth`, `x-job`, `x-limits`).
    Document,
}

/// One feature, one cell per provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixRow {
    /// The `x-feature` id, or `auth`, `polling`, `limits` for document rows.
    pub id: String,
    /// What a person reads (`IP-Adapter`).
    pub label: String,
    /// Feature or document row.
    pub source: RowSource,
    /// One cell per provider, in [`Report::providers`] order.
    pub cells: Vec<Cell>,
}

/// What one provider offers for one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cell {
    /// The provider id.
    pub provider: String,
    /// Supported, partial, not supported, or a fact.
    pub support: Support,
    /// One short line (`0.01..0.99 ratio, default 0.7`).
    pub summary: String,
    /// Further facts (`required`, enum values, the common names of samplers).
    pub details: Vec<String>,
    /// Where it comes from: request field paths (`request.width`) or extension keys (`x-auth`).
    pub fields: Vec<String>,
}

/// One common sampler name and each provider's spelling of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SamplerRow {
    /// The common name (`euler_ancestral`).
    pub common_name: String,
    /// Each provider's values mapped to it, in [`Report::providers`] order (empty: none).
    pub cells: Vec<SamplerCell>,
}

/// A provider's spellings of one common sampler name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SamplerCell {
    /// The provider id.
    pub provider: String,
    /// The provider's values (`Euler a`), empty when it has none.
    pub values: Vec<String>,
}

/// What a range bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bounds {
    /// The value itself (`minimum`/`maximum`).
    Value,
    /// Each side of a `"WxH"` size (`x-dimensions`).
    EachSide,
    /// The length of a string (`minLength`/`maxLength`).
    Length,
    /// The number of items (`minItems`/`maxItems`, `x-max-count`).
    Count,
}

/// One ranged feature, side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RangeRow {
    /// The `x-feature` id.
    pub feature: String,
    /// What a person reads.
    pub label: String,
    /// One cell per provider, in [`Report::providers`] order.
    pub cells: Vec<RangeCell>,
}

/// One provider's range for a feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RangeCell {
    /// The provider id.
    pub provider: String,
    /// The request field (`request.width`); `None` when the provider lacks the feature.
    pub field: Option<String>,
    /// What the bounds apply to.
    pub bounds: Option<Bounds>,
    /// The lower bound.
    pub minimum: Option<serde_json::Number>,
    /// Whether the lower bound itself is excluded.
    pub exclusive_minimum: bool,
    /// The upper bound.
    pub maximum: Option<serde_json::Number>,
    /// Whether the upper bound itself is excluded.
    pub exclusive_maximum: bool,
    /// `x-unit` (`pixels`, `ratio`...).
    pub unit: Option<String>,
    /// The default, as the spec writes it.
    pub default: Option<serde_json::Value>,
    /// Anything else worth knowing (`also a decimal string`, `null allowed`).
    pub notes: Vec<String>,
}

/// The conformance results section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Conformance {
    /// The results file read.
    pub source: String,
    /// The run, or `None` when there has been no conformance run yet.
    pub run: Option<RunInfo>,
    /// Shown instead of the results when there are none (`no conformance run yet`).
    pub note: Option<String>,
    /// The provider × target columns present in the run.
    pub columns: Vec<ResultColumn>,
    /// One row per check.
    pub checks: Vec<CheckRow>,
    /// Every failing case, linked from its cell.
    pub failures: Vec<FailureEntry>,
}

/// When and how the run went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunInfo {
    /// The date of the run (`YYYY-MM-DD`, from `started_at`).
    pub date: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it finished (RFC 3339).
    pub finished_at: String,
    /// The tool that ran it.
    pub tool_version: String,
    /// The proptest seed (replays the same cases).
    pub seed: u64,
    /// Cases per property check.
    pub cases_per_check: u32,
    /// Results that passed.
    pub passed: usize,
    /// Results that failed.
    pub failed: usize,
    /// Results that were skipped.
    pub skipped: usize,
}

/// One provider on one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResultColumn {
    /// The provider id.
    pub provider: String,
    /// Emulator, live or replay.
    pub target: Target,
}

/// One check across every column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckRow {
    /// The check id (`positive_acceptance`).
    pub check: String,
    /// What it asserts.
    pub description: String,
    /// One cell per [`Conformance::columns`] entry.
    pub cells: Vec<CheckCell>,
}

/// One check × provider × target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckCell {
    /// The provider id.
    pub provider: String,
    /// Where it ran.
    pub target: Target,
    /// Passed, failed or skipped; `None` when the run has no result for this column.
    pub status: Option<Status>,
    /// Cases run.
    pub cases: u32,
    /// Why it was skipped, or a summary of the failure.
    pub detail: Option<String>,
    /// The anchor of the failing case in [`Conformance::failures`] (`failure-...`).
    pub failure_anchor: Option<String>,
}

/// A failing case, with its minimal request and the response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailureEntry {
    /// The anchor cells link to.
    pub anchor: String,
    /// The check id.
    pub check: String,
    /// The provider id.
    pub provider: String,
    /// Where it ran.
    pub target: Target,
    /// One-line summary, if the run gave one.
    pub detail: Option<String>,
    /// The minimal failing case; `None` when the run recorded none.
    pub failure: Option<Failure>,
}
