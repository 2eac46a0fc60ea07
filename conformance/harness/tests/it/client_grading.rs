//! Client grading (`conformance client`): our own `img2img` passes every check under every
//! scenario; the example client (`examples/graded_client.rs`) passes them all when it behaves, and
//! each of its misbehaviours fails exactly the check made for it; the docs' three-line Python
//! script is graded with one command. Every run is a real subprocess against an in-process
//! emulator on loopback, with short scenario bounds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use img2img_harness::client_grading::{
    Bounds, ClientCheckId, GradeOptions, Graded, builtin, grade, select,
};
use img2img_report::results::{RunResults, Status};
use img2img_specs::{Feature, Provider, Spec};

/// Grading runs real subprocesses that render images, every scenario at once: two gradings at a
/// time (they mostly wait out the scenarios' latencies), so they do not starve each other (or the
/// other tests of this binary) of CPU on a small machine.
pub static GRADINGS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The cargo target directory and profile directory this test binary was built into.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.parent()
        .and_then(Path::parent)
        .expect("tests run from <target>/<profile>/deps")
        .to_path_buf()
}

/// Builds a binary of the workspace with cargo (once) and returns its path.
fn built(cell: &'static OnceLock<PathBuf>, args: &[&str], relative: &str) -> &'static Path {
    cell.get_or_init(|| {
        let profile = profile_dir();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(["build", "--quiet", "--target-dir"])
            .arg(profile.parent().expect("a profile directory has a parent"))
            .args(args);
        if profile.file_name().is_some_and(|n| n == "release") {
            command.arg("--release");
        }
        let status = command.status().expect("cargo runs");
        assert!(status.success(), "cargo build {args:?} failed");
        profile.join(relative)
    })
}

fn example_client() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    built(
        &CELL,
        &["-p", "img2img-harness", "--example", "graded_client"],
        "examples/graded_client",
    )
}

fn img2img() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    built(
        &CELL,
        &["-p", "img2img-client", "--bin", "img2img"],
        "img2img",
    )
}

/// An empty directory under cargo's scratch folder for integration tests (`target/tmp/`): one
/// name per use, emptied first, so reruns reuse it and a failed grading's files can be read.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("grading-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Keeps a grading's results where `cargo xtask report` looks for them by default
/// (`target/conformance/clients/<client>-<provider>/`), so the report run after the tests (the CI
/// main job) shows how the project's own command and the official SDKs behaved.
pub(crate) fn keep_for_report(client: &str, provider: Provider, results: &RunResults) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/conformance/clients")
        .join(format!("{client}-{provider}"));
    let summary = img2img_harness::client_grading::summary(results);
    img2img_harness::output::write_with_summary(results, &dir, summary).unwrap();
}

/// Short bounds for tests: a stuck job must be given up within 6 s (the example client gives up
/// after 3 s).
fn bounds() -> Bounds {
    Bounds {
        give_up_within: Duration::from_secs(6),
        ..Bounds::default()
    }
}

fn options_for(
    client: &str,
    provider: Provider,
    scenarios: &[&str],
    command: Vec<String>,
) -> GradeOptions {
    let names: Vec<String> = scenarios.iter().map(|s| s.to_string()).collect();
    let dir = scratch(&format!("{client}-{provider}"));
    GradeOptions {
        client: client.into(),
        provider,
        scenarios: select(&builtin(), &names).unwrap(),
        command,
        time_limit: Duration::from_secs(30),
        bounds: bounds(),
        tail_lines: 20,
        work_root: dir.join("work"),
        exchanges_dir: dir.join("exchanges"),
    }
}

async fn graded(options: &GradeOptions) -> Graded {
    let _turn = GRADINGS.acquire().await.expect("never closed");
    grade(options, |_| {}).await.unwrap()
}

