//! The `img2img` command: one whole job from the command line.
//!
//! ```text
//! img2img --provider novita --image in.png --prompt "a fox" --model sd_xl_base_1.0.safetensors
//! img2img --provider novita ... --set request.clip_skip=2 --set /request/loras/0/strength=0.7
//! img2img resume '{"provider":"novita","id":"...",...}'     # or: img2img resume job.json
//! ```
//!
//! `--provider` takes the id of any spec in `specs/`; the common flags land where its `x-feature`s
//! say, `--set` sets any other field its create body defines.
//!
//! Exit codes: 0 done; 1 the job failed (the typed error's message, and the handle to resume it);
//! 2 bad flags, an out-of-range value or a missing key — found before any request is sent.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use img2img_specs::{AspectRatio, Feature, Spec};
use serde_json::json;

use crate::client::{Client, JobResult, Progress};
use crate::errors::Error;
use crate::fields::FieldSetting;
use crate::handle::JobHandle;
use crate::images::GeneratedImage;
use crate::request::{ImageRequest, ProviderOptions, Size};
use crate::{ClientConfig, PollPolicy, Provider};

/// Exit code of a failed job.
pub const EXIT_FAILED: u8 = 1;
/// Exit code of bad input found before any request was sent.
pub const EXIT_USAGE: u8 = 2;

/// Run one image-to-image job on any provider with a spec in specs/.
///
/// The key comes from the environment variable the provider's spec names (listed below).
#[derive(Debug, Parser)]
#[command(
    name = "img2img",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// A job to run (when no subcommand is given).
    #[command(flatten)]
    pub run: RunArgs,
    /// Subcommands.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands of `img2img`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resume waiting for a submitted job and fetch its images.
    Resume(ResumeArgs),
}

/// The `--provider` values: every spec's id, its display name and model as help.
fn provider_parser() -> impl TypedValueParser<Value = Provider> {
    PossibleValuesParser::new(Provider::all().map(|provider| {
        let info = &Spec::embedded(provider).extensions().provider;
        PossibleValue::new(provider.id()).help(format!("{}: {}", info.name, info.model))
    }))
    .try_map(|id| id.parse::<Provider>())
}

/// The providers and the variable each reads its key from, for `--help`.
fn providers_help() -> String {
    let mut text = String::from("Providers (specs/*.yaml) and their key variables:");
    for provider in Provider::all() {
        let info = &Spec::embedded(provider).extensions().provider;
        text.push_str(&format!(
            "\n  {:<12} {} ({})",
            provider.id(),
            info.key_env,
            info.name
        ));
    }
    text
}

/// Flags of a new job.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The provider: the id of a spec in specs/.
    #[arg(long, value_parser = provider_parser(), required = true)]
    pub provider: Option<Provider>,
    /// The input image (PNG, JPEG or WebP).
    #[arg(long, required = true)]
    pub image: Option<PathBuf>,
    /// What to make of the image.
    #[arg(long, required = true)]
    pub prompt: Option<String>,
    /// What to keep out of it.
    #[arg(long)]
    pub negative_prompt: Option<String>,
    /// Output size WxH (default: the input image's size).
    #[arg(long, value_parser = parse_size)]
    pub size: Option<Size>,
    /// Number of images.
    #[arg(long)]
    pub n: Option<u32>,
    /// Seed.
    #[arg(long, allow_negative_numbers = true)]
    pub seed: Option<i64>,
    /// How much the image may change.
    #[arg(long, allow_negative_numbers = true)]
    pub strength: Option<f64>,
    /// Sampling steps.
    #[arg(long)]
    pub steps: Option<u32>,
    /// Model (where the spec has one; some require it).
    #[arg(long)]
    pub model: Option<String>,
    /// Sampler, as the provider spells it or by its common name (euler_ancestral, dpmpp_2m...).
    #[arg(long)]
    pub sampler: Option<String>,
    /// Extra noise (where the spec has it).
    #[arg(long, allow_negative_numbers = true)]
    pub noise: Option<f64>,
    /// Guidance scale.
    #[arg(long, allow_negative_numbers = true)]
    pub guidance: Option<f64>,
    /// Output shape W:H, for a provider that takes a ratio rather than a size (16:9).
    #[arg(long, value_parser = parse_aspect_ratio)]
    pub aspect_ratio: Option<AspectRatio>,
    /// Output format (where the spec lets a request choose).
    #[arg(long, alias = "response-image-type")]
    pub output_format: Option<String>,
    /// Any other field of the create body the spec defines: PATH=VALUE (repeatable).
    ///
    /// PATH is dotted (request.loras.0.strength) or a JSON pointer (/request/loras/0/strength);
    /// VALUE is read as JSON when it is JSON, else as a string. An unknown field is refused naming
    /// the nearest known ones; a value out of range, naming the range.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<FieldSetting>,
    /// Options shared with `resume`.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Flags of `img2img resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The job handle: its JSON, or the path of a file holding it.
    pub handle: String,
    /// Options shared with a new job.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Flags of both a new job and `resume`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Base URL scheme://host[:port] (an emulator, a proxy, staging).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Where to write the images.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub deadline: u64,
    /// Time limit of one HTTP request, in seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// More log lines on stderr (-v: every request; -vv: debug).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The flag that sets each neutral request field, by the feature it lands on (only this module
