use serde_json::json;

use super::*;
use crate::Provider;

fn field(provider: Provider, feature: Feature) -> &'static FeatureField {
    let spec = Spec::embedded(provider);
    spec.feature(&spec.extensions().job.create, feature)
        .unwrap_or_else(|| panic!("{provider} has no {feature}"))
}

fn names(provider: Provider, feature: Feature) -> Vec<&'static str> {
    field(provider, feature).property_names().unwrap()
}

#[test]
fn features_land_where_each_spec_says() {
    assert_eq!(
        names(Provider::named("novita"), Feature::ImagesPerCall),
        ["request", "image_num"]
    );
    assert_eq!(
        names(Provider::named("novita"), Feature::OutputFormat),
        ["extra", "response_image_type"]
    );
    assert_eq!(
        names(Provider::named("gptproto"), Feature::ImagesPerCall),
        ["n"]
    );
    assert_eq!(
        names(Provider::named("modelslab"), Feature::Steps),
        ["num_inference_steps"]
    );
}

#[test]
fn features_are_found_with_their_defaults() {
    let size = field(Provider::named("gptproto"), Feature::Size);
    assert_eq!(size.pointer, "/size");
    assert_eq!(size.default, Some(json!("832x1216")));
    let body = json!({"prompt": "p"});
    assert_eq!(
        field(Provider::named("gptproto"), Feature::ImagesPerCall).value_in(&body),
        Some(&json!(1))
    );
    for (feature, pointer) in [
        (Feature::Width, "/request/width"),
        (Feature::OutputFormat, "/extra/response_image_type"),
        (Feature::Webhook, "/extra/webhook"),
        (Feature::WebhookTestMode, "/extra/webhook/test_mode"),
    ] {
        assert_eq!(field(Provider::named("novita"), feature).pointer, pointer);
    }
}

#[test]
fn array_items_are_entered_and_marked() {
    let spec = Spec::embedded(Provider::named("novita"));
    let all = spec.features(&spec.extensions().job.create);
    let lora = all
        .iter()
        .find(|f| f.feature == Feature::LoraStrength)
        .unwrap();
    assert!(lora.in_array());
    assert_eq!(lora.pointer, "/request/loras/*/strength");
    assert_eq!(lora.name(), "request.loras[].strength");
    assert_eq!(lora.property_names(), None);
    assert_eq!(lora.value_in(&json!({"request": {"loras": []}})), None);
    let body =
        json!({"request": {"loras": [{"strength": 1}, {"model_name": "m"}, {"strength": 0}]}});
    assert_eq!(
        lora.pointers_in(&body),
        ["/request/loras/0/strength", "/request/loras/2/strength"]
    );
    let width = field(Provider::named("novita"), Feature::Width);
    assert_eq!(width.pointers_in(&body), Vec::<String>::new());
    assert_eq!(
        width.pointers_in(&json!({"request": {"width": 8}})),
        ["/request/width"]
    );
    assert_eq!(width.value_in(&json!({"request": {"width": null}})), None);
    assert!(
        spec.feature(&spec.extensions().job.create, Feature::LoraStrength)
            .is_none()
    );
    let model = all
        .iter()
        .find(|f| f.feature == Feature::ControlnetModel)
        .unwrap();
    assert_eq!(model.name(), "request.controlnet.units[].model_name");
}

#[test]
fn conditions_and_required_marks_come_from_the_parent_object() {
    let image = field(Provider::named("gptproto"), Feature::InitImage);
    let condition = image.condition.as_ref().unwrap();
    assert_eq!(condition.to_string(), "action = \"img2img\"");
    assert!(field(Provider::named("novita"), Feature::Width).required);
    assert!(!field(Provider::named("novita"), Feature::Strength).required);
}

fn walk(document: Value) -> Vec<FeatureField> {
    let mut walk = Walk {
        document: &document,
        refs: Vec::new(),
        out: Vec::new(),
    };
    walk.node("/s", &mut Vec::new(), &Place::default(), 0);
    walk.out
}

#[test]
fn keys_beside_a_ref_win_over_the_target() {
    let found = walk(json!({
        "s": {"type": "object", "properties": {
            "a": {"$ref": "#/t", "x-feature": "seed", "default": 3},
            "b": {"$ref": "#/t"}
        }},
        "t": {"type": "integer", "x-feature": "steps", "default": 9, "x-unit": "steps"}
    }));
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].feature, Feature::Seed);
    assert_eq!(found[0].default, Some(json!(3)));
    assert_eq!(found[0].resolved_pointer, "/t");
    assert_eq!(found[0].schema["default"], 3);
    assert_eq!(found[0].schema["x-unit"], "steps");
    assert_eq!(found[1].feature, Feature::Steps);
    assert_eq!(found[1].default, Some(json!(9)));
}

#[test]
fn branches_add_no_segment_and_cycles_and_unknown_ids_stop_nothing_else() {
    let found = walk(json!({
        "s": {"type": "object", "properties": {
            "a": {"default": 5, "oneOf": [{"type": "integer", "x-feature": "seed"}, {"type": "string"}]},
            "b": {"type": "string", "x-feature": "colour"},
            "c": {"$ref": "#/s"}
        }}
    }));
    let pointers: Vec<&str> = found.iter().map(|f| f.pointer.as_str()).collect();
    assert_eq!(pointers, ["/a", "/c/a"]);
    assert_eq!(found[0].default, Some(json!(5)));
}

#[test]
fn a_test_mode_names_its_switch_and_status_properties() {
    let mode = field(Provider::named("novita"), Feature::WebhookTestMode);
    assert_eq!(
        mode.test_mode().unwrap(),
        Some(TestModeFields {
            switch: "enabled".into(),
            status: "return_task_status".into(),
        })
    );
    let mut other = mode.clone();
    other.schema = json!({"x-test-mode": {"switch": "on"}});
    assert!(other.test_mode().is_err());
    other.schema = json!({"type": "object"});
    assert_eq!(other.test_mode().unwrap(), None);
}
