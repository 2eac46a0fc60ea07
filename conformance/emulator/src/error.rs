//! What can go wrong with a request, independent of how each provider words it.

use axum::http::StatusCode;
use img2img_specs::extensions::{self, Cause, ErrorsInfo};
use img2img_specs::schema::unescape;
use serde_json::{Map, Value};

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

impl ErrorKind {
    /// What the error means in the words of `x-errors`; `None` for a fault, which is answered by
    /// its status alone.
    fn meaning(&self) -> Option<extensions::ErrorKind> {
        use extensions::ErrorKind as Meaning;
        Some(match self {
            ErrorKind::InvalidRequest | ErrorKind::TooLarge => Meaning::InvalidRequest,
            ErrorKind::MissingKey | ErrorKind::WrongKey => Meaning::Unauthorized,
            ErrorKind::NotFound => Meaning::NotFound,
            ErrorKind::RateLimited { .. } => Meaning::RateLimited,
            ErrorKind::Unavailable => Meaning::Unavailable,
            ErrorKind::Fault => return None,
        })
    }
}

/// A refused request: status, kind and a message naming the field, value and allowed range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub kind: ErrorKind,
    pub message: String,
    /// The first field a refused body got wrong.
    pub field: Option<String>,
    /// The id a not-found answer is about.
    pub job_id: Option<String>,
    /// The status word of the spec's `x-not-found`.
    pub job_status: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            field: None,
            job_id: None,
            job_status: None,
        }
    }

    /// What happened, in the words of `x-emulator.answers` (`error.cause`).
    pub fn cause(&self) -> Cause {
        match self.kind {
            ErrorKind::InvalidRequest => Cause::InvalidRequest,
            ErrorKind::MissingKey => Cause::MissingKey,
            ErrorKind::WrongKey => Cause::WrongKey,
            ErrorKind::NotFound => Cause::NotFound,
            ErrorKind::TooLarge => Cause::TooLarge,
            ErrorKind::RateLimited { .. } => Cause::RateLimited,
            ErrorKind::Unavailable => Cause::Unavailable,
            ErrorKind::Fault => Cause::Fault,
        }
    }

    /// The wait a rate-limited error asks for.
    pub fn retry_after(&self) -> Option<u32> {
        match self.kind {
            ErrorKind::RateLimited { retry_after } => Some(retry_after),
            _ => None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorKind::InvalidRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, ErrorKind::NotFound, message)
    }

    /// The reason the spec's `x-errors` lists for this error (`""` when it lists none): the first
    /// for its meaning and status; a fault (and a meaning listed for no reason) takes the first
    /// listed for the status.
    pub fn reason<'a>(&self, errors: &'a ErrorsInfo) -> &'a str {
        let status = self.status.as_u16();
        let reason = match self.kind.meaning() {
            Some(meaning) => errors.reason_for(meaning, status),
            None => errors.reason_for_status(status),
        };
        reason.map_or("", |r| r.reason.as_str())
    }

    /// The reason the spec lists for `meaning` with this error's status (`""` when it lists none).
    pub fn reason_meaning<'a>(
        &self,
        meaning: extensions::ErrorKind,
        errors: &'a ErrorsInfo,
    ) -> &'a str {
        errors
            .reason_for(meaning, self.status.as_u16())
            .map_or("", |r| r.reason.as_str())
    }
}

/// Puts `value` where the first of `pointers` (an `x-errors` list) points in `body`, creating
/// objects on the way; nothing when the list is empty.
pub(crate) fn put(body: &mut Value, pointers: &[String], value: Value) {
    let Some(pointer) = pointers.first() else {
        return;
    };
    let mut at = body;
    for segment in pointer.split('/').skip(1).map(unescape) {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(map) = at else {
            unreachable!("made an object above");
        };
        at = map.entry(segment).or_insert(Value::Null);
    }
    *at = value;
}

#[cfg(test)]
mod tests {
    use img2img_specs::{Provider, Spec};
    use serde_json::json;

    use super::*;

    fn error(status: u16, kind: ErrorKind) -> ApiError {
        ApiError::new(StatusCode::from_u16(status).unwrap(), kind, "m")
    }

    /// The reasons the Novita emulator answered with when they were typed into it, now read from
    /// the spec's `x-errors`.
    #[test]
    fn novita_reasons_come_from_the_spec() {
        let errors = &Spec::embedded(Provider::named("novita"))
            .extensions()
            .errors;
        let limited = ErrorKind::RateLimited { retry_after: 30 };
        for (status, kind, reason) in [
            (400, ErrorKind::InvalidRequest, "INVALID_REQUEST_BODY"),
            (401, ErrorKind::MissingKey, "FAILED_TO_AUTH"),
            (403, ErrorKind::WrongKey, "INVALID_API_KEY"),
            (404, ErrorKind::NotFound, "TASK_NOT_FOUND"),
            (413, ErrorKind::TooLarge, "REQUEST_ENTITY_TOO_LARGE"),
            (429, limited, "RATE_LIMIT_EXCEEDED"),
            (503, ErrorKind::Unavailable, "SERVICE_NOT_AVAILABLE"),
            (400, ErrorKind::Fault, "INVALID_REQUEST_BODY"),
            (401, ErrorKind::Fault, "FAILED_TO_AUTH"),
            (403, ErrorKind::Fault, "NOT_ENOUGH_BALANCE"),
            (404, ErrorKind::Fault, "MODEL_NOT_FOUND"),
            (429, ErrorKind::Fault, "RATE_LIMIT_EXCEEDED"),
            (503, ErrorKind::Fault, "SERVICE_NOT_AVAILABLE"),
            (500, ErrorKind::Fault, ""),
            (502, ErrorKind::Fault, ""),
        ] {
            let error = error(status, kind);
            assert_eq!(error.reason(errors), reason, "{error:?}");
        }
    }

    #[test]
    fn modelslab_status_words_come_from_the_spec() {
        use crate::providers::modelslab::error_body;
        let limited = ErrorKind::RateLimited { retry_after: 30 };
        for (status, kind, body) in [
            (
                400,
                ErrorKind::InvalidRequest,
                json!({"status": "error", "message": "m"}),
            ),
            (
                401,
                ErrorKind::MissingKey,
                json!({"status": "error", "message": "m"}),
            ),
            (
                404,
                ErrorKind::NotFound,
                json!({"status": "error", "message": "m"}),
            ),
            (
                429,
                limited,
                json!({"status": "error", "message": "m", "retry_after": 30}),
            ),
            (
                503,
                ErrorKind::Unavailable,
                json!({"status": "error", "message": "m"}),
            ),
            (
                403,
                ErrorKind::Fault,
                json!({"status": "error", "message": "m"}),
            ),
            (
                500,
                ErrorKind::Fault,
                json!({"status": "failed", "message": "m"}),
            ),
        ] {
            let error = error(status, kind);
            assert_eq!(error_body(&error), body, "{error:?}");
        }
    }

    #[test]
    fn put_creates_the_objects_on_the_way() {
        let mut body = json!({"code": 1});
        put(
            &mut body,
            &["/error/message".into(), "/message".into()],
            json!("m"),
        );
        put(&mut body, &["/a~1b".into()], json!(2));
        put(&mut body, &[], json!(3));
        assert_eq!(
            body,
            json!({"code": 1, "error": {"message": "m"}, "a/b": 2})
        );
    }
}
