//! Cost of building, validating and serializing a create request that carries a 1 MB and a 10 MB
//! image, as a ratio to a bare `serde_json::to_vec` of the same (typed) request measured in the
//! same run, with peak memory above the starting point.
//!
//! Run with: `cargo bench -p img2img-client --bench request`
//!
//! "Full" is what a create costs before it reaches the wire: `ImageRequest::prepare` (base64 of
//! the image, the body laid out by the spec's `x-feature`s, required fields filled, validation
//! against the spec), the conversion into the generated request type and back (through the
//! registry, as the generated client reads the body it is handed), and `serde_json::to_vec` of it.
//! "Bare" is `serde_json::to_vec` of that body alone.

use std::hint::black_box;
use std::time::{Duration, Instant};

use img2img_client::{ImageRequest, Provider, ProviderOptions, Size};
use img2img_registry::Part;
use img2img_specs::Spec;
use peak_alloc::PeakAlloc;
use serde_json::Value;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// A noise PNG of about `bytes` bytes (noise does not compress).
fn png_of_about(bytes: usize) -> Vec<u8> {
    let side = ((bytes as f64 / 3.0).sqrt()) as u32;
    let mut rng = fastrand::Rng::with_seed(42);
    let pixels: Vec<u8> = (0..side * side * 3).map(|_| rng.u8(..)).collect();
    let image = image::RgbImage::from_raw(side, side, pixels).expect("buffer fits");
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("PNG encodes");
    out
}

fn request(image: Vec<u8>) -> ImageRequest {
    ImageRequest {
        prompt: "a watercolour fox, soft light".into(),
        negative_prompt: Some("blurry".into()),
        image,
        size: Some(Size {
            width: 512,
            height: 512,
        }),
        n: Some(1),
        seed: Some(42),
        strength: Some(0.6),
        steps: Some(20),
        options: ProviderOptions::default(),
    }
}

/// The body as the generated request type of `provider`'s create call reads it and writes it back
/// (what the generated client does with the body `Client::submit_prepared` hands it).
fn typed(provider: Provider, body: Value) -> Value {
    let create = &Spec::embedded(provider).extensions().job.create;
    img2img_registry::generated(provider)
        .expect("a generated client")
        .round_trip(create, Part::Request, body)
        .expect("fits")
}

fn to_vec(typed: &Value) -> Vec<u8> {
    serde_json::to_vec(typed).expect("serializes")
}

fn full(provider: Provider, request: &ImageRequest) -> Vec<u8> {
    let prepared = request.prepare(provider).expect("valid request");
    to_vec(&typed(provider, prepared.into_body()))
}

/// Median time over `runs`, and the peak bytes allocated above the starting point in one run.
fn measure<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, usize) {
    black_box(f());
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        black_box(f());
        times.push(started.elapsed());
    }
    times.sort();
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    black_box(f());
    let peak = ALLOC.peak_usage().saturating_sub(base);
    (times[runs / 2], peak)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn main() {
    // `cargo bench` passes `--bench`; anything else is a filter on the provider id.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    println!(
        "{:<10} {:>8} {:>10} {:>10} {:>7} {:>12} {:>12} {:>7}",
        "provider", "image", "full ms", "bare ms", "ratio", "full peak MB", "bare peak MB", "ratio"
    );
    for target in [1_000_000usize, 10_000_000] {
        let image = png_of_about(target);
        let runs = if target > 5_000_000 { 9 } else { 31 };
        for provider in Provider::all() {
            if !filter.is_empty() && !filter.iter().any(|f| f == provider.id()) {
                continue;
            }
            let mut request = request(image.clone());
            let create = &Spec::embedded(provider).extensions().job.create;
            if Spec::embedded(provider)
                .feature(create, img2img_specs::Feature::Model)
                .is_some()
            {
                request.options.model = Some("sd_xl_base_1.0.safetensors".into());
            }
            let prepared = request.prepare(provider).expect("valid request");
            let typed_request = typed(provider, prepared.into_body());
            let (bare_time, bare_peak) = measure(runs, || to_vec(&typed_request));
            drop(typed_request);
            let (full_time, full_peak) = measure(runs, || full(provider, &request));
            println!(
                "{:<10} {:>6.2}MB {:>10.2} {:>10.2} {:>6.1}x {:>12.1} {:>12.1} {:>6.1}x",
                provider.id(),
                mb(image.len()),
                full_time.as_secs_f64() * 1e3,
                bare_time.as_secs_f64() * 1e3,
                full_time.as_secs_f64() / bare_time.as_secs_f64(),
                mb(full_peak),
                mb(bare_peak),
                full_peak as f64 / bare_peak.max(1) as f64,
            );
        }
    }
}
