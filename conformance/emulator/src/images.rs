//! Real images: decoding the input (base64, a `data:` URL, or an image this emulator serves; never
//! a remote URL), a deterministic transformation driven by the request, and encoding.
//!
//! The transformation stands in for a diffusion model: the input, resized to the requested size,
//! is blended (by `strength`) with a pattern whose colour comes from the prompt, whose grain from
//! the seed (and `steps`), whose contrast from the guidance scale, plus extra noise (`noise`). The
//! same inputs give the same bytes; another seed gives another image (a faint seed-driven grain is
//! kept even at strength 0 so that this holds for every valid request). Image `i` of a batch uses
//! `seed + i`, NovelAI's rule.

use std::hash::{BuildHasher, Hash, Hasher};
use std::io::Cursor;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, ImageReader, RgbImage};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP (lossless).
    Webp,
}

impl Format {
    /// From a provider's format name (`png`, `jpeg`/`jpg`, `webp`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "png" => Some(Format::Png),
            "jpeg" | "jpg" => Some(Format::Jpeg),
            "webp" => Some(Format::Webp),
            _ => None,
        }
    }

    /// File extension and provider name.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Webp => "webp",
        }
    }

    /// MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Webp => "image/webp",
        }
    }
}

/// Base64 as clients send it: standard alphabet, padding optional.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Where an image in a request comes from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Source<'a> {
    /// Inline bytes (base64, with or without a `data:` prefix).
    Inline(Vec<u8>),
    /// An image this emulator serves, by file name (`{id}-{i}.{ext}`).
    Served(&'a str),
}

/// Path prefix of the images the emulator serves.
pub const IMAGE_PATH: &str = "/emulator/images/";

/// Reads an image reference. `own_authorities` are the `host:port` forms under which this emulator
/// is reached; any other URL is refused (never fetched).
pub(crate) fn source<'a>(
    field: &str,
    text: &'a str,
    own_authorities: &[String],
) -> Result<Source<'a>, String> {
    let trimmed = text.trim();
    if let Some(rest) = trimmed.strip_prefix("data:") {
        let Some((meta, data)) = rest.split_once(',') else {
            return Err(format!("{field}: the data: URL has no ',' before its data"));
        };
        if !meta.ends_with(";base64") {
            return Err(format!(
                "{field}: the data: URL is not base64 ({:?}); use data:image/png;base64,...",
                shorten(meta)
            ));
        }
        return decode_base64(field, data).map(Source::Inline);
    }
    let lower = trimmed.get(..8).unwrap_or(trimmed).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let after_scheme = &trimmed[trimmed.find("://").map_or(0, |i| i + 3)..];
        let (authority, path) = after_scheme
            .split_once('/')
            .map_or((after_scheme, ""), |(a, p)| (a, p));
        let path = format!("/{}", path.split(['?', '#']).next().unwrap_or(""));
        let own = own_authorities
            .iter()
            .any(|a| a.eq_ignore_ascii_case(authority));
        return match path.strip_prefix(IMAGE_PATH) {
            Some(name) if own && !name.is_empty() && !name.contains('/') => {
                let start = trimmed.len() - after_scheme.len() + authority.len() + IMAGE_PATH.len();
                Ok(Source::Served(&trimmed[start..start + name.len()]))
            }
            _ => Err(format!(
                "{field} = {:?}: the emulator never fetches remote URLs; send base64, a data: URL, or an image URL this emulator served (http://<its address>{IMAGE_PATH}...)",
                shorten(trimmed)
            )),
        };
    }
    decode_base64(field, trimmed).map(Source::Inline)
}

fn decode_base64(field: &str, data: &str) -> Result<Vec<u8>, String> {
    let cleaned: String;
    let data = if data.contains(['\n', '\r', ' ']) {
        cleaned = data.chars().filter(|c| !c.is_whitespace()).collect();
        &cleaned
    } else {
        data
    };
    BASE64.decode(data).map_err(|e| {
        format!(
            "{field} = {:?} is neither base64 image data ({e}), a data: URL nor an image URL this emulator served",
            shorten(data)
        )
    })
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_owned()
    } else {
        let head: String = text.chars().take(37).collect();
        format!("{head}...")
    }
}

