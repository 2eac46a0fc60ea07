//! Each fault works, from the `x-emulator-fault` header and from the run's rules (flags or a
//! scenario file), on a real loopback socket; and the server keeps serving after each.

use std::time::{Duration, Instant};

use crate::support::*;
use img2img_emulator::{Config, Emulator, Fault, FaultRule, KeyFault, Scenario};
use img2img_specs::Provider;
use serde_json::Value;

struct Call {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

async fn post(
    emulator: &Emulator,
    provider: Provider,
    body: &Value,
    fault: Option<&str>,
) -> reqwest::Result<Call> {
    let auth = &spec(provider).extensions().auth;
    let mut builder = client()
        .post(format!(
            "{}{}",
            emulator.base_url(),
            path(provider, &create_op(provider), None)
        ))
        .json(body);
    if auth.placement == img2img_specs::extensions::AuthPlacement::Header {
        builder = builder.header(auth.name.as_str(), format!("{}{KEY}", auth.prefix));
    }
    if let Some(fault) = fault {
        builder = builder.header("x-emulator-fault", fault);
    }
    let response = builder.send().await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.bytes().await?.to_vec();
    Ok(Call {
        status,
        content_type,
        body,
    })
}

async fn still_serving(emulator: &Emulator, provider: Provider) {
    let call = post(emulator, provider, &create_body(provider, 1), None)
        .await
        .unwrap();
    assert_eq!(call.status, 200, "{}", String::from_utf8_lossy(&call.body));
}

#[tokio::test]
async fn status_faults_answer_the_providers_error_body() {
    let emulator = Emulator::start(&Provider::all().collect::<Vec<_>>(), Config::default())
        .await
        .unwrap();
    for provider in Provider::all() {
        for status in [503, 500, 429] {
            let call = post(
                &emulator,
                provider,
                &create_body(provider, 1),
                Some(&format!("status={status}")),
            )
            .await
            .unwrap();
            assert_eq!(call.status, status);
            let body: Value = serde_json::from_slice(&call.body).unwrap();
            assert_documented(provider, &create_op(provider), status, &body);
            assert!(body.to_string().contains("emulated fault"), "{body}");
        }
        still_serving(&emulator, provider).await;
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn latency_fault_delays_the_answer() {
    let emulator = Emulator::start(&[Provider::named("novita")], Config::default())
        .await
        .unwrap();
    let started = Instant::now();
    let call = post(
        &emulator,
        Provider::named("novita"),
        &create_body(Provider::named("novita"), 1),
        Some("latency=300ms"),
    )
    .await
    .unwrap();
    assert_eq!(call.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn fail_fault_fails_the_job_with_the_reason() {
    let router = img2img_emulator::router(&Provider::all().collect::<Vec<_>>(), Config::default());
    for provider in Provider::all() {
        let mut request = request(
            provider,
            &create_op(provider),
            None,
            Some(create_body(provider, 1)),
            Key::Valid,
        );
        request.headers_mut().insert(
            "x-emulator-fault",
            "fail=upstream generation failed".parse().unwrap(),
        );
        let answer = send(&router, request).await;
        assert_eq!(answer.status, 200);
        let created = answer.json();
        assert_documented(provider, &create_op(provider), 200, &created);
        let end = if provider == Provider::named("modelslab") {
            created
        } else {
            poll_to_end(&router, provider, &job_id(provider, &created)).await
        };
        let failed = &spec(provider).extensions().job.failed;
        let status = job_status(provider, &end);
        assert!(
            failed.contains(&status),
            "{provider}: {status} is not a failure"
        );
        assert!(
            end.to_string().contains("upstream generation failed"),
            "{end}"
        );
    }
}

#[tokio::test]
async fn malformed_and_truncated_bodies_are_not_json() {
    let emulator = Emulator::start(&[Provider::named("gptproto")], Config::default())
        .await
        .unwrap();
    let good = post(
        &emulator,
        Provider::named("gptproto"),
        &create_body(Provider::named("gptproto"), 1),
        None,
    )
    .await
    .unwrap();
    assert!(serde_json::from_slice::<Value>(&good.body).is_ok());
    let malformed = post(
        &emulator,
        Provider::named("gptproto"),
        &create_body(Provider::named("gptproto"), 1),
        Some("malformed"),
    )
    .await
    .unwrap();
    assert_eq!(malformed.status, 200);
    assert!(serde_json::from_slice::<Value>(&malformed.body).is_err());
    let truncated = post(
        &emulator,
        Provider::named("gptproto"),
        &create_body(Provider::named("gptproto"), 1),
        Some("truncate"),
    )
    .await
    .unwrap();
    assert!(serde_json::from_slice::<Value>(&truncated.body).is_err());
    let text = String::from_utf8(truncated.body.clone()).unwrap();
    assert!(
        text.starts_with('{'),
        "the first half of a JSON object: {text}"
    );
    let (half, full) = (truncated.body.len(), good.body.len());
    assert!(
        half * 3 > full && half * 3 < full * 2,
        "about half: {half} of {full} bytes"
    );
    still_serving(&emulator, Provider::named("gptproto")).await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn drop_fault_closes_the_connection_without_a_response() {
    let emulator = Emulator::start(&[Provider::named("novita")], Config::default())
        .await
        .unwrap();
    let error = match post(
        &emulator,
        Provider::named("novita"),
        &create_body(Provider::named("novita"), 1),
        Some("drop"),
    )
    .await
    {
        Ok(call) => panic!("an answer came: HTTP {}", call.status),
        Err(error) => error,
    };
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    still_serving(&emulator, Provider::named("novita")).await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn content_type_fault_sets_the_header_and_bad_faults_are_refused() {
    let emulator = Emulator::start(&[Provider::named("modelslab")], Config::default())
        .await
        .unwrap();
    let call = post(
        &emulator,
        Provider::named("modelslab"),
        &create_body(Provider::named("modelslab"), 1),
        Some("content-type=text/html"),
    )
    .await
    .unwrap();
    assert_eq!(call.content_type, "text/html");
    let call = post(
        &emulator,
        Provider::named("modelslab"),
        &create_body(Provider::named("modelslab"), 1),
        Some("explode"),
    )
    .await
    .unwrap();
    assert_eq!(call.status, 400);
    let body: Value = serde_json::from_slice(&call.body).unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("\"explode\" is not a known fault"),
        "{body}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn run_rules_hit_every_nth_request_of_their_operation() {
    let config = Config {
        faults: vec![FaultRule {
            operation: Some("create_img2img".into()),
            every_nth: 2,
            times: None,
            fault: Fault::Status(503),
        }],
        ..Config::default()
    };
    let emulator = Emulator::start(&[Provider::named("novita")], config)
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            post(
                &emulator,
                Provider::named("novita"),
                &create_body(Provider::named("novita"), 1),
                None,
            )
            .await
            .unwrap()
            .status,
        );
    }
    assert_eq!(statuses, vec![200, 503, 200, 503]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_scenario_file_sets_the_run() {
    let scenario = Scenario::parse(
        r#"{"api_keys": ["sk-emulator-test-key"], "faults": [{"fault": "status=429"}], "latency_ms": 1}"#,
    )
    .unwrap();
    let config = scenario.apply(Config::default()).unwrap();
    let emulator = Emulator::start(&[Provider::named("gptproto")], config)
        .await
        .unwrap();
    let call = post(
        &emulator,
        Provider::named("gptproto"),
        &create_body(Provider::named("gptproto"), 1),
        None,
    )
    .await
    .unwrap();
    assert_eq!(call.status, 429);
    let body: Value = serde_json::from_slice(&call.body).unwrap();
    assert_eq!(body["type"], "error");
    assert_documented(
        Provider::named("gptproto"),
        &create_op(Provider::named("gptproto")),
        429,
        &body,
    );
    emulator.shutdown().await;
}

#[test]
fn fault_rules_target_operations_of_one_provider_or_all() {
    let rule = |target: &str| FaultRule {
        operation: Some(target.into()),
        every_nth: 1,
        fault: Fault::Drop,
        times: None,
    };
    assert!(rule("create_img2img").applies_to(Provider::named("novita"), "create_img2img"));
    assert!(rule("create_img2img").applies_to(Provider::named("modelslab"), "create_img2img"));
    assert!(rule("novita:create_img2img").applies_to(Provider::named("novita"), "create_img2img"));
    for (provider, operation) in [
        (Provider::named("modelslab"), "create_img2img"),
        (
            Provider::named("modelslab"),
            "create_img2img_enterprise_images",
        ),
        (Provider::named("modelslab"), "create_img2img_v6"),
        (Provider::named("novita"), "create_img2img"),
    ] {
        assert!(
            rule("x-job.create").applies_to(provider, operation),
            "{operation}"
        );
        assert!(
            !rule("x-job.result").applies_to(provider, operation),
            "{operation}"
        );
    }
    assert!(rule("x-job.result").applies_to(Provider::named("modelslab"), "fetch_v6"));
    assert!(!rule("novita:x-job.result").applies_to(Provider::named("modelslab"), "fetch_v6"));
    assert!(
        !rule("novita:create_img2img").applies_to(Provider::named("modelslab"), "create_img2img")
    );
    assert!(rule("modelslab:*").applies_to(Provider::named("modelslab"), "fetch_v6"));
    assert!(!rule("modelslab:*").applies_to(Provider::named("novita"), "get_task_result"));
    assert!(FaultRule::always(Fault::Drop).applies_to(Provider::named("gptproto"), "x"));
    let parsed: KeyFault = "sk-1=fail=a=b".parse().unwrap();
    assert_eq!(parsed.key.expose_secret(), "sk-1");
    assert_eq!(parsed.fault, Fault::FailTask("a=b".into()));
    assert!("=fail=x".parse::<KeyFault>().is_err());
}
