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
use std::sync::{Arc, Mutex};

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
    /// Any other `http(s)` URL: never fetched (see [`derived_input`] and [`remote_refused`]).
    Remote(&'a str),
}

/// Path prefix of the images the emulator serves.
pub const IMAGE_PATH: &str = "/emulator/images/";

/// Reads an image reference. `own_authorities` are the `host:port` forms under which this emulator
/// is reached; any other URL is [`Source::Remote`] (never fetched).
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
            _ => Ok(Source::Remote(trimmed)),
        };
    }
    decode_base64(field, trimmed).map(Source::Inline)
}

/// Why a remote URL is refused under `strict_images`.
pub(crate) fn remote_refused(field: &str, url: &str) -> String {
    format!(
        "{field} = {:?}: the emulator never fetches remote URLs, and strict images are on; send base64, a data: URL, or an image URL this emulator served (http://<its address>{IMAGE_PATH}...)",
        shorten(url)
    )
}

/// The input image that stands for a remote URL the emulator will not fetch: a 64x64 PNG whose
/// pattern is a function of the URL alone, so the same URL always gives the same input (and the
/// same outputs), and two URLs give two inputs.
pub(crate) fn derived_input(url: &str) -> Vec<u8> {
    let hash = stable_hash(url.as_bytes());
    let [a, b, c, d, ..] = hash.to_le_bytes();
    let image = RgbImage::from_fn(64, 64, |x, y| {
        let (x, y) = (x as u8, y as u8);
        image::Rgb([
            a.wrapping_add(x.wrapping_mul(3)),
            b.wrapping_add(y.wrapping_mul(3)),
            c ^ d.wrapping_add(x ^ y),
        ])
    });
    encode(&image, Format::Png).expect("a 64x64 PNG encodes in memory")
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

/// One output image from the (already resized) base (see [`render_into`]).
#[cfg(test)]
pub(crate) fn render(base: &RgbImage, params: &RenderParams) -> RgbImage {
    let mut out = Vec::new();
    render_into(base, params, &mut out);
    RgbImage::from_raw(params.width, params.height, out)
        .expect("the buffer has width * height * 3 bytes")
}

/// What a rendering's look follows from its parameters: the tint and shade of the prompts, how
/// much of the input shows through, the contrast, the grain's cell size, the noise and the seed.
struct Look {
    tint_bytes: [u8; 3],
    shade_bytes: [u8; 3],
    tint: [f64; 3],
    shade: [f64; 3],
    strength: f64,
    contrast: f64,
    cell: u32,
    noise: f64,
    seed: u64,
}

impl Look {
    fn of(params: &RenderParams) -> Look {
        let prompt_hash = stable_hash(params.prompt.as_bytes());
        let negative_hash = stable_hash(params.negative_prompt.as_bytes());
        let [tr, tg, tb, nr, ng, nb, ..] =
            (prompt_hash ^ negative_hash.rotate_left(24)).to_le_bytes();
        Look {
            tint_bytes: [tr, tg, tb],
            shade_bytes: [nr, ng, nb],
            tint: [f64::from(tr), f64::from(tg), f64::from(tb)],
            shade: [
                f64::from(nr) / 255.0,
                f64::from(ng) / 255.0,
                f64::from(nb) / 255.0,
            ],
            strength: params.strength.clamp(0.05, 1.0),
            contrast: 0.4 + (params.guidance.clamp(0.0, 30.0) / 30.0) * 0.6,
            cell: (64 / params.steps.clamp(1, 64)).clamp(1, 16),
            noise: params.noise.clamp(0.0, 1.0) * 96.0,
            seed: mix(params.seed ^ prompt_hash.rotate_left(7)),
        }
    }
}

/// One output image from the (already resized) base, into `out` (its RGB bytes, row by row,
/// reusing its allocation).
///
/// Per pixel and channel: `base * (1 - strength) + pattern * strength + jitter`, rounded and
/// clamped, where the pattern comes from the grain level of the pixel's cell. Each term takes at
/// most 256 values, so each is computed once into a table (with the same arithmetic, so the bytes
/// do not depend on the tabulation), and the jitter is left out when `noise` is 0 (it is then
/// ±0.0, which changes no rounded value).
pub(crate) fn render_into(base: &RgbImage, params: &RenderParams, out: &mut Vec<u8>) {
    let (width, height) = (params.width, params.height);
    let Look {
        tint_bytes: [tr, tg, tb],
        shade_bytes: [nr, ng, nb],
        tint,
        shade,
        strength,
        contrast,
        cell,
        noise,
        seed,
    } = Look::of(params);

    let keep = 1.0 - strength;
    let base_share: [f64; 256] = std::array::from_fn(|b| b as f64 * keep);
    let pattern_share: Vec<[f64; 3]> = (0..256u32)
        .map(|grain| {
            let level = f64::from(grain) / 255.0;
            std::array::from_fn(|c| {
                let pattern =
                    tint[c] * (1.0 - contrast + contrast * level) * (0.75 + 0.25 * shade[c]);
                pattern * strength
            })
        })
        .collect();
    let jitter: [f64; 256] = std::array::from_fn(|j| (j as f64 / 255.0 - 0.5) * noise);
    let noisy = noise != 0.0;
    // Without jitter a channel's byte depends on the level and the base byte only: for a large
    // image, every such byte at once (kept for the next image with the same prompt, strength and
    // guidance); for a small one, the levels that turn up.
    let key = PaletteKey {
        tint: [tr, tg, tb],
        shade: [nr, ng, nb],
        strength: strength.to_bits(),
        contrast: contrast.to_bits(),
    };
    let large = u64::from(width) * u64::from(height) >= PALETTE_PIXELS;
    let palette = (!noisy && large).then(|| {
        palette(key, || {
            let mut palette = vec![[[0u8; 256]; 3]; 256];
            for (bytes, share) in palette.iter_mut().zip(&pattern_share) {
                fill_level(bytes, &base_share, share);
            }
            palette
        })
    });
    let mut levels: Vec<Option<Box<[[u8; 256]; 3]>>> = vec![None; 256];

    let (base_width, base_height) = base.dimensions();
    let base_raw = base.as_raw();
    let row_bytes = base_width as usize * 3;
    out.clear();
    out.resize(width as usize * height as usize * 3, 0);
    for (y, out_row) in (0..height).zip(out.chunks_exact_mut(width as usize * 3)) {
        let by = y.min(base_height - 1) as usize;
        let base_row = &base_raw[by * row_bytes..(by + 1) * row_bytes];
        let cell_y = u64::from(y / cell);
        // One cell (one grain) at a time: `cell` pixels of the row.
        let mut x = 0u32;
        for (cell_x, cell_out) in (0u32..).zip(out_row.chunks_mut(cell as usize * 3)) {
            let grain = mix(seed ^ (u64::from(cell_x) << 32 | cell_y));
            let level = (grain & 0xff) as usize;
            let share = &pattern_share[level];
            if noisy {
                for pixel in cell_out.chunks_exact_mut(3) {
                    let bx = x.min(base_width - 1) as usize * 3;
                    let from = &base_row[bx..bx + 3];
                    let fine = mix(grain ^ (u64::from(x) << 32 | u64::from(y)));
                    for c in 0..3 {
                        let value = base_share[usize::from(from[c])]
                            + share[c]
                            + jitter[((fine >> (c * 8)) & 0xff) as usize];
                        pixel[c] = to_byte(value);
                    }
                    x += 1;
                }
            } else {
                // Without jitter a channel's byte depends on the base byte and the level only.
                let bytes: &[[u8; 256]; 3] = match &palette {
                    Some(palette) => &palette[level],
                    None => levels[level].get_or_insert_with(|| {
                        let mut bytes = Box::new([[0u8; 256]; 3]);
                        fill_level(&mut bytes, &base_share, share);
                        bytes
                    }),
                };
                for pixel in cell_out.chunks_exact_mut(3) {
                    let bx = x.min(base_width - 1) as usize * 3;
                    let from = &base_row[bx..bx + 3];
                    for c in 0..3 {
                        pixel[c] = bytes[c][usize::from(from[c])];
                    }
                    x += 1;
                }
            }
        }
    }
}

/// Images from this many pixels up use a whole [`palette`].
const PALETTE_PIXELS: u64 = 256 * 256;
/// Palettes kept (192 KiB each).
const PALETTES_KEPT: usize = 8;

/// What the bytes of a jitter-free rendering depend on besides the level and the base byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PaletteKey {
    tint: [u8; 3],
    shade: [u8; 3],
    strength: u64,
    contrast: u64,
}

