//! The types of `target/conformance/parity.json`, written by `cargo xtask diff --against THEIRS
//! --save`: for each comparison of one of our specs with a provider's own published spec, the
//! field counts per operation (compared, agree, kept on purpose, open). The report's coverage
//! table reads it; without it, each operation says "not compared".

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ReportError;

/// The whole file: the latest comparison with each published spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParityFile {
    /// One entry per (provider, published spec file), the latest kept.
    pub comparisons: Vec<Comparison>,
}

/// One of our specs against one published spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// Our `x-provider.id`.
    pub provider: String,
    /// Our spec as compared (`specs/<id>.yaml`).
    pub ours: String,
    /// The published spec's file name (no directory).
    pub theirs_file: String,
    /// Its `info.title`.
    pub theirs_title: String,
    /// Its `info.version`.
    pub theirs_version: String,
    /// When the comparison ran (RFC 3339).
    pub compared_at: String,
    /// Each of our operations paired with one of theirs.
    pub operations: Vec<OperationCounts>,
    /// Our operationIds their spec does not have.
    pub only_ours: Vec<String>,
    /// Their operations (`POST /inpaint`) our spec does not have.
    pub only_theirs: Vec<String>,
}

/// The field counts of one of our operations against theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OperationCounts {
    /// Our `operationId`.
    pub operation: String,
    /// Their operation (`POST /img2img`).
    pub theirs: String,
    /// Fields compared (parameters, body fields, response statuses and their fields).
    pub compared: usize,
    /// Fields that agree.
    pub agree: usize,
    /// Fields that differ only where our spec says why (`x-parity`).
    pub kept: usize,
    /// Fields that differ with no reason given.
    pub open: usize,
}

impl ParityFile {
    /// Adds `comparison`, replacing an earlier one of the same provider and published file.
    pub fn record(&mut self, comparison: Comparison) {
        self.comparisons.retain(|c| {
            !(c.provider == comparison.provider && c.theirs_file == comparison.theirs_file)
        });
        self.comparisons.push(comparison);
        self.comparisons
            .sort_by(|a, b| (&a.provider, &a.theirs_file).cmp(&(&b.provider, &b.theirs_file)));
    }

    /// Writes the file (pretty JSON), creating its folder.
    pub fn save(&self, path: &Path) -> Result<(), ReportError> {
        let io = |source| ReportError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut text = serde_json::to_string_pretty(self).expect("a parity file serializes");
        text.push('\n');
        std::fs::write(path, text).map_err(io)
    }
}

/// Reads `parity.json`; `Ok(None)` when there is none (no comparison saved yet).
pub fn load(path: &Path) -> Result<Option<ParityFile>, ReportError> {
    crate::load_json(path)
}
