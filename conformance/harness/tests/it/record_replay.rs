//! A live run recorded through the proxy replays, with no network, to the same results; no key
//! reaches a cassette or a report.

use std::path::PathBuf;
use std::time::Duration;

use img2img_emulator::{Config, Emulator};
use img2img_harness::output::write_all;
use img2img_harness::{Polling, RunOptions, Target, run};
use img2img_report::results::Status;
use img2img_specs::{ApiKey, Provider};

const SECRET: &str = "sk-live-SECRET-7f3a9c";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("img2img-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

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
    let cassettes = scratch("cassettes");
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

    let replay = RunOptions {
        target: Target::Replay(cassettes.clone()),
        cases: 6,
        seed: 4242,
        polling: Some(polling),
        ..RunOptions::default()
    };
    let replayed = run(&replay, |_| {}).await.unwrap();
    let summary = |r: &img2img_report::results::RunResults| {
        r.results
            .iter()
            .map(|c| (c.provider.clone(), c.check.clone(), c.status, c.cases))
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&recorded), summary(&replayed));

    let reports = scratch("reports");
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
