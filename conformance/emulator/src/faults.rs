//! Faults on demand: what each fault is ([`Fault`], parsed from the `x-emulator-fault` header, a
//! flag or a scenario file), the run's rules ([`FaultRule`], every n-th matching request) and the
//! faults bound to a key ([`KeyFault`]); the [`Plan`] of one request, and how it changes the
//! response.

use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use img2img_specs::{ApiKey, Provider, Spec};
use tokio::sync::Notify;

use super::images::stable_hash;

/// The request header that asks for faults.
pub const FAULT_HEADER: &str = "x-emulator-fault";

/// A fault the emulator injects into a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and the provider's error body for it.
    Status(u16),
    /// Wait this long before answering.
    Latency(Duration),
    /// The job created by this request fails with this reason.
    FailTask(String),
    /// The body is not JSON.
    Malformed,
    /// The JSON body is cut in half.
    Truncated,
    /// The connection is closed without a response.
    Drop,
    /// The request is served (a create makes its job, which then runs), then the connection is
    /// closed without sending the answer: an accepted and billed call whose answer is lost.
    DropAfter,
    /// The answer carries `Retry-After: N` (seconds); a `status=429` answer becomes the provider's
    /// rate-limit body, with its own wait field where it has one (`error.retry_after`).
    RetryAfter(u32),
    /// The response carries this `Content-Type`.
    ContentType(String),
}

/// The error for a fault that cannot be parsed, naming the text and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "fault {text:?}: {problem}; expected status=<100..599>, latency=<N>ms|s, fail=<reason>, malformed, truncate, drop, drop-after, retry-after=<0..86400> or content-type=<type>"
)]
pub struct ParseFaultError {
    /// The fault as written.
    pub text: String,
    /// What is wrong with it.
    pub problem: String,
}

impl FromStr for Fault {
    type Err = ParseFaultError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let error = |problem: String| ParseFaultError {
            text: text.to_owned(),
            problem,
        };
        let (name, value) = match text.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (text, None),
        };
        match (name, value) {
            ("status", Some(value)) => {
                let status: u16 = value
                    .parse()
                    .map_err(|_| error(format!("status {value:?} is not a number")))?;
                if !(100..=599).contains(&status) {
                    return Err(error(format!(
                        "status {status} is outside the range 100..599"
                    )));
                }
                Ok(Fault::Status(status))
            }
            ("latency", Some(value)) => parse_duration(value).map(Fault::Latency).map_err(error),
            ("fail", Some(reason)) if !reason.is_empty() => Ok(Fault::FailTask(reason.to_owned())),
            ("fail", _) => Err(error("fail needs a reason: fail=<reason>".into())),
            ("content-type", Some(kind)) if !kind.is_empty() => {
                Ok(Fault::ContentType(kind.to_owned()))
            }
            ("malformed", None) => Ok(Fault::Malformed),
            ("truncate" | "truncated", None) => Ok(Fault::Truncated),
            ("drop", None) => Ok(Fault::Drop),
            ("drop-after", None) => Ok(Fault::DropAfter),
            ("retry-after", Some(value)) => match value.parse::<u32>() {
                Ok(secs) if secs <= 86_400 => Ok(Fault::RetryAfter(secs)),
                _ => Err(error(format!(
                    "retry-after {value:?} is not a number of seconds in the range 0..86400"
                ))),
            },
            _ => Err(error(format!("{name:?} is not a known fault"))),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status(status) => write!(f, "status={status}"),
            Fault::Latency(duration) => write!(f, "latency={}ms", duration.as_millis()),
            Fault::FailTask(reason) => write!(f, "fail={reason}"),
            Fault::Malformed => f.write_str("malformed"),
            Fault::Truncated => f.write_str("truncate"),
            Fault::Drop => f.write_str("drop"),
            Fault::DropAfter => f.write_str("drop-after"),
            Fault::RetryAfter(secs) => write!(f, "retry-after={secs}"),
            Fault::ContentType(kind) => write!(f, "content-type={kind}"),
        }
    }
}

