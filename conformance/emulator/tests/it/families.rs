//! What the providers' own SDKs need from the emulator: every API family of `x-job` served (a
//! queued answer's `fetch_result` in the family the create came from), requests read in the
//! accepting reading (nulls, tolerated fields), faults bound to a key or aimed at one provider, and
//! the request journal.

use std::time::Duration;

use crate::support::*;
use img2img_emulator::{AnswerStyle, Config, Fault, FaultRule, KeyFault, REDACTED, router};
use img2img_specs::{ApiKey, Provider};
use serde_json::{Value, json};

fn queued() -> Config {
    Config {
        api_keys: vec![ApiKey::new(KEY)],
        ..Config::default()
    }
    .with_answer_style(Provider::named("modelslab"), AnswerStyle::Queued)
}

/// Fetches job `id` through `fetch_result` (its path) until it leaves `processing`.
async fn fetch_until_done(router: &axum::Router, fetch_result: &str, body: Value) -> Value {
    let path = fetch_result
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, path)| format!("/{path}"))
        .unwrap();
    for _ in 0..200 {
        let request = axum::http::Request::post(&path)
            .header("host", HOST)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        let answer = send(router, request).await;
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.bytes)
        );
        let json = answer.json();
        if json["status"] != "processing" {
            return json;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{path} stayed processing");
}

#[tokio::test]
async fn every_modelslab_family_runs_a_whole_job_in_its_own_family() {
    let router = router(&[Provider::named("modelslab")], queued());
    let job = &spec(Provider::named("modelslab")).extensions().job;
    let families = job.families();
    assert_eq!(families.len(), 4, "{families:?}");
    for family in families {
        // The v7 family takes a body of its own.
        let body = if family.name == "v7" {
            json!({"model_id": "m", "prompt": "a fox", "init_image": png_base64(96, 64), "seed": 7})
        } else {
            create_body(Provider::named("modelslab"), 7)
        };
        let images = if family.name == "v7" { 1 } else { 2 };
        let answer = send(
            &router,
            request(
                Provider::named("modelslab"),
                &family.create,
                None,
                Some(body),
                Key::Valid,
            ),
        )
        .await;
        assert_eq!(
            answer.status,
            200,
            "{}: {}",
            family.name,
            String::from_utf8_lossy(&answer.bytes)
        );
        let first = answer.json();
        assert_documented(Provider::named("modelslab"), &family.create, 200, &first);
        assert_eq!(first["status"], "processing", "{first}");
        let id = first["id"].to_string();
        let fetch_result = first["fetch_result"].as_str().unwrap();
        let result_path = path(Provider::named("modelslab"), &family.result, Some(&id));
        assert!(
            fetch_result.ends_with(&result_path),
            "{}: fetch_result {fetch_result} is not {result_path}",
            family.name
        );
        // The docs' fetch takes the id in the body; the others carry it in the path.
        let body = if result_path.ends_with(&id) {
            json!({"key": KEY})
        } else {
            json!({"key": KEY, "request_id": id})
        };
        let last = fetch_until_done(&router, fetch_result, body).await;
        assert_documented(Provider::named("modelslab"), &family.result, 200, &last);
        assert_eq!(last["status"], "success", "{}: {last}", family.name);
        assert_eq!(last["output"].as_array().unwrap().len(), images);
    }
}

/// The body novita-client 0.7.1 sends for `img2img_v3` with only the arguments it requires
/// (captured from the SDK, see conformance/sdk/captured/novita-client.jsonl).
fn novita_client_body() -> Value {
    json!({
        "extra": {"response_image_type": "jpeg", "enable_nsfw_detection": false,
                  "nsfw_detection_level": 0, "custom_storage": {}, "enterprise_plan": {}},
        "request": {"model_name": "sd_xl_base_1.0.safetensors", "image_base64": png_base64(64, 64),
            "prompt": "a fox", "width": 128, "height": 128, "negative_prompt": null, "sd_vae": null,
            "loras": null, "embeddings": null, "seed": -1, "image_num": 1, "steps": null,
            "clip_skip": null, "guidance_scale": 7.5, "strength": 0.5, "sampler_name": "Euler a",
            "extra": {}, "controlnet": null}
    })
}

