//! `compatibility.md`: short enough for a pull-request comment. The matrix and ranges are tables
//! with text labels; samplers and failing cases fold into `<details>`.

pub(crate) mod coverage;

use std::fmt::Write as _;

use super::clients::ClientCell;
use super::model::{Bounds, Cell, RangeCell, Report, Support};
use super::ranges::{number, span, unit};
use super::target_name;
use crate::results::Status;
use crate::sdk::SdkOutcome;

/// The Markdown report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Provider compatibility\n");
    let sources: Vec<String> = report
        .providers
        .iter()
        .map(|p| format!("{} (`{}` {})", p.name, p.spec, p.spec_version))
        .collect();
    let _ = writeln!(
        out,
        "From the specs — {} — and the latest conformance run. Written by `cargo xtask report`.\n",
        sources.join(", ")
    );

    let header = |out: &mut String, first: &str| {
        let names: Vec<String> = report
            .providers
            .iter()
            .map(|p| cell_text(&p.name))
            .collect();
        let _ = writeln!(out, "| {first} | {} |", names.join(" | "));
        let _ = writeln!(out, "|---|{}", "---|".repeat(names.len()));
    };

    let _ = writeln!(out, "## Capability matrix\n");
    let _ = writeln!(
        out,
        "✅ supported · 🟡 partial · ❌ not supported · ℹ️ fact from the spec\n"
    );
    header(&mut out, "Feature");
    for row in &report.matrix {
        let cells: Vec<String> = row.cells.iter().map(matrix_cell).collect();
        let _ = writeln!(out, "| {} | {} |", cell_text(&row.label), cells.join(" | "));
    }
    if !report.undeclared_features.is_empty() {
        let _ = writeln!(
            out,
            "\nNo provider declares: {}.",
            report
                .undeclared_features
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    if !report.samplers.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>Samplers and schedulers by common name</summary>\n"
        );
        header(&mut out, "Common name");
        for row in &report.samplers {
            let cells: Vec<String> = row
                .cells
                .iter()
                .map(|c| {
                    if c.values.is_empty() {
                        "—".to_owned()
                    } else {
                        c.values
                            .iter()
                            .map(|v| format!("`{}`", cell_text(v)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                })
                .collect();
            let _ = writeln!(out, "| `{}` | {} |", row.common_name, cells.join(" | "));
        }
        let _ = writeln!(out, "\n</details>");
    }

    let _ = writeln!(out, "\n## Parameter ranges\n");
    header(&mut out, "Parameter");
    for row in &report.ranges {
        let cells: Vec<String> = row.cells.iter().map(range_cell).collect();
        let _ = writeln!(out, "| {} | {} |", cell_text(&row.label), cells.join(" | "));
    }

    conformance(&mut out, report);
    sdks(&mut out, report);
    client_behaviour(&mut out, report);
    coverage::section(&mut out, report);
    out
}

/// A client check's cell: ✅ with the scenarios it held under, ❌ with those it failed, — when it
/// did not apply.
pub(crate) fn client_cell_text(cell: &ClientCell) -> String {
    match cell.status {
        Some(Status::Failed) => format!(
            "❌ {}",
            cell.failed
                .iter()
                .map(|f| f.scenario.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(Status::Passed) => format!("✅ {}/{}", cell.passed.len(), cell.passed.len()),
        _ => "—".to_owned(),
    }
}

fn client_behaviour(out: &mut String, report: &Report) {
    let c = &report.client_behaviour;
    let _ = writeln!(
        out,
        "
## Client behaviour
"
    );
    if c.is_empty() {
        let _ = writeln!(out, "_{}_", c.note.as_deref().unwrap_or("not run"));
        return;
    }
    let _ = writeln!(
        out,
        "Each client ran one job per scenario against the emulator (`cargo xtask conformance client`). ✅ held under every scenario where the check applies (count) · ❌ failed under the scenarios named · — did not apply.\n"
    );
    let heads: Vec<String> = c.checks.iter().map(|k| format!("`{}`", k.check)).collect();
    let _ = writeln!(out, "| Client | Provider | {} |", heads.join(" | "));
    let _ = writeln!(out, "|---|---|{}", "---|".repeat(heads.len()));
    for row in &c.rows {
        let cells: Vec<String> = row.cells.iter().map(client_cell_text).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            cell_text(&row.client),
            row.provider,
            cells.join(" | ")
        );
    }
    let failures: Vec<String> = c
        .rows
        .iter()
        .flat_map(|row| {
            row.cells.iter().flat_map(move |cell| {
                cell.failed.iter().map(move |f| {
                    format!(
                        "- `{}` · {} · `{}` under `{}`: {}",
                        row.client,
                        row.provider,
                        cell.check,
                        f.scenario,
                        f.detail.replace('\n', " ")
                    )
                })
            })
        })
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nWhy:\n\n{}", failures.join("\n"));
    }
}

fn matrix_cell(cell: &Cell) -> String {
    let mark = match cell.support {
        Support::Supported => "✅",
        Support::Partial => "🟡",
        Support::NotSupported => "❌",
        Support::Info => "ℹ️",
    };
    if cell.support == Support::NotSupported && cell.summary == "not supported" {
        return format!("{mark} no");
    }
    format!("{mark} {}", cell_text(&cell.summary))
}

/// `` `request.width` 128..2048 px, default 512 ``.
pub(crate) fn range_text(cell: &RangeCell) -> String {
    let Some(field) = &cell.field else {
        return "—".to_owned();
    };
    let mut text = format!("`{field}`");
    if let Some(bounds) = cell.bounds {
        let low = cell.minimum.clone().map(|n| (n, cell.exclusive_minimum));
        let high = cell.maximum.clone().map(|n| (n, cell.exclusive_maximum));
        let what = match bounds {
            Bounds::Value => String::new(),
            Bounds::EachSide => "each side ".to_owned(),
            Bounds::Length => "length ".to_owned(),
            Bounds::Count => "count ".to_owned(),
        };
        let unit = match bounds {
            Bounds::Count => String::new(),
            _ => unit(cell.unit.as_deref()),
        };
        let _ = write!(text, " {what}{}{unit}", span(low, high));
    } else {
        text.push_str(" unbounded");
    }
    if let Some(default) = &cell.default {
        let shown = match default {
            serde_json::Value::String(s) if s.is_empty() => "\"\"".to_owned(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => number(n),
            other => other.to_string(),
        };
        let _ = write!(text, ", default {shown}");
    }
    for note in &cell.notes {
        let _ = write!(text, "; {note}");
    }
    text
}

fn range_cell(cell: &RangeCell) -> String {
    cell_text(&range_text(cell))
}

/// A status as text with its mark.
pub(crate) fn status_text(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Passed) => "✅ passed",
        Some(Status::Failed) => "❌ failed",
        Some(Status::Skipped) => "⏭️ skipped",
        None => "—",
    }
}

fn conformance(out: &mut String, report: &Report) {
    let c = &report.conformance;
    let _ = writeln!(out, "\n## Conformance results\n");
    let Some(run) = &c.run else {
        let _ = writeln!(
            out,
            "_{}_",
            c.note.as_deref().unwrap_or("no conformance run yet")
        );
        return;
    };
    let _ = writeln!(
        out,
        "Run of **{}** ({} → {}, {}, seed {}): {} passed, {} failed, {} skipped.\n",
        run.date,
        run.started_at,
        run.finished_at,
        run.tool_version,
        run.seed,
        run.passed,
        run.failed,
        run.skipped
    );
    let heads: Vec<String> = c
        .columns
        .iter()
        .map(|col| format!("{} · {}", col.provider, target_name(col.target)))
        .collect();
    let _ = writeln!(out, "| Check | {} |", heads.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(heads.len()));
    for row in &c.checks {
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|cell| match &cell.failure_anchor {
                Some(anchor) => format!("[❌ failed](#{anchor})"),
                None => status_text(cell.status).to_owned(),
            })
            .collect();
        let _ = writeln!(out, "| `{}` | {} |", row.check, cells.join(" | "));
    }
    if c.failures.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### Failing cases\n");
    for failure in &c.failures {
        let _ = writeln!(
            out,
            "<a id=\"{}\"></a>\n<details><summary><code>{}</code> · {} · {}: {}</summary>\n",
            failure.anchor,
            failure.check,
            failure.provider,
            target_name(failure.target),
            html_text(
                failure
                    .failure
                    .as_ref()
                    .map(|f| f.message.as_str())
                    .or(failure.detail.as_deref())
                    .unwrap_or("failed")
            )
        );
        if let Some(f) = &failure.failure {
            if let Some(operation) = &f.operation {
                let _ = writeln!(out, "Operation `{operation}`\n");
            }
            if let Some(request) = &f.request {
                let _ = writeln!(
                    out,
                    "Request:\n```json\n{}\n```\n",
                    serde_json::to_string_pretty(request).unwrap_or_default()
                );
            }
            if let Some(response) = &f.response {
                let _ = writeln!(
                    out,
                    "Response: HTTP {}{}\n```json\n{}\n```\n",
                    response.status,
                    response
                        .content_type
                        .as_deref()
                        .map(|t| format!(" ({t})"))
                        .unwrap_or_default(),
                    serde_json::to_string_pretty(&response.body).unwrap_or_default()
                );
            }
        }
        let _ = writeln!(out, "</details>\n");
    }
}

fn sdks(out: &mut String, report: &Report) {
    let _ = writeln!(out, "\n## Official SDKs against the emulator\n");
    if let Some(note) = &report.sdks.note {
        let _ = writeln!(out, "_{note}_");
        return;
    }
    let _ = writeln!(
        out,
        "| SDK | Provider | Against the emulator | Sends beyond the docs |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for row in &report.sdks.rows {
        let outcome = match row.outcome {
            SdkOutcome::Works => "✅ works",
            SdkOutcome::Fails => "❌ fails",
            SdkOutcome::Skipped => "⏭️ skipped",
        };
        let drift = if row.drift.is_empty() {
            "nothing".to_owned()
        } else {
            row.drift.lines().join("<br>")
        };
        let _ = writeln!(
            out,
            "| `{}` {} ({}) | {} | {}: {} | {} |",
            row.sdk,
            row.version,
            row.registry,
            row.provider,
            outcome,
            cell_text(&row.detail),
            cell_text(&drift)
        );
    }
}

/// Text safe inside a Markdown table cell.
fn cell_text(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Text safe inside inline HTML.
fn html_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
