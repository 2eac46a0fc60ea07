//! Walks two versions of a spec side by side and lists every difference a client user could
//! notice: operations, parameters, request bodies and responses (schemas compared after
//! `img2img_specs::schema::to_json_schema` has inlined their `$ref`s), enums, ranges, required
//! marks, types, defaults and the document-level `x-` extensions. Prose (`description`, `summary`,
//! examples) is not a contract and is not compared. Whether a change is breaking is decided in
//! [`super::classify`]; this module only says what changed, where, and on which side of the wire.
//!
//! - [`change`]: what one difference records, and the builder the walkers record it with.
//! - [`keyed`]: the one keyed set difference every walker matches entries with.
//! - [`ranges`]: bound keywords and which way each narrows; list (`enum`) values.
//! - [`document`], [`operations`], [`schema`]: the walkers.

mod change;
mod document;
mod keyed;
mod operations;
mod ranges;
mod schema;

use img2img_specs::Spec;
use img2img_specs::schema::SchemaError;

pub use change::{Direction, Kind, RawChange};

/// Every difference between `old` and `new`, in document order.
pub fn compare(old: &Spec, new: &Spec) -> Result<Vec<RawChange>, SchemaError> {
    let mut out = change::Changes::default();
    document::compare(old.document(), new.document(), &mut out);
    operations::compare(old, new, &mut out)?;
    Ok(out.into_vec())
}
