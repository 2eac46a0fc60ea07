//! The generated clients, driven from JSON: one call per operation of each spec, and round trips of
//! bodies through the generated types. The harness uses this to ask "does the client accept what the
//! spec (and the server) accept?" without knowing each provider's Rust types.

use std::collections::BTreeMap;

use img2img_specs::Provider;
use img2img_specs::guard::{Credentials, GuardRefusal};
use serde_json::Value;

/// What a call through a generated client came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The generated types cannot hold the body: refused before sending, at this field path.
    Unrepresentable {
        /// The field path serde stopped at.
        path: String,
        /// serde's message.
        message: String,
    },
    /// The request guard refused the request before sending (what is wrong, naming the field).
    Refused(String),
    /// Sent, and answered with the documented success body.
    Success {
        /// HTTP status.
        status: u16,
        /// The body, as the generated type serializes it.
        body: Value,
    },
    /// Sent, and answered with a documented error body.
    ErrorBody {
        /// HTTP status.
        status: u16,
        /// The body, as the generated type serializes it.
        body: Value,
    },
    /// Sent, and the exchange failed otherwise (transport, undocumented status, unparsable body).
    Failed {
        /// HTTP status, when a response arrived.
        status: Option<u16>,
        /// What went wrong.
        message: String,
    },
}

impl Outcome {
    /// Whether the client refused the request before sending it.
    pub fn refused_before_sending(&self) -> bool {
        matches!(self, Outcome::Unrepresentable { .. } | Outcome::Refused(_))
    }

    /// The refusal message, naming the field, if the request was refused.
    pub fn refusal(&self) -> Option<String> {
        match self {
            Outcome::Unrepresentable { path, message } => Some(format!("{path}: {message}")),
            Outcome::Refused(message) => Some(message.clone()),
            _ => None,
        }
    }
}

/// The inputs of one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallInput {
    /// The JSON body, for operations with one.
    pub body: Option<Value>,
    /// Path and query parameters by name.
    pub params: BTreeMap<String, String>,
}

