//! What the generated [`Operations`](super::Operations) impls are made of: reading a
//! [`CallInput`] into generated types, sending a builder, reading its result into an [`Outcome`].
//! Hand-written code calls the trait instead.

use std::collections::BTreeMap;
use std::future::Future;

use progenitor_client::{Error, ResponseValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{BoxFuture, CallInput, NotSent, Outcome, RoundTripError};
use crate::guard::GuardRefusal;

/// A [`CallInput`] being read into one operation's generated types.
#[derive(Debug)]
pub struct Input {
    operation: &'static str,
    body: Option<Value>,
    params: BTreeMap<String, Value>,
}

impl Input {
    /// The input of `operation`, whose parameters are `known` (their names in the spec).
    ///
    /// # Errors
    /// [`NotSent::UnknownParam`] for a parameter the operation does not have.
    pub fn new(
        operation: &'static str,
        input: CallInput,
        known: &[&str],
    ) -> Result<Input, NotSent> {
        if let Some(name) = input.params.keys().find(|n| !known.contains(&n.as_str())) {
            return Err(NotSent::UnknownParam {
                operation: operation.to_owned(),
                name: name.clone(),
                known: known.iter().map(|k| (*k).to_owned()).collect(),
            });
        }
        Ok(Input {
            operation,
            body: input.body,
            params: input.params,
        })
    }

    /// Parameter `name` as its generated type `T`, if given. Its text form is accepted too: a
    /// string holding a number or a boolean, or a number or a boolean for a string.
    ///
    /// # Errors
    /// [`NotSent::Param`] when neither form fits `T`.
    pub fn param<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, NotSent> {
        let Some(value) = self.params.remove(name) else {
            return Ok(None);
        };
        let first = match T::deserialize(&value) {
            Ok(typed) => return Ok(Some(typed)),
            Err(e) => e,
        };
        if let Some(text_form) = text_form(&value)
            && let Ok(typed) = T::deserialize(&text_form)
        {
            return Ok(Some(typed));
        }
        Err(NotSent::Param {
            name: name.to_owned(),
            value,
            message: first.to_string(),
        })
    }

    /// The body as the generated type `T`, if given.
    ///
    /// # Errors
    /// [`NotSent::Body`] naming the field path where the body does not fit `T`.
    pub fn body<T: DeserializeOwned>(&mut self) -> Result<Option<T>, NotSent> {
        let Some(body) = self.body.take() else {
            return Ok(None);
        };
        serde_path_to_error::deserialize(body)
            .map(Some)
            .map_err(|e| NotSent::Body {
                path: e.path().to_string(),
                message: e.inner().to_string(),
            })
    }

    /// Checks that no body was given to an operation that takes none.
    ///
    /// # Errors
    /// [`NotSent::NoBody`].
    pub fn no_body(&self) -> Result<(), NotSent> {
        match self.body {
            Some(_) => Err(NotSent::NoBody {
                operation: self.operation.to_owned(),
            }),
            None => Ok(()),
        }
    }
}

/// The other form a parameter value may be written in: a string for a number or a boolean, a
/// number or a boolean for a string that holds one.
fn text_form(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) => serde_json::from_str::<Value>(text)
            .ok()
            .filter(|v| v.is_number() || v.is_boolean()),
        Value::Number(_) | Value::Bool(_) => Some(Value::String(value.to_string())),
        _ => None,
    }
}

/// Sends a prepared builder (`send` is its `send` method) and reads the result; a builder that
/// could not be prepared is its [`NotSent`].
pub fn send<'a, B, F, Fut, T, E>(prepared: Result<B, NotSent>, send: F) -> BoxFuture<'a, Outcome>
where
    B: Send + 'a,
    F: FnOnce(B) -> Fut + Send + 'a,
    Fut: Future<Output = Result<ResponseValue<T>, Error<E>>> + Send + 'a,
    T: Serialize + Send + 'a,
    E: Serialize + Send + 'a,
{
    Box::pin(async move {
        match prepared {
            Ok(builder) => outcome(send(builder).await).await,
            Err(refusal) => Outcome::NotSent(refusal),
        }
    })
}

