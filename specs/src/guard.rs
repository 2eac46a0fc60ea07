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
    /// The key travels in the body (`x-auth`), but the body is not a JSON object.
    #[error("the {provider} request body is not a JSON object, so it cannot carry the key")]
    BodyCannotCarryKey {
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
    /// The operation's request schema does not compile (the embedded spec is broken).
    #[error("the {provider} request schema of {operation:?} does not compile: {message}")]
    SchemaDoesNotCompile {
        /// The provider.
        provider: Provider,
        /// The operationId.
        operation: String,
        /// Why it does not compile.
        message: String,
    },
    /// The body is not JSON.
    #[error("the request body is not JSON: {0}")]
    BodyNotJson(String),
}

/// What kind of refusal a [`GuardError`] is, without its details: what a client matches on after
/// the refusal crossed the progenitor hook as a message ([`GuardRefusal::from_hook_message`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuardErrorKind {
    /// [`GuardError::Invalid`].
    Invalid,
    /// [`GuardError::BodyNotJson`].
    BodyNotJson,
    /// [`GuardError::MissingKey`].
    MissingKey,
    /// [`GuardError::KeyNotHeaderSafe`].
    KeyNotHeaderSafe,
    /// [`GuardError::BodyCannotCarryKey`].
    BodyCannotCarryKey,
    /// [`GuardError::UnknownOperation`].
    UnknownOperation,
    /// [`GuardError::SchemaDoesNotCompile`].
    SchemaDoesNotCompile,
}

/// The stable codes of the kinds, as written into hook messages.
const KIND_CODES: [(GuardErrorKind, &str); 7] = [
    (GuardErrorKind::Invalid, "invalid"),
    (GuardErrorKind::BodyNotJson, "body_not_json"),
    (GuardErrorKind::MissingKey, "missing_key"),
    (GuardErrorKind::KeyNotHeaderSafe, "key_not_header_safe"),
    (GuardErrorKind::BodyCannotCarryKey, "body_cannot_carry_key"),
    (GuardErrorKind::UnknownOperation, "unknown_operation"),
    (
        GuardErrorKind::SchemaDoesNotCompile,
        "schema_does_not_compile",
    ),
];

/// How a hook message starts: `[img2img-guard <code>] <detail>`, or, when the refusal is about one
/// field, `[img2img-guard <code> "<field>"] <detail>` (the field as a JSON string).
const HOOK_TAG: &str = "[img2img-guard ";

impl GuardErrorKind {
    /// The stable, machine-readable code (`missing_key`) written into hook messages.
    pub fn code(self) -> &'static str {
        KIND_CODES
            .iter()
            .find(|(kind, _)| *kind == self)
            .map_or("", |(_, code)| code)
    }

    /// The kind with this [`code`](GuardErrorKind::code).
    pub fn from_code(code: &str) -> Option<GuardErrorKind> {
        KIND_CODES
            .iter()
            .find(|(_, c)| *c == code)
            .map(|(kind, _)| *kind)
    }

    /// Whether the request itself is at fault (the generated hook returns progenitor's
    /// `Error::InvalidRequest`), rather than the client's key or build (`Error::Custom`).
    pub fn is_request_fault(self) -> bool {
        matches!(self, GuardErrorKind::Invalid | GuardErrorKind::BodyNotJson)
    }
}

impl GuardError {
    /// The kind of this refusal.
    pub fn kind(&self) -> GuardErrorKind {
        match self {
            GuardError::Invalid(_) => GuardErrorKind::Invalid,
            GuardError::BodyNotJson(_) => GuardErrorKind::BodyNotJson,
            GuardError::MissingKey { .. } => GuardErrorKind::MissingKey,
            GuardError::KeyNotHeaderSafe { .. } => GuardErrorKind::KeyNotHeaderSafe,
            GuardError::BodyCannotCarryKey { .. } => GuardErrorKind::BodyCannotCarryKey,
            GuardError::UnknownOperation { .. } => GuardErrorKind::UnknownOperation,
            GuardError::SchemaDoesNotCompile { .. } => GuardErrorKind::SchemaDoesNotCompile,
        }
    }

    /// The field at fault: the first violation's, for [`GuardError::Invalid`].
    pub fn field(&self) -> Option<String> {
        match self {
            GuardError::Invalid(violations) => violations.iter().next().map(|v| v.subject()),
            _ => None,
        }
    }

    /// This refusal as the message of a progenitor error: the kind's code, the field, then the
    /// details (`[img2img-guard invalid "request.width"] request.width = 4096 is above the maximum
    /// 2048`). [`GuardRefusal::from_hook_message`] reads it back.
    pub fn to_hook_message(&self) -> String {
        let detail = match self {
            GuardError::Invalid(violations) => violations.to_string(),
            other => other.to_string(),
        };
        let code = self.kind().code();
        match self.field() {
            Some(field) => format!(
                "{HOOK_TAG}{code} {}] {detail}",
                Value::String(field.clone())
            ),
            None => format!("{HOOK_TAG}{code}] {detail}"),
        }
    }
}

/// A guard refusal read back from the message of a progenitor error
/// ([`GuardError::to_hook_message`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardRefusal<'a> {
    /// What kind of refusal.
    pub kind: GuardErrorKind,
    /// The field at fault, when the refusal is about one.
    pub field: Option<String>,
    /// What is wrong, in words (for [`GuardErrorKind::Invalid`]: every violation, naming the
    /// field, the value and the allowed range).
    pub detail: &'a str,
}

impl GuardRefusal<'_> {
    /// The refusal a hook message carries; `None` for a message the guard did not write (progenitor's
    /// own builder errors).
    pub fn from_hook_message(message: &str) -> Option<GuardRefusal<'_>> {
        let rest = message.strip_prefix(HOOK_TAG)?;
        let code_end = rest.find([' ', ']'])?;
        let kind = GuardErrorKind::from_code(&rest[..code_end])?;
        let mut rest = &rest[code_end..];
        let mut field = None;
        if let Some(after) = rest.strip_prefix(' ') {
            let mut values = serde_json::Deserializer::from_str(after).into_iter::<String>();
            field = Some(values.next()?.ok()?);
            rest = &after[values.byte_offset()..];
        }
        let detail = rest.strip_prefix("] ")?;
        Some(GuardRefusal {
            kind,
            field,
            detail,
        })
    }
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
        let schema = schema.map_err(|e| GuardError::SchemaDoesNotCompile {
            provider,
            operation: operation_id.to_owned(),
            message: e.to_string(),
        })?;
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
                return Err(GuardError::BodyCannotCarryKey { provider });
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

#[cfg(test)]
#[path = "tests/guard.rs"]
mod tests;