/// names flags; the library names fields).
const FLAGS: &[(Feature, &str)] = &[
    (Feature::Prompt, "--prompt"),
    (Feature::NegativePrompt, "--negative-prompt"),
    (Feature::InitImage, "--image"),
    (Feature::Size, "--size"),
    (Feature::Width, "--size"),
    (Feature::Height, "--size"),
    (Feature::ImagesPerCall, "--n"),
    (Feature::Seed, "--seed"),
    (Feature::Strength, "--strength"),
    (Feature::Steps, "--steps"),
    (Feature::Model, "--model"),
    (Feature::Sampler, "--sampler"),
    (Feature::Noise, "--noise"),
    (Feature::Guidance, "--guidance"),
    (Feature::AspectRatio, "--aspect-ratio"),
    (Feature::OutputFormat, "--output-format"),
];

/// A refused request's error, with the flag that sets the field at fault: the `--set` that named
/// it, the body field the spec's feature view places a flag's feature at, or the feature the
/// provider lacks. A size nobody gave came from the input image (`size_given` false).
fn with_flag(
    provider: Provider,
    error: &Error,
    settings: &[FieldSetting],
    size_given: bool,
) -> String {
    let text = error.to_string();
    let Error::InvalidRequest {
        field: Some(field), ..
    } = error
    else {
        return text;
    };
    if let Some(setting) = settings.iter().find(|s| s.names(field)) {
        return format!("{text} (set by --set {setting})");
    }
    let spec = Spec::embedded(provider);
    let feature = spec
        .features(&spec.extensions().job.create)
        .iter()
        .find(|f| !f.in_array() && f.name() == *field)
        .map(|f| f.feature)
        .or_else(|| field.parse::<Feature>().ok());
    match FLAGS.iter().find(|(f, _)| Some(*f) == feature) {
        Some((_, "--size")) if !size_given => {
            format!("{text} (the input image's size; --size sets another)")
        }
        Some((_, flag)) => format!("{text} (set by {flag})"),
        None => text,
    }
}

fn parse_size(text: &str) -> Result<Size, String> {
    text.parse()
}

fn parse_aspect_ratio(text: &str) -> Result<AspectRatio, String> {
    AspectRatio::parse(text).ok_or_else(|| {
        format!(
            "aspect ratio {text:?} is not W:H with two positive whole numbers (for example 16:9)"
        )
    })
}

