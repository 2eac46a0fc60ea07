//! Emulator benchmark: for each provider, creates, polls and whole jobs per second (create, poll
//! until done with zero stage latency, download every image), each with p50/p99, one at a time
//! and 32 at a time, and the emulator's peak memory; then a 60 s create-and-poll load at 32 in
//! flight against the image store's bound; then, where `wrk` and Prism are installed, the same
//! Novita create and poll requests against `prism mock` on the same spec, side by side.
//!
//! The emulator under test is the `emulator` binary of this build, run as its own process on
//! loopback (`--latency-ms 0 --max-stored-mib 64`, one fresh process per part, so each peak RSS is
//! its own). Every request carries a real 64x64 PNG input and asks for one 512x512 output.
//!
//! ```sh
//! cargo bench -p img2img-emulator --bench emulator
//! EMULATOR_BENCH_QUICK=1 cargo bench -p img2img-emulator --bench emulator   # a short smoke run
//! ```
//!
//! Environment:
//! - `EMULATOR_BENCH_QUICK=1`: short rows (0.5 s each, 3 s load, 2 s wrk runs).
//! - `PRISM=/path/to/prism` (else `prism` on `PATH`), e.g. after
//!   `npm install --prefix target/prism @stoplight/prism-cli@5.16.0`:
//!   `PRISM=target/prism/node_modules/.bin/prism`. Run as `prism mock -m false` (no cluster).
//! - `WRK=/path/to/wrk` (else `wrk` on `PATH`; Debian: `apt-get install wrk`).
//! - `EMULATOR_BIN=/path/to/emulator`: another emulator binary than this build's.
//! - `EMULATOR_BENCH_PROVIDERS=gptproto,novita`: only these providers' rows (default: every spec).
//!
//! Without Prism or wrk the comparison is skipped, and the output says which part and why.

use std::io::Cursor;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use base64::Engine as _;
use img2img_specs::extensions::{IdPlace, KeyPlacement};
use img2img_specs::{Provider, Spec};
use serde_json::{Value, json};

/// How long and how many: every loop is bounded by both.
#[derive(Debug, Clone, Copy)]
struct Settings {
    quick: bool,
    /// Longest one row runs.
    row: Duration,
    /// Most requests (or jobs) in one row.
    row_cap: u64,
    /// The sustained create-and-poll load.
    load: Duration,
    /// Each wrk run.
    wrk: Duration,
    /// Longest Prism may take to start.
    prism_start: Duration,
}

impl Settings {
    fn from_env() -> Settings {
        let quick = std::env::var("EMULATOR_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Settings {
                quick,
                row: Duration::from_millis(500),
                row_cap: 5_000,
                load: Duration::from_secs(3),
                wrk: Duration::from_secs(2),
                prism_start: Duration::from_secs(60),
            }
        } else {
            Settings {
                quick,
                row: Duration::from_secs(5),
                row_cap: 500_000,
                load: Duration::from_secs(60),
                wrk: Duration::from_secs(10),
                prism_start: Duration::from_secs(90),
            }
        }
    }
}

/// Concurrency levels of the per-provider rows.
const LEVELS: [usize; 2] = [1, 32];
/// In flight during the sustained load and the wrk runs.
const IN_FLIGHT: usize = 32;
/// The image store bound the emulator processes are given, in MiB.
const STORE_MIB: u64 = 64;
/// What peak RSS may exceed the configured store bound by.
const ALLOWANCE_MIB: u64 = 64;
/// Most polls one job may take before the bench gives up on it.
const MAX_POLLS: usize = 10_000;

fn main() {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(settings));
}

