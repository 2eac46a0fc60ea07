//! What the checks keep of a run's traffic, read call by call in arrival order: each check's first
//! breach with what it shows, and the little state needed to find one (the previous call of each
//! job's polls and of the create attempts, the jobs that ended, the finished job's images). Each
//! call costs a few hash look-ups; what is kept grows with the jobs a client makes, never with its
//! requests, and a check that failed keeps nothing more.

use std::collections::HashMap;
use std::time::Duration;

use super::traffic::{Call, CallKind, Shown, Terminal, url_path};

/// The most of an eta a client is asked to wait: half of it, up to this.
pub const ETA_WAIT_CAP: Duration = Duration::from_secs(10);
/// Slack for a wait the answer asked for (`Retry-After` in whole seconds, or an eta), timed from
/// the emulator's side: an eta of a few milliseconds asks for no wait a client could keep.
const ASKED_WAIT_SLACK: Duration = Duration::from_millis(50);

/// A check's breach: what happened, and the exchange that shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// What was wrong, naming the request, the times and the rule.
    pub message: String,
    /// The offending exchange, when one shows it.
    pub shown: Option<Shown>,
}

/// The checks' view of one run's traffic so far.
#[derive(Debug)]
pub struct Judges {
    floor: Duration,
    requests: u64,
    last_received: Option<Duration>,
    invalid: Option<Failure>,
    accepted: Option<Accepted>,
    repeated: Option<Failure>,
    /// Per sequence (the create attempts under `""`, else a job id), its last call.
    previous: HashMap<String, Previous>,
    pacing: Option<Failure>,
    ended: HashMap<String, Ended>,
    after_terminal: Option<Failure>,
    failed_job: bool,
    finished: Option<Finished>,
}

/// The first accepted create.
#[derive(Debug)]
struct Accepted {
    received: Duration,
    job: String,
    lost: bool,
}

/// What pacing needs of the previous call of a sequence.
#[derive(Debug)]
struct Previous {
    kind: CallKind,
    finished: Duration,
    http_status: Option<u16>,
    retry_after: Option<Duration>,
    eta: Option<Duration>,
}

/// When a job's terminal status was first given, and which.
#[derive(Debug)]
struct Ended {
    at: Duration,
    status: String,
}

/// The first answer giving a job's success, and what became of its images.
#[derive(Debug)]
struct Finished {
    at: Duration,
    images: Vec<Image>,
    by_path: HashMap<String, usize>,
}

#[derive(Debug)]
struct Image {
    path: String,
    downloaded: bool,
    /// The first download that was not answered 200, before any that was.
    refused: Option<Failure>,
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// The shortest wait an answer with `retry_after` and `eta` allows before the next request of its
/// sequence, given the `floor`, and why.
fn required_wait(
    retry_after: Option<Duration>,
    eta: Option<Duration>,
    floor: Duration,
) -> (Duration, String) {
    let mut wait = (floor, format!("the floor of {}", secs(floor)));
    if let Some(retry_after) = retry_after {
        let asked = retry_after.saturating_sub(ASKED_WAIT_SLACK);
        if asked > wait.0 {
            wait = (
                asked,
                format!("the answer's Retry-After of {}", secs(retry_after)),
            );
        }
    }
    if let Some(eta) = eta {
        let half = (eta.min(ETA_WAIT_CAP) / 2).saturating_sub(ASKED_WAIT_SLACK);
        if half > wait.0 {
            wait = (
                half,
                format!(
                    "half the answer's eta of {} (at most {})",
                    secs(eta),
                    secs(ETA_WAIT_CAP / 2)
                ),
            );
        }
    }
    wait
}

impl Judges {
    /// Judges that ask for `floor` between two polls of a job, or two create attempts.
    pub fn new(floor: Duration) -> Judges {
        Judges {
            floor,
            requests: 0,
            last_received: None,
            invalid: None,
            accepted: None,
            repeated: None,
            previous: HashMap::new(),
            pacing: None,
            ended: HashMap::new(),
            after_terminal: None,
            failed_job: false,
            finished: None,
        }
    }

    /// Takes the next call, in arrival order.
    pub fn observe(&mut self, call: &Call) {
        self.requests += 1;
        self.last_received = self.last_received.max(Some(call.received));
        if let (None, Some(problem)) = (&self.invalid, &call.problem) {
            self.invalid = Some(Failure {
                message: problem.clone(),
                shown: Some(call.shown.clone()),
            });
        }
        self.failed_job |= call.terminal == Some(Terminal::Failed);
        self.create(call);
        self.pace(call);
        self.stop_at_terminal(call);
        self.download(call);
    }

    /// The requests seen.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// When the last request arrived.
    pub fn last_received(&self) -> Option<Duration> {
        self.last_received
    }

    /// The first request that is not what the spec asks for (`requests_valid`).
    pub fn invalid(&self) -> Option<&Failure> {
        self.invalid.as_ref()
    }

