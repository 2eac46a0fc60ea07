//! Writes a run's results: `results.json` (+ `results.schema.json`), `junit.xml`, `summary.md`.

use std::path::Path;

use quick_xml::Writer;
use quick_xml::events::BytesText;

use img2img_report::results::{CheckResult, RunResults, Status, schema};

/// Writes every output file of a server run under `dir`; returns the paths written.
pub fn write_all(results: &RunResults, dir: &Path) -> Result<Vec<String>, String> {
    write_with_summary(results, dir, summary(results))
}

/// [`write_all`] with another `summary.md` (a client grading run writes its own).
pub fn write_with_summary(
    results: &RunResults,
    dir: &Path,
    summary: String,
) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let files = [
        (
            "results.json",
            serde_json::to_string_pretty(results).map_err(|e| e.to_string())?,
        ),
        (
            "results.schema.json",
            serde_json::to_string_pretty(&schema()).map_err(|e| e.to_string())?,
        ),
        ("junit.xml", junit(results)?),
        ("summary.md", summary),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

/// JUnit XML: one test suite per provider × target, one test case per check.
pub fn junit(results: &RunResults) -> Result<String, String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let failures = results.count(Status::Failed).to_string();
    let skipped = results.count(Status::Skipped).to_string();
    let total = results.results.len().to_string();
    let io = |e: std::io::Error| e.to_string();
    writer
        .create_element("testsuites")
        .with_attributes([
            ("name", "img2img-conformance"),
            ("tests", total.as_str()),
            ("failures", failures.as_str()),
            ("skipped", skipped.as_str()),
            ("timestamp", results.started_at.as_str()),
        ])
        .write_inner_content(|w| {
            let mut suites: Vec<String> = results.results.iter().map(suite_name).collect();
            suites.dedup();
            for name in suites {
                let members: Vec<_> = results
                    .results
                    .iter()
                    .filter(|r| suite_name(r) == name)
                    .collect();
                let tests = members.len().to_string();
                let fails = members
                    .iter()
                    .filter(|r| r.status == Status::Failed)
                    .count()
                    .to_string();
                let skips = members
                    .iter()
                    .filter(|r| r.status == Status::Skipped)
                    .count()
                    .to_string();
                w.create_element("testsuite")
                    .with_attributes([
                        ("name", name.as_str()),
                        ("tests", tests.as_str()),
                        ("failures", fails.as_str()),
                        ("skipped", skips.as_str()),
                    ])
                    .write_inner_content(|w| {
                        for r in &members {
                            let seconds = format!("{:.3}", r.duration_ms as f64 / 1000.0);
                            let element = w.create_element("testcase").with_attributes([
                                ("name", r.check.as_str()),
                                ("classname", name.as_str()),
                                ("time", seconds.as_str()),
                            ]);
                            match r.status {
                                Status::Passed => {
                                    element.write_empty()?;
                                }
                                Status::Skipped => {
                                    let detail = r.detail.clone().unwrap_or_default();
                                    element.write_inner_content(|w| {
                                        w.create_element("skipped")
                                            .with_attribute(("message", detail.as_str()))
                                            .write_empty()?;
                                        Ok(())
                                    })?;
                                }
                                Status::Failed => {
                                    let message = r
                                        .failure
                                        .as_ref()
                                        .map(|f| f.message.clone())
                                        .unwrap_or_default();
                                    let body = r
                                        .failure
                                        .as_ref()
                                        .map(|f| {
                                            serde_json::to_string_pretty(f).unwrap_or_default()
                                        })
                                        .unwrap_or_default();
                                    element.write_inner_content(|w| {
                                        w.create_element("failure")
                                            .with_attribute(("message", message.as_str()))
                                            .write_text_content(BytesText::new(&body))?;
                                        Ok(())
                                    })?;
                                }
                            }
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })
        .map_err(io)?;
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&String::from_utf8(writer.into_inner()).map_err(|e| e.to_string())?);
    Ok(xml)
}

/// The test suite a result belongs to: `provider (target)`, or for a graded client
/// `client · provider · scenario`.
fn suite_name(r: &CheckResult) -> String {
    match (&r.client, &r.scenario) {
        (Some(client), Some(scenario)) => format!("{client} · {} · {scenario}", r.provider),
        _ => format!(
            "{} ({})",
            r.provider,
            format!("{:?}", r.target).to_lowercase()
        ),
    }
}

/// A Markdown summary of a server run for people (and CI job summaries); a client grading run has
/// its own (`client_grading::summary`).
pub fn summary(results: &RunResults) -> String {
    let mut out = String::from("# Conformance run\n\n");
    out.push_str(&format!(
        "{} passed, {} failed, {} skipped · seed `{}` · {} cases per check · {} → {}\n\n",
        results.count(Status::Passed),
        results.count(Status::Failed),
        results.count(Status::Skipped),
        results.seed,
        results.cases_per_check,
        results.started_at,
        results.finished_at,
    ));
    out.push_str("| check | provider | target | status | cases | requests | detail |\n|---|---|---|---|---|---|---|\n");
    for r in &results.results {
        let status = match r.status {
            Status::Passed => "✅ passed",
            Status::Failed => "❌ failed",
            Status::Skipped => "⏭ skipped",
        };
        let detail = r
            .detail
            .clone()
            .unwrap_or_default()
            .replace('|', "\\|")
            .replace('\n', " ");
        out.push_str(&format!(
            "| {} | {} | {:?} | {status} | {} | {} | {detail} |\n",
            r.check, r.provider, r.target, r.cases, r.requests
        ));
    }
    let failures: Vec<_> = results
        .results
        .iter()
        .filter(|r| r.failure.is_some())
        .collect();
    if !failures.is_empty() {
        out.push_str("\n## Minimal failing cases\n");
        for r in failures {
            let f = r.failure.as_ref().expect("filtered on failure");
            out.push_str(&format!(
                "\n### {} · {} · {:?}\n\n{}\n",
                r.check, r.provider, r.target, f.message
            ));
            if let Some(request) = &f.request {
                out.push_str(&format!(
                    "\nRequest:\n\n```json\n{}\n```\n",
                    serde_json::to_string_pretty(request).unwrap_or_default()
                ));
            }
            if let Some(response) = &f.response {
                out.push_str(&format!(
                    "\nResponse (HTTP {}):\n\n```json\n{}\n```\n",
                    response.status,
                    serde_json::to_string_pretty(&response.body).unwrap_or_default()
                ));
            }
        }
    }
    out
}
