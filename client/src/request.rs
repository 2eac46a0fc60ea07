//! The provider-neutral request, and how it becomes each provider's body.
//!
//! Nothing here names a provider's field: each neutral field is put where the spec's `x-feature`
//! says (`images_per_call` is GPTProto's `n`, Novita's `request.image_num`, ModelsLab's
//! `samples`), a sampler may be given by its common name (`x-common-names`), required fields left
//! out take the spec's default or, failing that, the value of the spec's first request example —
//! except the model, which a paid call never guesses. The body is then validated against the spec,
//! so a value out of range is refused before any request is sent, naming the field, the value and
//! the allowed range.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::OnceLock;

use base64::Engine as _;
use img2img_specs::{ExampleKind, Provider, Spec};
use serde_json::{Map, Value};

use crate::errors::Error;
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
    /// The model (`x-feature: model`: Novita `request.model_name`, ModelsLab `model_id`).
    pub model: Option<String>,
    /// The sampler, as the provider spells it or by its common name (`euler_ancestral`).
    pub sampler: Option<String>,
    /// Extra noise (`x-feature: noise`: GPTProto `noise`).
    pub noise: Option<f64>,
    /// Guidance scale (`x-feature: guidance`).
    pub guidance: Option<f64>,
    /// Output format (`x-feature: output_format`: Novita `extra.response_image_type`).
    pub output_format: Option<String>,
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

/// The neutral fields, the `x-feature` each lands on, and the command-line flag that sets it.
const FEATURES: &[(&str, &str)] = &[
    ("prompt", "--prompt"),
    ("negative_prompt", "--negative-prompt"),
    ("init_image", "--image"),
    ("size", "--size"),
    ("width", "--size"),
    ("height", "--size"),
    ("images_per_call", "--n"),
    ("seed", "--seed"),
    ("strength", "--strength"),
    ("steps", "--steps"),
    ("model", "--model"),
    ("sampler", "--sampler"),
    ("noise", "--noise"),
    ("guidance", "--guidance"),
    ("output_format", "--output-format"),
];

/// Fields the create call must carry whatever the request says (GPTProto runs img2img only with
/// `action: img2img`).
fn fixed_fields(provider: Provider) -> &'static [(&'static str, &'static str)] {
    match provider {
        Provider::Gptproto => &[("action", "img2img")],
        Provider::Novita | Provider::Modelslab => &[],
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
        let fields = feature_fields(provider);
        let mut body = Value::Object(Map::new());
        let mut put = |feature: &str, value: Value| -> Result<(), Error> {
            let path = fields.get(feature).ok_or_else(|| Error::InvalidRequest {
                field: Some(flag_of(feature).trim_start_matches('-').to_owned()),
                message: format!(
                    "{} has no {feature} setting, so {} cannot be used with it",
                    provider,
                    flag_of(feature)
                ),
            })?;
            set_path(&mut body, path, value);
            Ok(())
        };

        put("prompt", Value::String(self.prompt.clone()))?;
        if let Some(negative) = &self.negative_prompt {
            put("negative_prompt", Value::String(negative.clone()))?;
        }
        put(
            "init_image",
            Value::String(base64::engine::general_purpose::STANDARD.encode(&self.image)),
        )?;
        let size = match self.size {
            Some(size) => size,
            None => {
                let (_, width, height) =
                    crate::images::inspect(&self.image).map_err(|e| Error::InvalidRequest {
                        field: Some("image".into()),
                        message: format!("the input image: {e}"),
                    })?;
                Size { width, height }
            }
        };
        if fields.contains_key("size") {
            put("size", Value::String(size.to_string()))?;
        } else {
            put("width", Value::from(size.width))?;
            put("height", Value::from(size.height))?;
        }
        if let Some(n) = self.n {
            put("images_per_call", Value::from(n))?;
        }
        if let Some(seed) = self.seed {
            put("seed", Value::from(seed))?;
        }
        if let Some(strength) = self.strength {
            put("strength", number(strength))?;
        }
        if let Some(steps) = self.steps {
            put("steps", Value::from(steps))?;
        }
        let options = &self.options;
        if let Some(model) = &options.model {
            put("model", Value::String(model.clone()))?;
        }
        if let Some(sampler) = &options.sampler {
            put(
                "sampler",
                Value::String(provider_sampler(provider, sampler).to_owned()),
            )?;
        }
        if let Some(noise) = options.noise {
            put("noise", number(noise))?;
        }
        if let Some(guidance) = options.guidance {
            put("guidance", number(guidance))?;
        }
        if let Some(format) = &options.output_format {
            put("output_format", Value::String(format.clone()))?;
        }
        for (field, value) in fixed_fields(provider) {
            set_path(
                &mut body,
                &[field.to_string()],
                Value::String(value.to_string()),
            );
        }
        let spec = Spec::embedded(provider);
        let doc = spec.document();
        let example = first_request_example(provider);
        if let Some(schema) = request_schema_node(provider) {
            fill_required(doc, schema, &mut body, example.as_ref());
        }
        Ok(body)
    }
}

