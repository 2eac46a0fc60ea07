//! Every operation of every generated client, called by its id from JSON through the registry
//! (`img2img-registry`, the `Operations` impls `cargo xtask codegen` writes): against the emulators
//! in process, each parameter and the body reach the operation named and the answer reads back
//! through the generated types; against a bare loopback socket, what was not sent, an undocumented
//! answer and a refused connection each come back as their own outcome.

use img2img_emulator::{Config, Emulator, Exchange};
use img2img_harness::payload::Payload;
use img2img_registry::{CallInput, NotSent, Operations, Outcome, Part, RoundTripError};
use img2img_specs::guard::{Credentials, GuardErrorKind};
use img2img_specs::{ApiKey, Provider, Spec};
use img2img_strategy::{Fill, sample};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY: &str = "clients-test-key";
/// What every parameter is set to: easy to find in the request line.
const PARAM: &str = "job-7f3a";

fn connect(provider: Provider, base_url: &str, credentials: Credentials) -> Box<dyn Operations> {
    img2img_registry::connect(provider, base_url, reqwest::Client::new(), credentials)
        .expect("every spec has a generated client")
}

/// A valid body of `operation`, made worth sending, if it takes one.
fn body_of(spec: &Spec, operation: &str) -> Option<Value> {
    let schema = spec.request_schema(operation)?.unwrap();
    let mut body = sample(schema.schema(), Fill::Required);
    Payload::default().prepare(spec, &mut body);
    Some(body)
}

fn last_exchange(emulator: &Emulator) -> Exchange {
    emulator
        .journal()
        .expect("journal on")
        .exchanges()
        .pop()
        .expect("a request reached the emulator")
}

#[tokio::test]
async fn every_operation_of_every_generated_client_is_called_by_its_id() {
    let config = Config {
        api_keys: vec![ApiKey::new(KEY)],
        journal: true,
        ..Config::default()
    };
    let emulator = Emulator::start(&Provider::all().collect::<Vec<_>>(), config)
        .await
        .unwrap();
    let mut called = 0;
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        let client = connect(provider, &emulator.base_url(), Credentials::new(KEY));
        assert_eq!(client.provider(), provider);
        for operation in spec.operations() {
            let mut input = CallInput {
                body: body_of(spec, &operation.id),
                ..CallInput::default()
            };
            for parameter in &operation.parameters {
                input = input.param(&parameter.name, PARAM);
            }
            let outcome = client.call(&operation.id, input).unwrap().await;
            let place = format!("{provider} {}", operation.id);
            assert!(
                matches!(outcome, Outcome::Success { .. } | Outcome::ErrorBody { .. }),
                "{place}: {outcome:?}"
            );
            let exchange = last_exchange(&emulator);
            assert_eq!(
                exchange.operation.as_deref(),
                Some(operation.id.as_str()),
                "{place}"
            );
            assert_eq!(exchange.method, operation.method.as_str(), "{place}");
            if !operation.parameters.is_empty() {
                let line = format!("{}?{}", exchange.path, exchange.query.unwrap_or_default());
                assert!(line.contains(PARAM), "{place}: {line}");
            }
            if operation.request_body.is_some() {
                let sent: Value = serde_json::from_slice(&exchange.body).unwrap();
                assert!(sent.is_object(), "{place}: {sent}");
            }
            called += 1;
        }
        assert_eq!(client.operation_ids().len(), spec.operations().len());
    }
    assert!(called >= Provider::all().len() * 2, "only {called} calls");
}

/// A provider's result operation (`x-job.result`), which takes a parameter or a body.
fn result_operation(provider: Provider) -> String {
    Spec::embedded(provider).extensions().job.result.clone()
}

