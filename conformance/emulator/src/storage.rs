//! The images the emulator serves: bounded in bytes, each with an expiry (the provider's URL TTL or
//! the job TTL), evicted oldest first when full.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use tokio::time::Instant;

use super::images::Format;

/// One stored image.
#[derive(Debug, Clone)]
pub(crate) struct StoredImage {
    pub bytes: Bytes,
    pub format: Format,
    pub expires: Instant,
    sequence: u64,
}

/// Images by file name (`{job}-{i}.{ext}`).
#[derive(Debug)]
pub(crate) struct ImageStore {
    images: HashMap<String, StoredImage>,
    by_age: BTreeMap<u64, String>,
    next: u64,
    bytes: u64,
    max_bytes: u64,
}

impl ImageStore {
    pub fn new(max_bytes: u64) -> Self {
        ImageStore {
            images: HashMap::new(),
            by_age: BTreeMap::new(),
            next: 0,
            bytes: 0,
            max_bytes,
        }
    }

    /// Stores an image, evicting the oldest ones while the store would exceed its byte bound.
    pub fn insert(&mut self, name: String, bytes: Bytes, format: Format, expires: Instant) {
        self.remove(&name);
        let size = bytes.len() as u64;
        while self.bytes + size > self.max_bytes {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            if let Some(image) = self.images.remove(&oldest) {
                self.bytes -= image.bytes.len() as u64;
            }
        }
        self.next += 1;
        self.by_age.insert(self.next, name.clone());
        self.bytes += size;
        self.images.insert(
            name,
            StoredImage {
                bytes,
                format,
                expires,
                sequence: self.next,
            },
        );
    }

    /// The image, unless it expired.
    pub fn get(&self, name: &str, now: Instant) -> Option<&StoredImage> {
        self.images.get(name).filter(|image| image.expires > now)
    }

    pub fn remove(&mut self, name: &str) {
        if let Some(image) = self.images.remove(name) {
            self.by_age.remove(&image.sequence);
            self.bytes -= image.bytes.len() as u64;
        }
    }

    /// Drops every expired image.
    pub fn sweep(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .images
            .iter()
            .filter(|(_, image)| image.expires <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in expired {
            self.remove(&name);
        }
    }

    pub fn len(&self) -> usize {
        self.images.len()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bounded_in_bytes_and_expiring() {
        let now = Instant::now();
        let later = now + Duration::from_secs(10);
        let mut store = ImageStore::new(10);
        store.insert(
            "a".into(),
            Bytes::from_static(b"123456"),
            Format::Png,
            later,
        );
        store.insert("b".into(), Bytes::from_static(b"1234"), Format::Png, later);
        assert_eq!((store.len(), store.bytes()), (2, 10));
        store.insert(
            "c".into(),
            Bytes::from_static(b"12"),
            Format::Png,
            now + Duration::from_secs(1),
        );
        assert!(
            store.get("a", now).is_none(),
            "the oldest image was evicted"
        );
        assert_eq!((store.len(), store.bytes()), (2, 6));
        assert!(
            store.get("c", now + Duration::from_secs(2)).is_none(),
            "expired"
        );
        store.sweep(now + Duration::from_secs(2));
        assert_eq!((store.len(), store.bytes()), (1, 4));
    }
}
