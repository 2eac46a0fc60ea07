//! The fixed words the specs' `x-unit` and `x-common-names` extensions may use (documented in
//! `specs/README.md`); the `x-feature` ids are the [`Feature`](crate::Feature) enum.

/// Units a property may carry in `x-unit`.
pub const UNITS: &[&str] = &[
    "pixels",
    "steps",
    "images",
    "ratio",
    "scale",
    "seconds",
    "milliseconds",
    "characters",
    "bytes",
    "layers",
];

/// Common sampler and scheduler names `x-common-names` maps provider spellings to.
pub const SAMPLERS: &[&str] = &[
    "euler",
    "euler_ancestral",
    "heun",
    "lms",
    "lms_karras",
    "dpm2",
    "dpm2_karras",
    "dpm2_ancestral",
    "dpm2_ancestral_karras",
    "dpmpp_2s_ancestral",
    "dpmpp_2s_ancestral_karras",
    "dpmpp_2m",
    "dpmpp_2m_karras",
    "dpmpp_sde",
    "dpmpp_sde_karras",
    "dpm_fast",
    "dpm_adaptive",
    "dpm_singlestep",
    "ddim",
    "ddim_inverse",
    "ddpm",
    "pndm",
    "plms",
    "unipc",
    "deis",
    "ipndm",
    "karras_ve",
    "score_sde_ve",
    "lcm",
];
