//! What a call takes ([`CallInput`]), which body of an operation is meant ([`Part`]), and why a
//! call was not sent ([`NotSent`]).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::guard::GuardErrorKind;

/// The inputs of one call: the JSON body and the parameters, by their names in the spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallInput {
    /// The JSON body, for operations that take one.
    pub body: Option<Value>,
    /// Path, query and header parameters by their names in the spec. A parameter travels as text,
    /// so its text form is accepted too: `"42"` for an integer, `7` for a string.
    pub params: BTreeMap<String, Value>,
}

impl CallInput {
    /// An input with this body and no parameters.
    pub fn with_body(body: Value) -> CallInput {
        CallInput {
            body: Some(body),
            params: BTreeMap::new(),
        }
    }

    /// This input with parameter `name` set to `value`.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<Value>) -> CallInput {
        self.params.insert(name.into(), value.into());
        self
    }
}

/// Which body of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The request body.
    Request,
    /// A success (2xx) response body.
    Success,
    /// A documented error response body.
    Error,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Request => "request",
            Part::Success => "success response",
            Part::Error => "error response",
        })
    }
}

/// Why a call was refused before any byte was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotSent {
    /// The body does not fit the generated request type.
    #[error("the body does not fit the generated type at {path}: {message}")]
    Body {
        /// The field path serde stopped at (`.` for the whole body).
        path: String,
        /// serde's message.
        message: String,
    },
    /// A parameter's value does not fit its generated type.
    #[error("parameter {name} = {value} does not fit its generated type: {message}")]
    Param {
        /// The parameter's name in the spec.
        name: String,
        /// The value given.
        value: Value,
        /// serde's message.
        message: String,
    },
    /// A parameter the operation does not have.
    #[error("{operation} has no parameter {name:?}: its parameters are [{}]", known.join(", "))]
    UnknownParam {
        /// The operation id.
        operation: String,
        /// The name given.
        name: String,
        /// The operation's parameters.
        known: Vec<String>,
    },
    /// A body for an operation that takes none.
    #[error("{operation} takes no request body")]
    NoBody {
        /// The operation id.
        operation: String,
    },
    /// The request guard refused the request (the spec rules the body out, or the key is missing
    /// or cannot be sent): `img2img_specs::guard::GuardRefusal`, owned.
    #[error("{detail}")]
    Refused {
        /// What kind of refusal.
        kind: GuardErrorKind,
        /// The field at fault, when the refusal is about one.
        field: Option<String>,
        /// What is wrong (for [`GuardErrorKind::Invalid`]: every violation, naming the field, the
        /// value and the allowed range).
        detail: String,
    },
    /// progenitor's own refusal: a required parameter or body left unset, or a value its builder
    /// could not convert.
    #[error("the generated client refused the request: {0}")]
    Builder(String),
}