/// Width and height of an encoded image, read from its header only (nothing decoded).
pub(crate) fn dimensions(field: &str, bytes: &[u8]) -> Result<(u32, u32), String> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("{field}: cannot read the image: {e}"))?;
    if reader.format().is_none() {
        return Err(format!(
            "{field}: the data ({} bytes) is not a PNG, JPEG or WebP image",
            bytes.len()
        ));
    }
    reader
        .into_dimensions()
        .map_err(|e| format!("{field}: the image header cannot be read: {e}"))
}

/// Decodes an image whose size was checked with [`dimensions`] against `max_pixels`.
pub(crate) fn decode(field: &str, bytes: &[u8], max_pixels: u64) -> Result<RgbImage, String> {
    let (width, height) = dimensions(field, bytes)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(format!(
            "{field}: the image is {width}x{height} = {pixels} pixels, above the maximum {max_pixels}"
        ));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("{field}: cannot read the image: {e}"))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(pixels.saturating_mul(8).max(1 << 20));
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|e| format!("{field}: the image cannot be decoded: {e}"))?;
    Ok(decoded.to_rgb8())
}

/// `width * height * count` against the budget, before anything is allocated.
pub(crate) fn check_budget(
    fields: &str,
    width: u64,
    height: u64,
    count: u64,
    budget: u64,
) -> Result<(), String> {
    let pixels = width.saturating_mul(height).saturating_mul(count);
    if pixels > budget {
        return Err(format!(
            "{fields} = {width}x{height} x {count} image(s) = {pixels} output pixels, above the emulator's pixel budget {budget} (raise it with --pixel-budget or Config::pixel_budget)"
        ));
    }
    Ok(())
}

/// What drives one output image.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RenderParams {
    pub width: u32,
    pub height: u32,
    pub seed: u64,
    pub prompt: String,
    pub negative_prompt: String,
    pub strength: f64,
    pub noise: f64,
    pub steps: u32,
    pub guidance: f64,
}

/// A stable 64-bit hash (FNV-1a), the same on every run and machine.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random `u64` (not reproducible): seeds for requests that ask for a random one, job ids.
pub(crate) fn random_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    COUNTER.fetch_add(1, Ordering::Relaxed).hash(&mut hasher);
    std::time::SystemTime::now().hash(&mut hasher);
    mix(hasher.finish())
}

/// The input resized to the output size, or (text to image) a gradient coloured by the prompt.
pub(crate) fn base_image(
    input: Option<&RgbImage>,
    width: u32,
    height: u32,
    prompt: &str,
) -> RgbImage {
    match input {
        Some(input) if input.dimensions() == (width, height) => input.clone(),
        Some(input) => {
            image::imageops::resize(input, width, height, image::imageops::FilterType::Triangle)
        }
        None => {
            let hash = stable_hash(prompt.as_bytes());
            let [r, g, b, ..] = hash.to_le_bytes();
            RgbImage::from_fn(width, height, |x, y| {
                let fx = (x * 255 / width.max(1)) as u8;
                let fy = (y * 255 / height.max(1)) as u8;
                image::Rgb([r / 2 + fx / 2, g / 2 + fy / 2, b / 2 + (fx / 4 + fy / 4)])
            })
        }
    }
}

/// One output image from the (already resized) base.
pub(crate) fn render(base: &RgbImage, params: &RenderParams) -> RgbImage {
    let (width, height) = (params.width, params.height);
    let prompt_hash = stable_hash(params.prompt.as_bytes());
    let negative_hash = stable_hash(params.negative_prompt.as_bytes());
    let [tr, tg, tb, nr, ng, nb, ..] = (prompt_hash ^ negative_hash.rotate_left(24)).to_le_bytes();
    let tint = [f64::from(tr), f64::from(tg), f64::from(tb)];
    let shade = [
        f64::from(nr) / 255.0,
        f64::from(ng) / 255.0,
        f64::from(nb) / 255.0,
    ];
    let strength = params.strength.clamp(0.05, 1.0);
    let contrast = 0.4 + (params.guidance.clamp(0.0, 30.0) / 30.0) * 0.6;
    let cell = (64 / params.steps.clamp(1, 64)).clamp(1, 16);
    let noise = params.noise.clamp(0.0, 1.0) * 96.0;
    let seed = mix(params.seed ^ prompt_hash.rotate_left(7));
    RgbImage::from_fn(width, height, |x, y| {
        let grain = mix(seed ^ (u64::from(x / cell) << 32 | u64::from(y / cell)));
        let fine = mix(grain ^ (u64::from(x) << 32 | u64::from(y)));
        let level = (grain & 0xff) as f64 / 255.0;
        let base = base
            .get_pixel(x.min(base.width() - 1), y.min(base.height() - 1))
            .0;
        let mut out = [0u8; 3];
        for c in 0..3 {
            let pattern = tint[c] * (1.0 - contrast + contrast * level) * (0.75 + 0.25 * shade[c]);
            let jitter = (((fine >> (c * 8)) & 0xff) as f64 / 255.0 - 0.5) * noise;
            let value = f64::from(base[c]) * (1.0 - strength) + pattern * strength + jitter;
            out[c] = value.round().clamp(0.0, 255.0) as u8;
        }
        image::Rgb(out)
    })
}

