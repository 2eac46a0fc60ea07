//! Whole jobs against a mock server, under tokio's paused clock: backoff, eta hints, deadlines,
//! retries of polls and of a rate-limited create, ModelsLab's `fetch_result`, and a saved handle
//! resumed by a new client.

use std::time::Duration;

use crate::support::{Sequence, client, config, json, png, request_for};
use img2img_client::{Client, Error, ImageFormat, JobHandle, PollPolicy, Provider};
use serde_json::json;
use tokio::time::Instant;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn image_response() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "image/png")
        .set_body_bytes(png(64, 48))
}

async fn mount_image(server: &MockServer, at: &str) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(image_response())
        .mount(server)
        .await;
}

fn novita_task(status: &str, eta: i64, images: Vec<String>) -> serde_json::Value {
    json!({
        "extra": {"seed": "1"},
        "task": {"task_id": "t-1", "task_type": "IMG_TO_IMG", "status": status, "reason": "",
                 "eta": eta, "progress_percent": 50},
        "images": images.iter().map(|u| json!({"image_url": u, "image_url_ttl": 3600, "image_type": "png"})).collect::<Vec<_>>(),
    })
}

#[tokio::test(start_paused = true)]
async fn a_novita_job_follows_the_eta_hints_then_downloads() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/async/img2img"))
        .and(body_partial_json(
            json!({"request": {"image_num": 2, "model_name": "sd_xl_base_1.0.safetensors"}}),
        ))
        .respond_with(json(200, json!({"task_id": "t-1"})))
        .expect(1)
        .mount(&server)
        .await;
    let urls = vec![
        format!("{}/img/0.png", server.uri()),
        format!("{}/img/1.png", server.uri()),
    ];
    Mock::given(method("GET"))
        .and(path("/v3/async/task-result"))
        .and(query_param("task_id", "t-1"))
        .respond_with(Sequence::new(vec![
            json(200, novita_task("TASK_STATUS_QUEUED", 5, vec![])),
            json(200, novita_task("TASK_STATUS_PROCESSING", 3, vec![])),
            json(200, novita_task("TASK_STATUS_SUCCEED", 0, urls)),
        ]))
        .expect(3)
        .mount(&server)
        .await;
    mount_image(&server, "/img/0.png").await;
    mount_image(&server, "/img/1.png").await;

    let client = client(Provider::named("novita"), &server.uri());
    let mut request = request_for(Provider::named("novita"));
    request.n = Some(2);
    let started = Instant::now();
    let handle = client.submit(&request).await.unwrap();
    assert_eq!(handle.id, "t-1");
    let mut waits = Vec::new();
    let result = client
        .wait_with_progress(&handle, |p| waits.push(p.next_poll_in))
        .await
        .unwrap();
    // The provider's eta (5 s, then 3 s) replaces the exponential wait (1 s, 2 s).
    assert_eq!(waits, [Duration::from_secs(5), Duration::from_secs(3)]);
    assert_eq!(started.elapsed(), Duration::from_secs(8));
    assert_eq!(result.polls, 3);
    let images = client.fetch_images(&result).await.unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(
        (images[0].format, images[0].width, images[0].height),
        (ImageFormat::Png, 64, 48)
    );
}

#[tokio::test(start_paused = true)]
async fn without_hints_the_waits_grow_exponentially_and_the_deadline_stops_them() {
    let server = MockServer::start().await;
    let pending =
        json!({"data": {"id": "p-1", "status": "processing", "outputs": []}, "code": 200});
    Mock::given(method("GET"))
        .and(path("/api/v3/predictions/p-1/result"))
        .respond_with(json(200, pending))
        .mount(&server)
        .await;
    let mut config = config(Provider::named("gptproto"), &server.uri());
    config.poll = PollPolicy {
        deadline: Duration::from_secs(30),
        ..config.poll
    };
    let client = Client::new(config).unwrap();
    let handle = JobHandle {
        provider: Provider::named("gptproto"),
        id: "p-1".into(),
        base_url: server.uri(),
        fetch_url: None,
        ready_outputs: vec![],
        created_at: chrono::Utc::now(),
        first_poll_at: None,
    };
    let started = Instant::now();
    let mut waits = Vec::new();
    let err = client
        .wait_with_progress(&handle, |p| waits.push(p.next_poll_in.as_secs()))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::DeadlineExceeded {
            deadline: Duration::from_secs(30),
            last_status: "processing".into()
        }
    );
    // 1, 2, 4, 8 and the max of 10, then what is left of the 30 s (5).
    assert_eq!(waits, [1, 2, 4, 8, 10, 5]);
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    assert_eq!(server.received_requests().await.unwrap().len(), 7);
}

