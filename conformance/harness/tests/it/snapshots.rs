//! Snapshots (insta) of the canonical request body of each operation and of each response shape the
//! emulators send, with keys, ids, timestamps, timings and URLs redacted: a change of shape shows up
//! as a reviewable diff (`cargo insta review`).

use std::collections::BTreeMap;
use std::time::Duration;

use img2img_emulator::{Config, Emulator};
use img2img_harness::Polling;
use img2img_harness::budget::Budget;
use img2img_harness::checks::{Context, run_job};
use img2img_harness::http::{Caller, KeyMode};
use img2img_harness::payload::Payload;
use img2img_report::results::Target;
use img2img_specs::{ApiKey, Provider, Spec};
use img2img_strategy::{ConstraintKind, Fill, constraints, sample};
use serde_json::{Map, Value};

const KEY: &str = "sk-snapshot-key-5d1e";

/// Keys whose values change from run to run (or carry secrets): replaced by a placeholder.
const VOLATILE: &[(&str, &str)] = &[
    ("id", "[id]"),
    ("task_id", "[id]"),
    ("request_id", "[id]"),
    ("created_at", "[timestamp]"),
    ("submit_time_ms", "[timestamp]"),
    ("execute_time_ms", "[timestamp]"),
    ("complete_time_ms", "[timestamp]"),
    ("executionTime", "[duration]"),
    ("inference", "[duration]"),
    ("generationTime", "[duration]"),
    ("eta", "[duration]"),
    ("start_time", "[timestamp]"),
    ("end_time", "[timestamp]"),
    ("duration", "[duration]"),
    ("key", "[key]"),
    ("seed", "[seed]"),
];

fn normalize(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let replaced = VOLATILE
                        .iter()
                        .find(|(name, _)| name == k)
                        .filter(|_| !v.is_object() && !v.is_array() && !v.is_null())
                        .map(|(_, placeholder)| Value::String((*placeholder).into()));
                    (k.clone(), replaced.unwrap_or_else(|| normalize(v)))
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => {
            Value::String("[url]".into())
        }
        Value::String(s) if s.len() > 200 => Value::String(format!("[{} characters]", s.len())),
        Value::String(s) if s.contains(KEY) => Value::String(s.replace(KEY, "[key]")),
        other => other.clone(),
    }
}

fn snapshot(name: &str, value: &Value) {
    let normalized = normalize(value);
    assert!(
        !normalized.to_string().contains(KEY),
        "{name}: the key reached a snapshot"
    );
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_json_snapshot!(name, normalized);
    });
}

#[test]
fn canonical_request_bodies() {
    for provider in Provider::all() {
        let spec = Spec::embedded(provider);
        for op in spec.operations() {
            let Some(schema) = spec.request_schema(&op.id) else {
                continue;
            };
            let schema = schema.unwrap();
            snapshot(
                &format!("{provider}__{}__request_required", op.id),
                &sample(schema.schema(), Fill::Required),
            );
            snapshot(
                &format!("{provider}__{}__request_full", op.id),
                &sample(schema.schema(), Fill::All),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_shapes_of_the_emulators() {
    for provider in Provider::all() {
        let emulator = Emulator::start(
            &[provider],
            Config {
                api_keys: vec![ApiKey::new(KEY)],
                ..Config::default()
            },
        )
        .await
        .unwrap();
        let caller = Caller::new(
            provider,
            &emulator.base_url(),
            Some(ApiKey::new(KEY)),
            Budget::unlimited(),
        );
        let context = Context {
            caller: caller.clone(),
            payload: Payload::default(),
            cases: 1,
            seed: 1,
            max_shrink_iters: 0,
            polling: Polling {
                deadline: Duration::from_secs(30),
                initial: Duration::from_millis(2),
                max: Duration::from_millis(50),
            },
            target: Target::Emulator,
            deadline: None,
            job_ttl: None,
        };
        let spec = Spec::embedded(provider);
        let create = &spec.extensions().job.create;
        let schema = spec.request_schema(create).unwrap().unwrap();
        let mut body = sample(schema.schema(), Fill::Required);
        context.payload.prepare(spec, &mut body);

        let run = run_job(&context, &body)
            .await
            .expect("a job of the minimal request runs");
        let journal = caller.journal();
        snapshot(
            &format!("{provider}__{create}__response_accepted"),
            journal[0].json.as_ref().unwrap(),
        );
        snapshot(
            &format!(
                "{provider}__{}__response_finished",
                spec.extensions().job.result
            ),
            &run.result,
        );

        let missing = caller
            .call(create, Some(&body), &BTreeMap::new(), KeyMode::Missing)
            .await
            .unwrap();
        snapshot(
            &format!(
                "{provider}__{create}__response_{}_no_key",
                missing.status.unwrap()
            ),
            missing.json.as_ref().unwrap(),
        );

        let mut full = sample(schema.schema(), Fill::All);
        context.payload.prepare(spec, &mut full);
        let too_big = constraints(schema.schema(), &full)
            .into_iter()
            .find(|c| {
                matches!(
                    c.kind,
                    ConstraintKind::Maximum {
                        integer: true,
                        as_string: false,
                        ..
                    }
                )
            })
            .expect("every create request has an integer maximum");
        let invalid = too_big.break_in(&full);
        let refused = caller
            .call(create, Some(&invalid), &BTreeMap::new(), KeyMode::Valid)
            .await
            .unwrap();
        snapshot(
            &format!(
                "{provider}__{create}__response_{}_invalid",
                refused.status.unwrap()
            ),
            refused.json.as_ref().unwrap(),
        );
        emulator.shutdown().await;
    }
}