async fn run(settings: Settings) {
    let load_before = load_average();
    let emulator_bin = std::env::var_os("EMULATOR_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_emulator")));
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()
        .expect("an HTTP client");
    let input = input_png_base64();
    println!(
        "# emulator benchmark{}\n",
        if settings.quick {
            " (quick: EMULATOR_BENCH_QUICK)"
        } else {
            ""
        }
    );
    println!(
        "Each request: a real 64x64 PNG input ({} base64 characters), one 512x512 output (the provider's default format: PNG). \
         Emulator: `{}` as its own process, `--latency-ms 0 --max-stored-mib {STORE_MIB}`, loopback. \
         Rows run for at most {:?} or {} requests each. Load average before: {load_before}.\n",
        input.len(),
        emulator_bin.display(),
        settings.row,
        settings.row_cap
    );

    // Per provider: creates, polls and whole jobs; peak RSS of its own process.
    let mut novita_jobs_32 = None;
    println!(
        "| provider | what | in flight | done | errors | per second | p50 ms | p99 ms | emulator CPU µs each |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let mut peaks = Vec::new();
    for provider in providers() {
        let server = Server::start(&emulator_bin, provider, &[]).await;
        let bench = Bench {
            client: client.clone(),
            base: server.base.clone(),
            provider,
            body: create_body(provider, &input).into(),
            pid: server.pid(),
        };
        for level in LEVELS {
            let row = bench.creates(level, settings).await;
            row.print(provider, "create", level);
        }
        let id = bench.finished_job().await;
        for level in LEVELS {
            let row = bench.polls(&id, level, settings).await;
            row.print(provider, "poll", level);
        }
        for level in LEVELS {
            let row = bench.jobs(level, settings).await;
            row.print(provider, "whole job (create, polls, 1 download)", level);
            if provider == Provider::named("novita") && level == IN_FLIGHT {
                novita_jobs_32 = Some((
                    row.per_second(),
                    row.server_cpu.map(|cpu| cpu / row.done.max(1) as u32),
                ));
            }
        }
        peaks.push((provider, server.peak_kib(), server.stats(&client).await));
        server.stop();
    }
    println!();
    for (provider, peak, stats) in &peaks {
        println!(
            "- {provider}: peak RSS of its emulator process (VmHWM) {} (store bound {STORE_MIB} MiB + {ALLOWANCE_MIB} MiB = {} MiB); held at the end: {stats}",
            mib(*peak),
            STORE_MIB + ALLOWANCE_MIB
        );
    }

    // Sustained create-and-poll load against the store bound.
    let load = sustained_load(&emulator_bin, &client, &input, settings).await;

    // Prism side by side.
    let comparison = compare_with_prism(&emulator_bin, &client, &input, settings).await;

    // Goals.
    println!("\n## Goals\n");
    match &comparison {
        Comparison::Done(compared) => {
            let Compared {
                create,
                poll,
                prism_create,
                prism_poll,
            } = compared.as_ref();
            goal_at_least(
                "create 512x512: req/s >= 20x Prism's",
                create.rate,
                20.0 * prism_create.rate,
                "req/s",
            );
            goal_at_most(
                "create 512x512: p99 <= 1/10 of Prism's",
                ms(create.p99),
                ms(prism_create.p99) / 10.0,
                "ms",
            );
            goal_at_least(
                "poll: req/s >= 20x Prism's",
                poll.rate,
                20.0 * prism_poll.rate,
                "req/s",
            );
        }
        Comparison::Skipped(why) => {
            println!("- the three Prism goals: not measured ({why})");
        }
    }
    match novita_jobs_32 {
        Some((rate, cpu)) => {
            goal_at_least(
                "whole Novita job with one 512x512 download, 32 in flight: >= 300 jobs/s",
                rate,
                300.0,
                "jobs/s",
            );
            if let Some(cpu) = cpu.filter(|cpu| !cpu.is_zero()) {
                let cores = std::thread::available_parallelism().map_or(1, usize::from);
                println!(
                    "  (the emulator used {:.0} µs of CPU per whole job: {cores} cores given to it alone would serve at most {:.0} jobs/s)",
                    cpu.as_secs_f64() * 1e6,
                    cores as f64 / cpu.as_secs_f64()
                );
            }
        }
        None => println!("- whole Novita jobs: not measured"),
    }
    let bound_kib = (STORE_MIB + ALLOWANCE_MIB) * 1024;
    goal_at_most(
        &format!(
            "peak RSS during the {:?} create-and-poll load at {IN_FLIGHT} in flight <= store bound {STORE_MIB} MiB + {ALLOWANCE_MIB} MiB",
            settings.load
        ),
        load as f64 / 1024.0,
        bound_kib as f64 / 1024.0,
        "MiB",
    );
    println!(
        "\nLoad average before: {load_before}; after: {} (other work on this machine shares its cores with the bench).",
        load_average()
    );
}

