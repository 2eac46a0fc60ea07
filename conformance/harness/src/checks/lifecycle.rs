//! `job_lifecycle` and `seed_determinism`: whole jobs, driven only by the spec's `x-job`, `x-feature`
//! and `x-output` extensions: create, poll until terminal, fetch and decode the images.

// A `Failure` carries the minimal request and response by value: it is built once per failing case.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::Duration;

use base64::Engine as _;
use img2img_specs::{AspectRatio, Feature, JobStatus, Location, Spec};
use proptest::strategy::Strategy;
use serde_json::{Value, json};

use super::property::{self, CaseResult};
use super::{CheckId, Context, Verdict, failure, job_status};
use crate::http::{Exchange, KeyMode};
use img2img_report::results::Failure;
use img2img_specs::extensions::JobFamily;

/// A whole job's outcome.
#[derive(Debug, Clone)]
pub struct JobRun {
    /// The terminal status.
    pub status: String,
    /// The last response body.
    pub result: Value,
    /// The output images' bytes, in order.
    pub images: Vec<Vec<u8>>,
}

/// The inputs of the docs' result operation for job `id` (see [`result_inputs_for`]).
pub(crate) fn result_inputs(
    context: &Context,
    id: &str,
) -> (Option<Value>, BTreeMap<String, String>) {
    let result = &context.caller.spec().extensions().job.result;
    result_inputs_for(context, result, id)
}

/// The inputs of result operation `result` for job `id`: its one path/query parameter (and a body
/// for the key, when the operation has one), or a body whose one required non-key field is the id.
pub(crate) fn result_inputs_for(
    context: &Context,
    result: &str,
    id: &str,
) -> (Option<Value>, BTreeMap<String, String>) {
    let spec = context.caller.spec();
    let ext = spec.extensions();
    let op = spec
        .operation(result)
        .expect("x-job names existing result operations (the lint checks it)");
    let mut params = BTreeMap::new();
    if let Some(parameter) = op
        .parameters
        .iter()
        .find(|p| matches!(p.location, Location::Path | Location::Query))
    {
        params.insert(parameter.name.clone(), id.to_owned());
        // A body carries only the key (a result fetched by POST with the key in the body, `x-auth`
        // `in: body`); the caller puts it in.
        let body = op.request_body.as_ref().map(|_| json!({}));
        return (body, params);
    }
    let body = spec
        .request_schema(&op.id)
        .and_then(Result::ok)
        .map(|schema| {
            let field = schema
                .schema()
                .get("required")
                .and_then(Value::as_array)
                .and_then(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .find(|f| *f != ext.auth.name)
                })
                .unwrap_or("id")
                .to_owned();
            json!({ field: id })
        });
    (body, params)
}

/// Creates a job from `body` and waits for a terminal status; fetches the images on success.
pub async fn run_job(context: &Context, body: &Value) -> Result<JobRun, Failure> {
    let job = &context.caller.spec().extensions().job;
    run_job_in(context, &job.families()[0], body).await
}

/// [`run_job`] through one API family of `x-job` (its create, then its result operation).
pub async fn run_job_in(
    context: &Context,
    family: &JobFamily,
    body: &Value,
) -> Result<JobRun, Failure> {
    let ext = context.caller.spec().extensions();
    // The family's own words and pointers.
    let job = &ext.job.for_family(family);
    let created = context
        .caller
        .call(&family.create, Some(body), &BTreeMap::new(), KeyMode::Valid)
        .await
        .map_err(|e| failure(e.to_string(), None))?;
    let created_body = expect_json(&created)?;
    judge_answer(context, &created, &created_body, None)?;
    let id = job.id_of(&created_body).ok_or_else(|| {
        failure(
            format!("the create response has no job id at {}", job.id_pointer),
            Some(&created),
        )
    })?;
    let mut last = created.clone();
    let mut current = created_body;
    let started = tokio::time::Instant::now();
    let mut wait = context.polling.initial;
    loop {
        if let Some(status) = job.status_of(&current).map(str::to_owned)
            && job.is_terminal(&status)
        {
            let images = if job.classify(&status) == JobStatus::Succeeded {
                collect_images(context, &current)
                    .await
                    .map_err(|m| failure(m, Some(&last)))?
            } else {
                Vec::new()
            };
            return Ok(JobRun {
                status,
                result: current,
                images,
            });
        }
        if started.elapsed() > context.polling.deadline {
            return Err(failure(
                format!(
                    "job {id} did not reach a terminal status within {:?}",
                    context.polling.deadline
                ),
                Some(&last),
            ));
        }
        let hinted = eta(context, &current).map_or(wait, |eta| {
            eta.clamp(context.polling.initial, context.polling.max)
        });
        tokio::time::sleep(hinted.min(wait.max(context.polling.initial))).await;
        wait = (wait * 2).min(context.polling.max);
        // Where the spec says a pending answer names the URL to poll (`x-job.poll-url-pointer`).
        let fetch_url = context
            .caller
            .spec()
            .extensions()
            .job
            .poll_url_of(&current)
            .map(str::to_owned);
        let (poll_body, params) = result_inputs_for(context, &family.result, &id);
        let exchange = match fetch_url {
            Some(url) => {
                context
                    .caller
                    .call_at(&family.result, &url, poll_body.as_ref(), KeyMode::Valid)
                    .await
            }
            None => {
                context
                    .caller
                    .call(&family.result, poll_body.as_ref(), &params, KeyMode::Valid)
                    .await
            }
        }
        .map_err(|e| failure(e.to_string(), None))?;
        current = expect_json(&exchange)?;
        judge_answer(context, &exchange, &current, Some(&id))?;
        last = exchange;
    }
}

