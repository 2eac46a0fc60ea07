//! `x-emulator.answers`: what an emulator of the provider answers, as templates
//! ([`Template`](crate::template::Template)), and the few facts that go with them (the look of a
//! job id, how long a synchronous create waits, the status an error of each cause comes with).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::extensions::{ErrorKind, ErrorsInfo};
use crate::template::{self, Role, Template};

/// `x-emulator.answers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Answers {
    /// What a job id looks like.
    pub job_id: JobIdStyle,
    /// A `sync-or-queued` create waits for its job this much longer than the job's planned time
    /// before it answers the job as still running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_grace_seconds: Option<u64>,
    /// The HTTP status of an error of each cause, where it is not the usual one
    /// ([`Cause::usual_status`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub statuses: BTreeMap<Cause, u16>,
    /// The `x-errors` reason an error of each cause is answered with, where not the first listed
    /// for its kind and status ([`Answers::reason`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<Cause, String>,
    /// The status word the `unlisted_status` defect answers for a succeeded job (one no `x-job`
    /// list holds); `done` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlisted_status: Option<String>,
    /// The create answer; absent: the `result` answer (at the job's stage).
    #[serde(
        default,
        deserialize_with = "job_template_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<Template>,
    /// The result answer, at every stage of the job.
    #[serde(deserialize_with = "job_template")]
    pub result: Template,
    /// The answer to an id the emulator does not hold; absent: the `error` answer.
    #[serde(
        default,
        deserialize_with = "error_template_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_found: Option<Template>,
    /// The body of every error answer.
    #[serde(deserialize_with = "error_template")]
    pub error: Template,
    /// The webhook a finished job sends (when the request names one); absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookAnswer>,
    /// The answer to a method and path no operation has; absent: the `error` answer. Its status
    /// is that of the cause `unknown_route` (404 unless `statuses` says otherwise).
    #[serde(
        default,
        deserialize_with = "error_template_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub unknown_route: Option<Template>,
    /// The answers of an API family of `x-job.aliases` (by its name) where they differ from the
    /// ones above.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub families: BTreeMap<String, FamilyAnswers>,
}

/// `x-emulator.answers.families.<name>`: the answers of one API family, each overriding the
/// top-level answer of the same name for the operations (and jobs) of that family.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FamilyAnswers {
    /// The family's create answer.
    #[serde(
        default,
        deserialize_with = "job_template_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<Template>,
    /// The family's result answer.
    #[serde(
        default,
        deserialize_with = "job_template_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub result: Option<Template>,
    /// The family's answer to an id it does not hold.
    #[serde(
        default,
        deserialize_with = "error_template_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_found: Option<Template>,
    /// The family's error body.
    #[serde(
        default,
        deserialize_with = "error_template_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub error: Option<Template>,
}

/// `x-emulator.answers.webhook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WebhookAnswer {
    /// The JSON body POSTed.
    #[serde(deserialize_with = "job_template")]
    pub body: Template,
    /// Headers sent with it (a header whose value is absent is not sent).
    #[serde(
        default,
        deserialize_with = "job_templates",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub headers: BTreeMap<String, Template>,
    /// How many times a failed delivery (timeout or non-2xx) is tried again.
    #[serde(default)]
    pub retries: u32,
}

/// What a job id looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobIdStyle {
    /// 32 lower-case hex digits.
    Hex32,
    /// A UUID version 4, lower case.
    Uuid4,
    /// A number, one more for each job.
    Sequence,
}

/// Why an emulator refuses a request: the causes an `error` template can tell apart
/// (`error.cause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The request breaks the spec, is not JSON, or names an image the emulator cannot use.
    InvalidRequest,
    /// The body, or an image in it, is larger than the limit (`x-limits.max-input-bytes`, or the
    /// `maxLength` of an `x-media` field).
    TooLarge,
    /// An image in the request is not an image the provider reads: not base64, a `data:` URL or
    /// a URL, or not a PNG, JPEG or WebP that decodes.
    ImageFormat,
    /// An image in the request has more pixels than `x-limits.max-input-pixels`.
    ImageResolution,
    /// No key was sent.
    MissingKey,
    /// A key was sent that is not accepted.
    WrongKey,
    /// No job with this id (unknown, or evicted).
    NotFound,
    /// Over the provider's rate limit.
    RateLimited,
    /// Every job slot holds a running job.
    Unavailable,
    /// A status asked for by a fault.
    Fault,
    /// No operation at this method and path.
    UnknownRoute,
}

