//! The exact bytes of every answer the emulators send: create and result answers at each stage,
//! failures, error bodies of each cause, not-found answers and webhooks, for each provider. Each
//! expected body is built here field by field (as the providers' answers were first written into
//! the emulator), with only what changes from run to run (ids, wall-clock timestamps) read from
//! the answer itself; it is serialized the way the emulator serializes (keys sorted) and compared
//! byte for byte.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use base64::Engine as _;
use img2img_emulator::{Config, Latency, WebhookConfig, router};
use img2img_specs::{ApiKey, Provider};
use serde_json::{Value, json};

fn slow() -> Config {
    Config {
        latency: Latency {
            queued: Duration::from_secs(10),
            processing: Duration::from_secs(10),
        },
        api_keys: vec![ApiKey::new(KEY)],
        ..Config::default()
    }
}

fn queued(config: Config) -> Config {
    config.with_answer_style(
        Provider::named("modelslab"),
        img2img_emulator::AnswerStyle::Queued,
    )
}

/// Lets the job tasks run at the current paused instant.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(20)))
        .await
        .unwrap();
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

async fn advance(duration: Duration) {
    tokio::time::advance(duration).await;
    settle().await;
}

/// Asserts the answer's status and that its body is exactly `expected`, serialized.
fn exact(answer: &Answer, status: u16, expected: &Value) {
    assert_eq!(
        (
            answer.status,
            String::from_utf8_lossy(&answer.bytes).into_owned()
        ),
        (status, serde_json::to_string(expected).unwrap())
    );
}

fn image_url(id: &str, index: u32, ext: &str) -> String {
    format!("http://{HOST}/emulator/images/{id}-{index}.{ext}")
}