/// Parses the `x-emulator-fault` header: a comma-separated list of faults.
pub fn parse_fault_list(text: &str) -> Result<Vec<Fault>, ParseFaultError> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// `250ms`, `2s` or a bare number of milliseconds.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let (digits, scale) = if let Some(ms) = value.strip_suffix("ms") {
        (ms, 1)
    } else if let Some(s) = value.strip_suffix('s') {
        (s, 1000)
    } else {
        (value, 1)
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("latency {value:?} is not <N>ms or <N>s"))?;
    let millis = n.saturating_mul(scale);
    if millis > 600_000 {
        return Err(format!(
            "latency {value:?} is above the maximum 600s (600000ms)"
        ));
    }
    Ok(Duration::from_millis(millis))
}

/// A fault applied to a run's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// The operations it applies to; `None` for every operation. An operationId applies to that
    /// operation of every provider that has it, `<id>:<operationId>` to that of provider `<id>`,
    /// `<id>:*` to every operation of one provider; `x-job.create` and `x-job.result` to the create
    /// and result operations of every `x-job` family (the docs' pair and each alias),
    /// `<id>:x-job.result` to those of one provider.
    pub operation: Option<String>,
    /// Applies to every n-th matching request (1 = every one, 2 = the 2nd, 4th, ...); 0 never.
    pub every_nth: u32,
    /// Applies at most this many times (`Some(1)` with `every_nth: 1`: the first matching request
    /// only); `None` for no limit.
    pub times: Option<u32>,
    /// The fault.
    pub fault: Fault,
}

impl FaultRule {
    /// Whether the rule applies to `operation` of `provider`.
    pub fn applies_to(&self, provider: Provider, operation: &str) -> bool {
        let Some(target) = self.operation.as_deref() else {
            return true;
        };
        let names = |what: &str| {
            let job = &Spec::embedded(provider).extensions().job;
            match what {
                "x-job.create" => job.is_create(operation),
                "x-job.result" => job.is_result(operation),
                _ => what == operation,
            }
        };
        match target.split_once(':') {
            Some((who, what)) => who == provider.id() && (what == "*" || names(what)),
            None => names(target),
        }
    }

    /// A rule applying `fault` to every request of every operation.
    pub fn always(fault: Fault) -> Self {
        FaultRule {
            operation: None,
            every_nth: 1,
            times: None,
            fault,
        }
    }
}

/// Faults every request with one key gets (`--key-fault KEY=FAULT`, scenario `key_faults`).
#[derive(Debug, Clone)]
pub struct KeyFault {
    /// The key (never logged).
    pub key: ApiKey,
    /// The fault, as in the header.
    pub fault: Fault,
}

impl FromStr for KeyFault {
    type Err = String;

    /// `KEY=FAULT`, e.g. `sk-fail=fail=nsfw detected` (the first `=` ends the key).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (key, fault) = text
            .split_once('=')
            .filter(|(key, _)| !key.trim().is_empty())
            .ok_or_else(|| "a key fault is KEY=FAULT, e.g. sk-fail=fail=<reason>".to_owned())?;
        Ok(KeyFault {
            key: ApiKey::new(key.trim()),
            fault: fault.parse().map_err(|e: ParseFaultError| e.to_string())?,
        })
    }
}

/// The run's faults: its rules (with how many requests each has matched) and the faults bound to
/// keys.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<FaultRule>,
    counters: Vec<AtomicU64>,
    key_faults: Vec<KeyFault>,
}

impl Faults {
    pub fn new(rules: Vec<FaultRule>, key_faults: Vec<KeyFault>) -> Faults {
        Faults {
            counters: rules.iter().map(|_| AtomicU64::new(0)).collect(),
            rules,
            key_faults,
        }
    }

    /// Whether any fault is bound to a key.
    pub fn has_key_faults(&self) -> bool {
        !self.key_faults.is_empty()
    }
}

/// The faults that apply to one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub status: Option<u16>,
    pub latency: Duration,
    pub fail: Option<String>,
    pub malformed: bool,
    pub truncated: bool,
    pub drop: bool,
    pub drop_after: bool,
    pub retry_after: Option<u32>,
    pub content_type: Option<String>,
}