impl Cause {
    /// Every cause.
    pub const ALL: &'static [Cause] = &[
        Cause::InvalidRequest,
        Cause::TooLarge,
        Cause::ImageFormat,
        Cause::ImageResolution,
        Cause::MissingKey,
        Cause::WrongKey,
        Cause::NotFound,
        Cause::RateLimited,
        Cause::Unavailable,
        Cause::Fault,
        Cause::UnknownRoute,
    ];

    /// The word a template compares (`invalid_request`).
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::InvalidRequest => "invalid_request",
            Cause::TooLarge => "too_large",
            Cause::ImageFormat => "image_format",
            Cause::ImageResolution => "image_resolution",
            Cause::MissingKey => "missing_key",
            Cause::WrongKey => "wrong_key",
            Cause::NotFound => "not_found",
            Cause::RateLimited => "rate_limited",
            Cause::Unavailable => "unavailable",
            Cause::Fault => "fault",
            Cause::UnknownRoute => "unknown_route",
        }
    }

    /// The status an error of this cause comes with unless `statuses` says otherwise; `None` for
    /// the two whose status is given elsewhere (`not_found`: `x-not-found`; `fault`: the fault).
    pub fn usual_status(self) -> Option<u16> {
        match self {
            Cause::InvalidRequest | Cause::ImageFormat | Cause::ImageResolution => Some(400),
            Cause::TooLarge => Some(413),
            Cause::MissingKey | Cause::WrongKey => Some(401),
            Cause::RateLimited => Some(429),
            Cause::Unavailable => Some(503),
            Cause::UnknownRoute => Some(404),
            Cause::NotFound | Cause::Fault => None,
        }
    }

    /// What an error of this cause means in the words of `x-errors`; `None` for a fault, which
    /// is answered by its status alone.
    pub fn meaning(self) -> Option<ErrorKind> {
        Some(match self {
            Cause::InvalidRequest
            | Cause::TooLarge
            | Cause::ImageFormat
            | Cause::ImageResolution => ErrorKind::InvalidRequest,
            Cause::MissingKey | Cause::WrongKey => ErrorKind::Unauthorized,
            Cause::NotFound => ErrorKind::NotFound,
            Cause::RateLimited => ErrorKind::RateLimited,
            Cause::Unavailable => ErrorKind::Unavailable,
            Cause::Fault | Cause::UnknownRoute => return None,
        })
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Answers {
    /// The status an error of `cause` comes with: `statuses`, else (for a bad image) the status
    /// `statuses` gives `invalid_request`, else [`Cause::usual_status`].
    pub fn status(&self, cause: Cause) -> Option<u16> {
        let bad_image = matches!(cause, Cause::ImageFormat | Cause::ImageResolution);
        self.statuses
            .get(&cause)
            .or_else(|| {
                bad_image
                    .then(|| self.statuses.get(&Cause::InvalidRequest))
                    .flatten()
            })
            .copied()
            .or_else(|| cause.usual_status())
    }

    /// The reason an error of `cause` answered with `status` carries: the one `reasons` names
    /// for the cause, else the first `errors` lists for the cause's meaning and the status (a
    /// fault, or a meaning listed for no reason: the first listed for the status); `None` when
    /// `errors` lists none.
    pub fn reason<'a>(
        &'a self,
        cause: Cause,
        status: u16,
        errors: &'a ErrorsInfo,
    ) -> Option<&'a str> {
        if let Some(reason) = self.reasons.get(&cause) {
            return Some(reason);
        }
        let listed = match cause.meaning() {
            Some(meaning) => errors.reason_for(meaning, status),
            None => errors.reason_for_status(status),
        };
        listed.map(|r| r.reason.as_str())
    }

    /// The word of the `unlisted_status` defect.
    pub fn unlisted_status(&self) -> &str {
        self.unlisted_status.as_deref().unwrap_or("done")
    }

    /// The create answer: `created`, else `result`.
    pub fn created(&self) -> &Template {
        self.created.as_ref().unwrap_or(&self.result)
    }

    /// The not-found answer: `not-found`, else `error`.
    pub fn not_found(&self) -> &Template {
        self.not_found.as_ref().unwrap_or(&self.error)
    }

    /// The answer to a method and path no operation has: `unknown-route`, else `error`.
    pub fn unknown_route(&self) -> &Template {
        self.unknown_route.as_ref().unwrap_or(&self.error)
    }

    /// The answers of `family` (an `x-job` family name), where it gives any.
    pub fn family(&self, family: &str) -> Option<&FamilyAnswers> {
        self.families.get(family)
    }

    /// The create answer of `family`: its own `created`, else the top-level `created`, else its
    /// result answer ([`Answers::result_for`]).
    pub fn created_for(&self, family: &str) -> &Template {
        self.family(family)
            .and_then(|f| f.created.as_ref())
            .or(self.created.as_ref())
            .unwrap_or_else(|| self.result_for(family))
    }

    /// The result answer of `family`: its own `result`, else the top-level one.
    pub fn result_for(&self, family: &str) -> &Template {
        self.family(family)
            .and_then(|f| f.result.as_ref())
            .unwrap_or(&self.result)
    }

    /// The error body of `family`: its own `error`, else the top-level one.
    pub fn error_for(&self, family: &str) -> &Template {
        self.family(family)
            .and_then(|f| f.error.as_ref())
            .unwrap_or(&self.error)
    }

    /// The not-found answer of `family`: its own `not-found`, else its own `error`, else the
    /// top-level [`Answers::not_found`].
    pub fn not_found_for(&self, family: &str) -> &Template {
        let own = self.family(family);
        own.and_then(|f| f.not_found.as_ref())
            .or_else(|| own.and_then(|f| f.error.as_ref()))
            .unwrap_or_else(|| self.not_found())
    }
}