/// Scenario → check → status, for assertions that print the whole picture.
fn table(results: &RunResults) -> BTreeMap<(String, String), (Status, String)> {
    results
        .results
        .iter()
        .map(|r| {
            (
                (r.scenario.clone().unwrap(), r.check.clone()),
                (r.status, r.detail.clone().unwrap_or_default()),
            )
        })
        .collect()
}

fn outputs(results: &RunResults) -> String {
    results
        .client_runs
        .iter()
        .map(|r| {
            format!(
                "--- {} (exit {:?}, timed out {}):\n{}",
                r.scenario,
                r.exit_code,
                r.timed_out,
                r.output_tail.join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_all_pass(results: &RunResults) {
    let failed: Vec<_> = table(results)
        .into_iter()
        .filter(|(_, (status, _))| *status != Status::Passed)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}\n{}", outputs(results));
}

/// The grading of `img2img` against `provider`'s emulator under every scenario: `--size` and
/// `--model` given where the provider's create has them (the spec's features say).
fn img2img_options(provider: Provider) -> GradeOptions {
    let spec = Spec::embedded(provider);
    let create = &spec.extensions().job.create;
    let has = |feature: Feature| spec.feature(create, feature).is_some();
    let mut command: Vec<String> = [
        img2img().to_str().unwrap(),
        "--provider",
        provider.id(),
        "--image",
        "{work_dir}/in.png",
        "--prompt",
        "a watercolour fox",
        "--base-url",
        "{base_url}",
        "--out",
        "{work_dir}",
        "--deadline",
        "8",
    ]
    .map(str::to_owned)
    .to_vec();
    if has(Feature::Size) || has(Feature::Width) {
        command.extend(["--size".into(), "256x256".into()]);
    }
    if has(Feature::Model) {
        command.extend(["--model".into(), "sd_xl_base_1.0.safetensors".into()]);
    }
    // img2img reads its input image from the run's work directory: a shell writes it first.
    let image = scratch(&format!("img2img-input-{provider}")).join("in.png");
    std::fs::write(&image, img2img_harness::payload::test_image()).unwrap();
    let script = format!(
        "cp {} \"$IMG2IMG_WORK_DIR/in.png\" && exec \"$@\"",
        image.display()
    );
    let mut wrapped = vec!["sh".to_owned(), "-c".to_owned(), script, "sh".to_owned()];
    wrapped.extend(command);
    let mut options = options_for("img2img", provider, &[], wrapped);
    // img2img gives up after --deadline 8 s (the slowest scenario takes 5 s to finish).
    options.bounds.give_up_within = Duration::from_secs(12);
    options
}

/// `img2img` passed every check under every scenario against `provider`, and exited as each
/// scenario asks.
fn assert_img2img_passed(provider: Provider, graded: &Graded) {
    let results = &graded.results;
    keep_for_report("img2img", provider, results);
    assert_eq!(results.client_runs.len(), builtin().len(), "{provider}");
    // Every scenario ran its five common checks, and each special one ran where it applies
    // (job_completed under the five where the job can succeed).
    assert_eq!(
        results.results.len(),
        builtin().len() * 5 + 3 + 5,
        "{provider}"
    );
    let failed: Vec<_> = table(results)
        .into_iter()
        .filter(|(_, (status, _))| *status != Status::Passed)
        .collect();
    assert!(
        failed.is_empty(),
        "{provider}: {failed:#?}\n{}",
        outputs(results)
    );
    let runs: BTreeMap<&str, Option<i32>> = results
        .client_runs
        .iter()
        .map(|r| (r.scenario.as_str(), r.exit_code))
        .collect();
    for ok in [
        "happy",
        "slow-queue",
        "rate-limited",
        "flaky-polls",
        "short-ttl",
    ] {
        assert_eq!(runs[ok], Some(0), "{provider} {ok}\n{}", outputs(results));
    }
    for failed in ["job-fails", "create-dropped", "stuck"] {
        assert_eq!(
            runs[failed],
            Some(1),
            "{provider} {failed}\n{}",
            outputs(results)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn img2img_passes_every_check_under_every_scenario_on_every_provider() {
    let providers: Vec<Provider> = Provider::all().collect();
    let options: Vec<GradeOptions> = providers.iter().copied().map(img2img_options).collect();
    // The gradings go at once, as the scenarios of one grading do (they mostly wait out the
    // scenarios' latencies).
    let graded = {
        let _turn = GRADINGS.acquire().await.expect("never closed");
        futures::future::join_all(options.iter().map(|o| grade(o, |_| {}))).await
    };
    for (provider, graded) in providers.into_iter().zip(graded) {
        assert_img2img_passed(provider, &graded.unwrap());
    }
}

fn example(provider: Provider, misbehaviour: Option<&str>) -> Vec<String> {
    let mut command = vec![
        example_client().to_str().unwrap().to_owned(),
        "--provider".into(),
        provider.id().into(),
        "--deadline".into(),
        "3".into(),
    ];
    if let Some(misbehaviour) = misbehaviour {
        command.extend(["--misbehave".into(), misbehaviour.into()]);
    }
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn the_well_behaved_example_client_passes_every_check() {
    // `slow-queue`'s job takes 5 s and the client sleeps its eta before polling: with the usual
    // 3 s deadline, a poll that lands a moment before the job ends (a loaded machine) gives up.
    // A deadline with room over that job, and a give-up bound with room over the deadline.
    let mut command = example(Provider::named("novita"), None);
    command.extend(["--deadline".into(), "8".into()]);
    let mut options = options_for("graded_client", Provider::named("novita"), &[], command);
    options.bounds.give_up_within = Duration::from_secs(11);
    assert_all_pass(&graded(&options).await.results);
}

/// Each misbehaviour, the scenario that shows it, and the check made for it; a misbehaviour that
/// also keeps the job from completing fails `job_completed` beside it ([`ALSO_INCOMPLETE`]).
const MISBEHAVIOURS: &[(&str, &str, &str, ClientCheckId)] = &[
    (
        "misplaced-key",
        "modelslab",
        "happy",
        ClientCheckId::RequestsValid,
    ),
    (
        "skip-download",
        "novita",
        "happy",
        ClientCheckId::JobCompleted,
    ),
    (
        "resend-create",
        "modelslab",
        "create-dropped",
        ClientCheckId::CreateNotRepeated,
    ),
    (
        "no-pause",
        "novita",
        "slow-queue",
        ClientCheckId::PollPacing,
    ),
    (
        "ignore-retry-after",
        "gptproto",
        "rate-limited",
        ClientCheckId::PollPacing,
    ),
    (
        "poll-after-terminal",
        "modelslab",
        "happy",
        ClientCheckId::StopsAtTerminal,
    ),
    ("never-give-up", "gptproto", "stuck", ClientCheckId::GivesUp),
    (
        "ignore-failure",
        "novita",
        "job-fails",
        ClientCheckId::FailureSurfaced,
    ),
    (
        "download-late",
        "gptproto",
        "short-ttl",
        ClientCheckId::DownloadsInTime,
    ),
];

/// Misbehaviours whose job cannot complete: a refused key, and images fetched after they expired.
const ALSO_INCOMPLETE: &[&str] = &["misplaced-key", "download-late"];

#[tokio::test(flavor = "multi_thread")]
async fn each_misbehaviour_fails_its_check_and_only_it() {
    // Every check is shown failing by at least one misbehaviour (the request cap by the tight
    // loop, below).
    for check in ClientCheckId::ALL {
        assert!(
            check == ClientCheckId::WithinRequestCap
                || MISBEHAVIOURS.iter().any(|(_, _, _, c)| *c == check),
            "{check} has no misbehaviour"
        );
    }
    let options: Vec<GradeOptions> = MISBEHAVIOURS
        .iter()
        .map(|(misbehaviour, provider, scenario, _)| {
            let mut command = example(Provider::named(provider), Some(misbehaviour));
            if *scenario == "slow-queue" {
                // Its job takes 5 s: a client giving up after 3 s would not complete it.
                command.extend(["--deadline".into(), "8".into()]);
            }
            let mut options = options_for(
                &format!("graded_client-{misbehaviour}"),
                Provider::named(provider),
                &[scenario],
                command,
            );
            if *misbehaviour == "no-pause" {
                // A client polling with no pause sends about 1,000 requests a second on a quiet
                // machine: over the 5 s job, more than the default cap, whose own check is
                // tested below; here only the pacing may fail.
                options.bounds.max_requests = 100_000;
            }
            options
        })
        .collect();
    // The gradings go at once, as the scenarios of one grading do.
    let graded = {
        let _turn = GRADINGS.acquire().await.expect("never closed");
        futures::future::join_all(options.iter().map(|o| grade(o, |_| {}))).await
    };
    let mut report = Vec::new();
    for ((misbehaviour, provider, scenario, check), graded) in MISBEHAVIOURS.iter().zip(graded) {
        let results = graded.unwrap().results;
        let failed: Vec<&str> = results
            .results
            .iter()
            .filter(|r| r.status == Status::Failed)
            .map(|r| r.check.as_str())
            .collect();
        let mut expected = vec![check.id()];
        if ALSO_INCOMPLETE.contains(misbehaviour) {
            expected.push(ClientCheckId::JobCompleted.id());
        }
        if failed != expected {
            report.push(format!(
                "{misbehaviour} on {provider} under {scenario}: failed {failed:?}, expected {expected:?}\n{:#?}\n{}",
                table(&results),
                outputs(&results)
            ));
        }
        // The check says why.
        if let Some(result) = results
            .results
            .iter()
            .find(|r| r.check == check.id() && r.status == Status::Failed)
        {
            assert!(
                result.detail.as_deref().is_some_and(|d| !d.is_empty()),
                "{result:?}"
            );
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}

/// A client that never pauses, creates again after every error and never gives up is stopped
/// as soon as it passes the cap, failing `within_request_cap` with what it sent, in how long, and
/// what the job needed; its exchanges were written as they happened, keys redacted.
#[tokio::test(flavor = "multi_thread")]
async fn a_tight_loop_is_stopped_at_the_request_cap() {
    let mut options = options_for(
        "graded_client-tight-loop",
        Provider::named("novita"),
        &["stuck"],
        example(Provider::named("novita"), Some("tight-loop")),
    );
    options.bounds.max_requests = 500;
    // The cap, not the time limit, must end it, however slow the machine.
    options.bounds.give_up_within = Duration::from_secs(60);
    let graded = graded(&options).await;
    let results = &graded.results;
    let table = table(results);
    let status = |check: ClientCheckId| table[&("stuck".to_owned(), check.id().to_owned())].clone();
    let (cap, why) = status(ClientCheckId::WithinRequestCap);
    assert_eq!(cap, Status::Failed, "{table:#?}\n{}", outputs(results));
    assert!(
        why.starts_with("sent 501 requests in ") && why.contains("; the job needed at most "),
        "{why}"
    );
    assert_eq!(status(ClientCheckId::PollPacing).0, Status::Failed);
    assert_eq!(status(ClientCheckId::RequestsValid).0, Status::Passed);
    // Stopped at the cap, it never showed whether it would give up.
    assert_eq!(status(ClientCheckId::GivesUp).0, Status::Skipped);
    let run = &results.client_runs[0];
    assert!(
        run.exit_code.is_none() && !run.timed_out,
        "stopped, not timed out: {run:?}"
    );
    assert!(
        (501..1_000).contains(&run.requests),
        "{} requests",
        run.requests
    );
    let written = std::fs::read_to_string(&graded.exchanges[0]).unwrap();
    assert_eq!(written.lines().count(), run.requests as usize);
    assert!(!written.contains("sk-grade-"), "the key is redacted");
    let first: serde_json::Value = serde_json::from_str(written.lines().next().unwrap()).unwrap();
    assert_eq!(first["method"], "POST", "{first}");
    assert!(
        first["body"]["request"]["image_base64"]
            .as_str()
            .is_some_and(|s| s.contains("… (") && s.ends_with(" characters)")),
        "a long string is cut, the cut marked: {first}"
    );
}

#[test]
fn the_command_writes_the_results_and_keeps_keys_out() {
    let out = scratch("cli");
    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["client", "--provider", "novita", "--scenario", "job-fails"])
        .arg("--out")
        .arg(&out)
        .args(["--name", "example", "--"])
        .args(example(Provider::named("novita"), Some("ignore-failure")))
        .output()
        .unwrap();
    // The misbehaving client fails failure_surfaced: exit code 1.
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("client grading: 5 passed, 1 failed"),
        "{stdout}"
    );
    for file in [
        "results.json",
        "results.schema.json",
        "junit.xml",
        "summary.md",
        "exchanges/job-fails.jsonl",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let results: RunResults =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results.client_runs.len(), 1);
    let run = &results.client_runs[0];
    assert_eq!(
        (run.client.as_str(), run.scenario.as_str()),
        ("example", "job-fails")
    );
    assert_eq!(run.exit_code, Some(0));
    // The results validate against the schema written beside them.
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.schema.json")).unwrap())
            .unwrap();
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert!(jsonschema::is_valid(&schema, &value));
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("example · novita · job-fails"), "{junit}");
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| job-fails | 0 |"), "{summary}");
    // The fresh key the emulator accepted appears nowhere in what was written.
    for file in [
        "results.json",
        "junit.xml",
        "summary.md",
        "exchanges/job-fails.jsonl",
    ] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(!text.contains("sk-grade-"), "{file} holds the key");
    }
}

#[test]
fn usage_errors_exit_2_naming_the_problem() {
    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args([
            "client",
            "--provider",
            "novita",
            "--scenario",
            "sunny",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no scenario \"sunny\""), "{stderr}");
}

/// A client that does nothing, or crashes before sending anything, fails `job_completed` under
/// every scenario where the job could succeed, and passes nothing it did not earn there.
#[tokio::test(flavor = "multi_thread")]
async fn a_do_nothing_or_crashing_client_fails_job_completed() {
    let runs: [(&str, Vec<String>, &str); 2] = [
        (
            "do-nothing",
            vec!["true".into()],
            "exited 0 but never read a finished job (it sent no request)",
        ),
        (
            "crashing",
            vec![
                "sh".into(),
                "-c".into(),
                "echo 'Traceback: boom' >&2; exit 101".into(),
            ],
            "exited 101 after",
        ),
    ];
    for (name, command, says) in runs {
        let options = options_for(name, Provider::named("novita"), &[], command);
        let results = graded(&options).await.results;
        let completed: Vec<_> = results
            .results
            .iter()
            .filter(|r| r.check == ClientCheckId::JobCompleted.id())
            .collect();
        let scenarios: Vec<&str> = completed
            .iter()
            .map(|r| r.scenario.as_deref().unwrap())
            .collect();
        assert_eq!(
            scenarios,
            [
                "happy",
                "slow-queue",
                "rate-limited",
                "flaky-polls",
                "short-ttl"
            ],
            "{name}"
        );
        for result in completed {
            assert_eq!(result.status, Status::Failed, "{name}: {result:?}");
            let detail = result.detail.as_deref().unwrap_or_default();
            assert!(detail.contains(says), "{name}: {detail}");
        }
        assert!(!results.passed(), "{name}");
    }
}

/// Python with `requests` (the SDK venv's first: `.ci/run` installs it), or why there is none.
fn python_with_requests() -> Result<String, String> {
    let venv = crate::sdk_env::python().display().to_string();
    for python in [venv.as_str(), "python3", "python"] {
        match Command::new(python)
            .args(["-c", "import requests"])
            .output()
        {
            Ok(out) if out.status.success() => return Ok(python.into()),
            Ok(_) if python != venv => {
                return Err(format!(
                    "{python} has no `requests` module (pip install requests)"
                ));
            }
            _ => continue,
        }
    }
    Err("no python3 on PATH".into())
}

/// Skips with a message, or fails when `CI` is set.
fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set, so this test may not skip: {why}"
    );
    eprintln!("skipped: {why}");
}

/// The worked example of docs/client-grading.md, graded as a user would.
#[tokio::test(flavor = "multi_thread")]
async fn the_readme_python_script_is_graded() {
    let python = match python_with_requests() {
        Ok(python) => python,
        Err(why) => return skip(&why),
    };
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/novita_job_naive.py");
    let mut options = options_for(
        "novita_requests",
        Provider::named("novita"),
        &["happy", "job-fails", "stuck"],
        vec![python, script.display().to_string()],
    );
    // Its loop never ends on a stuck job: stopped after 1,000 requests, in a second or two.
    options.bounds.max_requests = 1_000;
    let results = graded(&options).await.results;
    let table = table(&results);
    let status = |scenario: &str, check: ClientCheckId| {
        table[&(scenario.to_owned(), check.id().to_owned())].0
    };
    // The three lines create and poll correctly...
    for scenario in ["happy", "job-fails", "stuck"] {
        for check in [
            ClientCheckId::RequestsValid,
            ClientCheckId::CreateNotRepeated,
            ClientCheckId::StopsAtTerminal,
        ] {
            assert_eq!(
                status(scenario, check),
                Status::Passed,
                "{table:#?}\n{}",
                outputs(&results)
            );
        }
    }
    // ...but poll in a tight loop (shown under job-fails, whose job runs 0.5 s: under happy the
    // first poll may already find the job done), never download the images, never give up, and
    // exit 0 on a failed job.
    assert_eq!(
        status("job-fails", ClientCheckId::PollPacing),
        Status::Failed,
        "{table:#?}"
    );
    assert_eq!(
        status("happy", ClientCheckId::JobCompleted),
        Status::Failed,
        "{table:#?}"
    );
    assert_eq!(
        status("stuck", ClientCheckId::WithinRequestCap),
        Status::Failed,
        "{table:#?}"
    );
    assert_eq!(
        status("stuck", ClientCheckId::GivesUp),
        Status::Skipped,
        "{table:#?}"
    );
    assert_eq!(
        status("job-fails", ClientCheckId::FailureSurfaced),
        Status::Failed,
        "{table:#?}"
    );

    // The docs' fixed script passes every check under every scenario.
    let fixed = script.with_file_name("novita_job.py");
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("novita_requests_fixed");
    std::fs::create_dir_all(&scratch).unwrap();
    let python = options.command[0].clone();
    let mut options = options_for(
        "novita_requests_fixed",
        Provider::named("novita"),
        &[],
        vec![
            "env".into(),
            // The script saves its images in IMG2IMG_WORK_DIR; run it from elsewhere to show it.
            "-C".into(),
            scratch.display().to_string(),
            "DEADLINE=8".into(),
            python,
            fixed.display().to_string(),
        ],
    );
    // From the command's start: the interpreter's start-up counts too. DEADLINE=8 outlasts the
    // slowest job (slow-queue's 5 s) and gives up on the stuck one within the bound.
    options.bounds.give_up_within = Duration::from_secs(15);
    assert_all_pass(&graded(&options).await.results);
}

/// The client-grading page shows both scripts as they are tested (and as its transcripts run
/// them).
#[test]
fn the_docs_hold_the_graded_scripts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let page = std::fs::read_to_string(root.join("client-grading.md")).unwrap();
    for name in ["novita_job_naive.py", "novita_job.py"] {
        let script = std::fs::read_to_string(root.join("examples").join(name)).unwrap();
        assert!(
            page.contains(&script),
            "docs/client-grading.md does not show docs/examples/{name} as it is tested"
        );
    }
}
