//! The client checks: each judges one run of the command from the emulator's journal (read by
//! [`traffic`](super::traffic)) and from how the command ended.

use std::collections::BTreeMap;
use std::time::Duration;

use img2img_specs::extensions::AuthPlacement;
use img2img_specs::{Location, Provider, Spec};
use serde_json::Value;

use super::command::CommandOutcome;
use super::scenario::{Expect, JobOutcome};
use super::traffic::{Call, CallKind, Terminal, url_path};

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
}

impl ClientCheckId {
    /// Every check, in report order.
    pub const ALL: [ClientCheckId; 8] = [
        ClientCheckId::RequestsValid,
        ClientCheckId::CreateNotRepeated,
        ClientCheckId::PollPacing,
        ClientCheckId::StopsAtTerminal,
        ClientCheckId::GivesUp,
        ClientCheckId::FailureSurfaced,
        ClientCheckId::DownloadsInTime,
        ClientCheckId::JobCompleted,
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
        }
    }

    /// Whether it applies under a scenario expecting `expect` (the first four always do).
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

/// The grading bounds: what "fast", "soon" and "late" mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The shortest wait between two polls of one job, or two create attempts.
    pub poll_floor: Duration,
    /// How long a client may wait for a job that never ends before it gives up.
    pub give_up_within: Duration,
}

impl Default for Bounds {
    /// A 250 ms poll floor; 60 s to give up.
    fn default() -> Self {
        Bounds {
            poll_floor: Duration::from_millis(250),
            give_up_within: Duration::from_secs(60),
        }
    }
}

/// The most of an eta a client is asked to wait: half of it, up to this.
pub const ETA_WAIT_CAP: Duration = Duration::from_secs(10);
/// Slack for a wait the answer asked for (`Retry-After` in whole seconds, or an eta), timed from
/// the emulator's side: an eta of a few milliseconds asks for no wait a client could keep.
const ASKED_WAIT_SLACK: Duration = Duration::from_millis(50);

/// What a check judges.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The provider.
    pub provider: Provider,
    /// Every exchange, read by the spec.
    pub calls: &'a [Call],
    /// How the command ended.
    pub command: &'a CommandOutcome,
    /// What the scenario expects.
    pub expect: &'a Expect,
    /// The key the command was given.
    pub key: &'a str,
    /// The bounds.
    pub bounds: &'a Bounds,
}

/// A check's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// It held.
    Passed,
    /// It broke: what happened, and the exchange that shows it.
    Failed {
        /// What was wrong, naming the request, the times and the rule.
        message: String,
        /// The offending exchange (its index in [`Evidence::calls`]).
        call: Option<usize>,
    },
}

fn failed(message: String, call: Option<usize>) -> Judgement {
    Judgement::Failed { message, call }
}

