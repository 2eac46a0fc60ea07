//! Decoded init images, and a small memo of the most recent ones by the exact text the request
//! carried: a load test sends the same image again and again, and a repeated input then costs a
//! comparison instead of a base64 decode and an image decode. The memo is bounded in entries and
//! bytes (a fixed allowance, beside the image store's bound).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use image::RgbImage;

/// Entries the memo keeps.
const MEMO_ENTRIES: usize = 8;
/// Bytes (request text plus decoded pixels) the memo keeps at most.
const MEMO_BYTES: u64 = 16 * 1024 * 1024;

/// A decoded init image (at its own size), shared by every job that sent it.
#[derive(Debug)]
pub(crate) struct Input {
    /// Unique for the process's life (cache keys).
    pub id: u64,
    pub image: RgbImage,
}

impl Input {
    pub fn new(image: RgbImage) -> Input {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Input {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            image,
        }
    }

    /// Bytes it holds.
    pub fn cost(&self) -> u64 {
        self.image.as_raw().len() as u64
    }
}

#[derive(Debug)]
struct Entry {
    text: Box<str>,
    max_pixels: u64,
    input: Arc<Input>,
}

impl Entry {
    fn cost(&self) -> u64 {
        self.text.len() as u64 + self.input.cost()
    }
}

/// The most recent decoded inputs, most recent first.
#[derive(Debug, Default)]
pub(crate) struct InputMemo {
    entries: Vec<Entry>,
}

impl InputMemo {
    /// The input decoded from exactly `text` under the same pixel limit, if it is remembered.
    pub fn get(&mut self, text: &str, max_pixels: u64) -> Option<Arc<Input>> {
        let position = self
            .entries
            .iter()
            .position(|e| e.max_pixels == max_pixels && *e.text == *text)?;
        let entry = self.entries.remove(position);
        let input = Arc::clone(&entry.input);
        self.entries.insert(0, entry);
        Some(input)
    }

    /// Remembers that `text` decodes to `input` (unless too large to keep).
    pub fn put(&mut self, text: &str, max_pixels: u64, input: &Arc<Input>) {
        let entry = Entry {
            text: text.into(),
            max_pixels,
            input: Arc::clone(input),
        };
        if entry.cost() > MEMO_BYTES / 4 {
            return;
        }
        self.entries.insert(0, entry);
        self.entries.truncate(MEMO_ENTRIES);
        while self.entries.iter().map(Entry::cost).sum::<u64>() > MEMO_BYTES {
            self.entries.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memo_answers_the_same_text_under_the_same_limit_only() {
        let mut memo = InputMemo::default();
        let input = Arc::new(Input::new(RgbImage::new(2, 2)));
        memo.put("aGVsbG8", 100, &input);
        assert_eq!(memo.get("aGVsbG8", 100).map(|i| i.id), Some(input.id));
        assert!(memo.get("aGVsbG8", 99).is_none());
        assert!(memo.get("aGVsbG9", 100).is_none());
        for i in 0..MEMO_ENTRIES {
            memo.put(&format!("other{i}"), 100, &input);
        }
        assert!(memo.get("aGVsbG8", 100).is_none(), "the oldest entry went");
    }
}
