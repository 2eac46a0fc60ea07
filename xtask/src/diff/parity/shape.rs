//! What one schema admits, flattened so two specs written differently compare field by field:
//! `allOf` branches merged into one object (their constraints all hold), `oneOf`/`anyOf` branches
//! merged into the widest shape any of them admits (a `null` branch only adds `null` to the
//! types), `const` read as a one-value `enum`, and bounds implied by `format: int32`/`int64`
//! dropped (both sides write the format, or neither, and the format is no range of the docs).
//!
//! The input is a JSON Schema whose `$ref`s are already inlined
//! (`img2img_specs::schema::to_json_schema`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// Bound keywords, each with the type it applies to and whether it is a lower bound.
const BOUNDS: &[(&str, Applies, Side)] = &[
    ("minimum", Applies::Number, Side::Lower),
    ("exclusiveMinimum", Applies::Number, Side::Lower),
    ("maximum", Applies::Number, Side::Upper),
    ("exclusiveMaximum", Applies::Number, Side::Upper),
    ("multipleOf", Applies::Number, Side::Step),
    ("minLength", Applies::String, Side::Lower),
    ("maxLength", Applies::String, Side::Upper),
    ("minItems", Applies::Array, Side::Lower),
    ("maxItems", Applies::Array, Side::Upper),
];

/// The JSON type a bound keyword constrains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applies {
    Number,
    String,
    Array,
}

/// Which way a bound admits more values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Admits more when lowered.
    Lower,
    /// Admits more when raised.
    Upper,
    /// Neither (`multipleOf`).
    Step,
}

/// What a schema admits, as the parity check compares it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    /// The JSON types admitted (`null` among them); `None`: any.
    pub types: Option<BTreeSet<String>>,
    /// The values allowed, without `null` (that is a type); `None`: any of the types.
    pub values: Option<Vec<Value>>,
    /// Bound keyword → its number.
    pub bounds: BTreeMap<&'static str, f64>,
    /// The `default`.
    pub default: Option<Value>,
    /// The properties, by name.
    pub properties: BTreeMap<String, Shape>,
    /// The names of required properties.
    pub required: BTreeSet<String>,
    /// What each array item admits.
    pub items: Option<Box<Shape>>,
    /// The raw `x-parity` mark on this schema.
    pub parity: Option<Value>,
}

impl Shape {
    /// The shape of a JSON Schema (with its `$ref`s inlined).
    pub fn of(schema: &Value) -> Shape {
        match schema {
            Value::Object(map) => Shape::of_object(map),
            Value::Bool(false) => Shape {
                types: Some(BTreeSet::new()),
                ..Shape::default()
            },
            _ => Shape::default(),
        }
    }

