//! The three providers' OpenAPI specs (`specs/*.yaml`), embedded, parsed and compiled.
//!
//! Everything in this project that knows a range, an enum or a default learns it here: the
//! generated clients' request guard ([`guard`], behind the `guard` feature), the emulators'
//! validation, the conformance strategies and the reports.
//!
//! - [`Spec`]: one parsed spec: operations, examples, `x-` [`extensions`], compiled schemas.
//! - [`CompiledSchema::validate`]: every [`Violation`] of a document, each naming the field path,
//!   the value and the allowed range (`request.width = 4096 is above the maximum 2048`).
//! - [`Spec::features`]: every `x-feature` of an operation's body as a [`FeatureField`] (pointer,
//!   path, schema, default, required mark, condition), found by one walk; [`Feature`] is the
//!   vocabulary; [`media_fields`] finds the images a request carries.
//! - [`extensions`]: `x-job` ([`JobInfo::classify`](extensions::JobInfo::classify), ids, etas),
//!   `x-auth` ([`AuthInfo::place`](extensions::AuthInfo::place)), `x-limits`, `x-emulator`, typed.
//! - `operations` (feature `guard`): the `Operations` trait every generated client implements, so
//!   any of them is called by operation id from JSON.
//! - [`parity`]: `x-parity`, the differences from a provider's own published spec kept on purpose.

//!
//! ```
//! use img2img_specs::{Provider, Spec};
//! let spec = Spec::embedded(Provider::named("novita"));
//! let schema = spec.request_schema("create_img2img").unwrap().unwrap();
//! let body = serde_json::json!({"request": {"model_name": "m", "image_base64": "", "prompt": "p",
//!     "width": 4096, "height": 512, "image_num": 1, "steps": 20, "guidance_scale": 7.5,
//!     "sampler_name": "Euler a"}});
//! let violations = schema.validate(&body).unwrap_err();
//! assert_eq!(violations.to_string(), "request.width = 4096 is above the maximum 2048");
//! ```
#![deny(missing_docs)]

pub mod extensions;
#[cfg(feature = "guard")]
pub mod guard;

mod operation;
#[cfg(feature = "guard")]
pub mod operations;
pub mod parity;
mod provider;
pub mod schema;
mod secret;
mod spec;
pub mod template;
mod validate;
mod view;
mod violation;
pub mod vocabulary;

pub use operation::{
    Location, Method, Operation, Parameter, Response, UnknownLocation, UnknownMethod, operations_of,
};
pub use provider::{Provider, UnknownProvider};
pub use schema::Reading;
pub use secret::{ApiKey, REDACTED, looks_secret, redact};
pub use spec::{Example, ExampleKind, Link, NotFound, Spec, SpecError, follow_refs};
pub use validate::{CompiledSchema, field_path};
pub use view::{
    AspectRatio, Condition, Feature, FeatureField, JobStatus, KeyPlacement, Segment,
    TestModeFields, UnknownFeature, carries_media, media_fields,
};
pub use violation::{Rule, Violation, Violations};
