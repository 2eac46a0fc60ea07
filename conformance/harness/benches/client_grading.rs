//! Grading a hostile client in bounded time and memory: `conformance client`'s grading (in this
//! process, every scenario at once, as the command does) of the example client's built-in tight
//! loop (`graded_client --misbehave tight-loop`: no pause, a fresh create after every error, never
//! gives up) under every scenario, beside the same for the well-behaved example client. For each
//! client: per scenario the client's run time, the requests the grader absorbed and their rate;
//! then the grading's wall time against the client's own run time, and the peak RSS of this
//! process (the grader and the emulators; the client runs in its own process). Goals: grading
//! wall time at most the client's own run time plus 10 s, and a peak RSS of at most 256 MiB.
//!
//! Run with: `cargo bench -p img2img-harness --bench client_grading` (`-- --max-requests N` to
//! change the cap, `--provider P` for another provider, `--scenario S` to run only some).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use img2img_harness::client_grading::{Bounds, GradeOptions, builtin, grade, select};
use img2img_report::results::{RunResults, Status};
use img2img_specs::Provider;

/// The goal for the grading's wall time, beyond the client's own run time.
const WALL_SLACK: Duration = Duration::from_secs(10);
/// The goal for the peak RSS, in MiB.
const RSS_GOAL_MIB: f64 = 256.0;

struct Options {
    provider: Provider,
    max_requests: u64,
    scenarios: Vec<String>,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    Options {
        provider: value("--provider")
            .map(|p| p.parse().expect("--provider gptproto|novita|modelslab"))
            .unwrap_or(Provider::named("novita")),
        max_requests: value("--max-requests")
            .map(|n| n.parse().expect("--max-requests N"))
            .unwrap_or(Bounds::default().max_requests),
        scenarios: args
            .windows(2)
            .filter(|w| w[0] == "--scenario")
            .map(|w| w[1].clone())
            .collect(),
    }
}

/// The example client, built by cargo in this bench's profile directory.
fn example_client() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench has a path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("benches run from <target>/<profile>/deps");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--quiet", "--target-dir"])
        .arg(profile.parent().expect("a profile directory has a parent"))
        .args(["-p", "img2img-harness", "--example", "graded_client"]);
    if profile.file_name().is_some_and(|n| n != "debug") {
        command.arg("--release");
    }
    let status = command.status().expect("cargo runs");
    assert!(
        status.success(),
        "cargo build --example graded_client failed"
    );
    profile.join("examples/graded_client")
}

/// `VmHWM` (peak) or `VmRSS` (now) of this process in MiB, where `/proc` has it.
fn memory_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Starts the peak RSS again from what is resident now (Linux `clear_refs`); whether it could.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn main() {
    let options = options();
    let client = example_client();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let scenarios = select(&builtin(), &options.scenarios).expect("known scenarios");
    println!(
        "grading the example client against the {} emulator, {} scenario(s) at once, --max-requests {}\n",
        options.provider,
        scenarios.len(),
        options.max_requests
    );
    let mut missed = Vec::new();
    for (name, misbehaviour) in [("tight loop", Some("tight-loop")), ("well-behaved", None)] {
        let mut command = vec![
            client.display().to_string(),
            "--provider".into(),
            options.provider.id().into(),
        ];
        if let Some(m) = misbehaviour {
            command.extend(["--misbehave".into(), m.into()]);
        }
        let dir = std::env::temp_dir().join(format!(
            "img2img-bench-grading-{}-{}",
            misbehaviour.unwrap_or("well-behaved"),
            std::process::id()
        ));
        let grading = GradeOptions {
            client: name.into(),
            provider: options.provider,
            scenarios: scenarios.clone(),
            command,
            time_limit: Duration::from_secs(120),
            bounds: Bounds {
                max_requests: options.max_requests,
                ..Bounds::default()
            },
            tail_lines: 5,
            work_root: dir.join("work"),
            exchanges_dir: dir.join("exchanges"),
        };
        let exact_peak = reset_peak();
        let clock = Instant::now();
        let graded = runtime
            .block_on(grade(&grading, |_| {}))
            .expect("grading runs");
        let wall = clock.elapsed();
        let peak = memory_mib("VmHWM:");
        report(name, &graded.results, wall, peak, exact_peak, &mut missed);
        let _ = std::fs::remove_dir_all(&dir);
    }
    if missed.is_empty() {
        println!("every goal met");
    } else {
        println!("goals missed:\n  {}", missed.join("\n  "));
    }
}

fn report(
    name: &str,
    results: &RunResults,
    wall: Duration,
    peak: Option<f64>,
    exact_peak: bool,
    missed: &mut Vec<String>,
) {
    println!("{name}:");
    println!(
        "  {:<16} {:>9} {:>9} {:>12}  ended",
        "scenario", "client s", "requests", "requests/s"
    );
    let mut own = Duration::ZERO;
    let mut longest = Duration::ZERO;
    let mut requests = 0u64;
    for run in &results.client_runs {
        let took = Duration::from_millis(run.duration_ms);
        own += took;
        longest = longest.max(took);
        requests += u64::from(run.requests);
        let capped = results.results.iter().any(|r| {
            r.scenario.as_deref() == Some(run.scenario.as_str())
                && r.check == "within_request_cap"
                && r.status == Status::Failed
        });
        let ended = match (capped, run.timed_out, run.exit_code) {
            (true, _, _) => "stopped at the cap".to_owned(),
            (_, true, _) => "time limit".to_owned(),
            (_, _, Some(code)) => format!("exit {code}"),
            _ => "signal".to_owned(),
        };
        println!(
            "  {:<16} {:>9.2} {:>9} {:>12.0}  {ended}",
            run.scenario,
            took.as_secs_f64(),
            run.requests,
            f64::from(run.requests) / took.as_secs_f64().max(1e-3)
        );
    }
    let passed = results.count(Status::Passed);
    let failed = results.count(Status::Failed);
    println!(
        "  grading wall time {:.2} s; the client's own run time {:.2} s in all ({:.2} s the longest run); {requests} requests, {:.0}/s absorbed; {passed} passed, {failed} failed",
        wall.as_secs_f64(),
        own.as_secs_f64(),
        longest.as_secs_f64(),
        requests as f64 / wall.as_secs_f64()
    );
    match peak {
        Some(mib) => println!(
            "  peak RSS {mib:.1} MiB{}",
            if exact_peak {
                ""
            } else {
                " (since the bench started: the peak could not be reset)"
            }
        ),
        None => println!("  peak RSS: not measured (no /proc/self/status)"),
    }
    println!();
    if wall > own + WALL_SLACK {
        missed.push(format!(
            "{name}: grading took {:.2} s, more than the client's {:.2} s + 10 s",
            wall.as_secs_f64(),
            own.as_secs_f64()
        ));
    }
    if let Some(mib) = peak.filter(|mib| *mib > RSS_GOAL_MIB) {
        missed.push(format!("{name}: peak RSS {mib:.1} MiB > 256 MiB"));
    }
}