    fn of_object(map: &Map<String, Value>) -> Shape {
        let mut values = map
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .or_else(|| map.get("const").map(|c| vec![c.clone()]));
        let types = match map.get("type") {
            Some(Value::String(t)) => Some(BTreeSet::from([t.clone()])),
            Some(Value::Array(list)) => Some(
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            ),
            // Without a `type`, an enum's values say which types it admits.
            _ => values
                .as_ref()
                .map(|v| v.iter().map(|x| json_type(x).to_owned()).collect()),
        };
        if let Some(list) = &mut values {
            list.retain(|v| !v.is_null());
        }
        let mut bounds = BTreeMap::new();
        for &(key, _, _) in BOUNDS {
            if let Some(n) = map.get(key).and_then(Value::as_f64) {
                bounds.insert(key, n);
            }
        }
        drop_format_bounds(map, &mut bounds);
        let properties = map
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .map(|(name, s)| (name.clone(), Shape::of(s)))
                    .collect()
            })
            .unwrap_or_default();
        let required = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let items = map
            .get("items")
            .filter(|i| i.is_object() || i.is_boolean())
            .map(|i| Box::new(Shape::of(i)));
        let mut shape = Shape {
            types: types.map(normalise),
            values: values.map(|v| sorted(v.iter().map(canonical).collect())),
            bounds,
            default: map.get("default").map(canonical),
            properties,
            required,
            items,
            parity: map.get(img2img_specs::parity::PARITY).cloned(),
        };
        for branch in map
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            shape = shape.and(Shape::of(branch));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = map.get(key).and_then(Value::as_array)
                && let Some(any) = branches.iter().map(Shape::of).reduce(Shape::or)
            {
                shape = shape.and(any);
            }
        }
        shape
    }

    /// What both admit (`allOf`): the narrower types, values and bounds, every property, the
    /// union of required names; `self`'s default and mark first.
    pub fn and(self, other: Shape) -> Shape {
        let types = match (self.types, other.types) {
            (Some(a), Some(b)) => Some(both_types(&a, &b)),
            (a, b) => a.or(b),
        };
        let values = match (self.values, other.values) {
            (Some(a), Some(b)) => Some(a.into_iter().filter(|v| b.contains(v)).collect()),
            (a, b) => a.or(b),
        };
        let mut bounds = self.bounds;
        for (key, n) in other.bounds {
            let tighter = match side(key) {
                Side::Lower => bounds.get(key).map_or(n, |m| m.max(n)),
                Side::Upper => bounds.get(key).map_or(n, |m| m.min(n)),
                Side::Step => *bounds.get(key).unwrap_or(&n),
            };
            bounds.insert(key, tighter);
        }
        let mut properties = self.properties;
        for (name, shape) in other.properties {
            let merged = match properties.remove(&name) {
                Some(mine) => mine.and(shape),
                None => shape,
            };
            properties.insert(name, merged);
        }
        let items = match (self.items, other.items) {
            (Some(a), Some(b)) => Some(Box::new(a.and(*b))),
            (a, b) => a.or(b),
        };
        Shape {
            types,
            values,
            bounds,
            default: self.default.or(other.default),
            properties,
            required: &self.required | &other.required,
            items,
            parity: self.parity.or(other.parity),
        }
    }

    /// What either admits (`anyOf`/`oneOf`): the wider types and values; a bound only where
    /// both branches admitting its type have it (the wider), or where one branch alone admits
    /// that type; properties of every object branch, required where every object branch
    /// requires them.
    pub fn or(self, other: Shape) -> Shape {
        if other.is_null_only() {
            return self.with_null();
        }
        if self.is_null_only() {
            return other.with_null();
        }
        let mut bounds = BTreeMap::new();
        for &(key, applies, side) in BOUNDS {
            let (a, b) = (self.bounds.get(key), other.bounds.get(key));
            let bound = match (self.admits(applies), other.admits(applies)) {
                (true, true) => match (a, b, side) {
                    (Some(a), Some(b), Side::Lower) => Some(a.min(*b)),
                    (Some(a), Some(b), Side::Upper) => Some(a.max(*b)),
                    (Some(a), Some(b), Side::Step) if a == b => Some(*a),
                    _ => None,
                },
                (true, false) => a.copied(),
                (false, true) => b.copied(),
                (false, false) => None,
            };
            if let Some(n) = bound {
                bounds.insert(key, n);
            }
        }
        let (properties, required) = match (self.is_object(), other.is_object()) {
            (true, true) => {
                let mut properties = self.properties;
                for (name, shape) in other.properties {
                    let merged = match properties.remove(&name) {
                        Some(mine) => mine.or(shape),
                        None => shape,
                    };
                    properties.insert(name, merged);
                }
                (properties, &self.required & &other.required)
            }
            (true, false) => (self.properties, self.required),
            (false, true) => (other.properties, other.required),
            (false, false) => Default::default(),
        };
        let types = match (self.types, other.types) {
            (Some(a), Some(b)) => Some(normalise(&a | &b)),
            _ => None,
        };
        let values = match (self.values, other.values) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(sorted(a))
            }
            _ => None,
        };
        let items = match (self.items, other.items) {
            (Some(a), Some(b)) => Some(Box::new(a.or(*b))),
            (a, b) => a.or(b),
        };
        Shape {
            types,
            values,
            bounds,
            default: self.default.or(other.default),
            properties,
            required,
            items,
            parity: self.parity.or(other.parity),
        }
    }

    /// Whether it admits only `null`.
    fn is_null_only(&self) -> bool {
        self.types
            .as_ref()
            .is_some_and(|t| t.len() == 1 && t.contains("null"))
    }

    /// The same shape, `null` admitted too.
    fn with_null(mut self) -> Shape {
        if let Some(types) = &mut self.types {
            types.insert("null".into());
        }
        self
    }

    /// Whether it is an object schema (by type, or by its properties).
    pub fn is_object(&self) -> bool {
        !self.properties.is_empty() || self.types.as_ref().is_none_or(|t| t.contains("object"))
    }

    /// Whether it admits a value of the type a bound applies to.
    fn admits(&self, applies: Applies) -> bool {
        let Some(types) = &self.types else {
            return true;
        };
        match applies {
            Applies::Number => types.contains("number") || types.contains("integer"),
            Applies::String => types.contains("string"),
            Applies::Array => types.contains("array"),
        }
    }
}

