//! Images rendered when someone first looks: a download, an answer that carries them inline
//! (`<image>.base64`), or a request that names one of the emulator's own image URLs as its input.
//! [`Images`] is the part of an emulator that holds them: the bounded store and the renderer. The job's stored
//! parameters and input are in the image store ([`ImageStore`](super::storage::ImageStore)); the
//! rendering runs on the blocking pool, at most one per core at a time (so memory in flight stays
//! bounded), at most once per image at a time (concurrent downloads wait for the same one), and
//! its bytes are kept in the store, so a second download is a copy.
//!
//! The output is the same whenever it is rendered: `images::render` of the input resized to the
//! output size, with image `i` using `seed + i`. The resized input is kept in a small cache (a
//! fixed allowance, beside the store's bound), since a load test sends the same input many times.

use std::sync::{Arc, Mutex};

use image::RgbImage;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::images::{self, Format, RenderParams};
use super::inputs::{Input, InputMemo};
use super::jobs::JobRequest;
use super::storage::{Encoded, Found, ImageStore};
use super::sync::lock;

/// Bytes of resized inputs the base cache keeps at most.
const BASE_CACHE_BYTES: usize = 8 * 1024 * 1024;

/// What the base of a rendering is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BaseKey {
    /// A decoded input (by id), resized.
    Input(u64, u32, u32),
    /// No input: the prompt's gradient.
    Prompt(String, u32, u32),
}

/// Recently used bases, most recent first.
#[derive(Debug, Default)]
struct BaseCache {
    entries: Vec<(BaseKey, Arc<RgbImage>)>,
}

impl BaseCache {
    fn get(&mut self, key: &BaseKey) -> Option<Arc<RgbImage>> {
        let position = self.entries.iter().position(|(k, _)| k == key)?;
        let entry = self.entries.remove(position);
        let base = Arc::clone(&entry.1);
        self.entries.insert(0, entry);
        Some(base)
    }

    fn put(&mut self, key: BaseKey, base: &Arc<RgbImage>) {
        if base.as_raw().len() > BASE_CACHE_BYTES / 2 {
            return;
        }
        self.entries.insert(0, (key, Arc::clone(base)));
        let mut total = 0;
        self.entries.retain(|(_, base)| {
            total += base.as_raw().len();
            total <= BASE_CACHE_BYTES
        });
    }
}

/// The rendering machinery one emulator shares.
#[derive(Debug)]
struct Renderer {
    bases: Arc<Mutex<BaseCache>>,
    permits: Semaphore,
    cores: usize,
    /// Pixel and encoding buffers between renderings (at most two per core).
    scratch: Mutex<Vec<Vec<u8>>>,
    /// Recently decoded inputs, by their request text.
    inputs: Mutex<InputMemo>,
}

impl Default for Renderer {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Renderer {
            bases: Arc::default(),
            permits: Semaphore::new(cores),
            cores,
            scratch: Mutex::default(),
            inputs: Mutex::default(),
        }
    }
}

/// The images of one emulator: the bounded store (outputs, their inputs, the encoded bytes
/// rendered so far) and the renderer.
#[derive(Debug)]
pub(crate) struct Images {
    store: Mutex<ImageStore>,
    renderer: Renderer,
}

impl Images {
    pub fn new(max_stored_bytes: u64) -> Images {
        Images {
            store: Mutex::new(ImageStore::new(max_stored_bytes)),
            renderer: Renderer::default(),
        }
    }

    /// The encoded bytes and format of the image called `name` (`{job}-{i}.{ext}`), rendered now
    /// if they are not held; `Ok(None)` if no such image is held (unknown, expired or evicted).
    pub async fn image(&self, name: &str) -> Result<Option<(Encoded, Format)>, String> {
        let Some(found) = lock(&self.store).find(name, Instant::now()) else {
            return Ok(None);
        };
        if let Some(encoded) = found.cell.get() {
            return Ok(Some((encoded.clone(), found.format)));
        }
        let encoded = found
            .cell
            .get_or_try_init(|| render_on_pool(&self.renderer, &found))
            .await?
            .clone();
        lock(&self.store).rendered(&found);
        Ok(Some((encoded, found.format)))
    }

    /// The bytes of image `name`, if it can be had (for an answer that carries it inline).
    pub async fn bytes(&self, name: String) -> Option<axum::body::Bytes> {
        match self.image(&name).await {
            Ok(found) => found.map(|(encoded, _)| encoded.contiguous()),
            Err(error) => {
                tracing::warn!("{name} could not be rendered: {error}");
                None
            }
        }
    }

    /// Adds the outputs of finished job `job`, to be rendered when first asked for.
    pub fn insert(
        &self,
        job: Arc<str>,
        request: Arc<JobRequest>,
        input: Option<Arc<Input>>,
        expires: Instant,
    ) {
        lock(&self.store).insert(job, request, input, expires);
    }

    /// Drops the images of `jobs`.
    pub fn remove(&self, jobs: &[Arc<str>]) {
        if jobs.is_empty() {
            return;
        }
        let mut store = lock(&self.store);
        for job in jobs {
            store.remove(job);
        }
    }

