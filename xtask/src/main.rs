//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! - `cargo xtask codegen [--check]`: regenerate the typed clients in `generated/` from `specs/`;
//!   with `--check`, change nothing and fail naming each stale file.
//! - `cargo xtask lint`: check the specs against the rules of `specs/README.md`.
//! - `cargo xtask diff OLD NEW [--rev REV] [--format text|md|json] [--fail-on breaking|any]`: what
//!   changed between two versions of a spec, each change classed breaking or not for a client user;
//!   `cargo xtask diff --against THEIRS [OURS | --provider ID] [--save [FILE]]`: where our spec
//!   disagrees with the provider's own published one, field by field.
//! - `cargo xtask conformance [FLAGS]`: the conformance checks, against the emulators by default
//!   (runs the `img2img-harness` crate's `conformance` binary).
//! - `cargo xtask report [--out DIR] [--cassettes DIR]`: the provider compatibility report (links `img2img-report`,
//!   which needs neither the generated clients nor the emulator).
//! - `cargo xtask dist [--out DIR]`: the wheel and the npm packages carrying the `emulator` and
//!   `conformance` commands, for this platform, into `target/dist/`.
//! - `cargo xtask peer-config DIR`: the peer check's schemathesis configuration of every spec
//!   (`DIR/<provider>.toml`), for `conformance/peer-check.sh`.

mod codegen;
mod conformance;
mod dist;
mod lint;
mod report;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::diff;

/// Project automation for the image-to-image toolkit.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Regenerate the typed clients in generated/ from specs/.
    Codegen {
        /// Change nothing; exit non-zero naming each file that is out of date.
        #[arg(long)]
        check: bool,
    },
    /// Check every spec against the rules of specs/README.md; print all findings.
    Lint,
    /// List what changed between two versions of a spec, each change classed breaking or not.
    ///
    /// Exit status: 0 when no change matches --fail-on, 1 when one does, 2 on usage or IO errors.
    Diff(diff::DiffArgs),
    /// Run the conformance checks (default: every check, every provider, in-process emulators).
    ///
    /// Every flag is passed on: `cargo xtask conformance --help` lists them.
    #[command(disable_help_flag = true)]
    Conformance {
        /// Flags for the conformance binary.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Write the peer check's schemathesis configuration of every spec as DIR/<provider>.toml:
    /// conformance/schemathesis.toml plus the spec's key placement and image-carrying operations.
    PeerConfig {
        /// Where to write the files (created if needed).
        dir: std::path::PathBuf,
    },
    /// Write the provider compatibility report (Markdown, JSON + schema, HTML).
    Report {
        /// Where to write it (default: target/report/).
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
        /// The conformance results to read (default: target/conformance/results.json).
        #[arg(long, value_name = "FILE")]
        results: Option<std::path::PathBuf>,
        /// Client grading results for the "client behaviour" table (repeatable; default: every
        /// target/conformance/clients/*/results.json).
        #[arg(long = "client-results", value_name = "FILE")]
        client_results: Vec<std::path::PathBuf>,
        /// Cassettes of live runs for the coverage table's "live recording" (default: cassettes/).
        #[arg(long, value_name = "DIR")]
        cassettes: Option<std::path::PathBuf>,
    },
    /// Build the Python wheel and the npm packages (the emulator, the client grader, the helpers)
    /// for this platform.
    Dist {
        /// Where to write them (default: target/dist/).
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Codegen { check } => codegen::run(if check {
            codegen::Mode::Check
        } else {
            codegen::Mode::Write
        }),
        Command::Lint => lint::run(),
        Command::PeerConfig { dir } => peer_config(&dir),
        Command::Diff(args) => {
            return diff::run(args).unwrap_or_else(|error| {
                eprintln!("error: {error:#}");
                ExitCode::from(2)
            });
        }
        Command::Conformance { args } => {
            return conformance::run(&args).unwrap_or_else(|error| {
                eprintln!("error: {error:#}");
                ExitCode::from(2)
            });
        }
        Command::Report {
            out,
            results,
            client_results,
            cassettes,
        } => report::run(
            out,
            results,
            (!client_results.is_empty()).then_some(client_results),
            cassettes,
        ),
        Command::Dist { out } => dist::run(out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `dir/<provider>.toml` for every spec in specs/, read from disk.
fn peer_config(dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let base_path = xtask::project::root().join("conformance/schemathesis.toml");
    let base = std::fs::read_to_string(&base_path)
        .with_context(|| format!("cannot read {}", base_path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for provider in img2img_specs::Provider::all() {
        let (_, spec) = xtask::project::load_spec(provider)?;
        let path = dir.join(format!("{}.toml", provider.id()));
        let config = xtask::peer::schemathesis_config(&spec, &base)
            .with_context(|| format!("{} is not TOML", base_path.display()))?;
        std::fs::write(&path, config)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformance_passes_every_argument_on_including_a_client_command() {
        let cli = Cli::try_parse_from([
            "xtask",
            "conformance",
            "client",
            "--provider",
            "acme",
            "--",
            "python3",
            "job.py",
            "--flag",
        ])
        .unwrap();
        let Command::Conformance { args } = cli.command else {
            panic!("not the conformance command");
        };
        assert_eq!(
            args,
            [
                "client",
                "--provider",
                "acme",
                "--",
                "python3",
                "job.py",
                "--flag"
            ]
        );
    }
}