fn job_template<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Template, D::Error> {
    template::deserialize(deserializer, Role::Job)
}

fn error_template<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Template, D::Error> {
    template::deserialize(deserializer, Role::Error)
}

fn job_template_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Template>, D::Error> {
    job_template(deserializer).map(Some)
}

fn error_template_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Template>, D::Error> {
    error_template(deserializer).map(Some)
}

fn job_templates<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Template>, D::Error> {
    let sources = BTreeMap::<String, serde_json::Value>::deserialize(deserializer)?;
    sources
        .into_iter()
        .map(|(name, source)| {
            Template::compile(&source, Role::Job)
                .map(|t| (name.clone(), t))
                .map_err(|e| serde::de::Error::custom(format!("header {name}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Provider, Spec};

    #[test]
    fn every_spec_says_what_its_emulator_answers() {
        for provider in Provider::all() {
            let emulator = Spec::embedded(provider).extensions().emulator.as_ref();
            let answers = emulator
                .expect("x-emulator")
                .answers
                .as_ref()
                .expect("answers");
            assert_eq!(answers.result.role(), Role::Job, "{provider}");
            assert_eq!(answers.error.role(), Role::Error, "{provider}");
        }
    }

    #[test]
    fn a_mistake_in_a_template_names_where_it_is() {
        let error = serde_json::from_value::<Answers>(serde_json::json!({
            "job-id": "uuid4",
            "result": {"task": {"status": "${job.stauts}"}},
            "error": {},
        }))
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("at /task/status: unknown variable \"job.stauts\""),
            "{error}"
        );
        let error = serde_json::from_value::<Answers>(serde_json::json!({
            "job-id": "uuid4", "result": {}, "error": {"status": "${job.status}"},
        }))
        .unwrap_err()
        .to_string();
        assert!(error.contains("not known in error templates"), "{error}");
    }

    #[test]
    fn statuses_default_to_the_usual_ones() {
        let answers: Answers = serde_json::from_value(serde_json::json!({
            "job-id": "sequence", "statuses": {"wrong_key": 403}, "result": {}, "error": {},
        }))
        .unwrap();
        assert_eq!(answers.status(Cause::WrongKey), Some(403));
        assert_eq!(answers.status(Cause::ImageFormat), Some(400));
        let invalid_as_422: Answers = serde_json::from_value(serde_json::json!({
            "job-id": "uuid4", "statuses": {"invalid_request": 422}, "result": {}, "error": {},
        }))
        .unwrap();
        assert_eq!(
            invalid_as_422.status(Cause::ImageResolution),
            Some(422),
            "a bad image is an invalid request"
        );
        assert_eq!(invalid_as_422.status(Cause::TooLarge), Some(413));
        assert_eq!(answers.status(Cause::MissingKey), Some(401));
        assert_eq!(answers.status(Cause::Fault), None);
        assert_eq!(answers.unlisted_status(), "done");
        assert_eq!(answers.created(), &answers.result);
    }

    #[test]
    fn a_familys_answers_override_the_top_level_ones_of_the_same_name() {
        let answers: Answers = serde_json::from_value(serde_json::json!({
            "job-id": "sequence",
            "result": {"top": "result"},
            "error": {"top": "error"},
            "unknown-route": {"detail": "${error.message}"},
            "families": {
                "unified": {"result": {"own": "result"}, "error": {"own": "error"}},
                "edit": {"created": {"own": "created"}, "not-found": {"own": "not-found"}},
            },
        }))
        .unwrap();
        struct Empty;
        impl crate::template::Scope for Empty {}
        let name = |t: &Template| serde_json::to_string(&t.render_value(&Empty)).unwrap();
        assert_eq!(name(answers.result_for("unified")), r#"{"own":"result"}"#);
        assert_eq!(name(answers.created_for("unified")), r#"{"own":"result"}"#);
        assert_eq!(name(answers.error_for("unified")), r#"{"own":"error"}"#);
        assert_eq!(name(answers.not_found_for("unified")), r#"{"own":"error"}"#);
        assert_eq!(name(answers.created_for("edit")), r#"{"own":"created"}"#);
        assert_eq!(name(answers.result_for("edit")), r#"{"top":"result"}"#);
        assert_eq!(
            name(answers.not_found_for("edit")),
            r#"{"own":"not-found"}"#
        );
        assert_eq!(name(answers.error_for("docs")), r#"{"top":"error"}"#);
        assert_eq!(
            name(answers.unknown_route()),
            "{}",
            "its message is absent here"
        );
        assert_eq!(answers.status(Cause::UnknownRoute), Some(404));
        let error = serde_json::from_value::<Answers>(serde_json::json!({
            "job-id": "sequence", "result": {}, "error": {},
            "families": {"x": {"result": {"s": "${error.message}"}}},
        }))
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("not known in job templates") || error.contains("error.message"),
            "{error}"
        );
    }
}
