//! One deterministic valid instance of a schema: defaults where the spec gives them, otherwise the
//! smallest value each rule allows.

use serde_json::{Map, Number, Value, json};

use super::regex::sample_matching;

/// Which optional properties a sample carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Only the required ones (and those a present property makes required).
    Required,
    /// Every property, so that every nested constraint has a place to be tested.
    All,
}

/// A valid instance of `schema` (a JSON Schema compiled from a spec).
pub fn sample(schema: &Value, fill: Fill) -> Value {
    node(schema, fill, 0)
}

/// The types a schema admits, in order (`type` as string or list; `null` last).
pub fn types(schema: &Value) -> Vec<String> {
    let mut kinds: Vec<String> = match schema.get("type") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(branches)) = schema.get(key) {
            for branch in branches {
                kinds.extend(types(branch));
            }
        }
    }
    if kinds.is_empty() {
        if schema.get("properties").is_some() {
            kinds.push("object".into());
        } else if schema.get("items").is_some() {
            kinds.push("array".into());
        }
    }
    kinds.sort_by_key(|k| k == "null");
    kinds.dedup();
    kinds
}

/// The non-null branches of a `oneOf`/`anyOf`, if the schema is one.
pub fn branches(schema: &Value) -> Option<Vec<&Value>> {
    let list = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)?;
    Some(
        list.iter()
            .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
            .collect(),
    )
}

fn node(schema: &Value, fill: Fill, depth: usize) -> Value {
    if let Some(default) = schema.get("default") {
        return default.clone();
    }
    if let Some(Value::Array(values)) = schema.get("enum")
        && let Some(first) = values.iter().find(|v| !v.is_null())
    {
        return first.clone();
    }
    if let Some(branches) = branches(schema)
        && let Some(first) = branches.first()
    {
        return node(first, fill, depth + 1);
    }
    let kind = types(schema)
        .into_iter()
        .next()
        .unwrap_or_else(|| "null".into());
    match kind.as_str() {
        "object" => object(schema, fill, depth),
        "array" => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let max = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            let wanted = if fill == Fill::All { min.max(1) } else { min }.min(max);
            let item = schema
                .get("items")
                .map_or(Value::Null, |s| node(s, fill, depth + 1));
            Value::Array(vec![item; wanted as usize])
        }
        "string" => string(schema),
        "integer" => integer(schema),
        "number" => number(schema),
        "boolean" => Value::Bool(fill == Fill::All),
        _ => Value::Null,
    }
}

fn object(schema: &Value, fill: Fill, depth: usize) -> Value {
    let required = required_names(schema);
    let mut out = Map::new();
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (name, property) in properties {
            if fill == Fill::All || required.contains(name) {
                out.insert(name.clone(), node(property, fill, depth + 1));
            }
        }
    }
    // `x-required-if`, compiled to `allOf: [{if, then: {required}}]`.
    if let Some(Value::Array(rules)) = schema.get("allOf") {
        for rule in rules {
            let (Some(condition), Some(then)) = (rule.get("if"), rule.get("then")) else {
                continue;
            };
            if !condition_holds(condition, &out) {
                continue;
            }
            for name in required_names(then) {
                if !out.contains_key(&name)
                    && let Some(property) = schema.pointer(&format!("/properties/{name}"))
                {
                    out.insert(name, node(property, fill, depth + 1));
                }
            }
        }
    }
    Value::Object(out)
}

/// The names in a schema's `required` list.
pub fn required_names(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an `if` made of `properties: {p: {const: v}}` (plus `required: [p]`) holds for `object`.
pub fn condition_holds(condition: &Value, object: &Map<String, Value>) -> bool {
    let Some(Value::Object(properties)) = condition.get("properties") else {
        return false;
    };
    properties
        .iter()
        .all(|(name, rule)| match rule.get("const") {
            Some(expected) => object.get(name) == Some(expected),
            None => true,
        })
}

fn string(schema: &Value) -> Value {
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && let Some(text) = sample_matching(pattern)
    {
        return Value::String(text);
    }
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX) as usize;
    // A `format: uri` string is an address a server may call back: one that refuses at once.
    let uri = format!("{}sample", crate::URI_BASE);
    let mut text =
        if schema.get("format").and_then(Value::as_str) == Some("uri") && max >= uri.len() {
            uri
        } else {
            String::from("sample")
        };
    while text.chars().count() < min {
        text.push('x');
    }
    text.truncate(max.min(text.len()));
    Value::String(text)
}

