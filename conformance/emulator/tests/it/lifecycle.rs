//! Job lifecycles on tokio's paused clock: Novita queued → processing → succeed with `eta` and
//! `progress_percent` moving; GPTProto pending → processing → completed; ModelsLab success at once
//! (sync) or processing with an absolute `fetch_result` (queued). Eviction after the TTLs, bounded
//! stores, and rate limits with each provider's 429 body.

use std::time::Duration;

use crate::support::*;
use img2img_emulator::{AnswerStyle, Config, Latency, router, router_with_handle};
use img2img_specs::Provider;
use serde_json::{Value, json};

fn slow() -> Config {
    Config {
        latency: Latency {
            queued: Duration::from_secs(10),
            processing: Duration::from_secs(10),
        },
        ..Config::default()
    }
}

/// Lets the job tasks (and any rendering on the blocking pool) run at the current paused instant.
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

async fn created(router: &axum::Router, provider: Provider, body: Value) -> Value {
    let json = create_job(router, provider, body).await;
    settle().await; // the job task registers its first timer now, not at the next advance
    json
}

async fn state(router: &axum::Router, provider: Provider, id: &str) -> Value {
    let answer = fetch(router, provider, id).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.bytes)
    );
    let json = answer.json();
    assert_documented(provider, &result_op(provider), 200, &json);
    json
}

/// Advances until the job ends (rendering runs on real threads).
async fn until_terminal(router: &axum::Router, provider: Provider, id: &str) -> Value {
    let job = &spec(provider).extensions().job;
    for _ in 0..200 {
        let body = state(router, provider, id).await;
        if job.is_terminal(&job_status(provider, &body)) {
            return body;
        }
        advance(Duration::from_millis(100)).await;
    }
    panic!("{provider} job {id} never ended");
}

#[tokio::test(start_paused = true)]
async fn novita_queued_processing_succeed_with_eta_and_progress_moving() {
    let router = router(&[Provider::named("novita")], slow());
    let id = job_id(
        Provider::named("novita"),
        &created(
            &router,
            Provider::named("novita"),
            create_body(Provider::named("novita"), 7),
        )
        .await,
    );
    settle().await;

    let queued = state(&router, Provider::named("novita"), &id).await;
    assert_eq!(queued["task"]["status"], "TASK_STATUS_QUEUED");
    assert_eq!(queued["task"]["progress_percent"], 0);
    assert_eq!(queued["task"]["eta"], 20);
    assert_eq!(queued["images"], json!([]));

    advance(Duration::from_secs(11)).await;
    let early = state(&router, Provider::named("novita"), &id).await;
    assert_eq!(early["task"]["status"], "TASK_STATUS_PROCESSING");
    advance(Duration::from_secs(5)).await;
    let later = state(&router, Provider::named("novita"), &id).await;
    assert_eq!(later["task"]["status"], "TASK_STATUS_PROCESSING");
    let (p1, p2) = (
        early["task"]["progress_percent"].as_i64().unwrap(),
        later["task"]["progress_percent"].as_i64().unwrap(),
    );
    let (e1, e2) = (
        early["task"]["eta"].as_i64().unwrap(),
        later["task"]["eta"].as_i64().unwrap(),
    );
    assert!(p1 < p2 && p2 < 100, "progress moves: {p1} then {p2}");
    assert!(e1 > e2 && e2 > 0, "eta falls: {e1} then {e2}");
    assert_eq!((p2, e2), (50, 5));

    advance(Duration::from_secs(5)).await;
    let done = until_terminal(&router, Provider::named("novita"), &id).await;
    assert_eq!(done["task"]["status"], "TASK_STATUS_SUCCEED");
    assert_eq!(done["task"]["progress_percent"], 100);
    assert_eq!(done["task"]["eta"], 0);
    assert_eq!(done["images"].as_array().unwrap().len(), 2);
    assert_eq!(done["images"][0]["image_url_ttl"], 3600);
    assert_eq!(done["extra"]["seed"], 7);
}

#[tokio::test(start_paused = true)]
async fn gptproto_pending_then_processing_then_completed() {
    let router = router(&[Provider::named("gptproto")], slow());
    let create = created(
        &router,
        Provider::named("gptproto"),
        create_body(Provider::named("gptproto"), 7),
    )
    .await;
    assert_eq!(create["data"]["status"], "pending");
    let id = job_id(Provider::named("gptproto"), &create);
    assert_eq!(
        create["data"]["urls"]["get"],
        format!("http://{HOST}/api/v3/predictions/{id}/result")
    );
    advance(Duration::from_secs(11)).await;
    assert_eq!(
        state(&router, Provider::named("gptproto"), &id).await["data"]["status"],
        "processing"
    );
    advance(Duration::from_secs(10)).await;
    let done = until_terminal(&router, Provider::named("gptproto"), &id).await;
    assert_eq!(done["data"]["status"], "completed");
    assert_eq!(done["data"]["error"], Value::Null);
    assert_eq!(done["data"]["outputs"].as_array().unwrap().len(), 2);
    assert!(done["data"]["executionTime"].as_f64().unwrap() >= 10_000.0);
}

