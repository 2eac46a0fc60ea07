//! Turns a generated request into one worth sending: real pixels where the spec says an image goes
//! (`x-media: image`), sizes and counts capped so a run stays cheap (each cap stays inside the
//! spec's range, so the request stays valid), and no optional field whose effect reaches outside
//! the run (`x-feature` webhook, custom storage, dedicated resources: a live provider would call
//! the URL or write to the bucket).

use std::io::Cursor;

use base64::Engine as _;
use image::{ImageFormat, Rgb, RgbImage};
use img2img_specs::{Feature, Spec, media_fields};
use serde_json::{Value, json};

/// Features whose effect reaches outside the run; optional fields carrying them are removed.
pub const SIDE_EFFECTS: &[Feature] = &[
    Feature::Webhook,
    Feature::WebhookTestMode,
    Feature::CustomStorage,
    Feature::DedicatedResources,
];

/// What the harness puts in generated requests.
#[derive(Debug, Clone)]
pub struct Payload {
    /// Largest width or height sent.
    pub max_side: u64,
    /// Most images asked for per call.
    pub max_images: u64,
    image_base64: String,
}

impl Default for Payload {
    fn default() -> Self {
        Payload::new(512, 2)
    }
}

impl Payload {
    /// Caps sides at `max_side` pixels and counts at `max_images`; the input image is a 64×64 PNG.
    pub fn new(max_side: u64, max_images: u64) -> Self {
        Payload {
            max_side,
            max_images,
            image_base64: base64::engine::general_purpose::STANDARD.encode(test_image()),
        }
    }

    /// The input image, base64.
    pub fn image_base64(&self) -> &str {
        &self.image_base64
    }

    /// Rewrites `instance`, a create body of `spec` (`x-job.create`), in place: where each field is
    /// and what it may hold comes from the spec's feature view and its `x-media` marks.
    pub fn prepare(&self, spec: &Spec, instance: &mut Value) {
        let create = &spec.extensions().job.create;
        let fields = spec.features(create);
        for field in fields
            .iter()
            .filter(|f| !f.required && SIDE_EFFECTS.contains(&f.feature))
        {
            for pointer in field.pointers_in(instance) {
                remove(instance, &pointer);
            }
        }
        if let Some(Ok(schema)) = spec.request_schema(create) {
            for pointer in media_fields(schema.schema(), instance) {
                if let Some(value) = instance.pointer_mut(&pointer) {
                    *value = Value::String(self.image_base64.clone());
                }
            }
        }
        for field in fields {
            for pointer in field.pointers_in(instance) {
                let Some(value) = instance.pointer_mut(&pointer) else {
                    continue;
                };
                match field.feature {
                    Feature::Width | Feature::Height => {
                        cap_number(value, self.max_side, &field.schema)
                    }
                    Feature::ImagesPerCall => cap_number(value, self.max_images, &field.schema),
                    Feature::Size => self.cap_size(value, &field.schema),
                    _ => {}
                }
            }
        }
    }

    fn cap_size(&self, instance: &mut Value, schema: &Value) {
        let minimum = schema
            .pointer("/x-dimensions/minimum")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let Some((w, h)) = instance.as_str().and_then(|s| s.split_once('x')) else {
            return;
        };
        let (Ok(w), Ok(h)) = (w.parse::<u64>(), h.parse::<u64>()) else {
            return;
        };
        let cap = |side: u64| side.min(self.max_side).max(minimum);
        *instance = Value::String(format!("{}x{}", cap(w), cap(h)));
    }
}

/// Removes the value at `pointer` from its object.
fn remove(instance: &mut Value, pointer: &str) {
    let Some((parent, name)) = pointer.rsplit_once('/') else {
        return;
    };
    if let Some(Value::Object(map)) = instance.pointer_mut(parent) {
        map.remove(&img2img_specs::schema::unescape(name));
    }
}

/// Lowers a number (or a number written as a string) to `cap`, not below the schema's minimum.
fn cap_number(instance: &mut Value, cap: u64, schema: &Value) {
    let minimum = minimum_of(schema).unwrap_or(1.0) as u64;
    let cap = cap.max(minimum);
    match instance {
        Value::Number(n) if n.as_f64().is_some_and(|v| v > cap as f64) => *instance = json!(cap),
        Value::String(s) if s.parse::<f64>().is_ok_and(|v| v > cap as f64) => *s = cap.to_string(),
        _ => {}
    }
}

fn minimum_of(schema: &Value) -> Option<f64> {
    schema.get("minimum").and_then(Value::as_f64).or_else(|| {
        ["oneOf", "anyOf"]
            .iter()
            .filter_map(|k| schema.get(*k).and_then(Value::as_array))
            .flatten()
            .find_map(minimum_of)
    })
}

/// A 64×64 PNG gradient: small, decodable by every provider, and not uniform.
pub fn test_image() -> Vec<u8> {
    let image = RgbImage::from_fn(64, 64, |x, y| {
        Rgb([(x * 4) as u8, (y * 4) as u8, ((x + y) * 2) as u8])
    });
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Png)
        .expect("encoding a small PNG in memory cannot fail");
    bytes.into_inner()
}