fn number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// Validates a create body against `provider`'s spec. The error names the field, the value and
/// the allowed range, with the flag that sets the field.
pub fn validate(provider: Provider, body: &Value) -> Result<(), Error> {
    let spec = Spec::embedded(provider);
    let create = &job_info(provider).create;
    let schema = spec
        .request_schema(create)
        .ok_or_else(|| Error::config(format!("the {provider} spec has no body for {create}")))?
        .map_err(|e| Error::config(format!("the {provider} spec does not compile: {e}")))?;
    schema.validate(body).map_err(|violations| {
        let fields = feature_fields(provider);
        let hint = |field: &str| {
            fields
                .iter()
                .find(|(_, path)| path.join(".") == field)
                .map(|(feature, _)| format!(" (set by {})", flag_of(feature)))
                .unwrap_or_default()
        };
        let message = violations
            .iter()
            .map(|v| format!("{v}{}", hint(&v.subject())))
            .collect::<Vec<_>>()
            .join("; ");
        Error::InvalidRequest {
            field: violations.iter().next().map(|v| v.subject()),
            message,
        }
    })
}

fn flag_of(feature: &str) -> &'static str {
    FEATURES
        .iter()
        .find(|(f, _)| *f == feature)
        .map_or("a flag", |(_, flag)| flag)
}

/// The body path of each `x-feature` of `provider`'s create body (first found, document order).
pub fn feature_fields(provider: Provider) -> &'static BTreeMap<String, Vec<String>> {
    static MAPS: [OnceLock<BTreeMap<String, Vec<String>>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let index = Provider::ALL
        .iter()
        .position(|p| *p == provider)
        .unwrap_or(0);
    MAPS[index].get_or_init(|| {
        let mut out = BTreeMap::new();
        if let Some(schema) = request_schema_node(provider) {
            collect_features(
                Spec::embedded(provider).document(),
                schema,
                &[],
                &mut out,
                0,
            );
        }
        out
    })
}

fn request_schema_node(provider: Provider) -> Option<&'static Value> {
    let spec = Spec::embedded(provider);
    let at = spec
        .operation(&job_info(provider).create)?
        .request_body
        .as_deref()?;
    spec.document().pointer(at)
}

fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => match doc.pointer(pointer) {
                Some(target) => schema = target,
                None => break,
            },
            None => break,
        }
    }
    schema
}

fn collect_features(
    doc: &Value,
    schema: &Value,
    prefix: &[String],
    out: &mut BTreeMap<String, Vec<String>>,
    depth: usize,
) {
    let schema = resolve(doc, schema);
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let mut path = prefix.to_vec();
        path.push(name.clone());
        let feature = property
            .get("x-feature")
            .or_else(|| resolve(doc, property).get("x-feature"))
            .and_then(Value::as_str);
        if let Some(feature) = feature {
            out.entry(feature.to_owned())
                .or_insert_with(|| path.clone());
        }
        if depth < 4 {
            collect_features(doc, property, &path, out, depth + 1);
        }
    }
}

fn set_path(body: &mut Value, path: &[String], value: Value) {
    let mut node = body;
    for (i, key) in path.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else {
            return;
        };
        if i + 1 == path.len() {
            map.insert(key.clone(), value);
            return;
        }
        node = map
            .entry(key.clone())
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
/// the model.
fn fill_required(doc: &Value, schema: &Value, body: &mut Value, example: Option<&Value>) {
    let schema = resolve(doc, schema);
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
        let resolved = resolve(doc, property);
        let feature = property
            .get("x-feature")
            .or_else(|| resolved.get("x-feature"))
            .and_then(Value::as_str);
        if feature == Some("model") {
            continue;
        }
        let value = resolved
            .get("default")
            .or_else(|| property.get("default"))
            .or_else(|| example.and_then(|e| e.get(name)));
        if let Some(value) = value {
            map.insert(name.to_owned(), value.clone());
        }
    }
    for (name, property) in properties {
        if let Some(child) = map.get_mut(name).filter(|v| v.is_object()) {
            fill_required(doc, property, child, example.and_then(|e| e.get(name)));
        }
    }
}

