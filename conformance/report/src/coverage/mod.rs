//! The coverage table, in the spirit of LocalStack's coverage pages: for each provider and each
//! operation of its spec, what backs it —
//!
//! - **docs examples**: how many examples the spec carries for it (`examples`, and the verbatim
//!   docs text kept under `x-docs-examples`);
//! - **the provider's own spec**: how many fields agree with the provider's published spec, and
//!   how many differ on purpose (from `parity.json`, written by `cargo xtask diff --against
//!   THEIRS --save`), or "no published spec compared";
//! - **official SDKs**: which SDKs reached it and whether they work (from `sdk.json`);
//! - **live recording**: when a cassette last recorded it (from the cassettes of `conformance
//!   --target live --record DIR`), or never.
//!
//! [`table`] builds it; [`load_cassettes`] reads the cassettes; `markdown` and `html` lay it out.

use std::path::Path;

use img2img_specs::{ExampleKind, Spec};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ReportError;
use crate::parity::ParityFile;
use crate::sdk::{SdkOutcome, SdkRun};

/// The coverage section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Coverage {
    /// The `parity.json` read (or looked for).
    pub parity_source: String,
    /// The `sdk.json` read (or looked for).
    pub sdk_source: String,
    /// The cassette folder read (or looked for).
    pub cassette_source: String,
    /// One row per operation of every spec, providers in report order, operations in spec order.
    pub rows: Vec<CoverageRow>,
}

/// What backs one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CoverageRow {
    /// The provider id.
    pub provider: String,
    /// The `operationId`.
    pub operation: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// The path.
    pub path: String,
    /// Its part in a job (`create`, `result`), if any (`x-job`).
    pub role: Option<String>,
    /// The examples the spec carries for it.
    pub examples: Examples,
    /// How it compares with the provider's published specs; empty when none was compared.
    pub published: Vec<PublishedParity>,
    /// Why [`CoverageRow::published`] is empty, or what else is known (`not in <spec>`).
    pub published_note: Option<String>,
    /// The official SDKs whose traffic reached it.
    pub sdks: Vec<SdkUse>,
    /// The latest live recording of it; `None`: never recorded.
    pub live: Option<LiveRecording>,
}

/// Example counts of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Examples {
    /// Request examples (`examples` of the request body).
    pub request: usize,
    /// Response examples, every status.
    pub response: usize,
    /// Verbatim docs text that is no real request (`x-docs-examples`), beside those.
    pub docs_only: usize,
}

/// One operation against one published spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PublishedParity {
    /// The published spec (`Title 6.0.0 (file.json)`).
    pub spec: String,
    /// Their operation (`POST /img2img`).
    pub theirs: String,
    /// Fields compared.
    pub compared: usize,
    /// Fields that agree.
    pub agree: usize,
    /// Differences kept on purpose (`x-parity`).
    pub kept: usize,
    /// Differences not explained.
    pub open: usize,
    /// When it was compared (`YYYY-MM-DD`).
    pub date: String,
}

/// One official SDK that reached an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SdkUse {
    /// Its package name.
    pub sdk: String,
    /// The pinned version.
    pub version: String,
    /// Works, fails or skipped.
    pub outcome: SdkOutcome,
    /// `sdk.json` does not record which operations it reached: shown on the job's create and
    /// result operations.
    pub assumed: bool,
}

/// When an operation was last recorded live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LiveRecording {
    /// The date (`YYYY-MM-DD`).
    pub date: String,
    /// When the cassette was recorded (RFC 3339).
    pub recorded_at: String,
    /// Exchanges with this operation in the cassette.
    pub exchanges: usize,
}

/// What a cassette says about coverage: its provider, when, and which requests it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The provider id.
    pub provider: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// Each request's method and path (query and downloads left out).
    pub requests: Vec<(String, String)>,
}

/// The part of a cassette (`conformance/harness/src/cassette.rs`) the table reads.
#[derive(Deserialize)]
struct CassetteFile {
    provider: String,
    recorded_at: String,
    interactions: Vec<CassetteInteraction>,
}

#[derive(Deserialize)]
struct CassetteInteraction {
    request: CassetteRequest,
}

#[derive(Deserialize)]
struct CassetteRequest {
    method: String,
    path: String,
}

/// Reads every cassette (`*.json`) in `dir`; none when the folder does not exist. A file that
/// is not a cassette is an error naming it.
pub fn load_cassettes(dir: &Path) -> Result<Vec<Recording>, ReportError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ReportError::Io {
                path: dir.display().to_string(),
                source,
            });
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let Some(cassette) = crate::load_json::<CassetteFile>(&file)? else {
            continue;
        };
        out.push(Recording {
            provider: cassette.provider,
            recorded_at: cassette.recorded_at,
            requests: cassette
                .interactions
                .into_iter()
                .filter(|i| i.request.path.starts_with('/'))
                .map(|i| {
                    let path = i.request.path;
                    let path = path.split_once('?').map_or(path.as_str(), |(p, _)| p);
                    (i.request.method, path.to_owned())
                })
                .collect(),
        });
    }
    Ok(out)
}

