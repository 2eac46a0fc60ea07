//! Reading a request by the spec's `x-feature` and `x-media` marks, so that no field name or default
//! is typed here: the emulator asks "where is the width?" and the spec answers.

use std::collections::HashMap;

use serde_json::Value;

/// Where a feature lives in a request, and its default.
#[derive(Debug, Clone)]
pub(crate) struct FeatureField {
    /// JSON pointer into the request body.
    pub pointer: String,
    /// The spec's `default`, if it gives one.
    pub default: Option<Value>,
}

/// Every `x-feature` of the request schema at JSON pointer `at` of an OpenAPI document, first
/// occurrence wins. The document is walked rather than the compiled schema because a property
/// written as `$ref` plus `x-feature` keeps its mark only there. Arrays are not entered: a feature
/// inside a list item is not a property of the request as a whole.
pub(crate) fn feature_fields(document: &Value, at: &str) -> HashMap<String, FeatureField> {
    let mut out = HashMap::new();
    if let Some(schema) = document.pointer(at) {
        walk_features(document, schema, "", None, &mut out, 0);
    }
    out
}

fn walk_features(
    document: &Value,
    schema: &Value,
    pointer: &str,
    inherited_default: Option<&Value>,
    out: &mut HashMap<String, FeatureField>,
    depth: usize,
) {
    let Value::Object(map) = schema else {
        return;
    };
    if depth > 32 {
        return;
    }
    let default = map.get("default").or(inherited_default);
    if let Some(Value::String(feature)) = map.get("x-feature") {
        out.entry(feature.clone()).or_insert_with(|| FeatureField {
            pointer: pointer.to_owned(),
            default: default.cloned(),
        });
    }
    if let Some(target) = map
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| img2img_specs::schema::resolve_ref(document, r))
    {
        walk_features(document, target, pointer, default, out, depth + 1);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            for branch in branches {
                walk_features(document, branch, pointer, default, out, depth + 1);
            }
        }
    }
    if let Some(Value::Object(properties)) = map.get("properties") {
        for (name, property) in properties {
            let child = format!("{pointer}/{}", img2img_specs::schema::escape(name));
            walk_features(document, property, &child, None, out, depth + 1);
        }
    }
}

/// The value of `feature` in `body`: the body's own, else the spec's default.
pub(crate) fn feature_value<'a>(
    fields: &'a HashMap<String, FeatureField>,
    body: &'a Value,
    feature: &str,
) -> Option<&'a Value> {
    let field = fields.get(feature)?;
    match body.pointer(&field.pointer) {
        Some(Value::Null) | None => field.default.as_ref().filter(|d| !d.is_null()),
        Some(value) => Some(value),
    }
}

/// JSON pointers of every string in `instance` that the schema marks `x-media: image`.
pub fn media_fields(schema: &Value, instance: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_media(schema, instance, String::new(), &mut out);
    out.dedup();
    out
}

fn walk_media(schema: &Value, instance: &Value, pointer: String, out: &mut Vec<String>) {
    let Value::Object(map) = schema else {
        return;
    };
    if map.get("x-media").and_then(Value::as_str) == Some("image") && instance.is_string() {
        if !out.contains(&pointer) {
            out.push(pointer.clone());
        }
        return;
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            for branch in branches {
                walk_media(branch, instance, pointer.clone(), out);
            }
        }
    }
    match instance {
        Value::Object(fields) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                for (name, value) in fields {
                    if let Some(property) = properties.get(name) {
                        let child = format!("{pointer}/{}", img2img_specs::schema::escape(name));
                        walk_media(property, value, child, out);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = map.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk_media(item_schema, item, format!("{pointer}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

/// A number sent as a JSON number or as a decimal string (ModelsLab).
pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A `"WxH"` size string.
pub(crate) fn as_size(value: &Value) -> Option<(u64, u64)> {
    let (w, h) = value.as_str()?.split_once(['x', 'X'])?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use img2img_specs::{Provider, Spec};
    use serde_json::json;

    use super::*;

    fn fields_of(provider: Provider) -> HashMap<String, FeatureField> {
        let spec = Spec::embedded(provider);
        let op = spec.operation(&spec.extensions().job.create).unwrap();
        feature_fields(spec.document(), op.request_body.as_deref().unwrap())
    }

    #[test]
    fn features_are_found_with_their_defaults() {
        let fields = fields_of(Provider::Gptproto);
        assert_eq!(fields["size"].pointer, "/size");
        assert_eq!(fields["size"].default, Some(json!("832x1216")));
        let body = json!({"prompt": "p"});
        assert_eq!(
            feature_value(&fields, &body, "images_per_call"),
            Some(&json!(1))
        );

        let fields = fields_of(Provider::Novita);
        assert_eq!(fields["width"].pointer, "/request/width");
        assert_eq!(
            fields["output_format"].pointer,
            "/extra/response_image_type"
        );
        assert_eq!(fields["webhook"].pointer, "/extra/webhook");
        assert_eq!(
            fields["webhook_test_mode"].pointer,
            "/extra/webhook/test_mode"
        );
        let spec = Spec::embedded(Provider::Novita);
        let schema = spec
            .request_schema(&spec.extensions().job.create)
            .unwrap()
            .unwrap();
        let body = json!({"request": {"image_base64": "x", "controlnet": {"units": [
            {"model_name": "m", "image_base64": "y", "strength": 1}]}}});
        let mut found = media_fields(schema.schema(), &body);
        found.sort();
        assert_eq!(
            found,
            vec![
                "/request/controlnet/units/0/image_base64".to_owned(),
                "/request/image_base64".to_owned(),
            ]
        );
    }

    #[test]
    fn numbers_and_sizes_parse_in_every_form_the_specs_allow() {
        assert_eq!(as_number(&json!("512")), Some(512.0));
        assert_eq!(as_number(&json!(7.5)), Some(7.5));
        assert_eq!(as_number(&json!(true)), None);
        assert_eq!(as_size(&json!("832x1216")), Some((832, 1216)));
        assert_eq!(as_size(&json!("832")), None);
    }
}