#[tokio::test(start_paused = true)]
async fn modelslab_queued_answers_processing_with_an_absolute_fetch_url() {
    let config = slow().with_answer_style(Provider::named("modelslab"), AnswerStyle::Queued);
    let router = router(&[Provider::named("modelslab")], config);
    let create = created(
        &router,
        Provider::named("modelslab"),
        create_body(Provider::named("modelslab"), 7),
    )
    .await;
    assert_eq!(create["status"], "processing");
    assert_eq!(
        create["fetch_result"],
        format!("http://{HOST}/api/v1/enterprise/fetch")
    );
    assert_eq!(create["future_links"].as_array().unwrap().len(), 2);
    let eta = create["eta"].as_f64().unwrap();
    assert!((19.0..=20.0).contains(&eta), "{eta}");
    let id = job_id(Provider::named("modelslab"), &create);
    advance(Duration::from_secs(12)).await;
    let processing = state(&router, Provider::named("modelslab"), &id).await;
    assert_eq!(processing["status"], "processing");
    assert!(processing["eta"].as_f64().unwrap() < eta);
    advance(Duration::from_secs(9)).await;
    let done = until_terminal(&router, Provider::named("modelslab"), &id).await;
    assert_eq!(done["status"], "success");
    assert_eq!(done["output"], create["future_links"]);
    assert_eq!(done["meta"]["seed"], 7);
    // An id string fetches the same job; an unknown id is an error with HTTP 200.
    let by_string = send(
        &router,
        request(
            Provider::named("modelslab"),
            &result_op(Provider::named("modelslab")),
            None,
            Some(json!({"request_id": id.clone()})),
            Key::Valid,
        ),
    )
    .await;
    assert_eq!(by_string.json()["status"], "success");
    let unknown = fetch(&router, Provider::named("modelslab"), "1").await;
    let not_found = spec(Provider::named("modelslab"))
        .not_found(&result_op(Provider::named("modelslab")))
        .expect("the fetch documents its not-found answer");
    assert_eq!(
        (
            unknown.status,
            unknown.json()["status"].clone(),
            unknown.json()["message"].clone()
        ),
        (
            not_found.status,
            json!(not_found.job_status),
            json!(not_found.message)
        )
    );
    assert_eq!(unknown.json()["message"], "Request not found");
    assert_documented(
        Provider::named("modelslab"),
        &result_op(Provider::named("modelslab")),
        200,
        &unknown.json(),
    );
}

#[tokio::test]
async fn modelslab_sync_answers_success_directly() {
    let router = router(&[Provider::named("modelslab")], Config::default());
    let create = created(
        &router,
        Provider::named("modelslab"),
        create_body(Provider::named("modelslab"), 7),
    )
    .await;
    assert_eq!(create["status"], "success");
    assert_eq!(create["output"].as_array().unwrap().len(), 2);
    assert_eq!(create["meta"]["W"], 256);
}

#[tokio::test(start_paused = true)]
async fn finished_jobs_and_images_are_evicted_after_their_ttl() {
    let config = Config {
        job_ttl: Duration::from_secs(60),
        ..Config::default()
    };
    let (router, handle) = router_with_handle(&[Provider::named("novita")], config);
    let done = run_job(
        &router,
        Provider::named("novita"),
        create_body(Provider::named("novita"), 1),
    )
    .await;
    let id = done["task"]["task_id"].as_str().unwrap().to_owned();
    let urls = output_urls(Provider::named("novita"), &done);
    assert_eq!(
        done["images"][0]["image_url_ttl"], 60,
        "the job TTL is shorter than Novita's 3600 s"
    );
    assert_eq!(download(&router, &urls[0]).await.status, 200);
    let stats = handle.stats();
    assert_eq!((stats.jobs_live, stats.images_stored), (1, 2));
    assert!(stats.bytes_stored > 0);

    advance(Duration::from_secs(61)).await;
    tokio::time::sleep(Duration::from_secs(30)).await; // the sweeper's next rounds
    let stats = handle.stats();
    assert_eq!(
        (stats.jobs_live, stats.images_stored, stats.bytes_stored),
        (0, 0, 0)
    );
    assert_eq!(download(&router, &urls[0]).await.status, 404);
    let gone = fetch(&router, Provider::named("novita"), &id).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["reason"], "TASK_NOT_FOUND");
    assert_documented(
        Provider::named("novita"),
        &result_op(Provider::named("novita")),
        404,
        &gone.json(),
    );
}

