//! `cargo xtask report [--out DIR] [--results FILE] [--client-results FILE]... [--cassettes DIR]`: writes the provider compatibility report
//! (`compatibility.md`, `compatibility.json`, `compatibility.schema.json`, `compatibility.html`)
//! from the embedded specs and the latest conformance results, through `img2img-report`.
//!
//! Defaults, relative to the workspace root: `--out target/report/`,
//! `--results target/conformance/results.json`. A missing results file is reported in the output
//! as "no conformance run yet", not an error; the SDK suite's `sdk.json` is read from beside the
//! results file, and without it the report says "SDK suite not run". `--client-results FILE`
//! (repeatable; default every `target/conformance/clients/*/results.json`) fills the "client
//! behaviour" table; without one it says "not run". The "operation coverage" table reads
//! `parity.json` from beside the results file (`cargo xtask diff --against THEIRS --save`) and the
//! cassettes in `--cassettes DIR` (default `cassettes/`); without them it says "no published spec
//! compared" and "never".

use std::path::{Path, PathBuf};

use anyhow::Context;
use img2img_specs::{Provider, Spec};

use xtask::project;

/// Builds the report and writes its four files, printing each path written. `client_results`
/// are client grading results (`None`: every `target/conformance/clients/*/results.json`).
pub fn run(
    out: Option<PathBuf>,
    results: Option<PathBuf>,
    client_results: Option<Vec<PathBuf>>,
    cassettes: Option<PathBuf>,
) -> anyhow::Result<()> {
    let root = project::root();
    // Paths the user typed are relative to where they typed them, not to the workspace root.
    let out = match out {
        Some(out) => absolute(&out)?,
        None => root.join("target").join("report"),
    };
    let results = match results {
        Some(results) => absolute(&results)?,
        None => root.join("target").join("conformance").join("results.json"),
    };
    let specs: Vec<&Spec> = Provider::all().map(Spec::embedded).collect();
    let run = img2img_report::load_results(&results)?;
    let shown = results
        .strip_prefix(&root)
        .unwrap_or(&results)
        .display()
        .to_string();
    // The SDK compatibility suite writes its sdk.json beside results.json.
    let sdk_path = results.with_file_name("sdk.json");
    let sdks = img2img_report::sdk::load(&sdk_path)?;
    let sdk_shown = sdk_path
        .strip_prefix(&root)
        .unwrap_or(&sdk_path)
        .display()
        .to_string();
    let mut built =
        img2img_report::build_with_sdks(&specs, run.as_ref(), &shown, sdks.as_ref(), &sdk_shown)?;
    let client_results = match client_results {
        Some(files) => files
            .iter()
            .map(|f| absolute(f))
            .collect::<anyhow::Result<Vec<_>>>()?,
        None => graded_clients(&root.join("target").join("conformance").join("clients")),
    };
    let mut graded = Vec::new();
    for file in &client_results {
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        graded.push((shown, img2img_report::load_results(file)?));
    }
    built.client_behaviour = img2img_report::clients::behaviour(&graded);
    // `cargo xtask diff --against THEIRS --save` writes parity.json beside results.json.
    let parity_path = results.with_file_name("parity.json");
    let parity = img2img_report::parity::load(&parity_path)?;
    let cassettes = match cassettes {
        Some(dir) => absolute(&dir)?,
        None => root.join("cassettes"),
    };
    let recordings = img2img_report::coverage::load_cassettes(&cassettes)?;
    let shown = |path: &Path| {
        path.strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    built.coverage = img2img_report::coverage::table(
        &specs,
        &img2img_report::coverage::Sources {
            parity: parity.as_ref(),
            parity_source: &shown(&parity_path),
            sdks: sdks.as_ref(),
            sdk_source: &sdk_shown,
            recordings: &recordings,
            cassette_source: &shown(&cassettes),
        },
    );
    let written = img2img_report::write(&built, &out)?;
    if let Some(note) = &built.conformance.note {
        println!("{note}");
    }
    if let Some(note) = &built.client_behaviour.note {
        println!("client behaviour: {note}");
    }
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Every `<dir>/*/results.json`, sorted (what `conformance client` writes by default).
fn graded_clients(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("results.json"))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory, removed when the returned guard drops.
    fn temp_dir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("xtask-report-{name}-"))
            .tempdir()
            .unwrap()
    }

    #[test]
    fn writes_every_file_and_reports_a_missing_run() {
        let guard = temp_dir("missing");
        let dir = guard.path().to_path_buf();
        run(
            Some(dir.clone()),
            Some(dir.join("no-such-results.json")),
            Some(Vec::new()),
            Some(dir.join("no-cassettes")),
        )
        .unwrap();
        for name in img2img_report::FILES {
            assert!(dir.join(name).is_file(), "{name} not written");
        }
        let md = std::fs::read_to_string(dir.join("compatibility.md")).unwrap();
        assert!(md.contains("no conformance run yet"), "{md}");
        let html = std::fs::read_to_string(dir.join("compatibility.html")).unwrap();
        assert!(html.contains("No conformance run yet"));
        assert!(md.contains("SDK suite not run"), "{md}");
    }

    #[test]
    fn a_results_file_that_is_not_one_is_an_error_naming_the_file() {
        let guard = temp_dir("bad");
        let dir = guard.path().to_path_buf();
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{\"results\": 3}").unwrap();
        let error = run(Some(dir.clone()), Some(bad), Some(Vec::new()), None).unwrap_err();
        assert!(format!("{error:#}").contains("bad.json"), "{error:#}");
    }
}
