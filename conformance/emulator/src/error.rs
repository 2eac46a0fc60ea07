//! What can go wrong with a request, independent of how each provider words it.

use axum::http::StatusCode;

/// Why a request is refused; each provider turns it into its own error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// The body breaks the spec, is not JSON, or names an image the emulator cannot use.
    InvalidRequest,
    /// No key was sent.
    MissingKey,
    /// A key was sent but is not one of the accepted keys.
    WrongKey,
    /// No job with this id (or it was evicted).
    NotFound,
    /// The body is larger than the documented limit.
    TooLarge,
    /// Over the provider's rate limit.
    RateLimited {
        /// Seconds to wait (ModelsLab's `retry_after`).
        retry_after: u32,
    },
    /// The emulator is full (every job slot holds a running job).
    Unavailable,
    /// A status asked for by a fault.
    Fault,
}

/// A refused request: status, kind and a message naming the field, value and allowed range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorKind::InvalidRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, ErrorKind::NotFound, message)
    }
}
