//! Property tests over every ranged field of every request of every spec: values on the boundary
//! are accepted by the generated client; one step outside is refused before any byte is sent, with
//! an error naming the field. Ranges come from the spec (`img2img_strategy`), never from a list
//! kept here.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use img2img_harness::clients::{CallInput, Outcome, call};
use img2img_specs::guard::Credentials;
use img2img_specs::{CompiledSchema, Provider, Spec};
use img2img_strategy::{Constraint, Fill, constraints, ground, sample, valid};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

/// A loopback listener that counts connections and closes them at once.
struct CountingListener {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl CountingListener {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        CountingListener { url, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

struct Case {
    provider: Provider,
    operation: String,
    schema: Arc<CompiledSchema>,
    ranged: Vec<Constraint>,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        for operation in spec.operations() {
            let Some(schema) = spec.request_schema(&operation.id) else {
                continue;
            };
            let schema = schema.unwrap();
            let full = sample(schema.schema(), Fill::All);
            let ranged: Vec<Constraint> = constraints(schema.schema(), &full)
                .into_iter()
                .filter(Constraint::is_range)
                .collect();
            cases.push(Case {
                provider,
                operation: operation.id.clone(),
                schema,
                ranged,
            });
        }
    }
    cases
}

fn put(instance: &Value, pointer: &str, value: Value) -> Value {
    let mut out = instance.clone();
    *out.pointer_mut(pointer)
        .expect("the constraint's place exists") = value;
    out
}

async fn send(case: &Case, url: &str, body: Value) -> Outcome {
    let input = CallInput {
        body: Some(body),
        ..CallInput::default()
    };
    call(
        case.provider,
        &case.operation,
        url,
        Credentials::new("test-key"),
        input,
    )
    .await
}

#[test]
fn every_create_request_has_ranged_fields_to_test() {
    for case in cases() {
        let job = &Spec::embedded(case.provider).extensions().job;
        if case.operation != job.create {
            continue;
        }
        assert!(
            !case.ranged.is_empty(),
            "{} {} has no ranged field: is its schema empty?",
            case.provider,
            case.operation
        );
    }
}

#[test]
fn boundaries_are_accepted_and_one_step_outside_is_refused_before_sending() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = CountingListener::start().await;
        let mut report = Vec::new();
        let mut checked = 0;
        for case in cases() {
            let full = sample(case.schema.schema(), Fill::All);
            for constraint in &case.ranged {
                checked += 1;
                let place = format!("{} {} {constraint}", case.provider, case.operation);
                for value in constraint.boundary_values(&full) {
                    let body = put(&full, &constraint.pointer, value.clone());
                    let outcome = send(&case, &listener.url, body).await;
                    if outcome.refused_before_sending() {
                        report.push(format!(
                            "{place}: boundary value {} refused: {outcome:?}",
                            short(&value)
                        ));
                    }
                }
                let before = listener.connections();
                let broken = constraint.break_in(&full);
                let outcome = send(&case, &listener.url, broken).await;
                let field = constraint.subject();
                match outcome.refusal() {
                    None => report.push(format!(
                        "{place}: one step outside was not refused: {outcome:?}"
                    )),
                    Some(message) if !names_field(&message, &field) => report.push(format!(
                        "{place}: the refusal does not name {field}: {message}"
                    )),
                    Some(_) => {}
                }
                if listener.connections() != before {
                    report.push(format!(
                        "{place}: a refused request still opened a connection"
                    ));
                }
            }
        }
        assert!(checked > 30, "only {checked} ranged fields found");
        assert!(
            report.is_empty(),
            "{} problems:\n{}",
            report.len(),
            report.join("\n")
        );
    });
}

/// serde names `request.width` `request.width` too, but arrays as `loras[0]`: both read the same.
fn names_field(message: &str, field: &str) -> bool {
    message.contains(field)
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 40 {
        format!("{}… ({} chars)", &text[..40], text.len())
    } else {
        text
    }
}

#[test]
fn ranges_hold_over_random_valid_requests_for_every_operation() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime.block_on(CountingListener::start());
    for case in cases().into_iter().filter(|c| !c.ranged.is_empty()) {
        let config = Config {
            cases: 48,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let strategy = (valid(Arc::clone(&case.schema)), select(case.ranged.clone()));
        let full = sample(case.schema.schema(), Fill::All);
        let result = runner.run(&strategy, |(base, constraint)| {
            let base = ground(base, &full, &constraint.pointer);
            for value in constraint.boundary_values(&base) {
                let body = put(&base, &constraint.pointer, value);
                prop_assert!(
                    case.schema.is_valid(&body),
                    "boundary body breaks the spec: {body}"
                );
                let outcome = runtime.block_on(send(&case, &listener.url, body));
                prop_assert!(
                    !outcome.refused_before_sending(),
                    "{constraint}: boundary refused: {outcome:?}"
                );
            }
            let before = listener.connections();
            let outcome = runtime.block_on(send(&case, &listener.url, constraint.break_in(&base)));
            let message = outcome.refusal();
            prop_assert!(
                message.is_some(),
                "{constraint}: one step outside was sent: {outcome:?}"
            );
            let field = constraint.subject();
            prop_assert!(
                names_field(message.as_deref().unwrap_or(""), &field),
                "{constraint}: {message:?} does not name {field}"
            );
            prop_assert_eq!(
                listener.connections(),
                before,
                "a refused request opened a connection"
            );
            Ok(())
        });
        if let Err(failure) = result {
            panic!("{} {}: {failure}", case.provider, case.operation);
        }
    }
}
