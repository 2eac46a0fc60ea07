//! What the three providers share (reading a create request by its `x-feature`s, starting a job)
//! and the dispatch to each provider's own shapes: [`gptproto`], [`novita`], [`modelslab`].

pub(crate) mod gptproto;
pub(crate) mod modelslab;
pub(crate) mod novita;

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::http::StatusCode;
use img2img_specs::extensions::Stages;
use img2img_specs::{Feature, Provider, media_fields};
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::error::{ApiError, ErrorKind};
use super::features::{as_number, as_size};
use super::images::{self, Format, RenderParams, Source};
use super::inputs::Input;
use super::jobs::{AdmitError, Job, JobRequest, Phase, TestMode};
use super::lifecycle;
use super::rendering;
use super::state::{Shared, lock};

/// Inputs up to this many pixels are decoded on the request's own task; larger ones on the
/// blocking pool.
const INLINE_DECODE_PIXELS: u64 = 128 * 128;

/// What one request needs besides its body.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The `Host` header, if the request had one.
    pub host: Option<String>,
    /// The job must fail with this reason (fault `fail=`).
    pub fail: Option<String>,
    /// The result operation of the API family the request came through (where a job created by
    /// it is read: ModelsLab's `fetch_result`, GPTProto's `urls.get`).
    pub result_operation: String,
}

impl Ctx {
    /// `http://host:port` the client reached the emulator at (for the URLs it answers with).
    pub fn base(&self, shared: &Shared) -> String {
        match (&self.host, shared.bound.get()) {
            (Some(host), _) => format!("http://{host}"),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => "http://localhost".to_owned(),
        }
    }

    /// `host:port` forms of this emulator (its own image URLs are accepted as inputs).
    pub fn own(&self, shared: &Shared) -> Vec<String> {
        shared.own_authorities(self.host.as_deref())
    }
}

/// An answer's JSON body: a value, or already serialized (a poll's body, written straight from
/// typed fields rather than built as a tree first).
#[derive(Debug, Clone)]
pub(crate) enum ReplyBody {
    Value(Value),
    Json(Vec<u8>),
}

impl ReplyBody {
    /// The bytes on the wire.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            ReplyBody::Value(value) => serde_json::to_vec(&value).unwrap_or_default(),
            ReplyBody::Json(bytes) => bytes,
        }
    }
}

/// An answer, before faults and defects change it.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: ReplyBody,
    /// A success of a create call (the `undocumented_status` defect changes its status).
    pub created: bool,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: ReplyBody::Value(body),
            created: false,
        }
    }

    /// A 200 with `body` serialized.
    pub fn ok_json(body: &impl serde::Serialize) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: ReplyBody::Json(serde_json::to_vec(body).unwrap_or_default()),
            created: false,
        }
    }

    pub fn created(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: ReplyBody::Value(body),
            created: true,
        }
    }
}

/// The provider's error body for `error`.
pub(crate) fn error_body(provider: Provider, error: &ApiError) -> Value {
    match provider.id() {
        "gptproto" => gptproto::error_body(error),
        "modelslab" => modelslab::error_body(error),
        _ => novita::error_body(error),
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
    match provider.id() {
        "gptproto" => gptproto::create(shared, ctx, body, key).await,
        "modelslab" => modelslab::create(shared, ctx, body, key).await,
        _ => novita::create(shared, ctx, body, key).await,
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
    match provider.id() {
        "gptproto" => gptproto::result(shared, ctx, id),
        "modelslab" => modelslab::result(shared, ctx, id, body).await,
        _ => novita::result(shared, ctx, id),
    }
}

/// The webhook a finished job sends: URL, body and retries.
pub(crate) async fn webhook(shared: &Shared, job: &Job) -> Option<(String, Value, u32)> {
    let url = job.request.webhook.clone()?;
    match job.provider.id() {
        "gptproto" => None,
        "modelslab" => Some((url, modelslab::webhook_payload(shared, job).await, 0)),
        _ => Some((
            url,
            novita::webhook_event(shared, job),
            shared.config.webhooks.novita_retries,
        )),
    }
}

/// The status word the provider reports for a job in `phase` (`x-job.stages`).
pub(crate) fn stage_word<'a>(stages: &'a Stages, phase: &Phase) -> &'a str {
    match phase {
        Phase::Queued => &stages.queued,
        Phase::Processing => &stages.processing,
        Phase::Succeeded => &stages.succeeded,
        Phase::Failed(_) => &stages.failed,
    }
}

