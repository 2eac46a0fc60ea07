//! Every response the emulators send validates against the spec's schema for its operation and
//! status, over many generated requests: valid ones (with real images in every `x-media` field;
//! outputs above a small pixel budget are refused with a documented 400), their whole job
//! lifecycle, and requests that break exactly one constraint (a documented 400 naming the field).

use crate::support::*;
use img2img_emulator::{AnswerStyle, Config, router};
use img2img_specs::Provider;
use img2img_strategy::{invalid, valid};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

fn config() -> Config {
    Config {
        // GPTProto's default size (832x1216) fits; larger generated sizes get the documented 400.
        pixel_budget: 1_100_000,
        ..Config::default()
    }
}

/// A runner with a fixed seed, so that CI sees the same requests on every run.
fn runner(cases: u32) -> TestRunner {
    let config = RunnerConfig {
        cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Sends a valid create request and, if accepted, polls its job to the end; every answer is
/// checked against the spec. Returns whether the job ran.
async fn check_valid(router: &axum::Router, provider: Provider, body: Value) -> bool {
    let create = create_op(provider);
    let answer = send(
        router,
        request(provider, &create, None, Some(body), Key::Valid),
    )
    .await;
    let json = answer.json();
    assert_documented(provider, &create, answer.status, &json);
    assert_eq!(answer.content_type, "application/json");
    match answer.status {
        200 => {}
        400 => {
            let text = json.to_string();
            assert!(
                text.contains("pixel budget"),
                "a valid request was refused: {text}"
            );
            return false;
        }
        other => panic!("{provider}: a valid request got HTTP {other}: {json}"),
    }
    let status = job_status_of_create(provider, &json);
    if provider == Provider::named("modelslab") && status.as_deref() == Some("success") {
        return true;
    }
    let id = job_id(provider, &json);
    poll_to_end(router, provider, &id).await;
    true
}

fn job_status_of_create(provider: Provider, body: &Value) -> Option<String> {
    (provider == Provider::named("modelslab"))
        .then(|| body["status"].as_str().unwrap_or("").to_owned())
}

fn valid_requests_get_documented_answers(provider: Provider, config: Config, cases: u32) {
    let rt = runtime();
    let router = router(&[provider], config);
    let image = png_base64(48, 40);
    let mut runner = runner(cases);
    let ran = std::cell::Cell::new(0);
    let total = std::cell::Cell::new(0);
    runner
        .run(&valid(create_schema(provider)), |body| {
            let body = with_images(provider, body, &image);
            total.set(total.get() + 1);
            if rt.block_on(check_valid(&router, provider, body)) {
                ran.set(ran.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    assert!(
        ran.get() * 5 >= total.get(),
        "{provider}: only {} of {} generated requests fitted the pixel budget",
        ran.get(),
        total.get()
    );
}

#[test]
fn gptproto_valid_requests() {
    valid_requests_get_documented_answers(Provider::named("gptproto"), config(), 40);
}

#[test]
fn novita_valid_requests() {
    valid_requests_get_documented_answers(Provider::named("novita"), config(), 40);
}

#[test]
fn modelslab_valid_requests_sync_and_queued() {
    valid_requests_get_documented_answers(Provider::named("modelslab"), config(), 30);
    let queued = config().with_answer_style(Provider::named("modelslab"), AnswerStyle::Queued);
    valid_requests_get_documented_answers(Provider::named("modelslab"), queued, 20);
}

fn invalid_requests_name_the_field(provider: Provider) {
    let rt = runtime();
    let router = router(&[provider], config());
    let image = png_base64(16, 16);
    let mut runner = runner(60);
    let create = create_op(provider);
    runner
        .run(&invalid(create_schema(provider)), |(body, constraint)| {
            // The key is the request helper's to set (a broken key is an auth failure, 401).
            let auth = &spec(provider).extensions().auth;
            if auth.placement == img2img_specs::extensions::AuthPlacement::Body
                && constraint.subject() == auth.name
            {
                return Ok(());
            }
            // Images only where the constraint is not about them.
            let mut body = body;
            for pointer in img2img_specs::media_fields(create_schema(provider).schema(), &body) {
                if pointer != constraint.pointer {
                    *body.pointer_mut(&pointer).unwrap() = Value::String(image.clone());
                }
            }
            let answer = rt.block_on(send(
                &router,
                request(provider, &create, None, Some(body.clone()), Key::Valid),
            ));
            prop_assert_eq!(
                answer.status,
                400,
                "{} for {}",
                String::from_utf8_lossy(&answer.bytes),
                body
            );
            let json = answer.json();
            assert_documented(provider, &create, 400, &json);
            let subject = constraint.subject();
            let text = json.to_string();
            prop_assert!(
                text.contains(&subject),
                "the error does not name {}: {}",
                subject,
                text
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn gptproto_invalid_requests() {
    invalid_requests_name_the_field(Provider::named("gptproto"));
}

#[test]
fn novita_invalid_requests() {
    invalid_requests_name_the_field(Provider::named("novita"));
}

#[test]
fn modelslab_invalid_requests() {
    invalid_requests_name_the_field(Provider::named("modelslab"));
}
