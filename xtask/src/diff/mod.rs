//! What changed between two versions of a spec, each change classed breaking or not for a client
//! user, with its JSON path: [`compare_specs`] as a library, `cargo xtask diff OLD NEW [--rev REV]
//! [--format text|md|json] [--fail-on breaking|any]` ([`run`]) as a command; and, with `--against
//! THEIRS`, where our spec disagrees with the provider's own published one ([`parity`]).
//!
//! - `compare`: walks both specs and lists every difference.
//! - `classify`: breaking or not, with a one-line explanation.
//! - `load`: the versions, from files or from `git show REV:./specs/<file>` (`--rev REV`).
//! - `render`: text, Markdown or JSON.
//! - `cli`: the arguments, the exit codes (0 when no change matches `--fail-on`, 1 when one
//!   does, 2 on usage or IO errors) and the summary `cargo xtask codegen` prints.
//! - [`parity`]: `--against THEIRS`, our spec against the provider's own published one, field by
//!   field, differences kept on purpose (`x-parity`) told apart from drift.

mod classify;
mod cli;
mod compare;
mod load;
pub mod parity;
mod render;

use img2img_specs::Spec;
use img2img_specs::schema::SchemaError;

pub use classify::{Change, Class};
pub use cli::{DiffArgs, FailOn, Format, run, summary_since_head};
pub use compare::{Direction, Kind};

/// Every change between `old` and `new`, classified: breaking ones first, otherwise in document
/// order. `Err` when a schema of either cannot be read (a `$ref` that resolves to nothing).
pub fn compare_specs(old: &Spec, new: &Spec) -> Result<Vec<Change>, SchemaError> {
    let mut changes: Vec<Change> = compare::compare(old, new)?
        .into_iter()
        .map(classify::classify)
        .collect();
    changes.sort_by_key(|c| c.class);
    Ok(changes)
}
