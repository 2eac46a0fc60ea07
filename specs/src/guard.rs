//! The request guard every generated client runs as its progenitor `pre` hook, once per request,
//! before any byte is sent: it refuses a body the spec rules out, puts the key where the provider
//! wants it (`x-auth`), and drops the `api-version` header progenitor adds.

use std::fmt;

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::extensions::{AuthPlacement, KeyPlacement};
use crate::{ApiKey, Provider, Spec, Violations};

/// What a generated client holds besides its base URL: the key it authenticates with.
#[derive(Clone, Default)]
pub struct Credentials {
    key: Option<ApiKey>,
}

impl Credentials {
    /// Credentials with this key.
    pub fn new(key: impl Into<ApiKey>) -> Self {
        Credentials {
            key: Some(key.into()),
        }
    }

    /// No key: every request is refused by the guard with [`GuardError::MissingKey`].
    pub fn none() -> Self {
        Credentials { key: None }
    }

    /// The key from the provider's environment variable (`x-provider.key-env`), if set.
    pub fn from_env(provider: Provider) -> Self {
        let var = &Spec::embedded(provider).extensions().provider.key_env;
        Credentials {
            key: ApiKey::from_env(var),
        }
    }

    /// The key, if any.
    pub fn key(&self) -> Option<&ApiKey> {
        self.key.as_ref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Why the guard refused a request. No variant carries the key.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// The request breaks the spec.
    #[error("invalid request: {0}")]
    Invalid(Violations),
    /// No key was configured.
    #[error("no API key for {provider}: pass one or set {env}")]
    MissingKey {
        /// The provider.
        provider: Provider,
        /// The environment variable the key can come from.
        env: String,
    },
    /// The key holds characters an HTTP header cannot carry.
    #[error("the {provider} API key holds characters an HTTP header cannot carry")]
    KeyNotHeaderSafe {
        /// The provider.
        provider: Provider,
    },
    /// The operation is not in the spec (the generated code and the spec disagree).
    #[error(
        "operation {operation:?} is not in the {provider} spec: regenerate with `cargo xtask codegen`"
    )]
    UnknownOperation {
        /// The provider.
        provider: Provider,
        /// The operationId asked for.
        operation: String,
    },
    /// The body is not JSON.
    #[error("the request body is not JSON: {0}")]
    BodyNotJson(String),
}

/// Checks and completes `request` for operation `operation_id` of `provider`'s spec.
pub fn prepare(
    provider: Provider,
    operation_id: &str,
    credentials: &Credentials,
    request: &mut reqwest::Request,
) -> Result<(), GuardError> {
    request.headers_mut().remove("api-version");
    let spec = Spec::embedded(provider);
    let operation = spec
        .operation(operation_id)
        .ok_or_else(|| GuardError::UnknownOperation {
            provider,
            operation: operation_id.to_owned(),
        })?;

    let mut body = match request.body().and_then(|b| b.as_bytes()) {
        Some(bytes) if !bytes.is_empty() => Some(
            serde_json::from_slice::<Value>(bytes)
                .map_err(|e| GuardError::BodyNotJson(e.to_string()))?,
        ),
        _ => None,
    };
    if let Some(schema) = spec.request_schema(operation_id) {
        let schema = schema.map_err(|e| GuardError::BodyNotJson(e.to_string()))?;
        let instance = body.clone().unwrap_or(Value::Null);
        if body.is_some() || operation.body_required {
            schema.validate(&instance).map_err(GuardError::Invalid)?;
        }
    }

    let auth = &spec.extensions().auth;
    let placement = credentials
        .key()
        .filter(|k| !k.is_empty())
        .map(|k| auth.place(k.expose_secret()));
    match auth.placement {
        AuthPlacement::Header => {
            let Some(KeyPlacement::Header { name, value }) = placement else {
                return Err(missing_key(spec, provider));
            };
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| GuardError::KeyNotHeaderSafe { provider })?;
            value.set_sensitive(true);
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| GuardError::KeyNotHeaderSafe { provider })?;
            request.headers_mut().insert(name, value);
        }
        AuthPlacement::Body => {
            let object = body.get_or_insert_with(|| Value::Object(Default::default()));
            let Value::Object(map) = object else {
                return Err(GuardError::BodyNotJson(
                    "the body is not a JSON object, so it cannot carry the key".into(),
                ));
            };
            match placement {
                Some(KeyPlacement::BodyField { name, value }) => {
                    map.insert(name.to_owned(), Value::String(value));
                }
                _ if map
                    .get(&auth.name)
                    .and_then(Value::as_str)
                    .is_some_and(|k| !k.is_empty()) => {}
                _ => return Err(missing_key(spec, provider)),
            }
            let bytes =
                serde_json::to_vec(object).map_err(|e| GuardError::BodyNotJson(e.to_string()))?;
            *request.body_mut() = Some(bytes.into());
        }
    }
    Ok(())
}

fn missing_key(spec: &Spec, provider: Provider) -> GuardError {
    GuardError::MissingKey {
        provider,
        env: spec.extensions().provider.key_env.clone(),
    }
}