/// Runs `check` on `evidence`.
pub fn judge(check: ClientCheckId, evidence: &Evidence<'_>) -> Judgement {
    match check {
        ClientCheckId::RequestsValid => requests_valid(evidence),
        ClientCheckId::CreateNotRepeated => create_not_repeated(evidence),
        ClientCheckId::PollPacing => poll_pacing(evidence),
        ClientCheckId::StopsAtTerminal => stops_at_terminal(evidence),
        ClientCheckId::GivesUp => gives_up(evidence),
        ClientCheckId::FailureSurfaced => failure_surfaced(evidence),
        ClientCheckId::DownloadsInTime => downloads_in_time(evidence),
        ClientCheckId::JobCompleted => job_completed(evidence),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn requests_valid(evidence: &Evidence<'_>) -> Judgement {
    let spec = Spec::embedded(evidence.provider);
    let auth = &spec.extensions().auth;
    for (index, call) in evidence.calls.iter().enumerate() {
        let at = secs(call.received());
        let op = match (&call.kind, &call.operation) {
            (CallKind::Download, _) => continue,
            (_, Some(op)) => op,
            (_, None) => {
                return failed(
                    format!(
                        "{} at {at} is not an operation of the {} spec",
                        call.line(),
                        evidence.provider
                    ),
                    Some(index),
                );
            }
        };
        let body = if op.request_body.is_some() {
            match serde_json::from_slice::<Value>(&call.exchange.body) {
                Ok(body) => Some(body),
                Err(e) => {
                    return failed(
                        format!(
                            "{} ({}) at {at}: the body is not JSON: {e}",
                            call.line(),
                            op.id
                        ),
                        Some(index),
                    );
                }
            }
        } else {
            None
        };
        let key_placed = match auth.placement {
            AuthPlacement::Header => call
                .exchange
                .header(&auth.name.to_ascii_lowercase())
                .is_some_and(|value| {
                    auth.accepted_prefixes
                        .iter()
                        .any(|prefix| value == format!("{prefix}{}", evidence.key))
                }),
            AuthPlacement::Body => {
                body.as_ref()
                    .and_then(|b| b.get(&auth.name))
                    .and_then(Value::as_str)
                    == Some(evidence.key)
            }
        };
        if !key_placed {
            let prefixes: Vec<String> = auth
                .accepted_prefixes
                .iter()
                .map(|p| format!("{p:?}"))
                .collect();
            let place = match auth.placement {
                AuthPlacement::Header => format!(
                    "the {} header, after one of the prefixes {}",
                    auth.name,
                    prefixes.join(", ")
                ),
                AuthPlacement::Body => format!("the body's top-level {:?} field", auth.name),
            };
            return failed(
                format!(
                    "{} ({}) at {at}: the key given in {} is not in {place}",
                    call.line(),
                    op.id,
                    super::command::key_env(evidence.provider)
                ),
                Some(index),
            );
        }
        for parameter in &op.parameters {
            let present = match parameter.location {
                Location::Query => call.exchange.query.as_deref().is_some_and(|query| {
                    query.split('&').any(|pair| {
                        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                        name == parameter.name && !value.is_empty()
                    })
                }),
                _ => true,
            };
            if parameter.required && !present {
                return failed(
                    format!(
                        "{} ({}) at {at}: the required {} parameter {:?} is missing",
                        call.line(),
                        op.id,
                        parameter.location,
                        parameter.name
                    ),
                    Some(index),
                );
            }
        }
        if let Some(body) = &body {
            // What the provider accepts (the accepting reading): an SDK's explicit nulls are no
            // fault of the client when the provider reads them as absent.
            let schema = match spec.request_schema_as(&op.id, img2img_specs::Reading::Accepting) {
                Some(Ok(schema)) => schema,
                Some(Err(e)) => {
                    return failed(
                        format!("{}: the request schema does not compile: {e}", op.id),
                        None,
                    );
                }
                None => continue,
            };
            if let Err(violations) = schema.validate(body) {
                return failed(
                    format!(
                        "{} ({}) at {at}: invalid request: {violations}",
                        call.line(),
                        op.id
                    ),
                    Some(index),
                );
            }
        }
    }
    Judgement::Passed
}

fn create_not_repeated(evidence: &Evidence<'_>) -> Judgement {
    let creates = || {
        evidence
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == CallKind::Create)
    };
    let Some((_, accepted)) = creates().find(|(_, c)| c.accepted_create()) else {
        return Judgement::Passed;
    };
    let lost = if accepted.exchange.answer().is_none() {
        " (its answer was lost: the connection dropped after the job was made)"
    } else {
        ""
    };
    match creates().find(|(_, c)| c.received() > accepted.received()) {
        Some((index, again)) => failed(
            format!(
                "a second create at {} after the create at {} was accepted and billed as job {}{lost}: the job was paid for twice",
                secs(again.received()),
                secs(accepted.received()),
                accepted.job.as_deref().unwrap_or("?"),
            ),
            Some(index),
        ),
        None => Judgement::Passed,
    }
}

/// The shortest wait `previous`'s answer allows before the next request of its sequence, and why.
fn required_wait(previous: &Call, floor: Duration) -> (Duration, String) {
    let mut wait = (floor, format!("the floor of {}", secs(floor)));
    if let Some(retry_after) = previous.retry_after {
        let asked = retry_after.saturating_sub(ASKED_WAIT_SLACK);
        if asked > wait.0 {
            wait = (
                asked,
                format!("the answer's Retry-After of {}", secs(retry_after)),
            );
        }
    }
    if let Some(eta) = previous.eta {
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

fn poll_pacing(evidence: &Evidence<'_>) -> Judgement {
    let floor = evidence.bounds.poll_floor;
    let mut sequences: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, call) in evidence.calls.iter().enumerate() {
        match (call.kind, &call.job) {
            // Create attempts are one sequence; an accepted create also starts its job's polls.
            (CallKind::Create, job) => {
                sequences.entry(String::new()).or_default().push(index);
                if let Some(job) = job {
                    sequences.entry(job.clone()).or_default().push(index);
                }
            }
            (CallKind::Result, Some(job)) => sequences.entry(job.clone()).or_default().push(index),
            _ => {}
        }
    }
    for (job, indices) in &sequences {
        for pair in indices.windows(2) {
            let (previous, next) = (&evidence.calls[pair[0]], &evidence.calls[pair[1]]);
            // A create followed by its job's first poll needs no floor, only what its answer asked.
            let floor = if previous.kind == CallKind::Create && next.kind == CallKind::Result {
                Duration::ZERO
            } else {
                floor
            };
            let (wait, why) = required_wait(previous, floor);
            let gap = next.received().saturating_sub(previous.finished());
            if gap < wait {
                let what = match (next.kind, job.is_empty()) {
                    (CallKind::Create, _) => "a create attempt".to_owned(),
                    _ => format!("a poll of job {job}"),
                };
                let status = previous
                    .http_status()
                    .map_or_else(|| "no answer".to_owned(), |s| format!("HTTP {s}"));
                return failed(
                    format!(
                        "{what} at {} came {} after the previous answer ({status} at {}); it must wait {why}",
                        secs(next.received()),
                        secs(gap),
                        secs(previous.finished()),
                    ),
                    Some(pair[1]),
                );
            }
        }
    }
    Judgement::Passed
}

fn stops_at_terminal(evidence: &Evidence<'_>) -> Judgement {
    let mut ended: BTreeMap<&str, (Duration, &str)> = BTreeMap::new();
    for call in evidence.calls {
        if let (Some(job), Some(_), Some(status)) = (&call.job, call.terminal, &call.status) {
            ended
                .entry(job.as_str())
                .or_insert((call.finished(), status.as_str()));
        }
    }
    for (index, call) in evidence.calls.iter().enumerate() {
        if call.kind != CallKind::Result {
            continue;
        }
        let Some(job) = &call.job else { continue };
        if let Some((at, status)) = ended.get(job.as_str())
            && call.received() > *at
        {
            return failed(
                format!(
                    "a poll of job {job} at {} after an answer at {} gave its terminal status {status:?}",
                    secs(call.received()),
                    secs(*at)
                ),
                Some(index),
            );
        }
    }
    Judgement::Passed
}

fn last_request(evidence: &Evidence<'_>) -> String {
    evidence.calls.last().map_or_else(
        || "it sent no request".to_owned(),
        |c| format!("its last request came at {}", secs(c.received())),
    )
}

fn gives_up(evidence: &Evidence<'_>) -> Judgement {
    let command = evidence.command;
    let bound = evidence.bounds.give_up_within;
    if command.timed_out || (command.exit_code.is_none() && command.duration > bound) {
        return failed(
            format!(
                "still waiting when it was stopped after {} (the bound is {}); {}",
                secs(command.duration),
                secs(bound),
                last_request(evidence)
            ),
            None,
        );
    }
    match command.exit_code {
        Some(0) => failed(
            format!(
                "exited 0 after {} although the job never finished",
                secs(command.duration)
            ),
            None,
        ),
        _ if command.duration > bound => failed(
            format!(
                "gave up after {}; the bound is {}",
                secs(command.duration),
                secs(bound)
            ),
            None,
        ),
        None => failed(
            format!(
                "ended by a signal after {}, not by giving up",
                secs(command.duration)
            ),
            None,
        ),
        Some(_) => Judgement::Passed,
    }
}

fn failure_surfaced(evidence: &Evidence<'_>) -> Judgement {
    let command = evidence.command;
    let Some(reason) = evidence.expect.reason.as_deref() else {
        return failed("the scenario names no reason to look for".into(), None);
    };
    let failed_job = evidence
        .calls
        .iter()
        .any(|c| c.terminal == Some(Terminal::Failed));
    let printed = command.output.iter().any(|line| line.contains(reason));
    match (command.failed_by_itself(), printed) {
        (true, true) => Judgement::Passed,
        _ if command.timed_out => failed(
            format!(
                "still running when the time limit ended, {}",
                if failed_job {
                    "after the provider had reported the failure"
                } else {
                    "and it never read the failed status"
                }
            ),
            None,
        ),
        (false, _) => failed(
            format!(
                "exited {} although the job failed{}",
                command
                    .exit_code
                    .map_or_else(|| "by a signal".to_owned(), |c| c.to_string()),
                if printed {
                    ""
                } else {
                    ", and never printed the provider's reason"
                }
            ),
            None,
        ),
        (true, false) => failed(
            format!(
                "exited {} but never printed the provider's reason {reason:?}",
                command.exit_code.unwrap_or_default()
            ),
            None,
        ),
    }
}

fn downloads_in_time(evidence: &Evidence<'_>) -> Judgement {
    let Some((_, finished)) = evidence
        .calls
        .iter()
        .enumerate()
        .find(|(_, c)| c.terminal == Some(Terminal::Succeeded))
    else {
        return failed(
            "the client never received a finished job, so it downloaded no image".into(),
            None,
        );
    };
    for url in &finished.outputs {
        let Some(path) = url_path(url) else {
            continue; // inline data: nothing to download
        };
        let downloads: Vec<(usize, &Call)> = evidence
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.kind == CallKind::Download
                    && match &c.exchange.query {
                        Some(q) => format!("{}?{q}", c.exchange.path) == path,
                        None => c.exchange.path == path,
                    }
            })
            .collect();
        if downloads.iter().any(|(_, c)| c.http_status() == Some(200)) {
            continue;
        }
        return match downloads.first() {
            Some((index, late)) => failed(
                format!(
                    "{} at {}, {} after the answer listing it, was answered HTTP {}: the URL had expired",
                    late.line(),
                    secs(late.received()),
                    secs(late.received().saturating_sub(finished.finished())),
                    late.http_status()
                        .map_or_else(|| "nothing".to_owned(), |s| s.to_string()),
                ),
                Some(*index),
            ),
            None => failed(
                format!(
                    "the image {path} of the job finished at {} was never downloaded",
                    secs(finished.finished())
                ),
                None,
            ),
        };
    }
    Judgement::Passed
}

