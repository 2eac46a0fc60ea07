//! How the neutral request becomes each provider's body: features where `x-feature` says, samplers
//! by common name, required fields from the spec, `x-job.create-fields`, any other field by path
//! (`--set`), and every value checked against the spec before anything is sent.

use img2img_client::{Error, FieldSetting, ImageRequest, Provider};
use serde_json::json;

use crate::support::{needs_model, png};

fn request() -> ImageRequest {
    ImageRequest {
        prompt: "a cat".into(),
        image: png(512, 384),
        ..ImageRequest::default()
    }
}

#[test]
fn the_size_defaults_to_the_input_image() {
    let body = request().to_body(Provider::named("gptproto")).unwrap();
    assert_eq!(body["size"], "512x384");
    assert_eq!(body["action"], "img2img");
    let body = request().to_body(Provider::named("modelslab")).unwrap();
    assert_eq!(
        (body["width"].as_u64(), body["height"].as_u64()),
        (Some(512), Some(384))
    );
}

#[test]
fn required_fields_come_from_the_spec_but_never_the_model() {
    let body = request().to_body(Provider::named("novita")).unwrap();
    assert!(body["request"]["steps"].is_u64(), "{body}");
    assert!(body["request"]["sampler_name"].is_string(), "{body}");
    assert!(body["request"].get("model_name").is_none());
    let err = request().prepare(Provider::named("novita")).unwrap_err();
    assert!(err.to_string().contains("model_name"), "{err}");
}

#[test]
fn out_of_range_values_name_the_field_value_and_range() {
    let mut r = request();
    r.options.model = Some("m".into());
    r.n = Some(9);
    let err = r.prepare(Provider::named("novita")).unwrap_err();
    let Error::InvalidRequest { field, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field.as_deref(), Some("request.image_num"));
    assert!(
        message.contains("request.image_num = 9 is above the maximum 8"),
        "{message}"
    );
}

#[test]
fn a_setting_the_provider_lacks_is_refused() {
    let mut r = request();
    r.options.noise = Some(0.1);
    let err = r.to_body(Provider::named("novita")).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field: Some(f), .. } if f == "noise"),
        "{err:?}"
    );
    assert!(err.to_string().contains("no noise setting"), "{err}");
    assert!(r.prepare(Provider::named("gptproto")).is_ok());
}

#[test]
fn an_aspect_ratio_goes_where_the_spec_takes_one_and_is_refused_elsewhere() {
    let mut r = request();
    r.options.aspect_ratio = img2img_specs::AspectRatio::parse("16:9");
    let body = r.to_body(Provider::named("bfl")).unwrap();
    assert!(r.prepare(Provider::named("bfl")).is_ok());
    assert_eq!(body["aspect_ratio"], "16:9", "{body}");
    // BFL takes no size: none is sent, whatever the input image's.
    assert!(
        body.get("width").is_none() && body.get("size").is_none(),
        "{body}"
    );
    let err = r.to_body(Provider::named("gptproto")).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field: Some(f), .. } if f == "aspect_ratio"),
        "{err:?}"
    );
    assert!(err.to_string().contains("no aspect_ratio setting"), "{err}");
}

#[test]
fn samplers_may_be_given_by_their_common_name() {
    let sampler = |provider: &str, name: &str, pointer: &str| {
        let mut r = request();
        r.options.sampler = Some(name.into());
        let body = r.to_body(Provider::named(provider)).unwrap();
        body.pointer(pointer).cloned().unwrap()
    };
    assert_eq!(
        sampler("novita", "euler_ancestral", "/request/sampler_name"),
        "Euler a"
    );
    assert_eq!(
        sampler("modelslab", "euler_ancestral", "/scheduler"),
        "EulerAncestralDiscreteScheduler"
    );
    assert_eq!(sampler("gptproto", "k_euler", "/sampler"), "k_euler");
}

fn with_fields(provider: Provider, settings: &[&str]) -> ImageRequest {
    let mut r = request();
    if needs_model(provider) {
        r.options.model = Some("m".into());
    }
    r.options.fields = settings.iter().map(|s| s.parse().unwrap()).collect();
    r
}

#[test]
fn any_field_the_spec_defines_is_set_by_its_path() {
    let novita = Provider::named("novita");
    let prepared = with_fields(
        novita,
        &[
            "request.clip_skip=2",
            "/request/loras/0/model_name=add_detail_44319",
            "request.loras.0.strength=0.7",
        ],
    )
    .prepare(novita)
    .unwrap();
    let body = prepared.body();
    assert_eq!(body["request"]["clip_skip"], 2);
    assert_eq!(
        body["request"]["loras"],
        json!([{"model_name": "add_detail_44319", "strength": 0.7}])
    );
    // A setting is applied after the common fields, so it wins over them.
    let mut r = with_fields(novita, &["request.steps=33"]);
    r.steps = Some(20);
    assert_eq!(r.prepare(novita).unwrap().body()["request"]["steps"], 33);
}

