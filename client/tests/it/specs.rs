//! What the client reads from each spec: the key's variable, the fields error messages name, and
//! handles written before the client was spec-driven.

use img2img_client::{ClientConfig, JobHandle, Provider};
use img2img_specs::Spec;

#[test]
fn the_key_env_comes_from_the_spec() {
    assert_eq!(
        ClientConfig::new(Provider::named("modelslab")).key_env(),
        "MODELSLAB_API_KEY"
    );
    assert_eq!(
        ClientConfig::new(Provider::named("gptproto")).key_env(),
        "GPTPROTO_API_KEY"
    );
}

#[test]
fn field_names_come_out_of_provider_messages() {
    let errors = |id| &Spec::embedded(Provider::named(id)).extensions().errors;
    assert_eq!(
        errors("novita").field_in("request.width: value must be in range [128, 2048]"),
        Some("request.width")
    );
    assert_eq!(
        errors("modelslab").field_in("width must be between 256 and 1024"),
        Some("width")
    );
    assert_eq!(
        errors("modelslab").field_in("Rate limit must be respected now"),
        None
    );
}

/// A handle saved by the client before it was spec-driven reads back the same.
#[test]
fn old_handles_keep_reading() {
    let old = r#"{"provider":"modelslab","id":"13443928","base_url":"http://127.0.0.1:9","fetch_url":"http://127.0.0.1:9/api/v1/enterprise/fetch","created_at":"2026-01-01T00:00:00Z","first_poll_at":"2026-01-01T00:00:05Z"}"#;
    let handle = JobHandle::parse(old).unwrap();
    assert_eq!(handle.provider, Provider::named("modelslab"));
    assert_eq!(handle.id, "13443928");
    assert_eq!(
        handle.fetch_url.as_deref(),
        Some("http://127.0.0.1:9/api/v1/enterprise/fetch")
    );
    assert!(handle.ready_outputs.is_empty());
    assert_eq!(JobHandle::parse(&handle.to_json()).unwrap(), handle);
    let ready = r#"{"provider":"gptproto","id":"p-1","base_url":"https://gptproto.com","ready_outputs":["https://x/1.png"],"created_at":"2026-01-01T00:00:00Z"}"#;
    let handle = JobHandle::parse(ready).unwrap();
    assert_eq!(handle.ready_outputs, ["https://x/1.png"]);
    assert_eq!(handle.fetch_url, None);
}

/// GPTProto passes on its providers' native status words and says they are no closed set: a word
/// the spec does not list parses into the generated types (it made them fail while the spec held an
/// `enum`) and is read as a job still running.
#[test]
fn an_unknown_gptproto_status_word_parses_and_polls_on() {
    use img2img_registry::{Part, generated};
    use img2img_specs::JobStatus;
    use serde_json::json;

    let gptproto = Provider::named("gptproto");
    let spec = Spec::embedded(gptproto);
    let job = &spec.extensions().job;
    let body = json!({"code": 200, "message": "success", "data": {
        "id": "p-1", "model": "nai-diffusion-4-5-curated", "status": "baking", "outputs": [],
        "urls": {"get": "https://gptproto.com/api/v3/predictions/p-1/result"}
    }});
    let back = generated(gptproto)
        .unwrap()
        .round_trip(&job.result, Part::Success, body.clone())
        .unwrap_or_else(|e| panic!("an unknown status word does not parse: {e}"));
    assert_eq!(back["data"]["status"], "baking");
    assert_eq!(job.status_of(&back), Some("baking"));
    assert_eq!(job.classify("baking"), JobStatus::Unknown);
    let known: Vec<&str> = job
        .pending
        .iter()
        .chain(&job.succeeded)
        .chain(&job.failed)
        .map(String::as_str)
        .collect();
    assert!(known.contains(&"in_progress") && known.contains(&"expired"));
}