#[tokio::test(start_paused = true)]
async fn novita_image_urls_expire_after_the_provider_ttl() {
    let config = Config {
        job_ttl: Duration::from_secs(7200),
        ..Config::default()
    };
    let (router, handle) = router_with_handle(&[Provider::named("novita")], config);
    let done = run_job(
        &router,
        Provider::named("novita"),
        create_body(Provider::named("novita"), 1),
    )
    .await;
    let urls = output_urls(Provider::named("novita"), &done);
    advance(Duration::from_secs(3599)).await;
    assert_eq!(download(&router, &urls[0]).await.status, 200);
    advance(Duration::from_secs(2)).await;
    assert_eq!(
        download(&router, &urls[0]).await.status,
        404,
        "x-limits.image-url-ttl-seconds is 3600"
    );
    tokio::time::sleep(Duration::from_secs(60)).await;
    let stats = handle.stats();
    assert_eq!(
        (stats.jobs_live, stats.images_stored),
        (1, 0),
        "the job outlives its images"
    );
}

#[tokio::test]
async fn stores_stay_bounded_under_sustained_load() {
    let config = Config {
        max_jobs: 4,
        max_stored_bytes: 200_000,
        ..Config::default()
    };
    let (router, handle) = router_with_handle(&[Provider::named("gptproto")], config);
    for seed in 0..24 {
        run_job(
            &router,
            Provider::named("gptproto"),
            create_body(Provider::named("gptproto"), seed),
        )
        .await;
        let stats = handle.stats();
        assert!(stats.jobs_live <= 4, "{stats:?}");
        assert!(stats.bytes_stored <= 200_000, "{stats:?}");
    }
    assert!(
        handle.stats().requests >= 48,
        "every create and poll is counted"
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_store_of_running_jobs_answers_the_providers_503() {
    let config = Config {
        max_jobs: 2,
        ..slow()
    };
    let router = router(&[Provider::named("novita")], config);
    for seed in 0..2 {
        created(
            &router,
            Provider::named("novita"),
            create_body(Provider::named("novita"), seed),
        )
        .await;
    }
    let answer = send(
        &router,
        request(
            Provider::named("novita"),
            "create_img2img",
            None,
            Some(create_body(Provider::named("novita"), 3)),
            Key::Valid,
        ),
    )
    .await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["reason"], "SERVICE_NOT_AVAILABLE");
    assert_documented(
        Provider::named("novita"),
        "create_img2img",
        503,
        &answer.json(),
    );
}

#[tokio::test(start_paused = true)]
async fn novita_rate_limit_counts_images_per_minute() {
    let config = Config {
        rate_limit: true,
        ..Config::default()
    };
    let router = router(&[Provider::named("novita")], config);
    for seed in 0..5 {
        created(
            &router,
            Provider::named("novita"),
            create_body(Provider::named("novita"), seed),
        )
        .await; // 2 images each
    }
    let answer = send(
        &router,
        request(
            Provider::named("novita"),
            "create_img2img",
            None,
            Some(create_body(Provider::named("novita"), 9)),
            Key::Valid,
        ),
    )
    .await;
    assert_eq!(answer.status, 429);
    let body = answer.json();
    assert_eq!(body["reason"], "RATE_LIMIT_EXCEEDED");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("10 images per minute"),
        "{body}"
    );
    assert_documented(Provider::named("novita"), "create_img2img", 429, &body);
    let other_key = send(
        &router,
        request(
            Provider::named("novita"),
            "create_img2img",
            None,
            Some(create_body(Provider::named("novita"), 9)),
            Key::Other("sk-another"),
        ),
    )
    .await;
    assert_eq!(other_key.status, 200, "the limit is per key");
    advance(Duration::from_secs(61)).await;
    created(
        &router,
        Provider::named("novita"),
        create_body(Provider::named("novita"), 10),
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn modelslab_rate_limit_counts_queued_requests() {
    let config = Config {
        rate_limit: true,
        ..slow()
    }
    .with_answer_style(Provider::named("modelslab"), AnswerStyle::Queued);
    let router = router(&[Provider::named("modelslab")], config);
    for seed in 0..5 {
        created(
            &router,
            Provider::named("modelslab"),
            create_body(Provider::named("modelslab"), seed),
        )
        .await;
    }
    let answer = send(
        &router,
        request(
            Provider::named("modelslab"),
            "create_img2img",
            None,
            Some(create_body(Provider::named("modelslab"), 9)),
            Key::Valid,
        ),
    )
    .await;
    assert_eq!(answer.status, 429);
    let body = answer.json();
    assert_eq!(
        body["message"],
        "Rate limit exceeded. Maximum 5 queued requests allowed."
    );
    assert_eq!(body["retry_after"], 30);
    assert_documented(Provider::named("modelslab"), "create_img2img", 429, &body);
    // Auto-advance through each job's timers in order, until they have all ended.
    tokio::time::sleep(Duration::from_secs(25)).await;
    settle().await;
    created(
        &router,
        Provider::named("modelslab"),
        create_body(Provider::named("modelslab"), 10),
    )
    .await;
}
