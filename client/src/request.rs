//! The provider-neutral request, and how it becomes each provider's body.
//!
//! Nothing here names a provider's field: each neutral field is put where the spec's `x-feature`
//! says (`images_per_call` is, for example, `request.image_num` in one spec and `samples` in
//! another), a sampler may be given by its common name (`x-common-names`), any other field the
//! spec defines is set by its path ([`FieldSetting`]), the spec's `x-job.create-fields` are added,
//! and required fields left out take the spec's default or, failing that, the value of the spec's
//! first request example — except the model, which a paid call never guesses. The body is then
//! validated against the spec, so a value out of range is refused before any request is sent,
//! naming the field, the value and the allowed range.

use std::str::FromStr;

use base64::Engine as _;
use img2img_specs::extensions::AuthPlacement;
use img2img_specs::{AspectRatio, ExampleKind, Feature, Provider, Spec};
use serde_json::{Map, Value};

use crate::errors::Error;
use crate::fields::{self, FieldSetting};
use crate::poll::job_info;

/// An output size, `WxH` in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (w, h) = s
            .split_once(['x', 'X'])
            .ok_or_else(|| format!("size {s:?} is not WxH (for example 832x1216)"))?;
        let side = |v: &str, name: &str| {
            v.trim().parse::<u32>().map_err(|_| {
                format!("size {s:?}: the {name} {v:?} is not a whole number of pixels")
            })
        };
        Ok(Size {
            width: side(w, "width")?,
            height: side(h, "height")?,
        })
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// Settings only some providers have. Giving one to a provider without it is an error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderOptions {
    /// The model (`x-feature: model`).
    pub model: Option<String>,
    /// The sampler, as the provider spells it or by its common name (`euler_ancestral`).
    pub sampler: Option<String>,
    /// Extra noise (`x-feature: noise`).
    pub noise: Option<f64>,
    /// Guidance scale (`x-feature: guidance`).
    pub guidance: Option<f64>,
    /// The output's shape, for a provider that takes a ratio rather than a size
    /// (`x-feature: aspect_ratio`).
    pub aspect_ratio: Option<AspectRatio>,
    /// Output format (`x-feature: output_format`).
    pub output_format: Option<String>,
    /// Any other field of the create body the spec defines, by its path; applied after the
    /// fields above, in order.
    pub fields: Vec<FieldSetting>,
}

/// One image-to-image job, said the same way for every provider.
#[derive(Clone, Default, PartialEq)]
pub struct ImageRequest {
    /// What to make of the image.
    pub prompt: String,
    /// What to keep out of it.
    pub negative_prompt: Option<String>,
    /// The input image (PNG, JPEG or WebP bytes).
    pub image: Vec<u8>,
    /// Output size; the input image's size when `None`.
    pub size: Option<Size>,
    /// Images to make.
    pub n: Option<u32>,
    /// Seed.
    pub seed: Option<i64>,
    /// How much the image may change (0..1 on every provider, each with its own bounds).
    pub strength: Option<f64>,
    /// Sampling steps.
    pub steps: Option<u32>,
    /// Provider-specific settings.
    pub options: ProviderOptions,
}

impl std::fmt::Debug for ImageRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageRequest")
            .field("prompt", &self.prompt)
            .field("negative_prompt", &self.negative_prompt)
            .field("image", &format_args!("{} bytes", self.image.len()))
            .field("size", &self.size)
            .field("n", &self.n)
            .field("seed", &self.seed)
            .field("strength", &self.strength)
            .field("steps", &self.steps)
            .field("options", &self.options)
            .finish()
    }
}

/// A body built for one provider and validated against its spec; nothing has been sent. Only
/// [`ImageRequest::prepare`] makes one, so holding one proves the body passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRequest {
    provider: Provider,
    body: Value,
}

impl PreparedRequest {
    /// The provider it was built for.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The create call's JSON body (without the key).
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// The body, for the typed conversion.
    pub fn into_body(self) -> Value {
        self.body
    }
}