/// Ends a job at the first answer the spec does not allow, so nothing waits on it: a body that
/// breaks the operation's response schema (a status or `eta` of the wrong kind, say), or a status
/// that is none of `x-job`'s pending, succeeded and failed words. `id` is `None` for the create
/// answer (which need not carry a status: a poll-style create answers only the id).
fn judge_answer(
    context: &Context,
    exchange: &Exchange,
    body: &Value,
    id: Option<&str>,
) -> Result<(), Failure> {
    let spec = context.caller.spec();
    let job = &spec.extensions().job;
    let which = id.map_or_else(|| "the create answer".to_owned(), |id| format!("job {id}"));
    let status_code = exchange.status.unwrap_or(0);
    match job_status(context, body) {
        Some(status) if job.classify(&status) == JobStatus::Unknown => {
            return Err(failure(
                format!(
                    "{which}: status {status:?} at {} is not one the spec allows (pending: {}; succeeded: {}; failed: {})",
                    job.status_pointer,
                    job.pending.join(", "),
                    job.succeeded.join(", "),
                    job.failed.join(", ")
                ),
                Some(exchange),
            ));
        }
        None if id.is_some() => {
            return Err(failure(
                format!(
                    "{which}: the result has no status at {} (the spec's x-job.status-pointer)",
                    job.status_pointer
                ),
                Some(exchange),
            ));
        }
        _ => {}
    }
    if let Some(Ok(schema)) = spec.response_schema(&exchange.operation, status_code)
        && let Err(violations) = schema.validate(body)
    {
        return Err(failure(
            format!(
                "{which}: {} HTTP {status_code} breaks the spec, so the job cannot be followed: {violations}",
                exchange.operation
            ),
            Some(exchange),
        ));
    }
    Ok(())
}

/// The provider's estimate of the time left (`x-job.eta-pointer`, in its unit), at most 10 min.
fn eta(context: &Context, body: &Value) -> Option<Duration> {
    let job = &context.caller.spec().extensions().job;
    job.eta_of(body)
        .map(|eta| eta.min(Duration::from_secs(600)))
}

fn expect_json(exchange: &Exchange) -> Result<Value, Failure> {
    if !exchange.is_success() {
        let said = exchange
            .error
            .clone()
            .unwrap_or_else(|| exchange.text.chars().take(300).collect());
        return Err(failure(
            format!("HTTP {:?} during the job: {said}", exchange.status),
            Some(exchange),
        ));
    }
    exchange
        .json
        .clone()
        .ok_or_else(|| failure("the response body is not JSON", Some(exchange)))
}

async fn collect_images(context: &Context, body: &Value) -> Result<Vec<Vec<u8>>, String> {
    let ext = context.caller.spec().extensions();
    if ext.job.outputs.is_none() {
        return Err("the spec's x-job has no outputs pointer".into());
    }
    let mut images = Vec::new();
    for output in ext.job.outputs_of(body) {
        if output.starts_with("http://") || output.starts_with("https://") {
            let (_, bytes) = context.caller.download(&output).await?;
            images.push(bytes);
        } else {
            let data = output
                .split_once("base64,")
                .map_or(output.as_str(), |(_, d)| d);
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| format!("an inline image is neither a URL nor base64: {e}"))?;
            images.push(bytes);
        }
    }
    Ok(images)
}

/// What a request asks for, read through `x-feature` (and the schema's defaults).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expected {
    pub width: Option<u64>,
    pub height: Option<u64>,
    /// The shape asked for (`x-feature: aspect_ratio`), where no width and height are.
    pub ratio: Option<AspectRatio>,
    pub count: u64,
    pub format: String,
}