    /// The first create after one was accepted (`create_not_repeated`).
    pub fn repeated(&self) -> Option<&Failure> {
        self.repeated.as_ref()
    }

    /// The first request that came too soon (`poll_pacing`).
    pub fn too_soon(&self) -> Option<&Failure> {
        self.pacing.as_ref()
    }

    /// The first poll of a job after its terminal status (`stops_at_terminal`).
    pub fn after_terminal(&self) -> Option<&Failure> {
        self.after_terminal.as_ref()
    }

    /// Whether an answer gave a job's failure.
    pub fn saw_failed_job(&self) -> bool {
        self.failed_job
    }

    /// Whether an answer gave a job's success.
    pub fn saw_finished_job(&self) -> bool {
        self.finished.is_some()
    }

    /// The images the finished job listed for download (none when no job finished).
    pub fn images(&self) -> usize {
        self.finished.as_ref().map_or(0, |f| f.images.len())
    }

    /// The first image of the finished job not downloaded with a 200 (`downloads_in_time`).
    pub fn not_downloaded(&self) -> Option<Failure> {
        let Some(finished) = &self.finished else {
            return Some(Failure {
                message: "the client never received a finished job, so it downloaded no image"
                    .into(),
                shown: None,
            });
        };
        let image = finished.images.iter().find(|i| !i.downloaded)?;
        Some(image.refused.clone().unwrap_or_else(|| Failure {
            message: format!(
                "the image {} of the job finished at {} was never downloaded",
                image.path,
                secs(finished.at)
            ),
            shown: None,
        }))
    }

    fn fail(message: String, call: &Call) -> Option<Failure> {
        Some(Failure {
            message,
            shown: Some(call.shown.clone()),
        })
    }

    fn create(&mut self, call: &Call) {
        if call.kind != CallKind::Create || self.repeated.is_some() {
            return;
        }
        match &self.accepted {
            None => {
                if let (true, Some(job)) = (call.accepted_create(), &call.job) {
                    self.accepted = Some(Accepted {
                        received: call.received,
                        job: job.clone(),
                        lost: call.http_status.is_none(),
                    });
                }
            }
            Some(accepted) if call.received > accepted.received => {
                let lost = if accepted.lost {
                    " (its answer was lost: the connection dropped after the job was made)"
                } else {
                    ""
                };
                self.repeated = Self::fail(
                    format!(
                        "a second create at {} after the create at {} was accepted and billed as job {}{lost}: the job was paid for twice",
                        secs(call.received),
                        secs(accepted.received),
                        accepted.job,
                    ),
                    call,
                );
            }
            Some(_) => {}
        }
    }

    fn pace(&mut self, call: &Call) {
        match (call.kind, &call.job) {
            // Create attempts are one sequence; an accepted create also starts its job's polls.
            (CallKind::Create, job) => {
                self.step("", call);
                if let Some(job) = job {
                    self.step(job, call);
                }
            }
            (CallKind::Result, Some(job)) => self.step(job, call),
            _ => {}
        }
    }

    /// `call` as the next of `sequence`: judged against the previous one, then remembered.
    fn step(&mut self, sequence: &str, call: &Call) {
        if self.pacing.is_some() {
            return;
        }
        let latest = Previous {
            kind: call.kind,
            finished: call.finished,
            http_status: call.http_status,
            retry_after: call.retry_after,
            eta: call.eta,
        };
        let Some(previous) = self.previous.get_mut(sequence) else {
            self.previous.insert(sequence.to_owned(), latest);
            return;
        };
        // A create followed by its job's first poll needs no floor, only what its answer asked.
        let floor = if previous.kind == CallKind::Create && call.kind == CallKind::Result {
            Duration::ZERO
        } else {
            self.floor
        };
        let (wait, why) = required_wait(previous.retry_after, previous.eta, floor);
        let gap = call.received.saturating_sub(previous.finished);
        if gap >= wait {
            *previous = latest;
            return;
        }
        let what = match call.kind {
            CallKind::Create => "a create attempt".to_owned(),
            _ => format!("a poll of job {sequence}"),
        };
        let status = previous
            .http_status
            .map_or_else(|| "no answer".to_owned(), |s| format!("HTTP {s}"));
        self.pacing = Self::fail(
            format!(
                "{what} at {} came {} after the previous answer ({status} at {}); it must wait {why}",
                secs(call.received),
                secs(gap),
                secs(previous.finished),
            ),
            call,
        );
        self.previous = HashMap::new();
    }

