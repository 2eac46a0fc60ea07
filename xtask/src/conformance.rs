//! `cargo xtask conformance [FLAGS]`: runs the `img2img-harness` crate's `conformance` binary with
//! the flags given (see `cargo xtask conformance --help`), then writes the compatibility report
//! from the results it wrote. xtask does not link the harness (it must build while the generated
//! clients are stale), so it shells out to cargo, from the directory the user is in, so relative
//! paths (`--out`, `--record`, `--replay`) mean what they typed.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use anyhow::Context;

use xtask::project;

use crate::report;

/// The harness's default `--out`.
const DEFAULT_OUT: &str = "target/conformance";

/// Runs the harness; its exit code becomes ours (0 passed, 1 a check failed, 2 usage). When a
/// conformance run wrote a `results.json`, the compatibility report is written beside it
/// (`<out>/../report/`). `conformance client` writes only under its own `--out`: its results are
/// a client's grades, which `cargo xtask report` reads from `target/conformance/clients/`.
pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = project::root().join("Cargo.toml");
    eprintln!(
        "building the conformance harness (release; the first build compiles for several minutes)"
    );
    let started = SystemTime::now();
    let status = Command::new(&cargo)
        .args(["run", "--release", "--manifest-path"])
        .arg(manifest)
        .args(["-p", "img2img-harness", "--bin", "conformance", "--"])
        .args(args)
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    let results = out_dir(args).join("results.json");
    if !grades_a_client(args) && written_since(&results, started) {
        let out = results
            .parent()
            .and_then(|dir| dir.parent())
            .map_or_else(|| PathBuf::from("report"), |dir| dir.join("report"));
        report::run(Some(out), Some(results), None, None)?;
    }
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from))
}

/// Whether the flags run `conformance client` (the subcommand comes first).
fn grades_a_client(args: &[String]) -> bool {
    args.first().is_some_and(|a| a == "client")
}

/// The `--out DIR` (or `--out=DIR`) among the harness flags, else its default.
fn out_dir(args: &[String]) -> PathBuf {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == "--out" {
            if let Some(dir) = args.next() {
                return PathBuf::from(dir);
            }
        } else if let Some(dir) = arg.strip_prefix("--out=") {
            return PathBuf::from(dir);
        }
    }
    PathBuf::from(DEFAULT_OUT)
}

fn written_since(path: &std::path::Path, since: SystemTime) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| modified >= since)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_out_dir_is_read_from_the_flags() {
        assert_eq!(out_dir(&args(&[])), PathBuf::from(DEFAULT_OUT));
        assert_eq!(
            out_dir(&args(&["--cases", "3", "--out", "x/y"])),
            PathBuf::from("x/y")
        );
        assert_eq!(out_dir(&args(&["--out=z"])), PathBuf::from("z"));
        assert_eq!(
            out_dir(&args(&["client", "--", "cmd", "--out", "q"])),
            PathBuf::from(DEFAULT_OUT)
        );
    }

    #[test]
    fn a_client_grading_writes_no_report() {
        assert!(grades_a_client(&args(&[
            "client", "--out", "x", "--", "cmd"
        ])));
        assert!(!grades_a_client(&args(&["--out", "x"])));
        assert!(!grades_a_client(&args(&[])));
    }
}
