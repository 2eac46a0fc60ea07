//! The named checks. Each asserts one promise of a spec against a target, and each has a test
//! proving it fails when the target breaks that promise (`tests/harness_checks.rs`).

mod acceptance;
mod agreement;
mod auth;
mod budgeting;
mod lifecycle;
mod methods;
mod property;
mod responses;
mod stateful;

use std::time::Duration;

use img2img_specs::JobStatus;
use serde_json::Value;

use super::http::{Caller, Exchange};
use super::payload::Payload;
use img2img_report::results::{Failure, Target};

pub use lifecycle::{JobRun, run_job};

/// A check's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    /// Valid requests are accepted.
    PositiveAcceptance,
    /// Invalid requests are refused with a 4xx naming the field.
    NegativeRejection,
    /// Missing and wrong keys are refused.
    AuthEnforcement,
    /// Accepted jobs finish with the requested images.
    JobLifecycle,
    /// The same seed gives the same images; another seed, others.
    SeedDeterminism,
    /// The generated client accepts exactly what the target accepts.
    ClientServerAgreement,
    /// Every response body validates against the spec.
    ResponseSchema,
    /// Every response status is documented for its operation.
    DocumentedStatus,
    /// Every JSON response says `application/json`.
    ContentType,
    /// No response is a 5xx.
    ServerErrors,
    /// A created job is found by following the spec's link to the result operation.
    CreatedJobRetrievable,
    /// An unknown job id gets the spec's `x-not-found` answer.
    UnknownIdNotFound,
    /// An expired job's id gets the spec's `x-not-found` answer.
    ExpiredIdNotFound,
    /// A method the spec does not list for a path gets 405 with `Allow`.
    UnsupportedMethod,
}

impl CheckId {
    /// Every check, in the order a run executes them (the response-judging ones last, so they also
    /// judge every exchange the others made).
    pub const ALL: [CheckId; 14] = [
        CheckId::PositiveAcceptance,
        CheckId::NegativeRejection,
        CheckId::AuthEnforcement,
        CheckId::JobLifecycle,
        CheckId::SeedDeterminism,
        CheckId::ClientServerAgreement,
        CheckId::CreatedJobRetrievable,
        CheckId::UnknownIdNotFound,
        CheckId::ExpiredIdNotFound,
        CheckId::UnsupportedMethod,
        CheckId::ResponseSchema,
        CheckId::DocumentedStatus,
        CheckId::ContentType,
        CheckId::ServerErrors,
    ];

    /// The id used in flags and reports.
    pub fn id(self) -> &'static str {
        match self {
            CheckId::PositiveAcceptance => "positive_acceptance",
            CheckId::NegativeRejection => "negative_rejection",
            CheckId::AuthEnforcement => "auth_enforcement",
            CheckId::JobLifecycle => "job_lifecycle",
            CheckId::SeedDeterminism => "seed_determinism",
            CheckId::ClientServerAgreement => "client_server_agreement",
            CheckId::ResponseSchema => "response_schema",
            CheckId::DocumentedStatus => "documented_status",
            CheckId::ContentType => "content_type",
            CheckId::ServerErrors => "server_errors",
            CheckId::CreatedJobRetrievable => "created_job_retrievable",
            CheckId::UnknownIdNotFound => "unknown_id_not_found",
            CheckId::ExpiredIdNotFound => "expired_id_not_found",
            CheckId::UnsupportedMethod => "unsupported_method",
        }
    }

    /// One line saying what the check asserts.
    pub fn description(self) -> &'static str {
        match self {
            CheckId::PositiveAcceptance => {
                "a request valid per the spec is accepted: 2xx with a job id"
            }
            CheckId::NegativeRejection => {
                "a request breaking exactly one constraint is refused with a 4xx (or the spec's error body) in the provider's error shape, naming the field"
            }
            CheckId::AuthEnforcement => {
                "a request with no key, or a wrong key, is refused with 401/403"
            }
            CheckId::JobLifecycle => {
                "an accepted job reaches a terminal status before its deadline, and its images decode with the requested size, count and format"
            }
            CheckId::SeedDeterminism => {
                "the same request with the same seed gives the same image bytes; another seed gives other bytes"
            }
            CheckId::ClientServerAgreement => {
                "the generated client's request guard accepts exactly the requests the target accepts (differential)"
            }
            CheckId::ResponseSchema => {
                "every response body validates against the spec's schema for its operation and status"
            }
            CheckId::DocumentedStatus => {
                "every response status is one the spec documents for its operation"
            }
            CheckId::ContentType => {
                "every response of a JSON operation says Content-Type: application/json"
            }
            CheckId::ServerErrors => {
                "no response of the run (valid, invalid and unknown-id requests included) is a 5xx"
            }
            CheckId::CreatedJobRetrievable => {
                "a job the create call accepted is found by following the spec's link to the poll/fetch operation"
            }
            CheckId::UnknownIdNotFound => {
                "a poll/fetch of a job id nobody created gets the spec's x-not-found answer"
            }
            CheckId::ExpiredIdNotFound => {
                "once a finished job's TTL has passed, its id gets the spec's x-not-found answer (use-after-free for expiring jobs)"
            }
            CheckId::UnsupportedMethod => {
                "every path asked with a method the spec does not list for it gets 405 with an Allow header naming exactly the listed methods"
            }
        }
    }

    /// Requests one case costs, for the dry-run plan.
    pub fn requests_per_case(self) -> u32 {
        match self {
            CheckId::JobLifecycle => 4,
            CheckId::SeedDeterminism => 12,
            CheckId::AuthEnforcement | CheckId::ResponseSchema => 2,
            CheckId::CreatedJobRetrievable | CheckId::UnknownIdNotFound => 2,
            CheckId::ExpiredIdNotFound => 8,
            CheckId::UnsupportedMethod => 3,
            _ => 1,
        }
    }

    /// Create calls (the paid ones, each a job of up to the payload's image count) one case may
    /// send, for the dry-run plan's cost.
    pub fn creates_per_case(self) -> u32 {
        match self {
            CheckId::SeedDeterminism => 3,
            CheckId::AuthEnforcement => 2,
            CheckId::UnsupportedMethod => 0,
            _ => 1,
        }
    }

    /// Cases this check runs when `cases` are asked for (job checks run fewer: each is a whole job).
    pub fn cases(self, cases: u32) -> u32 {
        match self {
            CheckId::JobLifecycle => cases.clamp(1, 4),
            CheckId::SeedDeterminism
            | CheckId::AuthEnforcement
            | CheckId::CreatedJobRetrievable
            | CheckId::UnknownIdNotFound
            | CheckId::ExpiredIdNotFound
            | CheckId::UnsupportedMethod => 1,
            _ => cases,
        }
    }
}

