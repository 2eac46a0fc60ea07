//! `cargo xtask dist [--out DIR]`: the emulator and the client grader for Python and JavaScript
//! teams, built into `target/dist/` for this platform:
//!
//! - `img2img_emulator-<version>-py3-none-<platform>.whl`: maturin (`bindings = "bin"`) packages
//!   the `emulator` and `conformance` commands of the `img2img-dist` crate (`dist/Cargo.toml`, which
//!   builds both crates' `main.rs`) with the Python package in `dist/python/`;
//! - `img2img-emulator-<version>.tgz` (the JS helper) and `img2img-emulator-<os>-<cpu>-<version>.tgz`
//!   (the commands), wired through `optionalDependencies` as esbuild does.
//!
//! Every version is the workspace's. The commands are release builds; after
//! `cargo xtask conformance` (a release build of the harness) only the two `main.rs` compile.

mod metadata;
mod npm;
mod platform;
mod wheel;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use serde::Deserialize;

use xtask::project;

use metadata::{DIST_CRATE, Workspace};
use platform::Platform;

/// The two packaged commands.
const COMMANDS: [&str; 2] = ["emulator", "conformance"];
/// The client grader's built-in scenarios, shipped beside the helpers so they can start an
/// emulator under a scenario by name.
const SCENARIOS: &str = "conformance/harness/src/client_grading/scenarios.json";

/// Builds the wheel and the npm packages into `out` (default `target/dist/`).
pub fn run(out: Option<PathBuf>) -> anyhow::Result<()> {
    let started = Instant::now();
    let root = project::root();
    let out = match out {
        Some(out) => std::path::absolute(out)?,
        None => root.join("target").join("dist"),
    };
    let platform = Platform::host()?;
    let workspace = Workspace::load()?;
    let version = workspace.dist_version()?;
    let extras = workspace.dist_extras()?;
    anyhow::ensure!(
        extras.is_empty(),
        "dist/Cargo.toml asks more than the crates it packages: {}",
        extras.join("; ")
    );
    clear(&out)?;
    let staging = root.join("target").join("dist-build");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }

    eprintln!("building the emulator and conformance commands (release, {DIST_CRATE})");
    let commands = build_commands(&root)?;

    let scenarios = root.join(SCENARIOS);
    let python = root.join("dist").join("python");
    std::fs::copy(
        &scenarios,
        python.join("img2img_emulator").join("scenarios.json"),
    )
    .context("cannot copy the grader's scenarios.json into the Python package")?;
    let pyproject = std::fs::read_to_string(python.join("pyproject.toml"))?;
    let maturin = wheel::maturin(
        &root.join("target").join("dist-tools"),
        &wheel::maturin_pin(&pyproject)?,
    )?;
    eprintln!("building the wheel (maturin)");
    let wheel = wheel::build(&maturin, &python, &out, &version)?;

    eprintln!("building the npm packages (npm pack)");
    let tarballs = npm::build(
        &npm::Inputs {
            main_source: &root.join("dist").join("npm").join(platform::NPM_PACKAGE),
            scenarios: &scenarios,
            commands: &commands,
            platform,
            version: &version,
        },
        &staging.join("npm"),
        &out,
    )?;

    println!(
        "cargo xtask dist: {DIST_CRATE} {version} for {platform} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    for file in std::iter::once(&wheel).chain(&tarballs) {
        println!("  {:>8}  {}", size(file)?, file.display());
    }
    Ok(())
}

/// Removes what an earlier run left in `out` (wheels and tarballs), so `target/dist/*.whl` is one.
fn clear(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    for entry in std::fs::read_dir(out)? {
        let path = entry?.path();
        let ours = path.extension().is_some_and(|e| e == "whl" || e == "tgz");
        if ours {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// One line of `cargo build --message-format json`.
#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
}

/// Builds the commands (release) and returns each one's path, as cargo reports it.
fn build_commands(root: &Path) -> anyhow::Result<Vec<(&'static str, PathBuf)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--bins",
            "--features",
            "commands",
            "-p",
            DIST_CRATE,
        ])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {cargo}"))?;
    anyhow::ensure!(output.status.success(), "cargo build failed");
    let messages: Vec<Message> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    COMMANDS
        .iter()
        .map(|name| {
            messages
                .iter()
                .filter(|m| m.reason == "compiler-artifact")
                .find(|m| m.target.as_ref().is_some_and(|t| t.name == *name))
                .and_then(|m| m.executable.clone())
                .map(|path| (*name, path))
                .with_context(|| format!("cargo built no {name} executable"))
        })
        .collect()
}

/// A file's size for people (`12.3 MiB`, `9.4 KiB`).
fn size(path: &Path) -> anyhow::Result<String> {
    Ok(human_size(std::fs::metadata(path)?.len()))
}

fn human_size(bytes: u64) -> String {
    let kib = bytes as f64 / 1024.0;
    if kib < 1024.0 {
        format!("{kib:.1} KiB")
    } else {
        format!("{:.1} MiB", kib / 1024.0)
    }
}

/// Runs a command, failing with its command line when it fails.
fn run_command(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    anyhow::ensure!(status.success(), "{command:?} failed ({status})");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_shown_in_kib_or_mib() {
        assert_eq!(human_size(9_626), "9.4 KiB");
        assert_eq!(human_size(16_149_113), "15.4 MiB");
    }
}