/// Where the table's data comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sources<'a> {
    /// `parity.json`, if there is one.
    pub parity: Option<&'a ParityFile>,
    /// Its path, as the report names it.
    pub parity_source: &'a str,
    /// `sdk.json`, if the SDK suite ran.
    pub sdks: Option<&'a SdkRun>,
    /// Its path, as the report names it.
    pub sdk_source: &'a str,
    /// Every cassette read.
    pub recordings: &'a [Recording],
    /// The cassette folder, as the report names it.
    pub cassette_source: &'a str,
}

/// The coverage table of `specs` from `sources`.
pub fn table(specs: &[&Spec], sources: &Sources<'_>) -> Coverage {
    let mut rows = Vec::new();
    for spec in specs {
        let ext = spec.extensions();
        let provider = ext.provider.id.as_str();
        let examples = spec.examples();
        for op in spec.operations() {
            let role = if ext.job.is_create(&op.id) {
                Some("create".to_owned())
            } else if ext.job.is_result(&op.id) {
                Some("result".to_owned())
            } else {
                None
            };
            let mut count = Examples::default();
            for example in examples.iter().filter(|e| e.operation == op.id) {
                match (&example.kind, example.docs_only) {
                    (_, true) => count.docs_only += 1,
                    (ExampleKind::Request, false) => count.request += 1,
                    (ExampleKind::Response(_), false) => count.response += 1,
                }
            }
            let (published, published_note) = published(sources.parity, provider, &op.id);
            let docs_pair = op.id == ext.job.create || op.id == ext.job.result;
            rows.push(CoverageRow {
                provider: provider.to_owned(),
                operation: op.id.clone(),
                method: op.method.as_str().to_owned(),
                path: op.path.clone(),
                role,
                examples: count,
                published,
                published_note,
                sdks: sdks(sources.sdks, provider, &op.id, docs_pair),
                live: live(sources.recordings, spec, provider, &op.id),
            });
        }
    }
    Coverage {
        parity_source: sources.parity_source.to_owned(),
        sdk_source: sources.sdk_source.to_owned(),
        cassette_source: sources.cassette_source.to_owned(),
        rows,
    }
}

/// The comparisons that paired this operation; else why there are none.
fn published(
    parity: Option<&ParityFile>,
    provider: &str,
    operation: &str,
) -> (Vec<PublishedParity>, Option<String>) {
    let comparisons: Vec<_> = parity
        .map(|p| {
            p.comparisons
                .iter()
                .filter(|c| c.provider == provider)
                .collect()
        })
        .unwrap_or_default();
    if comparisons.is_empty() {
        return (Vec::new(), Some("no published spec compared".into()));
    }
    let found: Vec<PublishedParity> = comparisons
        .iter()
        .flat_map(|c| {
            c.operations
                .iter()
                .filter(|o| o.operation == operation)
                .map(|o| PublishedParity {
                    spec: spec_name(c),
                    theirs: o.theirs.clone(),
                    compared: o.compared,
                    agree: o.agree,
                    kept: o.kept,
                    open: o.open,
                    date: c.compared_at.chars().take(10).collect(),
                })
        })
        .collect();
    if found.is_empty() {
        let names: Vec<String> = comparisons.iter().map(|c| spec_name(c)).collect();
        return (Vec::new(), Some(format!("not in {}", names.join(", "))));
    }
    (found, None)
}

/// `Title version (file)`.
fn spec_name(c: &crate::parity::Comparison) -> String {
    let title = [c.theirs_title.as_str(), c.theirs_version.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if title.is_empty() {
        c.theirs_file.clone()
    } else {
        format!("{title} ({})", c.theirs_file)
    }
}

/// The SDKs whose traffic reached `operation`; an SDK whose reach `sdk.json` does not record
/// is shown on the docs' create and result operations (`docs_pair`), marked assumed.
fn sdks(run: Option<&SdkRun>, provider: &str, operation: &str, docs_pair: bool) -> Vec<SdkUse> {
    let Some(run) = run else {
        return Vec::new();
    };
    run.sdks
        .iter()
        .filter(|s| s.provider == provider)
        .filter_map(|s| {
            let assumed = s.operations.is_empty();
            let reached = if assumed {
                docs_pair
            } else {
                s.operations.iter().any(|o| o == operation)
            };
            reached.then(|| SdkUse {
                sdk: s.sdk.clone(),
                version: s.version.clone(),
                outcome: s.outcome,
                assumed,
            })
        })
        .collect()
}

/// The latest cassette of `provider` holding a request to `operation`.
fn live(
    recordings: &[Recording],
    spec: &Spec,
    provider: &str,
    operation: &str,
) -> Option<LiveRecording> {
    recordings
        .iter()
        .filter(|r| r.provider == provider)
        .filter_map(|r| {
            let exchanges = r
                .requests
                .iter()
                .filter(|(method, path)| {
                    method
                        .parse()
                        .ok()
                        .and_then(|method| spec.operation_for(method, path))
                        .is_some_and(|op| op.id == operation)
                })
                .count();
            (exchanges > 0).then(|| LiveRecording {
                date: r.recorded_at.chars().take(10).collect(),
                recorded_at: r.recorded_at.clone(),
                exchanges,
            })
        })
        .max_by(|a, b| a.recorded_at.cmp(&b.recorded_at))
}
