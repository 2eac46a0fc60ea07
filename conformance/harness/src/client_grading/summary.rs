//! `summary.md` of a client grading run: one row per scenario, one column per check, then each
//! failure and the last lines each run printed.

use img2img_report::results::{ClientRun, RunResults, Status};

use super::checks::ClientCheckId;

/// The Markdown summary of a client grading run.
pub fn summary(results: &RunResults) -> String {
    let mut out = String::from("# Client grading\n\n");
    let mut clients: Vec<(&str, &str)> = results
        .client_runs
        .iter()
        .map(|r| (r.client.as_str(), r.provider.as_str()))
        .collect();
    clients.dedup();
    out.push_str(&format!(
        "{} passed, {} failed · {} → {}\n",
        results.count(Status::Passed),
        results.count(Status::Failed),
        results.started_at,
        results.finished_at,
    ));
    for (client, provider) in clients {
        out.push_str(&format!(
            "\n## `{client}` against the {provider} emulator\n\n"
        ));
        out.push_str("| scenario | exit | time | requests |");
        for check in ClientCheckId::ALL {
            out.push_str(&format!(" {} |", check.id()));
        }
        out.push_str("\n|---|---|---|---|");
        for _ in ClientCheckId::ALL {
            out.push_str("---|");
        }
        out.push('\n');
        let runs: Vec<&ClientRun> = results
            .client_runs
            .iter()
            .filter(|r| r.client == client && r.provider == provider)
            .collect();
        for run in &runs {
            out.push_str(&format!(
                "| {} | {} | {:.1} s | {} |",
                run.scenario,
                exit(results, run),
                run.duration_ms as f64 / 1000.0,
                run.requests
            ));
            for check in ClientCheckId::ALL {
                let cell = results
                    .results
                    .iter()
                    .find(|r| {
                        r.check == check.id()
                            && r.scenario.as_deref() == Some(run.scenario.as_str())
                            && r.client.as_deref() == Some(client)
                            && r.provider == provider
                    })
                    .map_or("—", |r| match r.status {
                        Status::Passed => "✅",
                        Status::Failed => "❌",
                        Status::Skipped => "⏭",
                    });
                out.push_str(&format!(" {cell} |"));
            }
            out.push('\n');
        }
        let failures: Vec<_> = results
            .results
            .iter()
            .filter(|r| {
                r.status == Status::Failed
                    && r.client.as_deref() == Some(client)
                    && r.provider == provider
            })
            .collect();
        if !failures.is_empty() {
            out.push_str("\n### Failures\n\n");
            for r in failures {
                out.push_str(&format!(
                    "- **{}** under `{}`: {}\n",
                    r.check,
                    r.scenario.as_deref().unwrap_or("?"),
                    r.detail.as_deref().unwrap_or("").replace('\n', " ")
                ));
            }
        }
        out.push_str("\n### Output (last lines)\n");
        for run in runs {
            out.push_str(&format!(
                "\n`{}` ({}): {}\n\n```text\n{}\n```\n",
                run.scenario,
                exit(results, run),
                run.description,
                run.output_tail.join("\n")
            ));
        }
    }
    out
}

fn exit(results: &RunResults, run: &ClientRun) -> String {
    let capped = results.results.iter().any(|r| {
        r.check == ClientCheckId::WithinRequestCap.id()
            && r.status == Status::Failed
            && r.scenario.as_deref() == Some(run.scenario.as_str())
            && r.client.as_deref() == Some(run.client.as_str())
            && r.provider == run.provider
    });
    match (run.exit_code, run.timed_out) {
        _ if capped => "stopped at the request cap".to_owned(),
        (_, true) => "killed at the time limit".to_owned(),
        (Some(code), false) => code.to_string(),
        (None, false) => "signal".to_owned(),
    }
}
