//! A live run recorded through the proxy replays, with no network, to the same results; no key
//! reaches a cassette or a report.

use std::path::PathBuf;
use std::time::Duration;

use img2img_emulator::{Config, Emulator};
use img2img_harness::cassette::{Given, Recording};
use img2img_harness::output::write_all;
use img2img_harness::{Polling, RunOptions, Target, run};
use img2img_report::results::Status;
use img2img_specs::{ApiKey, Provider};

use crate::scratch::scratch;

const SECRET: &str = "sk-live-SECRET-7f3a9c";

fn files_under(dir: &PathBuf) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_run_replays_to_the_same_results_and_keeps_no_key() {
    let key = ApiKey::new(SECRET);
    let emulator = Emulator::start(
        &Provider::all().collect::<Vec<_>>(),
        Config {
            api_keys: vec![key.clone()],
            ..Config::default()
        },
    )
    .await
    .unwrap();
    let (_cassettes_guard, cassettes) = scratch("cassettes");
    let polling = Polling {
        deadline: Duration::from_secs(30),
        initial: Duration::from_millis(2),
        max: Duration::from_millis(50),
    };
    let live = RunOptions {
        target: Target::Live {
            base_url: Some(emulator.base_url()),
            record: Some(cassettes.clone()),
        },
        keys: Provider::all().map(|p| (p, key.clone())).collect(),
        cases: 6,
        seed: 4242,
        max_requests: 100_000,
        polling: Some(polling.clone()),
        ..RunOptions::default()
    };
    let recorded = run(&live, |_| {}).await.unwrap();
    emulator.shutdown().await;
    assert!(
        recorded.passed(),
        "the recorded run failed: {:#?}",
        recorded
            .results
            .iter()
            .filter(|r| r.status != Status::Passed)
            .collect::<Vec<_>>()
    );

    let mut replay = RunOptions {
        target: Target::Replay(cassettes.clone()),
        polling: Some(polling),
        ..RunOptions::default()
    };
    // What `conformance --replay DIR` does: the recording says what to run.
    Recording::load(&cassettes)
        .unwrap()
        .apply(&mut replay, &Given::default())
        .unwrap();
    assert_eq!((replay.seed, replay.cases), (4242, 6));
    let replayed = run(&replay, |_| {}).await.unwrap();
    let summary = |r: &img2img_report::results::RunResults| {
        r.results
            .iter()
            .map(|c| (c.provider.clone(), c.check.clone(), c.status, c.cases))
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&recorded), summary(&replayed));

    let (_reports_guard, reports) = scratch("reports");
    write_all(&recorded, &reports).unwrap();
    write_all(&replayed, &reports.join("replayed")).unwrap();
    let mut checked = 0;
    for file in files_under(&cassettes)
        .into_iter()
        .chain(files_under(&reports))
        .filter(|p| p.is_file())
    {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains(SECRET),
            "the key leaked into {}",
            file.display()
        );
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} files checked");
    let novita = std::fs::read_to_string(cassettes.join("novita.json")).unwrap();
    assert!(
        novita.contains("[redacted]") || !novita.contains("Bearer"),
        "novita cassette: no redaction marker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_runs_without_a_key_are_skipped_not_failed() {
    let options = RunOptions {
        target: Target::Live {
            base_url: Some("http://127.0.0.1:9".into()),
            record: None,
        },
        providers: vec![Provider::named("modelslab")],
        ..RunOptions::default()
    };
    // MODELSLAB_API_KEY is not set in tests; if a developer has one, this test says so.
    if std::env::var_os("MODELSLAB_API_KEY").is_some() {
        eprintln!("MODELSLAB_API_KEY is set: skipping the no-key test");
        return;
    }
    let results = run(&options, |_| {}).await.unwrap();
    assert!(
        results.results.iter().all(|r| r.status == Status::Skipped),
        "{results:#?}"
    );
    assert!(results.passed());
    assert!(
        results.results[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("MODELSLAB_API_KEY")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_budget_stops_a_live_run() {
    let key = ApiKey::new(SECRET);
    let emulator = Emulator::start(
        &[Provider::named("novita")],
        Config {
            api_keys: vec![key.clone()],
            ..Config::default()
        },
    )
    .await
    .unwrap();
    let options = RunOptions {
        target: Target::Live {
            base_url: Some(emulator.base_url()),
            record: None,
        },
        providers: vec![Provider::named("novita")],
        keys: vec![(Provider::named("novita"), key)],
        max_requests: 5,
        cases: 32,
        ..RunOptions::default()
    };
    let results = run(&options, |_| {}).await.unwrap();
    let sent: u32 = results.results.iter().map(|r| r.requests).sum();
    assert!(sent <= 5, "{sent} requests sent with a budget of 5");
    assert!(results.results.iter().any(|r| r.status == Status::Skipped
        && r.detail.as_deref().is_some_and(|d| d.contains("budget"))));
    emulator.shutdown().await;
}

/// A recording made with a budget too small for every check: each check it could not pay for is
/// skipped with the reason (none fails), and `conformance --replay DIR`, with no other flag,
/// replays the same providers, checks, seed and cases to the same results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_replays_with_no_other_flag_and_a_small_budget_skips() {
    let key = ApiKey::new(SECRET);
    let emulator = Emulator::start(
        &[Provider::named("novita")],
        Config {
            api_keys: vec![key.clone()],
            ..Config::default()
        },
    )
    .await
    .unwrap();
    let (_cassettes_guard, cassettes) = scratch("cassettes-budget");
    let live = RunOptions {
        target: Target::Live {
            base_url: Some(emulator.base_url()),
            record: Some(cassettes.clone()),
        },
        providers: vec![Provider::named("novita")],
        keys: vec![(Provider::named("novita"), key)],
        cases: 8,
        seed: 77,
        max_requests: 40,
        polling: Some(Polling {
            deadline: Duration::from_secs(30),
            initial: Duration::from_millis(2),
            max: Duration::from_millis(50),
        }),
        ..RunOptions::default()
    };
    let recorded = run(&live, |_| {}).await.unwrap();
    emulator.shutdown().await;
    let statuses = |r: &img2img_report::results::RunResults| {
        r.results
            .iter()
            .map(|c| (c.check.clone(), c.status, c.cases))
            .collect::<Vec<_>>()
    };
    assert!(
        recorded.results.iter().all(|r| r.status != Status::Failed),
        "{:#?}",
        recorded.results
    );
    let skipped: Vec<_> = recorded
        .results
        .iter()
        .filter(|r| r.status == Status::Skipped)
        .collect();
    assert!(!skipped.is_empty(), "a budget of 40 pays for every check?");
    for result in skipped {
        let why = result.detail.as_deref().unwrap_or_default();
        assert!(why.contains("budget"), "{}: {why}", result.check);
    }
    let sent: u32 = recorded.results.iter().map(|r| r.requests).sum();
    assert!(sent <= 40, "{sent} requests with a budget of 40");

    let (_out_guard, out) = scratch("replayed-budget");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_conformance"))
        .arg("--replay")
        .arg(&cassettes)
        .arg("--out")
        .arg(&out)
        .args(["--progress", "quiet"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let replayed: img2img_report::results::RunResults =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(replayed.seed, 77);
    assert_eq!(statuses(&recorded), statuses(&replayed));

    // A flag that disagrees with the recording is refused, naming the recorded value.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_conformance"))
        .arg("--replay")
        .arg(&cassettes)
        .args(["--seed", "5", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("recorded with --seed 77, not 5"),
        "{stderr}"
    );
}
