//! The `x-feature` vocabulary as a type: one variant per id of `specs/README.md`, with the label a
//! report shows for it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! features {
    ($($variant:ident = $id:literal, $label:literal;)*) => {
        /// A common feature a request property implements (`x-feature: <id>`), so that reports and
        /// clients can line the providers up.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Feature {
            $(
                #[doc = concat!("`", $id, "`: ", $label, ".")]
                $variant,
            )*
        }

        impl Feature {
            /// Every feature, in the order of the vocabulary in `specs/README.md`.
            pub const ALL: &'static [Feature] = &[$(Feature::$variant),*];

            /// The id the specs write (`images_per_call`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Feature::$variant => $id,)*
                }
            }

            /// What a person reads for it (`Images per call`).
            pub fn label(self) -> &'static str {
                match self {
                    $(Feature::$variant => $label,)*
                }
            }
        }

        impl FromStr for Feature {
            type Err = UnknownFeature;

            fn from_str(id: &str) -> Result<Self, Self::Err> {
                match id {
                    $($id => Ok(Feature::$variant),)*
                    other => Err(UnknownFeature(other.to_owned())),
                }
            }
        }
    };
}

features! {
    Prompt = "prompt", "Prompt";
    NegativePrompt = "negative_prompt", "Negative prompt";
    InitImage = "init_image", "Image-to-image (init image)";
    Model = "model", "Model";
    Strength = "strength", "Strength";
    Noise = "noise", "Noise";
    Seed = "seed", "Seed";
    ImagesPerCall = "images_per_call", "Images per call";
    Width = "width", "Width";
    Height = "height", "Height";
    Size = "size", "Size (\"WxH\")";
    AspectRatio = "aspect_ratio", "Aspect ratio (\"W:H\")";
    Steps = "steps", "Steps";
    Guidance = "guidance", "Guidance (CFG scale)";
    GuidanceRescale = "guidance_rescale", "Guidance rescale";
    Sampler = "sampler", "Samplers / schedulers";
    Scheduler = "scheduler", "Scheduler";
    NoiseSchedule = "noise_schedule", "Noise schedule";
    ClipSkip = "clip_skip", "CLIP skip";
    Vae = "vae", "VAE";
    Controlnet = "controlnet", "ControlNet";
    ControlnetModel = "controlnet_model", "ControlNet models";
    Lora = "lora", "LoRA (how many)";
    LoraStrength = "lora_strength", "LoRA strength";
    Embeddings = "embeddings", "Embeddings";
    IpAdapter = "ip_adapter", "IP-Adapter";
    VibeTransfer = "vibe_transfer", "Vibe transfer";
    MultiCharacter = "multi_character", "Multi-character prompts";
    DirectorReference = "director_reference", "Director reference";
    Webhook = "webhook", "Webhooks";
    WebhookTestMode = "webhook_test_mode", "Webhook test mode";
    NsfwDetection = "nsfw_detection", "NSFW detection";
    OutputFormat = "output_format", "Output formats";
    InlineBase64 = "inline_base64", "Inline base64 output";
    PromptEnhance = "prompt_enhance", "Prompt enhancement";
    QualityTags = "quality_tags", "Quality tags";
    CustomStorage = "custom_storage", "Custom storage";
    DedicatedResources = "dedicated_resources", "Dedicated resources";
}

/// An `x-feature` id that is not in the vocabulary of `specs/README.md`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("x-feature {0:?} is not in the vocabulary of specs/README.md")]
pub struct UnknownFeature(pub String);

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Feature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Feature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_ids_are_refused() {
        for feature in Feature::ALL {
            assert_eq!(feature.as_str().parse::<Feature>(), Ok(*feature));
            assert!(!feature.label().is_empty());
        }
        assert_eq!(Feature::ALL.len(), 38);
        assert_eq!(
            "colour".parse::<Feature>(),
            Err(UnknownFeature("colour".into()))
        );
        assert_eq!(Feature::ImagesPerCall.label(), "Images per call");
        assert_eq!(Feature::Seed.label(), "Seed");
    }
}
