//! Emulator benchmark: for each provider (every spec in `specs/`), creates, polls and whole jobs
//! per second (create, poll until done with zero stage latency, download every image), each with
//! p50/p99, one at a time and 32 at a time, and the emulator's peak memory; then a 60 s
//! create-and-poll load at 32 in flight against the image store's bound; then, where `wrk` and
//! Prism are installed, the same create and poll requests against `prism mock` on the same spec,
//! side by side. The load and the Prism comparison run against one reference provider (Novita's
//! spec, the one the goals were set on; `EMULATOR_BENCH_PROVIDER` picks another).
//!
//! The emulator under test is the `emulator` binary of this build, run as its own process on
//! loopback (`--latency-ms 0 --max-stored-mib 64`, one fresh process per part, so each peak RSS is
//! its own). Every request comes from the provider's spec alone: the create body is a sample of
//! the create schema with a real 64x64 PNG input wherever `x-media` marks an image and one 512x512
//! output (its `x-feature` size, width, height and count fields), the key where `x-auth` puts it,
//! and each poll follows the spec's link from the create answer to `x-job.result`.
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
//! - `EMULATOR_BENCH_PROVIDER=<id>`: the reference provider of the load and the Prism comparison
//!   (default `novita`).
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
use img2img_specs::{
    CompiledSchema, Feature, KeyPlacement, Link, Location, Method, Operation, Provider, Spec,
    media_fields,
};
use img2img_strategy::{Fill, sample};
use serde_json::{Map, Value, json};

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
/// The key every request carries (the emulators run without `--api-key`: any key is accepted).
const KEY: &str = "bench";
/// The reference provider of the load and the Prism comparison, unless `EMULATOR_BENCH_PROVIDER`
/// names another: the spec the goals were first set on.
const REFERENCE: &str = "novita";
/// Jobs per second a whole job (one 512x512 download) should reach at 32 in flight.
const JOBS_GOAL: f64 = 300.0;

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
        "Each request: a real 64x64 PNG input ({} base64 characters), one 512x512 output (in the provider's default format). \
         Emulator: `{}` as its own process, `--latency-ms 0 --max-stored-mib {STORE_MIB}`, loopback. \
         Rows run for at most {:?} or {} requests each. Load average before: {load_before}.\n",
        input.len(),
        emulator_bin.display(),
        settings.row,
        settings.row_cap
    );

    let reference = match std::env::var("EMULATOR_BENCH_PROVIDER") {
        Ok(id) => id
            .parse::<Provider>()
            .unwrap_or_else(|e| panic!("EMULATOR_BENCH_PROVIDER: {e}")),
        Err(_) => Provider::from_id(REFERENCE).unwrap_or_else(|_| {
            Provider::all()
                .next()
                .expect("specs/ holds at least one spec")
        }),
    };

    // Per provider: creates, polls and whole jobs; peak RSS of its own process.
    let mut jobs_32 = Vec::new();
    println!(
        "| provider | what | in flight | done | errors | per second | p50 ms | p99 ms | emulator CPU µs each |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let mut peaks = Vec::new();
    for provider in Provider::all() {
        let server = Server::start(&emulator_bin, provider, &[]).await;
        let bench = Bench::new(
            &client,
            &server.base,
            Calls::of(provider, &input),
            server.pid(),
        );
        for level in LEVELS {
            let row = bench.creates(level, settings).await;
            row.print(provider, "create", level);
        }
        let created = bench.finished_job().await;
        for level in LEVELS {
            let row = bench.polls(&created, level, settings).await;
            row.print(provider, "poll", level);
        }
        for level in LEVELS {
            let row = bench.jobs(level, settings).await;
            row.print(provider, "whole job (create, polls, 1 download)", level);
            if level == IN_FLIGHT {
                jobs_32.push((
                    provider,
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
    let load = sustained_load(&emulator_bin, &client, reference, &input, settings).await;

    // Prism side by side.
    let comparison = compare_with_prism(&emulator_bin, &client, reference, &input, settings).await;

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
    for (provider, rate, cpu) in jobs_32 {
        goal_at_least(
            &format!(
                "whole {provider} job with one 512x512 download, {IN_FLIGHT} in flight: >= {JOBS_GOAL:.0} jobs/s"
            ),
            rate,
            JOBS_GOAL,
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

/// One HTTP request, ready to send again and again.
#[derive(Debug, Clone)]
struct Call {
    method: Method,
    /// Path and query.
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Bytes>,
}

impl Call {
    /// A wrk script sending this call (the URL gives the path).
    fn wrk_script(&self) -> String {
        let mut script = format!("wrk.method = \"{}\"\n", self.method);
        for (name, value) in &self.headers {
            script.push_str(&format!("wrk.headers[\"{name}\"] = \"{value}\"\n"));
        }
        if let Some(body) = &self.body {
            script.push_str(&format!(
                "wrk.body = [==[{}]==]\n",
                String::from_utf8_lossy(body)
            ));
        }
        script
    }

    /// `POST /v3/async/img2img`, for tables.
    fn line(&self) -> String {
        let path = self.path.split('?').next().unwrap_or_default();
        format!("{} {path}", self.method)
    }
}

/// What the bench sends to one provider, read from its spec alone.
struct Calls {
    provider: Provider,
    create: Call,
    result: &'static Operation,
    /// The link from the create answer to the result operation.
    link: Link,
    /// The key's header, when `x-auth` puts it in one.
    key_header: Option<(String, String)>,
    /// The key's body field, when `x-auth` puts it in the body.
    key_field: Option<(String, String)>,
}

impl Calls {
    /// The calls of `provider`: its `x-job` create with `image` (base64) as input, and its result
    /// operation reached through the spec's link.
    fn of(provider: Provider, image: &str) -> Calls {
        let spec = Spec::embedded(provider);
        let job = &spec.extensions().job;
        let operation = |id: &str| {
            spec.operation(id)
                .unwrap_or_else(|| panic!("{provider}: x-job names {id}, which is not in the spec"))
        };
        let (create, result) = (operation(&job.create), operation(&job.result));
        let link = spec
            .links(&create.id)
            .into_iter()
            .find(|l| l.operation == result.id && l.status.starts_with('2'))
            .unwrap_or_else(|| panic!("{provider}: no link from {} to {}", create.id, result.id));
        let (mut key_header, mut key_field) = (None, None);
        match spec.extensions().auth.place(KEY) {
            KeyPlacement::Header { name, value } => key_header = Some((name.to_owned(), value)),
            KeyPlacement::BodyField { name, value } => key_field = Some((name.to_owned(), value)),
        }
        let mut calls = Calls {
            provider,
            create: Call {
                method: create.method,
                path: create.path.clone(),
                headers: Vec::new(),
                body: None,
            },
            result,
            link,
            key_header,
            key_field,
        };
        let body = calls.with_key(create_body(spec, &create.id, image));
        calls.create.headers = calls.headers(true);
        calls.create.body = Some(serde_json::to_vec(&body).expect("JSON").into());
        calls
    }

    /// The headers of a call: the key's, and the content type when it has a body.
    fn headers(&self, body: bool) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self.key_header.iter().cloned().collect();
        if body {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        headers
    }

    /// `body` with the key added where `x-auth` puts it in the body.
    fn with_key(&self, mut body: Value) -> Value {
        if let (Some((name, value)), Value::Object(map)) = (&self.key_field, &mut body) {
            map.insert(name.clone(), Value::String(value.clone()));
        }
        body
    }

    /// The poll of the job `created` (a create answer) names, built by following the link.
    fn poll(&self, created: &Value) -> Result<Call, String> {
        let text = |value: Value| match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let resolve = |expression: &str| {
            Link::resolve(expression, created)
                .ok_or_else(|| format!("{expression} is not in the create answer {created}"))
        };
        let mut path = self.result.path.clone();
        let mut query = Vec::new();
        for (name, expression) in &self.link.parameters {
            let value = text(resolve(expression)?);
            match self
                .result
                .parameters
                .iter()
                .find(|p| p.name == *name)
                .map(|p| p.location)
            {
                Some(Location::Path) => path = path.replace(&format!("{{{name}}}"), &value),
                Some(Location::Query) => query.push(format!("{name}={value}")),
                _ => {}
            }
        }
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        let body = match self.result.request_body {
            Some(_) => {
                let mut fields = Map::new();
                for (name, expression) in &self.link.body_fields {
                    fields.insert(name.clone(), resolve(expression)?);
                }
                let body = self.with_key(Value::Object(fields));
                Some(Bytes::from(serde_json::to_vec(&body).expect("JSON")))
            }
            None => None,
        };
        Ok(Call {
            method: self.result.method,
            path,
            headers: self.headers(body.is_some()),
            body,
        })
    }
}

/// A valid create body of `spec`'s operation `create`: a sample of its schema, `image` wherever
/// `x-media` marks an image, one 512x512 output, a fixed prompt and seed where the spec has them.
fn create_body(spec: &Spec, create: &str, image: &str) -> Value {
    let schema = spec
        .request_schema(create)
        .expect("the create operation has a body")
        .expect("its schema compiles");
    let mut body = sample(schema.schema(), Fill::Required);
    for pointer in media_fields(schema.schema(), &body) {
        if let Some(value) = body.pointer_mut(&pointer) {
            *value = Value::String(image.to_owned());
        }
    }
    for field in spec.features(create).iter().filter(|f| !f.in_array()) {
        let wanted = match field.feature {
            Feature::Width | Feature::Height => json!(512),
            Feature::Size => json!("512x512"),
            Feature::ImagesPerCall => json!(1),
            Feature::Seed => json!(42),
            Feature::Prompt => json!("a lighthouse"),
            _ => continue,
        };
        set_if_valid(&schema, &mut body, &field.pointer, wanted);
    }
    if let Err(violations) = schema.validate(&body) {
        panic!("the bench's {create} body breaks the spec: {violations}");
    }
    body
}

/// Sets `pointer` in `body` to `value` (or, for a number, to its decimal text) where the result
/// stays valid; leaves `body` as it was otherwise.
fn set_if_valid(schema: &CompiledSchema, body: &mut Value, pointer: &str, value: Value) {
    let Some((parent, name)) = pointer.rsplit_once('/') else {
        return;
    };
    let name = img2img_specs::schema::unescape(name);
    let mut candidates = vec![value.clone()];
    if value.is_number() {
        candidates.push(Value::String(value.to_string()));
    }
    for candidate in candidates {
        let Some(Value::Object(map)) = body.pointer_mut(parent) else {
            return;
        };
        let previous = map.insert(name.clone(), candidate);
        if schema.is_valid(body) {
            return;
        }
        let Some(Value::Object(map)) = body.pointer_mut(parent) else {
            return;
        };
        match previous {
            Some(previous) => map.insert(name.clone(), previous),
            None => map.remove(&name),
        };
    }
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
    calls: Arc<Calls>,
    /// The emulator's process id (its CPU time is read per row).
    pid: u32,
}

/// What one timed unit of work ended with.
type Outcome = Result<(), String>;

impl Bench {
    fn new(client: &reqwest::Client, base: &str, calls: Calls, pid: u32) -> Bench {
        Bench {
            client: client.clone(),
            base: base.to_owned(),
            calls: Arc::new(calls),
            pid,
        }
    }

    fn provider(&self) -> Provider {
        self.calls.provider
    }

    fn spec(&self) -> &'static Spec {
        Spec::embedded(self.provider())
    }

    fn request(&self, call: &Call) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .request(call.method.into(), format!("{}{}", self.base, call.path));
        for (name, value) in &call.headers {
            request = request.header(name, value);
        }
        match &call.body {
            Some(body) => request.body(body.clone()),
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

    fn is_terminal(&self, state: &Value) -> bool {
        let x_job = &self.spec().extensions().job;
        x_job.status_of(state).is_some_and(|s| x_job.is_terminal(s))
    }

    async fn create(&self) -> Result<Value, String> {
        Bench::json(self.request(&self.calls.create)).await
    }

    async fn poll(&self, created: &Value) -> Result<Value, String> {
        Bench::json(self.request(&self.calls.poll(created)?)).await
    }

    /// Polls until terminal (at once, again and again: the stages take no time).
    async fn poll_to_end(&self, created: Value) -> Result<Value, String> {
        let mut state = created.clone();
        for _ in 0..MAX_POLLS {
            if self.is_terminal(&state) {
                return Ok(state);
            }
            state = self.poll(&created).await?;
        }
        Err(format!(
            "the job of {created} is not done after {MAX_POLLS} polls"
        ))
    }

    /// The create answer of a job that has ended.
    async fn finished_job(&self) -> Value {
        let created = self.create().await.expect("a create");
        self.poll_to_end(created.clone())
            .await
            .expect("the job ends");
        created
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
                                eprintln!("{}: {error}", bench.provider());
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

    async fn polls(&self, created: &Value, level: usize, settings: Settings) -> Row {
        let created = Arc::new(created.clone());
        self.row(level, settings, move |bench: Bench| {
            let created = Arc::clone(&created);
            async move {
                let state = bench.poll(&created).await?;
                if bench.is_terminal(&state) {
                    Ok(())
                } else {
                    Err(format!("the job of {created} is not done: {state}"))
                }
            }
        })
        .await
    }

    async fn jobs(&self, level: usize, settings: Settings) -> Row {
        self.row(level, settings, |bench: Bench| async move {
            let created = bench.create().await?;
            let done = bench.poll_to_end(created).await?;
            let outputs = bench.spec().extensions().job.outputs_of(&done);
            if outputs.is_empty() {
                return Err(format!("no images in {done}"));
            }
            for output in outputs {
                let bytes = if output.starts_with("http://") || output.starts_with("https://") {
                    let response = bench
                        .client
                        .get(&output)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    if !response.status().is_success() {
                        return Err(format!("{output}: HTTP {}", response.status()));
                    }
                    response.bytes().await.map_err(|e| e.to_string())?.to_vec()
                } else {
                    base64::engine::general_purpose::STANDARD
                        .decode(&output)
                        .map_err(|e| format!("an inline image is not base64: {e}"))?
                };
                image::guess_format(&bytes).map_err(|e| {
                    format!(
                        "{}: not an image ({} bytes): {e}",
                        short(&output),
                        bytes.len()
                    )
                })?;
            }
            Ok(())
        })
        .await
    }
}

/// The start of a long text (an inline image), for messages.
fn short(text: &str) -> &str {
    &text[..text.char_indices().nth(80).map_or(text.len(), |(i, _)| i)]
}

/// 32 tasks create a job of `provider` and poll it to its end, again and again, for
/// `settings.load`; returns the emulator's peak RSS in KiB.
async fn sustained_load(
    bin: &Path,
    client: &reqwest::Client,
    provider: Provider,
    input: &str,
    settings: Settings,
) -> u64 {
    let server = Server::start(bin, provider, &[]).await;
    let bench = Bench::new(
        client,
        &server.base,
        Calls::of(provider, input),
        server.pid(),
    );
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
        "\n## Sustained load: {:?} of create-and-poll {provider} jobs, {IN_FLIGHT} in flight\n\n{} jobs ({:.0} jobs/s, p50 {:.2} ms, p99 {:.2} ms, {} errors); emulator RSS every second (MiB): {}; peak (VmHWM) {}; bound: store {STORE_MIB} MiB + {ALLOWANCE_MIB} MiB; held at the end: {stats}",
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
    provider: Provider,
    input: &str,
    settings: Settings,
) -> Comparison {
    println!(
        "\n## Side by side with Prism ({provider}, wrk -t2 -c{IN_FLIGHT} {:?}, the same body)\n",
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
    let spec_file = dir.join(provider.spec_file());
    std::fs::write(&spec_file, provider.embedded_yaml()).expect("the spec file");
    let calls = Calls::of(provider, input);
    let create_call = calls.create.clone();
    let create_script = dir.join("create.lua");
    std::fs::write(&create_script, create_call.wrk_script()).expect("the wrk script");

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
    let prism_bench = Bench::new(client, &prism_base, Calls::of(provider, input), 0);
    let deadline = Instant::now() + settings.prism_start;
    let prism_created = loop {
        if let Ok(created) = prism_bench.create().await
            && let Ok(poll) = calls.poll(&created)
        {
            break Some((created, poll));
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let Some((prism_created, prism_poll_call)) = prism_created else {
        let why = format!(
            "Prism did not accept the create request within {:?}",
            settings.prism_start
        );
        println!("SKIPPED: {why}");
        return Comparison::Skipped(why);
    };
    if let Err(e) = prism_bench.poll(&prism_created).await {
        let why = format!("Prism refused the poll: {e}");
        println!("SKIPPED: {why}");
        return Comparison::Skipped(why);
    }

    let server = Server::start(bin, provider, &[]).await;
    let bench = Bench::new(client, &server.base, calls, server.pid());

    let run = |base: &str, path: &str, script: &Path| {
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
    let creates = run(&server.base, &create_call.path, &create_script).and_then(|emulator| {
        run(&prism_base, &create_call.path, &create_script).map(|prism| (emulator, prism))
    });
    // The job polled is created after the create runs (which fill the job table).
    let created = bench.finished_job().await;
    let poll_call = bench.calls.poll(&created).expect("the finished job's poll");
    let poll_line = poll_call.line();
    let figures = creates.and_then(|(create, prism_create)| {
        let poll_script = dir.join("poll.lua");
        std::fs::write(&poll_script, poll_call.wrk_script()).map_err(|e| e.to_string())?;
        let poll = run(&server.base, &poll_call.path, &poll_script)?;
        let prism_script = dir.join("prism-poll.lua");
        std::fs::write(&prism_script, prism_poll_call.wrk_script()).map_err(|e| e.to_string())?;
        let prism_poll = run(&prism_base, &prism_poll_call.path, &prism_script)?;
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
    let create_line = format!("{}, 512x512", create_call.line());
    let prism = "Prism 5.16 (`prism mock -m false`)";
    for (what, target, f) in [
        (&create_line, prism, &prism_create),
        (&create_line, "emulator", &create),
        (&poll_line, prism, &prism_poll),
        (&poll_line, "emulator", &poll),
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
