//! Turns an OpenAPI 3.0 schema object into a self-contained JSON Schema (draft 2020-12).
//!
//! `$ref`s are inlined (the specs have no recursive types), `nullable: true` becomes a `null` type,
//! boolean `exclusiveMinimum`/`exclusiveMaximum` become numeric ones, and `x-required-if` becomes an
//! `if`/`then`. Other `x-` keys are kept: validators ignore them and error messages read them.
//!
//! A request schema has two [`Reading`]s (see `specs/README.md`): what our client sends (the
//! schema as written) and what the provider accepts (the schema widened by its `x-accepting`
//! marks: nulls read as absent, fields the provider tolerates, fields it accepts absent).

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

/// Which reading of a schema to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reading {
    /// What our client sends: the schema as written; `x-accepting` marks are ignored. The request
    /// guard uses it, so an unknown or misspelt field is refused before a paid call.
    #[default]
    Sending,
    /// What the provider accepts: the schema widened by each object's `x-accepting` (`null-as-absent`,
    /// `optional`, `tolerated`, `also`). The emulators and the conformance checks hold servers to it.
    Accepting,
}

/// `x-accepting`, the mark that widens an object schema in the [`Reading::Accepting`] reading.
pub const ACCEPTING: &str = "x-accepting";

/// What one conversion step knows besides the schema.
#[derive(Debug, Clone, Copy)]
struct Walk {
    reading: Reading,
    /// Inside an object whose `x-accepting.null-as-absent` is true (inherited by nested objects).
    null_as_absent: bool,
}

/// Resolves a local `$ref` (`#/components/schemas/X`) in `document`.
pub fn resolve_ref<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    document.pointer(reference.strip_prefix('#')?)
}

/// Converts the schema at JSON pointer `at` of `document` into a standalone JSON Schema.
pub fn to_json_schema(document: &Value, at: &str) -> Result<Value, SchemaError> {
    to_json_schema_as(document, at, Reading::Sending)
}