/// Output bytes by level, channel and base byte.
type Palette = Vec<[[u8; 256]; 3]>;

/// The palette for `key`, made by `make` unless one of the last few is it.
fn palette(key: PaletteKey, make: impl FnOnce() -> Palette) -> Arc<Palette> {
    static KEPT: Mutex<Vec<(PaletteKey, Arc<Palette>)>> = Mutex::new(Vec::new());
    let lock = || KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, found)) = lock().iter().find(|(k, _)| *k == key) {
        return Arc::clone(found);
    }
    let made = Arc::new(make());
    let mut kept = lock();
    kept.insert(0, (key, Arc::clone(&made)));
    kept.truncate(PALETTES_KEPT);
    made
}

/// The bytes of one level: `base * (1 - strength) + pattern * strength`, rounded and clamped.
fn fill_level(bytes: &mut [[u8; 256]; 3], base_share: &[f64; 256], share: &[f64; 3]) {
    for (c, table) in bytes.iter_mut().enumerate() {
        for (b, byte) in table.iter_mut().enumerate() {
            *byte = to_byte(base_share[b] + share[c]);
        }
    }
}

/// `value.round().clamp(0.0, 255.0) as u8` for the finite values [`render_into`] makes, without a
/// call to `round` (not an instruction on baseline x86-64): the fraction `value - trunc(value)`
/// is exact, so rounding half away from zero is a comparison.
fn to_byte(value: f64) -> u8 {
    let whole = value as i64;
    let fraction = value - whole as f64;
    let rounded = whole + i64::from(fraction >= 0.5) - i64::from(fraction <= -0.5);
    rounded.clamp(0, 255) as u8
}

