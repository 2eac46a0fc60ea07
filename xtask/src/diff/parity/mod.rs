//! Our spec against the provider's own published one (`cargo xtask diff --against THEIRS`):
//! field by field, where do we disagree, and is that on purpose?
//!
//! - [`Published`]: their spec, OpenAPI 3.0 or 3.1, JSON or YAML, with its base path.
//! - `routes`: which of our operations is which of theirs (`x-parity.operation`, method and
//!   path, a path suffix).
//! - `shape` + `fields`: each schema flattened (`allOf` merged, `oneOf`/`anyOf` widened, `const`
//!   as an enum, `type: [x, "null"]` and `nullable` alike) into named fields with five facts
//!   (type, enum, range, default, required), plus presence.
//! - `operation`: one pair compared, each field's verdict (agree, kept, open).
//! - `render`: text, Markdown, JSON; `record`: the summary `parity.json` the report reads.
//!
//! A difference our spec keeps on purpose carries `x-parity` beside the field (see
//! `specs/README.md`) and is reported as kept, not as drift.

mod fields;
mod operation;
mod published;
mod record;
mod render;
mod routes;
mod shape;

use img2img_specs::Spec;
use img2img_specs::schema::SchemaError;
use serde::Serialize;

pub use fields::Difference;
pub use operation::{Counts, FieldParity, OperationParity, OperationRef, Verdict};
pub use published::Published;
pub use record::{DEFAULT_RECORD, record};
pub use render::{json, markdown, text};
pub use routes::MatchedBy;

/// What stopped a parity check.
#[derive(Debug, thiserror::Error)]
pub enum ParityError {
    /// Their spec file could not be read.
    #[error("cannot read the provider's spec {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Their file is not an OpenAPI 3.0 or 3.1 document.
    #[error("{label} is not an OpenAPI 3.0 or 3.1 document: {message}")]
    NotASpec {
        /// The file.
        label: String,
        /// What was wrong.
        message: String,
    },
    /// A schema of either side cannot be converted (a `$ref` to nothing, a recursive one).
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// An `x-parity` of ours is malformed.
    #[error("our spec: {0}")]
    Mark(img2img_specs::parity::ParityError),
}

/// Our spec against theirs, operation by operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParityReport {
    /// Our spec (as given: `specs/<id>.yaml`).
    pub ours: String,
    /// Our `x-provider.id`.
    pub provider: String,
    /// Their spec (as given).
    pub theirs: String,
    /// Their `info.title`.
    pub theirs_title: String,
    /// Their `info.version`.
    pub theirs_version: String,
    /// Their `openapi` version.
    pub theirs_openapi: String,
    /// The base path their paths stand under.
    pub theirs_base_path: String,
    /// Counts over every operation compared.
    pub counts: Counts,
    /// Each pair compared, in our document's order.
    pub operations: Vec<OperationParity>,
    /// Our operations their spec does not have.
    pub only_ours: Vec<OperationRef>,
    /// Their operations our spec does not have.
    pub only_theirs: Vec<OperationRef>,
    /// What could not be paired as written, and pairs that could not be compared (a recursive
    /// schema), with why.
    pub notes: Vec<String>,
}

/// Compares our spec (labelled `label`) with their published one.
pub fn compare(ours: &Spec, label: &str, theirs: &Published) -> Result<ParityReport, ParityError> {
    let their_operations =
        img2img_specs::operations_of(&theirs.document).map_err(|e| ParityError::NotASpec {
            label: theirs.label.clone(),
            message: e.to_string(),
        })?;
    let routes = routes::pair(
        ours.operations(),
        ours.document(),
        &their_operations,
        theirs,
    )?;
    let docs = operation::Documents {
        ours: ours.document(),
        theirs: &theirs.document,
    };
    let mut pairs = routes.pairs.clone();
    // Our document's order.
    pairs.sort_by_key(|(o, _, _)| {
        ours.operations()
            .iter()
            .position(|x| x.pointer == o.pointer)
    });
    let mut notes = routes.notes;
    let mut operations = Vec::new();
    for (o, t, by) in pairs {
        match operation::compare(&docs, o, t, by) {
            Ok(compared) => operations.push(compared),
            // A schema the tools cannot inline (a recursive one) costs that pair, not the rest.
            Err(ParityError::Schema(e)) => notes.push(format!(
                "{} {} ({}) ↔ {} {}: not compared: {e}",
                o.method, o.path, o.id, t.method, t.path
            )),
            Err(e) => return Err(e),
        }
    }
    Ok(ParityReport {
        ours: label.to_owned(),
        provider: ours.extensions().provider.id.clone(),
        theirs: theirs.label.clone(),
        theirs_title: theirs.title.clone(),
        theirs_version: theirs.version.clone(),
        theirs_openapi: theirs.openapi.clone(),
        theirs_base_path: theirs.base_path.clone(),
        counts: operations
            .iter()
            .fold(Counts::default(), |sum, op| sum.plus(op.counts)),
        operations,
        only_ours: routes.only_ours.into_iter().map(Into::into).collect(),
        only_theirs: routes.only_theirs.into_iter().map(Into::into).collect(),
        notes,
    })
}
