//! Cases per second of the conformance harness against the in-process emulators: the default run
//! (every check, every provider of `specs/`) and each check on its own, each reported beside a
//! baseline measured in the same run (one raw create request round trip to an emulator, the median
//! over every provider's), as "a case costs N round trips".
//!
//! Run with: `cargo bench -p conformance --bench conformance` (`-- --cases N` to change the size).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use img2img_emulator::{Config, Emulator};
use img2img_harness::budget::Budget;
use img2img_harness::http::{Caller, KeyMode};
use img2img_harness::payload::Payload;
use img2img_harness::{CheckId, RunOptions, run};
use img2img_specs::{ApiKey, Provider, Spec};
use img2img_strategy::{Fill, sample};

fn main() {
    let cases = std::env::args()
        .skip_while(|a| a != "--cases")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(16u32);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let mut all = Vec::new();
        for provider in Provider::all() {
            let times = create_round_trips(provider).await;
            println!(
                "baseline: one raw create round trip ({provider}, 64x64 input) = {:.3} ms",
                ms(median(&times))
            );
            all.extend(times);
        }
        let baseline = median(&all);
        println!("baseline: all providers = {:.3} ms", ms(baseline));
        println!("cases per check: {cases}\n");
        println!(
            "{:<28} {:>7} {:>10} {:>10} {:>14}",
            "run", "cases", "seconds", "cases/s", "round trips/case"
        );

        let options = RunOptions {
            cases,
            seed: 1,
            ..RunOptions::default()
        };
        let clock = Instant::now();
        let results = run(&options, |_| {}).await.expect("default run");
        let elapsed = clock.elapsed();
        let total: u32 = results.results.iter().map(|r| r.cases).sum();
        line("default run (all)", total, elapsed, baseline);

        for check in CheckId::ALL {
            let options = RunOptions {
                cases,
                seed: 1,
                checks: vec![check],
                ..RunOptions::default()
            };
            let clock = Instant::now();
            let results = run(&options, |_| {}).await.expect("check run");
            let elapsed = clock.elapsed();
            let total: u32 = results.results.iter().map(|r| r.cases).sum();
            line(check.id(), total, elapsed, baseline);
        }
    });
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn line(name: &str, cases: u32, elapsed: Duration, baseline: Duration) {
    let per_case = elapsed.as_secs_f64() / f64::from(cases.max(1));
    println!(
        "{name:<28} {cases:>7} {:>10.2} {:>10.1} {:>14.1}",
        elapsed.as_secs_f64(),
        f64::from(cases) / elapsed.as_secs_f64(),
        per_case / baseline.as_secs_f64()
    );
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// 200 raw create round trips (`x-job.create`) to an emulator of `provider`.
async fn create_round_trips(provider: Provider) -> Vec<Duration> {
    let key = ApiKey::new("bench-key");
    let emulator = Emulator::start(
        &[provider],
        Config {
            api_keys: vec![key.clone()],
            ..Config::default()
        },
    )
    .await
    .expect("emulator");
    let caller = Caller::new(
        provider,
        &emulator.base_url(),
        Some(key),
        Budget::unlimited(),
    );
    let spec = Spec::embedded(provider);
    let create = &spec.extensions().job.create;
    let schema = spec.request_schema(create).unwrap().unwrap();
    let mut body = sample(schema.schema(), Fill::Required);
    Payload::default().prepare(spec, &mut body);
    let mut times = Vec::new();
    for _ in 0..200 {
        let clock = Instant::now();
        let exchange = caller
            .call(create, Some(&body), &BTreeMap::new(), KeyMode::Valid)
            .await
            .expect("send");
        assert!(exchange.is_success(), "{provider}: {exchange:?}");
        times.push(clock.elapsed());
    }
    emulator.shutdown().await;
    times
}
