//! The diff as text (terminal), Markdown (a pull-request comment) or JSON (tools).

use std::fmt::Write as _;

use serde_json::json;

use super::classify::{Change, Class, show};

/// The changes between two versions of one spec, as the renderers print them.
#[derive(Debug, Clone)]
pub struct Diff {
    /// Where the old version came from.
    pub old: String,
    /// Where the new version came from.
    pub new: String,
    /// Every change, breaking ones first, otherwise in document order.
    pub changes: Vec<Change>,
}

impl Diff {
    /// How many changes are of `class`.
    pub fn count(&self, class: Class) -> usize {
        self.changes.iter().filter(|c| c.class == class).count()
    }
}

/// Plain text: a summary line per spec, then one block per change, breaking first.
pub fn text(diffs: &[Diff]) -> String {
    let mut out = String::new();
    for diff in diffs {
        let _ = writeln!(out, "{} → {}: {}", diff.old, diff.new, counts(diff));
        for change in &diff.changes {
            let label = match change.class {
                Class::Breaking => "BREAKING",
                Class::NonBreaking => "ok",
            };
            let _ = writeln!(out, "  {label:<9}{}", change.path);
            let _ = writeln!(out, "  {:<9}{}", "", change.explanation);
        }
    }
    out
}

/// Markdown: a heading and a table per spec, breaking changes first.
pub fn markdown(diffs: &[Diff]) -> String {
    let mut out = String::new();
    for diff in diffs {
        let _ = writeln!(
            out,
            "### `{}` → `{}`\n\n**{}**\n",
            cell(&diff.old),
            cell(&diff.new),
            counts(diff)
        );
        if diff.changes.is_empty() {
            continue;
        }
        out.push_str("| class | change | JSON path | old | new |\n|---|---|---|---|---|\n");
        for change in &diff.changes {
            let class = match change.class {
                Class::Breaking => "**breaking**",
                Class::NonBreaking => "non-breaking",
            };
            let _ = writeln!(
                out,
                "| {class} | {} | `{}` | `{}` | `{}` |",
                cell(&change.explanation),
                cell(&change.path),
                cell(&show(change.old.as_ref())),
                cell(&show(change.new.as_ref())),
            );
        }
        out.push('\n');
    }
    out
}

/// JSON: `{"diffs": [{"old", "new", "breaking", "non_breaking", "changes": [...]}]}`.
pub fn json(diffs: &[Diff]) -> String {
    let value = json!({
        "diffs": diffs.iter().map(|d| json!({
            "old": d.old,
            "new": d.new,
            "breaking": d.count(Class::Breaking),
            "non_breaking": d.count(Class::NonBreaking),
            "changes": d.changes,
        })).collect::<Vec<_>>()
    });
    let mut text = serde_json::to_string_pretty(&value).expect("a diff serializes");
    text.push('\n');
    text
}

fn counts(diff: &Diff) -> String {
    match diff.changes.len() {
        0 => "no changes".into(),
        n => format!(
            "{n} change(s), {} breaking, {} non-breaking",
            diff.count(Class::Breaking),
            diff.count(Class::NonBreaking)
        ),
    }
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('\n', " ")
        .replace('`', "'")
}
