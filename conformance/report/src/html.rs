//! `compatibility.html`: one self-contained page (inline CSS, no script, no network). A colour-coded
//! matrix with text labels (never colour alone) and a legend; on a phone the matrix and ranges
//! reflow into one card per feature and the wide results table scrolls inside its own box; printed,
//! scroll boxes open up and colours are kept.

mod coverage;

use std::fmt::Write as _;

use super::markdown::range_text;
use super::model::{Cell, Report, Support};
use super::target_name;
use crate::results::Status;
use crate::sdk::SdkOutcome;

const STYLE: &str = r#"
:root{--ink:#1d2430;--muted:#566070;--line:#d8dde4;--paper:#fff;--bg:#f6f7f9;
--ok:#17692c;--ok-bg:#e2f3e6;--part:#7a4a00;--part-bg:#fff0cc;--no:#5f6368;--no-bg:#eceef1;
--info:#1f4e6b;--info-bg:#eaf3f9;--fail:#a3211a;--fail-bg:#fde4e1;--skip:#3f4f72;--skip-bg:#e5eaf5}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header,main,footer{max-width:82rem;margin:0 auto;padding:1rem 1.25rem}
h1{font-size:1.7rem;margin:.4rem 0 .2rem}
h2{font-size:1.3rem;margin:2.2rem 0 .6rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
p{margin:.4rem 0}
a{color:#0b57d0}
.lede{color:var(--muted)}
code{font:.85em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
nav{display:flex;flex-wrap:wrap;gap:.4rem;margin:.8rem 0 0}
nav a{padding:.25rem .7rem;border:1px solid var(--line);border-radius:999px;background:var(--paper);text-decoration:none}
.providers{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.6rem;list-style:none;padding:0;margin:.8rem 0 0}
.providers li{background:var(--paper);border:1px solid var(--line);border-radius:10px;padding:.6rem .8rem}
.providers strong{display:block;font-size:1.05rem}
.providers span{display:block;color:var(--muted);font-size:.88rem}
.legend{display:flex;flex-wrap:wrap;gap:.35rem .9rem;list-style:none;padding:0;margin:.4rem 0 .8rem;font-size:.85rem;color:var(--muted)}
.box{background:var(--paper);border:1px solid var(--line);border-radius:10px;max-width:100%}
.scroll{overflow-x:auto}
table{border-collapse:separate;border-spacing:0;width:100%}
th,td{text-align:left;vertical-align:top;padding:.55rem .65rem;border-bottom:1px solid var(--line)}
tbody tr:last-child>*{border-bottom:0}
thead th{background:#eef1f5;font-size:.85rem;white-space:nowrap}
tbody th{font-weight:600;background:var(--paper)}
tbody th small{display:block;font-weight:400;color:var(--muted)}
.grid{table-layout:fixed}
.grid th[scope=row]{width:13rem}
td{overflow-wrap:anywhere}
.badge{display:inline-block;font-size:.7rem;font-weight:700;letter-spacing:.04em;text-transform:uppercase;padding:.05rem .45rem;border-radius:999px;border:1px solid currentColor;background:var(--paper);white-space:nowrap}
.sum{display:block;margin-top:.2rem}
td ul,details ul{margin:.3rem 0 0;padding-left:1.1rem;font-size:.82rem;color:var(--muted)}
td details{margin-top:.25rem;font-size:.82rem}
td summary{cursor:pointer;color:var(--muted)}
.fields{display:block;margin-top:.25rem;color:var(--muted);font-size:.78rem}
.s-supported{background:var(--ok-bg)}.s-supported .badge,.badge.s-supported{color:var(--ok)}
.s-partial{background:var(--part-bg)}.s-partial .badge,.badge.s-partial{color:var(--part)}
.s-not-supported{background:var(--no-bg);color:var(--no)}.s-not-supported .badge,.badge.s-not-supported{color:var(--no)}
.s-info{background:var(--info-bg)}.s-info .badge,.badge.s-info{color:var(--info)}
.r-passed{background:var(--ok-bg)}.r-passed .badge,.badge.r-passed{color:var(--ok)}
.r-failed{background:var(--fail-bg)}.r-failed .badge,.badge.r-failed{color:var(--fail)}
.r-skipped{background:var(--skip-bg)}.r-skipped .badge,.badge.r-skipped{color:var(--skip)}
.r-none{color:var(--muted)}
.legend .badge.s-supported,.legend .badge.r-passed{background:var(--ok-bg)}
.legend .badge.s-partial{background:var(--part-bg)}
.legend .badge.s-not-supported{background:var(--no-bg)}
.legend .badge.s-info{background:var(--info-bg)}
.legend .badge.r-failed{background:var(--fail-bg)}
.legend .badge.r-skipped{background:var(--skip-bg)}
.results th[scope=row]{min-width:12rem}
.results td{white-space:nowrap}
.results small{display:block;color:var(--muted)}
.coverage td{white-space:normal;min-width:9rem}
.note{padding:.8rem 1rem;border:1px dashed var(--line);border-radius:10px;background:var(--paper)}
.failure{background:var(--paper);border:1px solid var(--line);border-left:4px solid var(--fail);border-radius:10px;padding:.4rem 1rem .8rem;margin:.8rem 0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f1f3f6;border-radius:8px;padding:.6rem .75rem;font-size:.8rem;margin:.3rem 0}
.samplers td{font-size:.88rem}
footer{color:var(--muted);font-size:.82rem}
@media (max-width:44rem){
body{font-size:14px}
header,main,footer{padding:.75rem}
.grid,.grid thead,.grid tbody,.grid tr,.grid th,.grid td{display:block;width:auto}
.grid thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.grid tbody tr{border-bottom:1px solid var(--line)}
.grid tbody tr:last-child{border-bottom:0}
.grid th[scope=row]{width:auto;border-bottom:0;background:#eef1f5}
.grid td{border-bottom:0;border-top:1px solid var(--line)}
.grid td::before{content:attr(data-provider);display:inline-block;margin-right:.5rem;font-weight:600;font-size:.85rem;color:var(--ink)}
.grid td .sum{margin-top:.1rem}
}
@media print{
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{background:#fff;font-size:9pt}
header,main,footer{max-width:none;padding:0}
nav{display:none}
.scroll{overflow:visible}
.box{border:0}
.results td{white-space:normal}
tr,.failure{break-inside:avoid}
h2,h3{break-after:avoid}
a{color:inherit;text-decoration:none}
}
"#;

/// The HTML report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>Provider compatibility</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<header>\n<h1>Provider compatibility</h1>\n");
    let run = match &report.conformance.run {
        Some(run) => format!("the conformance run of {}", esc(&run.date)),
        None => "no conformance run yet".to_owned(),
    };
    let _ = writeln!(
        out,
        "<p class=\"lede\">What each provider supports, how their ranges differ and which checks pass: read from <code>specs/*.yaml</code> and {run}.</p>"
    );
    out.push_str("<ul class=\"providers\">\n");
    for p in &report.providers {
        let _ = writeln!(
            out,
            "<li><strong>{}</strong><span>{}</span><span><code>{}</code> · version {}</span></li>",
            esc(&p.name),
            esc(&p.model),
            esc(&p.spec),
            esc(&p.spec_version)
        );
    }
    out.push_str("</ul>\n<nav aria-label=\"Sections\"><a href=\"#capabilities\">Capabilities</a><a href=\"#samplers\">Samplers</a><a href=\"#ranges\">Ranges</a><a href=\"#conformance\">Conformance</a><a href=\"#sdks\">SDKs</a><a href=\"#clients\">Clients</a><a href=\"#coverage\">Coverage</a></nav>\n</header>\n<main>\n");

    matrix(&mut out, report);
    samplers(&mut out, report);
    ranges(&mut out, report);
    conformance(&mut out, report);
    sdks(&mut out, report);
    client_behaviour(&mut out, report);
    coverage::section(&mut out, report);

    let _ = writeln!(
        out,
        "</main>\n<footer><p>Written by {} (<code>cargo xtask report</code>). Every cell comes from the specs' <code>x-feature</code>-tagged request properties and their <code>x-output</code>, <code>x-auth</code>, <code>x-job</code> and <code>x-limits</code> extensions, and from <code>{}</code>.</p></footer>\n</body>\n</html>",
        esc(&report.generated_by),
        esc(&report.conformance.source)
    );
    out
}

fn legend(out: &mut String, items: &[(&str, &str, &str)]) {
    out.push_str("<ul class=\"legend\">");
    for (class, label, meaning) in items {
        let _ = write!(
            out,
            "<li><span class=\"badge {class}\">{label}</span> {meaning}</li>"
        );
    }
    out.push_str("</ul>\n");
}

fn provider_heads(out: &mut String, report: &Report, first: &str) {
    let _ = write!(out, "<thead><tr><th scope=\"col\">{first}</th>");
    for p in &report.providers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(&p.name));
    }
    out.push_str("</tr></thead>\n");
}

fn provider_name<'a>(report: &'a Report, id: &'a str) -> &'a str {
    report
        .providers
        .iter()
        .find(|p| p.id == id)
        .map_or(id, |p| p.name.as_str())
}

fn matrix(out: &mut String, report: &Report) {
    out.push_str("<section id=\"capabilities\">\n<h2 id=\"matrix-title\">Capability matrix</h2>\n");
    legend(
        out,
        &[
            (
                "s-supported",
                Support::Supported.label(),
                "a request property implements it",
            ),
            (
                "s-partial",
                Support::Partial.label(),
                "available with a restriction",
            ),
            (
                "s-not-supported",
                Support::NotSupported.label(),
                "nothing in the spec implements it",
            ),
            ("s-info", Support::Info.label(), "a fact about the provider"),
        ],
    );
    out.push_str("<div class=\"box\"><table id=\"matrix\" class=\"grid\" aria-labelledby=\"matrix-title\">\n");
    provider_heads(out, report, "Feature");
    out.push_str("<tbody>\n");
    for row in &report.matrix {
        let _ = write!(
            out,
            "<tr id=\"feature-{id}\" data-feature=\"{id}\"><th scope=\"row\">{}<small>{}</small></th>",
            esc(&row.label),
            match row.source {
                super::model::RowSource::Feature => format!("x-feature {}", esc(&row.id)),
                super::model::RowSource::Document => "from the document".to_owned(),
            },
            id = esc(&row.id),
        );
        for cell in &row.cells {
            matrix_cell(out, report, cell);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    if !report.undeclared_features.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"lede\">No provider declares: {}.</p>",
            report
                .undeclared_features
                .iter()
                .map(|f| format!("<code>{}</code>", esc(f)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out.push_str("</section>\n");
}

fn matrix_cell(out: &mut String, report: &Report, cell: &Cell) {
    let _ = write!(
        out,
        "<td class=\"s-{}\" data-provider=\"{}\"><span class=\"badge\">{}</span>",
        cell.support.slug(),
        esc(provider_name(report, &cell.provider)),
        cell.support.label()
    );
    if !(cell.support == Support::NotSupported && cell.summary == "not supported") {
        let _ = write!(out, "<span class=\"sum\">{}</span>", esc(&cell.summary));
    }
    if !cell.details.is_empty() {
        let items: String = cell
            .details
            .iter()
            .map(|d| format!("<li>{}</li>", esc(d)))
            .collect();
        if cell.details.len() > 4 {
            let _ = write!(
                out,
                "<details><summary>{} details</summary><ul>{items}</ul></details>",
                cell.details.len()
            );
        } else {
            let _ = write!(out, "<ul>{items}</ul>");
        }
    }
    if !cell.fields.is_empty() {
        let fields: Vec<String> = cell
            .fields
            .iter()
            .map(|f| format!("<code>{}</code>", esc(f)))
            .collect();
        let _ = write!(out, "<span class=\"fields\">{}</span>", fields.join(" "));
    }
    out.push_str("</td>");
}

fn samplers(out: &mut String, report: &Report) {
    out.push_str("<section id=\"samplers\">\n<h2 id=\"samplers-title\">Samplers and schedulers by common name</h2>\n");
    out.push_str("<p class=\"lede\">Each provider's spelling under one common name (<code>x-common-names</code>).</p>\n");
    out.push_str(
        "<div class=\"box\"><table class=\"grid samplers\" aria-labelledby=\"samplers-title\">\n",
    );
    provider_heads(out, report, "Common name");
    out.push_str("<tbody>\n");
    for row in &report.samplers {
        let _ = write!(
            out,
            "<tr><th scope=\"row\"><code>{}</code></th>",
            esc(&row.common_name)
        );
        for cell in &row.cells {
            let name = esc(provider_name(report, &cell.provider));
            if cell.values.is_empty() {
                let _ = write!(
                    out,
                    "<td class=\"s-not-supported\" data-provider=\"{name}\"><span class=\"badge\">Not supported</span></td>"
                );
            } else {
                let values: Vec<String> = cell
                    .values
                    .iter()
                    .map(|v| format!("<code>{}</code>", esc(v)))
                    .collect();
                let _ = write!(
                    out,
                    "<td class=\"s-supported\" data-provider=\"{name}\"><span class=\"badge\">Supported</span><span class=\"sum\">{}</span></td>",
                    values.join(", ")
                );
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

fn ranges(out: &mut String, report: &Report) {
    out.push_str("<section id=\"ranges\">\n<h2 id=\"ranges-title\">Parameter ranges</h2>\n");
    out.push_str("<p class=\"lede\">Bounds, unit (<code>x-unit</code>) and default of each ranged feature, side by side.</p>\n");
    out.push_str("<div class=\"box\"><table class=\"grid\" aria-labelledby=\"ranges-title\">\n");
    provider_heads(out, report, "Parameter");
    out.push_str("<tbody>\n");
    for row in &report.ranges {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(&row.label));
        for cell in &row.cells {
            let name = esc(provider_name(report, &cell.provider));
            if cell.field.is_none() {
                let _ = write!(
                    out,
                    "<td class=\"s-not-supported\" data-provider=\"{name}\"><span class=\"badge\">Not supported</span></td>"
                );
                continue;
            }
            // `range_text` writes Markdown code spans; turn them into <code>.
            let text = esc(&range_text(cell));
            let mut html = String::new();
            for (i, part) in text.split('`').enumerate() {
                if i % 2 == 1 {
                    let _ = write!(html, "<code>{part}</code>");
                } else {
                    html.push_str(part);
                }
            }
            let _ = write!(out, "<td data-provider=\"{name}\">{html}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

fn status_parts(status: Option<Status>) -> (&'static str, &'static str) {
    match status {
        Some(Status::Passed) => ("r-passed", "Passed"),
        Some(Status::Failed) => ("r-failed", "Failed"),
        Some(Status::Skipped) => ("r-skipped", "Skipped"),
        None => ("r-none", "Not run"),
    }
}

fn sdks(out: &mut String, report: &Report) {
    out.push_str(
        "<section id=\"sdks\">\n<h2 id=\"sdks-title\">Official SDKs against the emulator</h2>\n",
    );
    if let Some(note) = &report.sdks.note {
        let _ = writeln!(
            out,
            "<p class=\"note\"><strong>SDK suite not run.</strong> {}</p>\n</section>",
            esc(note)
        );
        return;
    }
    out.push_str("<div class=\"box scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"sdks-title\"><table class=\"results sdks\">\n<thead><tr><th scope=\"col\">SDK</th><th scope=\"col\">Against the emulator</th><th scope=\"col\">Sends beyond the docs</th></tr></thead>\n<tbody>\n");
    for row in &report.sdks.rows {
        let (class, label) = match row.outcome {
            SdkOutcome::Works => ("r-passed", "Works"),
            SdkOutcome::Fails => ("r-failed", "Fails"),
            SdkOutcome::Skipped => ("r-skipped", "Skipped"),
        };
        let drift = if row.drift.is_empty() {
            "nothing".to_owned()
        } else {
            let items: Vec<String> = row
                .drift
                .lines()
                .iter()
                .map(|line| format!("<li>{}</li>", esc(line)))
                .collect();
            format!("<ul>{}</ul>", items.concat())
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\"><code>{}</code> {}<small>{} · {}</small></th><td class=\"{class}\"><span class=\"badge\">{label}</span><small>{}</small></td><td>{drift}</td></tr>",
            esc(&row.sdk),
            esc(&row.version),
            esc(&row.registry),
            esc(provider_name(report, &row.provider)),
            esc(&row.detail)
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

fn conformance(out: &mut String, report: &Report) {
    let c = &report.conformance;
    out.push_str(
        "<section id=\"conformance\">\n<h2 id=\"conformance-title\">Conformance results</h2>\n",
    );
    let Some(run) = &c.run else {
        let _ = writeln!(
            out,
            "<p class=\"note\"><strong>No conformance run yet.</strong> {}</p>\n</section>",
            esc(c.note.as_deref().unwrap_or(""))
        );
        return;
    };
    let _ = writeln!(
        out,
        "<p>Run of <strong>{}</strong> ({} → {}; {}; seed <code>{}</code>; {} cases per check): {} passed, {} failed, {} skipped.</p>",
        esc(&run.date),
        esc(&run.started_at),
        esc(&run.finished_at),
        esc(&run.tool_version),
        run.seed,
        run.cases_per_check,
        run.passed,
        run.failed,
        run.skipped
    );
    legend(
        out,
        &[
            ("r-passed", "Passed", "every case held"),
            ("r-failed", "Failed", "links to the minimal failing case"),
            (
                "r-skipped",
                "Skipped",
                "not run (no key, budget, not applicable)",
            ),
        ],
    );
    out.push_str("<div class=\"box scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"conformance-title\"><table class=\"results\">\n<thead><tr><th scope=\"col\">Check</th>");
    for col in &c.columns {
        let _ = write!(
            out,
            "<th scope=\"col\">{}<br><small>{}</small></th>",
            esc(provider_name(report, &col.provider)),
            target_name(col.target)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &c.checks {
        let _ = write!(
            out,
            "<tr><th scope=\"row\"><code>{}</code><small>{}</small></th>",
            esc(&row.check),
            esc(&row.description)
        );
        for cell in &row.cells {
            let (class, label) = status_parts(cell.status);
            let badge = match &cell.failure_anchor {
                Some(anchor) => format!(
                    "<a class=\"badge\" href=\"#{}\">{label} — see case</a>",
                    esc(anchor)
                ),
                None => format!("<span class=\"badge\">{label}</span>"),
            };
            let detail = match (&cell.detail, cell.status) {
                (Some(detail), Some(Status::Skipped)) => format!("<small>{}</small>", esc(detail)),
                (_, Some(_)) => format!("<small>{} cases</small>", cell.cases),
                _ => String::new(),
            };
            let _ = write!(out, "<td class=\"{class}\">{badge}{detail}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    if !c.failures.is_empty() {
        out.push_str("<h3>Failing cases</h3>\n");
        for f in &c.failures {
            let _ = write!(
                out,
                "<article class=\"failure\" id=\"{}\"><h3><code>{}</code> · {} · {}</h3>",
                esc(&f.anchor),
                esc(&f.check),
                esc(provider_name(report, &f.provider)),
                target_name(f.target)
            );
            if let Some(detail) = &f.detail {
                let _ = write!(out, "<p>{}</p>", esc(detail));
            }
            match &f.failure {
                None => out.push_str("<p>The run recorded no failing case.</p>"),
                Some(failure) => {
                    let _ = write!(out, "<p><strong>{}</strong></p>", esc(&failure.message));
                    if let Some(op) = &failure.operation {
                        let _ = write!(out, "<p>Operation <code>{}</code></p>", esc(op));
                    }
                    if let Some(request) = &failure.request {
                        let _ = write!(
                            out,
                            "<p>Minimal failing request</p><pre>{}</pre>",
                            esc(&serde_json::to_string_pretty(request).unwrap_or_default())
                        );
                    }
                    if let Some(response) = &failure.response {
                        let _ = write!(
                            out,
                            "<p>Response: HTTP {}{}</p><pre>{}</pre>",
                            response.status,
                            response
                                .content_type
                                .as_deref()
                                .map(|t| format!(" (<code>{}</code>)", esc(t)))
                                .unwrap_or_default(),
                            esc(&serde_json::to_string_pretty(&response.body).unwrap_or_default())
                        );
                    }
                }
            }
            out.push_str("</article>\n");
        }
    }
    out.push_str("</section>\n");
}

fn client_behaviour(out: &mut String, report: &Report) {
    let c = &report.client_behaviour;
    out.push_str("<section id=\"clients\">\n<h2 id=\"clients-title\">Client behaviour</h2>\n");
    if c.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\"><strong>Not run.</strong> {}</p>\n</section>",
            esc(c.note.as_deref().unwrap_or(""))
        );
        return;
    }
    out.push_str("<p>Each client ran one job per scenario against the emulator (<code>cargo xtask conformance client</code>): which clients are safe with your money.</p>\n");
    legend(
        out,
        &[
            (
                "r-passed",
                "Passed",
                "held under every scenario where it applies",
            ),
            (
                "r-failed",
                "Failed",
                "the scenarios where it broke, and why",
            ),
            ("r-none", "Not applicable", "no scenario run calls for it"),
        ],
    );
    out.push_str("<div class=\"box scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"clients-title\"><table class=\"results\">\n<thead><tr><th scope=\"col\">Client</th>");
    for check in &c.checks {
        let _ = write!(
            out,
            "<th scope=\"col\"><code>{}</code><br><small>{}</small></th>",
            esc(&check.check),
            esc(&check.description)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &c.rows {
        let _ = write!(
            out,
            "<tr><th scope=\"row\"><code>{}</code><small>{} · {} scenarios</small></th>",
            esc(&row.client),
            esc(provider_name(report, &row.provider)),
            row.scenarios.len()
        );
        for cell in &row.cells {
            let (class, label) = match cell.status {
                Some(Status::Failed) => ("r-failed", "Failed"),
                Some(Status::Passed) => ("r-passed", "Passed"),
                _ => ("r-none", "Not applicable"),
            };
            let detail = if cell.failed.is_empty() {
                format!("<small>{} scenario(s)</small>", cell.passed.len())
            } else {
                cell.failed
                    .iter()
                    .map(|f| {
                        format!(
                            "<small><strong>{}</strong>: {}</small>",
                            esc(&f.scenario),
                            esc(&f.detail)
                        )
                    })
                    .collect()
            };
            let _ = write!(
                out,
                "<td class=\"{class}\"><span class=\"badge\">{label}</span>{detail}</td>"
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}
