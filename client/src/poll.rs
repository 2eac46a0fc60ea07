//! How `wait` spaces its polls: exponential backoff with jitter, the provider's eta hint when it
//! gives one, and an overall deadline. Which statuses end a job is read from the spec's `x-job`
//! (`JobInfo::classify`: `pending`, `succeeded`, `failed`), never from a list kept here.

use std::time::Duration;

use img2img_specs::extensions::JobInfo;
use img2img_specs::{Provider, Spec};
use serde_json::Value;

/// How `wait` polls.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// The first wait, and the shortest.
    pub initial: Duration,
    /// The longest wait between two polls.
    pub max: Duration,
    /// Each wait is the previous one times this (without an eta hint).
    pub multiplier: f64,
    /// Each wait is moved by up to this fraction, up or down (0.2 = ±20 %).
    pub jitter: f64,
    /// The whole wait gives up after this long.
    pub deadline: Duration,
    /// Seed of the jitter (tests); `None` seeds from the system.
    pub seed: Option<u64>,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(20),
            multiplier: 1.6,
            jitter: 0.2,
            deadline: Duration::from_secs(15 * 60),
            seed: None,
        }
    }
}

/// The waits of one `wait` call.
#[derive(Debug)]
pub struct Backoff {
    policy: PollPolicy,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    /// Starts a sequence of waits.
    pub fn new(policy: PollPolicy) -> Self {
        let rng = policy
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        Backoff {
            policy,
            attempt: 0,
            rng,
        }
    }

    /// The wait before the next poll. With an `eta` hint (the provider's estimate of the time
    /// left) the wait is that estimate, kept within `initial..=max`; without one it grows
    /// exponentially from `initial` to `max`. Either way, jitter is applied.
    pub fn next_delay(&mut self, eta: Option<Duration>) -> Duration {
        let exponential = self.policy.initial.as_secs_f64()
            * self
                .policy
                .multiplier
                .max(1.0)
                .powi(self.attempt.min(64) as i32);
        self.attempt += 1;
        let base = match eta.filter(|e| !e.is_zero()) {
            Some(eta) => eta.as_secs_f64(),
            None => exponential,
        };
        let base = base.clamp(
            self.policy.initial.as_secs_f64(),
            self.policy.max.as_secs_f64(),
        );
        Duration::from_secs_f64(jittered(base, self.policy.jitter, &mut self.rng))
    }
}

/// `base` moved by up to `fraction` up or down.
pub(crate) fn jittered(base: f64, fraction: f64, rng: &mut fastrand::Rng) -> f64 {
    let fraction = fraction.clamp(0.0, 1.0);
    let factor = 1.0 - fraction + 2.0 * fraction * rng.f64();
    (base * factor).max(0.0)
}

/// The spec's `x-job` of `provider`.
pub fn job_info(provider: Provider) -> &'static JobInfo {
    &Spec::embedded(provider).extensions().job
}

/// The eta hint of a result body, at `x-job.eta-pointer` of `job` (the answer's API family's
/// view, [`JobInfo::for_operation`]), in its `eta-unit`: a positive estimate, at most an hour.
pub fn eta_in(job: &JobInfo, body: &Value) -> Option<Duration> {
    job.eta_of(body)
        .filter(|eta| !eta.is_zero())
        .map(|eta| eta.min(Duration::from_secs(3600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_maximum_within_the_jitter() {
        let policy = PollPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(8),
            multiplier: 2.0,
            jitter: 0.25,
            seed: Some(7),
            ..PollPolicy::default()
        };
        let mut backoff = Backoff::new(policy);
        for expected in [1.0, 2.0, 4.0, 8.0, 8.0, 8.0] {
            let got = backoff.next_delay(None).as_secs_f64();
            assert!(
                got >= expected * 0.75 - 1e-9 && got <= expected * 1.25 + 1e-9,
                "{got} not within 25 % of {expected}"
            );
        }
    }

    #[test]
    fn an_eta_hint_replaces_the_exponential_wait_within_bounds() {
        let policy = PollPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
            jitter: 0.0,
            ..PollPolicy::default()
        };
        let mut backoff = Backoff::new(policy);
        assert_eq!(
            backoff.next_delay(Some(Duration::from_secs(4))),
            Duration::from_secs(4)
        );
        assert_eq!(
            backoff.next_delay(Some(Duration::from_secs(300))),
            Duration::from_secs(10)
        );
        assert_eq!(
            backoff.next_delay(Some(Duration::from_millis(10))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn ids_and_etas_are_read_at_the_spec_pointers() {
        for provider in Provider::all() {
            let job = job_info(provider);
            let mut body = Value::Null;
            put(&mut body, &job.id_pointer, serde_json::json!(13443928));
            assert_eq!(
                job_info(provider).id_of(&body).as_deref(),
                Some("13443928"),
                "{provider}"
            );
            put(&mut body, &job.id_pointer, serde_json::json!("t-1"));
            assert_eq!(
                job_info(provider).id_of(&body).as_deref(),
                Some("t-1"),
                "{provider}"
            );
            match &job.eta_pointer {
                Some(pointer) => {
                    put(&mut body, pointer, serde_json::json!(12.5));
                    let eta =
                        eta_in(job_info(provider), &body).expect("an eta where the spec says");
                    assert!(eta > Duration::ZERO && eta <= Duration::from_secs(3600));
                    put(&mut body, pointer, serde_json::json!(0));
                    assert_eq!(
                        eta_in(job_info(provider), &body),
                        None,
                        "a zero eta is no hint"
                    );
                }
                None => assert_eq!(eta_in(job_info(provider), &body), None),
            }
        }
    }

    /// Writes `value` at `pointer` in `body`, making objects on the way.
    fn put(body: &mut Value, pointer: &str, value: Value) {
        let mut node = body;
        for segment in pointer.split('/').skip(1) {
            if !node.is_object() {
                *node = Value::Object(serde_json::Map::new());
            }
            node = node
                .as_object_mut()
                .expect("an object")
                .entry(segment.to_owned())
                .or_insert(Value::Null);
        }
        *node = value;
    }
}
