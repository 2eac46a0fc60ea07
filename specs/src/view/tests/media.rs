use serde_json::json;

use super::*;
use crate::{Provider, Spec};

#[test]
fn images_are_found_in_nested_objects_and_array_items() {
    let spec = Spec::embedded(Provider::named("novita"));
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
    assert!(carries_media(schema.schema()));
}

#[test]
fn a_schema_without_an_image_carries_none() {
    let schema = json!({"type": "object", "properties": {"id": {"type": "string"},
            "list": {"type": "array", "items": {"oneOf": [{"type": "string"}]}}}});
    assert!(!carries_media(&schema));
    let nested = json!({"properties": {"list": {"items": {"anyOf": [
            {"type": "string", "x-media": "image"}]}}}});
    assert!(carries_media(&nested));
}
