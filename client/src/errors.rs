//! One typed error across the three providers, and the parsers that turn every error body shape
//! listed in `specs/PROVIDERS.md` into it. Where a body keeps its message, reason and wait, and
//! what each reason and word means, come from the spec's `x-errors`; a refusal of the request guard
//! is classified by its [`GuardErrorKind`].
//!
//! Every message that comes from a provider passes through [`Scrub`] before it is stored, so a
//! server that echoes the request (ModelsLab carries the key in the body) cannot put the key into an
//! error, a log line or a panic message.

use std::time::Duration;

use img2img_specs::extensions::{ErrorKind, ErrorReason, ErrorsInfo};
use img2img_specs::guard::{GuardErrorKind, GuardRefusal};
use img2img_specs::{ApiKey, Provider, Spec};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// The longest provider text kept in an error (characters); longer bodies are cut.
pub const SNIPPET_CHARS: usize = 240;

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
        /// The wait the server asked for (`Retry-After` or ModelsLab's `retry_after`).
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

/// Removes the key from provider text and bounds its length.
#[derive(Clone)]
pub struct Scrub {
    key: Option<ApiKey>,
}

impl std::fmt::Debug for Scrub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrub([redacted])")
    }
}

impl Scrub {
    /// A scrubber for this key.
    pub fn new(key: Option<&ApiKey>) -> Self {
        Scrub {
            key: key.filter(|k| !k.is_empty()).cloned(),
        }
    }

    /// `text` with every occurrence of the key replaced by `[redacted]`, cut to
    /// [`SNIPPET_CHARS`] characters.
    pub fn text(&self, text: &str) -> String {
        let clean = match &self.key {
            Some(key) if text.contains(key.expose_secret()) => {
                text.replace(key.expose_secret(), "[redacted]")
            }
            _ => text.to_owned(),
        };
        bound(&clean)
    }

    /// A body as a snippet: JSON compacted, anything else as lossy UTF-8.
    pub fn body(&self, body: &[u8]) -> String {
        let head = &body[..body.len().min(SNIPPET_CHARS * 4 + 64)];
        self.text(String::from_utf8_lossy(head).trim())
    }
}

fn bound(text: &str) -> String {
    if text.chars().count() <= SNIPPET_CHARS {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(SNIPPET_CHARS).collect();
        cut.push('…');
        cut
    }
}

/// Which call an error body answered: the paid create call or a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The create call.
    Create,
    /// A poll / fetch of the result.
    Poll,
}

/// The wait a `Retry-After` header asks for: delta-seconds or an HTTP date.
pub fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
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

/// The `x-errors` of `provider`'s spec: where its error bodies keep what they say, and what its
/// reasons and words mean.
fn errors_of(provider: Provider) -> &'static ErrorsInfo {
    &Spec::embedded(provider).extensions().errors
}

