//! Emulator benchmark: whole create-and-poll jobs per second and request latency percentiles on
//! loopback with a 512x512 input, for each provider, against a baseline measured in the same run
//! (a round trip to the trivial health route), and the process's peak memory (VmHWM).
//!
//! Run with: `cargo bench -p conformance --bench emulator` (`BENCH_JOBS`, default 200 jobs per
//! provider and concurrency level; `BENCH_CONCURRENCY`, default 4; `BENCH_STORE_MIB`, the image
//! store's bound, default the emulator's).

use std::io::Cursor;
use std::time::{Duration, Instant};

use base64::Engine as _;
use img2img_emulator::{Config, Emulator, HEALTH_PATH, Latency};
use img2img_specs::{Provider, Spec};
use serde_json::{Value, json};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size of this process (server and client), in KiB.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn input_png_base64() -> String {
    let image = image::RgbImage::from_fn(512, 512, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, ((x ^ y) & 0xff) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

fn body(provider: Provider, image: &str, seed: u64) -> Value {
    match provider {
        Provider::Gptproto => json!({"prompt": "a lighthouse", "action": "img2img", "image": image,
            "size": "512x512", "n": 1, "seed": seed, "strength": 0.6}),
        Provider::Novita => json!({"request": {"model_name": "m", "image_base64": image,
            "prompt": "a lighthouse", "width": 512, "height": 512, "image_num": 1, "steps": 20,
            "guidance_scale": 7.5, "sampler_name": "Euler a", "seed": seed}}),
        Provider::Modelslab => json!({"key": "bench", "model_id": "m", "prompt": "a lighthouse",
            "init_image": image, "width": 512, "height": 512, "samples": 1, "seed": seed}),
    }
}

#[derive(Default)]
struct Samples {
    requests: Vec<Duration>,
    jobs: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

struct Row {
    name: String,
    per_second: f64,
    p50: Duration,
    p90: Duration,
    p99: Duration,
}

fn row(name: String, count: usize, elapsed: Duration, latencies: &mut [Duration]) -> Row {
    latencies.sort();
    Row {
        name,
        per_second: count as f64 / elapsed.as_secs_f64(),
        p50: percentile(latencies, 0.50),
        p90: percentile(latencies, 0.90),
        p99: percentile(latencies, 0.99),
    }
}

async fn timed(request: reqwest::RequestBuilder, samples: &mut Samples) -> reqwest::Response {
    let started = Instant::now();
    let response = request.send().await.expect("loopback request");
    samples.requests.push(started.elapsed());
    response
}

/// One whole job: create, poll until terminal, download the output.
async fn job(
    client: &reqwest::Client,
    base: &str,
    provider: Provider,
    image: &str,
    seed: u64,
    samples: &mut Samples,
) {
    let spec = Spec::embedded(provider);
    let x_job = &spec.extensions().job;
    let create = spec.operation(&x_job.create).unwrap();
    let result = spec.operation(&x_job.result).unwrap();
    let started = Instant::now();
    let mut request = client
        .post(format!("{base}{}", create.path))
        .json(&body(provider, image, seed));
    if provider != Provider::Modelslab {
        request = request.header("authorization", "Bearer bench");
    }
    let created: Value = timed(request, samples).await.json().await.unwrap();
    let mut state = created.clone();
    let id = match created.pointer(&x_job.id_pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => panic!("no id in {created}"),
    };
    loop {
        let status = state
            .pointer(&x_job.status_pointer)
            .and_then(Value::as_str)
            .unwrap_or("");
        if x_job.is_terminal(status) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        let request = match provider {
            Provider::Modelslab => client
                .post(format!("{base}{}", result.path))
                .json(&json!({"key": "bench", "request_id": id})),
            Provider::Gptproto => client
                .get(format!("{base}{}", result.path.replace("{id}", &id)))
                .header("authorization", "bench"),
            Provider::Novita => client
                .get(format!("{base}{}?task_id={id}", result.path))
                .header("authorization", "bench"),
        };
        state = timed(request, samples).await.json().await.unwrap();
    }
    let url = match provider {
        Provider::Gptproto => state["data"]["outputs"][0].as_str(),
        Provider::Novita => state["images"][0]["image_url"].as_str(),
        Provider::Modelslab => state["output"][0].as_str(),
    }
    .expect("an output URL")
    .to_owned();
    let image = timed(client.get(url), samples).await.bytes().await.unwrap();
    assert!(image.len() > 1000);
    samples.jobs.push(started.elapsed());
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let jobs = env("BENCH_JOBS", 200);
    let concurrency = env("BENCH_CONCURRENCY", 4).max(1);
    let mut config = Config {
        latency: Latency::per_stage(Duration::ZERO),
        ..Config::default()
    };
    if let Ok(mib) = std::env::var("BENCH_STORE_MIB") {
        config.max_stored_bytes = mib.parse::<u64>().expect("BENCH_STORE_MIB is a number") << 20;
    }
    let store_bound = config.max_stored_bytes;
    let emulator = Emulator::start(&Provider::ALL, config).await.unwrap();
    let base = emulator.base_url();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let image = input_png_base64();
    let hwm_start = vm_hwm_kib();

    // Baseline: the trivial health round trip.
    let health = format!("{base}{HEALTH_PATH}");
    for _ in 0..200 {
        client.get(&health).send().await.unwrap();
    }
    let mut latencies = Vec::new();
    let started = Instant::now();
    let rounds = jobs * 10;
    for _ in 0..rounds {
        let t = Instant::now();
        client
            .get(&health)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        latencies.push(t.elapsed());
    }
    let baseline = row(
        "health round trip (baseline)".into(),
        rounds,
        started.elapsed(),
        &mut latencies,
    );

    let mut rows = Vec::new();
    for provider in Provider::ALL {
        for parallel in [1, concurrency] {
            let started = Instant::now();
            let mut tasks = Vec::new();
            for worker in 0..parallel {
                let (client, base, image) = (client.clone(), base.clone(), image.clone());
                let share = jobs / parallel + usize::from(worker < jobs % parallel);
                tasks.push(tokio::spawn(async move {
                    let mut samples = Samples::default();
                    for i in 0..share {
                        job(
                            &client,
                            &base,
                            provider,
                            &image,
                            (worker * 100_000 + i) as u64,
                            &mut samples,
                        )
                        .await;
                    }
                    samples
                }));
            }
            let mut all = Samples::default();
            for task in tasks {
                let samples = task.await.unwrap();
                all.requests.extend(samples.requests);
                all.jobs.extend(samples.jobs);
            }
            let elapsed = started.elapsed();
            let requests = all.requests.len();
            rows.push(row(
                format!("{provider} jobs, {parallel} at a time"),
                jobs,
                elapsed,
                &mut all.jobs,
            ));
            rows.push(row(
                format!("{provider} requests, {parallel} at a time"),
                requests,
                elapsed,
                &mut all.requests,
            ));
        }
    }
    let stats = emulator.stats();
    let hwm_end = vm_hwm_kib();
    emulator.shutdown().await;

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "emulator benchmark: 512x512 PNG input, 512x512 PNG output, zero stage latency, {jobs} jobs per row, image store bound {} MiB",
        store_bound >> 20
    );
    println!("a job = create + polls until terminal + download of the output\n");
    println!(
        "| what | per second | p50 ms | p90 ms | p99 ms | p50 / baseline p50 | per second / baseline |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in std::iter::once(&baseline).chain(&rows) {
        println!(
            "| {} | {:.1} | {:.3} | {:.3} | {:.3} | {:.1}x | {:.4} |",
            r.name,
            r.per_second,
            ms(r.p50),
            ms(r.p90),
            ms(r.p99),
            ms(r.p50) / ms(baseline.p50),
            r.per_second / baseline.per_second
        );
    }
    println!(
        "\npeak memory (VmHWM, whole process: server + client): {} KiB after start-up, {} KiB at the end; held at the end: {} jobs, {} images, {} bytes",
        hwm_start.map_or("?".into(), |k| k.to_string()),
        hwm_end.map_or("?".into(), |k| k.to_string()),
        stats.jobs_live,
        stats.images_stored,
        stats.bytes_stored
    );
}