#[tokio::test]
async fn requests_are_read_as_the_provider_accepts_them() {
    let router = router(&[Provider::named("novita")], Config::default());
    let create = create_op(Provider::named("novita"));
    let answer = send(
        &router,
        request(
            Provider::named("novita"),
            &create,
            None,
            Some(novita_client_body()),
            Key::Valid,
        ),
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.bytes)
    );
    // Still refused: what the accepting reading does not widen.
    for (pointer, value, named) in [
        ("/request/stpes", json!(20), "request.stpes is not a field"),
        ("/request/width", json!(null), "request.width"),
        ("/request/extra", json!("x"), "request.extra"),
    ] {
        let mut body = novita_client_body();
        let (parent, name) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent).unwrap()[name] = value;
        let answer = send(
            &router,
            request(
                Provider::named("novita"),
                &create,
                None,
                Some(body),
                Key::Valid,
            ),
        )
        .await;
        assert_eq!(answer.status, 400, "{pointer}");
        let text = String::from_utf8_lossy(&answer.bytes);
        assert!(text.contains(named), "{pointer}: {text}");
    }
}

#[tokio::test]
async fn a_fault_bound_to_a_key_fails_that_keys_jobs_only() {
    let config = Config {
        api_keys: vec![ApiKey::new(KEY)],
        key_faults: vec![
            "sk-fails=fail=bound to the key"
                .parse::<KeyFault>()
                .unwrap(),
        ],
        ..queued()
    };
    let router = router(&[Provider::named("modelslab")], config);
    let create = create_op(Provider::named("modelslab"));
    let failing = send(
        &router,
        request(
            Provider::named("modelslab"),
            &create,
            None,
            Some(create_body(Provider::named("modelslab"), 1)),
            Key::Other("sk-fails"),
        ),
    )
    .await;
    assert_eq!(
        failing.status,
        200,
        "the fault's key is accepted: {}",
        String::from_utf8_lossy(&failing.bytes)
    );
    let first = failing.json();
    let last = fetch_until_done(
        &router,
        first["fetch_result"].as_str().unwrap(),
        json!({"key": "sk-fails", "request_id": first["id"]}),
    )
    .await;
    assert_eq!(last["status"], "failed", "{last}");
    assert_eq!(last["message"], "bound to the key");
    assert_documented(
        Provider::named("modelslab"),
        &result_op(Provider::named("modelslab")),
        200,
        &last,
    );

    let other = send(
        &router,
        request(
            Provider::named("modelslab"),
            &create,
            None,
            Some(create_body(Provider::named("modelslab"), 1)),
            Key::Valid,
        ),
    )
    .await
    .json();
    let last = fetch_until_done(
        &router,
        other["fetch_result"].as_str().unwrap(),
        json!({"key": KEY, "request_id": other["id"]}),
    )
    .await;
    assert_eq!(last["status"], "success", "{last}");
}

#[tokio::test]
async fn fault_rules_can_aim_at_one_provider() {
    let config = Config {
        faults: vec![FaultRule {
            operation: Some("novita:create_img2img".into()),
            every_nth: 1,
            fault: Fault::Status(503),
            times: None,
        }],
        ..Config::default()
    };
    let router = router(
        &[Provider::named("novita"), Provider::named("modelslab")],
        config,
    );
    for (provider, status) in [
        (Provider::named("novita"), 503),
        (Provider::named("modelslab"), 200),
    ] {
        let answer = send(
            &router,
            request(
                provider,
                "create_img2img",
                None,
                Some(create_body(provider, 3)),
                Key::Valid,
            ),
        )
        .await;
        assert_eq!(
            answer.status,
            status,
            "{provider}: {}",
            String::from_utf8_lossy(&answer.bytes)
        );
    }
}

#[tokio::test]
async fn the_journal_keeps_every_exchange_without_the_key() {
    let config = Config {
        journal: true,
        ..queued()
    };
    let emulator = img2img_emulator::Emulator::start(&Provider::all().collect::<Vec<_>>(), config)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let body = create_body(Provider::named("modelslab"), 5);
    let answer: Value = http
        .post(format!("{}/api/v6/images/img2img", emulator.base_url()))
        .header("x-requested-with", "test")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let missing = http
        .post(format!("{}/api/v9/nowhere", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let journal = emulator.journal().expect("the journal is on").redacted();
    assert_eq!(journal.len(), 2, "{journal:#?}");
    let created = &journal[0];
    assert_eq!(created.provider, Some(Provider::named("modelslab")));
    assert_eq!(created.operation.as_deref(), Some("create_img2img_v6"));
    let created_answer = created.answer().expect("the create was answered");
    assert_eq!(created_answer.status, 200);
    assert_eq!(created_answer.json().as_ref(), Some(&answer));
    assert_eq!(created.json().unwrap()["key"], REDACTED);
    assert!(
        created
            .headers
            .iter()
            .any(|(n, v)| n == "x-requested-with" && v == "test")
    );
    assert!(
        !format!("{journal:?}").contains(KEY),
        "the key is redacted everywhere"
    );
    assert_eq!(journal[1].provider, None);
    assert_eq!(journal[1].operation, None);
    assert_eq!(journal[1].path, "/api/v9/nowhere");
    emulator.shutdown().await;
}
