//! The error of a call through a generated client that did not succeed: a refusal before sending
//! (the request guard's, classified by its kind), a transport failure (by how far it got), or an
//! answer read by the spec's `x-errors`.

use img2img_specs::Provider;
use img2img_specs::guard::GuardErrorKind;
use img2img_specs::operations::{NotSent, Outcome};

use super::{Error, Scrub, TransportStage, answer};

/// Records the HTTP status an answer came with on the attempt's `request` span, so the log says
/// the status received (a 403 stays 403 even when its reason reads as a bad key).
fn record_status(status: u16) {
    tracing::Span::current().record("status", status);
}

/// The error an outcome other than [`Outcome::Success`] stands for (a success passed here is an
/// unexpected body).
pub(crate) fn from_outcome(provider: Provider, outcome: Outcome, scrub: &Scrub) -> Error {
    if let Some(status) = outcome.status() {
        record_status(status);
    }
    match outcome {
        Outcome::NotSent(refusal) => not_sent(refusal, scrub),
        Outcome::ErrorBody {
            status,
            headers,
            body,
        } => answer::from_answer(provider, status, &headers, &body, scrub),
        Outcome::Undocumented {
            status,
            headers,
            body,
        } => answer::from_bytes(provider, status, &headers, &body, scrub),
        // progenitor does not keep the status of a body it cannot read; such a body is judged as
        // one whose status is unknown (a poll retries it).
        Outcome::InvalidPayload { body, .. } => Error::UnexpectedBody {
            status: None,
            snippet: scrub.body(&body),
        },
        Outcome::Transport(error) => transport(&error, scrub),
        Outcome::Hook(message) => Error::UnexpectedBody {
            status: None,
            snippet: scrub.text(&message),
        },
        Outcome::Success { status, body, .. } => answer::unexpected(Some(status), &body, scrub),
    }
}

/// The error of a request refused before sending: the request's fault is an invalid request
/// naming the field, the key's or the build's a configuration error.
fn not_sent(refusal: NotSent, scrub: &Scrub) -> Error {
    match refusal {
        NotSent::Refused {
            kind,
            field,
            detail,
        } => {
            let message = scrub.text(&detail);
            match kind {
                GuardErrorKind::Invalid | GuardErrorKind::BodyNotJson => {
                    Error::InvalidRequest { field, message }
                }
                GuardErrorKind::MissingKey
                | GuardErrorKind::KeyNotHeaderSafe
                | GuardErrorKind::BodyCannotCarryKey
                | GuardErrorKind::UnknownOperation
                | GuardErrorKind::SchemaDoesNotCompile => Error::config(message),
            }
        }
        NotSent::Body { ref path, .. } => Error::InvalidRequest {
            field: Some(path.clone()).filter(|p| p != "."),
            message: scrub.text(&refusal.to_string()),
        },
        NotSent::Param { ref name, .. } | NotSent::UnknownParam { ref name, .. } => {
            Error::InvalidRequest {
                field: Some(name.clone()),
                message: scrub.text(&refusal.to_string()),
            }
        }
        NotSent::NoBody { .. } | NotSent::Builder(_) => Error::InvalidRequest {
            field: None,
            message: scrub.text(&refusal.to_string()),
        },
    }
}

/// The transport error of a `reqwest` error, with how far the request got.
pub(crate) fn transport(error: &reqwest::Error, scrub: &Scrub) -> Error {
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

#[cfg(test)]
mod tests {
    use img2img_specs::guard::GuardError;
    use img2img_specs::{ApiKey, Spec};
    use serde_json::json;

    use super::*;

    fn refused(error: &GuardError) -> Error {
        let message = error.to_hook_message();
        let refusal = img2img_specs::guard::GuardRefusal::from_hook_message(&message)
            .expect("a guard message reads back");
        let scrub = Scrub::new(Some(&ApiKey::new("sk-live-123456")));
        let provider = Provider::all().next().expect("a spec");
        from_outcome(
            provider,
            Outcome::NotSent(NotSent::Refused {
                kind: refusal.kind,
                field: refusal.field,
                detail: refusal.detail.to_owned(),
            }),
            &scrub,
        )
    }

    #[test]
    fn guard_refusals_are_classified_by_their_kind() {
        for provider in Provider::all() {
            let spec = Spec::embedded(provider);
            let create = &spec.extensions().job.create;
            let schema = spec.request_schema(create).unwrap().unwrap();
            let violations = schema.validate(&json!({"no_such_field": 1})).unwrap_err();
            let first = violations.iter().next().map(|v| v.subject());
            let error = refused(&GuardError::Invalid(violations.clone()));
            assert_eq!(
                error,
                Error::InvalidRequest {
                    field: first,
                    message: violations.to_string(),
                },
                "{provider}"
            );
            let missing = GuardError::MissingKey {
                provider,
                env: "SOME_API_KEY".into(),
            };
            assert_eq!(
                refused(&missing),
                Error::Config {
                    message: format!("no API key for {provider}: pass one or set SOME_API_KEY")
                }
            );
            assert_eq!(
                refused(&GuardError::KeyNotHeaderSafe { provider }).kind(),
                "config"
            );
        }
    }

    #[test]
    fn refusals_of_the_generated_types_name_the_field() {
        let scrub = Scrub::new(None);
        let provider = Provider::all().next().expect("a spec");
        let body = NotSent::Body {
            path: "request.width".into(),
            message: "invalid type".into(),
        };
        assert!(matches!(
            from_outcome(provider, Outcome::NotSent(body), &scrub),
            Error::InvalidRequest { field: Some(f), .. } if f == "request.width"
        ));
        assert_eq!(
            from_outcome(provider, Outcome::Hook("said a hook".into()), &scrub).kind(),
            "unexpected_body"
        );
        assert_eq!(
            from_outcome(
                provider,
                Outcome::NotSent(NotSent::Builder("task_id was not initialized".into())),
                &scrub
            ),
            Error::InvalidRequest {
                field: None,
                message: "the generated client refused the request: task_id was not initialized"
                    .into()
            }
        );
    }
}