/// The error a documented reason means, with the field it names (the reason's own, else the one
/// its message names).
fn by_reason(
    reason: &ErrorReason,
    status: u16,
    message: String,
    retry_after: Option<Duration>,
    errors: &ErrorsInfo,
) -> Error {
    let field = || {
        reason
            .field
            .clone()
            .or_else(|| errors.field_in(&message).map(str::to_owned))
    };
    match reason.kind {
        ErrorKind::InvalidRequest | ErrorKind::NotFound => Error::InvalidRequest {
            field: field(),
            message,
        },
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

/// By HTTP status alone, when the body says nothing more specific.
fn by_status(
    status: u16,
    message: String,
    retry_after: Option<Duration>,
    errors: &ErrorsInfo,
) -> Option<Error> {
    Some(match status {
        401 => Error::Unauthorized { message },
        402 => Error::InsufficientBalance { message },
        403 if errors.says(ErrorKind::InsufficientBalance, &message) => {
            Error::InsufficientBalance { message }
        }
        403 => Error::Forbidden { message },
        429 => Error::RateLimited {
            retry_after,
            message,
        },
        400 | 404 | 409 | 422 => Error::InvalidRequest {
            field: None,
            message,
        },
        500..=599 => Error::Server { status, message },
        _ => return None,
    })
}

/// A GPTProto error body in any of its three shapes: `{"error": {"message", "type"}}`,
/// `{"error": {"message", "code"}}`, `{"code", "message", "type": "error"}`; the HTTP status
/// decides, but for a content-policy block.
pub fn gptproto(status: u16, headers: &HeaderMap, body: &Value, scrub: &Scrub) -> Error {
    let errors = errors_of(Provider::named("gptproto"));
    let Some(message) = errors.message_in(body).map(|m| scrub.text(m)) else {
        return unexpected(Some(status), body, scrub);
    };
    let reason = errors.reason_in(body).unwrap_or("");
    // The docs list the content-policy block as 503, but it is sent as HTTP 400.
    if matches!(status, 400 | 451 | 503)
        && (errors.says(ErrorKind::ContentPolicy, &message)
            || errors.says(ErrorKind::ContentPolicy, reason))
    {
        return Error::ContentPolicy { message };
    }
    by_status(status, message, retry_after_header(headers), errors)
        .unwrap_or_else(|| unexpected(Some(status), body, scrub))
}

/// A Novita error body `{code, reason, message, metadata}`, decided by its reason first.
pub fn novita(status: u16, headers: &HeaderMap, body: &Value, scrub: &Scrub) -> Error {
    let errors = errors_of(Provider::named("novita"));
    let reason = errors.reason_in(body).unwrap_or("");
    let message = errors
        .message_in(body)
        .map(|m| scrub.text(m))
        .unwrap_or_else(|| reason.to_owned());
    if message.is_empty() && reason.is_empty() {
        return unexpected(Some(status), body, scrub);
    }
    let retry_after = retry_after_header(headers);
    match errors.reason(reason) {
        Some(known) => by_reason(known, status, message, retry_after, errors),
        None => by_status(status, message, retry_after, errors)
            .unwrap_or_else(|| unexpected(Some(status), body, scrub)),
    }
}

/// A ModelsLab error body `{status: "error" | "failed", message | messege, retry_after}`, sent with
/// an error status or with HTTP 200 (decided by `status`, then by the words).
pub fn modelslab(
    status: u16,
    headers: &HeaderMap,
    body: &Value,
    phase: Phase,
    scrub: &Scrub,
) -> Error {
    let errors = errors_of(Provider::named("modelslab"));
    let message = errors
        .message_in(body)
        .map(|m| scrub.text(m))
        .unwrap_or_default();
    let body_status = errors.reason_in(body).unwrap_or("");
    let retry_after = errors
        .retry_after_in(body)
        .or_else(|| retry_after_header(headers));
    if message.is_empty() && body_status.is_empty() {
        return unexpected(Some(status), body, scrub);
    }
    if status == 429 || retry_after.is_some() || errors.says(ErrorKind::RateLimited, &message) {
        return Error::RateLimited {
            retry_after,
            message,
        };
    }
    if status == 401 || errors.says(ErrorKind::Unauthorized, &message) {
        return Error::Unauthorized { message };
    }
    if status == 402 || errors.says(ErrorKind::InsufficientBalance, &message) {
        return Error::InsufficientBalance { message };
    }
    let field = errors.field_in(&message).map(str::to_owned);
    if status != 200
        && let Some(e) = by_status(status, message.clone(), retry_after, errors)
    {
        return match e {
            Error::InvalidRequest { .. } => Error::InvalidRequest { field, message },
            other => other,
        };
    }
    if field.is_some() {
        return Error::InvalidRequest { field, message };
    }
    if errors.says(ErrorKind::ContentPolicy, &message) {
        return Error::ContentPolicy { message };
    }
    let refused = errors
        .reason(body_status)
        .is_some_and(|r| r.kind == ErrorKind::InvalidRequest);
    match phase {
        Phase::Create if refused => Error::InvalidRequest {
            field: None,
            message,
        },
        _ => Error::TaskFailed {
            reason: if message.is_empty() {
                format!("status {body_status}")
            } else {
                message
            },
        },
    }
}

/// A body none of the documented shapes fits.
pub fn unexpected(status: Option<u16>, body: &Value, scrub: &Scrub) -> Error {
    Error::UnexpectedBody {
        status,
        snippet: scrub.text(&body.to_string()),
    }
}

/// The error of a provider's error response, whatever its body.
pub fn from_body(
    provider: Provider,
    status: u16,
    headers: &HeaderMap,
    bytes: &[u8],
    phase: Phase,
    scrub: &Scrub,
) -> Error {
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
        // Not JSON (an HTML page from a proxy): the status is all there is.
        let snippet = scrub.body(bytes);
        let errors = errors_of(provider);
        return by_status(status, snippet.clone(), retry_after_header(headers), errors).unwrap_or(
            Error::UnexpectedBody {
                status: Some(status),
                snippet,
            },
        );
    };
    match provider.id() {
        "gptproto" => gptproto(status, headers, &body, scrub),
        "modelslab" => modelslab(status, headers, &body, phase, scrub),
        _ => novita(status, headers, &body, scrub),
    }
}

/// The transport error of a `reqwest` error, with how far the request got.
pub fn transport(error: &reqwest::Error, scrub: &Scrub) -> Error {
    let stage = if error.is_connect() {
        TransportStage::Connect
    } else if error.is_body() || error.is_decode() {
        TransportStage::Body
    } else {
        TransportStage::AfterSend
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Transport {
        stage,
        message: scrub.text(&message),
    }
}

/// Converts an error of a generated client. `E` is the provider's error body type.
pub fn from_progenitor<E: serde::Serialize>(
    provider: Provider,
    error: progenitor_client::Error<E>,
    phase: Phase,
    scrub: &Scrub,
) -> ErrorOrResponse {
    use progenitor_client::Error as P;
    if let P::InvalidRequest(message) | P::Custom(message) = &error
        && let Some(refusal) = GuardRefusal::from_hook_message(message)
    {
        return ErrorOrResponse::Error(refused(refusal, scrub));
    }
    match error {
        // progenitor's own refusals (a builder field left unset, a body it cannot serialize).
        P::InvalidRequest(message) => ErrorOrResponse::Error(Error::InvalidRequest {
            field: None,
            message: scrub.text(&message),
        }),
        P::CommunicationError(e) | P::InvalidUpgrade(e) | P::ResponseBodyError(e) => {
            ErrorOrResponse::Error(transport(&e, scrub))
        }
        P::ErrorResponse(value) => {
            let status = value.status().as_u16();
            let headers = value.headers().clone();
            let body = serde_json::to_value(value.into_inner()).unwrap_or(Value::Null);
            ErrorOrResponse::Error(match provider.id() {
                "gptproto" => gptproto(status, &headers, &body, scrub),
                "modelslab" => modelslab(status, &headers, &body, phase, scrub),
                _ => novita(status, &headers, &body, scrub),
            })
        }
        P::InvalidResponsePayload(bytes, _) => ErrorOrResponse::Error(Error::UnexpectedBody {
            status: None,
            snippet: scrub.body(&bytes),
        }),
        P::UnexpectedResponse(response) => ErrorOrResponse::Response(response),
        P::Custom(message) => ErrorOrResponse::Error(Error::UnexpectedBody {
            status: None,
            snippet: scrub.text(&message),
        }),
    }
}

/// The error of a request the guard refused before sending: the request's fault is an invalid
/// request naming the field, the key's or the build's a configuration error.
fn refused(refusal: GuardRefusal<'_>, scrub: &Scrub) -> Error {
    let message = scrub.text(refusal.detail);
    match refusal.kind {
        GuardErrorKind::Invalid | GuardErrorKind::BodyNotJson => Error::InvalidRequest {
            field: refusal.field,
            message,
        },
        GuardErrorKind::MissingKey
        | GuardErrorKind::KeyNotHeaderSafe
        | GuardErrorKind::BodyCannotCarryKey
        | GuardErrorKind::UnknownOperation
        | GuardErrorKind::SchemaDoesNotCompile => Error::config(message),
    }
}

/// What a generated client's error becomes: a typed error, or an undocumented response still to be
/// read (its body holds the details).
#[derive(Debug)]
pub enum ErrorOrResponse {
    /// A typed error.
    Error(Error),
    /// A response with a status the spec does not document.
    Response(reqwest::Response),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_come_out_of_provider_messages() {
        let novita = errors_of(Provider::named("novita"));
        let modelslab = errors_of(Provider::named("modelslab"));
        assert_eq!(
            novita.field_in("request.width: value must be in range [128, 2048]"),
            Some("request.width")
        );
        assert_eq!(
            modelslab.field_in("width must be between 256 and 1024"),
            Some("width")
        );
        assert_eq!(modelslab.field_in("Rate limit must be respected now"), None);
    }

    fn through_the_hook(error: progenitor_client::Error<()>) -> Error {
        let scrub = Scrub::new(Some(&ApiKey::new("sk-live-123456")));
        match from_progenitor(Provider::named("novita"), error, Phase::Create, &scrub) {
            ErrorOrResponse::Error(error) => error,
            ErrorOrResponse::Response(response) => panic!("a response: {response:?}"),
        }
    }

    #[test]
    fn guard_refusals_are_classified_by_their_kind() {
        use img2img_specs::Spec;
        use img2img_specs::guard::GuardError;
        use progenitor_client::Error as P;

        let spec = Spec::embedded(Provider::named("novita"));
        let schema = spec.request_schema("create_img2img").unwrap().unwrap();
        let mut body = novita_body();
        body["request"]["width"] = 4096.into();
        let violations = schema.validate(&body).unwrap_err();
        let invalid = GuardError::Invalid(violations);
        assert_eq!(
            through_the_hook(P::InvalidRequest(invalid.to_hook_message())),
            Error::InvalidRequest {
                field: Some("request.width".into()),
                message: "request.width = 4096 is above the maximum 2048".into(),
            }
        );

        let missing = GuardError::MissingKey {
            provider: Provider::named("novita"),
            env: "NOVITA_API_KEY".into(),
        };
        assert_eq!(
            through_the_hook(P::Custom(missing.to_hook_message())),
            Error::Config {
                message: "no API key for novita: pass one or set NOVITA_API_KEY".into()
            }
        );
        let not_header_safe = GuardError::KeyNotHeaderSafe {
            provider: Provider::named("novita"),
        };
        assert_eq!(
            through_the_hook(P::Custom(not_header_safe.to_hook_message())).kind(),
            "config"
        );

        // progenitor's own refusals and custom errors keep their meaning.
        assert_eq!(
            through_the_hook(P::InvalidRequest("failed to serialize body".into())),
            Error::InvalidRequest {
                field: None,
                message: "failed to serialize body".into(),
            }
        );
        assert_eq!(
            through_the_hook(P::Custom("no API key, said a hook".into())).kind(),
            "unexpected_body"
        );
    }

    fn novita_body() -> Value {
        serde_json::json!({"request": {"model_name": "m", "image_base64": "", "prompt": "p",
            "width": 512, "height": 512, "image_num": 1, "steps": 20, "guidance_scale": 7.5,
            "sampler_name": "Euler a"}})
    }

    #[test]
    fn scrub_removes_the_key_and_bounds_the_length() {
        let key = ApiKey::new("sk-live-123456");
        let scrub = Scrub::new(Some(&key));
        assert_eq!(scrub.text("bad key sk-live-123456!"), "bad key [redacted]!");
        let long = "x".repeat(SNIPPET_CHARS * 3);
        assert_eq!(scrub.text(&long).chars().count(), SNIPPET_CHARS + 1);
    }

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
}