/// How the command ended, in words (`exited 1`, `killed at the time limit`).
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

fn job_completed(evidence: &Evidence<'_>) -> Judgement {
    let command = evidence.command;
    let finished: Vec<&Call> = evidence
        .calls
        .iter()
        .filter(|c| c.terminal == Some(Terminal::Succeeded))
        .collect();
    if command.timed_out || command.exit_code != Some(0) {
        let job = match (evidence.calls.is_empty(), finished.first()) {
            (true, _) => "before sending any request".to_owned(),
            (false, Some(done)) => format!(
                "although the job succeeded (an answer at {} said so)",
                secs(done.finished())
            ),
            (false, None) => format!("without reading a finished job; {}", last_request(evidence)),
        };
        return failed(format!("{} {job}", ending(command)), None);
    }
    let Some(done) = finished.first() else {
        return failed(
            format!(
                "exited 0 but never read a finished job ({}): it did not complete the job",
                if evidence.calls.is_empty() {
                    "it sent no request".to_owned()
                } else {
                    last_request(evidence)
                }
            ),
            None,
        );
    };
    let job = done.job.as_deref().unwrap_or("?");
    for url in &done.outputs {
        let Some(path) = url_path(url) else {
            continue; // inline data: the answer delivered the image itself
        };
        let fetched = evidence.calls.iter().any(|c| {
            c.kind == CallKind::Download
                && c.http_status() == Some(200)
                && match &c.exchange.query {
                    Some(q) => format!("{}?{q}", c.exchange.path) == path,
                    None => c.exchange.path == path,
                }
        });
        if !fetched {
            return failed(
                format!(
                    "exited 0 but never downloaded the image {path} of job {job} (finished at {})",
                    secs(done.finished())
                ),
                None,
            );
        }
    }
    Judgement::Passed
}