fn goal_at_least(name: &str, measured: f64, wanted: f64, unit: &str) {
    if measured >= wanted {
        println!("- {name}: met ({measured:.1} {unit}, goal {wanted:.1})");
    } else {
        println!(
            "- {name}: MISSED by {:.1}% ({measured:.1} {unit}, goal {wanted:.1})",
            (1.0 - measured / wanted) * 100.0
        );
    }
}

fn goal_at_most(name: &str, measured: f64, wanted: f64, unit: &str) {
    if measured <= wanted {
        println!("- {name}: met ({measured:.1} {unit}, goal {wanted:.1})");
    } else {
        println!(
            "- {name}: MISSED by {:.1}% ({measured:.1} {unit}, goal {wanted:.1})",
            (measured / wanted - 1.0) * 100.0
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "unknown".into(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// The providers benched: `EMULATOR_BENCH_PROVIDERS` (ids, comma-separated), else every spec.
fn providers() -> Vec<Provider> {
    match std::env::var("EMULATOR_BENCH_PROVIDERS") {
        Ok(ids) if !ids.trim().is_empty() => ids
            .split(',')
            .map(|id| {
                id.trim()
                    .parse()
                    .unwrap_or_else(|e| panic!("EMULATOR_BENCH_PROVIDERS: {e}"))
            })
            .collect(),
        _ => Provider::all().collect(),
    }
}

/// A real 64x64 PNG (a gradient with a pattern), base64.
fn input_png_base64() -> String {
    let image = image::RgbImage::from_fn(64, 64, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 4) as u8, ((x ^ y) * 4) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("a PNG");
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

/// A valid create body: the 64x64 input, one 512x512 output.
fn create_body(provider: Provider, image: &str) -> Vec<u8> {
    let body = match provider.id() {
        "gptproto" => json!({"prompt": "a lighthouse", "action": "img2img", "image": image,
            "size": "512x512", "n": 1, "seed": 42, "strength": 0.6}),
        "novita" => json!({"request": {"model_name": "sd_xl_base_1.0.safetensors",
            "image_base64": image, "prompt": "a lighthouse", "width": 512, "height": 512,
            "image_num": 1, "steps": 20, "guidance_scale": 7.5, "sampler_name": "Euler a",
            "seed": 42}}),
        "modelslab" => json!({"key": "bench", "model_id": "m", "prompt": "a lighthouse",
            "init_image": image, "width": 512, "height": 512, "samples": 1, "seed": 42}),
        // BFL takes no size: its output is about one megapixel (1024x1024 here).
        "bfl" => json!({"prompt": "a lighthouse", "input_image": image, "seed": 42}),
        other => panic!("no test data for {other}"),
    };
    serde_json::to_vec(&body).expect("JSON")
}

/// A free loopback port.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Peak and current RSS of a process, in KiB.
fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time (user + system) a process has used so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports these in clock ticks of 1/100 s (USER_HZ).
    Some(Duration::from_millis(ticks * 10))
}

/// A child process, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An emulator process.
struct Server {
    process: Process,
    base: String,
}

impl Server {
    async fn start(bin: &Path, provider: Provider, extra: &[&str]) -> Server {
        let port = free_port();
        let child = Command::new(bin)
            .args(["--provider", provider.id(), "--port", &port.to_string()])
            .args([
                "--latency-ms",
                "0",
                "--max-stored-mib",
                &STORE_MIB.to_string(),
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        let server = Server {
            process: Process(child),
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let health = format!("{}/emulator/health", server.base);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if client.get(&health).send().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the emulator did not answer on {health} within 20 s");
    }

    fn pid(&self) -> u32 {
        self.process.0.id()
    }

    fn peak_kib(&self) -> Option<u64> {
        memory_kib(self.pid(), "VmHWM:")
    }

    async fn stats(&self, client: &reqwest::Client) -> String {
        let answer = client
            .get(format!("{}/emulator/stats", self.base))
            .send()
            .await;
        match answer {
            Ok(answer) => match answer.json::<Value>().await {
                Ok(stats) => format!(
                    "{} jobs, {} images, {:.1} MiB in the image store (bound {STORE_MIB} MiB)",
                    stats["jobs_live"],
                    stats["images_stored"],
                    stats["bytes_stored"].as_f64().unwrap_or(0.0) / 1048576.0
                ),
                Err(e) => format!("stats unreadable: {e}"),
            },
            Err(e) => format!("stats unreadable: {e}"),
        }
    }

    fn stop(self) {
        drop(self.process);
    }
}

/// Latencies of one row.
struct Row {
    done: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// CPU time the emulator process used during the row.
    server_cpu: Option<Duration>,
}

impl Row {
    fn per_second(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[index]
    }

    /// Emulator CPU time per unit done, in microseconds.
    fn cpu_per_unit(&self) -> String {
        match self.server_cpu {
            Some(cpu) if self.done > 0 => {
                format!("{:.0}", cpu.as_secs_f64() * 1e6 / self.done as f64)
            }
            _ => "?".into(),
        }
    }

    fn print(&self, provider: Provider, what: &str, level: usize) {
        println!(
            "| {provider} | {what} | {level} | {} | {} | {:.0} | {:.2} | {:.2} | {} |",
            self.done,
            self.errors,
            self.per_second(),
            ms(self.percentile(0.5)),
            ms(self.percentile(0.99)),
            self.cpu_per_unit(),
        );
    }
}

/// One provider's requests against one emulator.
#[derive(Clone)]
struct Bench {
    client: reqwest::Client,
    base: String,
    provider: Provider,
    body: Bytes,
    /// The emulator's process id (its CPU time is read per row).
    pid: u32,
}

/// What one timed unit of work ended with.
type Outcome = Result<(), String>;

impl Bench {
    fn spec(&self) -> &'static Spec {
        Spec::embedded(self.provider)
    }

    fn create_request(&self) -> reqwest::RequestBuilder {
        let x_job = &self.spec().extensions().job;
        let path = &self.spec().operation(&x_job.create).expect("create").path;
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(self.body.clone());
        match self.spec().extensions().auth.place("bench") {
            KeyPlacement::Header { name, value } => request.header(name, value),
            // The body (`create_body`) carries the key already.
            KeyPlacement::BodyField { .. } => request,
        }
    }

    /// The poll of job `id`: the id where the spec's create-to-result link puts it, the key where
    /// `x-auth` does.
    fn poll_request(&self, id: &str) -> reqwest::RequestBuilder {
        let spec = self.spec();
        let x_job = &spec.extensions().job;
        let op = spec.operation(&x_job.result).expect("result");
        let mut body = None;
        let url = match spec.id_place(&op.id).expect("the result's id place") {
            IdPlace::Path(name) => format!(
                "{}{}",
                self.base,
                op.path.replace(&format!("{{{name}}}"), id)
            ),
            IdPlace::Query(name) => format!("{}{}?{name}={id}", self.base, op.path),
            IdPlace::Body(name) => {
                let mut fields = serde_json::Map::new();
                fields.insert(name, json!(id));
                body = Some(Value::Object(fields));
                format!("{}{}", self.base, op.path)
            }
        };
        let method = reqwest::Method::from_bytes(op.method.as_str().as_bytes()).expect("a method");
        let mut request = self.client.request(method, url);
        match spec.extensions().auth.place("bench") {
            KeyPlacement::Header { name, value } => request = request.header(name, value),
            KeyPlacement::BodyField { name, value } => {
                body.get_or_insert_with(|| json!({}))[name] = json!(value);
            }
        }
        match body {
            Some(body) => request.json(&body),
            None => request,
        }
    }

    async fn json(request: reqwest::RequestBuilder) -> Result<Value, String> {
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }

    fn id_of(&self, created: &Value) -> Result<String, String> {
        match created.pointer(&self.spec().extensions().job.id_pointer) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(format!("no job id in {created}")),
        }
    }

    fn is_terminal(&self, state: &Value) -> bool {
        let x_job = &self.spec().extensions().job;
        state
            .pointer(&x_job.status_pointer)
            .and_then(Value::as_str)
            .is_some_and(|s| x_job.is_terminal(s))
    }

    fn image_urls(&self, state: &Value) -> Vec<String> {
        self.spec().extensions().job.outputs_of(state)
    }

    async fn create(&self) -> Result<Value, String> {
        Bench::json(self.create_request()).await
    }

    /// Polls until terminal (at once, again and again: the stages take no time).
    async fn poll_to_end(&self, created: Value) -> Result<Value, String> {
        let id = self.id_of(&created)?;
        let mut state = created;
        for _ in 0..MAX_POLLS {
            if self.is_terminal(&state) {
                return Ok(state);
            }
            state = Bench::json(self.poll_request(&id)).await?;
        }
        Err(format!("job {id} not done after {MAX_POLLS} polls"))
    }

    /// The id of a job that has ended.
    async fn finished_job(&self) -> String {
        let created = self.create().await.expect("a create");
        let id = self.id_of(&created).expect("an id");
        self.poll_to_end(created).await.expect("the job ends");
        id
    }

    /// Runs `work` from `level` tasks until the row's time or count is up.
    async fn row<F, Fut>(&self, level: usize, settings: Settings, work: F) -> Row
    where
        F: Fn(Bench) -> Fut + Send + Sync + Clone + 'static,
        Fut: std::future::Future<Output = Outcome> + Send,
    {
        let cpu_before = cpu_time(self.pid);
        let started = Instant::now();
        let deadline = started + settings.row;
        let issued = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..level {
            let (bench, work, issued) = (self.clone(), work.clone(), Arc::clone(&issued));
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while Instant::now() < deadline
                    && issued.fetch_add(1, Ordering::Relaxed) < settings.row_cap
                {
                    let t = Instant::now();
                    match work(bench.clone()).await {
                        Ok(()) => latencies.push(t.elapsed()),
                        Err(error) => {
                            if errors == 0 {
                                eprintln!("{}: {error}", bench.provider);
                            }
                            errors += 1;
                        }
                    }
                }
                (latencies, errors)
            }));
        }
        let mut row = Row {
            done: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
            server_cpu: None,
        };
        for task in tasks {
            let (latencies, errors) = task.await.expect("a bench task");
            row.latencies.extend(latencies);
            row.errors += errors;
        }
        row.elapsed = started.elapsed();
        row.server_cpu = cpu_time(self.pid)
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        row.done = row.latencies.len() as u64;
        row.latencies.sort();
        row
    }

    async fn creates(&self, level: usize, settings: Settings) -> Row {
        self.row(level, settings, |bench: Bench| async move {
            bench.create().await.map(|_| ())
        })
        .await
    }

    async fn polls(&self, id: &str, level: usize, settings: Settings) -> Row {
        let id: Arc<str> = id.into();
        self.row(level, settings, move |bench: Bench| {
            let id = Arc::clone(&id);
            async move {
                let state = Bench::json(bench.poll_request(&id)).await?;
                if bench.is_terminal(&state) {
                    Ok(())
                } else {
                    Err(format!("job {id} is not done: {state}"))
                }
            }
        })
        .await
    }

    async fn jobs(&self, level: usize, settings: Settings) -> Row {
        self.row(level, settings, |bench: Bench| async move {
            let created = bench.create().await?;
            let done = bench.poll_to_end(created).await?;
            let urls = bench.image_urls(&done);
            if urls.is_empty() {
                return Err(format!("no images in {done}"));
            }
            for url in urls {
                let response = bench
                    .client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !response.status().is_success() {
                    return Err(format!("{url}: HTTP {}", response.status()));
                }
                let bytes = response.bytes().await.map_err(|e| e.to_string())?;
                if !bytes.starts_with(b"\x89PNG") {
                    return Err(format!("{url}: not a PNG ({} bytes)", bytes.len()));
                }
            }
            Ok(())
        })
        .await
    }
}

/// 32 tasks create a Novita job and poll it to its end, again and again, for `settings.load`;
/// returns the emulator's peak RSS in KiB.
async fn sustained_load(
    bin: &Path,
    client: &reqwest::Client,
    input: &str,
    settings: Settings,
) -> u64 {
    let server = Server::start(bin, Provider::named("novita"), &[]).await;
    let bench = Bench {
        client: client.clone(),
        base: server.base.clone(),
        provider: Provider::named("novita"),
        body: create_body(Provider::named("novita"), input).into(),
        pid: server.pid(),
    };
    let load = Settings {
        row: settings.load,
        row_cap: u64::MAX,
        ..settings
    };
    let pid = server.pid();
    let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sampled = Arc::clone(&samples);
    let sampler = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            match memory_kib(pid, "VmRSS:") {
                Some(kib) => sampled.lock().expect("samples").push(kib),
                None => return,
            }
        }
    });
    let row = bench
        .row(IN_FLIGHT, load, |bench: Bench| async move {
            let created = bench.create().await?;
            bench.poll_to_end(created).await.map(|_| ())
        })
        .await;
    let peak = server.peak_kib().unwrap_or(0);
    let stats = server.stats(client).await;
    sampler.abort();
    let samples = samples.lock().expect("samples").clone();
    println!(
        "\n## Sustained load: {:?} of create-and-poll Novita jobs, {IN_FLIGHT} in flight\n\n{} jobs ({:.0} jobs/s, p50 {:.2} ms, p99 {:.2} ms, {} errors); emulator RSS every second (MiB): {}; peak (VmHWM) {}; bound: store {STORE_MIB} MiB + {ALLOWANCE_MIB} MiB; held at the end: {stats}",
        settings.load,
        row.done,
        row.per_second(),
        ms(row.percentile(0.5)),
        ms(row.percentile(0.99)),
        row.errors,
        samples
            .iter()
            .map(|k| format!("{:.0}", *k as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(" "),
        mib(Some(peak)),
    );
    server.stop();
    peak
}

/// A wrk run's figures.
#[derive(Debug, Clone)]
struct WrkFigures {
    rate: f64,
    p50: Duration,
    p99: Duration,
    requests: u64,
    non_2xx: u64,
    socket_errors: String,
}

/// The four wrk runs.
struct Compared {
    create: WrkFigures,
    poll: WrkFigures,
    prism_create: WrkFigures,
    prism_poll: WrkFigures,
}

enum Comparison {
    Done(Box<Compared>),
    Skipped(String),
}

/// `name` from the environment variable `var`, else on `PATH`.
fn find_tool(var: &str, name: &str) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{var}={} is not a file", path.display()))
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| format!("no `{name}` on PATH and {var} is not set"))
}

