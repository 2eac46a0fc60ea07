//! The harness against the emulators: every check passes against faithful emulators, and each
//! check fails when the emulator breaks the promise it checks (a deliberate defect or a fault).

use std::time::Duration;

use img2img_emulator::{Config, Defects, Fault, FaultRule};
use img2img_harness::{CheckId, Polling, RunOptions, run};
use img2img_report::results::{CheckResult, Status};
use img2img_specs::{Provider, Spec};

async fn run_one(provider: Provider, checks: Vec<CheckId>, emulator: Config) -> Vec<CheckResult> {
    let options = RunOptions {
        providers: vec![provider],
        checks,
        cases: 8,
        seed: 20261122,
        emulator,
        polling: Some(polling(Duration::from_secs(3))),
        max_shrink_iters: Some(24),
        ..RunOptions::default()
    };
    run(&options, |_| {}).await.expect("the run starts").results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_against_the_faithful_emulators() {
    let mut report = Vec::new();
    for provider in Provider::ALL {
        for result in run_one(provider, CheckId::ALL.to_vec(), Config::default()).await {
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
        CheckId::JobLifecycle => defects.wrong_image_size = true,
        CheckId::SeedDeterminism => defects.ignore_seed = true,
        CheckId::ResponseSchema => defects.break_response_schema = true,
        CheckId::DocumentedStatus => defects.undocumented_status = true,
        CheckId::ContentType => defects.wrong_content_type = true,
    }
    Config {
        defects,
        faults,
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_check_fails_against_an_emulator_that_breaks_its_promise() {
    let mut report = Vec::new();
    for provider in Provider::ALL {
        for check in CheckId::ALL {
            let results = run_one(provider, vec![check], broken(check, provider)).await;
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
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_jobs_fail_the_lifecycle_at_the_deadline() {
    for provider in Provider::ALL {
        let config = Config {
            defects: Defects {
                stall_jobs: true,
                ..Defects::default()
            },
            ..Config::default()
        };
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_carry_the_minimal_request_and_the_response() {
    let results = run_one(
        Provider::Novita,
        vec![CheckId::NegativeRejection],
        broken(CheckId::NegativeRejection, Provider::Novita),
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