    fn stop_at_terminal(&mut self, call: &Call) {
        if self.after_terminal.is_some() {
            return;
        }
        let Some(job) = &call.job else { return };
        if call.kind == CallKind::Result
            && let Some(ended) = self.ended.get(job)
            && call.received > ended.at
        {
            self.after_terminal = Self::fail(
                format!(
                    "a poll of job {job} at {} after an answer at {} gave its terminal status {:?}",
                    secs(call.received),
                    secs(ended.at),
                    ended.status
                ),
                call,
            );
            self.ended = HashMap::new();
            return;
        }
        if let (Some(_), Some(status)) = (call.terminal, &call.status)
            && !self.ended.contains_key(job)
        {
            self.ended.insert(
                job.clone(),
                Ended {
                    at: call.finished,
                    status: status.clone(),
                },
            );
        }
    }

    fn download(&mut self, call: &Call) {
        if self.finished.is_none() && call.terminal == Some(Terminal::Succeeded) {
            let mut finished = Finished {
                at: call.finished,
                images: Vec::new(),
                by_path: HashMap::new(),
            };
            // Inline data has nothing to download.
            for path in call.outputs.iter().filter_map(|url| url_path(url)) {
                if !finished.by_path.contains_key(&path) {
                    finished.by_path.insert(path.clone(), finished.images.len());
                    finished.images.push(Image {
                        path,
                        downloaded: false,
                        refused: None,
                    });
                }
            }
            self.finished = Some(finished);
        }
        let (Some(finished), Some(target)) = (&mut self.finished, &call.target) else {
            return;
        };
        let Some(image) = finished
            .by_path
            .get(target)
            .and_then(|i| finished.images.get_mut(*i))
        else {
            return;
        };
        if call.http_status == Some(200) {
            image.downloaded = true;
        } else if !image.downloaded && image.refused.is_none() {
            image.refused = Self::fail(
                format!(
                    "{} at {}, {} after the answer listing it, was answered HTTP {}: the URL had expired",
                    call.line,
                    secs(call.received),
                    secs(call.received.saturating_sub(finished.at)),
                    call.http_status
                        .map_or_else(|| "nothing".to_owned(), |s| s.to_string()),
                ),
                call,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eta_of_a_few_milliseconds_asks_for_no_wait() {
        let eta = Some(Duration::from_millis(7));
        assert_eq!(required_wait(None, eta, Duration::ZERO).0, Duration::ZERO);
    }

    #[test]
    fn an_eta_asks_for_half_of_it_less_the_slack_and_at_most_half_the_cap() {
        let eta = Some(Duration::from_secs(1));
        assert_eq!(
            required_wait(None, eta, Duration::ZERO).0,
            Duration::from_millis(450)
        );
        let eta = Some(Duration::from_secs(60));
        assert_eq!(
            required_wait(None, eta, Duration::ZERO).0,
            ETA_WAIT_CAP / 2 - ASKED_WAIT_SLACK
        );
    }

    #[test]
    fn retry_after_asks_for_itself_less_the_slack_and_the_floor_stays() {
        let floor = Duration::from_millis(250);
        let (wait, why) = required_wait(Some(Duration::from_secs(1)), None, floor);
        assert_eq!(wait, Duration::from_millis(950));
        assert!(why.contains("Retry-After"), "{why}");
        let (wait, why) = required_wait(None, Some(Duration::from_millis(100)), floor);
        assert_eq!(wait, Duration::from_millis(250));
        assert!(why.contains("floor"), "{why}");
    }

    fn call(seq: u64, kind: CallKind, job: Option<&str>, received_ms: u64) -> Call {
        Call {
            seq,
            received: Duration::from_millis(received_ms),
            finished: Duration::from_millis(received_ms + 1),
            line: format!("GET /poll/{seq}"),
            kind,
            operation: None,
            job: job.map(str::to_owned),
            http_status: Some(200),
            status: None,
            terminal: None,
            eta: None,
            retry_after: None,
            outputs: Vec::new(),
            target: None,
            problem: None,
            shown: Shown::default(),
        }
    }

    #[test]
    fn polls_of_many_jobs_are_judged_apart_and_a_failed_check_keeps_nothing() {
        let mut judges = Judges::new(Duration::from_millis(250));
        // Two jobs polled in turn, each every 300 ms: no breach.
        judges.observe(&call(0, CallKind::Create, Some("a"), 0));
        judges.observe(&call(1, CallKind::Create, Some("b"), 300));
        for round in 1..=5u64 {
            for (i, job) in ["a", "b"].iter().enumerate() {
                let at = 600 + round * 300;
                judges.observe(&call(round * 2 + i as u64, CallKind::Result, Some(job), at));
            }
        }
        assert!(judges.too_soon().is_none(), "{:?}", judges.too_soon());
        assert_eq!(judges.previous.len(), 3);
        // A poll of job a 10 ms after its last answer.
        judges.observe(&call(20, CallKind::Result, Some("a"), 2110));
        let failure = judges.too_soon().expect("too soon");
        assert!(
            failure.message.starts_with("a poll of job a at 2.11 s"),
            "{failure:?}"
        );
        assert!(judges.previous.is_empty());
        assert_eq!(judges.requests(), 13);
    }
}
