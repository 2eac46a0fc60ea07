//! Turns an OpenAPI 3.0 schema object into a self-contained JSON Schema (draft 2020-12).
//!
//! `$ref`s are inlined (the specs have no recursive types), `nullable: true` becomes a `null` type,
//! boolean `exclusiveMinimum`/`exclusiveMaximum` become numeric ones, and `x-required-if` becomes an
//! `if`/`then`. Other `x-` keys are kept: validators ignore them and error messages read them.

use serde_json::{Map, Value, json};

/// A schema that could not be converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    /// A `$ref` that does not point into the same document, or points at nothing.
    #[error("{at}: $ref {reference:?} does not resolve to anything in the document")]
    UnresolvedRef {
        /// Where the `$ref` stands (JSON pointer into the spec).
        at: String,
        /// The reference itself.
        reference: String,
    },
    /// A `$ref` chain that comes back to itself.
    #[error("{at}: $ref {reference:?} is recursive, which the tools do not support")]
    RecursiveRef {
        /// Where the `$ref` stands.
        at: String,
        /// The reference itself.
        reference: String,
    },
    /// An `x-required-if` that is not `{property: {other: value}}`.
    #[error("{at}: x-required-if must map a property to {{other property: value}}")]
    BadRequiredIf {
        /// Where it stands.
        at: String,
    },
    /// jsonschema refused the converted schema.
    #[error("{at}: the converted schema does not compile: {message}")]
    DoesNotCompile {
        /// Where the schema stands.
        at: String,
        /// What jsonschema said.
        message: String,
    },
}

/// Keys of an OpenAPI schema object that JSON Schema does not need.
const DROPPED: &[&str] = &[
    "nullable",
    "example",
    "discriminator",
    "xml",
    "externalDocs",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Resolves a local `$ref` (`#/components/schemas/X`) in `document`.
pub fn resolve_ref<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    document.pointer(reference.strip_prefix('#')?)
}

/// Converts the schema at JSON pointer `at` of `document` into a standalone JSON Schema.
pub fn to_json_schema(document: &Value, at: &str) -> Result<Value, SchemaError> {
    let schema = document
        .pointer(at)
        .ok_or_else(|| SchemaError::UnresolvedRef {
            at: at.to_owned(),
            reference: format!("#{at}"),
        })?;
    let mut converted = convert(document, schema, at, &mut Vec::new())?;
    if let Value::Object(map) = &mut converted {
        map.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
    }
    Ok(converted)
}