#[tokio::test(start_paused = true)]
async fn polls_retry_server_errors_and_rate_limits() {
    let server = MockServer::start().await;
    let done = json!({"data": {"id": "p-2", "status": "completed",
        "outputs": [format!("{}/out.png", server.uri())]}});
    Mock::given(method("GET"))
        .and(path("/api/v3/predictions/p-2/result"))
        .respond_with(Sequence::new(vec![
            json(503, json!({"error": {"message": "busy", "code": 503}})),
            json(
                429,
                json!({"code": 429, "message": "slow down", "type": "error"}),
            )
            .insert_header("Retry-After", "7"),
            ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"),
            json(200, done),
        ]))
        .expect(4)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/out.png"))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(500),
            image_response(),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(Provider::named("gptproto"), &server.uri());
    let handle = JobHandle {
        provider: Provider::named("gptproto"),
        id: "p-2".into(),
        base_url: server.uri(),
        fetch_url: None,
        ready_outputs: vec![],
        created_at: chrono::Utc::now(),
        first_poll_at: None,
    };
    let started = Instant::now();
    let result = client.wait(&handle).await.unwrap();
    // Retry waits: 1 s (backoff), 7 s (Retry-After), 4 s (backoff, third attempt).
    assert_eq!(started.elapsed(), Duration::from_secs(12));
    assert_eq!(result.polls, 1);
    let images = client.fetch_images(&result).await.unwrap();
    assert_eq!(images.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_create_is_retried_after_the_wait_asked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/img2img"))
        .respond_with(Sequence::new(vec![
            json(
                429,
                json!({"status": "error", "message": "Rate limit exceeded. Maximum 5 queued requests allowed.", "retry_after": 30}),
            ),
            json(
                200,
                json!({"status": "success", "id": 99, "output": [format!("{}/o.png", server.uri())]}),
            ),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    mount_image(&server, "/o.png").await;
    let client = client(Provider::named("modelslab"), &server.uri());
    let started = Instant::now();
    let images = client
        .generate(&request_for(Provider::named("modelslab")))
        .await
        .unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    assert_eq!(images.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_create_answered_with_a_server_error_is_not_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/async/img2img"))
        .respond_with(json(
            503,
            json!({"code": 503, "reason": "SERVICE_NOT_AVAILABLE", "message": "service not available", "metadata": {}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(Provider::named("novita"), &server.uri())
        .submit(&request_for(Provider::named("novita")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn modelslab_polls_the_fetch_result_url_it_was_given() {
    let server = MockServer::start().await;
    // A fetch_result URL of the v6 family, whose result operation takes the id in the path.
    let fetch_url = format!("{}/api/v6/images/fetch/123", server.uri());
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/img2img"))
        .respond_with(json(
            200,
            json!({"status": "processing", "eta": 2.5, "messege": "Try to fetch request after given estimated time",
                   "fetch_result": fetch_url, "id": "123", "output": ""}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v6/images/fetch/123"))
        .and(body_partial_json(json!({"key": crate::support::KEY})))
        .respond_with(Sequence::new(vec![
            json(200, json!({"status": "processing", "eta": 4, "id": 123, "output": []})),
            json(200, json!({"status": "success", "id": 123, "output": [format!("{}/r.png", server.uri())]})),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    // The spec's own fetch path must not be used while a fetch_result URL is at hand.
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/fetch"))
        .respond_with(json(
            500,
            json!({"status": "error", "message": "wrong path"}),
        ))
        .expect(0)
        .mount(&server)
        .await;
    mount_image(&server, "/r.png").await;
    let client = client(Provider::named("modelslab"), &server.uri());
    let handle = client
        .submit(&request_for(Provider::named("modelslab")))
        .await
        .unwrap();
    assert_eq!(handle.fetch_url.as_deref(), Some(fetch_url.as_str()));
    let started = Instant::now();
    let result = client.wait(&handle).await.unwrap();
    assert_eq!(result.polls, 2);
    // First poll after the create's eta of 2.5 s, then the poll's eta of 4 s (the create's wait
    // is measured on the wall clock from submit, so a few real milliseconds may come off it).
    let elapsed = started.elapsed();
    assert!(
        elapsed > Duration::from_millis(6400) && elapsed <= Duration::from_millis(6500),
        "{elapsed:?}"
    );
    assert_eq!(client.fetch_images(&result).await.unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_fetch_result_on_another_origin_is_not_sent_the_key() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            200,
            json!({"status": "error", "message": "should not be called"}),
        ))
        .expect(0)
        .mount(&elsewhere)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/fetch"))
        .and(body_partial_json(json!({"request_id": 5})))
        .respond_with(json(
            200,
            json!({"status": "success", "id": 5, "output": [format!("{}/x.png", server.uri())]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let handle = JobHandle {
        provider: Provider::named("modelslab"),
        id: "5".into(),
        base_url: server.uri(),
        fetch_url: Some(format!("{}/steal", elsewhere.uri())),
        ready_outputs: vec![],
        created_at: chrono::Utc::now(),
        first_poll_at: None,
    };
    let result = client(Provider::named("modelslab"), &server.uri())
        .wait(&handle)
        .await
        .unwrap();
    assert_eq!(result.outputs.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_saved_handle_resumes_in_a_new_client() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/api/v3/novel/nai-diffusion-4-5-curated/image-to-image",
        ))
        .and(body_partial_json(
            json!({"action": "img2img", "size": "512x384"}),
        ))
        .respond_with(json(
            200,
            json!({"data": {"id": "p-9", "status": "queued", "outputs": [], "error": null,
                             "urls": [{"get": "x"}], "created_at": "2026-01-01 00:00:00"},
                   "message": "success", "code": 200}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/predictions/p-9/result"))
        .respond_with(Sequence::new(vec![
            json(
                200,
                json!({"data": {"id": "p-9", "status": "running", "error": ""}}),
            ),
            json(
                200,
                json!({"data": {"id": "p-9", "status": "succeeded", "error": "",
                                 "outputs": [format!("{}/p9.png", server.uri())]}}),
            ),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    mount_image(&server, "/p9.png").await;

    let saved = {
        let first = client(Provider::named("gptproto"), &server.uri());
        let handle = first
            .submit(&request_for(Provider::named("gptproto")))
            .await
            .unwrap();
        handle.to_json()
        // `first` is dropped here, as if the process died after paying.
    };
    assert!(!saved.contains(crate::support::KEY));
    let handle = JobHandle::parse(&saved).unwrap();
    let second = client(handle.provider, &handle.base_url);
    let result = second.wait(&handle).await.unwrap();
    assert_eq!(result.status, "succeeded");
    let images = second.fetch_images(&result).await.unwrap();
    assert_eq!((images[0].width, images[0].height), (64, 48));
}

#[tokio::test(start_paused = true)]
async fn a_failed_job_reports_the_provider_reason() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/predictions/p-3/result"))
        .respond_with(json(
            200,
            json!({"data": {"id": "p-3", "status": "cancelled", "error": {"message": "upstream generation failed"}}}),
        ))
        .mount(&server)
        .await;
    let handle = JobHandle {
        provider: Provider::named("gptproto"),
        id: "p-3".into(),
        base_url: server.uri(),
        fetch_url: None,
        ready_outputs: vec![],
        created_at: chrono::Utc::now(),
        first_poll_at: None,
    };
    let err = client(Provider::named("gptproto"), &server.uri())
        .wait(&handle)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::TaskFailed {
            reason: "upstream generation failed".into()
        }
    );
}

#[tokio::test(start_paused = true)]
async fn out_of_range_values_are_refused_before_any_request() {
    let server = MockServer::start().await;
    for provider in Provider::all() {
        let mut request = request_for(provider);
        request.strength = Some(1.5);
        let err = client(provider, &server.uri())
            .submit(&request)
            .await
            .unwrap_err();
        let Error::InvalidRequest { field, message } = &err else {
            panic!("{provider}: {err:?}")
        };
        assert!(
            field.as_deref().unwrap_or("").ends_with("strength"),
            "{provider}: {err:?}"
        );
        let spec = img2img_specs::Spec::embedded(provider);
        if spec
            .feature(
                &spec.extensions().job.create,
                img2img_specs::Feature::Strength,
            )
            .is_some()
        {
            assert!(
                message.contains("1.5") && message.contains("maximum"),
                "{message}"
            );
        } else {
            assert_eq!(message, &format!("{provider} has no strength setting"));
        }
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// A poll URL is read through the spec: the docs' fetch path takes the id in its body (as the
/// create's link says, an integer where the schema allows one), a pending answer may name the next
/// URL, and a path no result operation has falls back to `x-job.result`.
#[tokio::test(start_paused = true)]
async fn poll_urls_are_called_as_the_spec_describes_their_operation() {
    let server = MockServer::start().await;
    let next = format!("{}/api/v1/enterprise/images/fetch/77", server.uri());
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/fetch"))
        .and(body_partial_json(
            json!({"key": crate::support::KEY, "request_id": 77}),
        ))
        .respond_with(json(
            200,
            json!({"status": "processing", "id": 77, "eta": 1, "fetch_result": next}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/images/fetch/77"))
        .and(body_partial_json(json!({"key": crate::support::KEY})))
        .respond_with(json(
            200,
            json!({"status": "success", "id": 77, "output": [format!("{}/o.png", server.uri())]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(Provider::named("modelslab"), &server.uri());
    let handle = |id: &str, fetch_url: String| JobHandle {
        provider: Provider::named("modelslab"),
        id: id.into(),
        base_url: server.uri(),
        fetch_url: Some(fetch_url),
        ready_outputs: vec![],
        created_at: chrono::Utc::now(),
        first_poll_at: None,
    };
    let result = client
        .wait(&handle(
            "77",
            format!("{}/api/v1/enterprise/fetch", server.uri()),
        ))
        .await
        .unwrap();
    assert_eq!((result.polls, result.outputs.len()), (2, 1));

    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/api/v6/unknown/fetch/5"))
        .respond_with(json(
            500,
            json!({"status": "error", "message": "wrong path"}),
        ))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/fetch"))
        .and(body_partial_json(json!({"request_id": 5})))
        .respond_with(json(
            200,
            json!({"status": "success", "id": 5, "output": [format!("{}/o.png", server.uri())]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let result = client
        .wait(&handle(
            "5",
            format!("{}/api/v6/unknown/fetch/5", server.uri()),
        ))
        .await
        .unwrap();
    assert_eq!(result.outputs.len(), 1);
}
