//! The provider compatibility report: what each provider supports, how their ranges differ, and
//! which conformance checks pass, written as `compatibility.md` (a pull-request comment),
//! `compatibility.json` with `compatibility.schema.json`, and one self-contained
//! `compatibility.html`.
//!
//! Every cell comes from the specs ([`matrix`], [`ranges`]), from `results.json`
//! ([`crate::results`]), from client grading runs ([`clients`]) and, for the operation coverage
//! table ([`coverage`]), from `parity.json` ([`parity`]), `sdk.json` and cassettes; the renderers
//! ([`markdown`], [`json`], [`html`]) only lay it out.
#![deny(missing_docs)]

pub mod parity;
pub mod results;
pub mod sdk;

pub mod clients;
pub mod coverage;
pub mod html;
pub mod json;
pub mod markdown;
pub mod matrix;
pub mod model;
pub mod ranges;

use std::path::{Path, PathBuf};

use img2img_specs::{Feature, Spec};

use crate::results::{RunResults, Target};
use model::{
    CheckCell, CheckRow, Conformance, FailureEntry, ProviderColumn, Report, ResultColumn, RunInfo,
    SdkSection,
};

/// What went wrong while building or writing the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A spec could not be read as the report needs it.
    #[error("spec: {0}")]
    Spec(String),
    /// The results file exists but is not a `results.json`.
    #[error("{path}: not a conformance results file: {message}")]
    Results {
        /// The file.
        path: String,
        /// What was wrong, with the JSON path.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
}

/// The files [`write`] produces, in this order.
pub const FILES: [&str; 4] = [
    "compatibility.md",
    "compatibility.json",
    "compatibility.schema.json",
    "compatibility.html",
];

/// Reads `results.json`; `Ok(None)` when the file does not exist (no conformance run yet).
pub fn load_results(path: &Path) -> Result<Option<RunResults>, ReportError> {
    load_json(path)
}

/// Reads a JSON file of type `T`; `Ok(None)` when it does not exist. A malformed file is an
/// error naming the path and where in it the value broke.
pub(crate) fn load_json<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Option<T>, ReportError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ReportError::Io {
                path: path.display().to_string(),
                source,
            });
        }
    };
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer)
        .map(Some)
        .map_err(|e| ReportError::Results {
            path: path.display().to_string(),
            message: format!("at {}: {}", e.path(), e.inner()),
        })
}

/// Builds the report from the specs (one column each, in order) and the latest run, if any;
/// `results_source` names the results file in the report. The SDK section says "SDK suite not
/// run"; [`build_with_sdks`] fills it.
pub fn build(
    specs: &[&Spec],
    results: Option<&RunResults>,
    results_source: &str,
) -> Result<Report, ReportError> {
    build_with_sdks(
        specs,
        results,
        results_source,
        None,
        "target/conformance/sdk.json",
    )
}

/// [`build`], with the SDK suite's `sdk.json` (if it ran); `sdk_source` names that file.
pub fn build_with_sdks(
    specs: &[&Spec],
    results: Option<&RunResults>,
    results_source: &str,
    sdks: Option<&sdk::SdkRun>,
    sdk_source: &str,
) -> Result<Report, ReportError> {
    let mut all = Vec::new();
    let mut providers = Vec::new();
    for spec in specs {
        let ext = spec.extensions();
        let id = ext.provider.id.clone();
        providers.push(ProviderColumn {
            id: id.clone(),
            name: ext.provider.name.clone(),
            model: ext.provider.model.clone(),
            spec: spec.provider().map_or_else(
                || format!("specs/{id}.yaml"),
                |p| format!("specs/{}", p.spec_file()),
            ),
            spec_version: spec.openapi().info.version.clone(),
        });
        all.push((id, matrix::tagged(spec)));
    }
    let declared = matrix::declared(&all);
    Ok(Report {
        generated_by: format!("conformance report {}", env!("CARGO_PKG_VERSION")),
        matrix: matrix::rows(specs, &all),
        samplers: matrix::samplers(&all),
        ranges: ranges::rows(&declared, &all),
        undeclared_features: Feature::ALL
            .iter()
            .filter(|f| !declared.contains(f))
            .map(|f| f.as_str().to_owned())
            .collect(),
        conformance: conformance(&providers, results, results_source),
        sdks: SdkSection {
            source: sdk_source.to_owned(),
            note: sdks
                .is_none()
                .then(|| format!("SDK suite not run ({sdk_source} not found)")),
            rows: sdks.map(|run| run.sdks.clone()).unwrap_or_default(),
        },
        client_behaviour: clients::behaviour(&[]),
        coverage: coverage::table(
            specs,
            &coverage::Sources {
                sdks,
                sdk_source,
                parity_source: "target/conformance/parity.json",
                cassette_source: "cassettes/",
                ..Default::default()
            },
        ),
        providers,
    })
}