#[tokio::test]
async fn input_that_does_not_fit_is_refused_before_sending_naming_what() {
    // Nothing listens on the discard port: anything sent would be a transport error instead.
    let base = "http://127.0.0.1:9";
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        let create = spec.extensions().job.create.clone();
        let client = connect(provider, base, Credentials::new(KEY));

        let unknown = client.call("no_such_operation", CallInput::default());
        let Err(error) = unknown else {
            panic!("{provider}: an unknown operation was called");
        };
        assert!(error.to_string().contains(&create), "{error}");

        let stray = CallInput::default().param("no_such_parameter", 1);
        let outcome = client.call(&create, stray).unwrap().await;
        assert!(
            matches!(&outcome, Outcome::NotSent(NotSent::UnknownParam { name, .. }) if name == "no_such_parameter"),
            "{provider}: {outcome:?}"
        );

        let not_an_object = CallInput::with_body(json!([1, 2]));
        let outcome = client.call(&create, not_an_object).unwrap().await;
        assert!(
            matches!(&outcome, Outcome::NotSent(NotSent::Body { .. })),
            "{provider}: {outcome:?}"
        );

        let mut body = body_of(spec, &create).unwrap();
        let outcome = client
            .call(&create, CallInput::with_body(body.clone()))
            .unwrap()
            .await;
        assert!(
            matches!(&outcome, Outcome::Transport(e) if e.is_connect()),
            "{provider}: a valid body is sent: {outcome:?}"
        );

        // No key: the guard refuses, typed.
        let keyless = connect(provider, base, Credentials::none());
        let outcome = keyless
            .call(&create, CallInput::with_body(body.clone()))
            .unwrap()
            .await;
        assert!(
            matches!(
                &outcome,
                Outcome::NotSent(NotSent::Refused {
                    kind: GuardErrorKind::MissingKey,
                    ..
                })
            ),
            "{provider}: {outcome:?}"
        );

        // Nothing the body needs: progenitor's builder or the guard refuses it, never sent.
        body.as_object_mut().unwrap().clear();
        let outcome = client
            .call(&create, CallInput::with_body(body))
            .unwrap()
            .await;
        assert!(outcome.refused_before_sending(), "{provider}: {outcome:?}");

        let result = result_operation(provider);
        let operation = spec.operation(&result).unwrap();
        if operation.request_body.is_none() {
            let outcome = client
                .call(&result, CallInput::with_body(json!({})))
                .unwrap()
                .await;
            assert!(
                matches!(&outcome, Outcome::NotSent(NotSent::NoBody { .. })),
                "{provider}: {outcome:?}"
            );
            assert!(matches!(
                client.round_trip(&result, Part::Request, json!({})),
                Err(RoundTripError::NoSuchPart { .. })
            ));
        }
        if operation.parameters.iter().any(|p| p.required) {
            let outcome = client
                .call(
                    &result,
                    CallInput {
                        body: body_of(spec, &result),
                        ..CallInput::default()
                    },
                )
                .unwrap()
                .await;
            assert!(
                matches!(
                    &outcome,
                    Outcome::NotSent(NotSent::Builder(_) | NotSent::Refused { .. })
                ),
                "{provider}: a missing parameter: {outcome:?}"
            );
        }
    }
}

/// A loopback server that answers every request with `response`, then closes.
async fn answering(response: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    url
}

#[tokio::test]
async fn an_undocumented_answer_keeps_its_status_headers_and_bytes() {
    let url = answering(
        "HTTP/1.1 418 I'm a teapot\r\nretry-after: 3\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nconnection: close\r\n\r\nteapot",
    )
    .await;
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        let create = spec.extensions().job.create.clone();
        let client = connect(provider, &url, Credentials::new(KEY));
        let outcome = client
            .call(
                &create,
                CallInput::with_body(body_of(spec, &create).unwrap()),
            )
            .unwrap()
            .await;
        let Outcome::Undocumented {
            status,
            headers,
            body,
        } = outcome
        else {
            panic!("{provider}: {outcome:?}");
        };
        assert_eq!(status, 418);
        assert_eq!(headers.get("retry-after").unwrap(), "3");
        assert_eq!(&body[..], b"teapot");
    }
}

#[tokio::test]
async fn a_documented_status_with_a_body_that_does_not_fit_is_an_invalid_payload() {
    let url = answering(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 8\r\nconnection: close\r\n\r\nnot json",
    )
    .await;
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        let create = spec.extensions().job.create.clone();
        let client = connect(provider, &url, Credentials::new(KEY));
        let outcome = client
            .call(
                &create,
                CallInput::with_body(body_of(spec, &create).unwrap()),
            )
            .unwrap()
            .await;
        assert!(
            matches!(&outcome, Outcome::InvalidPayload { body, .. } if &body[..] == b"not json"),
            "{provider}: {outcome:?}"
        );
    }
}