/// A copy of job `id`, if it is held (cheap: the request is shared, not copied).
pub(crate) fn snapshot(shared: &Shared, id: &str) -> Option<Job> {
    if shared.config.defects.forget_jobs {
        return None;
    }
    lock(&shared.jobs).get(id).cloned()
}

/// The absolute URL of `job`'s result through its family's result operation: the operation's
/// path with every `{parameter}` filled with the job id.
pub(crate) fn result_url(shared: &Shared, job: &Job) -> String {
    let info = shared.info(job.provider);
    let path = info
        .spec
        .operation(&job.request.result_operation)
        .map_or_else(String::new, |op| {
            op.parameters
                .iter()
                .filter(|p| p.location == "path")
                .fold(op.path.clone(), |path, p| {
                    path.replace(&format!("{{{}}}", p.name), &job.id)
                })
        });
    format!("{}{path}", job.request.base_url)
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

/// What a create request asks for, read by `x-feature`: the job request and the decoded input
/// image, or why it cannot be done. Nothing is rendered or resized here.
pub(crate) async fn prepare(
    shared: &Arc<Shared>,
    provider: Provider,
    ctx: &Ctx,
    body: &Value,
    echo: Value,
) -> Result<(JobRequest, Option<Arc<Input>>), ApiError> {
    let info = shared.info(provider);
    let get = |feature: Feature| info.feature(feature).and_then(|f| f.value_in(body));
    let label = |feature: Feature| {
        info.feature(feature)
            .map_or_else(|| feature.as_str().to_owned(), |f| f.name())
    };
    let text = |feature: Feature| {
        get(feature)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let defaults = info.render_defaults;

    let size = get(Feature::Size).and_then(as_size);
    let (width, height) = size.unwrap_or_else(|| {
        (
            get(Feature::Width)
                .and_then(as_number)
                .unwrap_or(f64::from(defaults.width)) as u64,
            get(Feature::Height)
                .and_then(as_number)
                .unwrap_or(f64::from(defaults.height)) as u64,
        )
    });
    let count = get(Feature::ImagesPerCall)
        .and_then(as_number)
        .unwrap_or(1.0)
        .max(1.0) as u64;
    let (width, height) = (width.max(1), height.max(1));
    let pixels = width.saturating_mul(height).saturating_mul(count);
    if pixels > shared.config.pixel_budget {
        // The labels are only spelled out for the error.
        let size_label = match size {
            Some(_) => label(Feature::Size),
            None => format!("{} x {}", label(Feature::Width), label(Feature::Height)),
        };
        images::check_budget(
            &format!("{size_label} x {}", label(Feature::ImagesPerCall)),
            width,
            height,
            count,
            shared.config.pixel_budget,
        )
        .map_err(ApiError::invalid)?;
    }

    let seed = get(Feature::Seed)
        .and_then(seed_of)
        .unwrap_or_else(|| images::random_u64() & 0xffff_ffff);
    let format = get(Feature::OutputFormat)
        .and_then(Value::as_str)
        .and_then(Format::from_name)
        .or_else(|| Format::from_name(&info.spec.extensions().output.default_format))
        .unwrap_or(Format::Png);
    let flag = |value: Option<&Value>| match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "yes",
        _ => false,
    };
    let webhook = match get(Feature::Webhook) {
        Some(Value::String(url)) if !url.is_empty() => Some(url.clone()),
        Some(Value::Object(hook)) => hook.get("url").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let test_mode = get(Feature::WebhookTestMode)
        .filter(|mode| mode.get("enabled") == Some(&Value::Bool(true)))
        .map(|mode| {
            if mode.get("return_task_status").and_then(Value::as_str)
                == Some(info.stages.failed.as_str())
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
        prompt: text(Feature::Prompt),
        negative_prompt: text(Feature::NegativePrompt),
        strength: get(Feature::Strength)
            .and_then(as_number)
            .unwrap_or(defaults.strength),
        noise: get(Feature::Noise).and_then(as_number).unwrap_or(0.0),
        steps: get(Feature::Steps)
            .and_then(as_number)
            .unwrap_or(f64::from(defaults.steps))
            .clamp(1.0, 1000.0) as u32,
        guidance: get(Feature::Guidance)
            .and_then(as_number)
            .unwrap_or(defaults.guidance),
    };

    // Every image the request carries must be usable; only the init image is decoded.
    let init_pointer = info.feature(Feature::InitImage).map(|f| f.pointer.as_str());
    let max_pixels = info.max_input_pixels;
    let mut input = None;
    let mut init = None;
    let mut own = None;
    for pointer in media_fields(info.create_schema.schema(), body) {
        let Some(text) = body.pointer(&pointer).and_then(Value::as_str) else {
            continue;
        };
        let is_init = Some(pointer.as_str()) == init_pointer;
        if is_init && let Some(known) = lock(&shared.renderer.inputs).get(text, max_pixels) {
            input = Some(known);
            continue;
        }
        let field = img2img_specs::field_path(body, &pointer);
        let own = own.get_or_insert_with(|| ctx.own(shared));
        let (bytes, cacheable) = match images::source(&field, text, own)
            .map_err(ApiError::invalid)?
        {
            Source::Inline(bytes) => (Bytes::from(bytes), true),
            Source::Remote(url) if shared.config.strict_images => {
                return Err(ApiError::invalid(images::remote_refused(&field, url)));
            }
            Source::Remote(url) => {
                tracing::info!(
                    target: "emulator",
                    "{field}: remote image URL {url} is never fetched; a deterministic input derived from the URL stands in for it"
                );
                (Bytes::from(images::derived_input(url)), true)
            }
            Source::Served(name) => match rendering::image(shared, name).await {
                Ok(Some((encoded, _))) => (encoded.contiguous(), false),
                Ok(None) => {
                    return Err(ApiError::invalid(format!(
                        "{field}: {name} is not an image this emulator serves (unknown, or expired after its TTL)"
                    )));
                }
                Err(error) => return Err(ApiError::invalid(format!("{field}: {error}"))),
            },
        };
        if is_init {
            init = Some((field, bytes, cacheable.then_some(text)));
        } else {
            images::dimensions(&field, &bytes).map_err(ApiError::invalid)?;
        }
    }
    if let Some((field, bytes, text)) = init {
        let decoded = decode_input(field, bytes, max_pixels).await?;
        if let Some(text) = text {
            lock(&shared.renderer.inputs).put(text, max_pixels, &decoded);
        }
        input = Some(decoded);
    }

    let request = JobRequest {
        render,
        count: u32::try_from(count).unwrap_or(u32::MAX),
        format,
        salt: if defects.ignore_seed {
            images::random_u64()
        } else {
            0
        },
        inline_base64: flag(get(Feature::InlineBase64)),
        nsfw_detection: flag(get(Feature::NsfwDetection)),
        webhook,
        test_mode,
        fail: ctx.fail.clone(),
        base_url: ctx.base(shared),
        result_operation: ctx.result_operation.clone(),
        echo,
        fields: crate::answers::request_fields(body, &info.request_pointers),
        input_url: get(Feature::InitImage)
            .and_then(Value::as_str)
            .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
            .map(str::to_owned),
    };
    Ok((request, input))
}

/// Decodes an init image: small ones right here, larger ones on the blocking pool.
async fn decode_input(
    field: String,
    bytes: Bytes,
    max_pixels: u64,
) -> Result<Arc<Input>, ApiError> {
    let small = images::dimensions(&field, &bytes)
        .is_ok_and(|(w, h)| u64::from(w) * u64::from(h) <= INLINE_DECODE_PIXELS);
    let decoded = if small {
        images::decode(&field, &bytes, max_pixels)
    } else {
        tokio::task::spawn_blocking(move || images::decode(&field, &bytes, max_pixels))
            .await
            .map_err(|e| ApiError::invalid(format!("the input image could not be decoded: {e}")))?
    };
    decoded
        .map(|image| Arc::new(Input::new(image)))
        .map_err(ApiError::invalid)
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
    match provider.id() {
        "gptproto" => format!("{:016x}{:016x}", images::random_u64(), images::random_u64()),
        "modelslab" => shared
            .next_numeric_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string(),
        _ => {
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
    }
}

/// Admits a job (rate limits, bounds) and starts its lifecycle; returns a copy of it.
pub(crate) fn start(
    shared: &Arc<Shared>,
    provider: Provider,
    key: u64,
    request: JobRequest,
    input: Option<Arc<Input>>,
) -> Result<Job, ApiError> {
    let now = Instant::now();
    let rate = shared.config.rate_limit;
    if provider == Provider::named("novita")
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
    let queued_limit = match (provider.id(), rate) {
        ("modelslab", Some(rate)) => Some(rate.modelslab_queued_requests),
        _ => None,
    };
    let latency = shared.config.latency;
    let (done, _) = watch::channel(false);
    let job = Job {
        id: new_id(shared, provider).into(),
        provider,
        key_hash: key,
        request: Arc::new(request),
        phase: Phase::Queued,
        created: now,
        created_wall: SystemTime::now(),
        processing_started: None,
        finished: None,
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
                // A queued limit is only set with `rate`.
                retry_after: rate.map(|r| r.modelslab_retry_after_secs).unwrap_or_default(),
            },
            format!("Rate limit exceeded. Maximum {limit} queued requests allowed."),
        ),
    })?;
    if !evicted.is_empty() {
        let mut store = lock(&shared.images);
        for job in evicted {
            store.remove(&job);
        }
    }
    shared.ensure_sweeper();
    tokio::spawn(lifecycle::run(
        Arc::clone(shared),
        Arc::clone(&copy.id),
        input,
    ));
    Ok(copy)
}

/// The answers rendered from the specs' templates have the bytes of the answers this module built
/// (kept until this comparison passed).
#[cfg(test)]
mod differential {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use axum::http::StatusCode;
    use img2img_specs::Provider;
    use serde_json::{Value, json};
    use tokio::sync::watch;
    use tokio::time::Instant;

    use crate::answers::{ErrorScope, error_answer, job_answer};
    use crate::config::Config;
    use crate::error::{ApiError, ErrorKind};
    use crate::images::{Format, RenderParams};
    use crate::jobs::{Job, JobRequest, Phase};
    use crate::state::Shared;

    fn make(provider: Provider, id: &str, phase: Phase, body: &Value, shared: &Shared) -> Job {
        let info = shared.info(provider);
        let now = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_320_626_942);
        let (started, finished) = match phase {
            Phase::Queued => (None, None),
            Phase::Processing => (Some((now, wall + Duration::from_millis(312))), None),
            _ => (
                Some((now, wall + Duration::from_millis(312))),
                Some((
                    now + Duration::from_millis(1500),
                    wall + Duration::from_millis(1812),
                )),
            ),
        };
        let seed = body["seed"].as_u64().unwrap_or(42);
        let init_image = body
            .get("init_image")
            .and_then(Value::as_str)
            .filter(|s| s.starts_with("http://") || s.starts_with("https://"));
        let echo = json!({
            "model_id": body.get("model_id").cloned().unwrap_or(Value::Null),
            "scheduler": body.get("scheduler").cloned().unwrap_or(json!("DDPMScheduler")),
            "safetychecker": body.get("safety_checker").cloned().unwrap_or(json!("no")),
            "init_image": init_image,
            "track_id": body.get("track_id").cloned().unwrap_or(Value::Null),
        });
        Job {
            id: id.into(),
            provider,
            key_hash: 1,
            request: Arc::new(JobRequest {
                render: RenderParams {
                    width: 512,
                    height: 384,
                    seed,
                    prompt: "a fox".into(),
                    negative_prompt: "blur".into(),
                    strength: 0.5,
                    noise: 0.0,
                    steps: 20,
                    guidance: 7.0,
                },
                count: 2,
                format: if body["webp"] == true {
                    Format::Webp
                } else {
                    Format::Png
                },
                salt: 0,
                inline_base64: false,
                nsfw_detection: body["nsfw"] == true,
                webhook: None,
                test_mode: None,
                fail: None,
                base_url: "http://localhost:8080".into(),
                result_operation: info.job.result.clone(),
                echo,
                fields: crate::answers::request_fields(body, &info.request_pointers),
                input_url: init_image.map(str::to_owned),
            }),
            phase,
            created: now,
            created_wall: wall,
            processing_started: started,
            finished,
            url_ttl: Duration::from_secs(3600),
            webhook_status: "success".into(),
            processing: Duration::from_secs(2),
            queued: Duration::from_secs(1),
            done: Arc::new(watch::channel(false).0),
        }
    }

    async fn new(
        shared: &Shared,
        job: &Job,
        template: &img2img_specs::template::Template,
    ) -> String {
        let info = shared.info(job.provider);
        let url = super::result_url(shared, job);
        let bytes = job_answer(template, job, info.stages, &url, |_| async { None }).await;
        String::from_utf8(bytes).unwrap()
    }

    fn phases() -> Vec<Phase> {
        vec![
            Phase::Queued,
            Phase::Processing,
            Phase::Succeeded,
            Phase::Failed("no luck".into()),
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn job_answers_and_webhooks_keep_their_bytes() {
        let shared = Shared::new(&Provider::all().collect::<Vec<_>>(), Config::default());
        let bodies = [
            json!({"seed": 42}),
            json!({"seed": u64::MAX, "nsfw": true, "webp": true}),
            json!({"seed": 0, "model_id": "m", "scheduler": "X", "safety_checker": "yes",
                   "init_image": "https://example.com/a.png", "track_id": 7}),
            json!({"seed": 9, "model_id": 123, "track_id": "t", "init_image": "aGk="}),
        ];
        let mut compared = 0;
        for body in &bodies {
            for phase in phases() {
                tokio::time::advance(Duration::from_millis(700)).await;
                let gptproto = Provider::named("gptproto");
                let job = make(
                    gptproto,
                    "0123456789abcdef0123456789abcdef",
                    phase.clone(),
                    body,
                    &shared,
                );
                let answers = shared.info(gptproto).answers;
                let old = serde_json::to_string(&super::gptproto::envelope(&shared, &job, false))
                    .unwrap();
                assert_eq!(new(&shared, &job, answers.created()).await, old);
                assert_eq!(new(&shared, &job, &answers.result).await, old);

                let novita = Provider::named("novita");
                let job = make(
                    novita,
                    "1725ab44-3c7c-4735-9671-071dd0a7c9fc",
                    phase.clone(),
                    body,
                    &shared,
                );
                let answers = shared.info(novita).answers;
                let stages = shared.info(novita).stages;
                let old = serde_json::to_string(&super::novita::task_result(stages, &job)).unwrap();
                assert_eq!(new(&shared, &job, &answers.result).await, old);
                assert_eq!(
                    new(&shared, &job, answers.created()).await,
                    serde_json::to_string(&json!({"task_id": &*job.id})).unwrap()
                );
                let old =
                    serde_json::to_string(&super::novita::webhook_event(&shared, &job)).unwrap();
                let webhook = answers.webhook.as_ref().unwrap();
                assert_eq!(new(&shared, &job, &webhook.body).await, old);
                assert_eq!(webhook.retries, 5);

                let modelslab = Provider::named("modelslab");
                let job = make(modelslab, "70000123", phase.clone(), body, &shared);
                let answers = shared.info(modelslab).answers;
                let old =
                    serde_json::to_string(&super::modelslab::answer(&shared, &job).await).unwrap();
                assert_eq!(new(&shared, &job, &answers.result).await, old);
                if job.phase.is_terminal() {
                    let old = serde_json::to_string(
                        &super::modelslab::webhook_payload(&shared, &job).await,
                    )
                    .unwrap();
                    let webhook = answers.webhook.as_ref().unwrap();
                    assert_eq!(new(&shared, &job, &webhook.body).await, old);
                    assert_eq!(webhook.retries, 0);
                }
                compared += 1;
            }
        }
        assert_eq!(compared, 16);
    }

    #[test]
    fn error_bodies_keep_their_bytes() {
        let shared = Shared::new(&Provider::all().collect::<Vec<_>>(), Config::default());
        let kinds = [
            ErrorKind::InvalidRequest,
            ErrorKind::MissingKey,
            ErrorKind::WrongKey,
            ErrorKind::TooLarge,
            ErrorKind::RateLimited { retry_after: 30 },
            ErrorKind::Unavailable,
            ErrorKind::Fault,
        ];
        let statuses = [400, 401, 402, 403, 404, 413, 429, 500, 502, 503];
        for provider in Provider::all() {
            let info = shared.info(provider);
            let errors = &info.spec.extensions().errors;
            for kind in &kinds {
                for status in statuses {
                    let error = ApiError::new(
                        StatusCode::from_u16(status).unwrap(),
                        kind.clone(),
                        "request.width = 4096 is above the maximum 2048",
                    );
                    let old = serde_json::to_string(&super::error_body(provider, &error)).unwrap();
                    let scope = ErrorScope {
                        error: &error,
                        status,
                        reason: error.reason(errors),
                    };
                    let new = String::from_utf8(error_answer(&info.answers.error, &scope)).unwrap();
                    assert_eq!(new, old, "{provider} {status} {kind:?}");
                }
            }
        }
    }
}
