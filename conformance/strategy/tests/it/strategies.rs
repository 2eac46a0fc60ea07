//! The strategies derived from the specs produce only valid requests, or requests breaking exactly
//! one constraint, checked with the `jsonschema` crate directly (not through the code under test),
//! and failures shrink to minimal requests.

use std::sync::Arc;

use img2img_specs::{CompiledSchema, Provider, Spec};
use img2img_strategy::{Fill, breaks_only, constraints, invalid, sample, valid};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::Value;

fn request_schemas() -> Vec<(String, Arc<CompiledSchema>)> {
    let mut out = Vec::new();
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        for op in spec.operations() {
            if let Some(schema) = spec.request_schema(&op.id) {
                out.push((format!("{provider} {}", op.id), schema.unwrap()));
            }
        }
    }
    out
}

/// Cases per property and operation: `quick`, or proptest's own `PROPTEST_CASES` for a deeper run
/// (`PROPTEST_CASES=1024 cargo test -p img2img-strategy`).
fn cases(quick: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(quick)
}

fn independent(schema: &CompiledSchema) -> jsonschema::Validator {
    jsonschema::draft202012::new(schema.schema()).expect("the converted schema compiles")
}

#[test]
fn valid_strategies_produce_only_valid_requests() {
    for (name, schema) in request_schemas() {
        let check = independent(&schema);
        let mut runner = TestRunner::new(Config {
            cases: cases(64),
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&valid(Arc::clone(&schema)), |value| {
            if let Some(error) = check.iter_errors(&value).next() {
                return Err(TestCaseError::fail(format!(
                    "{error} at {}",
                    error.instance_path()
                )));
            }
            Ok(())
        });
        assert!(result.is_ok(), "{name}: {result:?}");
    }
}

#[test]
fn invalid_strategies_break_exactly_one_constraint() {
    for (name, schema) in request_schemas() {
        let check = independent(&schema);
        let mut runner = TestRunner::new(Config {
            cases: cases(64),
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&invalid(Arc::clone(&schema)), |(value, constraint)| {
            let errors: Vec<String> = check.iter_errors(&value).map(|e| e.to_string()).collect();
            if errors.is_empty() {
                return Err(TestCaseError::fail(format!(
                    "breaking {constraint} left a valid request"
                )));
            }
            Ok(())
        });
        assert!(result.is_ok(), "{name}: {result:?}");
    }
}

#[test]
fn every_constraint_can_be_broken_alone_and_its_boundaries_are_valid() {
    for (name, schema) in request_schemas() {
        let check = independent(&schema);
        let full = sample(schema.schema(), Fill::All);
        assert!(check.is_valid(&full), "{name}: the full sample is invalid");
        assert!(
            check.is_valid(&sample(schema.schema(), Fill::Required)),
            "{name}: the minimal sample is invalid"
        );
        let all = constraints(schema.schema(), &full);
        // A body of the key alone (ModelsLab's `.../fetch/{id}`) has fewer constraints.
        let fewest = if schema.schema()["properties"]
            .as_object()
            .is_some_and(|p| p.len() > 1)
        {
            3
        } else {
            1
        };
        assert!(
            all.len() >= fewest,
            "{name}: only {} constraints found",
            all.len()
        );
        for constraint in &all {
            let broken = constraint.break_in(&full);
            assert!(
                !check.is_valid(&broken),
                "{name}: breaking {constraint} left a valid request"
            );
            assert!(
                breaks_only(&schema, &broken, constraint),
                "{name}: breaking {constraint} broke more: {:?}",
                schema.validate(&broken)
            );
            for value in constraint.boundary_values(&full) {
                let mut edge = full.clone();
                *edge.pointer_mut(&constraint.pointer).unwrap() = value.clone();
                assert!(
                    check.is_valid(&edge),
                    "{name}: boundary {value} of {constraint} is invalid"
                );
            }
        }
    }
}

#[test]
fn failures_shrink_to_a_minimal_request() {
    let spec = Spec::embedded(Provider::named("novita"));
    let schema = spec.request_schema("create_img2img").unwrap().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    let required: Vec<String> = schema.schema()["properties"]["request"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let result = runner.run(&valid(schema), |value| {
        let width = value
            .pointer("/request/width")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if width > 1000 {
            return Err(TestCaseError::fail("too wide"));
        }
        Ok(())
    });
    let Err(TestError::Fail(_, minimal)) = result else {
        panic!("a property failing for width > 1000 did not fail: {result:?}");
    };
    assert_eq!(
        minimal.pointer("/request/width"),
        Some(&serde_json::json!(1001)),
        "{minimal:#}"
    );
    let request = minimal["request"].as_object().unwrap();
    for key in request.keys() {
        assert!(
            required.contains(key),
            "optional field {key} survived shrinking: {minimal:#}"
        );
    }
    assert!(minimal.get("extra").is_none(), "{minimal:#}");
}

#[test]
fn generation_is_deterministic_per_seed() {
    let spec = Spec::embedded(Provider::named("gptproto"));
    let schema = spec
        .request_schema("create_image_to_image")
        .unwrap()
        .unwrap();
    let draw = || {
        let mut runner = TestRunner::deterministic();
        (0..16)
            .map(|_| {
                valid(Arc::clone(&schema))
                    .new_tree(&mut runner)
                    .unwrap()
                    .current()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(), draw());
}

#[test]
fn uri_strings_are_urls_a_server_can_call_back_at_once() {
    let schema = serde_json::json!({
        "type": "object",
        "required": ["hook"],
        "properties": {"hook": {"type": "string", "format": "uri", "minLength": 1, "maxLength": 40}}
    });
    let compiled = Arc::new(CompiledSchema::compile(schema.clone(), "#").unwrap());
    let is_loopback_url = |value: &Value| {
        let text = value["hook"].as_str().unwrap();
        text.starts_with(img2img_strategy::URI_BASE) && text.len() <= 40
    };
    assert!(is_loopback_url(&sample(&schema, Fill::All)));
    let mut runner = TestRunner::deterministic();
    let strategy = valid(compiled);
    for _ in 0..64 {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        assert!(is_loopback_url(&value), "{value}");
    }
}