    /// Drops the images whose TTL ended.
    pub fn sweep(&self, now: Instant) {
        lock(&self.store).sweep(now);
    }

    /// Images held, and the bytes they hold.
    pub fn counts(&self) -> (usize, u64) {
        let store = lock(&self.store);
        (store.len(), store.bytes())
    }

    /// The decoded input remembered for exactly `text`, if any.
    pub fn remembered_input(&self, text: &str, max_pixels: u64) -> Option<Arc<Input>> {
        lock(&self.renderer.inputs).get(text, max_pixels)
    }

    /// Remembers that `text` decodes to `input`.
    pub fn remember_input(&self, text: &str, max_pixels: u64, input: &Arc<Input>) {
        lock(&self.renderer.inputs).put(text, max_pixels, input);
    }
}

async fn render_on_pool(renderer: &Renderer, found: &Found) -> Result<Encoded, String> {
    let _permit = renderer
        .permits
        .acquire()
        .await
        .map_err(|e| format!("rendering stopped: {e}"))?;
    let (request, input, index) = (Arc::clone(&found.request), found.input.clone(), found.index);
    let bases = Arc::clone(&renderer.bases);
    let (mut pixels, mut encoded) = (renderer.scratch(), renderer.scratch());
    let (result, pixels, encoded) = tokio::task::spawn_blocking(move || {
        let result = render(
            &request,
            input.as_deref(),
            index,
            &bases,
            &mut pixels,
            &mut encoded,
        );
        (result, pixels, encoded)
    })
    .await
    .map_err(|e| format!("rendering stopped: {e}"))?;
    // The copy kept in the store is made here, on the server's own threads, so that its memory
    // comes from (and goes back to) the same few allocator arenas whichever pool thread rendered.
    let kept = result.map(|()| Encoded::copy_from(&encoded));
    renderer.give_back(pixels);
    renderer.give_back(encoded);
    kept
}

/// Scratch buffers above this capacity are not kept for the next rendering.
const SCRATCH_KEPT: usize = 8 * 1024 * 1024;

impl Renderer {
    /// A buffer for pixels or an encoding, reused from an earlier rendering when one is free.
    fn scratch(&self) -> Vec<u8> {
        lock(&self.scratch).pop().unwrap_or_default()
    }

    fn give_back(&self, buffer: Vec<u8>) {
        let mut kept = lock(&self.scratch);
        if buffer.capacity() <= SCRATCH_KEPT && kept.len() < 2 * self.cores {
            kept.push(buffer);
        }
    }
}

/// Output `index` of a job, encoded into `encoded` (`pixels` holds the rendering): image `i` uses
/// `seed + i`.
fn render(
    request: &JobRequest,
    input: Option<&Input>,
    index: u32,
    bases: &Mutex<BaseCache>,
    pixels: &mut Vec<u8>,
    encoded: &mut Vec<u8>,
) -> Result<(), String> {
    let params = &request.render;
    let (width, height) = (params.width, params.height);
    let one = RenderParams {
        seed: params.seed.wrapping_add(u64::from(index)) ^ request.salt,
        ..params.clone()
    };
    let made: Arc<RgbImage>;
    let base = match input {
        Some(input) if input.image.dimensions() == (width, height) => &input.image,
        _ => {
            made = resized_base(input, params, bases);
            made.as_ref()
        }
    };
    images::render_into(base, &one, pixels);
    images::encode_into(pixels, width, height, request.format, encoded)
}

/// The input (or, without one, the prompt's gradient) at the output size, from the cache when
/// it was made lately.
fn resized_base(
    input: Option<&Input>,
    params: &RenderParams,
    bases: &Mutex<BaseCache>,
) -> Arc<RgbImage> {
    let (width, height) = (params.width, params.height);
    let key = match input {
        Some(input) => BaseKey::Input(input.id, width, height),
        None => BaseKey::Prompt(params.prompt.clone(), width, height),
    };
    if let Some(base) = lock(bases).get(&key) {
        return base;
    }
    let base = Arc::new(images::base_image(
        input.map(|i| &i.image),
        width,
        height,
        &params.prompt,
    ));
    lock(bases).put(key, &base);
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_cache_is_bounded_and_most_recent_first() {
        let mut cache = BaseCache::default();
        let big = Arc::new(RgbImage::new(1024, 1024)); // 3 MiB
        for id in 0..4 {
            cache.put(BaseKey::Input(id, 1024, 1024), &big);
        }
        assert_eq!(cache.entries.len(), 2, "8 MiB hold two 3 MiB bases");
        assert!(cache.get(&BaseKey::Input(3, 1024, 1024)).is_some());
        assert!(cache.get(&BaseKey::Input(0, 1024, 1024)).is_none());
        let huge = Arc::new(RgbImage::new(2048, 1024)); // 6 MiB: never kept
        cache.put(BaseKey::Input(9, 2048, 1024), &huge);
        assert!(cache.get(&BaseKey::Input(9, 2048, 1024)).is_none());
    }
}
