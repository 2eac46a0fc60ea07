//! A refused request, whatever provider refuses it: its cause (the words of
//! `x-emulator.answers`), a message naming the field, value and allowed range, and what its answer
//! needs (a wait, the field, the id a not-found is about). Each provider's error template turns it
//! into its error body.

use axum::http::StatusCode;
use img2img_specs::extensions::{Answers, Cause, ErrorsInfo};

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// What happened.
    pub cause: Cause,
    /// What was wrong, naming the field, value and allowed range where there is one.
    pub message: String,
    /// The status when the cause does not decide it (a fault's, a not-found's).
    pub status: Option<StatusCode>,
    /// The wait a rate-limited answer asks for, in seconds.
    pub retry_after: Option<u32>,
    /// The first field a refused body got wrong.
    pub field: Option<String>,
    /// The id a not-found answer is about.
    pub job_id: Option<String>,
    /// The status word of the spec's `x-not-found`.
    pub job_status: Option<String>,
}

impl ApiError {
    pub fn new(cause: Cause, message: impl Into<String>) -> Self {
        ApiError {
            cause,
            message: message.into(),
            status: None,
            retry_after: None,
            field: None,
            job_id: None,
            job_status: None,
        }
    }

    /// The request breaks the spec, is not JSON, or names an image that cannot be used.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(Cause::InvalidRequest, message)
    }

    /// An image in the request that does not read as an image (not base64, a `data:` URL or a
    /// URL; not a PNG, JPEG or WebP that decodes).
    pub fn image_format(message: impl Into<String>) -> Self {
        ApiError::new(Cause::ImageFormat, message)
    }

    /// Over a rate limit; the answer asks for `retry_after` seconds.
    pub fn rate_limited(retry_after: u32, message: impl Into<String>) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(Cause::RateLimited, message)
        }
    }

    /// A status a fault asks for (a 429 with `retry_after` is a rate-limit answer).
    pub fn fault(status: StatusCode, retry_after: Option<u32>) -> Self {
        let message = format!(
            "emulated fault: HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        let cause = match retry_after {
            Some(_) if status == StatusCode::TOO_MANY_REQUESTS => Cause::RateLimited,
            _ => Cause::Fault,
        };
        ApiError {
            status: Some(status),
            retry_after: retry_after.filter(|_| cause == Cause::RateLimited),
            ..ApiError::new(cause, message.trim_end())
        }
    }

    /// No job `id`: answered with `status` (the spec's `x-not-found`).
    pub fn not_found(
        id: &str,
        status: StatusCode,
        job_status: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status: Some(status),
            job_id: Some(id.to_owned()),
            job_status,
            ..ApiError::new(Cause::NotFound, message)
        }
    }

    /// The HTTP status: the one given, else the spec's for the cause.
    pub fn status(&self, answers: &Answers) -> StatusCode {
        self.status
            .or_else(|| {
                answers
                    .status(self.cause)
                    .and_then(|s| StatusCode::from_u16(s).ok())
            })
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The reason the spec lists for this error sent with `status` (`""` when it lists none):
    /// `x-emulator.answers.reasons` for its cause, else the first `x-errors` lists for its
    /// meaning and status ([`Answers::reason`]).
    pub fn reason<'a>(
        &self,
        status: StatusCode,
        answers: &'a Answers,
        errors: &'a ErrorsInfo,
    ) -> &'a str {
        answers
            .reason(self.cause, status.as_u16(), errors)
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_with_a_wait_is_a_rate_limit_answer_only_at_429() {
        let limited = ApiError::fault(StatusCode::TOO_MANY_REQUESTS, Some(2));
        assert_eq!(
            (limited.cause, limited.retry_after),
            (Cause::RateLimited, Some(2))
        );
        assert_eq!(
            limited.message,
            "emulated fault: HTTP 429 Too Many Requests"
        );
        let unavailable = ApiError::fault(StatusCode::SERVICE_UNAVAILABLE, Some(2));
        assert_eq!(
            (unavailable.cause, unavailable.retry_after),
            (Cause::Fault, None)
        );
    }
}
