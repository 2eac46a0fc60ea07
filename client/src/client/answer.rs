//! What a create answer and a poll answer say, read by the spec's `x-job` (id, status word, eta,
//! progress, outputs, failure, the URL to poll) and, where they are errors, by its `x-errors`.
//!
//! A 2xx answer can still be an error: a create answer without a job id, a result without a status
//! word that says something, or any answer whose status word is in `x-job.failed`. A failed word on
//! a create is the create's error (decided by `x-errors.decide-by`); on a poll it is the job's
//! failure, unless the words or a named field decide another error (the `reason` rule is left out
//! there: the status word is about the job, not about the poll).

use std::time::Duration;

use img2img_specs::extensions::{ErrorRule, JobInfo};
use img2img_specs::{JobStatus, Provider};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::errors::{self, Error, Scrub};
use crate::images::ImageSource;
use crate::poll::{self, job_info};

/// A 2xx answer of a generated client.
pub(crate) struct Answer {
    /// Its HTTP status.
    pub status: u16,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body, as the generated type serializes it.
    pub body: Value,
}

/// What a create call left to remember.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Created {
    /// The job id (empty for a job answered at once without one).
    pub id: String,
    /// The URL the answer asks to be polled at (`x-job.poll-url-pointer`).
    pub poll_url: Option<String>,
    /// Outputs the answer already holds (a job answered at once).
    pub ready_outputs: Vec<String>,
    /// The answer's estimate of the time left: the first poll waits for it.
    pub eta: Option<Duration>,
}

/// What one poll answer said: the state, and a new URL to poll at, if it gave one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Polled {
    /// The job's state.
    pub state: super::PollState,
    /// The URL the answer asks the next poll to go to (`x-job.poll-url-pointer`).
    pub poll_url: Option<String>,
}

/// The error a 2xx body that is one means by every rule of `decide-by`; one the rules cannot read
/// is an unexpected body.
fn error_in(provider: Provider, answer: &Answer, scrub: &Scrub) -> Error {
    let rules = errors::errors_of(provider).rules();
    errors::decided(
        provider,
        answer.status,
        &answer.headers,
        &answer.body,
        rules,
        scrub,
    )
    .unwrap_or_else(|| errors::unexpected(Some(answer.status), &answer.body, scrub))
}

/// Why a failed job failed: `x-job.failure-pointers` (of the answer's family), scrubbed.
fn failure(job: &JobInfo, body: &Value, scrub: &Scrub) -> Option<String> {
    job.failure_of(body).map(|reason| scrub.text(&reason))
}

/// Reads an answer of create operation `operation`, by `x-job` as its API family reads it.
pub(crate) fn created(
    provider: Provider,
    operation: &str,
    answer: &Answer,
    scrub: &Scrub,
) -> Result<Created, Error> {
    let job = &job_info(provider).for_operation(operation);
    let body = &answer.body;
    let word = job.status_of(body);
    match word.map(|w| job.classify(w)) {
        Some(JobStatus::Failed) => {
            let rules = errors::errors_of(provider).rules();
            let decided =
                errors::decided(provider, answer.status, &answer.headers, body, rules, scrub);
            Err(decided.unwrap_or_else(|| Error::TaskFailed {
                reason: failure(job, body, scrub)
                    .unwrap_or_else(|| format!("status {}", word.unwrap_or_default())),
            }))
        }
        Some(JobStatus::Succeeded) => Ok(Created {
            id: job.id_of(body).unwrap_or_default(),
            poll_url: None,
            ready_outputs: job.outputs_of(body),
            eta: None,
        }),
        _ => match job.id_of(body) {
            Some(id) => Ok(Created {
                id,
                poll_url: job.poll_url_of(body).map(str::to_owned),
                ready_outputs: Vec::new(),
                eta: poll::eta_in(job, body),
            }),
            None => Err(error_in(provider, answer, scrub)),
        },
    }
}

