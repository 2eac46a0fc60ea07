use serde_json::json;

use super::*;
use crate::{Provider, Spec};

fn job(provider: Provider) -> &'static JobInfo {
    &Spec::embedded(provider).extensions().job
}

#[test]
fn statuses_are_classified_by_the_spec_lists() {
    for (provider, status, expected) in [
        (
            Provider::named("gptproto"),
            "completed",
            JobStatus::Succeeded,
        ),
        (Provider::named("gptproto"), "canceled", JobStatus::Failed),
        (
            Provider::named("gptproto"),
            "in_progress",
            JobStatus::Pending,
        ),
        (Provider::named("gptproto"), "baking", JobStatus::Unknown),
        (
            Provider::named("novita"),
            "TASK_STATUS_UNKNOWN",
            JobStatus::Pending,
        ),
        (Provider::named("modelslab"), "error", JobStatus::Failed),
    ] {
        assert_eq!(
            job(provider).classify(status),
            expected,
            "{provider} {status}"
        );
    }
    assert!(job(Provider::named("novita")).is_terminal("TASK_STATUS_SUCCEED"));
    assert!(!job(Provider::named("novita")).is_terminal("TASK_STATUS_QUEUED"));
}

#[test]
fn etas_read_numbers_and_numeric_strings_in_their_unit() {
    let modelslab = job(Provider::named("modelslab"));
    assert_eq!(
        modelslab.eta_of(&json!({"eta": 12.5})),
        Some(Duration::from_secs_f64(12.5))
    );
    assert_eq!(
        modelslab.eta_of(&json!({"eta": " 3 "})),
        Some(Duration::from_secs(3))
    );
    assert_eq!(modelslab.eta_of(&json!({"eta": -1})), None);
    assert_eq!(modelslab.eta_of(&json!({"eta": "soon"})), None);
    assert_eq!(
        job(Provider::named("gptproto")).eta_of(&json!({"eta": 3})),
        None
    );
    assert_eq!(
        EtaUnit::Milliseconds.duration(1500.0),
        Some(Duration::from_millis(1500))
    );
}

#[test]
fn ids_are_read_at_the_pointer_or_its_fallbacks() {
    let novita = job(Provider::named("novita"));
    assert_eq!(
        novita
            .id_of(&json!({"data": {"task_id": "t-1"}}))
            .as_deref(),
        Some("t-1")
    );
    assert_eq!(novita.id_of(&json!({"task_id": ""})), None);
    assert_eq!(
        job(Provider::named("modelslab"))
            .id_of(&json!({"id": 13443928}))
            .as_deref(),
        Some("13443928")
    );
}

#[test]
fn failure_reasons_are_read_at_the_first_pointer_that_says_one() {
    let novita = job(Provider::named("novita"));
    assert_eq!(
        novita
            .failure_of(&json!({"task": {"reason": "nsfw"}}))
            .as_deref(),
        Some("nsfw")
    );
    assert_eq!(novita.failure_of(&json!({"task": {"reason": ""}})), None);
    let gptproto = job(Provider::named("gptproto"));
    assert_eq!(
        gptproto
            .failure_of(&json!({"data": {"error": {"message": "blocked"}}}))
            .as_deref(),
        Some("blocked")
    );
    assert_eq!(gptproto.failure_of(&json!({"data": {"error": null}})), None);
    assert_eq!(
        job(Provider::named("modelslab"))
            .failure_of(&json!({"message": " ", "messege": "out of memory"}))
            .as_deref(),
        Some("out of memory")
    );
}

#[test]
fn poll_urls_are_read_at_the_pointer_and_hosts_allowed_by_name() {
    let mut job = job(Provider::named("modelslab")).clone();
    job.poll_url_pointer = Some("/fetch_result".into());
    job.poll_url_hosts = vec!["api.eu1.example.com".into()];
    assert_eq!(
        job.poll_url_of(&json!({"fetch_result": " https://h/f/1 "})),
        Some("https://h/f/1")
    );
    assert_eq!(job.poll_url_of(&json!({"fetch_result": ""})), None);
    assert_eq!(job.poll_url_of(&json!({"fetch_result": 3})), None);
    assert!(job.allows_poll_host("API.eu1.example.com"));
    assert!(!job.allows_poll_host("example.com"));
    job.poll_url_pointer = None;
    assert_eq!(job.poll_url_of(&json!({"fetch_result": "https://h"})), None);
}

#[test]
fn progress_is_read_at_the_pointer_within_0_to_100() {
    let mut job = job(Provider::named("novita")).clone();
    job.progress_pointer = Some("/task/progress_percent".into());
    let body = |v: serde_json::Value| json!({"task": {"progress_percent": v}});
    assert_eq!(job.progress_of(&body(json!(40))), Some(40));
    assert_eq!(job.progress_of(&body(json!("55.4"))), Some(55));
    assert_eq!(job.progress_of(&body(json!(140))), Some(100));
    assert_eq!(job.progress_of(&body(json!(-3))), Some(0));
    assert_eq!(job.progress_of(&body(json!("soon"))), None);
    job.progress_pointer = None;
    assert_eq!(job.progress_of(&body(json!(40))), None);
}

#[test]
fn the_id_of_a_result_request_is_where_the_create_links_put_it() {
    let spec = |id| Spec::embedded(Provider::named(id));
    assert_eq!(
        spec("gptproto").id_place("get_prediction_result"),
        Some(IdPlace::Path("id".into()))
    );
    assert_eq!(
        spec("novita").id_place("get_task_result"),
        Some(IdPlace::Query("task_id".into()))
    );
    let modelslab = spec("modelslab");
    assert_eq!(
        modelslab.id_place("fetch_queued_result"),
        Some(IdPlace::Body("request_id".into()))
    );
    for result in ["fetch_enterprise_images", "fetch_v6"] {
        assert_eq!(
            modelslab.id_place(result),
            Some(IdPlace::Path("id".into())),
            "{result}"
        );
    }
    assert_eq!(modelslab.id_place("create_img2img"), None);
    assert_eq!(
        modelslab.extensions().job.poll_url_pointer.as_deref(),
        Some("/fetch_result")
    );
    let bfl = spec("bfl");
    assert!(bfl.operation("get_result").unwrap().key_optional);
    assert!(
        !bfl.operation("create_flux_kontext_pro")
            .unwrap()
            .key_optional
    );
    assert!(!modelslab.operation("fetch_v6").unwrap().key_optional);
}

#[test]
fn every_stage_word_is_in_its_list() {
    for provider in Provider::all() {
        let job = job(provider);
        let stages = job.stages.as_ref().expect("every spec names its stages");
        assert_eq!(job.classify(&stages.queued), JobStatus::Pending);
        assert_eq!(job.classify(&stages.processing), JobStatus::Pending);
        assert_eq!(job.classify(&stages.succeeded), JobStatus::Succeeded);
        assert_eq!(job.classify(&stages.failed), JobStatus::Failed);
    }
}
