//! The journal (`Config::journal`) and the faults graders of clients lean on: `drop-after` (the
//! create is served and its job made, the answer lost), `retry-after=N`, and rules limited to
//! `times` matching requests.

use crate::support::*;
use std::time::Duration;

use axum::body::Bytes;
use img2img_emulator::{Config, Emulator, Exchange, Fault, FaultRule, Outcome};
use img2img_specs::Provider;
use serde_json::Value;

fn journaled(faults: Vec<FaultRule>) -> Config {
    Config {
        journal: true,
        faults,
        ..Config::default()
    }
}

async fn create(emulator: &Emulator, provider: Provider) -> reqwest::Result<reqwest::Response> {
    let auth = &spec(provider).extensions().auth;
    let mut builder = client()
        .post(format!(
            "{}{}",
            emulator.base_url(),
            path(provider, &create_op(provider), None)
        ))
        .json(&create_body(provider, 7));
    if auth.placement == img2img_specs::extensions::AuthPlacement::Header {
        builder = builder.header(auth.name.as_str(), format!("{}{KEY}", auth.prefix));
    }
    builder.send().await
}

#[tokio::test]
async fn the_journal_keeps_every_exchange_in_order_with_its_answer() {
    let emulator = Emulator::start(&[Provider::named("novita")], journaled(Vec::new()))
        .await
        .unwrap();
    let response = create(&emulator, Provider::named("novita")).await.unwrap();
    assert_eq!(response.status(), 200);
    let missing = client()
        .get(format!("{}/no/such/path", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let journal = emulator.journal().expect("journal is on");
    emulator.shutdown().await;
    let exchanges = journal.exchanges();
    assert_eq!(exchanges.len(), 2, "{exchanges:#?}");
    let first = &exchanges[0];
    assert_eq!(first.method, "POST");
    assert_eq!(
        first.path,
        path(
            Provider::named("novita"),
            &create_op(Provider::named("novita")),
            None
        )
    );
    let sent: Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(sent, create_body(Provider::named("novita"), 7));
    assert!(first.header("authorization").is_some());
    let answer = first.answer().expect("answered");
    assert_eq!(answer.status, 200);
    assert!(answer.json().unwrap().get("task_id").is_some());
    assert!(first.finished >= first.received);
    assert!(exchanges[1].received >= first.received);
    assert_eq!(exchanges[1].answer().unwrap().status, 404);
}

#[tokio::test]
async fn no_journal_unless_asked() {
    let emulator = Emulator::start(&[Provider::named("novita")], Config::default())
        .await
        .unwrap();
    assert!(emulator.journal().is_none());
    emulator.shutdown().await;
}

#[tokio::test]
async fn drop_after_serves_the_create_then_loses_the_answer_once() {
    for provider in Provider::all() {
        let rule = FaultRule {
            operation: Some(create_op(provider)),
            every_nth: 1,
            times: Some(1),
            fault: Fault::DropAfter,
        };
        let emulator = Emulator::start(&[provider], journaled(vec![rule]))
            .await
            .unwrap();
        let lost = create(&emulator, provider).await;
        assert!(lost.is_err(), "{provider}: the first answer must be lost");
        let second = create(&emulator, provider).await.unwrap();
        assert_eq!(second.status(), 200, "{provider}: the rule applies once");
        let stats = emulator.stats();
        let journal = emulator.journal().unwrap();
        emulator.shutdown().await;
        assert_eq!(
            stats.jobs_live, 2,
            "{provider}: the dropped create made its job"
        );
        let exchanges = journal.exchanges();
        match &exchanges[0].outcome {
            Outcome::Dropped {
                unsent: Some(answer),
            } => {
                assert_eq!(answer.status, 200, "{provider}");
                let body = answer.json().unwrap();
                let job = &spec(provider).extensions().job;
                assert!(
                    body.pointer(&job.id_pointer).is_some(),
                    "{provider}: the withheld answer names the job: {body}"
                );
            }
            other => panic!("{provider}: {other:?}"),
        }
        assert!(exchanges[1].answer().is_some());
    }
}

#[tokio::test]
async fn retry_after_goes_in_the_header_and_in_a_rate_limit_body() {
    for provider in Provider::all() {
        let rules = vec![
            FaultRule {
                operation: Some(create_op(provider)),
                every_nth: 1,
                times: Some(2),
                fault: Fault::Status(429),
            },
            FaultRule {
                operation: Some(create_op(provider)),
                every_nth: 1,
                times: Some(1),
                fault: Fault::RetryAfter(3),
            },
        ];
        let emulator = Emulator::start(&[provider], journaled(rules))
            .await
            .unwrap();
        let first = create(&emulator, provider).await.unwrap();
        assert_eq!(first.status(), 429, "{provider}");
        assert_eq!(first.headers()["retry-after"], "3", "{provider}");
        let body: Value = first.json().await.unwrap();
        assert_documented(provider, &create_op(provider), 429, &body);
        if provider == Provider::named("modelslab") {
            assert_eq!(body["retry_after"], 3, "{body}");
        }
        let second = create(&emulator, provider).await.unwrap();
        assert_eq!(second.status(), 429, "{provider}");
        assert!(second.headers().get("retry-after").is_none(), "{provider}");
        let third = create(&emulator, provider).await.unwrap();
        assert_eq!(third.status(), 200, "{provider}: both rules are spent");
        emulator.shutdown().await;
    }
}

fn exchange(provider: Provider, headers: &[(&str, &str)], query: &str, body: &str) -> Exchange {
    Exchange {
        seq: 0,
        received: Duration::ZERO,
        finished: Duration::ZERO,
        provider: Some(provider),
        operation: None,
        method: "POST".into(),
        path: "/".into(),
        query: Some(query.into()),
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: Bytes::from(body.to_owned()),
        body_length: body.len() as u64,
        body_cut: false,
        outcome: Outcome::Dropped { unsent: None },
    }
}

#[test]
fn an_exchange_debug_shows_no_key_wherever_it_was_sent() {
    let shown = format!(
        "{:?}",
        exchange(
            Provider::named("novita"),
            &[("authorization", "Bearer sk-one"), ("x-api-key", "sk-two")],
            "page=1&api_key=sk-three",
            r#"{"prompt": "a fox", "token": "sk-four"}"#,
        )
    );
    for key in ["sk-one", "sk-two", "sk-three", "sk-four"] {
        assert!(!shown.contains(key), "{key} in {shown}");
    }
    for kept in ["Bearer [redacted]", "page=1", "a fox"] {
        assert!(shown.contains(kept), "{kept} not in {shown}");
    }
    let shown = format!(
        "{:?}",
        exchange(
            Provider::named("modelslab"),
            &[],
            "",
            r#"{"key": "sk-five", "prompt": "p"}"#
        )
    );
    assert!(!shown.contains("sk-five"), "{shown}");
}

#[tokio::test]
async fn the_journal_holds_bounded_bytes_and_cuts_big_bodies() {
    let emulator = Emulator::start(&[Provider::named("novita")], journaled(Vec::new()))
        .await
        .unwrap();
    let journal = emulator.journal().unwrap();
    let limit = 32 * 1024;
    let big = format!(
        r#"{{"prompt": "{}"}}"#,
        "x".repeat(img2img_emulator::BODY_CUT)
    );
    let answer = client()
        .post(format!("{}/no/such/path", emulator.base_url()))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    let first = journal.exchanges().remove(0);
    assert_eq!(first.body_length, big.len() as u64);
    assert!(first.body_cut && first.body.len() == img2img_emulator::BODY_CUT);
    journal.hold_at_most(limit);
    let http = client();
    for _ in 0..300 {
        http.get(format!("{}/no/such/path", emulator.base_url()))
            .send()
            .await
            .unwrap();
        assert!(journal.held_bytes() <= limit, "{journal:?}");
    }
    emulator.shutdown().await;
    let held = journal.exchanges();
    assert_eq!(held.len() as u64 + journal.let_go(), 301, "{journal:?}");
    assert!(held.len() < 100, "{journal:?}");
    assert_eq!(held.last().map(|e| e.seq), Some(300), "the newest are held");
}
