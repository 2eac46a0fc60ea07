//! Where a request carries images: the strings its schema marks `x-media: image`.

use serde_json::Value;

use crate::schema::escape;

/// JSON pointers of every string in `instance` that `schema` (a converted request schema, such as
/// [`CompiledSchema::schema`](crate::CompiledSchema::schema)) marks `x-media: image`, array items
/// and `oneOf`/`anyOf`/`allOf` branches included, each once.
pub fn media_fields(schema: &Value, instance: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(schema, instance, String::new(), &mut out);
    out
}

/// Whether `schema` (a converted request schema) marks any property `x-media: image`, in nested
/// objects, array items and `oneOf`/`anyOf`/`allOf` branches: whether a request may carry an image.
pub fn carries_media(schema: &Value) -> bool {
    let Value::Object(map) = schema else {
        return false;
    };
    if map.get("x-media").and_then(Value::as_str) == Some("image") {
        return true;
    }
    let branches = ["anyOf", "oneOf", "allOf"]
        .iter()
        .filter_map(|key| map.get(*key).and_then(Value::as_array))
        .flatten();
    let properties = map
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|properties| properties.values());
    branches
        .chain(properties)
        .chain(map.get("items"))
        .any(carries_media)
}

fn walk(schema: &Value, instance: &Value, pointer: String, out: &mut Vec<String>) {
    let Value::Object(map) = schema else {
        return;
    };
    if map.get("x-media").and_then(Value::as_str) == Some("image") && instance.is_string() {
        if !out.contains(&pointer) {
            out.push(pointer);
        }
        return;
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            for branch in branches {
                walk(branch, instance, pointer.clone(), out);
            }
        }
    }
    match instance {
        Value::Object(fields) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                for (name, value) in fields {
                    if let Some(property) = properties.get(name) {
                        walk(property, value, format!("{pointer}/{}", escape(name)), out);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = map.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(item_schema, item, format!("{pointer}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[path = "tests/media.rs"]
mod tests;
