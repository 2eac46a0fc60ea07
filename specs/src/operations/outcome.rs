//! What a call came to: [`Outcome`], read from a generated client's result.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::NotSent;

/// What a call through a generated client came to.
///
/// Not `Clone`: a transport failure keeps the raw [`reqwest::Error`], so a caller can tell a
/// connection that was never opened (`is_connect`) from a timeout after sending.
#[derive(Debug)]
pub enum Outcome {
    /// Refused before anything was sent.
    NotSent(NotSent),
    /// Answered with a documented success status and its body.
    Success {
        /// HTTP status.
        status: u16,
        /// The response headers.
        headers: HeaderMap,
        /// The body, as the generated type serializes it.
        body: Value,
    },
    /// Answered with a documented error status and its body.
    ErrorBody {
        /// HTTP status.
        status: u16,
        /// The response headers.
        headers: HeaderMap,
        /// The body, as the generated type serializes it.
        body: Value,
    },
    /// Answered with a status the spec does not document; the body as it came.
    Undocumented {
        /// HTTP status.
        status: u16,
        /// The response headers.
        headers: HeaderMap,
        /// The raw body.
        body: Bytes,
    },
    /// Answered with a documented status whose body the generated type cannot read (or, never
    /// seen, cannot write back as JSON).
    InvalidPayload {
        /// HTTP status, when known (progenitor does not keep it for a body it cannot read).
        status: Option<u16>,
        /// The raw body (empty when it was read but could not be written back).
        body: Bytes,
        /// Why it could not be read.
        error: serde_json::Error,
    },
    /// The request or the response did not get through (connect, timeout, a broken body).
    Transport(reqwest::Error),
    /// A client hook failed with a message the request guard did not write.
    Hook(String),
}

impl Outcome {
    /// Whether nothing was sent.
    pub fn refused_before_sending(&self) -> bool {
        matches!(self, Outcome::NotSent(_))
    }

    /// The HTTP status, when a response arrived and its status is known.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Success { status, .. }
            | Outcome::ErrorBody { status, .. }
            | Outcome::Undocumented { status, .. } => Some(*status),
            Outcome::InvalidPayload { status, .. } => *status,
            Outcome::Transport(error) => error.status().map(|s| s.as_u16()),
            Outcome::NotSent(_) | Outcome::Hook(_) => None,
        }
    }
}

impl From<NotSent> for Outcome {
    fn from(refusal: NotSent) -> Outcome {
        Outcome::NotSent(refusal)
    }
}
