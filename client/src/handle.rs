//! The job handle: what `submit` returns and `wait` needs, serializable so that a process that
//! dies can resume polling later. It never holds the key.

use chrono::{DateTime, Utc};
use img2img_specs::Provider;
use serde::{Deserialize, Serialize};

use crate::errors::Error;

/// A submitted job. Serializes to JSON (`img2img resume HANDLE` takes it back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobHandle {
    /// The provider that runs the job.
    #[serde(with = "provider_id")]
    pub provider: Provider,
    /// The provider's job id, as the create answer gave it at `x-job.id-pointer` (integers in
    /// decimal).
    pub id: String,
    /// The base URL the job was submitted to, so a resumed job polls the same server.
    pub base_url: String,
    /// The URL the create answer asked to be polled at (`x-job.poll-url-pointer`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_url: Option<String>,
    /// Outputs the create call already returned (a provider that answers at once when it can).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ready_outputs: Vec<String>,
    /// When the job was submitted.
    pub created_at: DateTime<Utc>,
    /// When the provider asked to be polled first (a create answer's eta); `wait` does not poll
    /// before then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_poll_at: Option<DateTime<Utc>>,
}

impl JobHandle {
    /// The handle as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A handle from JSON text, or from the path of a file holding it.
    pub fn parse(text_or_path: &str) -> Result<JobHandle, Error> {
        let trimmed = text_or_path.trim();
        let text = if trimmed.starts_with('{') {
            trimmed.to_owned()
        } else {
            std::fs::read_to_string(trimmed).map_err(|e| {
                Error::config(format!(
                    "the handle is neither JSON nor a readable file ({trimmed:?}: {e})"
                ))
            })?
        };
        serde_json::from_str(&text)
            .map_err(|e| Error::config(format!("the handle is not a job handle: {e}")))
    }
}

mod provider_id {
    use img2img_specs::Provider;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(provider: &Provider, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(provider.id())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Provider, D::Error> {
        let id = String::deserialize(d)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_round_trips_through_json_and_files() {
        let provider = Provider::all().last().expect("a spec in specs/");
        let handle = JobHandle {
            provider,
            id: "13443928".into(),
            base_url: "http://127.0.0.1:9".into(),
            fetch_url: Some("http://127.0.0.1:9/fetch/13443928".into()),
            ready_outputs: vec![],
            created_at: Utc::now(),
            first_poll_at: None,
        };
        let json = handle.to_json();
        assert!(
            json.contains(&format!("\"provider\":\"{}\"", provider.id())),
            "{json}"
        );
        assert_eq!(JobHandle::parse(&json).unwrap(), handle);
        let file = std::env::temp_dir().join(format!("handle-{}.json", std::process::id()));
        std::fs::write(&file, &json).unwrap();
        assert_eq!(JobHandle::parse(file.to_str().unwrap()).unwrap(), handle);
        std::fs::remove_file(file).unwrap();
        assert_eq!(
            JobHandle::parse("{\"provider\": \"other\"}")
                .unwrap_err()
                .kind(),
            "config"
        );
    }
}
