//! The summary `cargo xtask diff --against THEIRS --save [FILE]` keeps for the report: the
//! counts per operation, merged into `target/conformance/parity.json` (the latest comparison
//! with each published spec file). Only the published file's name is kept, never its directory.

use std::path::Path;

use img2img_report::parity::{self, Comparison, OperationCounts, ParityFile};

use super::ParityReport;

/// Where `--save` writes when given no file, relative to the workspace root.
pub const DEFAULT_RECORD: &str = "target/conformance/parity.json";

/// Merges `report` into the parity file at `path` (created when missing), stamped `now`
/// (RFC 3339).
pub fn record(
    report: &ParityReport,
    file_name: &str,
    path: &Path,
    now: &str,
) -> anyhow::Result<()> {
    let mut file: ParityFile = parity::load(path)?.unwrap_or_default();
    file.record(Comparison {
        provider: report.provider.clone(),
        ours: report.ours.clone(),
        theirs_file: file_name.to_owned(),
        theirs_title: report.theirs_title.clone(),
        theirs_version: report.theirs_version.clone(),
        compared_at: now.to_owned(),
        operations: report
            .operations
            .iter()
            .map(|op| OperationCounts {
                operation: op.ours.id.clone(),
                theirs: format!("{} {}", op.theirs.method, op.theirs.path),
                compared: op.counts.compared,
                agree: op.counts.agree,
                kept: op.counts.kept,
                open: op.counts.open,
            })
            .collect(),
        only_ours: report.only_ours.iter().map(|o| o.id.clone()).collect(),
        only_theirs: report
            .only_theirs
            .iter()
            .map(|o| format!("{} {}", o.method, o.path))
            .collect(),
    });
    file.save(path)?;
    Ok(())
}
