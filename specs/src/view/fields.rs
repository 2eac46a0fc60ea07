//! Where each `x-feature` of an operation's request body lives, found by one walk of the document.
//!
//! The rule, for every consumer (client, emulator, harness, report, lint):
//! - the walk starts at the operation's `application/json` request body schema and enters
//!   `properties`, array `items` and the branches of `oneOf`/`anyOf`/`allOf` (a branch adds no
//!   segment to the path);
//! - a `$ref` is followed (local references only); the keys written beside it (`x-feature`,
//!   `x-unit`, `default`...) win over the target's, because the specs annotate a shared schema
//!   where it is used;
//! - a property inside an array item has [`Segment::Item`] in its path and `*` in its pointer
//!   (`/request/loras/*/strength`), as `x-job.outputs` writes it; [`Spec::feature`] skips those,
//!   since they are not settings of the request as a whole;
//! - at most 32 schemas deep, and never around a `$ref` cycle;
//! - every occurrence is listed, properties in name order; an id outside the vocabulary is left
//!   out (the lint reports it).

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::feature::Feature;
use crate::schema::{escape, to_json_schema};
use crate::spec::Spec;

/// How deep the walk goes, in nested schemas.
const MAX_DEPTH: usize = 32;

/// One step of a path into a request body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A property of an object.
    Property(String),
    /// Every item of an array (`*` in a pointer, `[]` in a field name).
    Item,
}

/// `x-required-if`: the property is required when `property` equals `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The other property, in the same object.
    pub property: String,
    /// The value that makes this one required.
    pub value: Value,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.property, self.value)
    }
}

/// `x-test-mode` on a `webhook_test_mode` object: which of its properties turns the test mode on
/// and which names the job status word the mock event reports (see `specs/README.md`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestModeFields {
    /// The boolean property whose `true` turns the test mode on.
    pub switch: String,
    /// The property holding the `x-job` status word the mock event reports.
    pub status: String,
}

/// A request property carrying an `x-feature`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureField {
    /// The feature it implements.
    pub feature: Feature,
    /// Its path in the body.
    pub path: Vec<Segment>,
    /// Its JSON pointer in the body; `*` stands for every array item (`/request/loras/*/strength`).
    pub pointer: String,
    /// JSON pointer to the property as written in the document (where a `$ref` stands).
    pub schema_pointer: String,
    /// JSON pointer to the schema it stands for, once `$ref`s are followed.
    pub resolved_pointer: String,
    /// Its schema converted to JSON Schema, with the keys written beside a `$ref` kept.
    pub schema: Value,
    /// The spec's `default`, if it gives one.
    pub default: Option<Value>,
    /// Whether its object lists it in `required`.
    pub required: bool,
    /// When its object requires it only under a condition (`x-required-if`).
    pub condition: Option<Condition>,
}

impl FeatureField {
    /// Whether it sits inside an array item.
    pub fn in_array(&self) -> bool {
        self.path.contains(&Segment::Item)
    }

    /// Its `x-test-mode`, if written beside it (or on the schema it stands for); an error names
    /// what in the mark is not `{switch: <property>, status: <property>}`.
    pub fn test_mode(&self) -> Result<Option<TestModeFields>, serde_json::Error> {
        self.schema
            .get("x-test-mode")
            .map(TestModeFields::deserialize)
            .transpose()
    }

    /// Its field name as errors and reports write it (`request.width`, `request.loras[].strength`).
    pub fn name(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            match segment {
                Segment::Property(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Segment::Item => out.push_str("[]"),
            }
        }
        out
    }

    /// The property names of its path, when it is outside any array (`["request", "width"]`).
    pub fn property_names(&self) -> Option<Vec<&str>> {
        self.path
            .iter()
            .map(|segment| match segment {
                Segment::Property(name) => Some(name.as_str()),
                Segment::Item => None,
            })
            .collect()
    }

    /// The JSON pointers at which `body` holds this field: one per array item where the path
    /// crosses arrays (`/request/loras/0/strength`, `/request/loras/1/strength`).
    pub fn pointers_in(&self, body: &Value) -> Vec<String> {
        let mut found = vec![(String::new(), body)];
        for segment in &self.path {
            found = found
                .into_iter()
                .flat_map(|(at, value)| match segment {
                    Segment::Property(name) => value
                        .get(name)
                        .map(|child| (format!("{at}/{}", escape(name)), child))
                        .into_iter()
                        .collect::<Vec<_>>(),
                    Segment::Item => value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .enumerate()
                        .map(|(i, child)| (format!("{at}/{i}"), child))
                        .collect(),
                })
                .collect();
        }
        found.into_iter().map(|(at, _)| at).collect()
    }

    /// Its value in `body`: the body's own (not `null`), else the spec's default (not `null`).
    /// `None` inside arrays, whose items each have their own.
    pub fn value_in<'a>(&'a self, body: &'a Value) -> Option<&'a Value> {
        if self.in_array() {
            return None;
        }
        match body.pointer(&self.pointer) {
            Some(Value::Null) | None => self.default.as_ref().filter(|d| !d.is_null()),
            Some(value) => Some(value),
        }
    }
}

