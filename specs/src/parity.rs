//! `x-parity`: where a spec disagrees on purpose with the provider's own published spec, and which
//! of the provider's operations one of ours is (see `specs/README.md`). `cargo xtask diff --against`
//! reads these marks through [`Parity::of`] and reports the differences they cover as kept rather
//! than as drift; the lint checks where they stand.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The extension's key.
pub const PARITY: &str = "x-parity";

/// One aspect of a field on which two specs can disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    /// The field (or response status, or request body) is on one side only.
    Presence,
    /// The JSON types it admits (`null` among them).
    Type,
    /// The values an `enum` (or `const`) allows.
    Enum,
    /// Its bounds: `minimum`, `maximum`, exclusive bounds, lengths, item counts, `multipleOf`.
    Range,
    /// Its `default`.
    Default,
    /// Whether it must be present.
    Required,
}

impl Facet {
    /// Every facet, in the order reports list them.
    pub const ALL: [Facet; 6] = [
        Facet::Presence,
        Facet::Type,
        Facet::Enum,
        Facet::Range,
        Facet::Default,
        Facet::Required,
    ];

    /// The facet's word, as `x-parity.facets` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Presence => "presence",
            Facet::Type => "type",
            Facet::Enum => "enum",
            Facet::Range => "range",
            Facet::Default => "default",
            Facet::Required => "required",
        }
    }
}

/// A difference kept on purpose: why, and the public page that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Kept {
    /// Why this spec differs from the provider's published one.
    pub kept: String,
    /// The `https://` URL of the source the difference follows.
    pub source: String,
}

/// One `x-parity` mark, as written beside a schema, a response or an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Parity {
    /// On a schema or a response: why this field (or status) differs from the provider's spec.
    #[serde(default)]
    pub kept: Option<String>,
    /// The `https://` URL of the source that difference follows (with `kept`).
    #[serde(default)]
    pub source: Option<String>,
    /// The facets `kept` covers; empty: every facet.
    #[serde(default)]
    pub facets: Vec<Facet>,
    /// What the provider's spec has and this spec leaves out on purpose: on an object schema,
    /// property names; on an operation, parameters (`query seed`) and response statuses
    /// (`response 422`).
    #[serde(default)]
    pub omitted: BTreeMap<String, Kept>,
    /// On an operation: the provider's operation it is, as their `operationId` or `METHOD /path`
    /// (the path as their document writes it), where method and path alone do not match them.
    #[serde(default)]
    pub operation: Option<String>,
}

/// An `x-parity` that does not have the shape of [`Parity`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("x-parity is malformed: {0}")]
pub struct ParityError(pub String);

impl Parity {
    /// The `x-parity` of `object` (a schema, a response or an operation), if it carries one.
    pub fn of(object: &Value) -> Result<Option<Parity>, ParityError> {
        object.get(PARITY).map(Parity::read).transpose()
    }

    /// Reads one mark (the value of an `x-parity` key).
    pub fn read(mark: &Value) -> Result<Parity, ParityError> {
        serde_path_to_error::deserialize(mark)
            .map_err(|e| ParityError(format!("at {}: {}", e.path(), e.inner())))
    }

    /// The reason and source of `kept`, when both are given.
    pub fn reason(&self) -> Option<Kept> {
        Some(Kept {
            kept: self.kept.clone()?,
            source: self.source.clone()?,
        })
    }

    /// The reason that covers a difference in `facet`, if the mark keeps it.
    pub fn covers(&self, facet: Facet) -> Option<Kept> {
        self.reason()
            .filter(|_| self.facets.is_empty() || self.facets.contains(&facet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_mark_covers_the_facets_it_names_or_all() {
        let schema = json!({"type": "integer", "x-parity": {
            "kept": "the docs page says 1..50", "source": "https://example.com/docs",
            "facets": ["range", "default"]}});
        let mark = Parity::of(&schema).unwrap().unwrap();
        assert!(mark.covers(Facet::Range).is_some());
        assert!(mark.covers(Facet::Type).is_none());
        let all = Parity {
            facets: Vec::new(),
            ..mark
        };
        assert!(Facet::ALL.iter().all(|f| all.covers(*f).is_some()));
        assert_eq!(Parity::of(&json!({"type": "integer"})).unwrap(), None);
    }

    #[test]
    fn an_unknown_key_or_facet_is_refused_naming_where() {
        let error = Parity::of(&json!({"x-parity": {"kept": "x", "facets": ["colour"]}}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("facets"), "{error}");
        let error = Parity::of(&json!({"x-parity": {"because": "x"}}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("because"), "{error}");
    }
}
