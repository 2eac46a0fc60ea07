//! A flattened schema as a list of fields (`request.width`, `images[].url`, `tags[]`), each with
//! the facts the parity check compares, and the differences between two fields of one name.

use std::collections::{BTreeMap, BTreeSet};

use img2img_specs::parity::{Facet, Kept, Parity};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::ParityError;
use super::shape::{Shape, canonical};

/// What one field admits, on one side.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The JSON types (`None`: any).
    pub types: Option<BTreeSet<String>>,
    /// The allowed values (`None`: any).
    pub values: Option<Vec<Value>>,
    /// Bound keyword → number.
    pub bounds: BTreeMap<&'static str, f64>,
    /// The default.
    pub default: Option<Value>,
    /// Whether it must be present (in its parent).
    pub required: bool,
    /// Our `x-parity` beside it.
    pub mark: Option<Parity>,
}

impl Facts {
    /// The facts of `shape`, required or not in its parent.
    pub fn of(shape: &Shape, required: bool) -> Result<Facts, ParityError> {
        Ok(Facts {
            types: shape.types.clone(),
            values: shape.values.clone(),
            bounds: shape.bounds.clone(),
            default: shape.default.clone(),
            required,
            mark: mark(shape.parity.as_ref())?,
        })
    }
}

/// One difference between our field and theirs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// What differs.
    pub facet: Facet,
    /// Our side (absent: we have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ours: Option<Value>,
    /// Their side (absent: they have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theirs: Option<Value>,
}

/// The fields of a schema, in name order, and the names its objects omit on purpose.
#[derive(Debug, Default)]
pub struct Fields {
    /// Field path → facts.
    pub fields: BTreeMap<String, Facts>,
    /// Field path → why we leave out a field the provider declares (`x-parity.omitted`).
    pub omitted: BTreeMap<String, Kept>,
}

impl Fields {
    /// Every field of `shape`: each property (`a.b`), each array's items (`a[]`, or their
    /// properties `a[].b` when the items are objects); a schema with neither is one field, `""`.
    pub fn of(shape: &Shape) -> Result<Fields, ParityError> {
        let mut out = Fields::default();
        walk(shape, "", &mut out)?;
        if out.fields.is_empty() && !shape.is_object() {
            out.fields.insert(String::new(), Facts::of(shape, true)?);
        }
        Ok(out)
    }
}

fn walk(shape: &Shape, prefix: &str, out: &mut Fields) -> Result<(), ParityError> {
    if let Some(mark) = mark(shape.parity.as_ref())? {
        for (name, kept) in mark.omitted {
            out.omitted.insert(join(prefix, &name), kept);
        }
    }
    for (name, child) in &shape.properties {
        let path = join(prefix, name);
        out.fields.insert(
            path.clone(),
            Facts::of(child, shape.required.contains(name))?,
        );
        walk(child, &path, out)?;
    }
    if let Some(items) = &shape.items {
        let path = format!("{prefix}[]");
        if items.properties.is_empty() {
            out.fields.insert(path.clone(), Facts::of(items, false)?);
        }
        walk(items, &path, out)?;
    }
    Ok(())
}

/// Reads an `x-parity` mark.
pub fn mark(value: Option<&Value>) -> Result<Option<Parity>, ParityError> {
    value
        .map(Parity::read)
        .transpose()
        .map_err(ParityError::Mark)
}

/// `a.b`, or `b` at the top.
fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Every facet on which `ours` and `theirs` differ, in [`Facet::ALL`] order.
pub fn differences(ours: &Facts, theirs: &Facts) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut differ = |facet, ours: Option<Value>, theirs: Option<Value>| {
        out.push(Difference {
            facet,
            ours,
            theirs,
        });
    };
    if ours.types != theirs.types {
        differ(Facet::Type, Some(types(ours)), Some(types(theirs)));
    }
    if ours.values != theirs.values {
        differ(Facet::Enum, Some(values(ours)), Some(values(theirs)));
    }
    if !same_bounds(&ours.bounds, &theirs.bounds) {
        differ(Facet::Range, Some(bounds(ours)), Some(bounds(theirs)));
    }
    if ours.default != theirs.default {
        differ(Facet::Default, ours.default.clone(), theirs.default.clone());
    }
    if ours.required != theirs.required {
        differ(
            Facet::Required,
            Some(json!(ours.required)),
            Some(json!(theirs.required)),
        );
    }
    out
}

/// A field on one side only: what there is of it.
pub fn summary(facts: &Facts) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), types(facts));
    if facts.values.is_some() {
        map.insert("enum".into(), values(facts));
    }
    if !facts.bounds.is_empty() {
        map.insert("range".into(), bounds(facts));
    }
    if let Some(default) = &facts.default {
        map.insert("default".into(), default.clone());
    }
    map.insert("required".into(), json!(facts.required));
    Value::Object(map)
}

fn types(facts: &Facts) -> Value {
    facts.types.as_ref().map_or(json!("any"), |t| json!(t))
}

fn values(facts: &Facts) -> Value {
    facts.values.as_ref().map_or(json!("any"), |v| json!(v))
}

fn bounds(facts: &Facts) -> Value {
    canonical(&json!(facts.bounds))
}

/// Equal bounds, the numbers compared with a tolerance for their decimal spelling.
fn same_bounds(a: &BTreeMap<&'static str, f64>, b: &BTreeMap<&'static str, f64>) -> bool {
    a.len() == b.len()
        && a.iter().all(|(k, x)| {
            b.get(k)
                .is_some_and(|y| (x - y).abs() <= 1e-9 * x.abs().max(1.0))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(schema: Value) -> Facts {
        Facts::of(&Shape::of(&schema), false).unwrap()
    }

    #[test]
    fn nested_objects_and_items_become_paths() {
        let shape = Shape::of(&json!({"properties": {
            "request": {"properties": {"width": {"type": "integer"}}, "required": ["width"]},
            "images": {"type": "array", "items": {"properties": {"url": {"type": "string"}}}},
            "tags": {"type": "array", "items": {"type": "string"}}
        }}));
        let fields = Fields::of(&shape).unwrap();
        let names: Vec<&str> = fields.fields.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "images",
                "images[].url",
                "request",
                "request.width",
                "tags",
                "tags[]"
            ]
        );
        assert!(fields.fields["request.width"].required);
    }

    #[test]
    fn each_facet_is_compared_once() {
        let ours = facts(json!({"type": "integer", "minimum": 1, "maximum": 50, "default": 30}));
        let same =
            facts(json!({"type": "integer", "minimum": 1.0, "maximum": 50, "default": 30.0}));
        assert_eq!(differences(&ours, &same), []);
        let theirs = facts(json!({"type": ["integer", "null"], "maximum": 20, "default": 31}));
        let facets: Vec<Facet> = differences(&ours, &theirs)
            .iter()
            .map(|d| d.facet)
            .collect();
        assert_eq!(facets, [Facet::Type, Facet::Range, Facet::Default]);
        let yes_no = facts(json!({"type": "string", "enum": ["yes", "no"]}));
        let boolean = facts(json!({"type": "boolean"}));
        let facets: Vec<Facet> = differences(&yes_no, &boolean)
            .iter()
            .map(|d| d.facet)
            .collect();
        assert_eq!(facets, [Facet::Type, Facet::Enum]);
    }
}
