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
}

#[cfg(test)]
#[path = "tests/limits.rs"]
mod tests;