/// Encodes an image.
pub(crate) fn encode(image: &RgbImage, format: Format) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let (width, height) = image.dimensions();
    encode_into(image.as_raw(), width, height, format, &mut out)?;
    Ok(out)
}

/// Encodes RGB bytes (`width * height * 3`, row by row) into `out`, reusing its allocation. The
/// settings are chosen for speed: PNG with fdeflate's fast level and the `Up` filter, lossless
/// WebP, JPEG quality 90.
pub(crate) fn encode_into(
    raw: &[u8],
    width: u32,
    height: u32,
    format: Format,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    out.clear();
    out.reserve(raw.len() / 2);
    let result = match format {
        Format::Png => {
            PngEncoder::new_with_quality(&mut *out, CompressionType::Fast, FilterType::Up)
                .write_image(raw, width, height, ExtendedColorType::Rgb8)
        }
        Format::Jpeg => JpegEncoder::new_with_quality(&mut *out, 90).write_image(
            raw,
            width,
            height,
            ExtendedColorType::Rgb8,
        ),
        Format::Webp => WebPEncoder::new_lossless(&mut *out).write_image(
            raw,
            width,
            height,
            ExtendedColorType::Rgb8,
        ),
    };
    result.map_err(|e| format!("cannot encode a {width}x{height} {}: {e}", format.ext()))
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
        assert_eq!(
            source(
                "image",
                "https://example.com/emulator/images/abc-0.png",
                &own
            ),
            Ok(Source::Remote(
                "https://example.com/emulator/images/abc-0.png"
            ))
        );
        let error = remote_refused("image", "https://example.com/reference.jpg");
        assert!(error.contains("never fetches remote URLs"), "{error}");
        assert!(
            error.starts_with("image = \"https://example.com"),
            "{error}"
        );
        let error = source("image", "not base64!", &own).unwrap_err();
        assert!(error.contains("neither base64"), "{error}");
    }

    #[test]
    fn a_remote_url_stands_for_an_input_derived_from_it_alone() {
        let a = derived_input("https://example.com/reference.jpg");
        assert_eq!(a, derived_input("https://example.com/reference.jpg"));
        assert_ne!(a, derived_input("https://example.com/image.jpg"));
        let decoded = image::load_from_memory(&a).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (64, 64));
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

    /// The per-pixel arithmetic `render` tabulates, written out as it was first written.
    fn reference_render(base: &RgbImage, params: &RenderParams) -> RgbImage {
        let (width, height) = (params.width, params.height);
        let Look {
            tint,
            shade,
            strength,
            contrast,
            cell,
            noise,
            seed,
            ..
        } = Look::of(params);
        RgbImage::from_fn(width, height, |x, y| {
            let grain = mix(seed ^ (u64::from(x / cell) << 32 | u64::from(y / cell)));
            let fine = mix(grain ^ (u64::from(x) << 32 | u64::from(y)));
            let level = (grain & 0xff) as f64 / 255.0;
            let base = base
                .get_pixel(x.min(base.width() - 1), y.min(base.height() - 1))
                .0;
            let mut out = [0u8; 3];
            for c in 0..3 {
                let pattern =
                    tint[c] * (1.0 - contrast + contrast * level) * (0.75 + 0.25 * shade[c]);
                let jitter = (((fine >> (c * 8)) & 0xff) as f64 / 255.0 - 0.5) * noise;
                let value = f64::from(base[c]) * (1.0 - strength) + pattern * strength + jitter;
                out[c] = value.round().clamp(0.0, 255.0) as u8;
            }
            image::Rgb(out)
        })
    }

    #[test]
    fn rendering_matches_the_per_pixel_arithmetic_exactly() {
        let input = RgbImage::from_fn(37, 23, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 11) as u8, ((x * y) % 256) as u8])
        });
        for (i, (strength, noise, steps, guidance)) in [
            (0.5, 0.0, 20, 7.0),
            (0.0, 0.0, 1, 0.0),
            (1.0, 1.0, 64, 30.0),
            (0.37, 0.25, 7, 12.5),
            (0.99, 0.5, 200, 3.3),
        ]
        .into_iter()
        .enumerate()
        {
            let params = RenderParams {
                width: 61,
                height: 45,
                seed: 1000 + i as u64,
                prompt: format!("prompt {i}"),
                negative_prompt: "blurry".into(),
                strength,
                noise,
                steps,
                guidance,
            };
            let resized = base_image(Some(&input), 61, 45, &params.prompt);
            assert_eq!(
                render(&resized, &params),
                reference_render(&resized, &params)
            );
            // Large enough for a whole palette (made once, then kept).
            let large = RenderParams {
                width: 300,
                height: 220,
                ..params.clone()
            };
            let resized = base_image(Some(&input), 300, 220, &large.prompt);
            for _ in 0..2 {
                assert_eq!(render(&resized, &large), reference_render(&resized, &large));
            }
            // A base of another size is read clamped at its edges.
            assert_eq!(render(&input, &params), reference_render(&input, &params));
        }
        for value in [
            -0.5,
            -0.4999,
            0.5,
            0.49999999999999994,
            1.5,
            2.5,
            254.5,
            255.5,
            -3.7,
            300.2,
        ] {
            assert_eq!(
                to_byte(value),
                value.round().clamp(0.0, 255.0) as u8,
                "{value}"
            );
        }
    }
}
