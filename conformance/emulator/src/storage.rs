//! The images the emulator serves, as one output set per succeeded job: what the images are made
//! from (the job's parameters and its decoded input) and, once an image was asked for, its encoded
//! bytes. Bounded in bytes (inputs, counted once however many sets share them, plus encoded
//! images), each set with an expiry (the provider's URL TTL or the job TTL).
//!
//! Over the bound, the oldest encoded images are dropped first (an image is a deterministic
//! function of its set, so the next download renders the same bytes again); only when no encoded
//! image is left are the oldest sets evicted whole (their URLs then answer 404).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::images::Format;
use super::inputs::Input;
use super::jobs::{JobRequest, parse_output_name};

/// Size of the pieces encoded images are held in.
const CHUNK: usize = 64 * 1024;

/// An encoded image, held in pieces of one size: the memory of an evicted image is then reused
/// for the next one as it is, where images of every size in one piece each would fragment the
/// heap (and the process would hold much more than the store counts).
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    chunks: Arc<[Bytes]>,
    len: usize,
}

impl Encoded {
    /// A copy of `data`.
    pub fn copy_from(data: &[u8]) -> Encoded {
        Encoded {
            chunks: data.chunks(CHUNK).map(Bytes::copy_from_slice).collect(),
            len: data.len(),
        }
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The bytes in one piece (a copy unless the image fits one chunk).
    pub fn contiguous(&self) -> Bytes {
        match &*self.chunks {
            [one] => one.clone(),
            chunks => Bytes::from(chunks.concat()),
        }
    }

    /// An HTTP body sending the chunks as they are (no copy), with its exact length.
    pub fn into_body(self) -> Body {
        Body::new(ChunkBody {
            encoded: self,
            next: 0,
        })
    }
}

struct ChunkBody {
    encoded: Encoded,
    next: usize,
}

impl http_body::Body for ChunkBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        let chunk = self.encoded.chunks.get(self.next).cloned();
        self.next += 1;
        Poll::Ready(chunk.map(|chunk| Ok(http_body::Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.encoded.chunks.len()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let left: usize = self.encoded.chunks[self.next.min(self.encoded.chunks.len())..]
            .iter()
            .map(Bytes::len)
            .sum();
        http_body::SizeHint::with_exact(left as u64)
    }
}

/// One image of a set: rendered at most once at a time (concurrent downloads wait for the same
/// rendering), and its bytes counted once they are in.
#[derive(Debug)]
struct Slot {
    cell: Arc<OnceCell<Encoded>>,
    /// Bytes counted for this image (0: not rendered, or not yet counted).
    counted: u64,
    /// Its key in `ImageStore::rendered` while counted.
    rendered_at: u64,
}

impl Slot {
    fn empty() -> Slot {
        Slot {
            cell: Arc::new(OnceCell::new()),
            counted: 0,
            rendered_at: 0,
        }
    }
}

/// The outputs of one job.
#[derive(Debug)]
struct OutputSet {
    request: Arc<JobRequest>,
    input: Option<Arc<Input>>,
    slots: Vec<Slot>,
    expires: Instant,
    sequence: u64,
}

/// What an image is made of, found by its file name: either its bytes, or everything needed to
/// render them (outside the store's lock).
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub job: Arc<str>,
    pub index: u32,
    pub format: Format,
    pub request: Arc<JobRequest>,
    pub input: Option<Arc<Input>>,
    pub cell: Arc<OnceCell<Encoded>>,
}

/// The output sets, by job id.
#[derive(Debug)]
pub(crate) struct ImageStore {
    sets: HashMap<Arc<str>, OutputSet>,
    /// Sets by age (oldest first), for eviction.
    by_age: BTreeMap<u64, Arc<str>>,
    /// Counted images by the order they were counted in (oldest first): job id and index.
    rendered: BTreeMap<u64, (Arc<str>, u32)>,
    /// Inputs held by at least one set: how many sets hold each (by input id).
    inputs: HashMap<u64, usize>,
    next: u64,
    bytes: u64,
    images: usize,
    max_bytes: u64,
}

impl ImageStore {
    pub fn new(max_bytes: u64) -> Self {
        ImageStore {
            sets: HashMap::new(),
            by_age: BTreeMap::new(),
            rendered: BTreeMap::new(),
            inputs: HashMap::new(),
            next: 0,
            bytes: 0,
            images: 0,
            max_bytes,
        }
    }

