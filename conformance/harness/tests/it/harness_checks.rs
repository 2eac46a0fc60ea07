//! The harness against the emulators: every check passes against faithful emulators, and each
//! check fails when the emulator breaks the promise it checks (a deliberate defect or a fault).

use std::time::Duration;

use futures::StreamExt;
use img2img_emulator::{AnswerStyle, Config, Defects, Fault, FaultRule};
use img2img_harness::{CheckId, Polling, RunOptions, run};
use img2img_report::results::{CheckResult, Status};
use img2img_specs::{Provider, Spec};

/// Harness runs going at once in one test (each against its own emulator).
const PARALLEL_RUNS: usize = 6;

async fn run_one(provider: Provider, checks: Vec<CheckId>, emulator: Config) -> Vec<CheckResult> {
    let options = RunOptions {
        providers: vec![provider],
        checks,
        cases: 8,
        seed: 20261122,
        emulator,
        polling: Some(polling(Duration::from_secs(30))),
        max_shrink_iters: Some(24),
        // The expiry check waits out the TTL: the shortest the sweeper (once a second) tells.
        job_ttl: Some(Duration::from_secs(1)),
        ..RunOptions::default()
    };
    run(&options, |_| {}).await.expect("the run starts").results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_against_the_faithful_emulators() {
    // The providers' runs go at once (each has its own emulator; the expiry check of each
    // waits out the job TTL).
    let runs = futures::future::join_all(
        Provider::all().map(|provider| run_one(provider, CheckId::ALL.to_vec(), Config::default())),
    )
    .await;
    let mut report = Vec::new();
    for results in runs {
        for result in results {
            if result.status != Status::Passed {
                report.push(format!(
                    "{} {}: {:?} {:?} {:?}",
                    result.provider, result.check, result.status, result.detail, result.failure
                ));
            }
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// Whether `provider`'s create body has a size (or width) setting.
fn asks_a_size(provider: Provider) -> bool {
    let spec = Spec::embedded(provider);
    let create = &spec.extensions().job.create;
    [img2img_specs::Feature::Size, img2img_specs::Feature::Width]
        .into_iter()
        .any(|f| spec.feature(create, f).is_some())
}

/// A configuration breaking the promise `check` checks.
fn broken(check: CheckId, provider: Provider) -> Config {
    let mut defects = Defects::default();
    let mut faults = Vec::new();
    match check {
        CheckId::PositiveAcceptance => faults.push(FaultRule {
            operation: Some(Spec::embedded(provider).extensions().job.create.clone()),
            every_nth: 1,
            times: None,
            fault: Fault::Status(500),
        }),
        CheckId::NegativeRejection | CheckId::ClientServerAgreement => {
            defects.skip_validation = true
        }
        CheckId::AuthEnforcement => defects.skip_auth = true,
        // A spec whose requests fix no size (BFL: the input's aspect ratio) cannot see a wrong
        // size; a status word it does not list breaks the lifecycle there.
        CheckId::JobLifecycle if asks_a_size(provider) => defects.wrong_image_size = true,
        CheckId::JobLifecycle => defects.unlisted_status = true,
        CheckId::SeedDeterminism => defects.ignore_seed = true,
        CheckId::ResponseSchema => defects.break_response_schema = true,
        CheckId::DocumentedStatus => defects.undocumented_status = true,
        CheckId::ContentType => defects.wrong_content_type = true,
        CheckId::ServerErrors => faults.push(FaultRule {
            operation: Some(Spec::embedded(provider).extensions().job.result.clone()),
            every_nth: 1,
            fault: Fault::Status(500),
            times: None,
        }),
        CheckId::CreatedJobRetrievable => defects.forget_jobs = true,
        CheckId::UnknownIdNotFound => defects.not_found_as_bad_request = true,
        CheckId::ExpiredIdNotFound => defects.keep_expired_jobs = true,
        CheckId::UnsupportedMethod => defects.method_not_allowed_as_not_found = true,
    }
    Config {
        defects,
        faults,
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_check_fails_against_an_emulator_that_breaks_its_promise() {
    let pairs: Vec<(Provider, CheckId)> = Provider::all()
        .flat_map(|provider| CheckId::ALL.into_iter().map(move |check| (provider, check)))
        .collect();
    // Several runs at once, each with its own emulator: most of a run's time is the expiry
    // check waiting out the job TTL, or polling.
    let runs: Vec<_> = futures::stream::iter(
        pairs
            .iter()
            .map(|&(provider, check)| run_one(provider, vec![check], broken(check, provider))),
    )
    .buffered(PARALLEL_RUNS)
    .collect()
    .await;
    let mut report = Vec::new();
    for (&(provider, check), results) in pairs.iter().zip(runs) {
        let result = &results[0];
        let failure = result.failure.as_ref();
        if result.status != Status::Failed || failure.is_none_or(|f| f.message.is_empty()) {
            report.push(format!(
                "{provider} {}: expected a failure, got {:?} ({:?})",
                check.id(),
                result.status,
                result.detail
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_jobs_fail_the_lifecycle_at_the_deadline() {
    // The providers' runs go at once: each waits out its polling deadline.
    futures::future::join_all(Provider::all().map(stalled_job_fails)).await;
}

async fn stalled_job_fails(provider: Provider) {
    // Answered queued at once: a provider that may answer a create synchronously would hold a
    // stalled job's create for its sync grace (ModelsLab: 5 s) before saying "processing".
    let config = Config {
        defects: Defects {
            stall_jobs: true,
            ..Defects::default()
        },
        ..Config::default()
    }
    .with_answer_style(provider, AnswerStyle::Queued);
    let options = RunOptions {
        providers: vec![provider],
        checks: vec![CheckId::JobLifecycle],
        cases: 1,
        seed: 1,
        emulator: config,
        polling: Some(polling(Duration::from_millis(500))),
        max_shrink_iters: Some(2),
        ..RunOptions::default()
    };
    let results = run(&options, |_| {}).await.unwrap().results;
    assert_eq!(
        results[0].status,
        Status::Failed,
        "{provider}: {:?}",
        results[0]
    );
    let message = &results[0].failure.as_ref().unwrap().message;
    assert!(
        message.contains("did not reach a terminal status"),
        "{provider}: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_carry_the_minimal_request_and_the_response() {
    let results = run_one(
        Provider::named("novita"),
        vec![CheckId::NegativeRejection],
        broken(CheckId::NegativeRejection, Provider::named("novita")),
    )
    .await;
    let failure = results[0].failure.as_ref().expect("a failure");
    assert!(failure.request.is_some(), "{failure:?}");
    let response = failure.response.as_ref().expect("the response is recorded");
    assert!((200..300).contains(&response.status), "{response:?}");
}

fn polling(deadline: Duration) -> Polling {
    Polling {
        deadline,
        initial: Duration::from_millis(2),
        max: Duration::from_millis(50),
    }
}

/// Live-like polling: seconds between polls and a ten-minute deadline per job, so a harness that
/// waited on a status it does not know would sit there (the run's `max_time` ends such a wait
/// as a "cut short" failure, which the tests below tell apart from the fail-fast one).
fn patient_polling() -> Polling {
    Polling {
        deadline: Duration::from_secs(600),
        initial: Duration::from_secs(1),
        max: Duration::from_secs(2),
    }
}

fn unlisted_status() -> Config {
    Config {
        defects: Defects {
            unlisted_status: true,
            ..Defects::default()
        },
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_outside_the_spec_ends_the_job_at_the_first_answer() {
    // The schema check reports the word where the status is a closed `enum`; GPTProto's status
    // words are an open set (its docs), so any word fits its schema and only the lifecycle check,
    // which reads `x-job`'s lists, reports it.
    let unlisted = [
        (Provider::named("gptproto"), "\"done\"", Status::Passed),
        (
            Provider::named("novita"),
            "\"TASK_STATUS_DONE\"",
            Status::Failed,
        ),
        (Provider::named("modelslab"), "\"done\"", Status::Failed),
    ];
    for (provider, word, schema_verdict) in unlisted {
        let options = RunOptions {
            providers: vec![provider],
            checks: vec![CheckId::JobLifecycle, CheckId::ResponseSchema],
            cases: 1,
            seed: 1,
            emulator: unlisted_status(),
            polling: Some(patient_polling()),
            max_shrink_iters: Some(0),
            max_time: Some(Duration::from_secs(300)),
            ..RunOptions::default()
        };
        let results = run(&options, |_| {}).await.unwrap().results;
        let lifecycle = &results[0];
        assert_eq!(
            lifecycle.status,
            Status::Failed,
            "{provider}: {lifecycle:?}"
        );
        let message = &lifecycle.failure.as_ref().unwrap().message;
        let allowed = &Spec::embedded(provider).extensions().job.succeeded[0];
        assert!(
            message.contains(word) && message.contains(allowed.as_str()),
            "{provider}: the failure names neither the status nor what the spec allows: {message}"
        );
        // Create, a poll, at most one more if the job was still running: the first unlisted
        // answer ends it (with a poll a second, the ten-minute job deadline would mean hundreds).
        assert!(
            lifecycle.requests <= 3,
            "{provider}: {} requests before failing",
            lifecycle.requests
        );
        assert_eq!(
            results[1].status, schema_verdict,
            "{provider}: response_schema: {:?}",
            results[1]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_target_answering_an_unlisted_status_fails_fast() {
    // The case: `--target live --provider novita` against a server that says
    // TASK_STATUS_DONE, with the live polling defaults (2 s to 20 s, 600 s per job).
    let key = img2img_specs::ApiKey::new("sk-live-like");
    let emulator = img2img_emulator::Emulator::start(
        &[Provider::named("novita")],
        Config {
            api_keys: vec![key.clone()],
            ..unlisted_status()
        },
    )
    .await
    .unwrap();
    let options = RunOptions {
        target: img2img_harness::Target::Live {
            base_url: Some(emulator.base_url()),
            record: None,
        },
        providers: vec![Provider::named("novita")],
        keys: vec![(Provider::named("novita"), key)],
        checks: vec![CheckId::JobLifecycle],
        cases: 40,
        seed: 1,
        // One shrink step: it fails as fast as the first case (each costs the first poll's 2 s).
        max_shrink_iters: Some(1),
        max_time: Some(Duration::from_secs(300)),
        ..RunOptions::default()
    };
    let results = run(&options, |_| {}).await.unwrap().results;
    emulator.shutdown().await;
    let result = &results[0];
    assert_eq!(result.status, Status::Failed, "{result:?}");
    let message = &result.failure.as_ref().unwrap().message;
    assert!(
        message.contains("TASK_STATUS_DONE") && message.contains("is not one the spec allows"),
        "{message}"
    );
    // A create and one poll for the failing case and for the shrink step.
    assert!(result.requests <= 4, "{} requests", result.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_cut_short_fails_with_the_reason_and_the_outputs_are_written() {
    let options = RunOptions {
        providers: vec![Provider::named("novita")],
        checks: vec![CheckId::JobLifecycle, CheckId::SeedDeterminism],
        cases: 1,
        seed: 1,
        emulator: Config {
            defects: Defects {
                stall_jobs: true,
                ..Defects::default()
            },
            ..Config::default()
        },
        polling: Some(patient_polling()),
        max_shrink_iters: Some(0),
        check_timeout: Some(Duration::from_secs(1)),
        ..RunOptions::default()
    };
    let results = run(&options, |_| {}).await.unwrap();
    for result in &results.results {
        assert_eq!(result.status, Status::Failed, "{result:?}");
        let message = &result.failure.as_ref().unwrap().message;
        assert!(message.contains("cut short"), "{message}");
    }
    let guard = tempfile::Builder::new()
        .prefix("conformance-cut-short-")
        .tempdir()
        .unwrap();
    let dir = guard.path().join("out");
    let written = img2img_harness::output::write_all(&results, &dir).unwrap();
    for name in ["results.json", "junit.xml", "summary.md"] {
        let path = dir.join(name);
        assert!(written.contains(&path.display().to_string()), "{written:?}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("cut short"),
            "{name} does not say why: {text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_stops_at_max_time_and_reports_the_checks_it_did_not_start() {
    let options = RunOptions {
        providers: vec![Provider::named("gptproto")],
        checks: vec![CheckId::JobLifecycle, CheckId::PositiveAcceptance],
        cases: 1,
        seed: 1,
        emulator: Config {
            defects: Defects {
                stall_jobs: true,
                ..Defects::default()
            },
            ..Config::default()
        },
        polling: Some(patient_polling()),
        max_shrink_iters: Some(0),
        max_time: Some(Duration::from_secs(1)),
        ..RunOptions::default()
    };
    let results = run(&options, |_| {}).await.unwrap().results;
    let messages: Vec<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, Status::Failed, "{r:?}");
            r.failure.as_ref().unwrap().message.clone()
        })
        .collect();
    assert!(messages[0].contains("cut short"), "{}", messages[0]);
    assert!(
        messages[1].contains("not started") && messages[1].contains("--max-time of 1 s"),
        "{}",
        messages[1]
    );
}