#[cfg(test)]
mod tests {
    use img2img_emulator::{Exchange, Outcome};

    use super::*;

    fn answer_with(eta: Option<Duration>, retry_after: Option<Duration>) -> Call {
        Call {
            exchange: Exchange {
                seq: 0,
                received: Duration::ZERO,
                finished: Duration::ZERO,
                provider: None,
                operation: None,
                method: "POST".to_owned(),
                path: "/".to_owned(),
                query: None,
                headers: Vec::new(),
                body: Default::default(),
                outcome: Outcome::Dropped { unsent: None },
            },
            kind: CallKind::Create,
            operation: None,
            job: None,
            status: None,
            terminal: None,
            eta,
            retry_after,
            outputs: Vec::new(),
        }
    }

    #[test]
    fn an_eta_of_a_few_milliseconds_asks_for_no_wait() {
        let call = answer_with(Some(Duration::from_millis(7)), None);
        assert_eq!(required_wait(&call, Duration::ZERO).0, Duration::ZERO);
    }

    #[test]
    fn an_eta_asks_for_half_of_it_less_the_slack_and_at_most_half_the_cap() {
        let call = answer_with(Some(Duration::from_secs(1)), None);
        assert_eq!(
            required_wait(&call, Duration::ZERO).0,
            Duration::from_millis(450)
        );
        let call = answer_with(Some(Duration::from_secs(60)), None);
        assert_eq!(
            required_wait(&call, Duration::ZERO).0,
            ETA_WAIT_CAP / 2 - ASKED_WAIT_SLACK
        );
    }

    #[test]
    fn retry_after_asks_for_itself_less_the_slack_and_the_floor_stays() {
        let call = answer_with(None, Some(Duration::from_secs(1)));
        let (wait, why) = required_wait(&call, Duration::from_millis(250));
        assert_eq!(wait, Duration::from_millis(950));
        assert!(why.contains("Retry-After"), "{why}");
        let call = answer_with(Some(Duration::from_millis(100)), None);
        let (wait, why) = required_wait(&call, Duration::from_millis(250));
        assert_eq!(wait, Duration::from_millis(250));
        assert!(why.contains("floor"), "{why}");
    }
}
