//! A parity report as text (terminal), Markdown (a pull-request comment) or JSON (every field,
//! agreeing ones too). Text and Markdown list the fields that differ: open ones, then kept ones
//! with their reason and source.

use std::fmt::Write as _;

use super::super::classify::show;
use super::ParityReport;
use super::operation::{Counts, FieldParity, OperationRef, Verdict};

/// Plain text.
pub fn text(report: &ParityReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} ↔ {}", report.ours, theirs(report));
    let _ = writeln!(
        out,
        "  {} operation(s) compared: {}",
        report.operations.len(),
        counts(report.counts)
    );
    for op in &report.operations {
        let _ = writeln!(
            out,
            "  {} ↔ {} [{}]: {}",
            operation(&op.ours),
            route(&op.theirs),
            matched(op.matched_by),
            counts(op.counts)
        );
        for field in differing(&op.fields) {
            let label = match field.verdict {
                Verdict::Open => "open",
                Verdict::Kept => "kept",
                Verdict::Agree => continue,
            };
            let _ = writeln!(out, "    {label:<6}{}", field.name());
            for d in &field.differences {
                let _ = writeln!(
                    out,
                    "          {}: ours {} · theirs {}",
                    d.facet.as_str(),
                    show(d.ours.as_ref()),
                    show(d.theirs.as_ref())
                );
            }
            if let Some(kept) = &field.kept {
                let _ = writeln!(out, "          why: {} ({})", kept.kept, kept.source);
            }
        }
        for field in op.fields.iter().filter(|f| f.stale_mark) {
            let _ = writeln!(
                out,
                "    stale {}: x-parity keeps a difference that is gone",
                field.name()
            );
        }
    }
    list(
        &mut out,
        "only ours (not in their spec)",
        &report.only_ours,
        operation,
    );
    list(
        &mut out,
        "only theirs (not in ours)",
        &report.only_theirs,
        route,
    );
    for note in &report.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out
}

/// Markdown: the counts per operation in a table, then each differing field.
pub fn markdown(report: &ParityReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### `{}` ↔ {}\n\n**{}**\n",
        cell(&report.ours),
        cell(&theirs(report)),
        counts(report.counts)
    );
    if !report.operations.is_empty() {
        out.push_str("| ours | theirs | matched by | fields | agree | kept on purpose | open |\n|---|---|---|---|---|---|---|\n");
        for op in &report.operations {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} | {} | {} |",
                cell(&operation(&op.ours)),
                cell(&route(&op.theirs)),
                matched(op.matched_by),
                op.counts.compared,
                op.counts.agree,
                op.counts.kept,
                op.counts.open
            );
        }
        out.push('\n');
    }
    for op in &report.operations {
        for field in op.fields.iter().filter(|f| f.stale_mark) {
            let _ = writeln!(
                out,
                "> `{}`: `x-parity` on `{}` keeps a difference that is gone; remove it.\n",
                cell(&operation(&op.ours)),
                cell(&field.name())
            );
        }
        let fields: Vec<&FieldParity> = differing(&op.fields).collect();
        if fields.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<details><summary><code>{}</code>: {} open, {} kept</summary>\n",
            html(&operation(&op.ours)),
            op.counts.open,
            op.counts.kept
        );
        out.push_str("| | field | facet | ours | theirs | why kept |\n|---|---|---|---|---|---|\n");
        for field in fields {
            let verdict = match field.verdict {
                Verdict::Open => "**open**",
                _ => "kept",
            };
            let why = field.kept.as_ref().map_or_else(String::new, |k| {
                format!("{} ([source]({}))", cell(&k.kept), k.source)
            });
            for d in &field.differences {
                let _ = writeln!(
                    out,
                    "| {verdict} | `{}` | {} | `{}` | `{}` | {why} |",
                    cell(&field.name()),
                    d.facet.as_str(),
                    cell(&show(d.ours.as_ref())),
                    cell(&show(d.theirs.as_ref()))
                );
            }
        }
        out.push_str("\n</details>\n\n");
    }
    let mut one_side = |title: &str, ops: Vec<String>| {
        if !ops.is_empty() {
            let _ = writeln!(out, "{title}: {}\n", ops.join(", "));
        }
    };
    one_side(
        "Only ours (not in their spec)",
        report
            .only_ours
            .iter()
            .map(|o| format!("`{}`", cell(&operation(o))))
            .collect(),
    );
    one_side(
        "Only theirs (not in ours)",
        report
            .only_theirs
            .iter()
            .map(|o| format!("`{}`", cell(&route(o))))
            .collect(),
    );
    for note in &report.notes {
        let _ = writeln!(out, "> {}\n", cell(note));
    }
    out
}

/// JSON: the whole report, every field with its verdict.
pub fn json(report: &ParityReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a parity report serializes");
    text.push('\n');
    text
}

/// Open fields first, then kept ones.
fn differing(fields: &[FieldParity]) -> impl Iterator<Item = &FieldParity> {
    fields.iter().filter(|f| f.verdict != Verdict::Agree)
}

fn theirs(report: &ParityReport) -> String {
    let mut parts = vec![format!("OpenAPI {}", report.theirs_openapi)];
    if !report.theirs_version.is_empty() {
        parts.insert(0, format!("version {}", report.theirs_version));
    }
    if !report.theirs_base_path.is_empty() {
        parts.push(format!("base path {}", report.theirs_base_path));
    }
    let title = if report.theirs_title.is_empty() {
        String::new()
    } else {
        format!("{}, ", report.theirs_title)
    };
    format!("{} ({title}{})", report.theirs, parts.join(", "))
}

fn counts(c: Counts) -> String {
    format!(
        "{} field(s), {} agree, {} kept on purpose, {} open",
        c.compared, c.agree, c.kept, c.open
    )
}

/// `POST /a (create)`.
fn operation(op: &OperationRef) -> String {
    format!("{} {} ({})", op.method, op.path, op.id)
}

/// `POST /a`.
fn route(op: &OperationRef) -> String {
    format!("{} {}", op.method, op.path)
}

fn matched(by: super::MatchedBy) -> &'static str {
    match by {
        super::MatchedBy::Mark => "x-parity.operation",
        super::MatchedBy::Path => "path",
        super::MatchedBy::Suffix => "path suffix",
    }
}

fn list<T>(out: &mut String, title: &str, items: &[T], name: impl Fn(&T) -> String) {
    if items.is_empty() {
        return;
    }
    let names: Vec<String> = items.iter().map(name).collect();
    let _ = writeln!(out, "  {title}: {}", names.join(", "));
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('\n', " ")
        .replace('`', "'")
}

/// Text safe inside inline HTML.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
