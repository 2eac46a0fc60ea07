//! `conformance`: runs the named checks against the emulators (default), a live provider, or
//! recorded cassettes, and writes `results.json`, `junit.xml` and `summary.md`.
//!
//! Run with: `cargo xtask conformance [FLAGS]` (or `cargo run -p conformance --bin conformance --`).
//! `conformance client --provider P -- COMMAND...` grades a client instead (see
//! `img2img_harness::client_grading`).
//! Exit code: 0 when every check that ran passed (a check skipped for want of a key or budget does
//! not fail the run unless `--strict`), 1 when one failed, 2 on bad flags or an unusable environment.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use img2img_harness::cassette::{Given, Recording};
use img2img_harness::output::write_all;
use img2img_harness::{CheckId, Event, RunOptions, Target, plan, provider_flag, run};
use img2img_report::results::Status;
use img2img_specs::{Provider, Spec};
use indicatif::{ProgressBar, ProgressStyle};

/// Checks that each provider (or its emulator) still does what its spec says, and that the
/// generated clients agree.
#[derive(Debug, Parser)]
#[command(name = "conformance", version, args_conflicts_with_subcommands = true)]
struct Cli {
    /// `client`: grade your own client instead of checking servers.
    #[command(subcommand)]
    command: Option<Command>,
    /// Where to run: the in-process emulators, or the live providers (each key from the variable
    /// its spec names in x-provider.key-env).
    #[arg(long, value_enum, default_value_t = TargetArg::Emulator)]
    target: TargetArg,
    /// Providers to check (repeatable; one per spec in specs/); all when none is given.
    #[arg(long = "provider", value_name = "PROVIDER", value_parser = provider_flag::parser())]
    providers: Vec<Provider>,
    /// With --target live: any server that speaks the provider's API (proxy, staging, an emulator
    /// started elsewhere), as scheme://host[:port].
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// With --target live: most requests the run may send (they cost money) [default: 60]. A
    /// check the rest of the budget cannot pay for is reported skipped, with the reason.
    #[arg(long, value_name = "N")]
    max_requests: Option<u32>,
    /// Print the plan: the requests each check may send and, with --price, what they may cost;
    /// send nothing.
    #[arg(long)]
    dry_run: bool,
    /// The price of one image of PROVIDER in USD, for the cost in --dry-run's plan (repeatable;
    /// the specs give no prices), e.g. --price PROVIDER=0.0015.
    #[arg(long = "price", value_name = "PROVIDER=USD", value_parser = parse_price)]
    prices: Vec<(Provider, f64)>,
    /// With --target live: store every exchange as cassettes in DIR, secrets redacted.
    #[arg(long, value_name = "DIR", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// Run against the cassettes in DIR instead of any network, with the providers, checks,
    /// seed, cases and budget they were recorded with (DIR/recording.json).
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
    /// Cases per property check [default: 32].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    cases: Option<u32>,
    /// The proptest seed; the same seed runs the same cases. Random when not given (and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Checks to run (repeatable); all when none is given.
    #[arg(long = "check", value_name = "CHECK", value_enum)]
    checks: Vec<CheckId>,
    /// Where to write results.json, results.schema.json, junit.xml and summary.md.
    #[arg(long, value_name = "DIR", default_value = "target/conformance")]
    out: PathBuf,
    /// Fail the run (exit 1) when a check was skipped, not only when one failed.
    #[arg(long)]
    strict: bool,
    /// The longest the whole run may take, in seconds: the check running then is cut short and
    /// those not started are reported failed; results are written either way.
    #[arg(long, value_name = "SECS")]
    max_time: Option<u64>,
    /// The longest one check may take, in seconds (default 600, live 1800); a check cut short is
    /// reported failed with the reason.
    #[arg(long, value_name = "SECS")]
    check_timeout: Option<u64>,
    /// How long the target keeps a finished job, in seconds (emulators: the TTL they are started
    /// with, default 3; live: the provider's, if known; without it the expiry check is skipped).
    #[arg(long, value_name = "SECS")]
    job_ttl: Option<u64>,
    /// Progress display: a bar on a terminal, plain lines otherwise (and in CI).
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    progress: ProgressArg,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Grade a client: run COMMAND against the emulator under each scenario and check its
    /// behaviour (`conformance client --provider PROVIDER -- python3 my_script.py`).
    Client(img2img_harness::client_grading::ClientArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TargetArg {
    Emulator,
    Live,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProgressArg {
    Auto,
    Bar,
    Plain,
    Quiet,
}

/// The command line, its help naming the providers of `specs/` and their key variables.
fn parse() -> Cli {
    let keys: Vec<&str> = Provider::all()
        .map(|p| Spec::embedded(p).extensions().provider.key_env.as_str())
        .collect();
    let command = Cli::command()
        .mut_arg("target", |arg| {
            arg.help(format!(
                "Where to run: the in-process emulators, or the live providers (keys from the \
                 environment: {})",
                keys.join(", ")
            ))
        })
        .mut_arg("providers", |arg| {
            arg.help(format!(
                "Providers to check (repeatable: {}); all when none is given",
                Provider::known()
            ))
        });
    Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    let cli = parse();
    if let Some(Command::Client(args)) = cli.command {
        return img2img_harness::client_grading::main(args);
    }
    let target = match (cli.target, cli.replay, cli.record, cli.base_url) {
        (_, Some(dir), None, None) => Target::Replay(dir),
        (TargetArg::Live, None, record, base_url) => Target::Live { base_url, record },
        (TargetArg::Emulator, None, None, None) => Target::Emulator,
        (_, Some(_), _, Some(_)) => {
            return usage("--base-url is for --target live: a replay sends nothing anywhere");
        }
        (TargetArg::Emulator, None, Some(_), _) => {
            return usage("--record stores live exchanges: use it with --target live");
        }
        (TargetArg::Emulator, None, None, Some(_)) => {
            return usage(
                "--base-url names a live server: use it with --target live (the emulators start in process)",
            );
        }
        // clap refuses --record with --replay.
        (_, Some(_), Some(_), None) => {
            return usage("--record and --replay cannot be used together");
        }
    };
    let seed = cli.seed.unwrap_or_else(random_seed);
    let given = Given {
        providers: dedup(cli.providers.clone()),
        checks: dedup(cli.checks.clone()),
        seed: cli.seed,
        cases: cli.cases,
        max_requests: cli.max_requests,
    };
    let mut options = RunOptions {
        target,
        providers: if cli.providers.is_empty() {
            Provider::all().collect::<Vec<_>>()
        } else {
            dedup(cli.providers)
        },
        max_requests: cli.max_requests.unwrap_or(60),
        cases: cli.cases.unwrap_or(32),
        seed,
        checks: if cli.checks.is_empty() {
            CheckId::ALL.to_vec()
        } else {
            dedup(cli.checks)
        },
        max_time: cli.max_time.map(std::time::Duration::from_secs),
        check_timeout: cli.check_timeout.map(std::time::Duration::from_secs),
        job_ttl: cli.job_ttl.map(std::time::Duration::from_secs),
        prices: cli.prices,
        ..RunOptions::default()
    };
    if let Target::Replay(dir) = options.target.clone() {
        let applied =
            Recording::load(&dir).and_then(|recording| recording.apply(&mut options, &given));
        if let Err(e) = applied {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    if cli.dry_run {
        print!("{}", plan(&options));
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let total = (options.providers.len() * options.checks.len()) as u64;
    let mode = match cli.progress {
        ProgressArg::Auto
            if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() =>
        {
            ProgressArg::Bar
        }
        ProgressArg::Auto => ProgressArg::Plain,
        other => other,
    };
    let bar = matches!(mode, ProgressArg::Bar).then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    eprintln!(
        "conformance: {:?}, seed {}, {} cases per check",
        options.reported_target(),
        options.seed,
        options.cases
    );
    let outcome = runtime.block_on(run(&options, |event| match (&bar, event) {
        (Some(bar), Event::Started { provider, check }) => {
            bar.set_message(format!("{provider} {}", check.id()))
        }
        (Some(bar), Event::Finished(result)) => {
            if result.status == Status::Failed {
                bar.println(format!(
                    "FAILED {} {}: {}",
                    result.provider,
                    result.check,
                    result.detail.clone().unwrap_or_default()
                ));
            }
            bar.inc(1);
        }
        (None, Event::Finished(result)) if !matches!(mode, ProgressArg::Quiet) => {
            let status = match result.status {
                Status::Passed => "passed ",
                Status::Failed => "FAILED ",
                Status::Skipped => "skipped",
            };
            eprintln!(
                "{status} {:<10} {:<24} {:>4} cases {:>5} ms{}",
                result.provider,
                result.check,
                result.cases,
                result.duration_ms,
                result
                    .detail
                    .as_ref()
                    .map(|d| format!("  {d}"))
                    .unwrap_or_default()
            );
        }
        _ => {}
    }));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let results = match outcome {
        Ok(results) => results,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match write_all(&results, &cli.out) {
        Ok(files) => eprintln!("wrote {}", files.join(", ")),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let (passed, failed, skipped) = (
        results.count(Status::Passed),
        results.count(Status::Failed),
        results.count(Status::Skipped),
    );
    println!("conformance: {passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 || (cli.strict && skipped > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// `PROVIDER=USD`, as `--price` takes it.
fn parse_price(text: &str) -> Result<(Provider, f64), String> {
    let (id, usd) = text.split_once('=').ok_or_else(|| {
        // The example names a provider the specs define.
        let example = Provider::all().next().map_or("PROVIDER", Provider::id);
        format!("{text:?} is not PROVIDER=USD (e.g. {example}=0.0015)")
    })?;
    let provider = Provider::from_id(id).map_err(|e| e.to_string())?;
    let usd: f64 = usd
        .parse()
        .ok()
        .filter(|p: &f64| p.is_finite() && *p >= 0.0)
        .ok_or_else(|| format!("{usd:?} is not a price in USD (a number, 0 or more)"))?;
    Ok((provider, usd))
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}
