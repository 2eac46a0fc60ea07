//! Keeping the key out of provider text, and provider text short.

use img2img_specs::{ApiKey, REDACTED, redact};

/// The longest provider text kept in an error (characters); longer bodies are cut.
pub const SNIPPET_CHARS: usize = 240;

/// Removes the key from provider text and bounds its length.
#[derive(Clone)]
pub struct Scrub {
    key: Option<ApiKey>,
}

impl std::fmt::Debug for Scrub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrub({REDACTED})")
    }
}

impl Scrub {
    /// A scrubber for this key.
    pub fn new(key: Option<&ApiKey>) -> Self {
        Scrub {
            key: key.filter(|k| !k.is_empty()).cloned(),
        }
    }

    /// `text` with every occurrence of the key replaced by [`REDACTED`], cut to
    /// [`SNIPPET_CHARS`] characters.
    pub fn text(&self, text: &str) -> String {
        bound(&redact(text, self.key.as_slice()))
    }

    /// A body as a snippet: JSON compacted, anything else as lossy UTF-8.
    pub fn body(&self, body: &[u8]) -> String {
        let head = &body[..body.len().min(SNIPPET_CHARS * 4 + 64)];
        self.text(String::from_utf8_lossy(head).trim())
    }
}

fn bound(text: &str) -> String {
    if text.chars().count() <= SNIPPET_CHARS {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(SNIPPET_CHARS).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_the_key_and_bounds_the_length() {
        let key = ApiKey::new("sk-live-123456");
        let scrub = Scrub::new(Some(&key));
        assert_eq!(scrub.text("bad key sk-live-123456!"), "bad key [redacted]!");
        let long = "x".repeat(SNIPPET_CHARS * 3);
        assert_eq!(scrub.text(&long).chars().count(), SNIPPET_CHARS + 1);
    }
}
