//! The client checks: each judges one run of the command from what the
//! [judges](super::judges) kept of its traffic (read as it happened by
//! [`traffic`](super::traffic)) and from how the command ended.

use std::time::Duration;

use super::command::CommandOutcome;
use super::judges::{Failure, Judges};
use super::scenario::{Expect, JobOutcome};

/// A client check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientCheckId {
    /// Every request validates against the spec, the key placed the provider's way.
    RequestsValid,
    /// No second create after one was accepted (and billed), even when its answer was lost.
    CreateNotRepeated,
    /// Polls and retries keep the floor, wait out `Retry-After`, and wait at least half the eta.
    PollPacing,
    /// No poll of a job after an answer gave its terminal status.
    StopsAtTerminal,
    /// When the job never ends, the command stops within the bound and exits non-zero.
    GivesUp,
    /// When the job fails, the command exits non-zero and prints the provider's reason.
    FailureSurfaced,
    /// Every image of a finished job is downloaded before its URL expires.
    DownloadsInTime,
    /// Where the job can succeed, the command exits 0 having downloaded every image of the job.
    JobCompleted,
    /// The client sent at most `--max-requests` requests; a run sending more is stopped.
    WithinRequestCap,
}

impl ClientCheckId {
    /// Every check, in report order.
    pub const ALL: [ClientCheckId; 9] = [
        ClientCheckId::RequestsValid,
        ClientCheckId::CreateNotRepeated,
        ClientCheckId::PollPacing,
        ClientCheckId::StopsAtTerminal,
        ClientCheckId::GivesUp,
        ClientCheckId::FailureSurfaced,
        ClientCheckId::DownloadsInTime,
        ClientCheckId::JobCompleted,
        ClientCheckId::WithinRequestCap,
    ];

    /// Its id in results (`poll_pacing`).
    pub fn id(self) -> &'static str {
        match self {
            ClientCheckId::RequestsValid => "requests_valid",
            ClientCheckId::CreateNotRepeated => "create_not_repeated",
            ClientCheckId::PollPacing => "poll_pacing",
            ClientCheckId::StopsAtTerminal => "stops_at_terminal",
            ClientCheckId::GivesUp => "gives_up",
            ClientCheckId::FailureSurfaced => "failure_surfaced",
            ClientCheckId::DownloadsInTime => "downloads_in_time",
            ClientCheckId::JobCompleted => "job_completed",
            ClientCheckId::WithinRequestCap => "within_request_cap",
        }
    }

    /// What it asserts, in one line.
    pub fn description(self) -> &'static str {
        match self {
            ClientCheckId::RequestsValid => {
                "every request validates against the spec, with the key placed the provider's way"
            }
            ClientCheckId::CreateNotRepeated => {
                "no second create after one was accepted and billed, even when its answer was lost"
            }
            ClientCheckId::PollPacing => {
                "polls and retries keep the floor, wait out Retry-After, and wait at least half the eta"
            }
            ClientCheckId::StopsAtTerminal => {
                "no poll of a job after an answer gave its terminal status"
            }
            ClientCheckId::GivesUp => {
                "when the job never ends, the command stops within the bound and exits non-zero"
            }
            ClientCheckId::FailureSurfaced => {
                "when the job fails, the command exits non-zero and prints the provider's reason"
            }
            ClientCheckId::DownloadsInTime => {
                "every image of the finished job is downloaded before its URL expires"
            }
            ClientCheckId::JobCompleted => {
                "where the job can succeed, the command exits 0 having downloaded every image of the job"
            }
            ClientCheckId::WithinRequestCap => {
                "the client sends at most --max-requests requests in a run; a run sending more is stopped"
            }
        }
    }

    /// Whether it applies under a scenario expecting `expect` (the first four and the request cap
    /// always do).
    pub fn applies(self, expect: &Expect) -> bool {
        match self {
            ClientCheckId::GivesUp => expect.job == JobOutcome::NeverEnds,
            ClientCheckId::FailureSurfaced => expect.job == JobOutcome::Failure,
            ClientCheckId::DownloadsInTime => expect.downloads,
            ClientCheckId::JobCompleted => expect.job == JobOutcome::Success,
            _ => true,
        }
    }
}

impl std::fmt::Display for ClientCheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl std::str::FromStr for ClientCheckId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClientCheckId::ALL
            .into_iter()
            .find(|c| c.id() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = ClientCheckId::ALL.iter().map(|c| c.id()).collect();
                format!("{s:?} is not a client check; known: {}", known.join(", "))
            })
    }
}