async fn compare_with_prism(
    bin: &Path,
    client: &reqwest::Client,
    input: &str,
    settings: Settings,
) -> Comparison {
    println!(
        "\n## Side by side with Prism (Novita, wrk -t2 -c{IN_FLIGHT} {:?}, the same body)\n",
        settings.wrk
    );
    let (wrk, prism) = (find_tool("WRK", "wrk"), find_tool("PRISM", "prism"));
    let missing: Vec<String> = [&wrk, &prism]
        .iter()
        .filter_map(|tool| tool.as_ref().err().cloned())
        .collect();
    let (Ok(wrk), Ok(prism)) = (wrk, prism) else {
        let why = missing.join("; ");
        println!(
            "SKIPPED: the create and poll comparisons with Prism were not run: {why}. Install wrk (`apt-get install wrk`) and Prism (`npm install --prefix target/prism @stoplight/prism-cli@5.16.0`, then `PRISM=target/prism/node_modules/.bin/prism`)."
        );
        return Comparison::Skipped(why);
    };
    let dir = std::env::temp_dir().join(format!("img2img-emulator-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let spec_file = dir.join("novita.yaml");
    std::fs::write(&spec_file, Provider::named("novita").embedded_yaml()).expect("the spec file");
    let body = create_body(Provider::named("novita"), input);
    let create_script = dir.join("create.lua");
    std::fs::write(
        &create_script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer bench\"\nwrk.body = [==[{}]==]\n",
            String::from_utf8_lossy(&body)
        ),
    )
    .expect("the wrk script");
    let poll_script = dir.join("poll.lua");
    std::fs::write(
        &poll_script,
        "wrk.headers[\"Authorization\"] = \"Bearer bench\"\n",
    )
    .expect("the wrk script");

    // Prism first (it takes seconds to start), then the emulator.
    let prism_port = free_port();
    let prism_child = Command::new(&prism)
        .args(["mock", "-m", "false", "-p", &prism_port.to_string()])
        .arg(&spec_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let prism_process = match prism_child {
        Ok(child) => Process(child),
        Err(e) => {
            let why = format!("cannot run {}: {e}", prism.display());
            println!("SKIPPED: {why}");
            return Comparison::Skipped(why);
        }
    };
    let prism_base = format!("http://127.0.0.1:{prism_port}");
    let prism_bench = Bench {
        client: client.clone(),
        base: prism_base.clone(),
        provider: Provider::named("novita"),
        body: body.clone().into(),
        pid: 0,
    };
    let deadline = Instant::now() + settings.prism_start;
    let prism_id = loop {
        if let Ok(created) = prism_bench.create().await
            && let Ok(id) = prism_bench.id_of(&created)
        {
            break Some(id);
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let Some(prism_id) = prism_id else {
        let why = format!(
            "Prism did not accept the create request within {:?}",
            settings.prism_start
        );
        println!("SKIPPED: {why}");
        return Comparison::Skipped(why);
    };
    if let Err(e) = Bench::json(prism_bench.poll_request(&prism_id)).await {
        let why = format!("Prism refused the poll: {e}");
        println!("SKIPPED: {why}");
        return Comparison::Skipped(why);
    }

    let server = Server::start(bin, Provider::named("novita"), &[]).await;
    let bench = Bench {
        client: client.clone(),
        base: server.base.clone(),
        provider: Provider::named("novita"),
        body: body.into(),
        pid: server.pid(),
    };
    let spec = Spec::embedded(Provider::named("novita"));
    let x_job = &spec.extensions().job;
    let create_path = &spec.operation(&x_job.create).expect("create").path;
    let result_path = &spec.operation(&x_job.result).expect("result").path;

    let run = |base: &str, path: String, script: &Path| {
        let url = format!("{base}{path}");
        let output = Command::new(&wrk)
            .args(["-t2", &format!("-c{IN_FLIGHT}")])
            .arg(format!("-d{}s", settings.wrk.as_secs()))
            .args(["--latency", "-s"])
            .arg(script)
            .arg(&url)
            .stdin(Stdio::null())
            .output();
        match output {
            Ok(output) if output.status.success() => {
                parse_wrk(&String::from_utf8_lossy(&output.stdout))
            }
            Ok(output) => Err(format!(
                "wrk failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )),
            Err(e) => Err(format!("cannot run {}: {e}", wrk.display())),
        }
    };
    let creates = run(&server.base, create_path.clone(), &create_script).and_then(|emulator| {
        run(&prism_base, create_path.clone(), &create_script).map(|prism| (emulator, prism))
    });
    // The job polled is created after the create runs (which fill the job table).
    let id = bench.finished_job().await;
    let figures = creates.and_then(|(create, prism_create)| {
        let poll = run(
            &server.base,
            format!("{result_path}?task_id={id}"),
            &poll_script,
        )?;
        let prism_poll = run(
            &prism_base,
            format!("{result_path}?task_id={prism_id}"),
            &poll_script,
        )?;
        Ok((create, prism_create, poll, prism_poll))
    });
    let emulator_peak = server.peak_kib();
    server.stop();
    drop(prism_process);
    let _ = std::fs::remove_dir_all(&dir);
    let (create, prism_create, poll, prism_poll) = match figures {
        Ok(figures) => figures,
        Err(why) => {
            println!("SKIPPED: {why}");
            return Comparison::Skipped(why);
        }
    };
    println!(
        "| request | target | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    for (what, target, f) in [
        (
            "POST create, 512x512",
            "Prism 5.16 (`prism mock -m false`)",
            &prism_create,
        ),
        ("POST create, 512x512", "emulator", &create),
        (
            "GET task-result",
            "Prism 5.16 (`prism mock -m false`)",
            &prism_poll,
        ),
        ("GET task-result", "emulator", &poll),
    ] {
        println!(
            "| {what} | {target} | {:.0} | {:.2} | {:.2} | {} | {} | {} |",
            f.rate,
            ms(f.p50),
            ms(f.p99),
            f.requests,
            f.non_2xx,
            f.socket_errors
        );
    }
    println!(
        "\nRatios (emulator / Prism): create {:.1}x req/s, p99 {:.3}x (1/{:.0}); poll {:.1}x req/s, p99 {:.3}x. Emulator peak RSS in these runs: {}.",
        create.rate / prism_create.rate,
        ms(create.p99) / ms(prism_create.p99),
        ms(prism_create.p99) / ms(create.p99),
        poll.rate / prism_poll.rate,
        ms(poll.p99) / ms(prism_poll.p99),
        mib(emulator_peak),
    );
    Comparison::Done(Box::new(Compared {
        create,
        poll,
        prism_create,
        prism_poll,
    }))
}

/// A wrk duration such as `6.82ms`, `950.00us`, `1.33s`, `2.00m`.
fn parse_wrk_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

fn parse_wrk(output: &str) -> Result<WrkFigures, String> {
    let mut figures = WrkFigures {
        rate: 0.0,
        p50: Duration::ZERO,
        p99: Duration::ZERO,
        requests: 0,
        non_2xx: 0,
        socket_errors: "none".into(),
    };
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rate] => figures.rate = rate.parse().unwrap_or(0.0),
            ["50%", d] => figures.p50 = parse_wrk_duration(d).unwrap_or_default(),
            ["99%", d] => figures.p99 = parse_wrk_duration(d).unwrap_or_default(),
            [n, "requests", "in", ..] => figures.requests = n.parse().unwrap_or(0),
            ["Non-2xx", "or", "3xx", "responses:", n] => figures.non_2xx = n.parse().unwrap_or(0),
            ["Socket", "errors:", ..] => figures.socket_errors = words[2..].join(" "),
            _ => {}
        }
    }
    if figures.rate == 0.0 {
        return Err(format!("no Requests/sec in the wrk output:\n{output}"));
    }
    Ok(figures)
}
