//! What the three providers share (reading a create request by its `x-feature`s, starting a job)
//! and the dispatch to each provider's own shapes: [`gptproto`], [`novita`], [`modelslab`].

pub(crate) mod gptproto;
pub(crate) mod modelslab;
pub(crate) mod novita;

use std::sync::Arc;
use std::time::SystemTime;

use axum::http::StatusCode;
use image::RgbImage;
use img2img_specs::Provider;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::error::{ApiError, ErrorKind};
use super::features::{as_number, as_size, feature_value, media_fields};
use super::images::{self, Format, RenderParams, Source};
use super::jobs::{AdmitError, Job, JobRequest, Phase, TestMode};
use super::lifecycle;
use super::state::{Shared, lock};

/// What one request needs besides its body.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// `http://host:port` the client reached the emulator at (for the URLs it answers with).
    pub base: String,
    /// `host:port` forms of this emulator (its own image URLs are accepted as inputs).
    pub own: Vec<String>,
    /// The job must fail with this reason (fault `fail=`).
    pub fail: Option<String>,
}

/// An answer, before faults and defects change it.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Value,
    /// A success of a create call (the `undocumented_status` defect changes its status).
    pub created: bool,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            created: false,
        }
    }

    pub fn created(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            created: true,
        }
    }
}

/// The provider's error body for `error`.
pub(crate) fn error_body(provider: Provider, error: &ApiError) -> Value {
    match provider {
        Provider::Gptproto => gptproto::error_body(error),
        Provider::Novita => novita::error_body(error),
        Provider::Modelslab => modelslab::error_body(error),
    }
}

/// Runs the create operation.
pub(crate) async fn create(
    shared: &Arc<Shared>,
    provider: Provider,
    ctx: &Ctx,
    body: Value,
    key: u64,
) -> Result<Reply, ApiError> {
    match provider {
        Provider::Gptproto => gptproto::create(shared, ctx, body, key).await,
        Provider::Novita => novita::create(shared, ctx, body, key).await,
        Provider::Modelslab => modelslab::create(shared, ctx, body, key).await,
    }
}

/// Runs the result operation; `id` comes from the path or query (GPTProto, Novita), `body` is the
/// JSON body (ModelsLab's fetch).
pub(crate) async fn result(
    shared: &Arc<Shared>,
    provider: Provider,
    ctx: &Ctx,
    id: Option<String>,
    body: Option<Value>,
) -> Result<Reply, ApiError> {
    match provider {
        Provider::Gptproto => gptproto::result(shared, ctx, id),
        Provider::Novita => novita::result(shared, ctx, id),
        Provider::Modelslab => modelslab::result(shared, ctx, body),
    }
}

/// The webhook a finished job sends: URL, body and retries.
pub(crate) fn webhook(shared: &Shared, job: &Job) -> Option<(String, Value, u32)> {
    let url = job.request.webhook.clone()?;
    match job.provider {
        Provider::Gptproto => None,
        Provider::Novita => Some((
            url,
            novita::webhook_event(shared, job),
            shared.config.webhooks.novita_retries,
        )),
        Provider::Modelslab => Some((url, modelslab::webhook_payload(shared, job), 0)),
    }
}

/// A copy of job `id`, if it is held.
pub(crate) fn snapshot(shared: &Shared, id: &str) -> Option<Job> {
    if shared.config.defects.forget_jobs {
        return None;
    }
    lock(&shared.jobs).get(id).cloned()
}

/// The answer to an id the emulator does not hold: the spec's not-found (404), or a 400 under
/// the `not_found_as_bad_request` defect.
pub(crate) fn unknown_job(shared: &Shared, message: String) -> ApiError {
    if shared.config.defects.not_found_as_bad_request {
        ApiError::invalid(message)
    } else {
        ApiError::not_found(message)
    }
}

/// `{base}/emulator/images/{name}`.
pub(crate) fn image_url(base: &str, name: &str) -> String {
    format!("{base}{}{name}", images::IMAGE_PATH)
}

