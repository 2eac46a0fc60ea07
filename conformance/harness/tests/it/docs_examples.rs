//! Every example of the docs (copied verbatim into the specs) validates against its schema,
//! deserializes into the generated types, serializes back to a body that still validates, keeps
//! every value the schema declares, and round-trips stably.

use img2img_harness::clients::{Part, round_trip};
use img2img_specs::{ExampleKind, Provider, Spec};
use serde_json::Value;

#[test]
fn every_docs_example_round_trips_through_the_generated_types() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        for example in spec.examples() {
            checked += 1;
            let place = format!(
                "{provider} {} example {:?}",
                example.operation, example.name
            );
            if let Err(message) = check(spec, provider, &example) {
                failures.push(format!("{place}: {message}"));
            }
        }
    }
    assert!(checked >= 40, "only {checked} examples found in the specs");
    assert!(
        failures.is_empty(),
        "{} of {checked} examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check(spec: &Spec, provider: Provider, example: &img2img_specs::Example) -> Result<(), String> {
    let schema = spec.compiled(&example.schema).map_err(|e| e.to_string())?;
    schema
        .validate(&example.value)
        .map_err(|v| format!("the docs example breaks the spec: {v}"))?;
    let part = match &example.kind {
        ExampleKind::Request => Part::Request,
        ExampleKind::Response(status) if status.starts_with('2') => Part::Success,
        ExampleKind::Response(_) => Part::Error,
    };
    let back = round_trip(provider, &example.operation, part, example.value.clone())
        .map_err(|e| format!("does not deserialize into the generated type: {e}"))?;
    schema
        .validate(&back)
        .map_err(|v| format!("serialized back, it breaks the spec: {v}\n{back}"))?;
    let again = round_trip(provider, &example.operation, part, back.clone())?;
    if again != back {
        return Err(format!("the round trip is not stable:\n{back}\n{again}"));
    }
    let mut lost = Vec::new();
    preserved(schema.schema(), &example.value, &back, "", &mut lost);
    if !lost.is_empty() {
        return Err(format!(
            "values lost or changed by the generated type: {}",
            lost.join(", ")
        ));
    }
    Ok(())
}

/// Every non-null value of `original` at a place the schema declares is in `back`, equal.
fn preserved(
    schema: &Value,
    original: &Value,
    back: &Value,
    pointer: &str,
    lost: &mut Vec<String>,
) {
    match original {
        Value::Object(map) => {
            for (key, value) in map {
                let Some(child_schema) = declared_property(schema, key) else {
                    continue;
                };
                let child = format!("{pointer}/{key}");
                match back.get(key) {
                    Some(b) => preserved(child_schema, value, b, &child, lost),
                    // typify omits null, `[]` and `{}` on the way out: the same body on the wire.
                    None if is_empty(value) => {}
                    None => lost.push(format!("{child} (dropped)")),
                }
            }
        }
        Value::Array(items) => {
            let item_schema = schema.get("items").unwrap_or(&Value::Null);
            for (i, value) in items.iter().enumerate() {
                match back.get(i) {
                    Some(b) => preserved(item_schema, value, b, &format!("{pointer}/{i}"), lost),
                    None => lost.push(format!("{pointer}/{i} (dropped)")),
                }
            }
        }
        Value::Number(n) => {
            let same = back.as_f64().zip(n.as_f64()).is_some_and(|(a, b)| a == b);
            if !same {
                lost.push(format!("{pointer}: {original} became {back}"));
            }
        }
        _ if original != back => lost.push(format!("{pointer}: {original} became {back}")),
        _ => {}
    }
}

/// The schema of property `key`, looking through `oneOf`/`anyOf`/`allOf` branches.
fn declared_property<'a>(schema: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(found) = schema.get("properties").and_then(|p| p.get(key)) {
        return Some(found);
    }
    ["oneOf", "anyOf", "allOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_array))
        .flatten()
        .find_map(|branch| declared_property(branch, key))
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}
