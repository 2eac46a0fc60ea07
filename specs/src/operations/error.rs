//! The errors of [`Operations`](super::Operations) that are not the outcome of a request.

use crate::Provider;

use super::Part;

/// An operation id the spec does not have; it names the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{provider} has no operation {operation:?}: expected one of {} (the operationIds of specs/{file})",
    known.join(", "),
    file = provider.spec_file()
)]
pub struct UnknownOperation {
    /// The provider asked.
    pub provider: Provider,
    /// The operation id asked for.
    pub operation: String,
    /// Every operation id of the spec.
    pub known: &'static [&'static str],
}

/// Why a body could not make the round trip through a generated type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoundTripError {
    /// The spec has no such operation.
    #[error(transparent)]
    UnknownOperation(#[from] UnknownOperation),
    /// The operation has no body of this part (a request body of an operation that takes none).
    #[error("{operation} has no {part} body")]
    NoSuchPart {
        /// The operation id.
        operation: String,
        /// The part asked for.
        part: Part,
    },
    /// The value does not fit the generated type.
    #[error("at {path}: {message}")]
    Deserialize {
        /// The field path serde stopped at (`.` for the whole body).
        path: String,
        /// serde's message.
        message: String,
    },
    /// The generated type did not serialize back to JSON.
    #[error("serializing back: {0}")]
    Serialize(String),
}
