//! Any generated client, called by operation id from JSON: the [`Operations`] trait every crate
//! under `generated/` implements (written by `cargo xtask codegen`), so the hand-written client,
//! the conformance harness and the SDK suite drive a provider without knowing its Rust types.
//!
//! - [`Operations::call`]: one request of an operation, its parameters and body given as JSON
//!   ([`CallInput`]), its answer as an [`Outcome`] (sent or not, status, headers, the body as the
//!   generated type serializes it, or the raw transport error).
//! - [`Operations::round_trip`]: a body deserialized into the generated type of one [`Part`] of an
//!   operation and serialized back.
//! - [`support`]: what the generated impls are made of (not for hand-written callers).
//!
//! An operation id the spec does not have is an [`UnknownOperation`] naming the known ones.

mod error;
mod input;
mod outcome;
pub mod support;

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::Provider;

pub use error::{RoundTripError, UnknownOperation};
pub use input::{CallInput, NotSent, Part};
pub use outcome::Outcome;

/// A boxed, sendable future: what [`Operations::call`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A generated client, driven by operation id. Implemented by `cargo xtask codegen` for every
/// generated crate's `Client`; built from a provider id by the `img2img-registry` crate.
pub trait Operations: Send + Sync {
    /// The provider this client speaks to.
    fn provider(&self) -> Provider;

    /// Every operation id of the spec, sorted.
    fn operation_ids(&self) -> &'static [&'static str];

    /// One request of `operation` with `input`: the parameters and the body are deserialized into
    /// the generated types (a value they cannot hold is [`NotSent`], before anything is sent), the
    /// request passes the generated client's guard, and the answer is read into an [`Outcome`].
    ///
    /// # Errors
    /// [`UnknownOperation`] when the spec has no such operation; nothing is sent then.
    fn call(
        &self,
        operation: &str,
        input: CallInput,
    ) -> Result<BoxFuture<'_, Outcome>, UnknownOperation>;

    /// `value` deserialized into the generated type of `part` of `operation`, serialized back.
    ///
    /// # Errors
    /// An unknown operation, a part the operation has no body for, or a value the type cannot hold
    /// (naming the field path).
    fn round_trip(
        &self,
        operation: &str,
        part: Part,
        value: Value,
    ) -> Result<Value, RoundTripError>;
}
