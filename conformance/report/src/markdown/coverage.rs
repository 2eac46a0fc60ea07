//! The coverage table in `compatibility.md`.

use std::fmt::Write as _;

use crate::coverage::{CoverageRow, Examples};
use crate::model::Report;
use crate::sdk::SdkOutcome;

/// Writes the "Operation coverage" section.
pub(crate) fn section(out: &mut String, report: &Report) {
    let c = &report.coverage;
    let _ = writeln!(out, "\n## Operation coverage\n");
    if c.rows.is_empty() {
        let _ = writeln!(out, "_No operations._");
        return;
    }
    let _ = writeln!(
        out,
        "What backs each operation: the examples its spec carries, the provider's own published spec (fields that agree of those compared; differences kept on purpose with `x-parity`; open ones), the official SDKs that reached it, and its latest live recording. From `{}`, `{}` and `{}`.\n",
        c.parity_source, c.sdk_source, c.cassette_source
    );
    let _ = writeln!(
        out,
        "| Provider | Operation | Docs examples | Provider's spec | Official SDKs | Live recording |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for row in &c.rows {
        let name = report
            .providers
            .iter()
            .find(|p| p.id == row.provider)
            .map_or(row.provider.as_str(), |p| p.name.as_str());
        let role = row
            .role
            .as_deref()
            .map_or_else(String::new, |r| format!(" ({r})"));
        let _ = writeln!(
            out,
            "| {} | `{}`{role}<br>`{} {}` | {} | {} | {} | {} |",
            cell(name),
            row.operation,
            row.method,
            cell(&row.path),
            examples(row.examples),
            cell(&published(row)),
            cell(&sdks(row)),
            live(row)
        );
    }
}

/// `2 request, 5 response, +1 docs text`, or `none`.
pub(crate) fn examples(e: Examples) -> String {
    let mut parts = Vec::new();
    if e.request > 0 {
        parts.push(format!("{} request", e.request));
    }
    if e.response > 0 {
        parts.push(format!("{} response", e.response));
    }
    if e.docs_only > 0 {
        parts.push(format!("+{} docs text", e.docs_only));
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

/// `agrees 16 of 87 fields, 0 kept, 71 open (Title version (file), 2025-03-04)`, one per spec.
pub(crate) fn published(row: &CoverageRow) -> String {
    if row.published.is_empty() {
        return row.published_note.clone().unwrap_or_default();
    }
    row.published
        .iter()
        .map(|p| {
            format!(
                "agrees {} of {} fields, {} kept, {} open ({} `{}`, {})",
                p.agree, p.compared, p.kept, p.open, p.spec, p.theirs, p.date
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `<package> <version> ✅`, or `none`.
fn sdks(row: &CoverageRow) -> String {
    if row.sdks.is_empty() {
        return "none".to_owned();
    }
    row.sdks
        .iter()
        .map(|s| {
            let outcome = match s.outcome {
                SdkOutcome::Works => "✅ works",
                SdkOutcome::Fails => "❌ fails",
                SdkOutcome::Skipped => "⏭️ skipped",
            };
            let assumed = if s.assumed { " (assumed)" } else { "" };
            format!("`{}` {} {outcome}{assumed}", s.sdk, s.version)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2025-03-04 (12 exchanges)`, or `never`.
pub(crate) fn live(row: &CoverageRow) -> String {
    row.live.as_ref().map_or_else(
        || "never".to_owned(),
        |l| format!("{} ({} exchanges)", l.date, l.exchanges),
    )
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
