//! The providers' official SDKs graded under every scenario (`conformance/sdk/grade/`), each run
//! the way its README shows. Each test asserts the SDK's whole outcome — which checks it fails
//! under which scenario — so that a change in the SDK (or in the emulator) shows up.
//!
//! Needs what `conformance/sdk/run.sh` installs (the venv at `target/sdk-venv` and `npm ci` in
//! `conformance/sdk/node`), found through `SDK_PYTHON`, `SDK_NODE` and `SDK_NODE_DIR` as
//! [`sdk_env`](crate::sdk_env) says; without it each test prints why it skipped, and fails when
//! `CI` is set. Whether the emulator already accepts what an SDK sends is read from the spec and
//! the SDK's captured requests (`conformance/sdk/captured/`): until it does, the SDK's every create
//! is refused, and that is the outcome asserted.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use img2img_harness::client_grading::{Bounds, GradeOptions, builtin, grade};
use img2img_report::results::Status;
use img2img_specs::{Method, Provider, Reading, Spec};
use serde_json::Value;

use crate::sdk_env;

/// Skips with a message, or fails when `CI` is set.
fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set, so the SDK grading may not skip: {why} (conformance/sdk/run.sh installs the SDKs)"
    );
    eprintln!("skipped: {why} (conformance/sdk/run.sh installs the SDKs)");
}

/// Why `python` cannot import `module`, if it cannot.
fn python_missing(module: &str) -> Option<String> {
    let python = sdk_env::python();
    match Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
    {
        Ok(out) if out.status.success() => None,
        Ok(_) => Some(format!("{} cannot import {module}", python.display())),
        Err(_) => Some(format!("no Python at {} (SDK_PYTHON)", python.display())),
    }
}

fn node_missing() -> Option<String> {
    let node = sdk_env::node();
    if Command::new(&node).arg("--version").output().is_err() {
        return Some(format!("no Node.js at {} (SDK_NODE)", node.display()));
    }
    let sdk = sdk_env::node_dir().join("node_modules/novita-sdk");
    (!sdk.is_dir()).then(|| format!("{} is missing (npm ci, or set SDK_NODE_DIR)", sdk.display()))
}

/// Whether the emulator accepts every request the SDK sent to the capture server: each one an
/// operation of the spec, with a body its request schema accepts (what `requests_valid` asks).
fn spec_accepts_captured(provider: Provider, sdk: &str) -> bool {
    let spec = Spec::embedded(provider);
    let file = sdk_env::workspace().join(format!("conformance/sdk/captured/{sdk}.jsonl"));
    let text = std::fs::read_to_string(&file).expect("the captured requests are committed");
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|request| request["method"] == "POST")
        .all(|request| {
            let path = request["path"].as_str().unwrap_or_default();
            let Some(op) = spec.operation_for(Method::Post, path) else {
                return false;
            };
            match spec.request_schema_as(&op.id, Reading::Accepting) {
                Some(Ok(schema)) => schema.is_valid(&request["body"]),
                _ => true,
            }
        })
}

/// Scenario → the checks failed under it (every scenario listed, possibly with none).
type Outcome = BTreeMap<String, Vec<String>>;

fn outcome(expected: &[(&str, &[&str])]) -> Outcome {
    let mut all: Outcome = builtin()
        .into_iter()
        .map(|s| (s.name, Vec::new()))
        .collect();
    for (scenario, checks) in expected {
        all.insert(
            (*scenario).to_owned(),
            checks.iter().map(|c| (*c).to_owned()).collect(),
        );
    }
    all
}

async fn graded(sdk: &str, provider: Provider, command: Vec<String>) -> (Outcome, String) {
    // Under cargo's scratch folder for integration tests, one name per SDK and provider, emptied
    // first: reruns reuse it and a failed grading's files can be read.
    let work_root =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sdk-grading-{sdk}-{provider}"));
    let _ = std::fs::remove_dir_all(&work_root);
    let options = GradeOptions {
        client: sdk.into(),
        provider,
        scenarios: builtin(),
        command,
        time_limit: Duration::from_secs(40),
        bounds: Bounds {
            give_up_within: Duration::from_secs(5),
            ..Bounds::default()
        },
        tail_lines: 12,
        exchanges_dir: work_root.join("exchanges"),
        work_root,
    };
    let results = {
        let _turn = crate::client_grading::GRADINGS
            .acquire()
            .await
            .expect("never closed");
        grade(&options, |_| {}).await.unwrap().results
    };
    crate::client_grading::keep_for_report(sdk, provider, &results);
    let mut got: Outcome = builtin()
        .into_iter()
        .map(|s| (s.name, Vec::new()))
        .collect();
    let mut why = String::new();
    for r in &results.results {
        if r.status == Status::Failed {
            let scenario = r.scenario.clone().unwrap();
            why.push_str(&format!(
                "{scenario} {}: {}\n",
                r.check,
                r.detail.clone().unwrap_or_default()
            ));
            got.entry(scenario).or_default().push(r.check.clone());
        }
    }
    for run in &results.client_runs {
        why.push_str(&format!(
            "--- {} (exit {:?}):\n{}\n",
            run.scenario,
            run.exit_code,
            run.output_tail.join("\n")
        ));
    }
    (got, why)
}

