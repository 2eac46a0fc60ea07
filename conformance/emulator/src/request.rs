//! What a create request asks for, read by the spec's `x-feature` marks: the output size, count
//! and format within the pixel budget, what to render with, the flags and webhook, and every image
//! it carries (`x-media`), the init image decoded. Nothing is rendered or resized here.

use std::sync::Arc;

use axum::body::Bytes;
use img2img_specs::extensions::Cause;
use img2img_specs::{AspectRatio, Feature, media_fields};
use serde_json::Value;

use super::catalog::ProviderInfo;
use super::config::Defects;
use super::error::ApiError;
use super::features::{as_number, as_size};
use super::images::{self, Format, RenderParams, Source};
use super::inputs::Input;
use super::jobs::{JobRequest, TestMode};
use super::origin::Origin;
use super::rendering::Images;

/// Inputs up to this many pixels are decoded on the request's own task; larger ones on the
/// blocking pool.
const INLINE_DECODE_PIXELS: u64 = 128 * 128;

/// What one request brings besides its body.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    /// The `Host` header, if the request had one.
    pub host: Option<String>,
    pub origin: &'a Origin,
    /// The job must fail with this reason (fault `fail=`).
    pub fail: Option<String>,
    /// The result operation of the API family the request came through (where a job created by
    /// it is read).
    pub result_operation: String,
    /// The operation called, and the name of its API family.
    pub operation: String,
    pub family: String,
}

impl Ctx<'_> {
    /// `http://host:port` the client reached the emulator at.
    pub fn base(&self) -> String {
        self.origin.base(self.host.as_deref())
    }
}

/// The run's rules for requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub pixel_budget: u64,
    pub strict_images: bool,
    pub defects: Defects,
}

/// The values of a create request's features, read through the spec's feature view of the
/// create operation called.
struct Features<'a> {
    info: &'a ProviderInfo,
    create: &'a str,
    family: &'a str,
    body: &'a Value,
}

impl<'a> Features<'a> {
    fn get(&self, feature: Feature) -> Option<&'a Value> {
        self.info
            .feature(self.create, feature)
            .and_then(|f| f.value_in(self.body))
    }

    fn number(&self, feature: Feature) -> Option<f64> {
        self.get(feature).and_then(as_number)
    }

    fn text(&self, feature: Feature) -> String {
        self.get(feature)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    }

    /// Whether a flag is on (`true`, or the string `"yes"`).
    fn flag(&self, feature: Feature) -> bool {
        match self.get(feature) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "yes",
            _ => false,
        }
    }

    /// The request's name for `feature` (for messages).
    fn label(&self, feature: Feature) -> String {
        self.info
            .feature(self.create, feature)
            .map_or_else(|| feature.as_str().to_owned(), |f| f.name())
    }
}

/// What a create request asks for: the job request and the decoded input image, or why it cannot
/// be done.
pub(crate) async fn read(
    images: &Images,
    info: &ProviderInfo,
    rules: Rules,
    ctx: &Ctx<'_>,
    body: &Value,
) -> Result<(JobRequest, Option<Arc<Input>>), ApiError> {
    let features = Features {
        info,
        create: &ctx.operation,
        family: &ctx.family,
        body,
    };
    let input = read_images(images, info, rules.strict_images, ctx, body).await?;
    let input_ratio = input
        .as_deref()
        .and_then(|input| AspectRatio::new(input.image.width(), input.image.height()));
    let (width, height, count) = size(&features, input_ratio, rules.pixel_budget)?;
    let render = render_params(&features, width, height, rules.defects);
    let request = JobRequest {
        render,
        count: u32::try_from(count).unwrap_or(u32::MAX),
        format: features
            .get(Feature::OutputFormat)
            .and_then(Value::as_str)
            .and_then(Format::from_name)
            .or_else(|| Format::from_name(&info.spec.extensions().output.default_format))
            .unwrap_or(Format::Png),
        salt: if rules.defects.ignore_seed {
            images::random_u64()
        } else {
            0
        },
        inline_base64: features.flag(Feature::InlineBase64),
        nsfw_detection: features.flag(Feature::NsfwDetection),
        webhook: webhook(&features)?,
        test_mode: test_mode(&features),
        fail: ctx.fail.clone(),
        base_url: ctx.base(),
        result_operation: ctx.result_operation.clone(),
        family: ctx.family.clone(),
        fields: super::answers::request_fields(body, &info.request_pointers),
        input_url: init_image_pointer(info, &ctx.operation, body)
            .and_then(|pointer| body.pointer(&pointer))
            .and_then(|init| init.get(0).unwrap_or(init).as_str())
            .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
            .map(str::to_owned),
    };
    Ok((request, input))
}