/// A generated client's result as an [`Outcome`]; the body of an undocumented answer is read.
pub async fn outcome<T: Serialize, E: Serialize>(
    result: Result<ResponseValue<T>, Error<E>>,
) -> Outcome {
    match result {
        Ok(response) => answer(response, |status, headers, body| Outcome::Success {
            status,
            headers,
            body,
        }),
        Err(Error::ErrorResponse(response)) => {
            answer(response, |status, headers, body| Outcome::ErrorBody {
                status,
                headers,
                body,
            })
        }
        Err(Error::InvalidRequest(message)) => match refusal(&message) {
            Some(refused) => Outcome::NotSent(refused),
            None => Outcome::NotSent(NotSent::Builder(message)),
        },
        Err(Error::Custom(message)) => match refusal(&message) {
            Some(refused) => Outcome::NotSent(refused),
            None => Outcome::Hook(message),
        },
        Err(
            Error::CommunicationError(e) | Error::InvalidUpgrade(e) | Error::ResponseBodyError(e),
        ) => Outcome::Transport(e),
        Err(Error::InvalidResponsePayload(body, error)) => Outcome::InvalidPayload {
            status: None,
            body,
            error,
        },
        Err(Error::UnexpectedResponse(response)) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            match response.bytes().await {
                Ok(body) => Outcome::Undocumented {
                    status,
                    headers,
                    body,
                },
                Err(e) => Outcome::Transport(e),
            }
        }
    }
}

fn answer<T: Serialize>(
    response: ResponseValue<T>,
    make: impl FnOnce(u16, reqwest::header::HeaderMap, Value) -> Outcome,
) -> Outcome {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    match serde_json::to_value(response.into_inner()) {
        Ok(body) => make(status, headers, body),
        Err(error) => Outcome::InvalidPayload {
            status: Some(status),
            body: bytes::Bytes::new(),
            error,
        },
    }
}

/// The guard's refusal a hook message carries, owned.
fn refusal(message: &str) -> Option<NotSent> {
    GuardRefusal::from_hook_message(message).map(|r| NotSent::Refused {
        kind: r.kind,
        field: r.field,
        detail: r.detail.to_owned(),
    })
}

/// `value` deserialized into `T` and serialized back.
///
/// # Errors
/// [`RoundTripError::Deserialize`] naming the field path, or [`RoundTripError::Serialize`].
pub fn round_trip<T: DeserializeOwned + Serialize>(value: Value) -> Result<Value, RoundTripError> {
    let typed: T =
        serde_path_to_error::deserialize(value).map_err(|e| RoundTripError::Deserialize {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
    serde_json::to_value(&typed).map_err(|e| RoundTripError::Serialize(e.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input(params: Value, body: Option<Value>) -> CallInput {
        CallInput {
            body,
            params: serde_json::from_value(params).unwrap(),
        }
    }

    #[test]
    fn parameters_are_read_in_their_json_or_their_text_form() {
        let mut read = Input::new(
            "op",
            input(json!({"n": "42", "s": 7, "b": "true", "x": "seven"}), None),
            &["n", "s", "b", "x", "unset"],
        )
        .unwrap();
        assert_eq!(read.param::<i64>("n").unwrap(), Some(42));
        assert_eq!(read.param::<String>("s").unwrap(), Some("7".to_owned()));
        assert_eq!(read.param::<bool>("b").unwrap(), Some(true));
        assert_eq!(read.param::<String>("unset").unwrap(), None);
        let error = read.param::<i64>("x").unwrap_err();
        assert!(
            matches!(&error, NotSent::Param { name, value, .. } if name == "x" && value == "seven"),
            "{error:?}"
        );
        assert!(
            error.to_string().starts_with("parameter x = \"seven\""),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_parameter_and_an_unwanted_body_are_refused_by_name() {
        let error =
            Input::new("get", input(json!({"id": 1, "idd": 2}), None), &["id"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "get has no parameter \"idd\": its parameters are [id]"
        );
        let read = Input::new("get", input(json!({}), Some(json!({}))), &[]).unwrap();
        assert_eq!(
            read.no_body().unwrap_err(),
            NotSent::NoBody {
                operation: "get".into()
            }
        );
    }

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct Body {
        request: Inner,
    }

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct Inner {
        width: u16,
    }

    #[test]
    fn a_body_that_does_not_fit_names_the_field_path() {
        let mut read = Input::new(
            "create",
            input(json!({}), Some(json!({"request": {"width": -1}}))),
            &[],
        )
        .unwrap();
        let NotSent::Body { path, .. } = read.body::<Body>().unwrap_err() else {
            panic!("not a body refusal");
        };
        assert_eq!(path, "request.width");
        assert_eq!(
            round_trip::<Body>(json!({"request": {"width": 512, "extra": 1}})).unwrap(),
            json!({"request": {"width": 512}})
        );
        assert!(matches!(
            round_trip::<Body>(json!({"request": {}})),
            Err(RoundTripError::Deserialize { path, .. }) if path == "request"
        ));
    }

    #[test]
    fn a_guard_refusal_crossing_the_hook_is_read_back_typed() {
        let message = crate::guard::GuardError::BodyNotJson("eof".into()).to_hook_message();
        let Some(NotSent::Refused { kind, detail, .. }) = refusal(&message) else {
            panic!("not read back");
        };
        assert_eq!(kind, crate::guard::GuardErrorKind::BodyNotJson);
        assert_eq!(detail, "the request body is not JSON: eof");
        assert_eq!(refusal("task_id was not initialized"), None);
    }
}
