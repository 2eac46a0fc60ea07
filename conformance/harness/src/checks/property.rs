//! Runs a property over a proptest strategy where each case talks HTTP: deterministic per run seed,
//! shrinking to a minimal case, keeping the failing exchange of that minimal case.

use std::sync::{Arc, Mutex};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use super::{Context, Verdict};
use img2img_report::results::Failure;

/// What one case came to.
pub(crate) enum CaseResult {
    /// The case held.
    Held,
    /// The case broke the property.
    Broke(Failure),
    /// The case could not run (budget spent); stops the check as skipped.
    Stop(String),
}

/// Runs `property` over `strategy` for the context's number of cases.
pub(crate) async fn run<S, F, Fut>(
    context: &Context,
    salt: &str,
    cases: u32,
    strategy: S,
    property: F,
) -> Verdict
where
    S: Strategy + Send + 'static,
    S::Value: Clone + Send + 'static,
    F: Fn(S::Value) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = CaseResult> + Send,
{
    let handle = tokio::runtime::Handle::current();
    let config = Config {
        cases,
        max_shrink_iters: context.max_shrink_iters,
        failure_persistence: None,
        max_global_rejects: 100_000,
        max_local_rejects: 100_000,
        ..Config::default()
    };
    let seed = seed_bytes(context.seed, salt, context.caller.provider.id());
    let last_failure: Arc<Mutex<Option<Failure>>> = Arc::new(Mutex::new(None));
    let stopped: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let cut: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let (last, stop, cut_short) = (
        Arc::clone(&last_failure),
        Arc::clone(&stopped),
        Arc::clone(&cut),
    );
    let deadline = context.deadline;
    let ran = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = Arc::clone(&ran);
    let outcome = tokio::task::spawn_blocking(move || {
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        runner.run(&strategy, |value| {
            if stop.lock().unwrap_or_else(|p| p.into_inner()).is_some()
                || cut_short.lock().unwrap_or_else(|p| p.into_inner()).is_some()
            {
                return Ok(());
            }
            let case = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let outcome = match deadline {
                Some(deadline) => handle
                    .block_on(tokio::time::timeout_at(deadline, property(value)))
                    .ok(),
                None => Some(handle.block_on(property(value))),
            };
            let Some(outcome) = outcome else {
                *cut_short.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!(
                    "cut short: the check's time bound (--check-timeout, --max-time) ran out during case {case}, which had not finished"
                ));
                return Ok(());
            };
            match outcome {
                CaseResult::Held => Ok(()),
                CaseResult::Broke(failure) => {
                    let message = failure.message.clone();
                    *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(failure);
                    Err(TestCaseError::fail(message))
                }
                CaseResult::Stop(reason) => {
                    *stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
                    Ok(())
                }
            }
        })
    })
    .await;
    let ran = ran.load(std::sync::atomic::Ordering::SeqCst);
    if let Some(reason) = stopped.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Verdict::Skipped(reason);
    }
    if let Some(reason) = cut.lock().unwrap_or_else(|p| p.into_inner()).take() {
        // A failure found before the cut is still the better report.
        if let Some(failure) = last_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Verdict::Failed {
                cases: ran,
                failure,
            };
        }
        return Verdict::Failed {
            cases: ran,
            failure: super::failure(reason, None),
        };
    }
    match outcome {
        Ok(Ok(())) => Verdict::Passed { cases },
        Ok(Err(TestError::Fail(reason, _))) => {
            let failure = last_failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or_else(|| super::failure(reason.to_string(), None));
            Verdict::Failed {
                cases: ran,
                failure,
            }
        }
        Ok(Err(TestError::Abort(reason))) => Verdict::Failed {
            cases: ran,
            failure: super::failure(format!("the strategy gave up: {reason}"), None),
        },
        Err(join) => Verdict::Failed {
            cases: ran,
            failure: super::failure(format!("the check panicked: {join}"), None),
        },
    }
}

/// 32 seed bytes from the run seed, the check and the provider, so checks draw independent cases
/// and the same run seed replays the same ones.
pub(crate) fn seed_bytes(seed: u64, salt: &str, provider: &str) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    for byte in salt.bytes().chain(provider.bytes()) {
        state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3);
    }
    for chunk in bytes.chunks_mut(8) {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    bytes
}