/// Output width, height and count, refused above the pixel budget before anything is allocated.
/// Where the request names no size, the spec's render defaults give it from the ratio the
/// request asks for and the init image's (`input`).
fn size(
    features: &Features<'_>,
    input: Option<AspectRatio>,
    budget: u64,
) -> Result<(u64, u64, u64), ApiError> {
    let defaults = features.info.render_defaults;
    let size = features.get(Feature::Size).and_then(as_size);
    let (width, height) = size.unwrap_or_else(|| {
        let asked = features
            .get(Feature::AspectRatio)
            .and_then(Value::as_str)
            .and_then(AspectRatio::parse);
        let (default_width, default_height) = defaults.size_for(asked, input);
        (
            features
                .number(Feature::Width)
                .unwrap_or(f64::from(default_width)) as u64,
            features
                .number(Feature::Height)
                .unwrap_or(f64::from(default_height)) as u64,
        )
    });
    let count = features
        .number(Feature::ImagesPerCall)
        .unwrap_or(1.0)
        .max(1.0) as u64;
    let (width, height) = (width.max(1), height.max(1));
    if width.saturating_mul(height).saturating_mul(count) > budget {
        // The labels are only spelled out for the error.
        let size_label = match size {
            Some(_) => features.label(Feature::Size),
            None => format!(
                "{} x {}",
                features.label(Feature::Width),
                features.label(Feature::Height)
            ),
        };
        images::check_budget(
            &format!("{size_label} x {}", features.label(Feature::ImagesPerCall)),
            width,
            height,
            count,
            budget,
        )
        .map_err(ApiError::invalid)?;
    }
    Ok((width, height, count))
}

/// What to render with: the request's values, else the spec's render defaults.
fn render_params(
    features: &Features<'_>,
    width: u64,
    height: u64,
    defects: Defects,
) -> RenderParams {
    let defaults = features.info.render_defaults;
    RenderParams {
        width: u32::try_from(width)
            .unwrap_or(u32::MAX)
            .saturating_add(if defects.wrong_image_size { 16 } else { 0 }),
        height: u32::try_from(height).unwrap_or(u32::MAX),
        seed: features
            .get(Feature::Seed)
            .and_then(seed_of)
            .unwrap_or_else(|| images::random_u64() & 0xffff_ffff),
        prompt: features.text(Feature::Prompt),
        negative_prompt: features.text(Feature::NegativePrompt),
        strength: features
            .number(Feature::Strength)
            .unwrap_or(defaults.strength),
        noise: features.number(Feature::Noise).unwrap_or(0.0),
        steps: features
            .number(Feature::Steps)
            .unwrap_or(f64::from(defaults.steps))
            .clamp(1.0, 1000.0) as u32,
        guidance: features
            .number(Feature::Guidance)
            .unwrap_or(defaults.guidance),
    }
}

