//! One typed error across providers, and how every answer becomes one: an error body read by the
//! spec's `x-errors` (`answer`: where a body keeps its message, reason, wait and status, and the
//! rules of `decide-by` that say what it means), an outcome of a generated client (`outcome`: a
//! refusal of the request guard classified by its kind, a transport failure by how far it got).
//!
//! Every message that comes from a provider passes through [`Scrub`] before it is stored, so a
//! server that echoes the request (a key carried in the body) cannot put the key into an error, a
//! log line or a panic message.

mod answer;
mod outcome;
mod scrub;

use std::time::Duration;

pub(crate) use answer::{decided, errors_of, retry_after_header, unexpected};
pub(crate) use outcome::{from_outcome, transport};
pub use scrub::{SNIPPET_CHARS, Scrub};

/// Everything that can go wrong with a job, the same for every provider.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The provider does not accept the key (missing, unknown or revoked).
    #[error("unauthorized: {message}")]
    Unauthorized {
        /// The provider's words.
        message: String,
    },
    /// The key is valid but may not do this.
    #[error("forbidden: {message}")]
    Forbidden {
        /// The provider's words.
        message: String,
    },
    /// The account cannot pay for the job.
    #[error("insufficient balance: {message}")]
    InsufficientBalance {
        /// The provider's words.
        message: String,
    },
    /// Too many requests; `retry_after` is the wait the server asked for, if it said.
    #[error("rate limited{}: {message}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The wait the server asked for (`Retry-After`, or the body's `x-errors.retry-after-pointers`).
        retry_after: Option<Duration>,
        /// The provider's words.
        message: String,
    },
    /// The request was refused: by the spec before sending, or by the provider.
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// The field at fault (`request.width`), when known.
        field: Option<String>,
        /// What is wrong: the field, the value and the allowed range.
        message: String,
    },
    /// The provider refused the prompt or the image on content-policy grounds.
    #[error("blocked by content policy: {message}")]
    ContentPolicy {
        /// The provider's words.
        message: String,
    },
    /// The job ran and failed.
    #[error("task failed: {reason}")]
    TaskFailed {
        /// The provider's reason.
        reason: String,
    },
    /// The job did not finish before the overall deadline.
    #[error("deadline of {}s exceeded while the job was still {last_status}", deadline.as_secs())]
    DeadlineExceeded {
        /// The deadline that passed.
        deadline: Duration,
        /// The last status seen.
        last_status: String,
    },
    /// The provider failed (HTTP 5xx).
    #[error("server error (HTTP {status}): {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The provider's words.
        message: String,
    },
    /// The request did not complete.
    #[error("transport error ({stage}): {message}")]
    Transport {
        /// How far the request got; decides whether a paid call may be retried.
        stage: TransportStage,
        /// What went wrong.
        message: String,
    },
    /// A body none of the provider's documented shapes fits.
    #[error("unexpected response body{}: {snippet}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    UnexpectedBody {
        /// The HTTP status, when known (the generated clients drop it when a documented status
        /// carries a body that is not the documented JSON).
        status: Option<u16>,
        /// The start of the body, at most [`SNIPPET_CHARS`] characters.
        snippet: String,
    },
    /// The client is misconfigured (no key, a bad base URL, an unreadable file); nothing was sent.
    #[error("configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

/// How far a failed request got; only [`TransportStage::Connect`] proves it was never received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportStage {
    /// The connection could not be opened: the request was never sent.
    Connect,
    /// The request may have been sent (a timeout or a broken connection after connecting).
    AfterSend,
    /// The response status arrived but its body could not be read.
    Body,
}

impl std::fmt::Display for TransportStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportStage::Connect => "connect, nothing sent",
            TransportStage::AfterSend => "request may have been sent",
            TransportStage::Body => "reading the response body",
        })
    }
}

impl Error {
    /// A short, stable name of the variant (`rate_limited`), for JSON output and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Unauthorized { .. } => "unauthorized",
            Error::Forbidden { .. } => "forbidden",
            Error::InsufficientBalance { .. } => "insufficient_balance",
            Error::RateLimited { .. } => "rate_limited",
            Error::InvalidRequest { .. } => "invalid_request",
            Error::ContentPolicy { .. } => "content_policy",
            Error::TaskFailed { .. } => "task_failed",
            Error::DeadlineExceeded { .. } => "deadline_exceeded",
            Error::Server { .. } => "server",
            Error::Transport { .. } => "transport",
            Error::UnexpectedBody { .. } => "unexpected_body",
            Error::Config { .. } => "config",
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::Config {
            message: message.into(),
        }
    }
}
