//! The emulator as a standalone server.
//!
//! Run with: `cargo run -p img2img-emulator --bin emulator -- --provider all --port 8080`
//!
//! Serves each chosen provider (a spec in `specs/`) under its real path prefix on one port and
//! logs one line per request (method, path, status, latency; never a key). See `img2img_emulator`
//! for what it serves, the `x-emulator-fault` header and the scenario file format.

use std::ffi::OsString;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser};
use img2img_emulator::{
    AnswerStyle, Config, Emulator, Fault, FaultRule, KeyFault, Latency, Scenario,
};
use img2img_specs::{ApiKey, Provider};

/// Faithful local emulators of image-to-image providers, each served from its spec alone.
#[derive(Debug, Parser)]
#[command(name = "emulator", version)]
struct Args {
    /// Which providers to serve (set from the specs at run time).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "all",
        value_name = "ID|all"
    )]
    provider: Vec<String>,
    /// Port to listen on (0: a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// An accepted key (repeatable). None: any non-empty key is accepted, with a warning.
    #[arg(long = "api-key", value_name = "KEY")]
    api_keys: Vec<String>,
    /// How the create call of a sync-or-queued provider answers: with the finished job (sync,
    /// the default) or at once with the job queued; for every provider, or `ID=STYLE` for one
    /// (repeatable).
    #[arg(long = "answer-style", value_name = "[ID=]sync|queued")]
    answer_styles: Vec<Setting<AnswerStyle>>,
    /// Images per key per minute (instead of the spec's `x-limits`); turns the rate limits on
    /// (repeatable).
    #[arg(long = "images-per-minute", value_name = "[ID=]N")]
    images_per_minute: Vec<Setting<u32>>,
    /// Unfinished jobs per key (instead of the spec's `x-limits`); turns the rate limits on
    /// (repeatable).
    #[arg(long = "queued-requests", value_name = "[ID=]N")]
    queued_requests: Vec<Setting<u32>>,
    /// The wait, in seconds, a refusal over the queued-requests limit asks for (repeatable).
    #[arg(long = "retry-after", value_name = "[ID=]SECS")]
    retry_after: Vec<Setting<u32>>,
    /// Retries of a failed webhook delivery (instead of the spec's; repeatable).
    #[arg(long = "webhook-retries", value_name = "[ID=]N")]
    webhook_retries: Vec<Setting<u32>>,
    /// Duration of each job stage (queued, processing), in milliseconds.
    #[arg(long, value_name = "N")]
    latency_ms: Option<u64>,
    /// Apply the rate limits of each spec's `x-limits` (images per minute, queued requests).
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

/// A per-provider setting: `VALUE` for every provider, or `ID=VALUE` for one.
#[derive(Debug, Clone)]
struct Setting<T> {
    provider: Option<Provider>,
    value: T,
}

impl<T: FromStr> FromStr for Setting<T>
where
    T::Err: std::fmt::Display,
{
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (provider, value) = match text.split_once('=') {
            Some((id, value)) => (
                Some(id.trim().parse::<Provider>().map_err(|e| e.to_string())?),
                value,
            ),
            None => (None, text),
        };
        let value = value
            .trim()
            .parse()
            .map_err(|e: T::Err| format!("{value:?}: {e}"))?;
        Ok(Setting { provider, value })
    }
}

/// The older provider-named flags (`--<id>-mode queued`), read as the generic ones
/// (`--answer-style <id>=queued`) for every provider of the specs.
fn with_aliases(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    const SETTINGS: [(&str, &str); 5] = [
        ("mode", "answer-style"),
        ("images-per-minute", "images-per-minute"),
        ("queued-requests", "queued-requests"),
        ("retry-after", "retry-after"),
        ("webhook-retries", "webhook-retries"),
    ];
    let alias = |arg: &str| {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg, None),
        };
        let rest = flag.strip_prefix("--")?;
        Provider::all().find_map(|provider| {
            let setting = rest.strip_prefix(provider.id())?.strip_prefix('-')?;
            let (_, generic) = SETTINGS.iter().find(|(old, _)| *old == setting)?;
            Some((provider, format!("--{generic}"), inline.clone()))
        })
    };
    let mut out = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.to_str().and_then(alias) {
            Some((provider, flag, inline)) => {
                let value = inline.or_else(|| args.next().and_then(|v| v.into_string().ok()));
                out.push(flag.into());
                out.push(format!("{}={}", provider.id(), value.unwrap_or_default()).into());
            }
            None => out.push(arg),
        }
    }
    out
}

