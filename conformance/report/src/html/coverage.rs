//! The coverage table in `compatibility.html`.

use std::fmt::Write as _;

use super::esc;
use crate::markdown::coverage::{examples, live};
use crate::model::Report;
use crate::sdk::SdkOutcome;

/// Writes the "Operation coverage" section.
pub(crate) fn section(out: &mut String, report: &Report) {
    let c = &report.coverage;
    out.push_str("<section id=\"coverage\">\n<h2 id=\"coverage-title\">Operation coverage</h2>\n");
    let _ = writeln!(
        out,
        "<p>What backs each operation: the examples its spec carries, the provider's own published spec (fields that agree of those compared, differences kept on purpose with <code>x-parity</code>, open ones), the official SDKs that reached it, and its latest live recording. From <code>{}</code>, <code>{}</code> and <code>{}</code>.</p>",
        esc(&c.parity_source),
        esc(&c.sdk_source),
        esc(&c.cassette_source)
    );
    out.push_str("<div class=\"box scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"coverage-title\"><table class=\"results coverage\">\n<thead><tr><th scope=\"col\">Operation</th><th scope=\"col\">Docs examples</th><th scope=\"col\">Provider's spec</th><th scope=\"col\">Official SDKs</th><th scope=\"col\">Live recording</th></tr></thead>\n<tbody>\n");
    for row in &c.rows {
        let name = report
            .providers
            .iter()
            .find(|p| p.id == row.provider)
            .map_or(row.provider.as_str(), |p| p.name.as_str());
        let role = row
            .role
            .as_deref()
            .map_or_else(String::new, |r| format!(" · {}", esc(r)));
        let spec = if row.published.is_empty() {
            format!(
                "<td class=\"r-none\">{}</td>",
                esc(row.published_note.as_deref().unwrap_or_default())
            )
        } else {
            let open = row.published.iter().any(|p| p.open > 0);
            let class = if open { "r-failed" } else { "r-passed" };
            let lines: Vec<String> = row
                .published
                .iter()
                .map(|p| {
                    format!(
                        "<span class=\"badge\">{} of {} agree</span><small>{} kept on purpose · {} open</small><small>{} <code>{}</code> · {}</small>",
                        p.agree,
                        p.compared,
                        p.kept,
                        p.open,
                        esc(&p.spec),
                        esc(&p.theirs),
                        esc(&p.date)
                    )
                })
                .collect();
            format!("<td class=\"{class}\">{}</td>", lines.concat())
        };
        let sdks = if row.sdks.is_empty() {
            "<td class=\"r-none\">none</td>".to_owned()
        } else {
            let items: Vec<String> = row
                .sdks
                .iter()
                .map(|s| {
                    let (class, label) = match s.outcome {
                        SdkOutcome::Works => ("r-passed", "Works"),
                        SdkOutcome::Fails => ("r-failed", "Fails"),
                        SdkOutcome::Skipped => ("r-skipped", "Skipped"),
                    };
                    let assumed = if s.assumed {
                        " <small>(operations not recorded)</small>"
                    } else {
                        ""
                    };
                    format!(
                        "<span class=\"badge {class}\">{label}</span> <code>{}</code> {}{assumed}",
                        esc(&s.sdk),
                        esc(&s.version)
                    )
                })
                .collect();
            format!("<td>{}</td>", items.join("<br>"))
        };
        let live_class = if row.live.is_some() {
            ""
        } else {
            " class=\"r-none\""
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\"><code>{}</code><small>{}{role} · <code>{} {}</code></small></th><td>{}</td>{spec}{sdks}<td{live_class}>{}</td></tr>",
            esc(&row.operation),
            esc(name),
            esc(&row.method),
            esc(&row.path),
            esc(&examples(row.examples)),
            esc(&live(row))
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}