fn script(name: &str) -> String {
    sdk_env::workspace()
        .join("conformance/sdk/grade")
        .join(name)
        .display()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn novita_sdk_js_polls_on_a_fixed_clock_never_gives_up_and_hides_failures() {
    if let Some(why) = node_missing() {
        return skip(&why);
    }
    let (got, why) = graded(
        "novita-sdk",
        Provider::named("novita"),
        vec![
            sdk_env::node().display().to_string(),
            script("novita_sdk_job.mjs"),
        ],
    )
    .await;
    // The README's loop polls every 1000 ms whatever the eta says, logs a failure and exits 0,
    // only logs the image URLs (so no job completes), rejects on a 429 create, and has no limit.
    let expected = outcome(&[
        ("happy", &["job_completed"]),
        ("slow-queue", &["poll_pacing", "job_completed"]),
        ("job-fails", &["failure_surfaced"]),
        ("rate-limited", &["job_completed"]),
        ("flaky-polls", &["job_completed"]),
        ("short-ttl", &["downloads_in_time", "job_completed"]),
        ("stuck", &["gives_up"]),
    ]);
    assert_eq!(got, expected, "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn novita_client_python_ignores_the_eta_returns_failures_and_polls_150_s() {
    if let Some(why) = python_missing("novita_client") {
        return skip(&why);
    }
    let (got, why) = graded(
        "novita-client",
        Provider::named("novita"),
        vec![
            sdk_env::python().display().to_string(),
            script("novita_client_job.py"),
        ],
    )
    .await;
    assert!(
        spec_accepts_captured(Provider::named("novita"), "novita-client"),
        "the spec accepts every request novita-client sent to the capture server (its accepting reading)"
    );
    // Polls every 0.5 s whatever the eta says; a failed task comes back without an exception;
    // a 429 create and a 503 poll raise, so those jobs never complete; `wait_for_task_v3` gives
    // up after 300 polls (150 s), past the bound.
    let expected = outcome(&[
        ("slow-queue", &["poll_pacing"]),
        ("job-fails", &["failure_surfaced"]),
        ("rate-limited", &["job_completed"]),
        ("flaky-polls", &["job_completed"]),
        ("stuck", &["gives_up"]),
    ]);
    assert_eq!(got, expected, "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn modelslab_py_fetches_at_once_and_keeps_fetching_a_failed_job() {
    if let Some(why) = python_missing("modelslab_py") {
        return skip(&why);
    }
    let (got, why) = graded(
        "modelslab-py",
        Provider::named("modelslab"),
        vec![
            sdk_env::python().display().to_string(),
            script("modelslab_py_job.py"),
        ],
    )
    .await;
    assert!(
        spec_accepts_captured(Provider::named("modelslab"), "modelslab-py"),
        "the spec accepts every request modelslab-py sent to the capture server (its accepting reading)"
    );
    // `fetch` posts at once whatever the create's eta says, keeps fetching after `failed`
    // until its retries run out and then returns without raising, never downloads (so no job
    // completes), and raises on a 429 create and a 503 fetch.
    let expected = outcome(&[
        ("happy", &["job_completed"]),
        ("slow-queue", &["poll_pacing", "job_completed"]),
        (
            "job-fails",
            &["poll_pacing", "stops_at_terminal", "failure_surfaced"],
        ),
        ("rate-limited", &["job_completed"]),
        ("flaky-polls", &["poll_pacing", "job_completed"]),
        ("short-ttl", &["downloads_in_time", "job_completed"]),
        ("stuck", &["gives_up"]),
    ]);
    assert_eq!(got, expected, "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn gptproto_sdk_raises_on_any_undocumented_status_and_waits_600_s() {
    if let Some(why) = python_missing("gptproto") {
        return skip(&why);
    }
    let (got, why) = graded(
        "gptproto",
        Provider::named("gptproto"),
        vec![
            sdk_env::python().display().to_string(),
            script("gptproto_job.py"),
        ],
    )
    .await;
    assert!(
        spec_accepts_captured(Provider::named("gptproto"), "gptproto"),
        "the spec accepts every request the gptproto SDK sent to the capture server (its accepting reading)"
    );
    // `run` polls every 3 s (no eta to read), raises `TaskFailedError` with the reason on a failed
    // task, raises on any status its generated code does not parse (a 429 create, a 503 poll:
    // "unexpected empty response"), never downloads (so no job completes), and waits 600 s on a
    // stuck task, past the bound.
    let expected = outcome(&[
        ("happy", &["job_completed"]),
        ("slow-queue", &["job_completed"]),
        ("rate-limited", &["job_completed"]),
        ("flaky-polls", &["job_completed"]),
        ("short-ttl", &["downloads_in_time", "job_completed"]),
        ("stuck", &["gives_up"]),
    ]);
    assert_eq!(got, expected, "{why}");
    // The grader reads the unified family by its own pointers and words: it saw the task
    // complete with an image, which the SDK never fetched.
    assert!(
        why.lines()
            .any(|l| l.starts_with("happy job_completed") && l.contains("was never downloaded")),
        "{why}"
    );
}