/// The grading bounds: what "fast", "soon", "late" and "too many" mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The shortest wait between two polls of one job, or two create attempts.
    pub poll_floor: Duration,
    /// How long a client may wait for a job that never ends before it gives up.
    pub give_up_within: Duration,
    /// The most requests one run may send; a run sending more is stopped (`--max-requests`).
    pub max_requests: u64,
}

impl Default for Bounds {
    /// A 250 ms poll floor; 60 s to give up; 5,000 requests per run.
    fn default() -> Self {
        Bounds {
            poll_floor: Duration::from_millis(250),
            give_up_within: Duration::from_secs(60),
            max_requests: 5_000,
        }
    }
}

/// A run stopped at the request cap: the requests its client had sent by then, and in how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capped {
    /// The requests received when the cap was passed.
    pub requests: u64,
    /// The time from the command's start to then.
    pub after: Duration,
}

/// What a check judges.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// What the judges kept of the traffic.
    pub judges: &'a Judges,
    /// How the command ended.
    pub command: &'a CommandOutcome,
    /// What the scenario expects.
    pub expect: &'a Expect,
    /// The bounds.
    pub bounds: &'a Bounds,
    /// Whether, and when, the run was stopped at the request cap.
    pub capped: Option<Capped>,
}

/// A check's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// It held.
    Passed,
    /// It broke: what happened, and the exchange that shows it.
    Failed(Failure),
    /// It could not be judged (the run was stopped before it could show), and why.
    NotJudged(String),
}

fn failed(message: String) -> Judgement {
    Judgement::Failed(Failure {
        message,
        shown: None,
    })
}

fn breach(failure: Option<&Failure>) -> Judgement {
    failure.map_or(Judgement::Passed, |f| Judgement::Failed(f.clone()))
}

/// What a stopped run cannot show.
const STOPPED: &str = "not judged: the run was stopped at the request cap";