/// What a create request asks for, read by `x-feature`: the job request and the input image
/// (decoded and resized to the output size), or why it cannot be done.
pub(crate) async fn prepare(
    shared: &Arc<Shared>,
    provider: Provider,
    ctx: &Ctx,
    body: &Value,
    echo: Value,
) -> Result<(JobRequest, Option<RgbImage>), ApiError> {
    let info = shared.info(provider);
    let features = &info.features;
    let get = |name: &str| feature_value(features, body, name);
    let label = |name: &str| {
        features
            .get(name)
            .map(|f| f.pointer.trim_start_matches('/').replace('/', "."))
            .unwrap_or_else(|| name.to_owned())
    };
    let text = |name: &str| get(name).and_then(Value::as_str).unwrap_or("").to_owned();

    let (width, height, size_label) = match get("size").and_then(as_size) {
        Some((w, h)) => (w, h, label("size")),
        None => (
            get("width").and_then(as_number).unwrap_or(512.0) as u64,
            get("height").and_then(as_number).unwrap_or(512.0) as u64,
            format!("{} x {}", label("width"), label("height")),
        ),
    };
    let count = get("images_per_call")
        .and_then(as_number)
        .unwrap_or(1.0)
        .max(1.0) as u64;
    let (width, height) = (width.max(1), height.max(1));
    images::check_budget(
        &format!("{size_label} x {}", label("images_per_call")),
        width,
        height,
        count,
        shared.config.pixel_budget,
    )
    .map_err(ApiError::invalid)?;

    let seed = get("seed")
        .and_then(seed_of)
        .unwrap_or_else(|| images::random_u64() & 0xffff_ffff);
    let format = get("output_format")
        .and_then(Value::as_str)
        .and_then(Format::from_name)
        .or_else(|| Format::from_name(&info.spec.extensions().output.default_format))
        .unwrap_or(Format::Png);
    let flag = |value: Option<&Value>| match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "yes",
        _ => false,
    };
    let webhook = match get("webhook") {
        Some(Value::String(url)) if !url.is_empty() => Some(url.clone()),
        Some(Value::Object(hook)) => hook.get("url").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let test_mode = get("webhook_test_mode")
        .filter(|mode| mode.get("enabled") == Some(&Value::Bool(true)))
        .map(|mode| {
            if mode.get("return_task_status").and_then(Value::as_str) == Some("TASK_STATUS_FAILED")
            {
                TestMode::Fail
            } else {
                TestMode::Succeed
            }
        });

    let defects = shared.config.defects;
    let render = RenderParams {
        width: u32::try_from(width)
            .unwrap_or(u32::MAX)
            .saturating_add(if defects.wrong_image_size { 16 } else { 0 }),
        height: u32::try_from(height).unwrap_or(u32::MAX),
        seed,
        prompt: text("prompt"),
        negative_prompt: text("negative_prompt"),
        strength: get("strength").and_then(as_number).unwrap_or(0.5),
        noise: get("noise").and_then(as_number).unwrap_or(0.0),
        steps: get("steps")
            .and_then(as_number)
            .unwrap_or(20.0)
            .clamp(1.0, 1000.0) as u32,
        guidance: get("guidance").and_then(as_number).unwrap_or(7.0),
    };

    // Every image the request carries must be usable; only the init image is decoded.
    let init_pointer = features.get("init_image").map(|f| f.pointer.clone());
    let mut init: Option<(String, axum::body::Bytes)> = None;
    for pointer in media_fields(info.create_schema.schema(), body) {
        let Some(text) = body.pointer(&pointer).and_then(Value::as_str) else {
            continue;
        };
        let field = img2img_specs::field_path(body, &pointer);
        let bytes = match images::source(&field, text, &ctx.own).map_err(ApiError::invalid)? {
            Source::Inline(bytes) => axum::body::Bytes::from(bytes),
            Source::Remote(url) if shared.config.strict_images => {
                return Err(ApiError::invalid(images::remote_refused(&field, url)));
            }
            Source::Remote(url) => {
                tracing::info!(
                    target: "emulator",
                    "{field}: remote image URL {url} is never fetched; a deterministic input derived from the URL stands in for it"
                );
                axum::body::Bytes::from(images::derived_input(url))
            }
            Source::Served(name) => lock(&shared.images)
                .get(name, Instant::now())
                .map(|image| image.bytes.clone())
                .ok_or_else(|| {
                    ApiError::invalid(format!(
                        "{field}: {name} is not an image this emulator serves (unknown, or expired after its TTL)"
                    ))
                })?,
        };
        if Some(&pointer) == init_pointer.as_ref() {
            init = Some((field, bytes));
        } else {
            images::dimensions(&field, &bytes).map_err(ApiError::invalid)?;
        }
    }
    let base = match init {
        Some((field, bytes)) => {
            let max_pixels = info.max_input_pixels;
            let (w, h, prompt) = (render.width, render.height, render.prompt.clone());
            let decoded = tokio::task::spawn_blocking(move || {
                images::decode(&field, &bytes, max_pixels)
                    .map(|input| images::base_image(Some(&input), w, h, &prompt))
            })
            .await
            .map_err(|e| ApiError::invalid(format!("the input image could not be decoded: {e}")))?
            .map_err(ApiError::invalid)?;
            Some(decoded)
        }
        None => None,
    };

    let request = JobRequest {
        render,
        count: u32::try_from(count).unwrap_or(u32::MAX),
        format,
        salt: if defects.ignore_seed {
            images::random_u64()
        } else {
            0
        },
        inline_base64: flag(get("inline_base64")),
        nsfw_detection: flag(get("nsfw_detection")),
        webhook,
        test_mode,
        fail: ctx.fail.clone(),
        base_url: ctx.base.clone(),
        echo,
    };
    Ok((request, base))
}