fn convert(
    document: &Value,
    schema: &Value,
    at: &str,
    refs: &mut Vec<String>,
) -> Result<Value, SchemaError> {
    let Value::Object(object) = schema else {
        return Ok(schema.clone());
    };
    if let Some(Value::String(reference)) = object.get("$ref") {
        if refs.contains(reference) {
            return Err(SchemaError::RecursiveRef {
                at: at.to_owned(),
                reference: reference.clone(),
            });
        }
        let target =
            resolve_ref(document, reference).ok_or_else(|| SchemaError::UnresolvedRef {
                at: at.to_owned(),
                reference: reference.clone(),
            })?;
        refs.push(reference.clone());
        let mut converted = convert(document, target, &reference[1..], refs)?;
        refs.pop();
        // OpenAPI 3.0 ignores siblings of `$ref`, but the specs put their `x-` annotations (the
        // feature a property implements) beside the `$ref` of a shared schema: keep those.
        if let Value::Object(out) = &mut converted {
            for (key, value) in object.iter().filter(|(k, _)| k.starts_with("x-")) {
                out.insert(key.clone(), value.clone());
            }
        }
        return Ok(converted);
    }

    let mut out = Map::new();
    for (key, value) in object {
        if DROPPED.contains(&key.as_str()) {
            continue;
        }
        let child = format!("{at}/{}", escape(key));
        let value = match key.as_str() {
            "properties" => convert_map(document, value, &child, refs)?,
            "items" | "not" => convert(document, value, &child, refs)?,
            "additionalProperties" if value.is_object() => convert(document, value, &child, refs)?,
            "allOf" | "anyOf" | "oneOf" => convert_list(document, value, &child, refs)?,
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }

    numeric_exclusive(&mut out, "exclusiveMinimum", "minimum");
    numeric_exclusive(&mut out, "exclusiveMaximum", "maximum");
    format_bounds(&mut out);
    if let Some(rules) = object.get("x-required-if") {
        add_required_if(&mut out, rules, at)?;
    }

    if object.get("nullable") == Some(&Value::Bool(true)) {
        return Ok(nullable(out));
    }
    Ok(Value::Object(out))
}

fn convert_map(
    document: &Value,
    value: &Value,
    at: &str,
    refs: &mut Vec<String>,
) -> Result<Value, SchemaError> {
    let Value::Object(map) = value else {
        return Ok(value.clone());
    };
    let mut out = Map::new();
    for (name, schema) in map {
        let child = format!("{at}/{}", escape(name));
        out.insert(name.clone(), convert(document, schema, &child, refs)?);
    }
    Ok(Value::Object(out))
}

fn convert_list(
    document: &Value,
    value: &Value,
    at: &str,
    refs: &mut Vec<String>,
) -> Result<Value, SchemaError> {
    let Value::Array(list) = value else {
        return Ok(value.clone());
    };
    list.iter()
        .enumerate()
        .map(|(i, schema)| convert(document, schema, &format!("{at}/{i}"), refs))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// OpenAPI 3.0's `exclusiveMinimum: true` beside `minimum: x` is JSON Schema's `exclusiveMinimum: x`.
fn numeric_exclusive(out: &mut Map<String, Value>, exclusive: &str, bound: &str) {
    match out.get(exclusive) {
        Some(Value::Bool(true)) => {
            if let Some(limit) = out.remove(bound) {
                out.insert(exclusive.to_owned(), limit);
            } else {
                out.remove(exclusive);
            }
        }
        Some(Value::Bool(false)) => {
            out.remove(exclusive);
        }
        _ => {}
    }
}

fn add_required_if(
    out: &mut Map<String, Value>,
    rules: &Value,
    at: &str,
) -> Result<(), SchemaError> {
    let bad = || SchemaError::BadRequiredIf {
        at: format!("{at}/x-required-if"),
    };
    let rules = rules.as_object().ok_or_else(bad)?;
    let mut all_of = match out.remove("allOf") {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    for (property, condition) in rules {
        let condition = condition
            .as_object()
            .filter(|c| c.len() == 1)
            .ok_or_else(bad)?;
        let (other, value) = condition.iter().next().ok_or_else(bad)?;
        all_of.push(json!({
            "if": {"properties": {other: {"const": value}}, "required": [other]},
            "then": {"required": [property], "x-because": format!("{other} = {value}")},
        }));
    }
    out.insert("allOf".into(), Value::Array(all_of));
    Ok(())
}

/// `format: int32` / `int64` on an integer bound it as OpenAPI defines them (a signed 32- or 64-bit
/// integer): a side the schema leaves open gets the format's limit, so a value no typed client
/// can hold (a `request_id` beyond int64) breaks the schema like any other out-of-range value.
fn format_bounds(out: &mut Map<String, Value>) {
    if out.get("type").and_then(Value::as_str) != Some("integer") {
        return;
    }
    let (min, max) = match out.get("format").and_then(Value::as_str) {
        Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
        Some("int64") => (i64::MIN, i64::MAX),
        _ => return,
    };
    let open = |out: &Map<String, Value>, bound: &str, exclusive: &str| {
        !out.contains_key(bound) && !out.contains_key(exclusive)
    };
    if open(out, "minimum", "exclusiveMinimum") {
        out.insert("minimum".into(), Value::from(min));
    }
    if open(out, "maximum", "exclusiveMaximum") {
        out.insert("maximum".into(), Value::from(max));
    }
}

fn nullable(mut out: Map<String, Value>) -> Value {
    if let Some(Value::Array(values)) = out.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match out.get("type").cloned() {
        Some(Value::String(kind)) => {
            out.insert("type".into(), json!([kind, "null"]));
            Value::Object(out)
        }
        _ => {
            // Annotations stay on the outside, where readers of the property look for them.
            let mut wrapper = Map::new();
            for key in out
                .keys()
                .filter(|k| k.starts_with("x-") || ANNOTATIONS.contains(&k.as_str()))
                .cloned()
                .collect::<Vec<_>>()
            {
                if let Some(value) = out.remove(&key) {
                    wrapper.insert(key, value);
                }
            }
            wrapper.insert(
                "anyOf".into(),
                json!([{"type": "null"}, Value::Object(out)]),
            );
            Value::Object(wrapper)
        }
    }
}

/// Keywords that describe a schema without constraining it.
const ANNOTATIONS: &[&str] = &["description", "default", "title"];

/// Escapes one JSON pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one JSON pointer segment.
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(document: Value, at: &str, expected: Value) {
        let mut converted = to_json_schema(&document, at).unwrap();
        converted.as_object_mut().unwrap().remove("$schema");
        assert_eq!(converted, expected);
    }

    #[test]
    fn integer_formats_bound_open_sides() {
        let document = json!({"s": {"type": "integer", "format": "int64", "minimum": 0}});
        let schema = to_json_schema(&document, "/s").unwrap();
        assert_eq!(schema["minimum"], json!(0));
        assert_eq!(schema["maximum"], json!(i64::MAX));
        let document = json!({"s": {"type": "integer", "format": "int32"}});
        let schema = to_json_schema(&document, "/s").unwrap();
        assert_eq!(schema["minimum"], json!(i32::MIN));
        assert_eq!(schema["maximum"], json!(i32::MAX));
        let compiled = crate::validate::CompiledSchema::compile(
            to_json_schema(&json!({"s": {"type": "integer", "format": "int64"}}), "/s").unwrap(),
            "/s",
        )
        .unwrap();
        let beyond: Value = serde_json::from_str("9223372036854775808").unwrap();
        let error = compiled.validate(&beyond).unwrap_err().to_string();
        assert!(error.contains("9223372036854775807"), "{error}");
    }

    #[test]
    fn inlines_refs_and_nullable() {
        check(
            json!({"components": {"schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"type": "integer", "nullable": true, "minimum": 1, "example": 3}
            }}}),
            "/components/schemas/A",
            json!({"type": "object", "properties": {"b": {"type": ["integer", "null"], "minimum": 1}}}),
        );
    }

    #[test]
    fn nullable_without_type_becomes_any_of() {
        check(
            json!({"s": {"nullable": true, "oneOf": [{"type": "string"}, {"type": "integer"}]}}),
            "/s",
            json!({"anyOf": [{"type": "null"}, {"oneOf": [{"type": "string"}, {"type": "integer"}]}]}),
        );
    }

    #[test]
    fn annotations_stay_outside_the_nullable_wrapper_and_beside_refs() {
        check(
            json!({"s": {"nullable": true, "description": "d", "default": 1, "x-feature": "seed", "oneOf": [{"type": "integer"}]}}),
            "/s",
            json!({"description": "d", "default": 1, "x-feature": "seed", "anyOf": [{"type": "null"}, {"oneOf": [{"type": "integer"}]}]}),
        );
        check(
            json!({"p": {"$ref": "#/t", "x-feature": "webhook", "description": "ignored by 3.0"}, "t": {"type": "object"}}),
            "/p",
            json!({"type": "object", "x-feature": "webhook"}),
        );
    }

    #[test]
    fn nullable_enum_admits_null() {
        check(
            json!({"s": {"type": "string", "enum": ["a"], "nullable": true}}),
            "/s",
            json!({"type": ["string", "null"], "enum": ["a", null]}),
        );
    }

    #[test]
    fn boolean_exclusive_bounds() {
        check(
            json!({"s": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1, "exclusiveMaximum": false}}),
            "/s",
            json!({"type": "number", "exclusiveMinimum": 0, "maximum": 1}),
        );
    }

    #[test]
    fn required_if_becomes_if_then() {
        check(
            json!({"s": {"type": "object", "x-required-if": {"image": {"action": "img2img"}}}}),
            "/s",
            json!({"type": "object", "x-required-if": {"image": {"action": "img2img"}}, "allOf": [{
                "if": {"properties": {"action": {"const": "img2img"}}, "required": ["action"]},
                "then": {"required": ["image"], "x-because": "action = \"img2img\""}
            }]}),
        );
    }

    #[test]
    fn unresolved_and_recursive_refs_are_errors() {
        let doc = json!({"a": {"$ref": "#/nowhere"}, "b": {"items": {"$ref": "#/b"}}});
        assert!(matches!(
            to_json_schema(&doc, "/a"),
            Err(SchemaError::UnresolvedRef { .. })
        ));
        assert!(matches!(
            to_json_schema(&doc, "/b"),
            Err(SchemaError::RecursiveRef { .. })
        ));
    }
}