fn parse_args() -> Args {
    let command = Args::command().mut_arg("provider", |arg| {
        arg.help(format!(
            "Which providers to serve: ids of the specs in specs/ ({}), comma-separated or repeated, or `all`",
            Provider::known()
        ))
    });
    let matches = command.get_matches_from(with_aliases(std::env::args_os()));
    Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The providers `--provider` names (`all`: every spec); an unknown id is refused naming the
/// known ones.
fn providers(ids: &[String]) -> Result<Vec<Provider>, String> {
    if ids.iter().any(|id| id == "all") {
        return Ok(Provider::all().collect());
    }
    let mut providers = ids
        .iter()
        .map(|id| {
            id.trim()
                .parse::<Provider>()
                .map_err(|e| format!("--provider: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    providers.sort();
    providers.dedup();
    Ok(providers)
}

/// Applies a per-provider setting to `config`.
fn apply<T: Copy>(
    config: &mut Config,
    settings: &[Setting<T>],
    set: impl Fn(&mut img2img_emulator::ProviderSettings, T),
) {
    for setting in settings {
        match setting.provider {
            Some(provider) => set(config.settings_mut(provider), setting.value),
            None => {
                for provider in Provider::all() {
                    set(config.settings_mut(provider), setting.value);
                }
            }
        }
    }
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
    apply(&mut config, &args.answer_styles, |s, v| {
        s.answer_style = Some(v)
    });
    apply(&mut config, &args.images_per_minute, |s, v| {
        s.images_per_minute = Some(v)
    });
    apply(&mut config, &args.queued_requests, |s, v| {
        s.queued_requests = Some(v)
    });
    apply(&mut config, &args.retry_after, |s, v| {
        s.retry_after_secs = Some(v)
    });
    apply(&mut config, &args.webhook_retries, |s, v| {
        s.webhook_retries = Some(v)
    });
    if args.rate_limit || !args.images_per_minute.is_empty() || !args.queued_requests.is_empty() {
        config.rate_limit = true;
    }
    if let Some(ms) = args.latency_ms {
        config.latency = Latency::per_stage(Duration::from_millis(ms));
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
    let args = parse_args();
    let (config, providers) = match config(&args).and_then(|c| Ok((c, providers(&args.provider)?)))
    {
        Ok(both) => both,
        Err(error) => {
            eprintln!("emulator: {error}");
            return std::process::ExitCode::from(2);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let args = with_aliases(
            std::iter::once("emulator")
                .chain(args.iter().copied())
                .map(OsString::from),
        );
        let matches = Args::command()
            .try_get_matches_from(args)
            .map_err(|e| e.to_string())?;
        let args = Args::from_arg_matches(&matches).map_err(|e| e.to_string())?;
        providers(&args.provider)?;
        config(&args)
    }

    #[test]
    fn settings_are_per_provider_id_and_the_old_flags_are_aliases() {
        let first = Provider::all().next().unwrap();
        let id = first.id();
        let config = parse(&[
            &format!("--{id}-mode"),
            "queued",
            &format!("--images-per-minute={id}=3"),
            "--webhook-retries",
            "2",
        ])
        .unwrap();
        let settings = config.settings(first);
        assert_eq!(settings.answer_style, Some(AnswerStyle::Queued));
        assert_eq!(settings.images_per_minute, Some(3));
        assert!(config.rate_limit, "a limit given turns the limits on");
        for provider in Provider::all() {
            assert_eq!(config.settings(provider).webhook_retries, Some(2));
        }
        let config = parse(&[&format!("--{id}-mode=sync")]).unwrap();
        assert_eq!(config.settings(first).answer_style, Some(AnswerStyle::Sync));
    }

    #[test]
    fn unknown_providers_and_values_are_refused_naming_what_is_known() {
        let error = parse(&["--provider", "acme"]).unwrap_err();
        assert!(
            error.contains("unknown provider \"acme\": expected one of"),
            "{error}"
        );
        for provider in Provider::all() {
            assert!(error.contains(provider.id()), "{error}");
        }
        let error = parse(&["--answer-style", "acme=queued"]).unwrap_err();
        assert!(error.contains("unknown provider \"acme\""), "{error}");
        let error = parse(&["--answer-style", "later"]).unwrap_err();
        assert!(error.contains("is not one of sync, queued"), "{error}");
        assert_eq!(
            providers(&["all".into()]).unwrap().len(),
            Provider::all().len()
        );
    }
}