/// Encodes an image.
pub(crate) fn encode(image: &RgbImage, format: Format) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(image.as_raw().len() / 2);
    let (width, height) = image.dimensions();
    let result = match format {
        Format::Png => {
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
                .write_image(image.as_raw(), width, height, ExtendedColorType::Rgb8)
        }
        Format::Jpeg => JpegEncoder::new_with_quality(&mut out, 90).write_image(
            image.as_raw(),
            width,
            height,
            ExtendedColorType::Rgb8,
        ),
        Format::Webp => WebPEncoder::new_lossless(&mut out).write_image(
            image.as_raw(),
            width,
            height,
            ExtendedColorType::Rgb8,
        ),
    };
    result.map_err(|e| format!("cannot encode a {width}x{height} {}: {e}", format.ext()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(seed: u64) -> RenderParams {
        RenderParams {
            width: 64,
            height: 48,
            seed,
            prompt: "a cat".into(),
            negative_prompt: String::new(),
            strength: 0.0,
            noise: 0.0,
            steps: 20,
            guidance: 7.0,
        }
    }

    #[test]
    fn sources_are_base64_data_urls_or_own_urls() {
        let own = vec!["127.0.0.1:8080".to_owned()];
        assert_eq!(
            source("f", "aGVsbG8", &own),
            Ok(Source::Inline(b"hello".to_vec()))
        );
        assert_eq!(
            source("f", "data:image/png;base64,aGVsbG8=", &own),
            Ok(Source::Inline(b"hello".to_vec()))
        );
        assert_eq!(
            source("f", "http://127.0.0.1:8080/emulator/images/abc-0.png", &own),
            Ok(Source::Served("abc-0.png"))
        );
        let error = source(
            "image",
            "https://example.com/emulator/images/abc-0.png",
            &own,
        )
        .unwrap_err();
        assert!(error.contains("never fetches remote URLs"), "{error}");
        assert!(
            error.starts_with("image = \"https://example.com"),
            "{error}"
        );
        let error = source("image", "not base64!", &own).unwrap_err();
        assert!(error.contains("neither base64"), "{error}");
    }

    #[test]
    fn rendering_is_deterministic_and_seeded_even_at_strength_zero() {
        let base = base_image(None, 64, 48, "a cat");
        let a = render(&base, &params(1));
        assert_eq!(a, render(&base, &params(1)));
        assert_ne!(a, render(&base, &params(2)));
        for format in [Format::Png, Format::Jpeg, Format::Webp] {
            let bytes = encode(&a, format).unwrap();
            assert_eq!(dimensions("f", &bytes).unwrap(), (64, 48));
            assert_eq!(decode("f", &bytes, 64 * 48).unwrap().dimensions(), (64, 48));
            let error = decode("f", &bytes, 100).unwrap_err();
            assert!(
                error.contains("64x48 = 3072 pixels, above the maximum 100"),
                "{error}"
            );
        }
    }

    #[test]
    fn the_budget_names_the_size_and_the_budget() {
        assert!(check_budget("size x n", 512, 512, 4, 1 << 20).is_ok());
        let error = check_budget("size x n", 49152, 49152, 1, 1 << 20).unwrap_err();
        assert!(
            error.starts_with("size x n = 49152x49152 x 1 image(s) = 2415919104 output pixels, above the emulator's pixel budget 1048576"),
            "{error}"
        );
    }
}