pub(crate) fn expected(context: &Context, body: &Value) -> Expected {
    let spec = context.caller.spec();
    let create = &spec.extensions().job.create;
    let get = |feature: Feature| {
        spec.feature(create, feature)
            .and_then(|field| field.value_in(body))
    };
    let number = |v: &Value| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    let (mut width, mut height) = (
        get(Feature::Width).and_then(number),
        get(Feature::Height).and_then(number),
    );
    if let Some((w, h)) = get(Feature::Size)
        .and_then(Value::as_str)
        .and_then(|s| s.split_once('x'))
    {
        width = w.parse().ok();
        height = h.parse().ok();
    }
    let ext = spec.extensions();
    Expected {
        width,
        height,
        ratio: get(Feature::AspectRatio)
            .and_then(Value::as_str)
            .and_then(AspectRatio::parse),
        count: get(Feature::ImagesPerCall).and_then(number).unwrap_or(1),
        format: get(Feature::OutputFormat)
            .and_then(Value::as_str)
            .unwrap_or(&ext.output.default_format)
            .to_owned(),
    }
}

fn verify_images(expected: &Expected, images: &[Vec<u8>]) -> Result<(), String> {
    if images.len() as u64 != expected.count {
        return Err(format!(
            "{} images came back, {} were asked for",
            images.len(),
            expected.count
        ));
    }
    for (i, bytes) in images.iter().enumerate() {
        let format =
            image::guess_format(bytes).map_err(|e| format!("image {i} is not an image: {e}"))?;
        let name = match format {
            image::ImageFormat::Png => "png",
            image::ImageFormat::Jpeg => "jpeg",
            image::ImageFormat::WebP => "webp",
            _ => "another format",
        };
        if name != expected.format {
            return Err(format!(
                "image {i} is {name}, {} was asked for",
                expected.format
            ));
        }
        let decoded = image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())?
            .decode()
            .map_err(|e| format!("image {i} does not decode: {e}"))?;
        if let (Some(w), Some(h)) = (expected.width, expected.height)
            && (u64::from(decoded.width()), u64::from(decoded.height())) != (w, h)
        {
            return Err(format!(
                "image {i} is {}x{}, {w}x{h} was asked for",
                decoded.width(),
                decoded.height()
            ));
        }
        if let Some(asked) = expected.ratio.filter(|_| expected.width.is_none())
            && let Some(got) = AspectRatio::new(decoded.width(), decoded.height())
            && (got.value() / asked.value() - 1.0).abs() > RATIO_TOLERANCE
        {
            return Err(format!(
                "image {i} is {}x{} (ratio {:.3}), the ratio {}:{} ({:.3}) was asked for",
                decoded.width(),
                decoded.height(),
                got.value(),
                asked.width,
                asked.height,
                asked.value()
            ));
        }
    }
    Ok(())
}

/// How far an image's width-to-height ratio may be from the one asked for: providers round each
/// side (to a multiple of 32 or 64 for the FLUX family), which moves the ratio by a few percent.
const RATIO_TOLERANCE: f64 = 0.05;

/// `job_lifecycle`: over valid requests, each through one API family of `x-job` (shrinking towards
/// the docs' pair).
pub(crate) async fn check(context: &Context) -> Verdict {
    // The families a docs' request fits (one with a body of its own is run by its own tests).
    let spec = context.caller.spec();
    let families: Vec<_> = spec
        .extensions()
        .job
        .families()
        .into_iter()
        .filter(|family| spec.takes_docs_request(&family.create))
        .collect();
    let strategy = (
        super::acceptance::valid_requests(context),
        0..families.len(),
    );
    let ctx = context.clone();
    let cases = CheckId::JobLifecycle.cases(context.cases);
    property::run(
        context,
        "lifecycle",
        cases,
        strategy,
        move |(body, family)| {
            let ctx = ctx.clone();
            let family = families[family].clone();
            async move {
                if ctx.caller.budget().spent() >= ctx.caller.budget().limit() {
                    return CaseResult::Stop(format!(
                        "the request budget of {} requests is spent",
                        ctx.caller.budget().limit()
                    ));
                }
                let body = with_size(&ctx, body);
                let run = match run_job_in(&ctx, &family, &body).await {
                    Ok(run) => run,
                    Err(mut failure) => {
                        failure.request.get_or_insert(body);
                        failure.message =
                            format!("{} (API family {})", failure.message, family.name);
                        return CaseResult::Broke(failure);
                    }
                };
                let job = &ctx.caller.spec().extensions().job;
                if job.classify(&run.status) != JobStatus::Succeeded {
                    return CaseResult::Broke(failure(
                        format!(
                            "a valid job ended {} ({})",
                            run.status,
                            job.failure_of(&run.result)
                                .unwrap_or_else(|| "no reason given".into())
                        ),
                        None,
                    ));
                }
                match verify_images(&expected(&ctx, &body), &run.images) {
                    Ok(()) => CaseResult::Held,
                    Err(message) => {
                        let mut f = failure(message, None);
                        f.request = Some(body);
                        CaseResult::Broke(f)
                    }
                }
            }
        },
    )
    .await
}

