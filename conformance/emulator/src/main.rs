//! The providers' emulators as a standalone server.
//!
//! Run with: `cargo run -p img2img-emulator --bin emulator -- --provider all --port 8080`
//!
//! Serves each chosen provider under its real path prefix on one port and logs one line per
//! request (method, path, status, latency; never a key). See `img2img_emulator` for the
//! contract, the `x-emulator-fault` header and the scenario file format.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use img2img_emulator::{
    Config, Emulator, Fault, FaultRule, KeyFault, Latency, ModelslabMode, RateLimit, Scenario,
};
use img2img_specs::{ApiKey, Provider};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Which {
    Gptproto,
    Novita,
    Modelslab,
    All,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    Sync,
    Queued,
}

/// Faithful local emulators of GPTProto, Novita and ModelsLab image-to-image.
#[derive(Debug, Parser)]
#[command(name = "emulator", version)]
struct Args {
    /// Which provider to serve (`all`: each under its real path prefix).
    #[arg(long, value_enum, default_value = "all")]
    provider: Which,
    /// Port to listen on (0: a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// An accepted key (repeatable). None: any non-empty key is accepted, with a warning.
    #[arg(long = "api-key", value_name = "KEY")]
    api_keys: Vec<String>,
    /// ModelsLab answers with the images (sync) or with processing and fetch_result (queued).
    #[arg(long, value_enum, default_value = "sync")]
    modelslab_mode: Mode,
    /// Duration of each job stage (queued, processing), in milliseconds.
    #[arg(long, value_name = "N")]
    latency_ms: Option<u64>,
    /// Apply the providers' rate limits (Novita images per minute, ModelsLab queued requests).
    #[arg(long)]
    rate_limit: bool,
    /// Most output pixels (width * height * count) one request may ask for.
    #[arg(long, value_name = "N")]
    pixel_budget: Option<u64>,
    /// Seconds finished jobs and their images are kept.
    #[arg(long, value_name = "SECS")]
    job_ttl: Option<u64>,
    /// Most jobs held at once (running or finished; the oldest finished go first).
    #[arg(long, value_name = "N")]
    max_jobs: Option<usize>,
    /// Most bytes the image store holds (rendered images and the inputs they are made from), in
    /// MiB.
    #[arg(long, value_name = "MIB")]
    max_stored_mib: Option<u64>,
    /// A fault applied to every request, as in the x-emulator-fault header (repeatable).
    #[arg(long = "fault", value_name = "FAULT")]
    faults: Vec<Fault>,
    /// A fault for every request carrying KEY (repeatable), e.g. `sk-fail=fail=nsfw detected`: for
    /// clients that cannot send the x-emulator-fault header. The key is accepted too.
    #[arg(long = "key-fault", value_name = "KEY=FAULT")]
    key_faults: Vec<KeyFault>,
    /// Refuse image URLs this emulator did not serve (400) instead of standing in for each an input
    /// derived from the URL; either way no URL is ever fetched.
    #[arg(long)]
    strict_images: bool,
    /// A JSON scenario file (see `img2img_emulator` docs); flags given beside it win.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
}

fn config(args: &Args) -> Result<Config, String> {
    let mut config = Config::default();
    if let Some(path) = &args.scenario {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--scenario {}: {e}", path.display()))?;
        config = Scenario::parse(&text)
            .and_then(|scenario| scenario.apply(config))
            .map_err(|e| format!("--scenario {}: {e}", path.display()))?;
    }
    if !args.api_keys.is_empty() {
        config.api_keys = args.api_keys.iter().map(ApiKey::new).collect();
    }
    if matches!(args.modelslab_mode, Mode::Queued) {
        config.modelslab_mode = ModelslabMode::Queued;
    }
    if let Some(ms) = args.latency_ms {
        config.latency = Latency::per_stage(Duration::from_millis(ms));
    }
    if args.rate_limit {
        config.rate_limit = Some(RateLimit::default());
    }
    if let Some(budget) = args.pixel_budget {
        config.pixel_budget = budget;
    }
    if args.strict_images {
        config.strict_images = true;
    }
    if let Some(secs) = args.job_ttl {
        config.job_ttl = Duration::from_secs(secs);
    }
    if let Some(max) = args.max_jobs {
        config.max_jobs = max;
    }
    if let Some(mib) = args.max_stored_mib {
        config.max_stored_bytes = mib.saturating_mul(1024 * 1024);
    }
    config
        .faults
        .extend(args.faults.iter().cloned().map(FaultRule::always));
    config.key_faults.extend(args.key_faults.iter().cloned());
    Ok(config)
}

/// Log lines gathered in memory and written to stdout in batches by a background thread (every
/// 50 ms, at once past 256 KiB, and at exit): one write per batch rather than one per request.
#[derive(Clone, Default)]
struct BatchedStdout(Arc<Mutex<Vec<u8>>>);

/// Pending log bytes above which the writer flushes at once.
const LOG_BATCH_BYTES: usize = 256 * 1024;

impl BatchedStdout {
    fn start() -> BatchedStdout {
        let out = BatchedStdout::default();
        let flusher = out.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(50));
                flusher.flush_now();
            }
        });
        out
    }

    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn flush_now(&self) {
        let batch = self.take();
        if !batch.is_empty() {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&batch);
            let _ = stdout.flush();
        }
    }
}

impl Write for BatchedStdout {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut pending = self.0.lock().unwrap_or_else(|p| p.into_inner());
            pending.extend_from_slice(bytes);
            pending.len() > LOG_BATCH_BYTES
        };
        if full {
            self.flush_now();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStdout {
    type Writer = BatchedStdout;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let log = BatchedStdout::start();
    let code = run(log.clone()).await;
    log.flush_now();
    code
}

async fn run(log: BatchedStdout) -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_writer(log)
        .init();
    let args = Args::parse();
    let config = match config(&args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("emulator: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let providers: Vec<Provider> = match args.provider {
        Which::Gptproto => vec![Provider::named("gptproto")],
        Which::Novita => vec![Provider::named("novita")],
        Which::Modelslab => vec![Provider::named("modelslab")],
        Which::All => Provider::all().collect::<Vec<_>>(),
    };
    let emulator =
        match Emulator::bind(SocketAddr::new(args.host, args.port), &providers, config).await {
            Ok(emulator) => emulator,
            Err(error) => {
                eprintln!(
                    "emulator: cannot listen on {}:{}: {error}",
                    args.host, args.port
                );
                return std::process::ExitCode::from(1);
            }
        };
    let names: Vec<&str> = providers.iter().map(|p| p.id()).collect();
    tracing::info!("serving {} on {}", names.join(", "), emulator.base_url());
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    std::process::ExitCode::SUCCESS
}