/// The side of bound keyword `key`.
fn side(key: &str) -> Side {
    BOUNDS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(Side::Step, |&(_, _, side)| side)
}

/// Types in both sets; an `integer` fits a `number`.
fn both_types(a: &BTreeSet<String>, b: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = a & b;
    if (a.contains("integer") && b.contains("number"))
        || (a.contains("number") && b.contains("integer"))
    {
        out.insert("integer".into());
    }
    normalise(out)
}

/// `number` admits every `integer`: a set holding both is the set holding `number`.
fn normalise(mut types: BTreeSet<String>) -> BTreeSet<String> {
    if types.contains("number") {
        types.remove("integer");
    }
    types
}

/// Values sorted and without repeats (their order in a spec means nothing).
fn sorted(mut values: Vec<Value>) -> Vec<Value> {
    values.sort_by_key(Value::to_string);
    values.dedup();
    values
}

/// The value with every whole float written as an integer (`6.0` → `6`), so that two specs that
/// write one number two ways agree.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        _ => value.clone(),
    }
}

/// The JSON type of a value, as JSON Schema names it.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Drops the bounds `to_json_schema` adds for `format: int32`/`int64` (each equal to the
/// format's limit): the format is compared as the format, not as a range the docs state.
fn drop_format_bounds(map: &Map<String, Value>, bounds: &mut BTreeMap<&'static str, f64>) {
    let (min, max) = match map.get("format").and_then(Value::as_str) {
        Some("int32") => (f64::from(i32::MIN), f64::from(i32::MAX)),
        Some("int64") => (i64::MIN as f64, i64::MAX as f64),
        _ => return,
    };
    if bounds.get("minimum") == Some(&min) {
        bounds.remove("minimum");
    }
    if bounds.get("maximum") == Some(&max) {
        bounds.remove("maximum");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_null_branch_only_adds_null() {
        let shape = Shape::of(&json!({"anyOf": [
            {"type": "string", "enum": ["png", "jpeg"], "maxLength": 8},
            {"type": "null"}
        ], "default": "png"}));
        assert_eq!(
            shape.types,
            Some(BTreeSet::from(["string".into(), "null".into()]))
        );
        assert_eq!(shape.values, Some(vec![json!("jpeg"), json!("png")]));
        assert_eq!(shape.bounds.get("maxLength"), Some(&8.0));
        assert_eq!(shape.default, Some(json!("png")));
    }

    #[test]
    fn all_of_merges_properties_and_one_of_widens() {
        let shape = Shape::of(&json!({
            "allOf": [{"properties": {"a": {"type": "integer", "minimum": 1}}, "required": ["a"]}],
            "properties": {"b": {"const": "x"}},
            "required": ["b"]
        }));
        assert_eq!(shape.required, BTreeSet::from(["a".into(), "b".into()]));
        assert_eq!(shape.properties["a"].bounds.get("minimum"), Some(&1.0));
        assert_eq!(shape.properties["b"].values, Some(vec![json!("x")]));
        assert_eq!(
            shape.properties["b"].types,
            Some(BTreeSet::from(["string".into()]))
        );

        let shape = Shape::of(&json!({"oneOf": [
            {"type": "object", "properties": {"status": {"enum": ["ok"]}, "a": {}}, "required": ["status", "a"]},
            {"type": "object", "properties": {"status": {"enum": ["wait"]}}, "required": ["status"]}
        ]}));
        assert_eq!(shape.required, BTreeSet::from(["status".into()]));
        assert_eq!(
            shape.properties["status"].values,
            Some(vec![json!("ok"), json!("wait")])
        );
        let shape = Shape::of(&json!({"oneOf": [
            {"type": "integer", "minimum": 1, "maximum": 10},
            {"type": "string", "maxLength": 3}
        ]}));
        assert_eq!(shape.bounds.get("maximum"), Some(&10.0));
        assert_eq!(shape.bounds.get("maxLength"), Some(&3.0));
    }

    #[test]
    fn format_limits_are_no_range() {
        let shape = Shape::of(
            &json!({"type": "integer", "format": "int32", "minimum": -2147483648i64, "maximum": 9}),
        );
        assert_eq!(shape.bounds.get("minimum"), None);
        assert_eq!(shape.bounds.get("maximum"), Some(&9.0));
    }
}