/// `body`, asking for a width and height where it names none and the spec gives no default (so
/// the images' size can be checked): the values of the spec's full sample, made worth sending.
fn with_size(context: &Context, mut body: Value) -> Value {
    let asked = expected(context, &body);
    if asked.width.is_some() && asked.height.is_some() {
        return body;
    }
    let spec = context.caller.spec();
    let schema = super::acceptance::create_schema(context);
    let mut full = img2img_strategy::sample(schema.schema(), img2img_strategy::Fill::All);
    context.payload.prepare(spec, &mut full);
    let create = &spec.extensions().job.create;
    for (feature, missing) in [
        (Feature::Width, asked.width.is_none()),
        (Feature::Height, asked.height.is_none()),
    ] {
        let value = spec
            .feature(create, feature)
            .and_then(|field| field.value_in(&full))
            .filter(|_| missing)
            .cloned();
        if let Some(value) = value {
            set_feature(spec, &mut body, feature, &value);
        }
    }
    body
}

/// Sets every `x-feature: <feature>` property (outside array items) whose object `body` holds
/// to `value`.
fn set_feature(spec: &Spec, body: &mut Value, feature: Feature, value: &Value) {
    let create = &spec.extensions().job.create;
    for field in spec.features(create) {
        let Some(names) = field.property_names().filter(|_| field.feature == feature) else {
            continue;
        };
        let Some((name, parents)) = names.split_last() else {
            continue;
        };
        let parent = parents
            .iter()
            .try_fold(&mut *body, |node, key| node.get_mut(*key));
        if let Some(Value::Object(map)) = parent {
            map.insert((*name).to_owned(), value.clone());
        }
    }
}

/// A seed inside the spec's range for the `seed` feature.
fn seed_value(spec: &Spec, wanted: i64) -> Option<Value> {
    let seed_schema = &spec
        .feature(&spec.extensions().job.create, Feature::Seed)?
        .schema;
    let numeric = seed_schema
        .get("oneOf")
        .and_then(Value::as_array)
        .and_then(|b| {
            b.iter()
                .find(|b| b.get("type").and_then(Value::as_str) == Some("integer"))
        })
        .unwrap_or(seed_schema);
    let min = numeric
        .get("minimum")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .max(0);
    let max = numeric
        .get("maximum")
        .and_then(Value::as_i64)
        .unwrap_or(i64::from(u32::MAX));
    Some(json!(wanted.clamp(min, max)))
}

/// `seed_determinism`: one request, seed fixed: twice the same bytes; seed + 1, other bytes.
pub(crate) async fn seeds(context: &Context) -> Verdict {
    let spec = context.caller.spec();
    let (Some(seed_a), Some(seed_b)) = (seed_value(spec, 1_234_567), seed_value(spec, 1_234_568))
    else {
        return Verdict::Skipped("the spec has no seed parameter (x-feature: seed)".into());
    };
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let Ok(tree) = super::acceptance::valid_requests(context).new_tree(&mut runner) else {
        return Verdict::Skipped("no valid request could be generated".into());
    };
    let mut body = proptest::strategy::ValueTree::current(&tree);
    set_feature(spec, &mut body, Feature::ImagesPerCall, &json!(1));
    let with_seed = |seed: &Value| {
        let mut b = body.clone();
        set_feature(spec, &mut b, Feature::Seed, seed);
        b
    };
    let (first, second, other) = (with_seed(&seed_a), with_seed(&seed_a), with_seed(&seed_b));
    let mut runs = Vec::new();
    for request in [&first, &second, &other] {
        match run_job(context, request).await {
            Ok(run) if !run.images.is_empty() => runs.push(run.images),
            Ok(run) => {
                return Verdict::Failed {
                    cases: 1,
                    failure: Failure {
                        message: format!("the job ended {} with no image", run.status),
                        operation: None,
                        request: Some(request.clone()),
                        response: None,
                    },
                };
            }
            Err(failure) => return Verdict::Failed { cases: 1, failure },
        }
    }
    let fail = |message: String| Verdict::Failed {
        cases: 1,
        failure: Failure {
            message,
            operation: None,
            request: Some(first.clone()),
            response: None,
        },
    };
    if runs[0] != runs[1] {
        return fail(format!(
            "the same request with seed {seed_a} gave different image bytes twice"
        ));
    }
    if runs[0] == runs[2] {
        return fail(format!(
            "seeds {seed_a} and {seed_b} gave identical image bytes"
        ));
    }
    Verdict::Passed { cases: 1 }
}

#[cfg(test)]
#[path = "tests/lifecycle.rs"]
mod tests;
