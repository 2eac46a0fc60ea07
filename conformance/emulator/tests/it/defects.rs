//! Each defect flag breaks exactly the promise it names, and only when it is on: the same check
//! passes against a default emulator and fails against the defective one.

use std::time::Duration;

use crate::support::*;
use img2img_emulator::{Config, Defects, router};
use img2img_specs::Provider;
use serde_json::{Value, json};

fn with(defects: Defects) -> Config {
    Config {
        defects,
        ..Config::default()
    }
}

fn invalid_body() -> Value {
    let mut body = create_body(Provider::named("novita"), 1);
    body["request"]["width"] = json!(4096);
    body
}

#[tokio::test]
async fn skip_validation_accepts_what_the_spec_rules_out() {
    for (defects, expected) in [
        (Defects::default(), 400),
        (
            Defects {
                skip_validation: true,
                ..Defects::default()
            },
            200,
        ),
    ] {
        let router = router(&[Provider::named("novita")], with(defects));
        let answer = send(
            &router,
            request(
                Provider::named("novita"),
                "create_img2img",
                None,
                Some(invalid_body()),
                Key::Valid,
            ),
        )
        .await;
        assert_eq!(answer.status, expected, "{defects:?}");
    }
}

#[tokio::test]
async fn skip_auth_accepts_missing_and_wrong_keys() {
    let keys = Config {
        api_keys: vec![KEY.into()],
        ..Config::default()
    };
    for provider in Provider::all() {
        for (config, expected) in [
            (keys.clone(), false),
            (
                Config {
                    defects: Defects {
                        skip_auth: true,
                        ..Defects::default()
                    },
                    ..keys.clone()
                },
                true,
            ),
        ] {
            let router = router(&[provider], config);
            for key in [Key::None, Key::Other("sk-wrong")] {
                let answer = send(
                    &router,
                    request(
                        provider,
                        &create_op(provider),
                        None,
                        Some(create_body(provider, 1)),
                        key,
                    ),
                )
                .await;
                assert_eq!(
                    answer.status == 200,
                    expected,
                    "{provider} {key:?}: HTTP {}",
                    answer.status
                );
            }
        }
    }
}

#[tokio::test]
async fn undocumented_status_answers_a_create_with_202() {
    for provider in Provider::all() {
        let router = router(
            &[provider],
            with(Defects {
                undocumented_status: true,
                ..Defects::default()
            }),
        );
        let answer = send(
            &router,
            request(
                provider,
                &create_op(provider),
                None,
                Some(create_body(provider, 1)),
                Key::Valid,
            ),
        )
        .await;
        assert_eq!(answer.status, 202);
        assert!(
            spec(provider)
                .response_schema(&create_op(provider), 202)
                .is_none(),
            "202 is not documented"
        );
    }
}

#[tokio::test]
async fn wrong_content_type_sends_json_as_text_plain() {
    let router = router(
        &[Provider::named("gptproto")],
        with(Defects {
            wrong_content_type: true,
            ..Defects::default()
        }),
    );
    let answer = send(
        &router,
        request(
            Provider::named("gptproto"),
            "create_image_to_image",
            None,
            Some(create_body(Provider::named("gptproto"), 1)),
            Key::Valid,
        ),
    )
    .await;
    assert!(
        answer.content_type.starts_with("text/plain"),
        "{}",
        answer.content_type
    );
    answer.json();
}

#[tokio::test]
async fn break_response_schema_sends_bodies_the_schema_refuses() {
    for provider in Provider::all() {
        for (defects, valid) in [
            (Defects::default(), true),
            (
                Defects {
                    break_response_schema: true,
                    ..Defects::default()
                },
                false,
            ),
        ] {
            let router = router(&[provider], with(defects));
            let answer = send(
                &router,
                request(
                    provider,
                    &create_op(provider),
                    None,
                    Some(create_body(provider, 1)),
                    Key::Valid,
                ),
            )
            .await;
            let schema = spec(provider)
                .response_schema(&create_op(provider), 200)
                .unwrap()
                .unwrap();
            assert_eq!(
                schema.is_valid(&answer.json()),
                valid,
                "{provider} {defects:?}: {}",
                answer.json()
            );
        }
    }
}

#[tokio::test]
async fn wrong_error_shape_sends_validation_errors_without_the_shape_or_the_field() {
    for (defects, shaped) in [
        (Defects::default(), true),
        (
            Defects {
                wrong_error_shape: true,
                ..Defects::default()
            },
            false,
        ),
    ] {
        let router = router(&[Provider::named("novita")], with(defects));
        let answer = send(
            &router,
            request(
                Provider::named("novita"),
                "create_img2img",
                None,
                Some(invalid_body()),
                Key::Valid,
            ),
        )
        .await;
        assert_eq!(answer.status, 400);
        let body = answer.json();
        let schema = spec(Provider::named("novita"))
            .response_schema("create_img2img", 400)
            .unwrap()
            .unwrap();
        assert_eq!(schema.is_valid(&body), shaped, "{body}");
        assert_eq!(body.to_string().contains("request.width"), shaped, "{body}");
    }
}

#[tokio::test]
async fn ignore_seed_makes_identical_requests_differ() {
    for (defects, same) in [
        (Defects::default(), true),
        (
            Defects {
                ignore_seed: true,
                ..Defects::default()
            },
            false,
        ),
    ] {
        let router = router(&[Provider::named("gptproto")], with(defects));
        let mut outputs = Vec::new();
        for _ in 0..2 {
            let done = run_job(
                &router,
                Provider::named("gptproto"),
                create_body(Provider::named("gptproto"), 9),
            )
            .await;
            let url = output_urls(Provider::named("gptproto"), &done)[0].clone();
            outputs.push(download(&router, &url).await.bytes);
        }
        assert_eq!(outputs[0] == outputs[1], same, "{defects:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn stall_jobs_never_reach_a_terminal_status() {
    let router = router(
        &[Provider::named("novita")],
        with(Defects {
            stall_jobs: true,
            ..Defects::default()
        }),
    );
    let created = send(
        &router,
        request(
            Provider::named("novita"),
            "create_img2img",
            None,
            Some(create_body(Provider::named("novita"), 1)),
            Key::Valid,
        ),
    )
    .await
    .json();
    let id = job_id(Provider::named("novita"), &created);
    tokio::time::sleep(Duration::from_secs(600)).await;
    let state = fetch(&router, Provider::named("novita"), &id).await.json();
    assert_eq!(state["task"]["status"], "TASK_STATUS_PROCESSING");
}

#[tokio::test]
async fn wrong_image_size_outputs_another_size() {
    for (defects, width) in [
        (Defects::default(), 128),
        (
            Defects {
                wrong_image_size: true,
                ..Defects::default()
            },
            144,
        ),
    ] {
        let router = router(&[Provider::named("gptproto")], with(defects));
        let done = run_job(
            &router,
            Provider::named("gptproto"),
            create_body(Provider::named("gptproto"), 1),
        )
        .await;
        let url = output_urls(Provider::named("gptproto"), &done)[0].clone();
        let image = image::load_from_memory(&download(&router, &url).await.bytes).unwrap();
        assert_eq!((image.width(), image.height()), (width, 96), "{defects:?}");
    }
}
