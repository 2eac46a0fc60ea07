//! The generated clients, driven from JSON through the registry (`img2img-registry`): one call per
//! operation of each spec, and round trips of bodies through the generated types. The harness uses
//! this to ask "does the client accept what the spec (and the server) accept?" without knowing any
//! provider's Rust types.

use std::sync::OnceLock;
use std::time::Duration;

use img2img_registry::NotSent;
use img2img_specs::Provider;
use img2img_specs::guard::Credentials;
use serde_json::Value;

pub use img2img_registry::{CallInput, Part};

/// The timeouts of a generated client built with its `Client::new` (progenitor's default).
const TIMEOUT: Duration = Duration::from_secs(120);

/// What a call through a generated client came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The generated types cannot hold the body or a parameter: refused before sending, at this
    /// field path (the parameter's name for a parameter).
    Unrepresentable {
        /// The field path serde stopped at.
        path: String,
        /// serde's message.
        message: String,
    },
    /// The client refused the request before sending: the request guard (what is wrong, naming
    /// the field), or the generated builder (a parameter or body missing or unknown).
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
    /// Sent, and the exchange failed otherwise (transport, undocumented status, unparsable body),
    /// or no generated client call exists for it.
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

    fn failed(message: impl std::fmt::Display) -> Outcome {
        Outcome::Failed {
            status: None,
            message: message.to_string(),
        }
    }
}

impl From<img2img_registry::Outcome> for Outcome {
    fn from(outcome: img2img_registry::Outcome) -> Outcome {
        use img2img_registry::Outcome as O;
        match outcome {
            O::NotSent(NotSent::Body { path, message }) => {
                Outcome::Unrepresentable { path, message }
            }
            O::NotSent(NotSent::Param { name, message, .. }) => Outcome::Unrepresentable {
                path: name,
                message,
            },
            O::NotSent(NotSent::Refused { detail, .. }) => Outcome::Refused(detail),
            O::NotSent(other) => Outcome::Refused(other.to_string()),
            O::Success { status, body, .. } => Outcome::Success { status, body },
            O::ErrorBody { status, body, .. } => Outcome::ErrorBody { status, body },
            O::Undocumented { status, body, .. } => Outcome::Failed {
                status: Some(status),
                message: format!(
                    "undocumented status {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(512)])
                ),
            },
            O::InvalidPayload { status, error, .. } => Outcome::Failed {
                status,
                message: format!("the body does not fit the generated type: {error}"),
            },
            O::Transport(error) => Outcome::Failed {
                status: error.status().map(|s| s.as_u16()),
                message: transport_message(&error),
            },
            O::Hook(message) => Outcome::failed(message),
        }
    }
}

/// A transport error with its causes (`error sending request: connection refused`).
fn transport_message(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The HTTP client of every call, built once: building one reads the system's certificate store,
/// which took most of a call's time. It keeps no idle connection, so each call opens its own on
/// the runtime it runs in, as a client built for the call would.
fn http() -> Result<reqwest::Client, String> {
    static HTTP: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| e.to_string())
    })
    .clone()
}

/// Calls `operation` of `provider`'s generated client at `base_url`.
pub async fn call(
    provider: Provider,
    operation: &str,
    base_url: &str,
    credentials: Credentials,
    input: CallInput,
) -> Outcome {
    let http = match http() {
        Ok(http) => http,
        Err(e) => return Outcome::failed(format!("building the HTTP client: {e}")),
    };
    let client = match img2img_registry::connect(provider, base_url, http, credentials) {
        Ok(client) => client,
        Err(e) => return Outcome::failed(e),
    };
    match client.call(operation, input) {
        Ok(sent) => sent.await.into(),
        Err(e) => Outcome::failed(e),
    }
}

/// Deserializes `value` as the generated type of `part` of `operation`, and serializes it back.
pub fn round_trip(
    provider: Provider,
    operation: &str,
    part: Part,
    value: Value,
) -> Result<Value, String> {
    img2img_registry::generated(provider)
        .map_err(|e| e.to_string())?
        .round_trip(operation, part, value)
        .map_err(|e| e.to_string())
}
