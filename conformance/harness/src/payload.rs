//! Turns a generated request into one worth sending: real pixels where the spec says an image goes
//! (`x-media: image`), sizes and counts capped so a run stays cheap (each cap stays inside the
//! spec's range, so the request stays valid), and no optional field whose effect reaches outside
//! the run (`x-feature` webhook, custom storage, dedicated resources: a live provider would call
//! the URL or write to the bucket).

use std::io::Cursor;

use base64::Engine as _;
use image::{ImageFormat, Rgb, RgbImage};
use serde_json::{Value, json};

/// Features whose effect reaches outside the run; optional fields carrying them are removed.
pub const SIDE_EFFECTS: &[&str] = &[
    "webhook",
    "webhook_test_mode",
    "custom_storage",
    "dedicated_resources",
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

    /// Rewrites `instance` (valid for `schema`, a compiled request schema) in place.
    pub fn prepare(&self, schema: &Value, instance: &mut Value) {
        self.walk(schema, instance);
    }

    fn walk(&self, schema: &Value, instance: &mut Value) {
        if let Value::Object(map) = instance {
            let required = img2img_strategy::sample::required_names(schema);
            map.retain(|name, _| {
                let feature = schema
                    .pointer(&format!("/properties/{name}/x-feature"))
                    .and_then(Value::as_str);
                required.contains(name) || !matches!(feature, Some(f) if SIDE_EFFECTS.contains(&f))
            });
        }
        if schema.get("x-media").and_then(Value::as_str) == Some("image") && instance.is_string() {
            *instance = Value::String(self.image_base64.clone());
            return;
        }
        match schema.get("x-feature").and_then(Value::as_str) {
            Some("width" | "height") => cap_number(instance, self.max_side, schema),
            Some("images_per_call") => cap_number(instance, self.max_images, schema),
            Some("size") => self.cap_size(instance, schema),
            _ => {}
        }
        match instance {
            Value::Object(map) => {
                for (name, value) in map.iter_mut() {
                    if let Some(property) = schema.get("properties").and_then(|p| p.get(name)) {
                        self.walk(property, value);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    for value in items {
                        self.walk(item, value);
                    }
                }
            }
            _ => {}
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
