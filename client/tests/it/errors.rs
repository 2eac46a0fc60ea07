//! Every error body shape listed in `specs/PROVIDERS.md` parses into the typed error, on the create
//! call and on polls; a ModelsLab `status: "error"` inside HTTP 200 is an error.

use std::time::Duration;

use crate::support::{KEY, client, config, json, request_for};
use img2img_client::{Client, Error, JobHandle, Provider, RetryPolicy};
use img2img_specs::{ExampleKind, Spec};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn create_path(provider: Provider) -> &'static str {
    let spec = img2img_specs::Spec::embedded(provider);
    let create = &spec.extensions().job.create;
    &spec
        .operation(create)
        .expect("x-job.create is an operation")
        .path
}

fn no_retry_client(provider: Provider, base: &str) -> Client {
    Client::new(config(provider, base).retry(RetryPolicy::none())).unwrap()
}

/// Mounts `template` on the create call and returns what submitting gives.
async fn submit_against(
    server: &MockServer,
    provider: Provider,
    template: ResponseTemplate,
) -> Error {
    server.reset().await;
    Mock::given(method("POST"))
        .and(path(create_path(provider)))
        .respond_with(template)
        .mount(server)
        .await;
    let err = no_retry_client(provider, &server.uri())
        .submit(&request_for(provider))
        .await
        .expect_err("the mock answers with an error");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(KEY), "the key leaked into {shown}");
    err
}

struct Case {
    status: u16,
    body: Value,
    kind: &'static str,
    check: fn(&Error) -> bool,
}

fn any(_: &Error) -> bool {
    true
}

fn case(status: u16, body: Value, kind: &'static str) -> Case {
    Case {
        status,
        body,
        kind,
        check: any,
    }
}

async fn check_cases(provider: Provider, cases: Vec<Case>) {
    let server = MockServer::start().await;
    for Case {
        status,
        body,
        kind,
        check,
    } in cases
    {
        let err = submit_against(&server, provider, json(status, body.clone())).await;
        assert_eq!(
            err.kind(),
            kind,
            "{provider} HTTP {status} {body} gave {err:?}"
        );
        assert!(check(&err), "{provider} HTTP {status} {body} gave {err:?}");
    }
}