/// Which body of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The request body.
    Request,
    /// A success (2xx) response body.
    Success,
    /// An error response body.
    Error,
}

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Outcome> {
    serde_path_to_error::deserialize(value).map_err(|e| Outcome::Unrepresentable {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

fn round<T: serde::de::DeserializeOwned + serde::Serialize>(value: Value) -> Result<Value, String> {
    let parsed: T = serde_path_to_error::deserialize(value)
        .map_err(|e| format!("at {}: {}", e.path(), e.inner()))?;
    serde_json::to_value(&parsed).map_err(|e| e.to_string())
}

fn finish<T: serde::Serialize, E: serde::Serialize + std::fmt::Debug>(
    result: Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>,
) -> Outcome {
    use progenitor_client::Error;
    if let Err(Error::InvalidRequest(message) | Error::Custom(message)) = &result
        && let Some(refusal) = GuardRefusal::from_hook_message(message)
    {
        return Outcome::Refused(refusal.detail.to_owned());
    }
    match result {
        Ok(response) => Outcome::Success {
            status: response.status().as_u16(),
            body: serde_json::to_value(response.into_inner()).unwrap_or(Value::Null),
        },
        // progenitor's own refusal (a builder field left unset): nothing was sent either.
        Err(Error::InvalidRequest(message)) => Outcome::Refused(message),
        Err(Error::ErrorResponse(response)) => Outcome::ErrorBody {
            status: response.status().as_u16(),
            body: serde_json::to_value(response.into_inner()).unwrap_or(Value::Null),
        },
        Err(other) => Outcome::Failed {
            status: other.status().map(|s| s.as_u16()),
            message: other.to_string(),
        },
    }
}

/// Calls `operation` of `provider`'s generated client at `base_url`.
pub async fn call(
    provider: Provider,
    operation: &str,
    base_url: &str,
    credentials: Credentials,
    input: CallInput,
) -> Outcome {
    let param = |name: &str| input.params.get(name).cloned().unwrap_or_default();
    let body = input.body.clone().unwrap_or(Value::Null);
    macro_rules! send {
        ($krate:ident, $method:ident, body: $ty:ident) => {{
            let client = $krate::Client::new(base_url, credentials);
            match typed::<$krate::types::$ty>(body) {
                Ok(body) => finish(client.$method().body(body).send().await),
                Err(refused) => refused,
            }
        }};
        ($krate:ident, $method:ident, param: $name:ident, body: $ty:ident) => {{
            let client = $krate::Client::new(base_url, credentials);
            match typed::<$krate::types::$ty>(body) {
                Ok(body) => finish(
                    client
                        .$method()
                        .$name(param(stringify!($name)))
                        .body(body)
                        .send()
                        .await,
                ),
                Err(refused) => refused,
            }
        }};
        ($krate:ident, $method:ident, param: $name:ident) => {{
            let client = $krate::Client::new(base_url, credentials);
            finish(
                client
                    .$method()
                    .$name(param(stringify!($name)))
                    .send()
                    .await,
            )
        }};
    }
    match (provider.id(), operation) {
        ("gptproto", "create_image_to_image") => {
            send!(img2img_gptproto_client, create_image_to_image, body: ImageToImageRequest)
        }
        ("gptproto", "get_prediction_result") => {
            send!(img2img_gptproto_client, get_prediction_result, param: id)
        }
        ("novita", "create_img2img") => {
            send!(img2img_novita_client, create_img2img, body: Img2ImgRequest)
        }
        ("novita", "get_task_result") => {
            send!(img2img_novita_client, get_task_result, param: task_id)
        }
        ("modelslab", "create_img2img") => {
            send!(img2img_modelslab_client, create_img2img, body: Img2ImgRequest)
        }
        ("modelslab", "fetch_queued_result") => {
            send!(img2img_modelslab_client, fetch_queued_result, body: FetchRequest)
        }
        ("modelslab", "create_img2img_enterprise_images") => {
            send!(img2img_modelslab_client, create_img2img_enterprise_images, body: Img2ImgRequest)
        }
        ("modelslab", "create_img2img_v6") => {
            send!(img2img_modelslab_client, create_img2img_v6, body: Img2ImgRequest)
        }
        ("modelslab", "fetch_enterprise_images") => {
            send!(img2img_modelslab_client, fetch_enterprise_images, param: id, body: FetchKeyRequest)
        }
        ("modelslab", "fetch_v6") => {
            send!(img2img_modelslab_client, fetch_v6, param: id, body: FetchKeyRequest)
        }
        _ => Outcome::Failed {
            status: None,
            message: format!("no generated client call is known for {provider} {operation}"),
        },
    }
}

/// Deserializes `value` as the generated type of `part` of `operation`, and serializes it back.
pub fn round_trip(
    provider: Provider,
    operation: &str,
    part: Part,
    value: Value,
) -> Result<Value, String> {
    use Part::{Error, Request, Success};
    match (provider.id(), operation, part) {
        ("gptproto", "create_image_to_image", Request) => {
            round::<img2img_gptproto_client::types::ImageToImageRequest>(value)
        }
        ("gptproto", "create_image_to_image" | "get_prediction_result", Success) => {
            round::<img2img_gptproto_client::types::PredictionResponse>(value)
        }
        ("gptproto", "create_image_to_image" | "get_prediction_result", Error) => {
            round::<img2img_gptproto_client::types::GptprotoError>(value)
        }
        ("novita", "create_img2img", Request) => {
            round::<img2img_novita_client::types::Img2ImgRequest>(value)
        }
        ("novita", "create_img2img", Success) => {
            round::<img2img_novita_client::types::CreateTaskResponse>(value)
        }
        ("novita", "get_task_result", Success) => {
            round::<img2img_novita_client::types::TaskResultResponse>(value)
        }
        ("novita", "create_img2img" | "get_task_result", Error) => {
            round::<img2img_novita_client::types::NovitaError>(value)
        }
        (
            "modelslab",
            "create_img2img" | "create_img2img_enterprise_images" | "create_img2img_v6",
            Request,
        ) => round::<img2img_modelslab_client::types::Img2ImgRequest>(value),
        ("modelslab", "fetch_queued_result", Request) => {
            round::<img2img_modelslab_client::types::FetchRequest>(value)
        }
        ("modelslab", "fetch_enterprise_images" | "fetch_v6", Request) => {
            round::<img2img_modelslab_client::types::FetchKeyRequest>(value)
        }
        ("modelslab", _, Success) => {
            round::<img2img_modelslab_client::types::Img2ImgResponse>(value)
        }
        ("modelslab", _, Error) => round::<img2img_modelslab_client::types::ModelslabError>(value),
        _ => Err(format!(
            "no generated type is known for {provider} {operation} {part:?}"
        )),
    }
}
