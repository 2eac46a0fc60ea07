//! The "client behaviour" section: what each graded client (`conformance client`) did under the
//! scenarios, one row per client × provider, one column per client check, read from the grading
//! runs' `results.json` files.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::results::{RunResults, Status};

/// The client behaviour section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ClientBehaviour {
    /// The grading results files read.
    pub sources: Vec<String>,
    /// Shown instead of the table when no client was graded (`not run`).
    pub note: Option<String>,
    /// The checks, in the order of the runs (one column each).
    pub checks: Vec<ClientCheckColumn>,
    /// One row per client × provider.
    pub rows: Vec<ClientRow>,
}

/// A client check as a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClientCheckColumn {
    /// Its id (`poll_pacing`).
    pub check: String,
    /// What it asserts.
    pub description: String,
}

/// One client against one provider's emulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClientRow {
    /// The client (`img2img`, or an SDK's package name).
    pub client: String,
    /// The provider id.
    pub provider: String,
    /// The scenarios it ran under, in order.
    pub scenarios: Vec<String>,
    /// When the grading run started (RFC 3339).
    pub graded_at: String,
    /// One cell per [`ClientBehaviour::checks`] column.
    pub cells: Vec<ClientCell>,
}

/// One check for one client: how it went across the scenarios where it applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClientCell {
    /// The check id.
    pub check: String,
    /// Failed when it failed under any scenario; passed when it held under all; `None` when it
    /// applied under none of the scenarios run.
    pub status: Option<Status>,
    /// The scenarios where it held.
    pub passed: Vec<String>,
    /// The scenarios where it failed, with why.
    pub failed: Vec<ScenarioFailure>,
}

/// A check that failed under one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioFailure {
    /// The scenario.
    pub scenario: String,
    /// What went wrong.
    pub detail: String,
}

/// The section from grading runs: each `(source, results)`, `None` where the file was missing.
pub fn behaviour(inputs: &[(String, Option<RunResults>)]) -> ClientBehaviour {
    let mut section = ClientBehaviour {
        sources: inputs.iter().map(|(source, _)| source.clone()).collect(),
        ..ClientBehaviour::default()
    };
    let graded: Vec<&RunResults> = inputs
        .iter()
        .filter_map(|(_, results)| results.as_ref())
        .filter(|r| !r.client_runs.is_empty())
        .collect();
    if graded.is_empty() {
        let searched = if section.sources.is_empty() {
            "no results file given".to_owned()
        } else {
            format!(
                "no client grading results in {}",
                section.sources.join(", ")
            )
        };
        section.note = Some(format!(
            "not run ({searched}; run `cargo xtask conformance client --provider P -- COMMAND`)"
        ));
        return section;
    }
    for run in &graded {
        for result in run.results.iter().filter(|r| r.client.is_some()) {
            if !section.checks.iter().any(|c| c.check == result.check) {
                section.checks.push(ClientCheckColumn {
                    check: result.check.clone(),
                    description: result.description.clone(),
                });
            }
        }
    }
    for run in graded {
        for client_run in &run.client_runs {
            let position = section
                .rows
                .iter()
                .position(|r| r.client == client_run.client && r.provider == client_run.provider);
            let row = match position {
                Some(i) => &mut section.rows[i],
                None => {
                    section.rows.push(ClientRow {
                        client: client_run.client.clone(),
                        provider: client_run.provider.clone(),
                        scenarios: Vec::new(),
                        graded_at: run.started_at.clone(),
                        cells: section
                            .checks
                            .iter()
                            .map(|c| ClientCell {
                                check: c.check.clone(),
                                status: None,
                                passed: Vec::new(),
                                failed: Vec::new(),
                            })
                            .collect(),
                    });
                    section.rows.last_mut().expect("just pushed")
                }
            };
            if !row.scenarios.contains(&client_run.scenario) {
                row.scenarios.push(client_run.scenario.clone());
            }
            for result in run.results.iter().filter(|r| {
                r.client.as_deref() == Some(client_run.client.as_str())
                    && r.provider == client_run.provider
                    && r.scenario.as_deref() == Some(client_run.scenario.as_str())
            }) {
                let Some(cell) = row.cells.iter_mut().find(|c| c.check == result.check) else {
                    continue;
                };
                match result.status {
                    Status::Passed => cell.passed.push(client_run.scenario.clone()),
                    Status::Failed => cell.failed.push(ScenarioFailure {
                        scenario: client_run.scenario.clone(),
                        detail: result.detail.clone().unwrap_or_default(),
                    }),
                    Status::Skipped => {}
                }
                cell.status = Some(match (cell.status, result.status) {
                    (_, Status::Failed) | (Some(Status::Failed), _) => Status::Failed,
                    (_, Status::Passed) | (Some(Status::Passed), _) => Status::Passed,
                    _ => Status::Skipped,
                });
            }
        }
    }
    section
}

impl ClientBehaviour {
    /// Whether no client was graded.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
