//! API families (`x-job.aliases`): what a family overrides, its creates and results, and what the
//! spec refuses, read through the crate's typed view.

use std::time::Duration;

use img2img_specs::extensions::{DOCS_FAMILY, JobInfo, JobOverrides};
use img2img_specs::{JobStatus, Provider, Spec};
use serde_json::json;

/// ModelsLab's spec with its `v7` family given `extra` keys (YAML lines of the alias).
fn modelslab_with_v7(extra: &str) -> Result<Spec, img2img_specs::SpecError> {
    let text = Provider::named("modelslab").embedded_yaml();
    let anchor = "    - name: v7";
    assert!(text.contains(anchor), "the spec has a v7 family");
    Spec::parse(&text.replacen(anchor, &format!("{anchor}\n{extra}"), 1))
}

#[test]
fn a_family_overrides_the_x_job_keys_it_sets_and_keeps_the_others() {
    let spec = modelslab_with_v7(
        "      status-pointer: /data/state\n      id-pointer: /data/job\n      pending: [waiting]\n      stages: {queued: waiting, processing: waiting, succeeded: success, failed: failed}\n      eta-unit: milliseconds\n      create-fields: {mode: edit}",
    )
    .unwrap();
    let job = &spec.extensions().job;
    let v7 = job.family("v7").unwrap();
    let own = job.for_family(&v7);
    assert_eq!(own.create, "create_image_to_image_v7");
    assert_eq!(own.result, "fetch_v7");
    let body =
        json!({"data": {"state": "waiting", "job": "v7-1"}, "status": "processing", "eta": 1500});
    assert_eq!(own.id_of(&body).as_deref(), Some("v7-1"));
    assert_eq!(
        own.classify(own.status_of(&body).unwrap()),
        JobStatus::Pending
    );
    assert_eq!(
        own.classify("processing"),
        JobStatus::Unknown,
        "its own pending list"
    );
    assert_eq!(own.eta_of(&body), Some(Duration::from_millis(1500)));
    assert_eq!(own.create_fields["mode"], "edit");
    // What it does not set is the top level's.
    assert_eq!(own.outputs, job.outputs);
    assert_eq!(own.failure_pointers, job.failure_pointers);
    assert_eq!(own.poll_url_pointer, job.poll_url_pointer);
    assert_eq!(job.id_of(&body), None, "the docs' family still reads /id");
    assert_eq!(job.for_operation("fetch_v7"), own);
    assert_eq!(
        &job.for_operation("create_img2img"),
        &job.for_family(&job.families()[0])
    );
    assert_eq!(job.for_operation("no_such_operation"), *job);
}

#[test]
fn families_take_several_creates_and_results_and_may_share_a_result() {
    let spec = modelslab_with_v7("      creates: [create_image_to_image_v7, create_img2img_v6]")
        .err()
        .map(|e| e.to_string());
    // One operation in two families' creates parses; the lint refuses it (tests there).
    assert_eq!(spec, None);
    let modelslab = Spec::embedded(Provider::named("modelslab"));
    let job = &modelslab.extensions().job;
    let v6 = job.family("v6").unwrap();
    assert_eq!(v6.results, ["fetch_v6", "fetch_v6_by_body"]);
    assert_eq!(v6.result, "fetch_v6", "answers point at the first result");
    assert!(job.is_result("fetch_v6_by_body"));
    assert_eq!(job.family_of("fetch_v6_by_body").unwrap().name, "v6");
    let docs = &job.families()[0];
    assert_eq!(
        (docs.name.as_str(), docs.overrides.clone()),
        (DOCS_FAMILY, JobOverrides::default())
    );
    let shared: JobInfo = serde_json::from_value(json!({
        "create": "a", "result": "r", "style": "poll", "id-pointer": "/id",
        "status-pointer": "/s", "pending": ["p"], "succeeded": ["s"], "failed": ["f"],
        "aliases": [{"name": "edit", "creates": ["b", "c"], "result": "r"}]
    }))
    .unwrap();
    let edit = shared.family("edit").unwrap();
    assert_eq!((edit.create.as_str(), edit.creates.len()), ("b", 2));
    assert!(shared.is_create("c"));
    assert_eq!(
        shared.family_of("r").unwrap().name,
        DOCS_FAMILY,
        "a shared result is the first family's"
    );
    let round_trip: JobInfo =
        serde_json::from_value(serde_json::to_value(&shared).unwrap()).unwrap();
    assert_eq!(round_trip, shared);
}

#[test]
fn a_family_names_its_operations_and_only_keys_of_x_job() {
    for (extra, says) in [
        ("      status-pointr: /s", "status-pointr"),
        ("      results: fetch_v7", "`results` a list"),
    ] {
        let error = modelslab_with_v7(extra)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains(says), "{extra}: {error}");
    }
    let error: String = serde_json::from_value::<JobInfo>(json!({
        "create": "a", "result": "r", "style": "poll", "id-pointer": "/id",
        "status-pointer": "/s", "pending": [], "succeeded": [], "failed": [],
        "aliases": [{"name": "x", "result": "r"}]
    }))
    .unwrap_err()
    .to_string();
    assert!(error.contains("names no create"), "{error}");
}