/// The numeric bounds of a schema as `(lower, lower exclusive, upper, upper exclusive)`.
pub fn bounds(schema: &Value) -> (Option<f64>, bool, Option<f64>, bool) {
    let (lower, xl, upper, xu) = exact_bounds(schema);
    let float = |n: Option<Number>| n.and_then(|n| n.as_f64());
    (float(lower), xl, float(upper), xu)
}

/// [`bounds`] as the schema writes them: a bound of `i64::MAX` stays `i64::MAX`.
pub fn exact_bounds(schema: &Value) -> (Option<Number>, bool, Option<Number>, bool) {
    let number = |key: &str| match schema.get(key) {
        Some(Value::Number(n)) => Some(n.clone()),
        _ => None,
    };
    let (lower, xlower) = (number("minimum"), number("exclusiveMinimum"));
    let (upper, xupper) = (number("maximum"), number("exclusiveMaximum"));
    let (xl, xu) = (xlower.is_some(), xupper.is_some());
    (xlower.or(lower), xl, xupper.or(upper), xu)
}

fn integer(schema: &Value) -> Value {
    let (lower, xl, upper, xu) = bounds(schema);
    let value = match (lower, upper) {
        (Some(l), _) => l as i64 + i64::from(xl),
        (None, Some(u)) => (u as i64 - i64::from(xu)).min(0),
        (None, None) => 0,
    };
    json!(match multiple_of(schema) {
        // The first multiple at or above the smallest value allowed.
        Some(step) =>
            value.div_euclid(step) * step + if value.rem_euclid(step) == 0 { 0 } else { step },
        None => value,
    })
}

/// An integer schema's `multipleOf`, when it is a whole number above 1.
pub fn multiple_of(schema: &Value) -> Option<i64> {
    schema
        .get("multipleOf")
        .and_then(Value::as_i64)
        .filter(|step| *step > 1)
}

fn number(schema: &Value) -> Value {
    let (lower, xl, upper, xu) = bounds(schema);
    let value = match (lower, upper) {
        (Some(l), Some(u)) if xl || xu => (l + u) / 2.0,
        (Some(l), _) if xl => l + 0.5,
        (Some(l), _) => l,
        (None, Some(u)) if xu => u - 0.5,
        (None, Some(u)) => u.min(0.0),
        (None, None) => 0.0,
    };
    json!(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_respect_every_rule() {
        let schema = json!({
            "type": "object",
            "required": ["a"],
            "properties": {
                "a": {"type": "integer", "minimum": 3, "maximum": 9},
                "b": {"type": "string", "minLength": 8, "maxLength": 10},
                "c": {"type": "array", "maxItems": 2, "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}},
                "d": {"type": "string", "pattern": "^[1-9][0-9]x[1-9][0-9]$"},
                "e": {"type": "string", "enum": ["k_euler", "ddim"], "default": "ddim"},
                "f": {"oneOf": [{"type": "integer", "minimum": 256}, {"type": "string"}]}
            }
        });
        assert_eq!(sample(&schema, Fill::Required), json!({"a": 3}));
        let full = sample(&schema, Fill::All);
        assert_eq!(full["b"], json!("samplexx"));
        assert_eq!(full["c"], json!([0.5]));
        assert_eq!(full["e"], json!("ddim"));
        assert_eq!(full["f"], json!(256));
        let stepped = json!({"type": "integer", "minimum": 250, "maximum": 1024, "multipleOf": 8});
        assert_eq!(sample(&stepped, Fill::All), json!(256));
        let d = full["d"].as_str().unwrap();
        assert_eq!(d.len(), 5, "{d}");
        assert_eq!(&d[2..3], "x");
    }
}