/// The target as a word (`emulator`, `live`, `replay`).
pub fn target_name(target: Target) -> &'static str {
    match target {
        Target::Emulator => "emulator",
        Target::Live => "live",
        Target::Replay => "replay",
    }
}

/// An id-safe anchor for a failing case.
fn anchor(check: &str, provider: &str, target: Target) -> String {
    let raw = format!("failure-{check}-{provider}-{}", target_name(target));
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn conformance(
    providers: &[ProviderColumn],
    results: Option<&RunResults>,
    source: &str,
) -> Conformance {
    let Some(run) = results else {
        return Conformance {
            source: source.to_owned(),
            run: None,
            note: Some(format!("no conformance run yet ({source} not found)")),
            columns: Vec::new(),
            checks: Vec::new(),
            failures: Vec::new(),
        };
    };
    use crate::results::Status;
    let rank = |provider: &str| {
        providers
            .iter()
            .position(|p| p.id == provider)
            .unwrap_or(usize::MAX)
    };
    // Client grading results have their own section (`clients`).
    let server_results: Vec<_> = run.results.iter().filter(|r| r.client.is_none()).collect();
    let mut columns: Vec<ResultColumn> = Vec::new();
    for result in server_results.iter().copied() {
        if !columns
            .iter()
            .any(|c| c.provider == result.provider && c.target == result.target)
        {
            columns.push(ResultColumn {
                provider: result.provider.clone(),
                target: result.target,
            });
        }
    }
    columns.sort_by_key(|c| (rank(&c.provider), c.provider.clone(), target_name(c.target)));
    let mut checks: Vec<CheckRow> = Vec::new();
    let mut failures = Vec::new();
    for result in server_results {
        if !checks.iter().any(|c| c.check == result.check) {
            checks.push(CheckRow {
                check: result.check.clone(),
                description: result.description.clone(),
                cells: columns
                    .iter()
                    .map(|c| CheckCell {
                        provider: c.provider.clone(),
                        target: c.target,
                        status: None,
                        cases: 0,
                        detail: None,
                        failure_anchor: None,
                    })
                    .collect(),
            });
        }
        let row = checks
            .iter_mut()
            .find(|c| c.check == result.check)
            .expect("just added");
        let cell = row
            .cells
            .iter_mut()
            .find(|c| c.provider == result.provider && c.target == result.target)
            .expect("every column has a cell");
        cell.status = Some(result.status);
        cell.cases = result.cases;
        cell.detail = result.detail.clone();
        if result.status == Status::Failed {
            let id = anchor(&result.check, &result.provider, result.target);
            cell.failure_anchor = Some(id.clone());
            failures.push(FailureEntry {
                anchor: id,
                check: result.check.clone(),
                provider: result.provider.clone(),
                target: result.target,
                detail: result.detail.clone(),
                failure: result.failure.clone(),
            });
        }
    }
    Conformance {
        source: source.to_owned(),
        run: Some(RunInfo {
            date: run.started_at.chars().take(10).collect(),
            started_at: run.started_at.clone(),
            finished_at: run.finished_at.clone(),
            tool_version: run.tool_version.clone(),
            seed: run.seed,
            cases_per_check: run.cases_per_check,
            passed: run.count(Status::Passed),
            failed: run.count(Status::Failed),
            skipped: run.count(Status::Skipped),
        }),
        note: None,
        columns,
        checks,
        failures,
    }
}

/// Writes the four files of [`FILES`] into `dir` (created if needed); returns their paths.
pub fn write(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let contents = [
        markdown::render(report),
        json::render(report),
        json::schema_text(),
        html::render(report),
    ];
    let mut written = Vec::new();
    for (name, text) in FILES.iter().zip(contents) {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}