impl ImageRequest {
    /// The create body for `provider`, validated against its spec.
    pub fn prepare(&self, provider: Provider) -> Result<PreparedRequest, Error> {
        let body = self.to_body(provider)?;
        validate(provider, &body)?;
        Ok(PreparedRequest { provider, body })
    }

    /// The create body for `provider`, not yet validated.
    pub fn to_body(&self, provider: Provider) -> Result<Value, Error> {
        let spec = Spec::embedded(provider);
        let create = &job_info(provider).create;
        let mut body = Value::Object(Map::new());
        let mut put = |feature: Feature, value: Value| -> Result<(), Error> {
            let path = spec
                .feature(create, feature)
                .and_then(|f| f.property_names())
                .ok_or_else(|| Error::InvalidRequest {
                    field: Some(feature.as_str().to_owned()),
                    message: format!("{provider} has no {feature} setting"),
                })?;
            set_path(&mut body, &path, value);
            Ok(())
        };

        put(Feature::Prompt, Value::String(self.prompt.clone()))?;
        if let Some(negative) = &self.negative_prompt {
            put(Feature::NegativePrompt, Value::String(negative.clone()))?;
        }
        put(
            Feature::InitImage,
            Value::String(base64::engine::general_purpose::STANDARD.encode(&self.image)),
        )?;
        let sized = [Feature::Size, Feature::Width]
            .into_iter()
            .any(|f| spec.feature(create, f).is_some());
        // A spec without a size setting makes the output from the input image (its aspect ratio):
        // only an asked-for size is refused there.
        let size = match self.size {
            Some(size) => Some(size),
            None if !sized => None,
            None => {
                let (_, width, height) =
                    crate::images::inspect(&self.image).map_err(|e| Error::InvalidRequest {
                        field: Some("image".into()),
                        message: format!("the input image: {e}"),
                    })?;
                Some(Size { width, height })
            }
        };
        if let Some(size) = size {
            if spec.feature(create, Feature::Size).is_some() {
                put(Feature::Size, Value::String(size.to_string()))?;
            } else {
                put(Feature::Width, Value::from(size.width))?;
                put(Feature::Height, Value::from(size.height))?;
            }
        }
        if let Some(n) = self.n {
            put(Feature::ImagesPerCall, Value::from(n))?;
        }
        if let Some(seed) = self.seed {
            put(Feature::Seed, Value::from(seed))?;
        }
        if let Some(strength) = self.strength {
            put(Feature::Strength, number(strength))?;
        }
        if let Some(steps) = self.steps {
            put(Feature::Steps, Value::from(steps))?;
        }
        let options = &self.options;
        if let Some(model) = &options.model {
            put(Feature::Model, Value::String(model.clone()))?;
        }
        if let Some(sampler) = &options.sampler {
            put(
                Feature::Sampler,
                Value::String(provider_sampler(provider, sampler).to_owned()),
            )?;
        }
        if let Some(noise) = options.noise {
            put(Feature::Noise, number(noise))?;
        }
        if let Some(guidance) = options.guidance {
            put(Feature::Guidance, number(guidance))?;
        }
        if let Some(ratio) = options.aspect_ratio {
            put(Feature::AspectRatio, Value::String(ratio.to_string()))?;
        }
        if let Some(format) = &options.output_format {
            put(Feature::OutputFormat, Value::String(format.clone()))?;
        }
        let schema = spec.request_schema(create).and_then(Result::ok);
        if !options.fields.is_empty() {
            let schema = schema.as_ref().ok_or_else(|| {
                Error::config(format!(
                    "the {provider} spec has no usable body for {create}"
                ))
            })?;
            let auth = &spec.extensions().auth;
            let key_field = (auth.placement == AuthPlacement::Body).then_some(auth.name.as_str());
            for setting in &options.fields {
                fields::apply(&mut body, schema.schema(), setting, key_field)?;
            }
        }
        add_create_fields(provider, &mut body)?;
        let example = first_request_example(provider);
        let model = spec
            .feature(create, Feature::Model)
            .and_then(|f| f.property_names());
        if let Some(schema) = &schema {
            let mut at = Vec::new();
            fill_required(
                schema.schema(),
                &mut body,
                example.as_ref(),
                model.as_deref(),
                &mut at,
            );
        }
        Ok(body)
    }
}