#[test]
fn a_set_value_out_of_range_names_the_field_value_and_range_before_sending() {
    let novita = Provider::named("novita");
    let err = with_fields(
        novita,
        &[
            "request.loras.0.model_name=x",
            "request.loras.0.strength=1.5",
        ],
    )
    .prepare(novita)
    .unwrap_err();
    let Error::InvalidRequest { field, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field.as_deref(), Some("request.loras[0].strength"));
    assert!(
        message.contains("request.loras[0].strength = 1.5 is above the maximum 1"),
        "{message}"
    );
    let err = with_fields(novita, &["request.clip_skip=many"])
        .prepare(novita)
        .unwrap_err();
    assert!(
        err.to_string().contains("request.clip_skip = \"many\""),
        "{err}"
    );
}

#[test]
fn an_unknown_field_is_refused_naming_the_nearest_known_ones() {
    for provider in Provider::all() {
        let err = with_fields(provider, &["stpes=30"])
            .to_body(provider)
            .unwrap_err();
        let Error::InvalidRequest { field, message } = &err else {
            panic!("{provider}: {err:?}")
        };
        assert_eq!(field.as_deref(), Some("stpes"), "{provider}");
        assert!(message.contains("nearest known: "), "{provider}: {message}");
    }
    let novita = Provider::named("novita");
    let err = with_fields(novita, &["request.stpes=30"])
        .to_body(novita)
        .unwrap_err();
    assert!(
        err.to_string().contains("nearest known: request.steps"),
        "{err}"
    );
}

#[test]
fn the_key_field_cannot_be_set() {
    let modelslab = Provider::named("modelslab");
    let err = with_fields(modelslab, &["key=sk-from-a-flag"])
        .to_body(modelslab)
        .unwrap_err();
    assert!(err.to_string().contains("carries the API key"), "{err}");
    assert!(!err.to_string().contains("sk-from-a-flag"), "{err}");
}

#[test]
fn create_fields_are_sent_and_cannot_be_set_otherwise() {
    let gptproto = Provider::named("gptproto");
    let body = with_fields(gptproto, &["action=img2img"])
        .to_body(gptproto)
        .unwrap();
    assert_eq!(body["action"], "img2img");
    let err = with_fields(gptproto, &["action=generate"])
        .to_body(gptproto)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field: Some(f), .. } if f == "action"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(
            "action = \"generate\" cannot be sent: gptproto runs this job with action = \"img2img\""
        ),
        "{err}"
    );
}

#[test]
fn settings_parse_from_path_equals_value() {
    let setting: FieldSetting = "request.steps=30".parse().unwrap();
    assert_eq!(setting, FieldSetting::new("request.steps", 30));
    assert_eq!(setting.to_string(), "request.steps=30");
}

#[test]
fn a_modelslab_side_not_divisible_by_8_is_refused_naming_the_rule() {
    let modelslab = Provider::named("modelslab");
    let mut r = request();
    r.options.model = Some("m".into());
    r.size = Some("513x512".parse().unwrap());
    let err = r.prepare(modelslab).unwrap_err();
    let Error::InvalidRequest { field, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field.as_deref(), Some("width"));
    assert!(
        message.contains("width = 513 is not a multiple of 8"),
        "{message}"
    );
    // Written as a decimal string, the same rule is named (the pattern alone says nothing).
    let err = with_fields(modelslab, &["width=\"520\"", "height=\"516\""])
        .prepare(modelslab)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("height = \"516\" is not a multiple of 8"),
        "{err}"
    );
    r.size = Some("520x512".parse().unwrap());
    assert!(r.prepare(modelslab).is_ok());
}

#[test]
fn modelslab_ip_adapter_fields_are_accepted_in_range_and_refused_outside() {
    let modelslab = Provider::named("modelslab");
    let fields = [
        "ip_adapter_id=ip-adapter_sd15",
        "ip_adapter_scale=0.6",
        "ip_adapter_image=https://example.com/face.png",
    ];
    let prepared = with_fields(modelslab, &fields).prepare(modelslab);
    assert!(prepared.is_ok(), "{prepared:?}");
    for (setting, says) in [
        (
            "ip_adapter_scale=1.5",
            "ip_adapter_scale = 1.5 is above the maximum 1",
        ),
        (
            "ip_adapter_scale=-0.1",
            "ip_adapter_scale = -0.1 is below the minimum 0",
        ),
        (
            "ip_adapter_id=ip-adapter_sd3",
            "ip_adapter_id = \"ip-adapter_sd3\" is not one of",
        ),
    ] {
        let err = with_fields(modelslab, &[setting])
            .prepare(modelslab)
            .unwrap_err();
        assert!(err.to_string().contains(says), "{setting}: {err}");
    }
}