/// A seed as the response reports it: a number while it fits a signed 64-bit integer (what typed
/// clients hold), otherwise its decimal string (the specs accept both for echoed seeds).
pub(crate) fn seed_json(seed: u64) -> serde_json::Value {
    if i64::try_from(seed).is_ok() {
        serde_json::Value::from(seed)
    } else {
        serde_json::Value::String(seed.to_string())
    }
}

/// A seed the request fixes: a non-negative integer (or decimal string); `None` for random
/// (absent, `null`, Novita's `-1`).
fn seed_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A new job id in the provider's style.
pub(crate) fn new_id(shared: &Shared, provider: Provider) -> String {
    match provider {
        Provider::Gptproto => format!("{:016x}{:016x}", images::random_u64(), images::random_u64()),
        Provider::Novita => {
            let (a, b) = (images::random_u64(), images::random_u64());
            format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xfff,
                0x8000 | (b >> 48) & 0x3fff,
                b & 0xffff_ffff_ffff
            )
        }
        Provider::Modelslab => shared
            .next_numeric_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string(),
    }
}

/// Admits a job (rate limits, bounds) and starts its lifecycle; returns a copy of it.
pub(crate) fn start(
    shared: &Arc<Shared>,
    provider: Provider,
    key: u64,
    request: JobRequest,
    base: Option<RgbImage>,
) -> Result<Job, ApiError> {
    let now = Instant::now();
    let rate = shared.config.rate_limit;
    if provider == Provider::Novita
        && let Some(rate) = rate
        && let Err(wait) =
            lock(&shared.rate).take(key, request.count, rate.novita_images_per_minute, now)
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::RateLimited {
                retry_after: u32::try_from(wait).unwrap_or(u32::MAX),
            },
            format!(
                "rate limit exceeded: at most {} images per minute per key (this request asks for {}); retry in {wait} s",
                rate.novita_images_per_minute, request.count
            ),
        ));
    }
    let queued_limit = match (provider, rate) {
        (Provider::Modelslab, Some(rate)) => Some(rate.modelslab_queued_requests),
        _ => None,
    };
    let latency = shared.config.latency;
    let (done, _) = watch::channel(false);
    let job = Job {
        id: new_id(shared, provider),
        provider,
        key_hash: key,
        request,
        phase: Phase::Queued,
        created: now,
        created_wall: SystemTime::now(),
        processing_started: None,
        finished: None,
        outputs: Vec::new(),
        url_ttl: shared.url_ttl(provider),
        webhook_status: String::new(),
        processing: latency.processing,
        queued: latency.queued,
        done: Arc::new(done),
    };
    let copy = job.clone();
    let evicted = lock(&shared.jobs).admit(job, queued_limit).map_err(|e| match e {
        AdmitError::Full(max) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Unavailable,
            format!("service not available: all {max} job slots hold running jobs (Config::max_jobs)"),
        ),
        AdmitError::QueuedLimit(limit) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::RateLimited {
                retry_after: rate.map_or(30, |r| r.modelslab_retry_after_secs),
            },
            format!("Rate limit exceeded. Maximum {limit} queued requests allowed."),
        ),
    })?;
    {
        let mut store = lock(&shared.images);
        for name in evicted {
            store.remove(&name);
        }
    }
    shared.ensure_sweeper();
    tokio::spawn(lifecycle::run(Arc::clone(shared), copy.id.clone(), base));
    Ok(copy)
}