/// A seed the request fixes: a non-negative integer (or decimal string); `None` for random
/// (absent, `null`, `-1`).
fn seed_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The webhook URL: the feature's string, or its object's `url`. Where the spec types it
/// `format: uri` (which JSON Schema only annotates), it must be an absolute http(s) URL, as the
/// provider's own validation asks: anything else is refused naming the field.
fn webhook(features: &Features<'_>) -> Result<Option<String>, ApiError> {
    let field = features.info.feature(features.create, Feature::Webhook);
    let schema = field.map(|f| &f.schema);
    let label = features.label(Feature::Webhook);
    let (url, schema, field) = match features.get(Feature::Webhook) {
        Some(Value::String(url)) if !url.is_empty() => (url.clone(), schema, label),
        Some(Value::Object(hook)) => match hook.get("url").and_then(Value::as_str) {
            Some(url) if !url.is_empty() => (
                url.to_owned(),
                schema.and_then(|s| s.pointer("/properties/url")),
                format!("{label}.url"),
            ),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let is_uri = schema.and_then(|s| s.get("format")).and_then(Value::as_str) == Some("uri");
    let usable = reqwest::Url::parse(&url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if is_uri && !usable {
        return Err(ApiError {
            field: Some(field.clone()),
            ..ApiError::invalid(format!("{field} = {url:?} is not an http(s) URL"))
        });
    }
    Ok(Some(url))
}

/// A webhook test mode that is on: it ends the job at once with the failed stage's word if that
/// is the status it names, else with success.
fn test_mode(features: &Features<'_>) -> Option<TestMode> {
    let failed = features
        .info
        .family_job(features.family)
        .stages
        .failed
        .as_str();
    features
        .get(Feature::WebhookTestMode)
        .zip(test_mode_fields(features))
        .filter(|(mode, names)| mode.get(&names.switch) == Some(&Value::Bool(true)))
        .map(|(mode, names)| {
            if mode.get(&names.status).and_then(Value::as_str) == Some(failed) {
                TestMode::Fail
            } else {
                TestMode::Succeed
            }
        })
}

/// Where the test mode's switch and status word live in its object (`x-test-mode`, which the lint
/// requires beside every `webhook_test_mode`).
fn test_mode_fields(features: &Features<'_>) -> Option<img2img_specs::TestModeFields> {
    features
        .info
        .feature(features.create, Feature::WebhookTestMode)?
        .test_mode()
        .ok()
        .flatten()
}

/// Every image the request carries (`x-media`) must be usable; only the init image is decoded
/// (or found among the last ones decoded).
async fn read_images(
    images: &Images,
    info: &ProviderInfo,
    strict: bool,
    ctx: &Ctx<'_>,
    body: &Value,
) -> Result<Option<Arc<Input>>, ApiError> {
    let init_pointer = init_image_pointer(info, &ctx.operation, body);
    let max_pixels = info.max_input_pixels;
    let mut own = None;
    let mut init = None;
    let mut remembered = None;
    for pointer in media_fields(info.create_schema(&ctx.operation).schema(), body) {
        let Some(text) = body.pointer(&pointer).and_then(Value::as_str) else {
            continue;
        };
        // The init image, or the first of a list of them.
        let is_init = init_pointer
            .as_deref()
            .is_some_and(|init| pointer == init || pointer == format!("{init}/0"));
        if is_init && let Some(known) = images.remembered_input(text, max_pixels) {
            remembered = Some(known);
            continue;
        }
        let field = img2img_specs::field_path(body, &pointer);
        let own = own.get_or_insert_with(|| ctx.origin.authorities(ctx.host.as_deref()));
        let (bytes, cacheable) = image_bytes(images, strict, &field, text, own).await?;
        if let Some(limit) = info.max_input_bytes
            && bytes.len() as u64 > limit
        {
            return Err(ApiError::new(
                Cause::TooLarge,
                format!(
                    "{field}: the image is {} bytes, above the maximum {limit} bytes",
                    bytes.len()
                ),
            ));
        }
        if is_init {
            init = Some((field, bytes, cacheable.then_some(text)));
        } else {
            images::dimensions(&field, &bytes).map_err(ApiError::image_format)?;
        }
    }
    let Some((field, bytes, text)) = init else {
        return Ok(remembered);
    };
    let decoded = decode_input(field, bytes, max_pixels).await?;
    if let Some(text) = text {
        images.remember_input(text, max_pixels, &decoded);
    }
    Ok(Some(decoded))
}

/// Where `body` holds its init image: the `init_image` feature's pointer, inside arrays the first
/// item's (`/input_references/*/image_url/url`: the first reference).
fn init_image_pointer(info: &ProviderInfo, operation: &str, body: &Value) -> Option<String> {
    let field = info
        .spec
        .features(operation)
        .iter()
        .find(|f| f.feature == Feature::InitImage)?;
    if field.in_array() {
        field.pointers_in(body).into_iter().next()
    } else {
        Some(field.pointer.clone())
    }
}

/// The bytes of one image field, and whether they may be remembered by its text: inline data, a
/// stand-in for a remote URL (never fetched), or one of the emulator's own images.
async fn image_bytes(
    images: &Images,
    strict: bool,
    field: &str,
    text: &str,
    own: &[String],
) -> Result<(Bytes, bool), ApiError> {
    match images::source(field, text, own).map_err(ApiError::image_format)? {
        Source::Inline(bytes) => Ok((Bytes::from(bytes), true)),
        Source::Remote(url) if strict => Err(ApiError::invalid(images::remote_refused(field, url))),
        Source::Remote(url) => {
            tracing::info!(
                target: "emulator",
                "{field}: remote image URL {url} is never fetched; a deterministic input derived from the URL stands in for it"
            );
            Ok((Bytes::from(images::derived_input(url)), true))
        }
        Source::Served(name) => match images.image(name).await {
            Ok(Some((encoded, _))) => Ok((encoded.contiguous(), false)),
            Ok(None) => Err(ApiError::invalid(format!(
                "{field}: {name} is not an image this emulator serves (unknown, or expired after its TTL)"
            ))),
            Err(error) => Err(ApiError::invalid(format!("{field}: {error}"))),
        },
    }
}

/// Decodes an init image: small ones right here, larger ones on the blocking pool. An image over
/// `max_pixels` is refused as [`Cause::ImageResolution`], one that does not decode as
/// [`Cause::ImageFormat`].
async fn decode_input(
    field: String,
    bytes: Bytes,
    max_pixels: u64,
) -> Result<Arc<Input>, ApiError> {
    let (width, height) = images::dimensions(&field, &bytes).map_err(ApiError::image_format)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(ApiError::new(
            Cause::ImageResolution,
            format!(
                "{field}: the image is {width}x{height} = {pixels} pixels, above the maximum {max_pixels}"
            ),
        ));
    }
    let decoded = if pixels <= INLINE_DECODE_PIXELS {
        images::decode(&field, &bytes, max_pixels)
    } else {
        tokio::task::spawn_blocking(move || images::decode(&field, &bytes, max_pixels))
            .await
            .map_err(|e| ApiError::invalid(format!("the input image could not be decoded: {e}")))?
    };
    decoded
        .map(|image| Arc::new(Input::new(image)))
        .map_err(ApiError::image_format)
}