    /// Holds the outputs of a succeeded job until `expires` (nothing is rendered yet).
    pub fn insert(
        &mut self,
        job: Arc<str>,
        request: Arc<JobRequest>,
        input: Option<Arc<Input>>,
        expires: Instant,
    ) {
        self.remove(&job);
        if let Some(input) = &input {
            let holders = self.inputs.entry(input.id).or_insert(0);
            if *holders == 0 {
                self.bytes += input.cost();
            }
            *holders += 1;
        }
        self.next += 1;
        let count = request.count as usize;
        self.images += count;
        self.by_age.insert(self.next, Arc::clone(&job));
        self.sets.insert(
            job,
            OutputSet {
                request,
                input,
                slots: (0..count).map(|_| Slot::empty()).collect(),
                expires,
                sequence: self.next,
            },
        );
        self.enforce_bound();
    }

    /// The image called `name` (`{job}-{i}.{ext}`), unless unknown or expired.
    pub fn find(&self, name: &str, now: Instant) -> Option<Found> {
        let (job, index, ext) = parse_output_name(name)?;
        let (job, set) = self.sets.get_key_value(job)?;
        let slot = set.slots.get(index as usize)?;
        if set.expires <= now || ext != set.request.format.ext() {
            return None;
        }
        Some(Found {
            job: Arc::clone(job),
            index,
            format: set.request.format,
            request: Arc::clone(&set.request),
            input: set.input.clone(),
            cell: Arc::clone(&slot.cell),
        })
    }

    /// Counts the bytes of an image just rendered into `found.cell`, if its set is still held and
    /// the cell is still the slot's (then evicts what exceeds the bound).
    pub fn rendered(&mut self, found: &Found) {
        let Some(size) = found.cell.get().map(|encoded| encoded.len() as u64) else {
            return;
        };
        let Some(set) = self.sets.get_mut(&found.job) else {
            return;
        };
        let Some(slot) = set.slots.get_mut(found.index as usize) else {
            return;
        };
        if slot.counted > 0 || !Arc::ptr_eq(&slot.cell, &found.cell) {
            return;
        }
        self.next += 1;
        slot.counted = size.max(1);
        slot.rendered_at = self.next;
        self.bytes += slot.counted;
        self.rendered
            .insert(self.next, (Arc::clone(&found.job), found.index));
        self.enforce_bound();
    }

    /// Drops the encoded images, oldest first, then the oldest sets, while above the bound.
    fn enforce_bound(&mut self) {
        while self.bytes > self.max_bytes {
            if let Some((_, (job, index))) = self.rendered.pop_first() {
                if let Some(slot) = self
                    .sets
                    .get_mut(&job)
                    .and_then(|set| set.slots.get_mut(index as usize))
                {
                    self.bytes -= slot.counted;
                    *slot = Slot::empty();
                }
            } else if let Some((_, job)) = self.by_age.pop_first() {
                self.remove(&job);
            } else {
                break;
            }
        }
    }

    /// Drops the outputs of job `job`.
    pub fn remove(&mut self, job: &str) {
        let Some(set) = self.sets.remove(job) else {
            return;
        };
        self.by_age.remove(&set.sequence);
        self.images -= set.slots.len();
        for slot in &set.slots {
            if slot.counted > 0 {
                self.bytes -= slot.counted;
                self.rendered.remove(&slot.rendered_at);
            }
        }
        if let Some(input) = &set.input
            && let Some(holders) = self.inputs.get_mut(&input.id)
        {
            *holders -= 1;
            if *holders == 0 {
                self.inputs.remove(&input.id);
                self.bytes -= input.cost();
            }
        }
    }

    /// Drops every expired set.
    pub fn sweep(&mut self, now: Instant) {
        let expired: Vec<Arc<str>> = self
            .sets
            .iter()
            .filter(|(_, set)| set.expires <= now)
            .map(|(job, _)| Arc::clone(job))
            .collect();
        for job in expired {
            self.remove(&job);
        }
    }

    /// Images held (rendered or not): every URL that serves.
    pub fn len(&self) -> usize {
        self.images
    }

    /// Bytes held: encoded images and the inputs they are made from.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use image::RgbImage;

    use super::*;
    use crate::images::RenderParams;

