//! `cargo xtask conformance [FLAGS]`: runs the `conformance` crate's `conformance` binary with the
//! flags given (see `cargo xtask conformance --help`). xtask does not link that crate (it must build
//! while the generated clients are stale), so it shells out to cargo, from the directory the user is
//! in, so relative paths (`--out`, `--record`, `--replay`) mean what they typed.

use std::process::{Command, ExitCode};

use anyhow::Context;

use xtask::project;

/// Runs the harness; its exit code becomes ours (0 passed, 1 a check failed, 2 usage).
pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = project::root().join("Cargo.toml");
    let status = Command::new(&cargo)
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(manifest)
        .args(["-p", "conformance", "--bin", "conformance", "--"])
        .args(args)
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from))
}