#[tokio::test]
async fn gptproto_error_shapes() {
    check_cases(
        Provider::named("gptproto"),
        vec![
            case(
                401,
                json!({"error": {"message": "Invalid API key", "type": "invalid_request_error"}}),
                "unauthorized",
            ),
            case(
                403,
                json!({"error": {"message": "Invalid token", "code": "invalid_token"}}),
                "forbidden",
            ),
            case(
                403,
                json!({"code": 403, "message": "Insufficient balance for the requested operation", "type": "error"}),
                "insufficient_balance",
            ),
            Case {
                check: |e| matches!(e, Error::Server { status: 500, message } if message.contains("internal")),
                ..case(500, json!({"error": {"message": "An internal server error occurred", "code": 500}}), "server")
            },
            case(
                400,
                json!({"code": 400, "message": "Content blocked due to safety concerns", "type": "error"}),
                "content_policy",
            ),
            case(
                503,
                json!({"error": {"message": "Content blocked due to safety concerns", "type": "content_policy_violation"}}),
                "content_policy",
            ),
            case(
                400,
                json!({"error": {"message": "size is invalid", "type": "invalid_request_error"}}),
                "invalid_request",
            ),
            // An error envelope sent with HTTP 200: its `code` is the status.
            case(
                200,
                json!({"code": 401, "message": "Invalid API key", "type": "error"}),
                "unauthorized",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn gptproto_rate_limit_carries_retry_after() {
    let server = MockServer::start().await;
    let template = json(
        429,
        json!({"code": 429, "message": "Rate limit exceeded", "type": "error"}),
    )
    .insert_header("Retry-After", "12");
    let err = submit_against(&server, Provider::named("gptproto"), template).await;
    assert_eq!(
        err,
        Error::RateLimited {
            retry_after: Some(Duration::from_secs(12)),
            message: "Rate limit exceeded".into()
        }
    );
}

#[tokio::test]
async fn novita_error_reasons() {
    fn body(code: u16, reason: &str, message: &str) -> Value {
        json!({"code": code, "reason": reason, "message": message, "metadata": {}})
    }
    check_cases(
        Provider::named("novita"),
        vec![
            Case {
                check: |e| matches!(e, Error::InvalidRequest { field: Some(f), .. } if f == "request.width"),
                ..case(
                    400,
                    body(400, "INVALID_REQUEST_BODY", "request.width: value must be in range [128, 2048]"),
                    "invalid_request",
                )
            },
            case(401, body(401, "FAILED_TO_AUTH", "failed to authenticate the request"), "unauthorized"),
            case(403, body(403, "INVALID_API_KEY", "invalid api key"), "unauthorized"),
            case(403, body(403, "NOT_ENOUGH_BALANCE", "not enough balance"), "insufficient_balance"),
            case(
                403,
                body(403, "BILLING_BALANCE_NOT_ENOUGH", "billing balance not enough"),
                "insufficient_balance",
            ),
            Case {
                check: |e| matches!(e, Error::InvalidRequest { field: Some(f), .. } if f == "request.model_name"),
                ..case(404, body(404, "MODEL_NOT_FOUND", "model not found: x"), "invalid_request")
            },
            Case {
                check: |e| matches!(e, Error::RateLimited { retry_after: None, .. }),
                ..case(429, body(429, "RATE_LIMIT_EXCEEDED", "rate limit exceeded"), "rate_limited")
            },
            Case {
                check: |e| matches!(e, Error::Server { status: 500, .. }),
                ..case(500, body(500, "", "internal server error"), "server")
            },
            Case {
                check: |e| matches!(e, Error::Server { status: 503, .. }),
                ..case(503, body(503, "SERVICE_NOT_AVAILABLE", "service not available"), "server")
            },
        ],
    )
    .await;
}

#[tokio::test]
async fn modelslab_error_shapes_with_any_http_status() {
    check_cases(
        Provider::named("modelslab"),
        vec![
            // `status: "error"` inside HTTP 200 is an error.
            Case {
                check: |e| matches!(e, Error::InvalidRequest { field: Some(f), .. } if f == "samples"),
                ..case(
                    200,
                    json!({"status": "error", "message": "samples must be between 1 and 4"}),
                    "invalid_request",
                )
            },
            Case {
                check: |e| matches!(e, Error::InvalidRequest { field: Some(f), .. } if f == "width"),
                ..case(
                    400,
                    json!({"status": "error", "message": "width must be between 256 and 1024"}),
                    "invalid_request",
                )
            },
            // The legacy spelling `messege`.
            Case {
                check: |e| matches!(e, Error::Unauthorized { message } if message == "Invalid API key"),
                ..case(401, json!({"status": "error", "messege": "Invalid API key"}), "unauthorized")
            },
            case(
                200,
                json!({"status": "error", "messege": "Invalid API key"}),
                "unauthorized",
            ),
            case(
                402,
                json!({"status": "error", "message": "Insufficient credits. Please recharge your account."}),
                "insufficient_balance",
            ),
            case(
                403,
                json!({"status": "error", "message": "You do not have access to this endpoint"}),
                "forbidden",
            ),
            Case {
                check: |e| matches!(e, Error::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(30)),
                ..case(
                    429,
                    json!({"status": "error", "message": "Rate limit exceeded. Maximum 5 queued requests allowed.", "retry_after": 30}),
                    "rate_limited",
                )
            },
            Case {
                check: |e| matches!(e, Error::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(30)),
                ..case(
                    200,
                    json!({"status": "error", "message": "Rate limit exceeded. Maximum 5 queued requests allowed.", "retry_after": 30}),
                    "rate_limited",
                )
            },
            Case {
                check: |e| matches!(e, Error::Server { status: 500, .. }),
                ..case(500, json!({"status": "failed", "message": "Internal server error"}), "server")
            },
            case(
                503,
                json!({"status": "error", "message": "Service temporarily unavailable, please try again later"}),
                "server",
            ),
            case(
                200,
                json!({"status": "failed", "id": 1, "message": "Generation failed"}),
                "task_failed",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn bodies_no_shape_fits_are_unexpected_with_a_bounded_snippet() {
    let server = MockServer::start().await;
    // An HTML page from a proxy, on a status the specs do not document.
    let html = format!("<html>{}</html>", "Bad gateway ".repeat(200));
    for provider in Provider::all() {
        let err = submit_against(
            &server,
            provider,
            ResponseTemplate::new(502).set_body_string(html.clone()),
        )
        .await;
        assert!(
            matches!(&err, Error::Server { status: 502, message } if message.chars().count() <= 241),
            "{provider}: {err:?}"
        );
        let err = submit_against(
            &server,
            provider,
            ResponseTemplate::new(200).set_body_string("surprise"),
        )
        .await;
        assert!(
            matches!(&err, Error::UnexpectedBody { snippet, .. } if snippet.contains("surprise")),
            "{provider}: {err:?}"
        );
        let err = submit_against(
            &server,
            provider,
            ResponseTemplate::new(418).set_body_string(html.clone()),
        )
        .await;
        assert!(
            matches!(&err, Error::UnexpectedBody { status: Some(418), snippet } if snippet.chars().count() <= 241),
            "{provider}: {err:?}"
        );
    }
}

/// Every error example of every spec (the shapes of `specs/PROVIDERS.md`, copied into the specs)
/// parses into a typed error of the right family: none is left as an unexpected body.
#[tokio::test]
async fn every_documented_error_example_parses() {
    let server = MockServer::start().await;
    let mut seen = 0;
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        let create = &spec.extensions().job.create;
        for example in spec.examples() {
            let ExampleKind::Response(status) = &example.kind else {
                continue;
            };
            let Ok(status) = status.parse::<u16>() else {
                continue;
            };
            if example.operation != *create || status < 400 {
                continue;
            }
            seen += 1;
            let err = submit_against(&server, provider, json(status, example.value.clone())).await;
            let family_ok = match err.kind() {
                "unexpected_body" | "transport" | "deadline_exceeded" | "config" => false,
                "server" => status >= 500,
                "content_policy" => matches!(status, 400 | 503),
                _ => status < 500,
            };
            assert!(
                family_ok,
                "{provider} example {:?} (HTTP {status}) gave {err:?}",
                example.name
            );
        }
    }
    assert!(seen >= 20, "only {seen} error examples found");
}

/// A provider echoing the key in its message cannot put it into the error.
#[tokio::test]
async fn an_echoed_key_is_scrubbed() {
    let server = MockServer::start().await;
    let err = submit_against(
        &server,
        Provider::named("modelslab"),
        json(
            400,
            json!({"status": "error", "message": format!("key {KEY} must be valid")}),
        ),
    )
    .await;
    assert!(err.to_string().contains("[redacted]"), "{err}");
}

/// On a poll, ModelsLab's `status: "failed"` (HTTP 200) is the job's failure with its reason;
/// a Novita 404 `TASK_NOT_FOUND` is an invalid request naming `task_id`.
#[tokio::test]
async fn poll_errors_parse_too() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/fetch"))
        .respond_with(json(
            200,
            json!({"status": "failed", "id": 7, "message": "Generation failed"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/async/task-result"))
        .respond_with(json(
            404,
            json!({"code": 404, "reason": "TASK_NOT_FOUND", "message": "task not found: t", "metadata": {}}),
        ))
        .mount(&server)
        .await;
    let handle = |provider| JobHandle {
        provider,
        id: "7".into(),
        base_url: server.uri(),
        fetch_url: None,
        ready_outputs: vec![],
        created_at: chrono::Utc::now(),
        first_poll_at: None,
    };
    let err = client(Provider::named("modelslab"), &server.uri())
        .wait(&handle(Provider::named("modelslab")))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::TaskFailed {
            reason: "Generation failed".into()
        }
    );
    let err = client(Provider::named("novita"), &server.uri())
        .wait(&handle(Provider::named("novita")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field: Some(f), .. } if f == "task_id"),
        "{err:?}"
    );
}
