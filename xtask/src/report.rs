//! `cargo xtask report [--out DIR] [--results FILE]`: runs the `conformance` crate's `report`
//! binary from the workspace root. xtask does not link `conformance` (it must build while the
//! generated clients are stale), so it shells out to cargo.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use xtask::project;

/// Runs `cargo run --quiet -p conformance --bin report -- [--out DIR] [--results FILE]`.
pub fn run(out: Option<PathBuf>, results: Option<PathBuf>) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command.current_dir(project::root()).args([
        "run",
        "--quiet",
        "-p",
        "conformance",
        "--bin",
        "report",
        "--",
    ]);
    // Paths the user typed are relative to where they typed them, not to the workspace root.
    if let Some(out) = out {
        command.arg("--out").arg(absolute(&out)?);
    }
    if let Some(results) = results {
        command.arg("--results").arg(absolute(&results)?);
    }
    let status = command
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("the report binary failed ({status})");
    }
    Ok(())
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join(path))
}
