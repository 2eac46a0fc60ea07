//! The scenario file sets a run: the current keys, and the older provider-named ones read as the
//! generic settings per provider id.

use std::time::Duration;

use img2img_emulator::{AnswerStyle, Config, Fault, Scenario};
use img2img_specs::Provider;

#[test]
fn scenario_sets_the_config() {
    let scenario = Scenario::parse(
        r#"{"latency_ms": {"queued": 10, "processing": 20}, "modelslab_mode": "queued",
            "rate_limit": {"novita_images_per_minute": 3}, "pixel_budget": 1000000,
            "faults": [{"operation": "create_img2img", "every_nth": 2, "fault": "status=503"},
                       {"fault": "drop-after", "times": 1}],
            "key_faults": [{"key": "sk-fail", "fault": "fail=blocked"}],
            "defects": {"stall_jobs": true}}"#,
    )
    .unwrap();
    let config = scenario.apply(Config::default()).unwrap();
    assert_eq!(config.latency.processing, Duration::from_millis(20));
    let (modelslab, novita) = (Provider::named("modelslab"), Provider::named("novita"));
    assert_eq!(
        config.settings(modelslab).answer_style,
        Some(AnswerStyle::Queued)
    );
    assert!(config.rate_limit);
    assert_eq!(config.settings(novita).images_per_minute, Some(3));
    assert_eq!(
        config.settings(modelslab).queued_requests,
        None,
        "the spec's number applies"
    );
    assert_eq!(config.pixel_budget, 1_000_000);
    assert_eq!(config.faults[0].every_nth, 2);
    assert_eq!(config.faults[0].fault, Fault::Status(503));
    assert_eq!(config.faults[0].times, None);
    assert_eq!(config.faults[1].times, Some(1));
    assert_eq!(config.faults[1].fault, Fault::DropAfter);
    assert!(config.defects.stall_jobs);
    assert_eq!(config.key_faults[0].key.expose_secret(), "sk-fail");
    assert_eq!(
        config.key_faults[0].fault,
        Fault::FailTask("blocked".into())
    );
    let error = Scenario::parse(r#"{"defects": {"nope": true}}"#).unwrap_err();
    assert!(error.contains("nope"), "{error}");
}

#[test]
fn settings_are_keyed_by_provider_id() {
    let scenario = Scenario::parse(
        r#"{"answer_style": "queued", "rate_limit": true,
            "providers": {"novita": {"images_per_minute": 4, "webhook_retries": 1},
                          "modelslab": {"answer_style": "sync", "queued_requests": 2, "retry_after_secs": 9}}}"#,
    )
    .unwrap();
    let config = scenario.apply(Config::default()).unwrap();
    let (modelslab, novita) = (Provider::named("modelslab"), Provider::named("novita"));
    assert!(config.rate_limit);
    assert_eq!(config.settings(novita).images_per_minute, Some(4));
    assert_eq!(config.settings(novita).webhook_retries, Some(1));
    assert_eq!(
        config.settings(novita).answer_style,
        Some(AnswerStyle::Queued)
    );
    let settings = config.settings(modelslab);
    assert_eq!(
        (
            settings.answer_style,
            settings.queued_requests,
            settings.retry_after_secs
        ),
        (Some(AnswerStyle::Sync), Some(2), Some(9))
    );
    for (text, needle) in [
        (
            r#"{"providers": {"acme": {}}}"#,
            "unknown provider \"acme\": expected one of",
        ),
        (r#"{"acme_mode": "queued"}"#, "unknown field `acme_mode`"),
        (r#"{"modelslab_mode": "later"}"#, "modelslab_mode"),
        (
            r#"{"rate_limit": {"acme_images_per_minute": 3}}"#,
            "rate_limit.acme_images_per_minute is not",
        ),
        (
            r#"{"providers": {"novita": {"colour": 1}}}"#,
            "unknown field `colour`",
        ),
    ] {
        let error = Scenario::parse(text).unwrap_err();
        assert!(error.contains(needle), "{text}: {error}");
    }
}
