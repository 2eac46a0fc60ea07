//! The provider's answers, rendered from its spec's templates (`x-emulator.answers`): the scope
//! that gives a template the job it is about (its stage, times, outputs, the request fields the
//! templates read), the scope of an error, and the defects that break an answer on purpose.

use std::borrow::Cow;
use std::cell::RefCell;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use base64::Engine as _;
use img2img_specs::extensions::{JobInfo, Stages};
use img2img_specs::template::{ErrorVar, JobVar, OutputField, Scope, Template, Value};
use serde_json::Value as Json;
use tokio::time::Instant;

use crate::config::Defects;
use crate::error::ApiError;
use crate::images::{BASE64, IMAGE_PATH};
use crate::jobs::{Job, Phase, output_name, unix_ms};

/// `{base}/emulator/images/{name}`: where the emulator serves an output image.
pub(crate) fn image_url(base: &str, name: &str) -> String {
    format!("{base}{IMAGE_PATH}{name}")
}

/// A seed as an answer reports it: a number while it fits a signed 64-bit integer (what typed
/// clients hold), otherwise its decimal string (the specs accept both for echoed seeds).
fn seed(seed: u64) -> Value<'static> {
    if i64::try_from(seed).is_ok() {
        Value::Uint(seed)
    } else {
        Value::Str(Cow::Owned(seed.to_string()))
    }
}

/// The base64 of an output image, for a template that reads it.
#[derive(Debug, Clone)]
enum Inline {
    /// Not asked for yet.
    Unknown,
    Ready(String),
    /// Gone (evicted), or it could not be rendered: left out of the answer.
    Unavailable,
}

/// What a job template reads: the job, at `now`.
struct JobScope<'a> {
    job: &'a Job,
    stages: &'a Stages,
    /// The job's result URL, made when a template reads it.
    result_url: &'a (dyn Fn() -> String + Sync),
    now: Instant,
    inline: &'a [Inline],
    /// Outputs a template read in base64 that are not rendered yet.
    wanted: RefCell<Vec<usize>>,
}

fn ms(time: SystemTime) -> Value<'static> {
    Value::Int(unix_ms(time))
}

fn seconds(time: SystemTime) -> Value<'static> {
    Value::Float(
        time.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
    )
}

fn whole_seconds(duration: Duration) -> Value<'static> {
    Value::Uint(duration.as_secs() + u64::from(duration.subsec_nanos() > 0))
}

impl JobScope<'_> {
    /// Processing time so far: until the end once ended, 0 before it starts.
    fn execution(&self) -> Duration {
        match (self.job.processing_started, self.job.finished) {
            (Some((start, _)), Some((end, _))) => end.saturating_duration_since(start),
            (Some((start, _)), None) => self.now.saturating_duration_since(start),
            _ => Duration::ZERO,
        }
    }

    fn eta(&self) -> Duration {
        Duration::from_secs_f64(self.job.eta(self.now))
    }
}

