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
