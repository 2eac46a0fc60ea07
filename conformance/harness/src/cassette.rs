//! Cassettes: the exchanges of a live run, stored with every secret redacted, replayed without a
//! network. One JSON file per provider: `<dir>/<provider>.json`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use img2img_specs::{ApiKey, Provider};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::checks::CheckId;

/// The text that stands where a secret was (the specs crate's, beside `ApiKey`).
pub use img2img_specs::REDACTED;

/// Headers kept in a cassette (everything else, `authorization` first of all, is dropped).
pub const KEPT_HEADERS: &[&str] = &["content-type", "retry-after", "allow"];

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query (`/v3/async/task-result?task_id=…`), or the absolute URL of a download.
    pub path: String,
    /// The JSON body, secrets redacted.
    pub body: Option<Value>,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedReply {
    /// HTTP status.
    pub status: u16,
    /// Kept headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// The body: JSON when it parsed, otherwise base64 in `body_base64`.
    pub body: Option<Value>,
    /// A non-JSON body (images), base64.
    pub body_base64: Option<String>,
}

impl RecordedReply {
    /// The body's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        match (&self.body, &self.body_base64) {
            (Some(json), _) => serde_json::to_vec(json).unwrap_or_default(),
            (None, Some(data)) => base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }
}

/// One exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    /// What was sent.
    pub request: RecordedRequest,
    /// What came back.
    pub response: RecordedReply,
}

/// All exchanges with one provider during a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cassette {
    /// The provider's id (`specs/<id>.yaml`).
    pub provider: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// The exchanges, in order.
    pub interactions: Vec<Interaction>,
}

impl Cassette {
    /// `<dir>/<provider>.json`.
    pub fn path(dir: &Path, provider: &str) -> PathBuf {
        dir.join(format!("{provider}.json"))
    }

    /// Reads a cassette.
    pub fn load(path: &Path) -> Result<Cassette, CassetteError> {
        let text = std::fs::read_to_string(path).map_err(|source| CassetteError::Read {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| CassetteError::Invalid {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes the cassette (pretty JSON, so a recorded run reviews as a diff).
    pub fn save(&self, path: &Path) -> Result<(), CassetteError> {
        let write = |source| CassetteError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write)?;
        }
        let text = serde_json::to_string_pretty(self).expect("a cassette is plain JSON data");
        std::fs::write(path, text + "\n").map_err(write)
    }
}

/// What a recorded run was made with, kept beside its cassettes (`<dir>/recording.json`), so that
/// `--replay DIR` runs exactly the same cases with no other flag: the same providers, checks,
/// seed, cases, request budget, shrink steps and job TTL, in the same order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// The providers, in the order they ran.
    pub providers: Vec<String>,
    /// The checks, in the order they ran.
    pub checks: Vec<String>,
    /// The proptest seed.
    pub seed: u64,
    /// Cases per property check.
    pub cases: u32,
    /// `--max-requests`: a replay stops where the recording ran out.
    pub max_requests: u32,
    /// Shrink steps per failing check.
    pub max_shrink_iters: u32,
    /// `--job-ttl`, if it was given.
    pub job_ttl_secs: Option<u64>,
    /// When the recording finished (RFC 3339).
    pub recorded_at: String,
    /// The harness version that made it.
    pub tool_version: String,
}

impl Recording {
    /// The file name inside a cassette directory.
    pub const FILE: &'static str = "recording.json";

    /// Reads `<dir>/recording.json`.
    pub fn load(dir: &Path) -> Result<Recording, String> {
        let path = dir.join(Self::FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {} ({e}): --replay takes a directory written by --record",
                path.display()
            )
        })?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a recording: {e}", path.display()))
    }

    /// Writes `<dir>/recording.json`.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(Self::FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(&path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// The flags a user gave beside `--replay` (each must agree with the recording).
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// `--provider`, in order (empty: none given).
    pub providers: Vec<Provider>,
    /// `--check`, in order (empty: none given).
    pub checks: Vec<CheckId>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--cases`.
    pub cases: Option<u32>,
    /// `--max-requests`.
    pub max_requests: Option<u32>,
}

/// A cassette that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CassetteError {
    /// The file could not be read.
    #[error("cannot read cassette {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a cassette.
    #[error("cassette {} is not valid: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where and why its JSON does not fit.
        source: serde_json::Error,
    },
    /// The file (or its folder) could not be written.
    #[error("cannot write cassette {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Replaces every occurrence of each key in every string of `value` (the specs crate's
/// [`img2img_specs::redact`]), and the key field of a body (`x-auth` with `in: body`: its `name`)
/// whatever its value.
pub fn redact(value: &mut Value, secrets: &[ApiKey], key_field: Option<&str>) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(redacted) = img2img_specs::redact(s, secrets) {
                *s = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, secrets, None)),
        Value::Object(map) => {
            if let Some(field) = key_field
                && map.contains_key(field)
            {
                map.insert(field.to_owned(), Value::String(REDACTED.into()));
            }
            map.values_mut().for_each(|v| redact(v, secrets, None));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redaction_reaches_every_string_and_the_key_field() {
        let mut value =
            json!({"key": "whatever", "nested": ["Bearer sk-1", {"echo": "sk-1 again"}]});
        redact(&mut value, &[ApiKey::new("sk-1")], Some("key"));
        assert_eq!(
            value,
            json!({"key": REDACTED, "nested": ["Bearer [redacted]", {"echo": "[redacted] again"}]})
        );
    }
}