impl Plan {
    fn add(&mut self, fault: Fault) {
        match fault {
            Fault::Status(status) => self.status = Some(status),
            Fault::Latency(latency) => self.latency += latency,
            Fault::FailTask(reason) => self.fail = Some(reason),
            Fault::Malformed => self.malformed = true,
            Fault::Truncated => self.truncated = true,
            Fault::Drop => self.drop = true,
            Fault::DropAfter => self.drop_after = true,
            Fault::RetryAfter(secs) => self.retry_after = Some(secs),
            Fault::ContentType(kind) => self.content_type = Some(kind),
        }
    }

    /// The faults of the run's rules that hit this request of `operation` of `provider`, then the
    /// header's.
    pub fn for_request(
        faults: &Faults,
        provider: Provider,
        operation: &str,
        headers: &HeaderMap,
    ) -> Result<Plan, ParseFaultError> {
        let mut plan = Plan::default();
        for (rule, counter) in faults.rules.iter().zip(&faults.counters) {
            if !rule.applies_to(provider, operation) {
                continue;
            }
            let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
            let every = u64::from(rule.every_nth);
            if every > 0
                && n % every == 0
                && rule.times.is_none_or(|times| n / every <= u64::from(times))
            {
                plan.add(rule.fault.clone());
            }
        }
        for value in headers.get_all(FAULT_HEADER) {
            let text = value.to_str().map_err(|_| ParseFaultError {
                text: String::from_utf8_lossy(value.as_bytes()).into_owned(),
                problem: "the header is not ASCII".into(),
            })?;
            for fault in parse_fault_list(text)? {
                plan.add(fault);
            }
        }
        Ok(plan)
    }

    /// Adds the faults bound to the key whose hash is `key_hash` (see [`KeyFault`]).
    pub fn add_key_faults(&mut self, faults: &Faults, key_hash: u64) {
        for bound in &faults.key_faults {
            if stable_hash(bound.key.expose_secret().as_bytes()) == key_hash {
                self.add(bound.fault.clone());
            }
        }
    }

    /// The body as the faults leave it.
    pub fn mangle(&self, body: Vec<u8>) -> Vec<u8> {
        if self.malformed {
            return b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec();
        }
        if self.truncated {
            let mut body = body;
            body.truncate(body.len() / 2);
            return body;
        }
        body
    }
}

/// Lets a request close its own connection without a response (the `drop` fault). The emulator's
/// server puts one in each request's extensions.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionKiller(pub Arc<Notify>);

/// A body that fails at once: where no [`ConnectionKiller`] is available (the router served by
/// someone else's server), hyper aborts the connection on it.
pub(crate) fn failing_body() -> Body {
    Body::new(FailingBody)
}

struct FailingBody;

impl http_body::Body for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "x-emulator-fault: drop",
        ))))
    }
}

/// Never resolves (a dropped request waits here while its connection is closed).
pub(crate) async fn forever() -> Infallible {
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_as_documented() {
        let faults =
            parse_fault_list("status=503, latency=250ms,fail=nsfw detected,malformed,truncate,drop,content-type=text/html,drop-after,retry-after=2")
                .unwrap();
        assert_eq!(
            faults,
            vec![
                Fault::Status(503),
                Fault::Latency(Duration::from_millis(250)),
                Fault::FailTask("nsfw detected".into()),
                Fault::Malformed,
                Fault::Truncated,
                Fault::Drop,
                Fault::ContentType("text/html".into()),
                Fault::DropAfter,
                Fault::RetryAfter(2),
            ]
        );
        let error = "retry-after=soon".parse::<Fault>().unwrap_err().to_string();
        assert!(error.contains("0..86400"), "{error}");
        assert_eq!(
            "latency=2s".parse::<Fault>().unwrap(),
            Fault::Latency(Duration::from_secs(2))
        );
        let error = "status=700".parse::<Fault>().unwrap_err().to_string();
        assert!(
            error.contains("700 is outside the range 100..599"),
            "{error}"
        );
        let error = "explode".parse::<Fault>().unwrap_err().to_string();
        assert!(
            error.contains("\"explode\" is not a known fault"),
            "{error}"
        );
    }
}