/// The feature fields of every operation with a request body, by operationId.
pub(crate) fn collect(spec: &Spec) -> HashMap<String, Vec<FeatureField>> {
    let mut out = HashMap::new();
    for operation in spec.operations() {
        let Some(at) = &operation.request_body else {
            continue;
        };
        let mut walk = Walk {
            document: spec.document(),
            refs: Vec::new(),
            out: Vec::new(),
        };
        walk.node(at, &mut Vec::new(), &Place::default(), 0);
        out.entry(operation.id.clone())
            .or_insert_with(Vec::new)
            .extend(walk.out);
    }
    out
}

/// What a node inherits: from its parent object, the required mark and condition; from the
/// schema whose `oneOf`/`anyOf`/`allOf` branch it is, the default.
#[derive(Default)]
struct Place {
    required: bool,
    condition: Option<Condition>,
    default: Option<Value>,
}

struct Walk<'a> {
    document: &'a Value,
    /// `$ref`s followed on the way to the current node (a cycle stops the walk).
    refs: Vec<String>,
    out: Vec<FeatureField>,
}

impl Walk<'_> {
    fn node(&mut self, pointer: &str, path: &mut Vec<Segment>, place: &Place, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let Some(site) = self.document.pointer(pointer).and_then(Value::as_object) else {
            return;
        };
        // Follow the `$ref` chain; keys nearer the site win.
        let document = self.document;
        let refs_before = self.refs.len();
        let mut hops = vec![site];
        let mut target = pointer.to_owned();
        while let Some(reference) = hops
            .last()
            .and_then(|node| node.get("$ref"))
            .and_then(Value::as_str)
        {
            let next = reference
                .strip_prefix('#')
                .and_then(|p| Some((p, document.pointer(p)?.as_object()?)));
            match next {
                Some((at, node)) if !self.refs.iter().any(|r| r == reference) => {
                    self.refs.push(reference.to_owned());
                    target = at.to_owned();
                    hops.push(node);
                }
                _ => {
                    self.refs.truncate(refs_before);
                    return;
                }
            }
        }
        let first = |key: &str| hops.iter().find_map(|node| node.get(key));
        let resolved = *hops.last().unwrap_or(&site);

        if let Some(feature) = first("x-feature")
            .and_then(Value::as_str)
            .and_then(|id| id.parse::<Feature>().ok())
        {
            let default = first("default").or(place.default.as_ref()).cloned();
            let mut schema = to_json_schema(self.document, pointer).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut schema {
                map.remove("$schema");
                for (key, value) in site {
                    if key.starts_with("x-") || key == "default" {
                        map.insert(key.clone(), value.clone());
                    }
                }
            }
            self.out.push(FeatureField {
                feature,
                pointer: pointer_of(path),
                path: path.clone(),
                schema_pointer: pointer.to_owned(),
                resolved_pointer: target.clone(),
                schema,
                default,
                required: place.required,
                condition: place.condition.clone(),
            });
        }

        if let Some(Value::Object(properties)) = resolved.get("properties") {
            let required: Vec<&str> = resolved
                .get("required")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let rules = resolved.get("x-required-if").and_then(Value::as_object);
            for name in properties.keys() {
                let condition = rules
                    .and_then(|r| r.get(name))
                    .and_then(Value::as_object)
                    .and_then(|c| c.iter().next())
                    .map(|(other, value)| Condition {
                        property: other.clone(),
                        value: value.clone(),
                    });
                path.push(Segment::Property(name.clone()));
                self.node(
                    &format!("{target}/properties/{}", escape(name)),
                    path,
                    &Place {
                        required: required.contains(&name.as_str()),
                        condition,
                        default: None,
                    },
                    depth + 1,
                );
                path.pop();
            }
        }
        if resolved.contains_key("items") {
            path.push(Segment::Item);
            self.node(
                &format!("{target}/items"),
                path,
                &Place::default(),
                depth + 1,
            );
            path.pop();
        }
        let branch = Place {
            required: place.required,
            condition: place.condition.clone(),
            default: first("default").or(place.default.as_ref()).cloned(),
        };
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(Value::Array(branches)) = resolved.get(key) {
                for index in 0..branches.len() {
                    self.node(&format!("{target}/{key}/{index}"), path, &branch, depth + 1);
                }
            }
        }
        self.refs.truncate(refs_before);
    }
}

/// The JSON pointer of a path (`*` for array items).
fn pointer_of(path: &[Segment]) -> String {
    path.iter()
        .map(|segment| match segment {
            Segment::Property(name) => format!("/{}", escape(name)),
            Segment::Item => "/*".to_owned(),
        })
        .collect()
}

#[cfg(test)]
#[path = "tests/fields.rs"]
mod tests;