/// Adds the spec's `x-job.create-fields`: what makes the create call the image-to-image job. A
/// request that set one of them otherwise is refused.
fn add_create_fields(provider: Provider, body: &mut Value) -> Result<(), Error> {
    let Value::Object(map) = body else {
        return Ok(());
    };
    for (name, fixed) in &job_info(provider).create_fields {
        match map.get(name) {
            Some(value) if value != fixed => {
                return Err(Error::InvalidRequest {
                    field: Some(name.clone()),
                    message: format!(
                        "{name} = {value} cannot be sent: {provider} runs this job with {name} = {fixed} (x-job.create-fields)"
                    ),
                });
            }
            _ => {
                map.insert(name.clone(), fixed.clone());
            }
        }
    }
    Ok(())
}

fn number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// Validates a create body against `provider`'s spec. The error names the field, the value and
/// the allowed range of each violation; `field` is the first field at fault.
pub fn validate(provider: Provider, body: &Value) -> Result<(), Error> {
    let spec = Spec::embedded(provider);
    let create = &job_info(provider).create;
    let schema = spec
        .request_schema(create)
        .ok_or_else(|| Error::config(format!("the {provider} spec has no body for {create}")))?
        .map_err(|e| Error::config(format!("the {provider} spec does not compile: {e}")))?;
    schema
        .validate(body)
        .map_err(|violations| Error::InvalidRequest {
            field: violations.iter().next().map(|v| v.subject()),
            message: violations.to_string(),
        })
}

fn set_path(body: &mut Value, path: &[&str], value: Value) {
    let mut node = body;
    for (i, key) in path.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else {
            return;
        };
        if i + 1 == path.len() {
            map.insert((*key).to_owned(), value);
            return;
        }
        node = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// The body of the first request example of the create call.
fn first_request_example(provider: Provider) -> Option<Value> {
    let create = &job_info(provider).create;
    Spec::embedded(provider)
        .examples()
        .into_iter()
        .find(|e| e.operation == *create && e.kind == ExampleKind::Request)
        .map(|e| e.value)
}

/// Fills each required property left out: the spec's default, else the example's value; never
/// the model (`model` is its path). `schema` is the converted request schema, `at` the path of
/// `body` in the request.
fn fill_required<'a>(
    schema: &'a Value,
    body: &mut Value,
    example: Option<&Value>,
    model: Option<&[&str]>,
    at: &mut Vec<&'a str>,
) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let Value::Object(map) = body else {
        return;
    };
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    for name in required {
        if map.contains_key(name) {
            continue;
        }
        let Some(property) = properties.get(name) else {
            continue;
        };
        at.push(name);
        let is_model = model == Some(at.as_slice());
        at.pop();
        if is_model {
            continue;
        }
        let value = property
            .get("default")
            .or_else(|| example.and_then(|e| e.get(name)));
        if let Some(value) = value {
            map.insert(name.to_owned(), value.clone());
        }
    }
    for (name, property) in properties {
        if let Some(child) = map.get_mut(name).filter(|v| v.is_object()) {
            at.push(name);
            fill_required(
                property,
                child,
                example.and_then(|e| e.get(name)),
                model,
                at,
            );
            at.pop();
        }
    }
}

/// The provider's spelling of a sampler given by its own name or its common name
/// (`x-common-names`).
pub fn provider_sampler(provider: Provider, sampler: &str) -> &str {
    let spec = Spec::embedded(provider);
    let Some(field) = spec.feature(&job_info(provider).create, Feature::Sampler) else {
        return sampler;
    };
    let allowed = field
        .schema
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().any(|v| v.as_str() == Some(sampler)));
    if allowed {
        return sampler;
    }
    field
        .schema
        .get("x-common-names")
        .and_then(Value::as_object)
        .and_then(|names| {
            names
                .iter()
                .find(|(_, common)| common.as_str() == Some(sampler))
        })
        .map_or(sampler, |(own, _)| own.as_str())
}
