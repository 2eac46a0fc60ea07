//! An error answer read by the spec's `x-errors`: the message, reason, wait and status its body
//! carries (`ErrorsInfo::read`), and what the rules of `decide-by` make of them
//! (`ErrorsInfo::decide`).

use std::time::Duration;

use img2img_specs::extensions::{ErrorKind, ErrorRule, ErrorsInfo, status_kind};
use img2img_specs::{Provider, Spec};
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{Error, Scrub};

/// The `x-errors` of `provider`'s spec.
pub(crate) fn errors_of(provider: Provider) -> &'static ErrorsInfo {
    &Spec::embedded(provider).extensions().errors
}

/// What an error body answered with HTTP `status` means by `rules`; `None` when the body says
/// nothing (no message, no reason) or no rule decides.
pub(crate) fn decided(
    provider: Provider,
    status: u16,
    headers: &HeaderMap,
    body: &Value,
    rules: &[ErrorRule],
    scrub: &Scrub,
) -> Option<Error> {
    let errors = errors_of(provider);
    let answer = errors.read(status, body);
    if !answer.says_anything() {
        return None;
    }
    let decision = errors.decide(&answer, rules)?;
    let message = scrub.text(answer.message.or(answer.reason).unwrap_or(""));
    let retry_after = answer.retry_after.or_else(|| retry_after_header(headers));
    Some(error_of(
        decision.kind,
        decision.field,
        answer.status,
        message,
        retry_after,
    ))
}

/// The error an answer with an error status and a JSON body means, by every rule of the spec's
/// `decide-by`; a body that says nothing the rules can read is an unexpected body.
pub(crate) fn from_answer(
    provider: Provider,
    status: u16,
    headers: &HeaderMap,
    body: &Value,
    scrub: &Scrub,
) -> Error {
    let rules = errors_of(provider).rules();
    decided(provider, status, headers, body, rules, scrub)
        .unwrap_or_else(|| unexpected(Some(status), body, scrub))
}

/// The error of an answer whose body may not be JSON (a status the spec does not document): a JSON
/// body is read as [`from_answer`] reads it; for anything else (an HTML page from a proxy) the
/// status is all there is.
pub(crate) fn from_bytes(
    provider: Provider,
    status: u16,
    headers: &HeaderMap,
    bytes: &[u8],
    scrub: &Scrub,
) -> Error {
    if let Ok(body) = serde_json::from_slice::<Value>(bytes) {
        return from_answer(provider, status, headers, &body, scrub);
    }
    let snippet = scrub.body(bytes);
    match status_kind(status) {
        Some(kind) => error_of(kind, None, status, snippet, retry_after_header(headers)),
        None => Error::UnexpectedBody {
            status: Some(status),
            snippet,
        },
    }
}

/// The typed error of a kind of `x-errors`.
fn error_of(
    kind: ErrorKind,
    field: Option<String>,
    status: u16,
    message: String,
    retry_after: Option<Duration>,
) -> Error {
    match kind {
        ErrorKind::InvalidRequest | ErrorKind::NotFound => Error::InvalidRequest { field, message },
        ErrorKind::Unauthorized => Error::Unauthorized { message },
        ErrorKind::Forbidden => Error::Forbidden { message },
        ErrorKind::InsufficientBalance => Error::InsufficientBalance { message },
        ErrorKind::RateLimited => Error::RateLimited {
            retry_after,
            message,
        },
        ErrorKind::ContentPolicy => Error::ContentPolicy { message },
        ErrorKind::Unavailable | ErrorKind::ServerError => Error::Server { status, message },
        ErrorKind::TaskFailed => Error::TaskFailed { reason: message },
    }
}

/// The wait a `Retry-After` header asks for: delta-seconds or an HTTP date.
pub(crate) fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A body none of the documented shapes fits.
pub(crate) fn unexpected(status: Option<u16>, body: &Value, scrub: &Scrub) -> Error {
    Error::UnexpectedBody {
        status,
        snippet: scrub.text(&body.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after_header(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_header(&headers), Some(Duration::ZERO));
    }

    #[test]
    fn a_page_that_is_not_json_is_read_by_its_status_alone() {
        let scrub = Scrub::new(None);
        for provider in Provider::all() {
            let headers = HeaderMap::new();
            let page = b"<html>bad gateway</html>";
            assert_eq!(
                from_bytes(provider, 502, &headers, page, &scrub),
                Error::Server {
                    status: 502,
                    message: "<html>bad gateway</html>".into()
                }
            );
            assert_eq!(
                from_bytes(provider, 418, &headers, page, &scrub).kind(),
                "unexpected_body"
            );
            // A body that says nothing is unexpected whatever its status.
            assert_eq!(
                from_answer(provider, 500, &headers, &serde_json::json!({}), &scrub).kind(),
                "unexpected_body"
            );
        }
    }
}