/// The provider's spelling of a sampler given by its own name or its common name
/// (`x-common-names`).
pub fn provider_sampler(provider: Provider, sampler: &str) -> &str {
    let Some(path) = feature_fields(provider).get("sampler") else {
        return sampler;
    };
    let doc = Spec::embedded(provider).document();
    let Some(mut node) = request_schema_node(provider) else {
        return sampler;
    };
    for key in path {
        node = resolve(doc, node);
        match node.get("properties").and_then(|p| p.get(key)) {
            Some(next) => node = next,
            None => return sampler,
        }
    }
    let node = resolve(doc, node);
    let allowed = node
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().any(|v| v.as_str() == Some(sampler)));
    if allowed {
        return sampler;
    }
    node.get("x-common-names")
        .and_then(Value::as_object)
        .and_then(|names| {
            names
                .iter()
                .find(|(_, common)| common.as_str() == Some(sampler))
        })
        .map_or(sampler, |(own, _)| own.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::new(width, height)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    fn request() -> ImageRequest {
        ImageRequest {
            prompt: "a cat".into(),
            image: png(512, 384),
            ..ImageRequest::default()
        }
    }

    #[test]
    fn features_land_where_each_spec_says() {
        let fields = feature_fields(Provider::Novita);
        assert_eq!(fields["images_per_call"], ["request", "image_num"]);
        assert_eq!(fields["output_format"], ["extra", "response_image_type"]);
        assert_eq!(feature_fields(Provider::Gptproto)["images_per_call"], ["n"]);
        assert_eq!(
            feature_fields(Provider::Modelslab)["steps"],
            ["num_inference_steps"]
        );
    }

    #[test]
    fn the_size_defaults_to_the_input_image() {
        let body = request().to_body(Provider::Gptproto).unwrap();
        assert_eq!(body["size"], "512x384");
        assert_eq!(body["action"], "img2img");
        let body = request().to_body(Provider::Modelslab).unwrap();
        assert_eq!(
            (body["width"].as_u64(), body["height"].as_u64()),
            (Some(512), Some(384))
        );
    }

    #[test]
    fn required_fields_come_from_the_spec_but_never_the_model() {
        let body = request().to_body(Provider::Novita).unwrap();
        assert!(body["request"]["steps"].is_u64(), "{body}");
        assert!(body["request"]["sampler_name"].is_string(), "{body}");
        assert!(body["request"].get("model_name").is_none());
        let err = request().prepare(Provider::Novita).unwrap_err();
        assert!(err.to_string().contains("model_name"), "{err}");
        assert!(err.to_string().contains("--model"), "{err}");
    }

    #[test]
    fn out_of_range_values_name_the_field_value_and_range() {
        let mut r = request();
        r.options.model = Some("m".into());
        r.n = Some(9);
        let err = r.prepare(Provider::Novita).unwrap_err();
        let Error::InvalidRequest { field, message } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(field.as_deref(), Some("request.image_num"));
        assert!(
            message.contains("request.image_num = 9 is above the maximum 8"),
            "{message}"
        );
        assert!(message.contains("--n"), "{message}");
    }

    #[test]
    fn a_setting_the_provider_lacks_is_refused() {
        let mut r = request();
        r.options.noise = Some(0.1);
        let err = r.to_body(Provider::Novita).unwrap_err();
        assert!(err.to_string().contains("--noise"), "{err}");
        assert!(r.prepare(Provider::Gptproto).is_ok());
    }

    #[test]
    fn samplers_may_be_given_by_their_common_name() {
        assert_eq!(
            provider_sampler(Provider::Novita, "euler_ancestral"),
            "Euler a"
        );
        assert_eq!(
            provider_sampler(Provider::Modelslab, "euler_ancestral"),
            "EulerAncestralDiscreteScheduler"
        );
        assert_eq!(provider_sampler(Provider::Gptproto, "k_euler"), "k_euler");
    }
}
