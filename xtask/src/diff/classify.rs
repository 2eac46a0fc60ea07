//! Whether each change breaks a client user: someone who calls the generated client today and
//! regenerates it from the new spec, or whose requests and response handling were written against
//! the old one.
//!
//! Breaking: anything removed (operation, parameter, field, enum value), a range narrowed on what
//! the client sends, a field made required in a request or optional in a response, a type changed,
//! a default changed (calls that omit the field now behave differently), a new enum value in a
//! response (exhaustive matches and old clients' parsing fail), and any constraint change the diff
//! cannot order. Not breaking: a range widened on what the client sends, a new optional field or
//! parameter, a new operation or response, a field made optional in a request, and report metadata.

use serde::Serialize;
use serde_json::Value;

use super::compare::{Direction, Kind, RawChange};

/// Breaking or not, for a client user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Existing code or existing calls may stop compiling, be refused or behave differently.
    Breaking,
    /// Existing code and calls keep working as before.
    NonBreaking,
}

/// One classified change, as the renderers print it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// JSON path into the spec: `#/paths/~1v3~1async~1img2img/post/.../maximum`.
    pub path: String,
    /// What kind of change.
    pub kind: Kind,
    /// Which side of the wire it affects.
    pub direction: Direction,
    /// Breaking or not.
    pub class: Class,
    /// The old value, if there was one.
    pub old: Option<Value>,
    /// The new value, if there is one.
    pub new: Option<Value>,
    /// One line saying what changed and why it is (not) breaking.
    pub explanation: String,
}