/// The checks as `--check` values: `conformance --help` lists each with what it asserts.
impl clap::ValueEnum for CheckId {
    fn value_variants<'a>() -> &'a [Self] {
        &CheckId::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.id()).help(self.description()))
    }
}

impl std::str::FromStr for CheckId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CheckId::ALL
            .into_iter()
            .find(|c| c.id() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = CheckId::ALL.iter().map(|c| c.id()).collect();
                format!("unknown check {s:?}: expected one of {}", known.join(", "))
            })
    }
}

/// How jobs are waited for.
#[derive(Debug, Clone)]
pub struct Polling {
    /// Give up on a job after this long.
    pub deadline: Duration,
    /// First wait between polls.
    pub initial: Duration,
    /// Longest wait between polls.
    pub max: Duration,
}

/// What every check gets.
#[derive(Debug, Clone)]
pub struct Context {
    /// The HTTP caller (provider, base URL, key, budget, journal).
    pub caller: Caller,
    /// How generated requests are made worth sending.
    pub payload: Payload,
    /// Cases per property check.
    pub cases: u32,
    /// The run's seed.
    pub seed: u64,
    /// Most shrink steps (each costs requests).
    pub max_shrink_iters: u32,
    /// How jobs are waited for.
    pub polling: Polling,
    /// Where the checks run.
    pub target: Target,
    /// When this check must be done by: a case still running then is cut short and the check
    /// reported failed with the reason (`None`: no bound beyond each job's deadline).
    pub deadline: Option<tokio::time::Instant>,
    /// How long the target keeps a finished job before it forgets it (the emulators' job TTL;
    /// `None` when unknown, as for live providers: the expiry check is then skipped).
    pub job_ttl: Option<Duration>,
}

impl Context {
    /// Time left before the check's deadline (`None`: unbounded).
    pub fn time_left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(tokio::time::Instant::now()))
    }
}

/// What a check came to.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Every case held.
    Passed {
        /// Cases run.
        cases: u32,
    },
    /// A case broke the check.
    Failed {
        /// Cases run before (and including) the failure.
        cases: u32,
        /// The minimal failing case.
        failure: Failure,
    },
    /// Not run.
    Skipped(String),
}

/// Runs `check` in `context`.
pub async fn run(check: CheckId, context: &Context) -> Verdict {
    match check {
        CheckId::PositiveAcceptance => acceptance::positive(context).await,
        CheckId::NegativeRejection => acceptance::negative(context).await,
        CheckId::AuthEnforcement => auth::run(context).await,
        CheckId::JobLifecycle => lifecycle::check(context).await,
        CheckId::SeedDeterminism => lifecycle::seeds(context).await,
        CheckId::ClientServerAgreement => agreement::run(context).await,
        CheckId::ResponseSchema => responses::schema(context).await,
        CheckId::DocumentedStatus => responses::statuses(context).await,
        CheckId::ContentType => responses::content_types(context).await,
        CheckId::ServerErrors => responses::server_errors(context).await,
        CheckId::CreatedJobRetrievable => stateful::retrievable(context).await,
        CheckId::UnknownIdNotFound => stateful::unknown(context).await,
        CheckId::ExpiredIdNotFound => stateful::expired(context).await,
        CheckId::UnsupportedMethod => methods::unsupported(context).await,
    }
}

/// A failure from an exchange.
pub(crate) fn failure(message: impl Into<String>, exchange: Option<&Exchange>) -> Failure {
    Failure {
        message: message.into(),
        operation: exchange.map(|e| e.operation.clone()),
        request: exchange.and_then(|e| e.request.clone()),
        response: exchange.and_then(Exchange::recorded),
    }
}

/// The job id in a create response, per `x-job`.
pub(crate) fn job_id(context: &Context, body: &Value) -> Option<String> {
    context.caller.spec().extensions().job.id_of(body)
}

/// The job status in a response, per `x-job`.
pub(crate) fn job_status(context: &Context, body: &Value) -> Option<String> {
    let job = &context.caller.spec().extensions().job;
    job.status_of(body).map(str::to_owned)
}

/// Whether a response refuses the request: a 4xx, or a 2xx whose status word is a failure and
/// which names no job (a provider answering errors with HTTP 200: an `x-job.failed` word at
/// `x-job.status-pointer`).
pub(crate) fn is_refusal(context: &Context, exchange: &Exchange) -> bool {
    match exchange.status {
        Some(status) if (400..500).contains(&status) => true,
        Some(status) if (200..300).contains(&status) => {
            exchange.json.as_ref().is_some_and(|body| {
                let job = &context.caller.spec().extensions().job;
                job_status(context, body).is_some_and(|s| job.classify(&s) == JobStatus::Failed)
                    && job_id(context, body).is_none()
            })
        }
        _ => false,
    }
}
