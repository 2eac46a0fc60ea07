use super::*;
use crate::{Provider, Spec};

#[test]
fn the_specs_limits_are_read_into_named_fields() {
    let novita = &Spec::embedded(Provider::named("novita"))
        .extensions()
        .limits;
    assert_eq!(
        novita.rate_limit.as_ref().and_then(|r| r.images_per_minute),
        Some(10)
    );
    assert_eq!(novita.image_url_ttl_seconds, Some(3600));
    assert_eq!(novita.max_input_bytes, Some(10_485_760));
    let modelslab = &Spec::embedded(Provider::named("modelslab"))
        .extensions()
        .limits;
    let rate = modelslab.rate_limit.as_ref().unwrap();
    assert_eq!(
        (rate.queued_requests, rate.retry_after_seconds),
        (Some(5), Some(30))
    );
    assert_eq!(modelslab.temp_link_ttl_seconds, Some(86_400));
    assert_eq!(
        Spec::embedded(Provider::named("gptproto"))
            .extensions()
            .limits,
        Limits::default()
    );
}

#[test]
fn an_undocumented_limit_is_refused() {
    let error = serde_json::from_value::<Limits>(serde_json::json!({"max-input-megabytes": 1}))
        .unwrap_err();
    assert!(error.to_string().contains("max-input-megabytes"), "{error}");
}

#[test]
fn every_spec_gives_the_emulator_its_render_defaults() {
    for provider in Provider::all() {
        let emulator = Spec::embedded(provider).extensions().emulator.as_ref();
        assert!(emulator.is_some(), "{provider} has no x-emulator");
    }
}

#[test]
fn a_size_derived_from_pixels_keeps_the_area_at_the_asked_ratio_else_the_inputs() {
    let one_megapixel = RenderDefaults {
        width: 1024,
        height: 1024,
        strength: 0.5,
        steps: 20,
        guidance: 7.0,
        pixels: Some(1_048_576),
        multiple_of: Some(32),
    };
    let ratio = |text| AspectRatio::parse(text);
    assert_eq!(one_megapixel.size_for(None, None), (1024, 1024));
    assert_eq!(one_megapixel.size_for(ratio("16:9"), None), (1376, 768));
    assert_eq!(one_megapixel.size_for(ratio("9:16"), None), (768, 1376));
    // The asked ratio wins over the input's; without one, the input's is kept.
    assert_eq!(
        one_megapixel.size_for(ratio("1:1"), AspectRatio::new(640, 480)),
        (1024, 1024)
    );
    assert_eq!(
        one_megapixel.size_for(None, AspectRatio::new(640, 480)),
        (1184, 896)
    );
    // An extreme ratio still gives each side at least one multiple.
    assert_eq!(one_megapixel.size_for(ratio("100000:1"), None).1, 32);

    let fixed = RenderDefaults {
        pixels: None,
        multiple_of: None,
        width: 512,
        height: 512,
        ..one_megapixel
    };
    assert_eq!(fixed.size_for(None, AspectRatio::new(640, 480)), (512, 512));
    assert_eq!(fixed.size_for(ratio("2:1"), None), (724, 362));
}

#[test]
fn aspect_ratios_parse_as_requests_write_them() {
    assert_eq!(AspectRatio::parse("16:9"), AspectRatio::new(16, 9));
    assert_eq!(AspectRatio::parse(" 21 : 9 "), AspectRatio::new(21, 9));
    for bad in ["", "16", "16:0", "0:9", "a:b", "<string>", "16:9:1", "-1:2"] {
        assert_eq!(AspectRatio::parse(bad), None, "{bad:?}");
    }
    assert!((AspectRatio::parse("3:2").unwrap().value() - 1.5).abs() < 1e-9);
}