/// The `img2img` command: parses the process arguments, runs the job (or `resume`), and returns
/// the exit code (0 done, 1 the job failed, 2 bad input found before any request was sent).
pub fn main() -> ExitCode {
    let matches = Cli::command().after_help(providers_help()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let verbose = match &cli.command {
        Some(Command::Resume(args)) => args.common.verbose,
        None => cli.run.common.verbose,
    };
    init_logging(verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("img2img: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    ExitCode::from(runtime.block_on(run(cli)))
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Runs a parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> u8 {
    match cli.command {
        Some(Command::Resume(args)) => resume(args).await,
        None => run_job(cli.run).await,
    }
}

fn usage_error(error: impl std::fmt::Display) -> u8 {
    eprintln!("img2img: {error}");
    EXIT_USAGE
}

fn config(provider: Provider, common: &CommonArgs, base_url: Option<String>) -> ClientConfig {
    let mut config = ClientConfig::new(provider)
        .timeout(Some(Duration::from_secs(common.timeout.max(1))))
        .poll(PollPolicy {
            deadline: Duration::from_secs(common.deadline),
            ..PollPolicy::default()
        });
    config.base_url = common.base_url.clone().or(base_url);
    config
}

async fn run_job(args: RunArgs) -> u8 {
    let (Some(provider), Some(image_path), Some(prompt)) =
        (args.provider, args.image.as_ref(), args.prompt.clone())
    else {
        return usage_error("--provider, --image and --prompt are required");
    };
    let image = match std::fs::read(image_path) {
        Ok(bytes) => bytes,
        Err(e) => return usage_error(format!("cannot read --image {}: {e}", image_path.display())),
    };
    let request = ImageRequest {
        prompt,
        negative_prompt: args.negative_prompt,
        image,
        size: args.size,
        n: args.n,
        seed: args.seed,
        strength: args.strength,
        steps: args.steps,
        options: ProviderOptions {
            model: args.model,
            sampler: args.sampler,
            noise: args.noise,
            guidance: args.guidance,
            aspect_ratio: args.aspect_ratio,
            output_format: args.output_format,
            fields: args.set,
        },
    };
    if let Err(e) = check_out_dir(&args.common.out) {
        return usage_error(e);
    }
    let client = match Client::new(config(provider, &args.common, None)) {
        Ok(client) => client,
        Err(e) => return usage_error(format!("{provider}: {e}")),
    };
    // Everything the spec can check is checked here, before the paid call.
    let prepared = match client.prepare(&request) {
        Ok(prepared) => prepared,
        Err(e) => {
            let settings = &request.options.fields;
            let text = with_flag(provider, &e, settings, request.size.is_some());
            return usage_error(format!("{provider}: {text}"));
        }
    };
    drop(request);
    if !args.common.json {
        eprintln!("img2img: submitting to {provider} at {}", client.base_url());
    }
    let handle = match client.submit_prepared(prepared).await {
        Ok(handle) => handle,
        Err(e) => return report_failure(&args.common, provider, &e, None),
    };
    let saved = save_handle(&args.common.out, &handle);
    if !args.common.json {
        eprintln!("img2img: submitted job {}", handle.id);
        if let Some(path) = &saved {
            eprintln!(
                "img2img: handle saved to {} (img2img resume {})",
                path.display(),
                path.display()
            );
        }
    }
    finish(&client, &args.common, handle, saved).await
}

async fn resume(args: ResumeArgs) -> u8 {
    let handle = match JobHandle::parse(&args.handle) {
        Ok(handle) => handle,
        Err(e) => return usage_error(e),
    };
    let file = handle_file(&args.handle);
    if let Some(finished) = file.as_deref().and_then(Finished::read) {
        print_finished(&args.common, &handle, &finished);
        return 0;
    }
    if let Err(e) = check_out_dir(&args.common.out) {
        return usage_error(e);
    }
    let client = match Client::new(config(
        handle.provider,
        &args.common,
        Some(handle.base_url.clone()),
    )) {
        Ok(client) => client,
        Err(e) => return usage_error(format!("{}: {e}", handle.provider)),
    };
    if !args.common.json {
        eprintln!(
            "img2img: resuming {} job {} at {}",
            handle.provider,
            handle.id,
            client.base_url()
        );
    }
    finish(&client, &args.common, handle, file).await
}

/// Waits for the job, writes its images, prints the summary.
async fn finish(
    client: &Client,
    common: &CommonArgs,
    handle: JobHandle,
    saved: Option<PathBuf>,
) -> u8 {
    let provider = handle.provider;
    let started = std::time::Instant::now();
    let quiet = common.json;
    let result = client
        .wait_with_progress(&handle, |p| {
            if !quiet {
                print_progress(p);
            }
        })
        .await;
    let result = match result {
        Ok(result) => result,
        Err(e) => return report_failure(common, provider, &e, Some(&handle)),
    };
    let images = match client.fetch_images(&result).await {
        Ok(images) => images,
        Err(e) => return report_failure(common, provider, &e, Some(&handle)),
    };
    let written = match write_images(&common.out, &handle, &images) {
        Ok(paths) => paths,
        Err(e) => {
            return report_failure(common, provider, &Error::config(e), Some(&handle));
        }
    };
    if let Some(path) = saved {
        Finished::record(&path, &handle, &result.status, &written);
    }
    print_summary(common, &result, &images, &written, started.elapsed());
    0
}

/// The path of a handle given as a file (`None` for handle JSON given inline).
fn handle_file(text_or_path: &str) -> Option<PathBuf> {
    let trimmed = text_or_path.trim();
    (!trimmed.starts_with('{')).then(|| PathBuf::from(trimmed))
}

/// What a handle file says once its job has finished: its final status and the images written.
/// The file keeps the handle's fields beside `finished`, so it still reads as a handle.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Finished {
    /// The provider's terminal status word.
    status: String,
    /// The image files written, in order.
    images: Vec<PathBuf>,
    /// When the images were written.
    finished_at: chrono::DateTime<chrono::Utc>,
}

impl Finished {
    /// Rewrites the handle file at `path` with the finished state (best effort: the images are
    /// already written, and a handle file that stays unfinished only means a `resume` polls again).
    fn record(path: &Path, handle: &JobHandle, status: &str, images: &[PathBuf]) {
        let finished = Finished {
            status: status.to_owned(),
            images: images.to_vec(),
            finished_at: chrono::Utc::now(),
        };
        let mut value = serde_json::to_value(handle).unwrap_or_else(|_| json!({}));
        if let (Some(map), Ok(state)) = (value.as_object_mut(), serde_json::to_value(finished)) {
            map.insert("finished".into(), state);
        }
        let _ = std::fs::write(path, value.to_string());
    }

    /// The finished state a handle file holds, if its job has finished.
    fn read(path: &Path) -> Option<Finished> {
        let text = std::fs::read_to_string(path).ok()?;
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        serde_json::from_value(value.get("finished")?.clone()).ok()
    }
}

/// `resume` of a job that already finished: where its images are; nothing is sent.
fn print_finished(common: &CommonArgs, handle: &JobHandle, finished: &Finished) {
    let mut stdout = std::io::stdout().lock();
    if common.json {
        let summary = json!({
            "provider": handle.provider.id(),
            "job": handle,
            "status": finished.status,
            "already_finished": true,
            "finished_at": finished.finished_at,
            "images": finished.images.iter().map(|path| json!({
                "path": path,
                "exists": path.exists(),
            })).collect::<Vec<_>>(),
        });
        let _ = writeln!(stdout, "{summary}");
        return;
    }
    let _ = writeln!(
        stdout,
        "{} job {} already finished ({}, {}); nothing was sent. Its images:",
        handle.provider,
        handle.id,
        finished.status,
        finished
            .finished_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    for path in &finished.images {
        let gone = if path.exists() {
            ""
        } else {
            "  (no longer there)"
        };
        let _ = writeln!(stdout, "  {}{gone}", path.display());
    }
}

fn print_progress(p: &Progress) {
    let mut line = format!("img2img: waiting: {}", p.status);
    if let Some(percent) = p.percent {
        line.push_str(&format!(" {percent}%"));
    }
    if let Some(eta) = p.eta {
        line.push_str(&format!(", eta {}s", eta.as_secs()));
    }
    line.push_str(&format!(
        " (poll {}, {:.0}s elapsed, next in {:.1}s)",
        p.polls,
        p.elapsed.as_secs_f64(),
        p.next_poll_in.as_secs_f64()
    ));
    eprintln!("{line}");
}

fn check_out_dir(out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create --out {}: {e}", out.display()))
}

fn file_stem(handle: &JobHandle) -> String {
    let id: String = handle
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!(
        "{}-{}",
        handle.provider,
        if id.is_empty() { "job".into() } else { id }
    )
}

fn save_handle(out: &Path, handle: &JobHandle) -> Option<PathBuf> {
    let path = out.join(format!("{}.job.json", file_stem(handle)));
    std::fs::write(&path, handle.to_json()).ok().map(|_| path)
}

fn write_images(
    out: &Path,
    handle: &JobHandle,
    images: &[GeneratedImage],
) -> Result<Vec<PathBuf>, String> {
    let stem = file_stem(handle);
    images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let path = out.join(format!("{stem}-{i}.{}", image.format.extension()));
            std::fs::write(&path, &image.bytes)
                .map(|_| path.clone())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        })
        .collect()
}

fn print_summary(
    common: &CommonArgs,
    result: &JobResult,
    images: &[GeneratedImage],
    paths: &[PathBuf],
    elapsed: Duration,
) {
    let mut stdout = std::io::stdout().lock();
    if common.json {
        let summary = json!({
            "provider": result.handle.provider.id(),
            "job": result.handle,
            "status": result.status,
            "polls": result.polls,
            "elapsed_ms": elapsed.as_millis() as u64,
            "images": images.iter().zip(paths).map(|(image, path)| json!({
                "path": path,
                "format": image.format,
                "width": image.width,
                "height": image.height,
                "bytes": image.bytes.len(),
                "url": image.url,
            })).collect::<Vec<_>>(),
        });
        let _ = writeln!(stdout, "{summary}");
    } else {
        let _ = writeln!(
            stdout,
            "{} job {} {} after {} poll(s) in {:.1}s: {} image(s)",
            result.handle.provider,
            result.handle.id,
            result.status,
            result.polls,
            elapsed.as_secs_f64(),
            images.len()
        );
        for (image, path) in images.iter().zip(paths) {
            let _ = writeln!(
                stdout,
                "  {}  {} {}x{}  {} bytes",
                path.display(),
                image.format.extension(),
                image.width,
                image.height,
                image.bytes.len()
            );
        }
    }
}

fn report_failure(
    common: &CommonArgs,
    provider: Provider,
    error: &Error,
    handle: Option<&JobHandle>,
) -> u8 {
    if common.json {
        let out = json!({
            "provider": provider.id(),
            "error": {"kind": error.kind(), "message": error.to_string()},
            "job": handle,
        });
        println!("{out}");
    }
    eprintln!("img2img: {provider}: {error}");
    if let Some(handle) = handle {
        eprintln!(
            "img2img: the job was submitted; resume it with:\n  img2img resume '{}'",
            handle.to_json()
        );
    }
    if error.kind() == "config" && handle.is_none() {
        EXIT_USAGE
    } else {
        EXIT_FAILED
    }
}
