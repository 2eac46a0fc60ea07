//! A create call is paid: never re-sent once it may have been received (a timeout after sending),
//! retried when the connection failed before anything was sent.

use std::time::Duration;

use crate::support::{Sequence, capture_logs, config, json, request_for};
use img2img_client::{Client, Error, Provider, TransportStage};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Real time here: the request timeout must fire while the server holds the request.
#[tokio::test]
async fn a_create_is_not_sent_again_after_a_timeout_once_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/async/img2img"))
        .respond_with(json(200, json!({"task_id": "late"})).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let config =
        config(Provider::named("novita"), &server.uri()).timeout(Some(Duration::from_millis(300)));
    let client = Client::new(config).unwrap();
    let err = client
        .submit(&request_for(Provider::named("novita")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                stage: TransportStage::AfterSend,
                ..
            }
        ),
        "{err:?}"
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received.len(),
        1,
        "the paid create was sent {} times",
        received.len()
    );
}

/// A poll, by contrast, is retried after the same timeout.
#[tokio::test]
async fn a_poll_is_retried_after_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/async/task-result"))
        .respond_with(Sequence::new(vec![
            json(
                200,
                json!({"task": {"task_id": "t", "status": "TASK_STATUS_SUCCEED"}}),
            )
            .set_delay(Duration::from_secs(3)),
            json(
                200,
                json!({"task": {"task_id": "t", "status": "TASK_STATUS_SUCCEED"}}),
            ),
        ]))
        .mount(&server)
        .await;
    let mut config =
        config(Provider::named("novita"), &server.uri()).timeout(Some(Duration::from_millis(300)));
    config.retry.base = Duration::from_millis(10);
    let client = Client::new(config).unwrap();
    let handle = img2img_client::JobHandle {
        provider: Provider::named("novita"),
        id: "t".into(),
        base_url: server.uri(),
        fetch_url: None,
        ready_outputs: vec![],
        created_at: chrono::Utc::now(),
        first_poll_at: None,
    };
    client.wait(&handle).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

/// Nothing listens on the port: every attempt fails before sending, so the create is retried up
/// to the attempt limit; the attempts are counted from the `request` spans.
#[tokio::test(start_paused = true)]
async fn a_create_that_could_not_connect_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let (logs, _guard) = capture_logs();
    let client = Client::new(config(
        Provider::named("gptproto"),
        &format!("http://127.0.0.1:{port}"),
    ))
    .unwrap();
    let err = client
        .submit(&request_for(Provider::named("gptproto")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                stage: TransportStage::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    let text = logs.text();
    let attempts = text
        .lines()
        .filter(|l| l.contains("request failed") && l.contains("create_image_to_image"))
        .count();
    assert_eq!(attempts, 4, "{text}");
}

/// A 429 on the create is retried (the server did not take the job), a 500 is not.
#[tokio::test(start_paused = true)]
async fn only_a_rate_limit_answer_lets_a_create_be_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/api/v3/novel/nai-diffusion-4-5-curated/image-to-image",
        ))
        .respond_with(Sequence::new(vec![
            json(
                429,
                json!({"code": 429, "message": "Rate limit exceeded", "type": "error"}),
            ),
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "boom", "code": 500}})),
            json(200, json!({"data": {"id": "never", "status": "queued"}})),
        ]))
        .mount(&server)
        .await;
    let client = Client::new(config(Provider::named("gptproto"), &server.uri())).unwrap();
    let err = client
        .submit(&request_for(Provider::named("gptproto")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 500, .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}
