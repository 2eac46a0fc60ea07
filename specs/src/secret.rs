//! The API key type, a string that never shows itself in `Debug`, `Display` or errors, and the
//! one redaction every log, journal, cassette, snapshot and error message goes through.

use std::borrow::Cow;
use std::fmt;

/// What a redaction writes in place of a key.
pub const REDACTED: &str = "[redacted]";

/// `text` with every occurrence of each non-empty key replaced by [`REDACTED`].
pub fn redact<'a>(text: &'a str, keys: &[ApiKey]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for key in keys.iter().filter(|k| !k.is_empty()) {
        if out.contains(key.expose_secret()) {
            out = Cow::Owned(out.replace(key.expose_secret(), REDACTED));
        }
    }
    out
}

/// Whether a header, query parameter or body field name looks like it carries a credential
/// (`Authorization`, `x-key`, `api_key`, `token`, `webhook_secret`, ...): its value is redacted
/// wherever it is written out, whatever the spec says.
pub fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "auth",
        "key",
        "token",
        "secret",
        "password",
        "cookie",
        "signature",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// An API key. `Debug` and `Display` print `[redacted]`; only [`ApiKey::expose_secret`] gives the
/// value, and only the request guard calls it, to put the key where the provider wants it.
///
/// It serializes to the bare key because a key may travel in the JSON body (`x-auth` `in: body`); never serialize
/// a value holding one into a log, a snapshot or a report.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key. Leading and trailing white space (a pasted newline) is dropped.
    pub fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        let trimmed = key.trim();
        if trimmed.len() == key.len() {
            ApiKey(key)
        } else {
            ApiKey(trimmed.to_owned())
        }
    }

    /// Reads the key from environment variable `var`; `None` when it is unset or blank.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .map(ApiKey::new)
            .filter(|key| !key.0.is_empty())
    }

    /// The key itself, for the one place that must send it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the key is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({REDACTED})")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        ApiKey::new(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        ApiKey::new(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_replaces_every_key_and_leaves_other_text() {
        let keys = [ApiKey::new("sk-1"), ApiKey::new(""), ApiKey::new("k2")];
        assert_eq!(
            redact("a sk-1 b k2 c sk-1", &keys),
            "a [redacted] b [redacted] c [redacted]"
        );
        assert!(matches!(redact("nothing here", &keys), Cow::Borrowed(_)));
        assert!(looks_secret("X-Key") && looks_secret("webhook_secret") && !looks_secret("prompt"));
    }

    #[test]
    fn debug_and_display_never_show_the_key() {
        let key = ApiKey::new(" sk-very-secret\n");
        assert_eq!(key.expose_secret(), "sk-very-secret");
        for shown in [
            format!("{key:?}"),
            format!("{key}"),
            format!("{:?}", Some(&key)),
        ] {
            assert!(!shown.contains("very-secret"), "{shown}");
        }
    }
}
