//! One typed view of a spec, for every consumer: the features of an operation and where they
//! live, the images a request carries, and the document-level `x-job`, `x-auth`, `x-errors`,
//! `x-limits` and `x-emulator` read into types with the behaviour that goes with them.

mod answers;
mod auth;
mod errors;
mod feature;
mod fields;
mod job;
mod limits;
mod media;

pub use answers::{Answers, Cause, FamilyAnswers, JobIdStyle, WebhookAnswer};
pub use auth::KeyPlacement;
pub use errors::{ErrorAnswer, ErrorDecision, ErrorRule, status_kind};
pub use feature::{Feature, UnknownFeature};
pub use fields::{Condition, FeatureField, Segment};
pub use job::{DOCS_FAMILY, EtaUnit, IdPlace, JobStatus, Stages};
pub use limits::{AspectRatio, EmulatorInfo, Limits, RateLimits, RenderDefaults};
pub use media::{carries_media, media_fields};

pub use fields::TestModeFields;
pub(crate) use fields::collect as collect_features;
