//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! - `cargo xtask codegen [--check]`: regenerate the typed clients in `generated/` from `specs/`;
//!   with `--check`, change nothing and fail naming each stale file.
//! - `cargo xtask lint`: check the specs against the rules of `specs/README.md`.

mod codegen;
mod lint;
mod project;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
