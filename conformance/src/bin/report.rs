//! `report [--out DIR] [--results FILE]`: writes the provider compatibility report
//! (`compatibility.md`, `compatibility.json`, `compatibility.schema.json`, `compatibility.html`)
//! from the embedded specs and the latest conformance results. Run it as `cargo xtask report`.
//!
//! Defaults, relative to the workspace root: `--out target/report/`,
//! `--results target/conformance/results.json`. A missing results file is reported in the output
//! as "no conformance run yet", not an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use conformance::report;
use img2img_specs::{Provider, Spec};

const USAGE: &str = "usage: report [--out DIR] [--results FILE]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("conformance/ lives inside the workspace")
        .to_path_buf();
    let mut out = root.join("target").join("report");
    let mut results = root.join("target").join("conformance").join("results.json");
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--out" => out = value("--out")?,
            "--results" => results = value("--results")?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unexpected argument {other:?}\n{USAGE}")),
        }
    }
    let specs: Vec<&Spec> = Provider::ALL.into_iter().map(Spec::embedded).collect();
    let run = report::load_results(&results).map_err(|e| e.to_string())?;
    let shown = results
        .strip_prefix(&root)
        .unwrap_or(&results)
        .display()
        .to_string();
    let built = report::build(&specs, run.as_ref(), &shown).map_err(|e| e.to_string())?;
    let written = report::write(&built, &out).map_err(|e| e.to_string())?;
    if let Some(note) = &built.conformance.note {
        println!("{note}");
    }
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}