    fn request(count: u32) -> Arc<JobRequest> {
        Arc::new(JobRequest {
            render: RenderParams {
                width: 8,
                height: 8,
                seed: 1,
                prompt: String::new(),
                negative_prompt: String::new(),
                strength: 0.5,
                noise: 0.0,
                steps: 20,
                guidance: 7.0,
            },
            count,
            format: Format::Png,
            salt: 0,
            inline_base64: false,
            nsfw_detection: false,
            webhook: None,
            test_mode: None,
            fail: None,
            base_url: String::new(),
            result_operation: String::new(),
            family: String::new(),
            fields: serde_json::Value::Null,
            input_url: None,
        })
    }

    fn render(store: &mut ImageStore, name: &str, size: usize, now: Instant) {
        let found = store.find(name, now).expect("held");
        found
            .cell
            .set(Encoded::copy_from(&vec![0u8; size]))
            .expect("not rendered yet");
        store.rendered(&found);
    }

    #[test]
    fn bounded_in_bytes_and_expiring() {
        let now = Instant::now();
        let later = now + Duration::from_secs(10);
        let input = Arc::new(Input::new(RgbImage::new(2, 1))); // 6 bytes
        let mut store = ImageStore::new(20);
        store.insert("a".into(), request(2), Some(Arc::clone(&input)), later);
        store.insert("b".into(), request(1), Some(Arc::clone(&input)), later);
        assert_eq!(
            (store.len(), store.bytes()),
            (3, 6),
            "a shared input counts once"
        );
        render(&mut store, "a-0.png", 8, now);
        render(&mut store, "b-0.png", 4, now);
        assert_eq!(store.bytes(), 18);
        assert!(store.find("a-0.jpeg", now).is_none(), "wrong extension");
        assert!(store.find("a-2.png", now).is_none(), "no such index");
        // Over the bound, the oldest rendered image goes first; its URL still serves.
        render(&mut store, "a-1.png", 8, now);
        assert_eq!((store.len(), store.bytes()), (3, 18));
        let a0 = store.find("a-0.png", now).expect("still served");
        assert!(a0.cell.get().is_none(), "to be rendered again");
        // A set that expires sooner goes at the sweep.
        store.insert("c".into(), request(1), None, now + Duration::from_secs(1));
        assert_eq!(store.len(), 4);
        assert!(
            store
                .find("c-0.png", now + Duration::from_secs(2))
                .is_none()
        );
        store.sweep(now + Duration::from_secs(2));
        assert_eq!((store.len(), store.bytes()), (3, 18));
        store.remove("a");
        store.remove("b");
        assert_eq!((store.len(), store.bytes()), (0, 0));
    }

    #[tokio::test]
    async fn encoded_images_are_held_in_chunks_and_sent_whole() {
        use http_body_util::BodyExt;
        let data: Vec<u8> = (0..CHUNK * 2 + 5).map(|i| (i % 251) as u8).collect();
        let encoded = Encoded::copy_from(&data);
        assert_eq!((encoded.len(), encoded.chunks.len()), (data.len(), 3));
        assert_eq!(encoded.contiguous(), data);
        let body = encoded.into_body();
        assert_eq!(
            http_body::Body::size_hint(&body).exact(),
            Some(data.len() as u64)
        );
        assert_eq!(body.collect().await.unwrap().to_bytes(), data);
        assert_eq!(Encoded::copy_from(b"png").contiguous(), &b"png"[..]);
    }

    #[test]
    fn sets_are_evicted_oldest_first_when_inputs_alone_exceed_the_bound() {
        let now = Instant::now();
        let later = now + Duration::from_secs(10);
        let mut store = ImageStore::new(10);
        for job in ["a", "b", "c"] {
            let input = Arc::new(Input::new(RgbImage::new(1, 1))); // 3 bytes each
            store.insert(job.into(), request(1), Some(input), later);
        }
        assert_eq!((store.len(), store.bytes()), (3, 9));
        let input = Arc::new(Input::new(RgbImage::new(1, 1)));
        store.insert("d".into(), request(1), Some(input), later);
        assert_eq!((store.len(), store.bytes()), (3, 9));
        assert!(store.find("a-0.png", now).is_none(), "the oldest set went");
        assert!(store.find("d-0.png", now).is_some());
    }
}
