//! `conformance client`: the flags, and the run that writes `results.json`, `junit.xml`,
//! `summary.md` and `exchanges/<scenario>.jsonl`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use img2img_report::results::Status;
use img2img_specs::Provider;

use super::checks::{Bounds, ClientCheckId};
use super::grade::{GradeEvent, GradeOptions, grade};
use super::scenario;

/// Grades your own client: runs COMMAND once per scenario against an emulator of the provider
/// (its base URL in IMG2IMG_BASE_URL and <PROVIDER>_BASE_URL, a key in the provider's usual
/// variable, its spec's `x-provider.key-env`) and checks what it sent and how it ended.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The provider the command talks to (one per spec in specs/).
    #[arg(long, value_name = "PROVIDER", value_parser = crate::provider_flag::parser())]
    pub provider: Provider,
    /// Scenarios to run (repeatable); every built-in one (and every one of --scenario-file) when
    /// none is given: happy, slow-queue, job-fails, rate-limited, flaky-polls, create-dropped,
    /// short-ttl, stuck.
    #[arg(long = "scenario", value_name = "SCENARIO")]
    pub scenarios: Vec<String>,
    /// More scenarios, as JSON (see the crate docs of `img2img_harness::client_grading`).
    #[arg(long, value_name = "FILE")]
    pub scenario_file: Option<PathBuf>,
    /// The client's name in the results (default: the command's file name, or the script's).
    #[arg(long)]
    pub name: Option<String>,
    /// Each run is stopped after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub time_limit: u64,
    /// Under a job that never ends, the command must give up within this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub give_up_within: u64,
    /// The shortest wait allowed between two polls of a job, or two create attempts, in ms.
    #[arg(long, value_name = "MS", default_value_t = 250)]
    pub poll_floor_ms: u64,
    /// A run whose client sends more requests than this is stopped and fails `within_request_cap`.
    #[arg(long, value_name = "N", default_value_t = 5_000)]
    pub max_requests: u64,
    /// Lines of each run's output kept in the results.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub tail: usize,
    /// Where to write the results (default: target/conformance/clients/<name>-<provider>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The command and its arguments (after `--`); `{base_url}`, `{work_dir}` and `{provider}`
    /// in them are replaced.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// Interpreters whose script names the client better than they do.
const INTERPRETERS: &[&str] = &[
    "python", "python3", "node", "deno", "bun", "ruby", "sh", "bash", "uv", "npx", "env",
];

/// The default client name: the command's file name, or for an interpreter its script's.
pub fn client_name(command: &[String]) -> String {
    let stem = |arg: &str| {
        Path::new(arg)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| arg.to_owned())
    };
    let interpreter = |name: &str| INTERPRETERS.contains(&name) || name.starts_with("python");
    let Some(first) = command.first() else {
        return "client".into();
    };
    command
        .iter()
        .filter(|a| !a.starts_with('-') && !a.contains('='))
        .map(|a| stem(a))
        .find(|name| !interpreter(name))
        .unwrap_or_else(|| stem(first))
}

/// Runs `conformance client`; exit code 0 when every check passed, 1 when one failed, 2 on a
/// usage or environment error.
pub fn run(args: ClientArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: ClientArgs) -> Result<ExitCode, String> {
    let mut known = scenario::builtin();
    if let Some(file) = &args.scenario_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let extra =
            scenario::parse(&text, &file.display().to_string()).map_err(|e| e.to_string())?;
        for scenario in extra {
            known.retain(|s| s.name != scenario.name);
            known.push(scenario);
        }
    }
    let scenarios = scenario::select(&known, &args.scenarios).map_err(|e| e.to_string())?;
    let client = args
        .name
        .clone()
        .unwrap_or_else(|| client_name(&args.command));
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("target/conformance/clients").join(format!("{client}-{}", args.provider))
    });
    let options = GradeOptions {
        client,
        provider: args.provider,
        scenarios,
        command: args.command.clone(),
        time_limit: Duration::from_secs(args.time_limit.max(1)),
        bounds: Bounds {
            poll_floor: Duration::from_millis(args.poll_floor_ms),
            give_up_within: Duration::from_secs(args.give_up_within),
            max_requests: args.max_requests,
        },
        tail_lines: args.tail,
        work_root: out.join("work"),
        exchanges_dir: out.join("exchanges"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    eprintln!(
        "grading {} against the {} emulator: {} scenario(s) at once",
        options.client,
        options.provider,
        options.scenarios.len()
    );
    // Scenarios run at once; each one's lines are shown as soon as every scenario before it (in
    // the order asked) has been shown, so the output is the same whatever order they end in.
    let order: Vec<String> = options.scenarios.iter().map(|s| s.name.clone()).collect();
    let mut shown = 0;
    let mut waiting: std::collections::BTreeMap<usize, String> = std::collections::BTreeMap::new();
    let graded = runtime
        .block_on(grade(&options, |event| match event {
            GradeEvent::Started { .. } => {}
            GradeEvent::Finished {
                scenario,
                run,
                results,
            } => {
                let mut block = format!("  {:<16} {}\n", scenario.name, scenario.description);
                let capped = results.iter().any(|r| {
                    r.check == ClientCheckId::WithinRequestCap.id() && r.status == Status::Failed
                });
                let exit = match (run.exit_code, run.timed_out) {
                    _ if capped => "stopped at the request cap".to_owned(),
                    (_, true) => "killed at the time limit".to_owned(),
                    (Some(code), _) => format!("exit {code}"),
                    (None, _) => "ended by a signal".to_owned(),
                };
                block.push_str(&format!(
                    "  {:<16} {exit}, {:.1} s, {} requests\n",
                    "",
                    run.duration_ms as f64 / 1000.0,
                    run.requests
                ));
                for r in results {
                    let status = match r.status {
                        Status::Passed => "passed",
                        Status::Failed => "FAILED",
                        Status::Skipped => "skipped",
                    };
                    let line = format!(
                        "  {:<16}   {status} {:<20} {}",
                        "",
                        r.check,
                        r.detail.as_deref().unwrap_or_default()
                    );
                    block.push_str(line.trim_end());
                    block.push('\n');
                }
                let at = order
                    .iter()
                    .position(|name| *name == scenario.name)
                    .unwrap_or(order.len());
                waiting.insert(at, block);
                while let Some(block) = waiting.remove(&shown) {
                    eprint!("{block}");
                    shown += 1;
                }
            }
        }))
        .map_err(|e| e.to_string())?;
    // Any scenario not in the asked order (none, unless a name repeats) comes last.
    for block in waiting.into_values() {
        eprint!("{block}");
    }
    let files =
        crate::output::write_with_summary(&graded.results, &out, super::summary(&graded.results))?;
    eprintln!(
        "wrote {} and {}/*.jsonl",
        files.join(", "),
        options.exchanges_dir.display()
    );
    let results = &graded.results;
    let (passed, failed) = (results.count(Status::Passed), results.count(Status::Failed));
    println!("client grading: {passed} passed, {failed} failed");
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
#[path = "tests/cli.rs"]
mod tests;