/// [`to_json_schema`] in the given [`Reading`].
pub fn to_json_schema_as(
    document: &Value,
    at: &str,
    reading: Reading,
) -> Result<Value, SchemaError> {
    let walk = Walk {
        reading,
        null_as_absent: false,
    };
    let schema = document
        .pointer(at)
        .ok_or_else(|| SchemaError::UnresolvedRef {
            at: at.to_owned(),
            reference: format!("#{at}"),
        })?;
    let mut converted = convert(document, schema, at, &mut Vec::new(), walk)?;
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
    walk: Walk,
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
        let mut converted = convert(document, target, &reference[1..], refs, walk)?;
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

    let accepting = match (walk.reading, object.get(ACCEPTING)) {
        (Reading::Accepting, Some(Value::Object(marks))) => Some(marks),
        _ => None,
    };
    let walk = Walk {
        null_as_absent: accepting
            .and_then(|m| m.get("null-as-absent"))
            .and_then(Value::as_bool)
            .unwrap_or(walk.null_as_absent),
        ..walk
    };
    let mut out = Map::new();
    for (key, value) in object {
        if DROPPED.contains(&key.as_str()) || key == ACCEPTING {
            continue;
        }
        let child = format!("{at}/{}", escape(key));
        let value = match key.as_str() {
            "properties" => convert_map(document, value, &child, refs, walk)?,
            "items" | "not" => convert(document, value, &child, refs, walk)?,
            "additionalProperties" if value.is_object() => {
                convert(document, value, &child, refs, walk)?
            }
            "allOf" | "anyOf" | "oneOf" => convert_list(document, value, &child, refs, walk)?,
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    if let Some(marks) = accepting {
        widen(
            document,
            &mut out,
            marks,
            &format!("{at}/{ACCEPTING}"),
            refs,
            walk,
        )?;
    }
    if walk.reading == Reading::Accepting && walk.null_as_absent {
        nulls_as_absent(&mut out);
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
    walk: Walk,
) -> Result<Value, SchemaError> {
    let Value::Object(map) = value else {
        return Ok(value.clone());
    };
    let mut out = Map::new();
    for (name, schema) in map {
        let child = format!("{at}/{}", escape(name));
        out.insert(name.clone(), convert(document, schema, &child, refs, walk)?);
    }
    Ok(Value::Object(out))
}

fn convert_list(
    document: &Value,
    value: &Value,
    at: &str,
    refs: &mut Vec<String>,
    walk: Walk,
) -> Result<Value, SchemaError> {
    let Value::Array(list) = value else {
        return Ok(value.clone());
    };
    list.iter()
        .enumerate()
        .map(|(i, schema)| convert(document, schema, &format!("{at}/{i}"), refs, walk))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// An object's `x-accepting` in the accepting reading: `tolerated` properties join `properties`,
/// `optional` ones leave `required`, and a property named in `also` takes what its own schema or
/// the one given there admits (`anyOf` of both).
fn widen(
    document: &Value,
    out: &mut Map<String, Value>,
    marks: &Map<String, Value>,
    at: &str,
    refs: &mut Vec<String>,
    walk: Walk,
) -> Result<(), SchemaError> {
    if let Some(tolerated) = marks.get("tolerated") {
        let Value::Object(extra) =
            convert_map(document, tolerated, &format!("{at}/tolerated"), refs, walk)?
        else {
            return Ok(());
        };
        let properties = out
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(properties) = properties {
            properties.extend(extra);
        }
    }
    if let (Some(Value::Array(optional)), Some(Value::Array(required))) =
        (marks.get("optional"), out.get_mut("required"))
    {
        required.retain(|name| !optional.contains(name));
    }
    if let Some(also) = marks.get("also") {
        let Value::Object(wider) = convert_map(document, also, &format!("{at}/also"), refs, walk)?
        else {
            return Ok(());
        };
        if let Some(Value::Object(properties)) = out.get_mut("properties") {
            for (name, extra) in wider {
                if let Some(declared) = properties.get_mut(&name) {
                    let sent = std::mem::take(declared);
                    *declared = serde_json::json!({"anyOf": [sent, extra]});
                }
            }
        }
    }
    Ok(())
}

/// Every property an object does not require may also be `null` (read as absent).
fn nulls_as_absent(out: &mut Map<String, Value>) {
    let required: Vec<Value> = match out.get("required") {
        Some(Value::Array(list)) => list.clone(),
        _ => Vec::new(),
    };
    let Some(Value::Object(properties)) = out.get_mut("properties") else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        if required.contains(&Value::String(name.clone())) || accepts_null(property) {
            continue;
        }
        if let Value::Object(map) = std::mem::take(property) {
            *property = nullable(map);
        }
    }
}

/// Whether a converted schema already lets `null` through.
fn accepts_null(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(kind)) => kind == "null",
        Some(Value::Array(kinds)) => kinds.iter().any(|k| k == "null"),
        _ => schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|branches| branches.iter().any(accepts_null)),
    }
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
    // An enum already says every value allowed.
    if out.get("type").and_then(Value::as_str) != Some("integer") || out.contains_key("enum") {
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

    #[test]
    fn also_widens_a_declared_property_in_the_accepting_reading_only() {
        let doc = json!({"R": {"type": "object", "additionalProperties": false,
            "x-accepting": {"also": {"flag": {"type": "boolean"}, "nope": {"type": "null"}}},
            "properties": {"flag": {"type": "string", "enum": ["yes", "no"]}}}});
        let sending = to_json_schema(&doc, "/R").unwrap();
        assert_eq!(
            sending["properties"]["flag"],
            json!({"type": "string", "enum": ["yes", "no"]})
        );
        let accepting = to_json_schema_as(&doc, "/R", Reading::Accepting).unwrap();
        assert_eq!(
            accepting["properties"]["flag"],
            json!({"anyOf": [{"type": "string", "enum": ["yes", "no"]}, {"type": "boolean"}]})
        );
        assert!(
            accepting["properties"].get("nope").is_none(),
            "also widens declared properties only"
        );
    }

    #[test]
    fn the_accepting_reading_widens_only_where_marked() {
        let doc = json!({"components": {"schemas": {
            "Body": {"type": "object", "additionalProperties": false, "required": ["request"],
                "x-accepting": {"null-as-absent": true},
                "properties": {"request": {"$ref": "#/components/schemas/Request"}}},
            "Request": {"type": "object", "additionalProperties": false, "required": ["prompt", "steps"],
                "x-accepting": {"optional": ["steps"], "tolerated": {"extra": {"type": "object"}}},
                "properties": {
                    "prompt": {"type": "string"},
                    "steps": {"type": "integer", "minimum": 1},
                    "sampler": {"type": "string", "enum": ["a"]},
                    "loras": {"type": "array", "items": {"type": "object"}}
                }}
        }}});
        let at = "/components/schemas/Body";
        let sending = to_json_schema(&doc, at).unwrap();
        let request = &sending["properties"]["request"];
        assert_eq!(request["required"], json!(["prompt", "steps"]));
        assert!(request["properties"].get("extra").is_none());
        assert!(request.get(ACCEPTING).is_none(), "the mark is consumed");

        let accepting = to_json_schema_as(&doc, at, Reading::Accepting).unwrap();
        let request = &accepting["properties"]["request"];
        assert_eq!(request["required"], json!(["prompt"]));
        assert_eq!(
            request["properties"]["extra"],
            json!({"type": ["object", "null"]}),
            "tolerated, and optional, so null too"
        );
        assert_eq!(
            request["properties"]["steps"]["type"],
            json!(["integer", "null"])
        );
        assert_eq!(request["properties"]["sampler"]["enum"], json!(["a", null]));
        assert_eq!(
            request["properties"]["prompt"],
            json!({"type": "string"}),
            "a required property stays non-null"
        );
        // Inherited by the nested object; the top level requires `request`, so it stays non-null.
        assert_eq!(accepting["properties"]["request"]["type"], "object");
    }
}