impl Scope for JobScope<'_> {
    fn job(&self, var: JobVar) -> Value<'_> {
        let job = self.job;
        let request = &job.request;
        let render = &request.render;
        match var {
            JobVar::Id => Value::Str(Cow::Borrowed(&job.id)),
            JobVar::NumericId => match job.id.parse::<u64>() {
                Ok(n) => Value::Uint(n),
                Err(_) => Value::Str(Cow::Borrowed(&job.id)),
            },
            JobVar::Status => Value::Str(Cow::Borrowed(stage_word(self.stages, &job.phase))),
            JobVar::Stage => Value::Str(Cow::Borrowed(match job.phase {
                Phase::Queued => "queued",
                Phase::Processing => "processing",
                Phase::Succeeded => "succeeded",
                Phase::Failed(_) => "failed",
            })),
            JobVar::Progress => Value::Uint(u64::from(job.progress(self.now))),
            JobVar::ProgressRatio => Value::Float(f64::from(job.progress(self.now)) / 100.0),
            JobVar::Seed => seed(render.seed),
            JobVar::Format => Value::Str(Cow::Borrowed(request.format.ext())),
            JobVar::Width => Value::Uint(u64::from(render.width)),
            JobVar::Height => Value::Uint(u64::from(render.height)),
            JobVar::Count => Value::Uint(u64::from(request.count)),
            JobVar::Steps => Value::Uint(u64::from(render.steps)),
            JobVar::Strength => Value::Float(render.strength),
            JobVar::Guidance => Value::Float(render.guidance),
            JobVar::Prompt => Value::Str(Cow::Borrowed(&render.prompt)),
            JobVar::NegativePrompt => Value::Str(Cow::Borrowed(&render.negative_prompt)),
            JobVar::Reason => match &job.phase {
                Phase::Failed(reason) => Value::Str(Cow::Borrowed(reason)),
                _ => Value::Absent,
            },
            JobVar::ResultUrl => Value::Str(Cow::Owned((self.result_url)())),
            JobVar::WebhookStatus => Value::Str(Cow::Borrowed(&job.webhook_status)),
            JobVar::NsfwDetection => Value::Bool(request.nsfw_detection),
            JobVar::InlineBase64 => Value::Bool(request.inline_base64),
            JobVar::InputUrl => request
                .input_url
                .as_deref()
                .map_or(Value::Absent, |url| Value::Str(Cow::Borrowed(url))),
            JobVar::CreatedMs => ms(job.created_wall),
            JobVar::CreatedS => seconds(job.created_wall),
            JobVar::StartedMs => job
                .processing_started
                .map_or(Value::Absent, |(_, at)| ms(at)),
            JobVar::StartedS => job
                .processing_started
                .map_or(Value::Absent, |(_, at)| seconds(at)),
            JobVar::FinishedMs => job.finished.map_or(Value::Absent, |(_, at)| ms(at)),
            JobVar::FinishedS => job.finished.map_or(Value::Absent, |(_, at)| seconds(at)),
            JobVar::EtaS => Value::Float(job.eta(self.now)),
            JobVar::EtaWholeS => Value::Int(job.eta(self.now).ceil() as i64),
            JobVar::EtaMs => Value::Uint(self.eta().as_millis() as u64),
            JobVar::ExecutionMs => Value::Uint(self.execution().as_millis() as u64),
            JobVar::ExecutionS => Value::Float(self.execution().as_secs_f64()),
            JobVar::UrlTtlWholeS => whole_seconds(job.url_ttl),
        }
    }

    fn request(&self) -> Option<&Json> {
        Some(&self.job.request.fields)
    }

    fn outputs(&self, future: bool) -> usize {
        if future || self.job.phase == Phase::Succeeded {
            self.job.request.count as usize
        } else {
            0
        }
    }

    fn output(&self, index: usize, field: OutputField) -> Value<'_> {
        let job = self.job;
        let name = || output_name(&job.id, index as u32, job.request.format);
        match field {
            OutputField::Url => Value::Str(Cow::Owned(image_url(&job.request.base_url, &name()))),
            OutputField::Name => Value::Str(Cow::Owned(name())),
            OutputField::Index => Value::Uint(index as u64),
            OutputField::Seed => seed(job.request.render.seed.wrapping_add(index as u64)),
            OutputField::Base64 => match self.inline.get(index) {
                Some(Inline::Ready(text)) => Value::Str(Cow::Borrowed(text)),
                Some(Inline::Unavailable) => Value::Absent,
                Some(Inline::Unknown) | None => {
                    self.wanted.borrow_mut().push(index);
                    Value::Absent
                }
            },
        }
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

/// Renders `template` for `job` now. The job's result URL is made with `result_url` if the
/// template reads it; an output image it reads in base64 is fetched with `image` (by file name)
/// first, and one that cannot be had is left out.
pub(crate) async fn job_answer<F, Fut>(
    template: &Template,
    job: &Job,
    stages: &Stages,
    result_url: &(dyn Fn() -> String + Sync),
    image: F,
) -> Vec<u8>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Option<Bytes>>,
{
    // Grown only when a template reads an image inline.
    let mut inline = Vec::new();
    loop {
        let scope = JobScope {
            job,
            stages,
            result_url,
            now: Instant::now(),
            inline: &inline,
            wanted: RefCell::default(),
        };
        let mut out = Vec::with_capacity(1024);
        template.render(&scope, &mut out);
        let wanted = scope.wanted.into_inner();
        if wanted.is_empty() {
            return out;
        }
        inline.resize(job.request.count as usize, Inline::Unknown);
        for index in wanted {
            let name = output_name(&job.id, index as u32, job.request.format);
            inline[index] = match image(name).await {
                Some(bytes) => Inline::Ready(BASE64.encode(bytes)),
                None => Inline::Unavailable,
            };
        }
    }
}