/// Reads an answer of result operation `operation`, by `x-job` as its API family reads it.
pub(crate) fn polled(
    provider: Provider,
    operation: &str,
    answer: &Answer,
    scrub: &Scrub,
) -> Result<Polled, Error> {
    let job = &job_info(provider).for_operation(operation);
    let body = &answer.body;
    let Some(word) = job.status_of(body) else {
        let says_something = errors::errors_of(provider)
            .read(answer.status, body)
            .says_anything();
        if says_something {
            return Err(error_in(provider, answer, scrub));
        }
        return Ok(pending(job, "unknown", JobStatus::Unknown, body));
    };
    let class = job.classify(word);
    let state = match class {
        JobStatus::Pending | JobStatus::Unknown => return Ok(pending(job, word, class, body)),
        JobStatus::Succeeded => super::PollState {
            status: word.to_owned(),
            class,
            eta: None,
            progress: None,
            outputs: job
                .outputs_of(body)
                .iter()
                .map(|o| ImageSource::from_output(o))
                .collect(),
            failure: None,
        },
        JobStatus::Failed => {
            let rules: Vec<ErrorRule> = errors::errors_of(provider)
                .rules()
                .iter()
                .copied()
                .filter(|rule| *rule != ErrorRule::Reason)
                .collect();
            let decided = errors::decided(
                provider,
                answer.status,
                &answer.headers,
                body,
                &rules,
                scrub,
            );
            let failure = match decided {
                Some(Error::TaskFailed { reason }) => Some(reason),
                Some(error) => return Err(error),
                None => failure(job, body, scrub),
            };
            super::PollState {
                status: word.to_owned(),
                class,
                eta: None,
                progress: None,
                outputs: Vec::new(),
                failure: failure.filter(|f| !f.trim().is_empty()),
            }
        }
    };
    Ok(Polled {
        state,
        poll_url: None,
    })
}

/// The state of a job still running (or whose word the spec does not list, which goes on until
/// the deadline): its word, eta, progress and the URL to poll next.
fn pending(job: &JobInfo, word: &str, class: JobStatus, body: &Value) -> Polled {
    Polled {
        state: super::PollState {
            status: word.to_owned(),
            class,
            eta: poll::eta_in(job, body),
            progress: job.progress_of(body),
            outputs: Vec::new(),
            failure: None,
        },
        poll_url: job.poll_url_of(body).map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn answer(body: Value) -> Answer {
        Answer {
            status: 200,
            headers: HeaderMap::new(),
            body,
        }
    }

    /// `value` at `pointer` in a fresh body, with objects on the way.
    fn at(pointer: &str, value: Value) -> Value {
        let mut body = Value::Null;
        let mut node = &mut body;
        for segment in pointer.split('/').skip(1) {
            if !node.is_object() {
                *node = json!({});
            }
            node = node
                .as_object_mut()
                .expect("an object")
                .entry(segment.to_owned())
                .or_insert(Value::Null);
        }
        *node = value;
        body
    }

    fn merge(mut a: Value, b: Value) -> Value {
        if let (Value::Object(a), Value::Object(b)) = (&mut a, b) {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        *existing = merge(existing.take(), v);
                    }
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        a
    }

    #[test]
    fn every_family_reads_its_own_words_ids_and_etas() {
        let scrub = Scrub::new(None);
        for (provider, family) in
            Provider::all().flat_map(|p| job_info(p).families().into_iter().map(move |f| (p, f)))
        {
            // Each API family read by its own words and pointers.
            let job = &job_info(provider).for_family(&family);
            let pending_word = &job.pending[0];
            let mut body = merge(
                at(&job.id_pointer, json!("job-1")),
                at(&job.status_pointer, json!(pending_word)),
            );
            if let Some(pointer) = &job.eta_pointer {
                body = merge(body, at(pointer, json!(4)));
            }
            let create = created(provider, &family.create, &answer(body.clone()), &scrub).unwrap();
            assert_eq!(create.id, "job-1", "{provider}");
            assert_eq!(
                create.eta,
                job.eta_pointer.as_ref().map(|_| Duration::from_secs(4)),
                "{provider}"
            );
            let poll = polled(provider, &family.result, &answer(body), &scrub).unwrap();
            assert_eq!(poll.state.status, *pending_word, "{provider}");
            assert_eq!(poll.state.class, JobStatus::Pending, "{provider}");
            let unlisted = at(&job.status_pointer, json!("no-such-status-word"));
            let poll = polled(provider, &family.result, &answer(unlisted), &scrub).unwrap();
            assert_eq!(poll.state.class, JobStatus::Unknown, "{provider}");
            assert_eq!(poll.state.failure, None, "{provider}");

            let failed = at(&job.status_pointer, json!(job.failed[0]));
            let state = polled(provider, &family.result, &answer(failed.clone()), &scrub)
                .unwrap()
                .state;
            assert_eq!(state.class, JobStatus::Failed, "{provider}");
            assert!(
                created(provider, &family.create, &answer(failed), &scrub).is_err(),
                "{provider}: a failed create is an error"
            );
        }
    }

    #[test]
    fn a_create_answer_without_an_id_that_says_nothing_is_unexpected() {
        let scrub = Scrub::new(None);
        for provider in Provider::all() {
            let create = &job_info(provider).create;
            let err = created(
                provider,
                create,
                &answer(json!({"unrelated": true})),
                &scrub,
            )
            .unwrap_err();
            assert_eq!(err.kind(), "unexpected_body", "{provider}");
        }
    }
}
