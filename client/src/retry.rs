//! When a failed call is tried again, and the `tracing` span every attempt runs in.
//!
//! | call | retried on |
//! | --- | --- |
//! | create (paid) | a connection that failed before the request was sent; HTTP 429 |
//! | poll, fetch, image download | HTTP 429, 5xx, any transport error, a body with an unknown status |
//!
//! A wait honours the server's `Retry-After` / `retry_after`, otherwise it is exponential with
//! jitter. The crate docs say why a create is never retried after it may have been sent.

use std::future::Future;
use std::time::Duration;

use img2img_specs::Provider;
use tokio::time::Instant;
use tracing::Instrument;

use crate::errors::{Error, TransportStage};
use crate::poll::jittered;

/// What a call does, which decides whether it may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// The paid create call: repeated only when it certainly was not accepted.
    Create,
    /// A poll or fetch of the result: free and idempotent.
    Poll,
    /// An image download: idempotent.
    Download,
}

/// How failed calls are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The first wait when the server names none.
    pub base: Duration,
    /// The longest wait when the server names none.
    pub max_delay: Duration,
    /// The jitter fraction of those waits.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Whether `error` of a `kind` call may be retried.
    pub fn is_retryable(kind: CallKind, error: &Error) -> bool {
        match (kind, error) {
            (_, Error::RateLimited { .. }) => true,
            (
                CallKind::Create,
                Error::Transport {
                    stage: TransportStage::Connect,
                    ..
                },
            ) => true,
            (CallKind::Create, _) => false,
            (_, Error::Server { .. } | Error::Transport { .. }) => true,
            (_, Error::UnexpectedBody { status, .. }) => {
                status.is_none_or(|s| s == 429 || s >= 500)
            }
            _ => false,
        }
    }

    /// The wait before attempt `attempt + 1` after `error`: the server's wish, else exponential.
    pub fn delay(&self, attempt: u32, error: &Error, rng: &mut fastrand::Rng) -> Duration {
        if let Error::RateLimited {
            retry_after: Some(wait),
            ..
        } = error
        {
            return *wait;
        }
        let exponential = self.base.as_secs_f64() * 2f64.powi(attempt.min(30) as i32);
        let capped = exponential.min(self.max_delay.as_secs_f64());
        Duration::from_secs_f64(jittered(capped, self.jitter, rng))
    }
}

/// What one attempt reports to its span: the HTTP status of a success.
pub(crate) type Attempt<T> = Result<(u16, T), Error>;

/// Runs `call` until it succeeds, fails for good, runs out of attempts, or the next wait would end
/// after `until` (then it sleeps until `until` and returns the last error). Each attempt runs in a `request` span with `provider`, `operation`, `attempt`,
/// `status` and `latency_ms`.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    kind: CallKind,
    provider: Provider,
    operation: &'static str,
    until: Option<Instant>,
    rng: &mut fastrand::Rng,
    mut call: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let span = tracing::info_span!(
            "request",
            provider = provider.id(),
            operation,
            attempt,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = call().instrument(span.clone()).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        span.record("latency_ms", latency_ms);
        let error = match result {
            Ok((status, value)) => {
                span.record("status", status);
                span.in_scope(|| {
                    tracing::info!(
                        provider = provider.id(),
                        operation,
                        attempt,
                        status,
                        latency_ms,
                        "response"
                    )
                });
                return Ok(value);
            }
            Err(error) => error,
        };
        let status = status_of(&error);
        if let Some(status) = status {
            span.record("status", status);
        }
        let retry = attempt < policy.max_attempts.max(1) && RetryPolicy::is_retryable(kind, &error);
        let wait = retry.then(|| policy.delay(attempt - 1, &error, rng));
        let in_time = match (wait, until) {
            (Some(wait), Some(until)) => Instant::now() + wait <= until,
            _ => true,
        };
        span.in_scope(|| {
            tracing::warn!(
                provider = provider.id(),
                operation,
                attempt,
                status,
                error = %error,
                kind = error.kind(),
                latency_ms,
                retry_in_ms = wait.filter(|_| in_time).map(|w| w.as_millis() as u64),
                "request failed"
            )
        });
        match (wait, until) {
            (Some(wait), _) if in_time => tokio::time::sleep(wait).await,
            // Retrying would cross the caller's deadline: stop at the deadline, not before, so
            // the caller reports the deadline rather than a transient failure.
            (Some(_), Some(until)) => {
                tokio::time::sleep_until(until).await;
                return Err(error);
            }
            _ => return Err(error),
        }
    }
}

/// The HTTP status an error carries itself. Other errors leave the status to the attempt's span,
/// where the call that read the answer recorded it: an error's kind never stands for a status
/// (a 403 may read as a bad key, a ModelsLab 200 as a rate limit).
fn status_of(error: &Error) -> Option<u16> {
    match error {
        Error::Server { status, .. } => Some(*status),
        Error::UnexpectedBody { status, .. } => *status,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(stage: TransportStage) -> Error {
        Error::Transport {
            stage,
            message: "x".into(),
        }
    }

    #[test]
    fn a_create_is_retried_only_when_it_certainly_was_not_accepted() {
        let cases = [
            (transport(TransportStage::Connect), true),
            (transport(TransportStage::AfterSend), false),
            (transport(TransportStage::Body), false),
            (
                Error::RateLimited {
                    retry_after: None,
                    message: "slow down".into(),
                },
                true,
            ),
            (
                Error::Server {
                    status: 503,
                    message: "busy".into(),
                },
                false,
            ),
            (
                Error::UnexpectedBody {
                    status: None,
                    snippet: "<html>".into(),
                },
                false,
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(
                RetryPolicy::is_retryable(CallKind::Create, &error),
                expected,
                "{error}"
            );
        }
    }

    #[test]
    fn polls_and_downloads_retry_transient_failures() {
        for kind in [CallKind::Poll, CallKind::Download] {
            for error in [
                transport(TransportStage::AfterSend),
                Error::Server {
                    status: 502,
                    message: String::new(),
                },
                Error::UnexpectedBody {
                    status: Some(503),
                    snippet: String::new(),
                },
            ] {
                assert!(RetryPolicy::is_retryable(kind, &error), "{kind:?} {error}");
            }
            assert!(!RetryPolicy::is_retryable(
                kind,
                &Error::Unauthorized {
                    message: String::new()
                }
            ));
        }
    }

    #[test]
    fn the_server_wait_wins_over_the_backoff() {
        let policy = RetryPolicy::default();
        let mut rng = fastrand::Rng::with_seed(1);
        let error = Error::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
            message: String::new(),
        };
        assert_eq!(policy.delay(0, &error, &mut rng), Duration::from_secs(30));
        let other = transport(TransportStage::Connect);
        let wait = policy.delay(3, &other, &mut rng);
        assert!(wait >= Duration::from_secs_f64(3.2) && wait <= Duration::from_secs_f64(4.8));
    }
}
