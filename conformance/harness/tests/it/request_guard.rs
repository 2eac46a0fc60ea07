//! What the generated clients put on the wire: the key where each provider's `x-auth` says (raw
//! header, `Bearer` header, or JSON body field), no `api-version` header, and no request at all
//! without a key.

use img2img_harness::clients::{CallInput, Outcome, call};
use img2img_specs::guard::Credentials;
use img2img_specs::{Provider, Spec};
use img2img_strategy::{Fill, sample};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY: &str = "sk-test-0123456789";

/// Accepts one request, records its head and body, answers `200 {}`.
async fn record_one(listener: tokio::net::TcpListener) -> (String, Value) {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 65536];
    let (head, body) = loop {
        let n = socket.read(&mut chunk).await.unwrap();
        buffer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buffer).to_string();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if rest.len() >= length {
                break (head.to_owned(), rest[..length].to_owned());
            }
        }
        assert!(n > 0, "connection closed before the request was complete");
    };
    socket
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
        .await
        .unwrap();
    (head, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn capture(provider: Provider) -> (String, Value) {
    let spec = Spec::embedded(provider);
    let create = &spec.extensions().job.create;
    let schema = spec.request_schema(create).unwrap().unwrap();
    let body = sample(schema.schema(), Fill::Required);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(record_one(listener));
    let input = CallInput {
        body: Some(body),
        ..CallInput::default()
    };
    let _ = call(provider, create, &url, Credentials::new(KEY), input).await;
    server.await.unwrap()
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn gptproto_sends_the_raw_key_in_authorization() {
    let (head, body) = capture(Provider::named("gptproto")).await;
    assert!(
        head.starts_with("POST /api/v3/novel/nai-diffusion-4-5-curated/image-to-image "),
        "{head}"
    );
    assert_eq!(header(&head, "authorization"), Some(KEY));
    assert_eq!(header(&head, "api-version"), None, "{head}");
    assert!(body.get("key").is_none());
}

#[tokio::test]
async fn novita_sends_a_bearer_key() {
    let (head, _) = capture(Provider::named("novita")).await;
    assert!(head.starts_with("POST /v3/async/img2img "), "{head}");
    assert_eq!(
        header(&head, "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(header(&head, "api-version"), None, "{head}");
}

#[tokio::test]
async fn modelslab_sends_the_key_in_the_body_and_no_header() {
    let (head, body) = capture(Provider::named("modelslab")).await;
    assert!(
        head.starts_with("POST /api/v1/enterprise/img2img "),
        "{head}"
    );
    assert_eq!(header(&head, "authorization"), None, "{head}");
    assert_eq!(header(&head, "api-version"), None, "{head}");
    assert_eq!(body["key"], KEY);
}

#[tokio::test]
async fn no_key_means_no_request() {
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        let create = &spec.extensions().job.create;
        let schema = spec.request_schema(create).unwrap().unwrap();
        let input = CallInput {
            body: Some(sample(schema.schema(), Fill::Required)),
            ..CallInput::default()
        };
        // Port 9 (discard) on loopback: nothing should be tried at all.
        let outcome = call(
            provider,
            create,
            "http://127.0.0.1:9",
            Credentials::none(),
            input,
        )
        .await;
        let Outcome::Refused(message) = outcome else {
            panic!("{provider}: expected a refusal, got {outcome:?}");
        };
        assert!(
            message.contains(&spec.extensions().provider.key_env),
            "{message}"
        );
    }
}

#[tokio::test]
async fn refusals_never_show_the_key() {
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        let create = &spec.extensions().job.create;
        let input = CallInput {
            body: Some(serde_json::json!({"prompt": 5})),
            ..CallInput::default()
        };
        let outcome = call(
            provider,
            create,
            "http://127.0.0.1:9",
            Credentials::new(KEY),
            input,
        )
        .await;
        let shown = format!("{outcome:?} {}", outcome.refusal().unwrap_or_default());
        assert!(outcome.refused_before_sending(), "{provider}: {shown}");
        assert!(!shown.contains(KEY), "{provider}: the key leaked: {shown}");
    }
}