/// Classifies one change and explains it in one line.
pub fn classify(change: RawChange) -> Change {
    use Class::{Breaking, NonBreaking};
    use Direction::{Document, Request, Response};
    let subject = &change.subject;
    let keyword = change.keyword.as_deref().unwrap_or("");
    // `field \`request.width\`: maximum`, or just the subject when it already names the key.
    let head = if keyword.is_empty() || subject.contains(keyword) {
        subject.clone()
    } else {
        format!("{subject}: {keyword}")
    };
    let (class, why) = match (change.kind, change.direction) {
        (Kind::OperationRemoved, _) => (
            Breaking,
            format!("{subject} removed: its generated method disappears"),
        ),
        (Kind::OperationAdded, _) => (NonBreaking, format!("{subject} added")),
        (Kind::OperationRenamed, _) => (
            Breaking,
            format!("{subject}: operationId changed, so the generated method is renamed"),
        ),
        (Kind::ParameterRemoved, _) => (
            Breaking,
            format!("{subject} removed: code that sets it no longer compiles"),
        ),
        (Kind::ParameterAdded, _) if change.required => (
            Breaking,
            format!("{subject} added as required: existing calls lack it"),
        ),
        (Kind::ParameterAdded, _) => (NonBreaking, format!("{subject} added, optional")),
        (Kind::RequestBodyRemoved, _) => (
            Breaking,
            format!("{subject} removed: code that sends one no longer compiles"),
        ),
        (Kind::RequestBodyAdded, _) if change.required => (
            Breaking,
            format!("{subject} added as required: existing calls lack it"),
        ),
        (Kind::RequestBodyAdded, _) => (NonBreaking, format!("{subject} added, optional")),
        (Kind::ResponseRemoved, _) => (
            Breaking,
            format!("{subject} removed: the client no longer types it, code handling it breaks"),
        ),
        (Kind::ResponseAdded, _) => (NonBreaking, format!("{subject} documented")),
        (Kind::FieldRemoved, Response) => (
            Breaking,
            format!("{subject} removed: code reading it no longer compiles"),
        ),
        (Kind::FieldRemoved, _) => (
            Breaking,
            format!("{subject} removed: code or requests that set it break"),
        ),
        (Kind::FieldAdded, Request) if change.required => (
            Breaking,
            format!("{subject} added as required: existing requests lack it"),
        ),
        (Kind::FieldAdded, _) => (NonBreaking, format!("{subject} added, optional")),
        (Kind::MadeRequired, Response) => (
            NonBreaking,
            format!("{subject} is now always present in responses"),
        ),
        (Kind::MadeRequired, _) => {
            let when = if keyword == "x-required-if" {
                " (under a condition)"
            } else {
                ""
            };
            (
                Breaking,
                format!("{subject} made required{when}: requests without it are refused"),
            )
        }
        (Kind::MadeOptional, Response) => (
            Breaking,
            format!("{subject} made optional: it may be missing, code reading it must handle None"),
        ),
        (Kind::MadeOptional, _) => (NonBreaking, format!("{subject} made optional")),
        (Kind::EnumValueRemoved, Response) => (
            Breaking,
            format!(
                "{subject}: value {} removed: code matching on it no longer compiles",
                show(change.old.as_ref())
            ),
        ),
        (Kind::EnumValueRemoved, _) => (
            Breaking,
            format!(
                "{subject}: value {} removed: requests using it are refused",
                show(change.old.as_ref())
            ),
        ),
        (Kind::EnumValueAdded, Response) => (
            Breaking,
            format!(
                "{subject}: new value {} in responses: old clients cannot parse it, exhaustive matches break",
                show(change.new.as_ref())
            ),
        ),
        (Kind::EnumValueAdded, _) => (
            NonBreaking,
            format!("{subject}: value {} added", show(change.new.as_ref())),
        ),
        (Kind::RangeNarrowed, Response) => (
            NonBreaking,
            format!(
                "{head} narrowed ({}): responses stay within what clients accept",
                moved(&change)
            ),
        ),
        (Kind::RangeNarrowed, Document) => (
            Breaking,
            format!(
                "{subject} narrowed ({}): less is available than before",
                moved(&change)
            ),
        ),
        (Kind::RangeNarrowed, Request) => (
            Breaking,
            format!(
                "{head} narrowed ({}): values valid before are now refused",
                moved(&change)
            ),
        ),
        (Kind::RangeWidened, Response) => (
            Breaking,
            format!(
                "{head} widened ({}): responses may carry values clients did not expect",
                moved(&change)
            ),
        ),
        (Kind::RangeWidened, _) => (NonBreaking, format!("{head} widened ({})", moved(&change))),
        (Kind::TypeChanged, _) => (
            Breaking,
            format!(
                "{subject}: {} changed ({}): the generated Rust type changes",
                if keyword.is_empty() { "type" } else { keyword },
                moved(&change)
            ),
        ),
        (Kind::DefaultChanged, Response) => (
            NonBreaking,
            format!("{subject}: documented default changed ({})", moved(&change)),
        ),
        (Kind::DefaultChanged, _) => (
            Breaking,
            format!(
                "{subject}: default changed ({}): calls that omit it now behave differently",
                moved(&change)
            ),
        ),
        (Kind::ConstraintChanged, _) => (
            Breaking,
            format!(
                "{head} changed ({}): cannot tell narrower from wider, review by hand",
                moved(&change)
            ),
        ),
        (Kind::ClientBehaviourChanged, _) => (
            Breaking,
            format!(
                "{subject} changed ({}): the client authenticates or follows jobs differently",
                moved(&change)
            ),
        ),
        (Kind::AnnotationChanged, _) => (
            NonBreaking,
            format!(
                "{head} changed ({}): documentation and reports only",
                moved(&change)
            ),
        ),
    };
    Change {
        path: format!("#{}", change.pointer),
        kind: change.kind,
        direction: change.direction,
        class,
        old: change.old,
        new: change.new,
        explanation: why,
    }
}

/// `2048 → 1024`, `none → 5`, `"png" → none`.
fn moved(change: &RawChange) -> String {
    format!(
        "{} → {}",
        show(change.old.as_ref()),
        show(change.new.as_ref())
    )
}

/// A value as it reads in a one-line explanation (compact JSON, `none` when absent).
pub fn show(value: Option<&Value>) -> String {
    match value {
        None => "none".into(),
        Some(value) => {
            let text = value.to_string();
            if text.chars().count() > 60 {
                let cut: String = text.chars().take(57).collect();
                format!("{cut}...")
            } else {
                text
            }
        }
    }
}
