//! The key never shows: not in `Debug`, not in errors, not in the captured logs of a whole job
//! (successes, retries and failures, at TRACE level), not in a handle.

use crate::support::{KEY, Sequence, capture_logs, client, config, json, request_for};
use img2img_client::{Client, ClientConfig, Provider};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

#[test]
fn debug_of_keys_configs_and_clients_is_redacted() {
    let config = config(Provider::named("novita"), "http://127.0.0.1:9");
    let client = Client::new(config.clone()).unwrap();
    for shown in [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{:?}", config.key),
    ] {
        assert!(!shown.contains(KEY), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
}

#[test]
fn a_missing_key_names_the_variable_not_a_value() {
    let err = Client::new(ClientConfig::new(Provider::named("modelslab")).key(""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty"), "{err}");
    let mut config = ClientConfig::new(Provider::named("novita"));
    config.key = None;
    if std::env::var_os("NOVITA_API_KEY").is_none() {
        let err = Client::new(config).unwrap_err().to_string();
        assert!(err.contains("NOVITA_API_KEY"), "{err}");
    }
}

#[tokio::test]
async fn the_key_is_in_no_log_line_error_or_handle() {
    let (logs, _guard) = capture_logs();
    let server = MockServer::start().await;
    // ModelsLab carries the key in the body; the server echoes it back in an error, then in a
    // failure reason.
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/img2img"))
        .respond_with(Sequence::new(vec![
            json(
                429,
                json!({"status": "error", "message": format!("too many for {KEY}"), "retry_after": 0}),
            ),
            json(
                200,
                json!({"status": "processing", "id": 3, "eta": 1,
                       "fetch_result": format!("{}/api/v1/enterprise/fetch", server.uri())}),
            ),
        ]))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/enterprise/fetch"))
        .respond_with(Sequence::new(vec![
            json(
                503,
                json!({"status": "error", "message": format!("down, key {KEY}")}),
            ),
            json(
                200,
                json!({"status": "failed", "id": 3, "message": format!("failed for key {KEY}")}),
            ),
        ]))
        .mount(&server)
        .await;
    let mut config = config(Provider::named("modelslab"), &server.uri());
    config.retry.base = std::time::Duration::from_millis(1);
    config.poll.initial = std::time::Duration::from_millis(1);
    let client = Client::new(config).unwrap();
    let handle = client
        .submit(&request_for(Provider::named("modelslab")))
        .await
        .unwrap();
    assert!(!handle.to_json().contains(KEY));
    let err = client.wait(&handle).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("failed for key [redacted]"), "{shown}");
    assert!(!shown.contains(KEY), "{shown}");

    let text = logs.text();
    assert!(
        text.contains("create_img2img"),
        "no request span logged: {text}"
    );
    assert!(text.contains("status=429"), "{text}");
    assert!(text.contains("latency_ms"), "{text}");
    assert!(!text.contains(KEY), "the key is in the logs:\n{text}");
    // The requests did carry it, in the body, where ModelsLab wants it.
    let received = server.received_requests().await.unwrap();
    assert!(
        received
            .iter()
            .all(|r| String::from_utf8_lossy(&r.body).contains(KEY))
    );
}

#[tokio::test]
async fn header_keys_stay_out_of_logs_too() {
    let (logs, _guard) = capture_logs();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            401,
            json!({"code": 401, "reason": "FAILED_TO_AUTH", "message": "failed to authenticate the request", "metadata": {}}),
        ))
        .mount(&server)
        .await;
    let err = client(Provider::named("novita"), &server.uri())
        .submit(&request_for(Provider::named("novita")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "unauthorized");
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {KEY}")
    );
    let text = logs.text();
    assert!(
        text.contains("status=401") || text.contains("unauthorized"),
        "{text}"
    );
    assert!(!text.contains(KEY), "{text}");
}

#[tokio::test]
async fn the_log_says_the_status_received_not_one_read_from_the_reason() {
    let (logs, _guard) = capture_logs();
    let server = MockServer::start().await;
    // Novita answers a wrong key with 403 and a reason that reads as unauthorized.
    Mock::given(method("POST"))
        .respond_with(json(
            403,
            json!({"code": 403, "reason": "INVALID_API_KEY", "message": "invalid API key", "metadata": {}}),
        ))
        .mount(&server)
        .await;
    let err = client(Provider::named("novita"), &server.uri())
        .submit(&request_for(Provider::named("novita")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "unauthorized");
    let text = logs.text();
    assert!(text.contains("status=403"), "{text}");
    assert!(!text.contains("status=401"), "{text}");
}