fn is_hex32(id: &str) -> bool {
    id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_uuid_v4(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
        && parts[2].starts_with('4')
        && matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b'))
}

/// A wall-clock time in ms read from an answer: within a day of now.
fn now_ms(value: &Value) -> i64 {
    let ms = value
        .as_i64()
        .unwrap_or_else(|| panic!("{value} is no ms time"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!((now - ms).abs() < 86_400_000, "{ms} is not about now");
    ms
}

async fn call(router: &axum::Router, request: axum::http::Request<axum::body::Body>) -> Answer {
    send(router, request).await
}

fn with_fault(
    mut request: axum::http::Request<axum::body::Body>,
    fault: &str,
) -> axum::http::Request<axum::body::Body> {
    request
        .headers_mut()
        .insert("x-emulator-fault", fault.parse().unwrap());
    request
}

fn create(provider: Provider, body: Value, key: Key) -> axum::http::Request<axum::body::Body> {
    request(provider, &create_op(provider), None, Some(body), key)
}

// ---------------------------------------------------------------------------------- GPTProto

fn envelope(
    id: &str,
    created_at: &Value,
    status: &str,
    execution: u64,
    outputs: Vec<String>,
) -> Value {
    json!({
        "data": {
            "id": id,
            "model": "nai-diffusion-4-5-curated",
            "outputs": outputs,
            "urls": {"get": format!("http://{HOST}/api/v3/predictions/{id}/result")},
            "status": status,
            "error": Value::Null,
            "executionTime": execution,
            "timings": {"inference": execution},
            "has_nsfw_contents": [],
            "created_at": created_at,
        },
        "message": "success",
        "code": 200,
    })
}

#[tokio::test(start_paused = true)]
async fn gptproto_answers() {
    let gptproto = Provider::named("gptproto");
    let router = router(&[gptproto], slow());
    let created = call(
        &router,
        create(gptproto, create_body(gptproto, 7), Key::Valid),
    )
    .await;
    let body = created.json();
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    assert!(is_hex32(&id), "{id}");
    let created_at = body["data"]["created_at"].clone();
    let text = created_at.as_str().unwrap();
    assert_eq!(text.len(), 19, "{text}");
    assert_eq!((&text[4..5], &text[10..11], &text[13..14]), ("-", " ", ":"));
    exact(
        &created,
        200,
        &envelope(&id, &created_at, "pending", 0, vec![]),
    );
    settle().await;

    advance(Duration::from_secs(11)).await;
    let processing = fetch(&router, gptproto, &id).await;
    exact(
        &processing,
        200,
        &envelope(&id, &created_at, "processing", 0, vec![]),
    );
    advance(Duration::from_secs(4)).await;
    let later = fetch(&router, gptproto, &id).await;
    exact(
        &later,
        200,
        &envelope(&id, &created_at, "processing", 4000, vec![]),
    );
    advance(Duration::from_secs(6)).await;
    let done = fetch(&router, gptproto, &id).await;
    let outputs = (0..2).map(|i| image_url(&id, i, "png")).collect();
    exact(
        &done,
        200,
        &envelope(&id, &created_at, "completed", 10_000, outputs),
    );

    // A failed job.
    let failing = with_fault(
        create(gptproto, create_body(gptproto, 7), Key::Valid),
        "fail=blocked by the safety filter",
    );
    let id = call(&router, failing).await.json()["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    settle().await;
    advance(Duration::from_secs(10)).await;
    advance(Duration::from_secs(10)).await;
    let failed = fetch(&router, gptproto, &id).await;
    let created_at = failed.json()["data"]["created_at"].clone();
    let mut expected = envelope(&id, &created_at, "failed", 10_000, vec![]);
    expected["data"]["error"] = json!({"message": "blocked by the safety filter"});
    exact(&failed, 200, &expected);

    // Errors.
    let error = |message: &str, kind: &str| json!({"error": {"message": message, "type": kind}});
    let mut invalid = create_body(gptproto, 7);
    invalid["steps"] = json!(100);
    let refused = call(&router, create(gptproto, invalid, Key::Valid)).await;
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("steps"), "{message}");
    exact(&refused, 400, &error(&message, "invalid_request_error"));
    exact(
        &call(
            &router,
            create(gptproto, create_body(gptproto, 7), Key::None),
        )
        .await,
        401,
        &error(
            "missing API key: send it in the Authorization header",
            "invalid_request_error",
        ),
    );
    exact(
        &call(
            &router,
            create(gptproto, create_body(gptproto, 7), Key::Other("sk-no")),
        )
        .await,
        401,
        &error(
            "invalid API key in the Authorization header",
            "invalid_request_error",
        ),
    );
    exact(
        &fetch(&router, gptproto, "nope").await,
        404,
        &error(
            "prediction \"nope\" not found (unknown, or evicted after the job TTL)",
            "not_found_error",
        ),
    );
    for (fault, status, expected) in [
        (
            "status=429",
            429,
            json!({"code": 429, "message": "emulated fault: HTTP 429 Too Many Requests", "type": "error"}),
        ),
        (
            "status=503",
            503,
            error(
                "emulated fault: HTTP 503 Service Unavailable",
                "server_error",
            ),
        ),
        (
            "status=403",
            403,
            error("emulated fault: HTTP 403 Forbidden", "server_error"),
        ),
    ] {
        let answer = call(
            &router,
            with_fault(
                create(gptproto, create_body(gptproto, 7), Key::Valid),
                fault,
            ),
        )
        .await;
        exact(&answer, status, &expected);
    }
    let mut huge = create(gptproto, create_body(gptproto, 7), Key::Valid);
    huge.headers_mut()
        .insert("content-length", "30000000".parse().unwrap());
    exact(
        &call(&router, huge).await,
        413,
        &error(
            "body = 30000000 bytes is above the maximum 20971520 bytes",
            "request_too_large",
        ),
    );
}

#[tokio::test(start_paused = true)]
async fn gptproto_answers_a_full_store_with_its_503() {
    let gptproto = Provider::named("gptproto");
    let config = Config {
        max_jobs: 1,
        ..slow()
    };
    let router = router(&[gptproto], config);
    call(
        &router,
        create(gptproto, create_body(gptproto, 1), Key::Valid),
    )
    .await;
    exact(
        &call(
            &router,
            create(gptproto, create_body(gptproto, 2), Key::Valid),
        )
        .await,
        503,
        &json!({"error": {
            "message": "service not available: all 1 job slots hold running jobs (Config::max_jobs)",
            "type": "service_unavailable"
        }}),
    );
}

// ---------------------------------------------------------------------------------- Novita

#[allow(clippy::too_many_arguments)]
fn task_result(
    id: &str,
    status: &str,
    reason: &str,
    eta: i64,
    progress: u32,
    times: (&Value, i64, i64),
    seed: u64,
    nsfw: bool,
    images: u32,
) -> Value {
    let (submit, execute, complete) = times;
    let images: Vec<Value> = (0..images)
        .map(|i| {
            json!({
                "image_url": image_url(id, i, "jpeg"),
                "image_url_ttl": 3600,
                "image_type": "jpeg",
                "nsfw_detection_result": if nsfw {
                    json!({"valid": true, "confidence": 0})
                } else {
                    Value::Null
                },
            })
        })
        .collect();
    json!({
        "extra": {
            "seed": seed,
            "enable_nsfw_detection": nsfw,
            "debug_info": {
                "request_info": "",
                "submit_time_ms": submit,
                "execute_time_ms": execute,
                "complete_time_ms": complete,
            },
        },
        "task": {
            "task_id": id,
            "task_type": "IMG_TO_IMG",
            "status": status,
            "reason": reason,
            "eta": eta,
            "progress_percent": progress,
        },
        "images": images,
        "videos": [],
        "audios": [],
    })
}

#[tokio::test(start_paused = true)]
async fn novita_answers() {
    let novita = Provider::named("novita");
    let router = router(&[novita], slow());
    for nsfw in [false, true] {
        let mut body = create_body(novita, 7);
        body["extra"]["enable_nsfw_detection"] = json!(nsfw);
        let created = call(&router, create(novita, body, Key::Valid)).await;
        let id = created.json()["task_id"].as_str().unwrap().to_owned();
        assert!(is_uuid_v4(&id), "{id}");
        exact(&created, 200, &json!({"task_id": id}));
        settle().await;

        let queued = fetch(&router, novita, &id).await;
        let submit = queued.json()["extra"]["debug_info"]["submit_time_ms"].clone();
        now_ms(&submit);
        let state = |status, eta, progress, execute, complete, images| {
            task_result(
                &id,
                status,
                "",
                eta,
                progress,
                (&submit, execute, complete),
                7,
                nsfw,
                images,
            )
        };
        exact(&queued, 200, &state("TASK_STATUS_QUEUED", 20, 0, 0, 0, 0));
        advance(Duration::from_secs(11)).await;
        advance(Duration::from_secs(5)).await;
        let processing = fetch(&router, novita, &id).await;
        let execute = now_ms(&processing.json()["extra"]["debug_info"]["execute_time_ms"]);
        exact(
            &processing,
            200,
            &state("TASK_STATUS_PROCESSING", 5, 50, execute, 0, 0),
        );
        advance(Duration::from_secs(5)).await;
        let done = fetch(&router, novita, &id).await;
        let complete = now_ms(&done.json()["extra"]["debug_info"]["complete_time_ms"]);
        exact(
            &done,
            200,
            &state("TASK_STATUS_SUCCEED", 0, 100, execute, complete, 2),
        );
    }

    // A failed job.
    let failing = with_fault(
        create(novita, create_body(novita, 8), Key::Valid),
        "fail=no luck",
    );
    let id = call(&router, failing).await.json()["task_id"]
        .as_str()
        .unwrap()
        .to_owned();
    settle().await;
    advance(Duration::from_secs(10)).await;
    advance(Duration::from_secs(10)).await;
    let failed = fetch(&router, novita, &id).await;
    let debug = failed.json()["extra"]["debug_info"].clone();
    let expected = task_result(
        &id,
        "TASK_STATUS_FAILED",
        "no luck",
        0,
        100,
        (
            &debug["submit_time_ms"],
            now_ms(&debug["execute_time_ms"]),
            now_ms(&debug["complete_time_ms"]),
        ),
        8,
        false,
        0,
    );
    exact(&failed, 200, &expected);

    // Errors.
    let error = |code: u16, reason: &str, message: &str| json!({"code": code, "reason": reason, "message": message, "metadata": {}});
    let mut invalid = create_body(novita, 7);
    invalid["request"]["width"] = json!(4096);
    exact(
        &call(&router, create(novita, invalid, Key::Valid)).await,
        400,
        &error(
            400,
            "INVALID_REQUEST_BODY",
            "request.width = 4096 is above the maximum 2048",
        ),
    );
    exact(
        &call(&router, create(novita, create_body(novita, 7), Key::None)).await,
        400,
        &error(
            400,
            "MISSING_API_KEY",
            "missing API key: send it in the Authorization header",
        ),
    );
    exact(
        &call(
            &router,
            create(novita, create_body(novita, 7), Key::Other("sk-no")),
        )
        .await,
        403,
        &error(
            403,
            "INVALID_API_KEY",
            "invalid API key in the Authorization header",
        ),
    );
    exact(
        &fetch(&router, novita, "nope").await,
        404,
        &error(
            404,
            "TASK_NOT_FOUND",
            "task not found: nope (unknown, or evicted after the job TTL)",
        ),
    );
    let no_id = axum::http::Request::get("/v3/async/task-result")
        .header("host", HOST)
        .header("authorization", format!("Bearer {KEY}"))
        .body(axum::body::Body::empty())
        .unwrap();
    exact(
        &call(&router, no_id).await,
        400,
        &error(
            400,
            "INVALID_REQUEST_BODY",
            "task_id is required (query parameter)",
        ),
    );
    for (fault, status, reason, words) in [
        (
            "status=503",
            503,
            "SERVICE_NOT_AVAILABLE",
            "503 Service Unavailable",
        ),
        ("status=500", 500, "", "500 Internal Server Error"),
        ("status=403", 403, "NOT_ENOUGH_BALANCE", "403 Forbidden"),
        (
            "status=429,retry-after=2",
            429,
            "RATE_LIMIT_EXCEEDED",
            "429 Too Many Requests",
        ),
    ] {
        let answer = call(
            &router,
            with_fault(create(novita, create_body(novita, 7), Key::Valid), fault),
        )
        .await;
        exact(
            &answer,
            status,
            &error(status, reason, &format!("emulated fault: HTTP {words}")),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn novita_answers_over_its_rate_limit() {
    let novita = Provider::named("novita");
    let mut config = slow();
    config.rate_limit = true;
    let router = router(&[novita], config);
    for seed in 0..5 {
        let answer = call(
            &router,
            create(novita, create_body(novita, seed), Key::Valid),
        )
        .await;
        assert_eq!(answer.status, 200);
    }
    exact(
        &call(&router, create(novita, create_body(novita, 9), Key::Valid)).await,
        429,
        &json!({"code": 429, "reason": "RATE_LIMIT_EXCEEDED", "metadata": {},
            "message": "rate limit exceeded: at most 10 images per minute per key (this request asks for 2); retry in 60 s"}),
    );
}

// ---------------------------------------------------------------------------------- ModelsLab

fn meta(id: &str, seed: u64, echo: Value) -> Value {
    let mut meta = json!({
        "prompt": "a lighthouse at dusk",
        "negative_prompt": "",
        "W": 256,
        "H": 256,
        "guidance_scale": 7.5,
        "steps": 20,
        "n_samples": 2,
        "strength": 0.6,
        "seed": seed,
        "multi_lingual": "no",
        "full_url": "no",
        "upscale": "no",
        "outdir": "out",
        "file_prefix": id,
    });
    for (name, value) in echo.as_object().unwrap() {
        meta[name] = value.clone();
    }
    meta
}

/// What the answer echoes of a request that leaves the flags out: `safetychecker` is the flag's
/// default, "yes" (the enterprise img2img page).
fn default_echo() -> Value {
    json!({"model_id": "midjourney", "scheduler": "DDPMScheduler", "safetychecker": "yes", "init_image": null})
}

fn success(id: u64, seed: u64, generation: f64, outputs: Vec<String>, echo: Value) -> Value {
    json!({
        "status": "success",
        "generationTime": generation,
        "id": id,
        "output": outputs.clone(),
        "proxy_links": outputs,
        "meta": meta(&id.to_string(), seed, echo),
        "nsfw_content_detected": false,
        "webhook_status": "",
        "tip": "",
    })
}

fn processing(id: u64, eta: f64, future: Vec<String>) -> Value {
    json!({
        "status": "processing",
        "tip": "Your image is processing in background, you can get this image using the fetch API",
        "eta": eta,
        "message": "Try to fetch request after given estimated time",
        "fetch_result": format!("http://{HOST}/api/v1/enterprise/fetch"),
        "id": id,
        "output": [],
        "meta": meta(&id.to_string(), 7, default_echo()),
        "future_links": future,
    })
}

#[tokio::test(start_paused = true)]
async fn modelslab_answers_sync() {
    let modelslab = Provider::named("modelslab");
    let router = router(&[modelslab], slow());
    let answer = call(
        &router,
        create(modelslab, create_body(modelslab, 7), Key::Valid),
    )
    .await;
    let id = answer.json()["id"].as_u64().unwrap();
    assert!(id >= 70_000_000, "{id}");
    let urls: Vec<String> = (0..2)
        .map(|i| image_url(&id.to_string(), i, "png"))
        .collect();
    exact(
        &answer,
        200,
        &success(id, 7, 10.0, urls.clone(), default_echo()),
    );
    let fetched = fetch(&router, modelslab, &id.to_string()).await;
    exact(&fetched, 200, &success(id, 7, 10.0, urls, default_echo()));

    // Echoed request fields, and an init image given as a URL.
    let mut body = create_body(modelslab, 8);
    body["init_image"] = json!("https://example.com/in.png");
    body["scheduler"] = json!("EulerDiscreteScheduler");
    body["safety_checker"] = json!("yes");
    body["track_id"] = json!(5);
    body["model_id"] = json!("sdxl");
    let answer = call(&router, create(modelslab, body, Key::Valid)).await;
    let id = answer.json()["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("{}", answer.json()));
    let urls: Vec<String> = (0..2)
        .map(|i| image_url(&id.to_string(), i, "png"))
        .collect();
    let echo = json!({"model_id": "sdxl", "scheduler": "EulerDiscreteScheduler", "safetychecker": "yes",
        "init_image": "https://example.com/in.png"});
    exact(&answer, 200, &success(id, 8, 10.0, urls, echo));

    // Images inline.
    let mut body = create_body(modelslab, 9);
    body["base64"] = json!("yes");
    let answer = call(&router, create(modelslab, body, Key::Valid)).await;
    let id = answer.json()["id"].as_u64().unwrap();
    let urls: Vec<String> = (0..2)
        .map(|i| image_url(&id.to_string(), i, "png"))
        .collect();
    let mut inline = Vec::new();
    for url in &urls {
        let image = download(&router, url).await;
        assert_eq!(image.status, 200);
        inline.push(base64::engine::general_purpose::STANDARD.encode(&image.bytes));
    }
    let mut expected = success(id, 9, 10.0, urls, default_echo());
    expected["output"] = json!(inline);
    exact(&answer, 200, &expected);

    // A failed job (HTTP 200).
    let failing = with_fault(
        create(modelslab, create_body(modelslab, 7), Key::Valid),
        "fail=out of memory",
    );
    let answer = call(&router, failing).await;
    let id = answer.json()["id"].as_u64().unwrap();
    exact(
        &answer,
        200,
        &json!({"status": "failed", "id": id, "message": "out of memory"}),
    );

    // Not found (HTTP 200), and errors.
    exact(
        &fetch(&router, modelslab, "1").await,
        200,
        &json!({"status": "error", "message": "Request not found"}),
    );
    let error = |message: &str| json!({"status": "error", "message": message});
    let missing_id = request(
        modelslab,
        &result_op(modelslab),
        None,
        Some(json!({})),
        Key::Valid,
    );
    exact(
        &call(&router, missing_id).await,
        400,
        &error("request_id is required"),
    );
    let mut invalid = create_body(modelslab, 7);
    invalid["samples"] = json!(9);
    let refused = call(&router, create(modelslab, invalid, Key::Valid)).await;
    let message = refused.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("samples"), "{message}");
    exact(&refused, 400, &error(&message));
    exact(
        &call(
            &router,
            create(modelslab, create_body(modelslab, 7), Key::None),
        )
        .await,
        401,
        &error("missing API key: send it in the body field `key`"),
    );
    exact(
        &call(
            &router,
            create(modelslab, create_body(modelslab, 7), Key::Other("sk-no")),
        )
        .await,
        401,
        &error("invalid API key in the body field `key`"),
    );
    for (fault, status, expected) in [
        (
            "status=500",
            500,
            json!({"status": "failed", "message": "emulated fault: HTTP 500 Internal Server Error"}),
        ),
        (
            "status=503",
            503,
            json!({"status": "failed", "message": "emulated fault: HTTP 503 Service Unavailable"}),
        ),
        (
            "status=402",
            402,
            json!({"status": "error", "message": "emulated fault: HTTP 402 Payment Required"}),
        ),
        (
            "status=429",
            429,
            json!({"status": "error", "message": "emulated fault: HTTP 429 Too Many Requests"}),
        ),
        (
            "status=429,retry-after=3",
            429,
            json!({"status": "error", "message": "emulated fault: HTTP 429 Too Many Requests", "retry_after": 3}),
        ),
    ] {
        let answer = call(
            &router,
            with_fault(
                create(modelslab, create_body(modelslab, 7), Key::Valid),
                fault,
            ),
        )
        .await;
        exact(&answer, status, &expected);
    }
}

#[tokio::test(start_paused = true)]
async fn modelslab_answers_queued() {
    let modelslab = Provider::named("modelslab");
    let mut config = queued(slow());
    config.rate_limit = true;
    let router = router(&[modelslab], config);
    let answer = call(
        &router,
        create(modelslab, create_body(modelslab, 7), Key::Valid),
    )
    .await;
    let id = answer.json()["id"].as_u64().unwrap();
    let urls: Vec<String> = (0..2)
        .map(|i| image_url(&id.to_string(), i, "png"))
        .collect();
    exact(&answer, 200, &processing(id, 20.0, urls.clone()));
    settle().await;
    advance(Duration::from_secs(12)).await;
    exact(
        &fetch(&router, modelslab, &id.to_string()).await,
        200,
        &processing(id, 10.0, urls.clone()),
    );
    advance(Duration::from_secs(10)).await;
    exact(
        &fetch(&router, modelslab, &id.to_string()).await,
        200,
        &success(id, 7, 10.0, urls, default_echo()),
    );
    for seed in 0..5 {
        let answer = call(
            &router,
            create(modelslab, create_body(modelslab, seed), Key::Valid),
        )
        .await;
        assert_eq!(answer.status, 200);
    }
    exact(
        &call(
            &router,
            create(modelslab, create_body(modelslab, 9), Key::Valid),
        )
        .await,
        429,
        &json!({"status": "error", "message": "Rate limit exceeded. Maximum 5 queued requests allowed.", "retry_after": 30}),
    );
}

// ---------------------------------------------------------------------------------- webhooks

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Bytes>>>);

async fn receive(State(received): State<Received>, body: Bytes) -> &'static str {
    received.0.lock().unwrap().push(body);
    "ok"
}

async fn receiver() -> (String, Received) {
    let received = Received::default();
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn deliveries(received: &Received, count: usize) -> Vec<String> {
    for _ in 0..500 {
        if received.0.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let got = received.0.lock().unwrap().clone();
    assert_eq!(got.len(), count, "webhook deliveries");
    got.iter()
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
        .collect()
}

fn webhook_config() -> Config {
    Config {
        webhooks: WebhookConfig {
            timeout: Duration::from_secs(2),
            backoff: Duration::from_millis(10),
            ..WebhookConfig::default()
        },
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_bodies() {
    let (novita, modelslab) = (Provider::named("novita"), Provider::named("modelslab"));
    let router = router(&[novita, modelslab], webhook_config());

    let (url, received) = receiver().await;
    let mut body = create_body(novita, 5);
    body["extra"]["webhook"] = json!({"url": url});
    let done = run_job(&router, novita, body).await;
    let got = deliveries(&received, 1).await;
    let expected = json!({"event_type": "ASYNC_TASK_RESULT", "payload": done});
    assert_eq!(got[0], serde_json::to_string(&expected).unwrap());

    let (url, received) = receiver().await;
    let mut body = create_body(modelslab, 5);
    body["webhook"] = json!(url);
    body["track_id"] = json!(42);
    let done = run_job(&router, modelslab, body.clone()).await;
    body["track_id"] = json!("job-43");
    let failing = with_fault(create(modelslab, body, Key::Valid), "fail=out of memory");
    let failed = call(&router, failing).await.json();
    let mut got = deliveries(&received, 2).await;
    got.sort_by_key(|text| text.contains("\"failed\""));
    let expected = json!({
        "status": "success", "id": done["id"], "output": done["output"],
        "generationTime": done["generationTime"], "track_id": 42, "meta": done["meta"],
    });
    assert_eq!(got[0], serde_json::to_string(&expected).unwrap());
    let expected = json!({"status": "failed", "id": failed["id"], "message": "out of memory", "track_id": "job-43"});
    assert_eq!(got[1], serde_json::to_string(&expected).unwrap());
}

/// Each kind of bad image Novita's error table names (https://novita.ai/docs/api-reference/basic-error-code)
/// is answered with its own status and reason, picked by the spec (`x-emulator.answers.reasons`).
#[tokio::test]
async fn novita_answers_each_bad_image_with_the_documented_status_and_reason() {
    let novita = Provider::named("novita");
    let router = router(&[novita], slow());
    let base64 = base64::engine::general_purpose::STANDARD;
    let limits = &spec(novita).extensions().limits;
    let max_pixels = limits.max_input_pixels.unwrap();
    let max_bytes = limits.max_input_bytes.unwrap();
    // An 8x8 PNG whose header says 4097 x 4096: over 16 megapixels (only the header is read).
    let mut wide = png(8, 8);
    wide[16..20].copy_from_slice(&4097u32.to_be_bytes());
    wide[20..24].copy_from_slice(&4096u32.to_be_bytes());
    let crc = crc32fast::hash(&wide[12..29]);
    wide[29..33].copy_from_slice(&crc.to_be_bytes());
    assert!(4097 * 4096 > max_pixels);
    let wide = base64.encode(wide);
    let not_png = base64.encode(b"GIF89a, but no picture follows");
    let oversized = base64.encode(vec![0u8; usize::try_from(max_bytes).unwrap() + 3]);
    let cases = [
        ("not base64 at all!", "INVALID_IMAGE_FORMAT"),
        (not_png.as_str(), "INVALID_IMAGE_FORMAT"),
        (wide.as_str(), "IMAGE_EXCEEDS_MAX_RESOLUTION"),
        (oversized.as_str(), "IMAGE_FILE_EXCEEDS_MAX_SIZE"),
    ];
    for (image, reason) in cases {
        let body = with_images(novita, create_body(novita, 3), image);
        let answer = call(&router, create(novita, body, Key::Valid)).await;
        let json = answer.json();
        assert_eq!(
            (answer.status, json["code"].clone(), json["reason"].clone()),
            (400, json!(400), json!(reason)),
            "{}",
            json["message"]
        );
        assert!(
            json["message"].as_str().unwrap().contains("image_base64"),
            "{json}"
        );
    }
}

/// The reasons the Novita emulator answered with when they were typed into it, now read from the
/// spec's `x-errors` (each error of the table provoked over HTTP).
#[tokio::test(start_paused = true)]
async fn novita_reasons_come_from_the_spec() {
    let novita = Provider::named("novita");
    let config = Config {
        max_jobs: 1,
        ..slow()
    };
    let router = router(&[novita], config);
    call(&router, create(novita, create_body(novita, 1), Key::Valid)).await;
    let mut invalid = create_body(novita, 1);
    invalid["request"]["width"] = json!(4096);
    let mut huge = create(novita, create_body(novita, 1), Key::Valid);
    huge.headers_mut()
        .insert("content-length", "30000000".parse().unwrap());
    let provoked = [
        (
            400,
            call(&router, create(novita, invalid, Key::Valid)).await,
            "INVALID_REQUEST_BODY",
        ),
        (
            400,
            call(&router, create(novita, create_body(novita, 1), Key::None)).await,
            "MISSING_API_KEY",
        ),
        (
            403,
            call(
                &router,
                create(novita, create_body(novita, 1), Key::Other("sk-no")),
            )
            .await,
            "INVALID_API_KEY",
        ),
        (404, fetch(&router, novita, "nope").await, "TASK_NOT_FOUND"),
        (
            400,
            call(&router, huge).await,
            "IMAGE_FILE_EXCEEDS_MAX_SIZE",
        ),
        (
            429,
            call(
                &router,
                with_fault(
                    create(novita, create_body(novita, 1), Key::Valid),
                    "status=429,retry-after=1",
                ),
            )
            .await,
            "RATE_LIMIT_EXCEEDED",
        ),
        (
            503,
            call(&router, create(novita, create_body(novita, 2), Key::Valid)).await,
            "SERVICE_NOT_AVAILABLE",
        ),
    ];
    for (status, answer, reason) in provoked {
        assert_eq!(
            answer.status,
            status,
            "{}",
            String::from_utf8_lossy(&answer.bytes)
        );
        assert_eq!(answer.json()["reason"], reason, "{status}");
    }
    for (status, reason) in [
        (400, "INVALID_REQUEST_BODY"),
        (401, "FAILED_TO_AUTH"),
        (403, "NOT_ENOUGH_BALANCE"),
        (404, "MODEL_NOT_FOUND"),
        (429, "RATE_LIMIT_EXCEEDED"),
        (503, "SERVICE_NOT_AVAILABLE"),
        (500, ""),
        (502, ""),
    ] {
        let answer = call(
            &router,
            with_fault(
                create(novita, create_body(novita, 1), Key::Valid),
                &format!("status={status}"),
            ),
        )
        .await;
        assert_eq!(answer.status, status);
        assert_eq!(answer.json()["reason"], reason, "fault {status}");
    }
}