/// Runs `check` on `evidence`.
pub fn judge(check: ClientCheckId, evidence: &Evidence<'_>) -> Judgement {
    let judges = evidence.judges;
    let stopped = evidence.capped.is_some();
    match check {
        ClientCheckId::RequestsValid => breach(judges.invalid()),
        ClientCheckId::CreateNotRepeated => breach(judges.repeated()),
        ClientCheckId::PollPacing => breach(judges.too_soon()),
        ClientCheckId::StopsAtTerminal => breach(judges.after_terminal()),
        ClientCheckId::GivesUp | ClientCheckId::FailureSurfaced if stopped => {
            Judgement::NotJudged(STOPPED.into())
        }
        ClientCheckId::GivesUp => gives_up(evidence),
        ClientCheckId::FailureSurfaced => failure_surfaced(evidence),
        ClientCheckId::DownloadsInTime if stopped && !judges.saw_finished_job() => {
            Judgement::NotJudged(STOPPED.into())
        }
        ClientCheckId::DownloadsInTime => breach(judges.not_downloaded().as_ref()),
        ClientCheckId::WithinRequestCap => within_request_cap(evidence),
        ClientCheckId::JobCompleted => job_completed(evidence),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// How the command ended, in words (`exited 1`, `was still running at the time limit`).
fn ending(command: &CommandOutcome) -> String {
    match (command.exit_code, command.timed_out) {
        (_, true) => format!(
            "was still running at the time limit ({})",
            secs(command.duration)
        ),
        (Some(code), false) => format!("exited {code} after {}", secs(command.duration)),
        (None, false) => format!("was ended by a signal after {}", secs(command.duration)),
    }
}

/// Where the job can succeed: the command exited 0 by itself, having read the finished job and
/// downloaded every image it listed (inline images count as delivered).
fn job_completed(evidence: &Evidence<'_>) -> Judgement {
    let command = evidence.command;
    let judges = evidence.judges;
    let finished = judges.saw_finished_job();
    if command.timed_out || command.exit_code != Some(0) {
        let job = match (judges.last_received(), finished) {
            (None, _) => "before sending any request".to_owned(),
            (Some(_), true) => "although the job succeeded".to_owned(),
            (Some(_), false) => {
                format!("without reading a finished job; {}", last_request(evidence))
            }
        };
        return failed(format!("{} {job}", ending(command)));
    }
    if !finished {
        let sent = match judges.last_received() {
            None => "it sent no request".to_owned(),
            Some(_) => last_request(evidence),
        };
        return failed(format!(
            "exited 0 but never read a finished job ({sent}): it did not complete the job"
        ));
    }
    breach(judges.not_downloaded().as_ref())
}

/// `n` with a comma between thousands (`5,001`).
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn last_request(evidence: &Evidence<'_>) -> String {
    evidence.judges.last_received().map_or_else(
        || "it sent no request".to_owned(),
        |at| format!("its last request came at {}", secs(at)),
    )
}

fn gives_up(evidence: &Evidence<'_>) -> Judgement {
    let command = evidence.command;
    let bound = evidence.bounds.give_up_within;
    if command.timed_out || (command.exit_code.is_none() && command.duration > bound) {
        return failed(format!(
            "still waiting when it was stopped after {} (the bound is {}); {}",
            secs(command.duration),
            secs(bound),
            last_request(evidence)
        ));
    }
    match command.exit_code {
        Some(0) => failed(format!(
            "exited 0 after {} although the job never finished",
            secs(command.duration)
        )),
        _ if command.duration > bound => failed(format!(
            "gave up after {}; the bound is {}",
            secs(command.duration),
            secs(bound)
        )),
        None => failed(format!(
            "ended by a signal after {}, not by giving up",
            secs(command.duration)
        )),
        Some(_) => Judgement::Passed,
    }
}

fn failure_surfaced(evidence: &Evidence<'_>) -> Judgement {
    let command = evidence.command;
    let Some(reason) = evidence.expect.reason.as_deref() else {
        return failed("the scenario names no reason to look for".into());
    };
    let failed_job = evidence.judges.saw_failed_job();
    let printed = command.output.iter().any(|line| line.contains(reason));
    match (command.failed_by_itself(), printed) {
        (true, true) => Judgement::Passed,
        _ if command.timed_out => failed(format!(
            "still running when the time limit ended, {}",
            if failed_job {
                "after the provider had reported the failure"
            } else {
                "and it never read the failed status"
            }
        )),
        (false, _) => failed(format!(
            "exited {} although the job failed{}",
            command
                .exit_code
                .map_or_else(|| "by a signal".to_owned(), |c| c.to_string()),
            if printed {
                ""
            } else {
                ", and never printed the provider's reason"
            }
        )),
        (true, false) => failed(format!(
            "exited {} but never printed the provider's reason {reason:?}",
            command.exit_code.unwrap_or_default()
        )),
    }
}

/// Fails a run stopped at the cap, with what it sent and what the job needed at most: one create
/// attempt and one poll per floor over the time it ran (each sequence paced at the floor), and
/// its images.
fn within_request_cap(evidence: &Evidence<'_>) -> Judgement {
    let Some(capped) = evidence.capped else {
        return Judgement::Passed;
    };
    let floor = evidence.bounds.poll_floor.max(Duration::from_millis(1));
    let per_sequence = (capped.after.as_nanos() / floor.as_nanos()) as u64 + 1;
    let images = evidence.judges.images() as u64;
    let needed = 2 * per_sequence + images;
    failed(format!(
        "sent {} requests in {:.1} s; the job needed at most {} (a create attempt and a poll every {} for that long{}); the run was stopped at --max-requests {}",
        thousands(capped.requests),
        capped.after.as_secs_f64(),
        thousands(needed),
        secs(floor),
        match images {
            0 => String::new(),
            1 => ", and its image".to_owned(),
            n => format!(", and its {n} images"),
        },
        thousands(evidence.bounds.max_requests),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        for (n, shown) in [
            (0, "0"),
            (999, "999"),
            (5_001, "5,001"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), shown);
        }
    }

    #[test]
    fn a_capped_run_fails_with_what_it_sent_and_what_the_job_needed() {
        let judges = Judges::new(Duration::from_millis(250));
        let command = CommandOutcome {
            exit_code: None,
            timed_out: false,
            stopped: true,
            duration: Duration::from_millis(2150),
            output: Vec::new(),
            spawn_error: None,
        };
        let evidence = Evidence {
            judges: &judges,
            command: &command,
            expect: &Expect::default(),
            bounds: &Bounds::default(),
            capped: Some(Capped {
                requests: 5_001,
                after: Duration::from_millis(2100),
            }),
        };
        let Judgement::Failed(failure) = judge(ClientCheckId::WithinRequestCap, &evidence) else {
            panic!("a capped run fails");
        };
        assert!(
            failure
                .message
                .starts_with("sent 5,001 requests in 2.1 s; the job needed at most 18 "),
            "{}",
            failure.message
        );
        assert!(matches!(
            judge(ClientCheckId::GivesUp, &evidence),
            Judgement::NotJudged(_)
        ));
        let evidence = Evidence {
            capped: None,
            ..evidence
        };
        assert_eq!(
            judge(ClientCheckId::WithinRequestCap, &evidence),
            Judgement::Passed
        );
    }
}