/// What an error template reads.
pub(crate) struct ErrorScope<'a> {
    /// The error.
    pub error: &'a ApiError,
    /// Its HTTP status.
    pub status: u16,
    /// The reason `x-errors` lists for it (`""` for none).
    pub reason: &'a str,
}

impl Scope for ErrorScope<'_> {
    fn error(&self, var: ErrorVar) -> Value<'_> {
        let error = self.error;
        let text = |text: &'_ Option<String>| {
            text.as_deref()
                .map_or(Value::Absent, |t| Value::Str(Cow::Owned(t.to_owned())))
        };
        match var {
            ErrorVar::Status => Value::Uint(u64::from(self.status)),
            ErrorVar::Message => Value::Str(Cow::Borrowed(&error.message)),
            ErrorVar::Reason => Value::Str(Cow::Borrowed(self.reason)),
            ErrorVar::Cause => Value::Str(Cow::Borrowed(error.cause.as_str())),
            ErrorVar::RetryAfter => error
                .retry_after
                .map_or(Value::Absent, |secs| Value::Uint(u64::from(secs))),
            ErrorVar::ServerError => Value::Bool((500..600).contains(&self.status)),
            ErrorVar::Field => text(&error.field),
            ErrorVar::JobId => text(&error.job_id),
            ErrorVar::JobStatus => text(&error.job_status),
        }
    }
}

/// Renders the error template.
pub(crate) fn error_answer(template: &Template, scope: &ErrorScope<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    template.render(scope, &mut out);
    out
}

/// The `break_response_schema` and `unlisted_status` defects, applied to a job answer through the
/// `x-job` pointers: a succeeded job's status becomes the spec's unlisted word; a broken answer has
/// a number where its status is (or, in an answer without one, where its id is).
pub(crate) fn with_defects(
    body: Vec<u8>,
    job: &Job,
    info: &JobInfo,
    unlisted_word: &str,
    defects: Defects,
) -> Vec<u8> {
    let unlisted = defects.unlisted_status && job.phase == Phase::Succeeded;
    if !(unlisted || defects.break_response_schema) {
        return body;
    }
    let Ok(mut value) = serde_json::from_slice::<Json>(&body) else {
        return body;
    };
    if unlisted && let Some(status) = value.pointer_mut(&info.status_pointer) {
        *status = Json::from(unlisted_word);
    }
    if defects.break_response_schema {
        if let Some(status) = value.pointer_mut(&info.status_pointer) {
            *status = Json::from(500);
        } else if let Some(id) = value.pointer_mut(&info.id_pointer) {
            *id = if id.is_string() {
                Json::from(12345)
            } else {
                Json::from("not an id")
            };
        }
    }
    serde_json::to_vec(&value).unwrap_or(body)
}

/// The JSON pointers into a create request that `templates` read (`request.*`).
pub(crate) fn request_pointers<'a>(
    templates: impl IntoIterator<Item = &'a Template>,
) -> Vec<String> {
    let mut pointers: Vec<String> = templates
        .into_iter()
        .flat_map(Template::request_pointers)
        .collect();
    pointers.sort();
    pointers.dedup();
    pointers
}

/// A copy of `body` holding only what is at `pointers` (a job keeps these, not its whole request
/// with its images): objects on the way are copied as far as the pointer goes, an array whole.
pub(crate) fn request_fields(body: &Json, pointers: &[String]) -> Json {
    let mut out = Json::Object(serde_json::Map::new());
    for pointer in pointers {
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(img2img_specs::schema::unescape)
            .collect();
        let (mut from, mut to) = (body, &mut out);
        for (i, segment) in segments.iter().enumerate() {
            let (Json::Object(source), Json::Object(target)) = (from, &mut *to) else {
                break;
            };
            let Some(next) = source.get(segment) else {
                break;
            };
            let last = i + 1 == segments.len() || !next.is_object();
            if last {
                target.insert(segment.clone(), next.clone());
                break;
            }
            from = next;
            to = target
                .entry(segment.clone())
                .or_insert_with(|| Json::Object(serde_json::Map::new()));
        }
    }
    out
}
