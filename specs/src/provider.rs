//! The three providers this project knows, and where their specs live.

use std::fmt;
use std::str::FromStr;

/// One of the image-to-image providers described in `specs/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// GPTProto's proxy of NovelAI `nai-diffusion-4-5-curated`.
    Gptproto,
    /// Novita AI `POST /v3/async/img2img`.
    Novita,
    /// ModelsLab / stablediffusionapi enterprise `img2img`.
    Modelslab,
}

impl Provider {
    /// Every provider, in a stable order.
    pub const ALL: [Provider; 3] = [Provider::Gptproto, Provider::Novita, Provider::Modelslab];

    /// The short id used in file names, crate names, flags and reports (`gptproto`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Provider::Gptproto => "gptproto",
            Provider::Novita => "novita",
            Provider::Modelslab => "modelslab",
        }
    }

    /// The spec's file name inside `specs/`.
    pub fn spec_file(self) -> &'static str {
        match self {
            Provider::Gptproto => "gptproto.yaml",
            Provider::Novita => "novita.yaml",
            Provider::Modelslab => "modelslab.yaml",
        }
    }

    /// The spec text embedded at build time.
    pub fn embedded_yaml(self) -> &'static str {
        match self {
            Provider::Gptproto => include_str!("../gptproto.yaml"),
            Provider::Novita => include_str!("../novita.yaml"),
            Provider::Modelslab => include_str!("../modelslab.yaml"),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The error for a provider name that is none of `gptproto`, `novita`, `modelslab`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown provider {0:?}: expected one of gptproto, novita, modelslab")]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.id() == s)
            .ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}
