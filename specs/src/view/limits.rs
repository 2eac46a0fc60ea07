//! `x-limits` (facts that bound usage and cost) and `x-emulator` (what an emulator assumes where
//! the docs are silent), typed.

use serde::{Deserialize, Serialize};

use super::answers::Answers;

/// `x-limits`: every key is optional; a key the specs do not document is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Limits {
    /// `rate-limit`: how much one key may ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimits>,
    /// `image-url-ttl-seconds`: how long an output image URL lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url_ttl_seconds: Option<u64>,
    /// `temp-link-ttl-seconds`: how long an output link lives when the request asked for a
    /// temporary one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_link_ttl_seconds: Option<u64>,
    /// `max-input-bytes`: the largest input image, in bytes (before base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_bytes: Option<u64>,
    /// `max-input-pixels`: the largest input image, in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_pixels: Option<u64>,
}

/// `x-limits.rate-limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RateLimits {
    /// `images-per-minute`: images created per key in any 60 s window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images_per_minute: Option<u32>,
    /// `queued-requests`: jobs per key not yet finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_requests: Option<u32>,
    /// `retry-after-seconds`: the wait a refusal over the limit asks for (the answer's
    /// `retry_after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
}

/// `x-emulator`: what an emulator of the provider assumes where neither the request nor the docs
/// say; not a fact of the provider, and never sent by a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EmulatorInfo {
    /// `render-defaults`.
    pub render_defaults: RenderDefaults,
    /// `answers`: what the emulator answers, as templates (the lint requires it; optional here
    /// so that older specs, from before it existed, still read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Answers>,
}

/// `x-emulator.render-defaults`: what an emulator renders with when a request carries no value
/// for a feature and its property no `default` (the docs state none, the provider lacks the
/// feature, or validation is switched off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RenderDefaults {
    /// Output width, in pixels.
    pub width: u32,
    /// Output height, in pixels.
    pub height: u32,
    /// How much the init image changes (0..1).
    pub strength: f64,
    /// Sampling steps.
    pub steps: u32,
    /// Guidance scale.
    pub guidance: f64,
    /// `pixels`: with it, a request that names no width, height or size is rendered at about this
    /// many pixels, in the ratio it asks for (its `aspect_ratio`), else its init image's, else
    /// `width`:`height` (a provider that keeps the output near one size whatever the ratio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixels: Option<u64>,
    /// `multiple-of`: each side of a size derived from `pixels` is a multiple of this (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_of: Option<u32>,
}

impl RenderDefaults {
    /// The output size of a request that names no width, height or size, from the ratio it
    /// `asked` for and its init image's (`input`). With `pixels`: about that many pixels at the
    /// asked ratio, else the input's, else `width`:`height`. Without: `width` x `height`, or
    /// as many pixels at the asked ratio. Each side of a derived size is a multiple of
    /// `multiple-of`, at least one.
    pub fn size_for(&self, asked: Option<AspectRatio>, input: Option<AspectRatio>) -> (u32, u32) {
        let (pixels, ratio) = match (self.pixels, asked) {
            (Some(pixels), asked) => (pixels, asked.or(input)),
            (None, Some(asked)) => (u64::from(self.width) * u64::from(self.height), Some(asked)),
            (None, None) => return (self.width, self.height),
        };
        let ratio = ratio
            .or(AspectRatio::new(self.width, self.height))
            .map_or(1.0, AspectRatio::value);
        let step = f64::from(self.multiple_of.unwrap_or(1).max(1));
        let side = |exact: f64| {
            let rounded = ((exact / step).round() * step).clamp(step, f64::from(u32::MAX));
            rounded as u32
        };
        let width = (pixels as f64 * ratio).sqrt();
        (side(width), side(width / ratio))
    }
}

/// An aspect ratio as a request writes it (`"16:9"`): both sides positive whole numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AspectRatio {
    /// The width's share.
    pub width: u32,
    /// The height's share.
    pub height: u32,
}

impl AspectRatio {
    /// `width`:`height`, if neither is zero.
    pub fn new(width: u32, height: u32) -> Option<AspectRatio> {
        (width > 0 && height > 0).then_some(AspectRatio { width, height })
    }

    /// `"W:H"` (spaces around the numbers allowed); `None` for anything else, including zeros.
    pub fn parse(text: &str) -> Option<AspectRatio> {
        let (width, height) = text.split_once(':')?;
        AspectRatio::new(width.trim().parse().ok()?, height.trim().parse().ok()?)
    }

    /// Width over height.
    pub fn value(self) -> f64 {
        f64::from(self.width) / f64::from(self.height)
    }
}

impl std::fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.width, self.height)
    }
}

#[cfg(test)]
#[path = "tests/limits.rs"]
mod tests;
