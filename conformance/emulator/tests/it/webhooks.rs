//! Webhooks, delivered to a receiver on loopback: Novita's ASYNC_TASK_RESULT event with retries on
//! non-2xx and on timeouts, `test_mode`; ModelsLab's payload with `track_id`; non-loopback URLs are
//! skipped. Every body is checked against the spec's callback schema.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use img2img_emulator::{Config, Emulator, WebhookConfig, router_with_handle};
use img2img_specs::Provider;
use serde_json::{Value, json};

/// What the receiver does with each delivery, in order (then 200).
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    Sleep(Duration),
}

#[derive(Clone, Default)]
struct Receiver {
    plan: Arc<Mutex<VecDeque<Answer>>>,
    got: Arc<Mutex<Vec<Value>>>,
}

async fn receive(State(receiver): State<Receiver>, body: axum::Json<Value>) -> StatusCode {
    receiver.got.lock().unwrap().push(body.0);
    let next = receiver.plan.lock().unwrap().pop_front();
    match next {
        Some(Answer::Status(status)) => StatusCode::from_u16(status).unwrap(),
        Some(Answer::Sleep(duration)) => {
            tokio::time::sleep(duration).await;
            StatusCode::OK
        }
        None => StatusCode::OK,
    }
}

async fn start_receiver(plan: Vec<Answer>) -> (String, Receiver) {
    let receiver = Receiver {
        plan: Arc::new(Mutex::new(plan.into())),
        got: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, receiver)
}

fn fast_webhooks() -> Config {
    Config {
        webhooks: WebhookConfig {
            timeout: Duration::from_millis(300),
            backoff: Duration::from_millis(10),
            ..WebhookConfig::default()
        },
        ..Config::default()
    }
}

async fn wait_for(receiver: &Receiver, count: usize) -> Vec<Value> {
    for _ in 0..600 {
        if receiver.got.lock().unwrap().len() >= count {
            tokio::time::sleep(Duration::from_millis(50)).await;
            return receiver.got.lock().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{count} webhook deliveries expected, got {}",
        receiver.got.lock().unwrap().len()
    );
}

fn assert_callback(provider: Provider, body: &Value) {
    let pointer = match provider.id() {
        "novita" => "/components/schemas/WebhookEvent",
        _ => "/components/schemas/WebhookPayload",
    };
    let schema = spec(provider).compiled(pointer).unwrap();
    if let Err(violations) = schema.validate(body) {
        panic!("{provider} webhook: {violations}\n{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn novita_retries_on_non_2xx_and_timeouts_until_delivered() {
    let (url, receiver) = start_receiver(vec![
        Answer::Status(500),
        Answer::Sleep(Duration::from_secs(1)),
        Answer::Status(404),
    ])
    .await;
    let (router, handle) = router_with_handle(&[Provider::named("novita")], fast_webhooks());
    let mut body = create_body(Provider::named("novita"), 5);
    body["extra"]["webhook"] = json!({"url": url});
    let done = run_job(&router, Provider::named("novita"), body).await;
    let got = wait_for(&receiver, 4).await;
    assert_eq!(got.len(), 4, "three failures, then delivered");
    for event in &got {
        assert_eq!(event["event_type"], "ASYNC_TASK_RESULT");
        assert_eq!(event["payload"]["task"]["status"], "TASK_STATUS_SUCCEED");
        assert_eq!(event["payload"]["images"], done["images"]);
        assert_callback(Provider::named("novita"), event);
    }
    let stats = handle.stats();
    assert_eq!((stats.webhook_attempts, stats.webhooks_delivered), (4, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn novita_gives_up_after_five_retries() {
    let (url, receiver) = start_receiver(vec![Answer::Status(503); 10]).await;
    let (router, handle) = router_with_handle(&[Provider::named("novita")], fast_webhooks());
    let mut body = create_body(Provider::named("novita"), 5);
    body["extra"]["webhook"] = json!({"url": url});
    run_job(&router, Provider::named("novita"), body).await;
    wait_for(&receiver, 6).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        receiver.got.lock().unwrap().len(),
        6,
        "one attempt and five retries"
    );
    assert_eq!(handle.stats().webhooks_delivered, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn novita_test_mode_sends_the_mock_event_with_the_chosen_status() {
    for (chosen, images) in [("TASK_STATUS_FAILED", 0), ("TASK_STATUS_SUCCEED", 2)] {
        let (url, receiver) = start_receiver(Vec::new()).await;
        let (router, _) = router_with_handle(&[Provider::named("novita")], fast_webhooks());
        let mut body = create_body(Provider::named("novita"), 5);
        body["extra"]["webhook"] =
            json!({"url": url, "test_mode": {"enabled": true, "return_task_status": chosen}});
        run_job(&router, Provider::named("novita"), body).await;
        let got = wait_for(&receiver, 1).await;
        assert_eq!(got[0]["payload"]["task"]["status"], chosen);
        assert_eq!(
            got[0]["payload"]["images"].as_array().unwrap().len(),
            images
        );
        assert_callback(Provider::named("novita"), &got[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modelslab_posts_success_and_failure_payloads_with_track_id() {
    let (url, receiver) = start_receiver(Vec::new()).await;
    let emulator = Emulator::start(&[Provider::named("modelslab")], fast_webhooks())
        .await
        .unwrap();
    let endpoint = format!(
        "{}{}",
        emulator.base_url(),
        path(Provider::named("modelslab"), "create_img2img", None)
    );
    let mut body = create_body(Provider::named("modelslab"), 5);
    body["webhook"] = json!(url);
    body["track_id"] = json!(42);
    let answer: Value = client()
        .post(&endpoint)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "success");
    body["track_id"] = json!("job-43");
    client()
        .post(&endpoint)
        .header("x-emulator-fault", "fail=out of memory")
        .json(&body)
        .send()
        .await
        .unwrap();
    let got = wait_for(&receiver, 2).await;
    let success = got.iter().find(|b| b["status"] == "success").unwrap();
    assert_eq!(success["track_id"], 42);
    assert_eq!(success["output"], answer["output"]);
    assert_eq!(success["id"], answer["id"]);
    let failure = got.iter().find(|b| b["status"] == "failed").unwrap();
    assert_eq!(
        (failure["track_id"].clone(), failure["message"].clone()),
        (json!("job-43"), json!("out of memory"))
    );
    for payload in &got {
        assert_callback(Provider::named("modelslab"), payload);
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_to_non_loopback_hosts_are_skipped() {
    let (router, handle) = router_with_handle(&[Provider::named("modelslab")], fast_webhooks());
    let mut body = create_body(Provider::named("modelslab"), 5);
    body["webhook"] = json!("https://example.com/modelslab-webhook");
    let done = run_job(&router, Provider::named("modelslab"), body).await;
    assert_eq!(done["status"], "success");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(handle.stats().webhook_attempts, 0);
    let id = job_id(Provider::named("modelslab"), &done);
    let later = fetch(&router, Provider::named("modelslab"), &id)
        .await
        .json();
    assert!(
        later["webhook_status"]
            .as_str()
            .unwrap()
            .starts_with("skipped: "),
        "{later}"
    );
}
