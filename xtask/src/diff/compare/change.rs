//! One difference before classification, and the builder the walkers record differences with:
//! `out.at(pointer, &site).keyword("maximum").changed(Kind::RangeNarrowed, old, new)`.

use img2img_specs::schema::escape;
use serde::Serialize;
use serde_json::{Map, Value};

/// Which way the changed data travels, which decides whether narrowing or widening hurts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Sent by the client (request bodies, parameters): narrowing refuses what used to be valid.
    Request,
    /// Received by the client (responses): widening sends what used to be impossible.
    Response,
    /// Document-level facts (`x-auth`, `x-job`, `x-output`, `x-limits`, servers).
    Document,
}

/// What kind of change was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An operation (method + path) is gone.
    OperationRemoved,
    /// A new operation.
    OperationAdded,
    /// An operation's `operationId` changed (the generated method is renamed).
    OperationRenamed,
    /// A parameter is gone.
    ParameterRemoved,
    /// A new parameter.
    ParameterAdded,
    /// An operation lost its request body.
    RequestBodyRemoved,
    /// An operation gained a request body.
    RequestBodyAdded,
    /// A documented response status is gone.
    ResponseRemoved,
    /// A new documented response status.
    ResponseAdded,
    /// An object property is gone.
    FieldRemoved,
    /// A new object property.
    FieldAdded,
    /// A field, parameter or body became required (or conditionally required).
    MadeRequired,
    /// A field, parameter or body became optional.
    MadeOptional,
    /// An enum (or list) value is gone.
    EnumValueRemoved,
    /// A new enum (or list) value.
    EnumValueAdded,
    /// A bound, an `enum` or `additionalProperties: false` admits fewer values than before.
    RangeNarrowed,
    /// A bound admits more values than before (or was dropped).
    RangeWidened,
    /// The JSON type (or the set of `oneOf`/`anyOf`/`allOf` branches) changed.
    TypeChanged,
    /// A default value changed, appeared or disappeared.
    DefaultChanged,
    /// A constraint whose effect cannot be ordered changed (`pattern`, `format`, `multipleOf`...).
    ConstraintChanged,
    /// How the client authenticates or follows a job changed (`x-auth`, `x-job`).
    ClientBehaviourChanged,
    /// Report metadata changed (`x-feature`, `x-unit`, `x-common-names`, `x-known-values`,
    /// `x-provider`, servers): no effect on what is sent or received.
    AnnotationChanged,
}

/// One difference, before classification.
#[derive(Debug, Clone, PartialEq)]
pub struct RawChange {
    /// JSON pointer into the spec (the new version's, or the old one's for what was removed).
    pub pointer: String,
    /// What kind of change.
    pub kind: Kind,
    /// Which side of the wire it affects.
    pub direction: Direction,
    /// What changed, for a person (`request body field \`request.width\``).
    pub subject: String,
    /// The keyword or key that changed (`maximum`, `enum`, `x-auth.prefix`...), if any.
    pub keyword: Option<String>,
    /// For additions: whether the new field, parameter or body is required.
    pub required: bool,
    /// The old value, if there was one.
    pub old: Option<Value>,
    /// The new value, if there is one.
    pub new: Option<Value>,
}

/// What a change is about, for a person, and which side of the wire it is on.
#[derive(Debug, Clone)]
pub struct Site {
    /// Which way the data travels.
    pub direction: Direction,
    /// `request body of operation POST /x`, ``parameter `id` (path) of operation GET /y``.
    pub subject: String,
}

impl Site {
    /// A site of the document itself (`x-auth`, `x-output`, servers).
    pub fn document(subject: impl Into<String>) -> Site {
        Site {
            direction: Direction::Document,
            subject: subject.into(),
        }
    }

    /// The same site narrowed to a field inside it (`` ... field `extra.webhook` ``); itself for `""`.
    pub fn field(&self, field: &str) -> Site {
        Site {
            direction: self.direction,
            subject: if field.is_empty() {
                self.subject.clone()
            } else {
                format!("{} field `{field}`", self.subject)
            },
        }
    }
}

/// The differences found so far, in the order they were found.
#[derive(Debug, Default)]
pub struct Changes(Vec<RawChange>);

impl Changes {
    /// Starts recording a change at `pointer`, about `site`.
    pub fn at<'a>(&'a mut self, pointer: impl Into<String>, site: &'a Site) -> Entry<'a> {
        Entry {
            changes: self,
            pointer: pointer.into(),
            site,
            keyword: None,
            required: false,
        }
    }

    /// Starts recording a change of `key` in the schema object at `at` (pointer `{at}/{key}`).
    pub fn key<'a>(&'a mut self, at: &str, key: &str, site: &'a Site) -> Entry<'a> {
        self.at(format!("{at}/{}", escape(key)), site).keyword(key)
    }

    /// Every change, in the order found.
    pub fn into_vec(self) -> Vec<RawChange> {
        self.0
    }
}

/// A change being recorded: name its keyword and required mark, then say what happened.
#[must_use = "a change is recorded by removed(), added() or changed()"]
pub struct Entry<'a> {
    changes: &'a mut Changes,
    pointer: String,
    site: &'a Site,
    keyword: Option<String>,
    required: bool,
}

impl Entry<'_> {
    /// The keyword or key that changed (`maximum`, `x-auth.prefix`).
    pub fn keyword(mut self, keyword: &str) -> Self {
        self.keyword = Some(keyword.to_owned());
        self
    }

    /// For an addition: whether what was added is required.
    pub fn required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }

    /// Something that was `old` is gone.
    pub fn removed(self, kind: Kind, old: Value) {
        self.changed(kind, Some(old), None);
    }

    /// Something new, `new`.
    pub fn added(self, kind: Kind, new: Value) {
        self.changed(kind, None, Some(new));
    }

    /// The keyword's value in object `old` became its value in `new` (either may be absent).
    pub fn changed_in(self, kind: Kind, old: &Map<String, Value>, new: &Map<String, Value>) {
        let keyword = self.keyword.as_deref().unwrap_or_default();
        let (old, new) = (old.get(keyword).cloned(), new.get(keyword).cloned());
        self.changed(kind, old, new);
    }

    /// `old` became `new` (either may be absent).
    pub fn changed(self, kind: Kind, old: Option<Value>, new: Option<Value>) {
        self.changes.0.push(RawChange {
            pointer: self.pointer,
            kind,
            direction: self.site.direction,
            subject: self.site.subject.clone(),
            keyword: self.keyword,
            required: self.required,
            old,
            new,
        });
    }
}
