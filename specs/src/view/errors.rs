//! Deciding what an error answer means by the spec's `x-errors`: the rules of `decide-by`, tried
//! in order, over the message, the reason, the wait and the HTTP status the body carries.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::extensions::{ErrorKind, ErrorsInfo};

/// One rule of `x-errors.decide-by`: a way an error answer says what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorRule {
    /// The body's reason (at `reason-pointers`), when `reasons` lists it, decides its kind.
    Reason,
    /// A wait at `retry-after-pointers` decides `rate_limited`; else the first kind (in the order
    /// of [`ErrorKind`]) whose `words` the message or the reason holds, with a status its
    /// `word-statuses` allow.
    Words,
    /// An HTTP error status decides: 401 `unauthorized`, 402 `insufficient_balance`, 403
    /// `forbidden`, 429 `rate_limited`, 400/404/409/422 `invalid_request`, 5xx `server_error`.
    Status,
    /// A message naming a field before `field-before` decides `invalid_request`.
    Field,
}

impl ErrorRule {
    /// The rules of a spec that names none: reason, words, status, field.
    pub const DEFAULT: [ErrorRule; 4] = [
        ErrorRule::Reason,
        ErrorRule::Words,
        ErrorRule::Status,
        ErrorRule::Field,
    ];

    /// The word the spec writes (`reason`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorRule::Reason => "reason",
            ErrorRule::Words => "words",
            ErrorRule::Status => "status",
            ErrorRule::Field => "field",
        }
    }
}

/// What an error answer says, read at the pointers of `x-errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorAnswer<'a> {
    /// The HTTP status the answer stands for: the one it came with, or for a body sent with a 2xx
    /// status, the error status at `status-pointers` (if any).
    pub status: u16,
    /// The provider's message (at `message-pointers`).
    pub message: Option<&'a str>,
    /// The machine-readable reason (at `reason-pointers`).
    pub reason: Option<&'a str>,
    /// The wait the body asks for (at `retry-after-pointers`).
    pub retry_after: Option<Duration>,
}

impl ErrorAnswer<'_> {
    /// Whether the body says anything: a message or a reason.
    pub fn says_anything(&self) -> bool {
        self.message.is_some() || self.reason.is_some()
    }
}

/// What a rule of `decide-by` made of an error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDecision {
    /// What the error means.
    pub kind: ErrorKind,
    /// The rule that decided.
    pub by: ErrorRule,
    /// The request field or parameter at fault, for `invalid_request` and `not_found`: the
    /// reason's own, else the one the message names.
    pub field: Option<String>,
}

impl ErrorsInfo {
    /// The rules of `decide-by`, or [`ErrorRule::DEFAULT`].
    pub fn rules(&self) -> &[ErrorRule] {
        self.decide_by.as_deref().unwrap_or(&ErrorRule::DEFAULT)
    }

    /// What an error body says, answered with HTTP `http_status`.
    pub fn read<'a>(&self, http_status: u16, body: &'a Value) -> ErrorAnswer<'a> {
        let status = if (200..300).contains(&http_status) {
            self.status_pointers
                .iter()
                .filter_map(|p| body.pointer(p))
                .find_map(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                })
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (400..=599).contains(s))
                .unwrap_or(http_status)
        } else {
            http_status
        };
        ErrorAnswer {
            status,
            message: self.message_in(body),
            reason: self.reason_in(body),
            retry_after: self.retry_after_in(body),
        }
    }

    /// What `answer` means by `rules`, tried in order: the first that decides wins; `None` when
    /// none does.
    pub fn decide(&self, answer: &ErrorAnswer<'_>, rules: &[ErrorRule]) -> Option<ErrorDecision> {
        let message = answer.message.unwrap_or("");
        let field_of_message = || self.field_in(message).map(str::to_owned);
        rules.iter().find_map(|&rule| {
            let (kind, field) = match rule {
                ErrorRule::Reason => {
                    let known = self.reason(answer.reason?)?;
                    (known.kind, known.field.clone().or_else(field_of_message))
                }
                ErrorRule::Words => (self.words_kind(answer)?, field_of_message()),
                ErrorRule::Status => (status_kind(answer.status)?, field_of_message()),
                ErrorRule::Field => (ErrorKind::InvalidRequest, Some(field_of_message()?)),
            };
            let field = matches!(kind, ErrorKind::InvalidRequest | ErrorKind::NotFound)
                .then_some(field)
                .flatten();
            Some(ErrorDecision {
                kind,
                by: rule,
                field,
            })
        })
    }

    /// The kind the words of `answer` say (see [`ErrorRule::Words`]).
    fn words_kind(&self, answer: &ErrorAnswer<'_>) -> Option<ErrorKind> {
        if answer.retry_after.is_some() {
            return Some(ErrorKind::RateLimited);
        }
        self.words.keys().copied().find(|&kind| {
            let at_status = self
                .word_statuses
                .get(&kind)
                .is_none_or(|statuses| statuses.contains(&answer.status));
            at_status
                && [answer.message, answer.reason]
                    .into_iter()
                    .flatten()
                    .any(|text| self.says(kind, text))
        })
    }
}

/// The kind an HTTP error status means by itself (see [`ErrorRule::Status`]).
pub fn status_kind(status: u16) -> Option<ErrorKind> {
    Some(match status {
        401 => ErrorKind::Unauthorized,
        402 => ErrorKind::InsufficientBalance,
        403 => ErrorKind::Forbidden,
        429 => ErrorKind::RateLimited,
        400 | 404 | 409 | 422 => ErrorKind::InvalidRequest,
        500..=599 => ErrorKind::ServerError,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn errors(yaml: serde_json::Value) -> ErrorsInfo {
        serde_json::from_value(yaml).unwrap()
    }

    fn decide(errors: &ErrorsInfo, status: u16, body: Value) -> Option<(ErrorKind, ErrorRule)> {
        let answer = errors.read(status, &body);
        errors
            .decide(&answer, errors.rules())
            .map(|d| (d.kind, d.by))
    }

    #[test]
    fn rules_are_tried_in_the_order_the_spec_gives() {
        let base = json!({
            "message-pointers": ["/message"], "reason-pointers": ["/reason"],
            "reasons": [{"reason": "SLOW_DOWN", "kind": "rate_limited"}],
            "words": {"insufficient_balance": [["balance"]]},
        });
        let body = json!({"reason": "SLOW_DOWN", "message": "no balance"});
        let mut reason_first = base.clone();
        reason_first["decide-by"] = json!(["reason", "words", "status"]);
        assert_eq!(
            decide(&errors(reason_first), 403, body.clone()),
            Some((ErrorKind::RateLimited, ErrorRule::Reason))
        );
        let mut words_first = base.clone();
        words_first["decide-by"] = json!(["words", "reason", "status"]);
        assert_eq!(
            decide(&errors(words_first), 403, body.clone()),
            Some((ErrorKind::InsufficientBalance, ErrorRule::Words))
        );
        let mut status_only = base;
        status_only["decide-by"] = json!(["status"]);
        let status_only = errors(status_only);
        assert_eq!(
            decide(&status_only, 403, body.clone()),
            Some((ErrorKind::Forbidden, ErrorRule::Status))
        );
        // HTTP 200 is no error status: the status rule says nothing.
        assert_eq!(decide(&status_only, 200, body), None);
    }

    #[test]
    fn word_statuses_bound_where_words_decide() {
        let errors = errors(json!({
            "message-pointers": ["/message"],
            "words": {"content_policy": [["safety"]]},
            "word-statuses": {"content_policy": [400]},
            "decide-by": ["words", "status"],
        }));
        let body = json!({"message": "blocked for safety"});
        assert_eq!(
            decide(&errors, 400, body.clone()),
            Some((ErrorKind::ContentPolicy, ErrorRule::Words))
        );
        assert_eq!(
            decide(&errors, 500, body),
            Some((ErrorKind::ServerError, ErrorRule::Status))
        );
    }

    #[test]
    fn a_body_sent_with_200_may_carry_its_status_and_a_wait() {
        let errors = errors(json!({
            "message-pointers": ["/message"],
            "retry-after-pointers": ["/retry_after"],
            "status-pointers": ["/code"],
            "decide-by": ["words", "status"],
        }));
        assert_eq!(
            errors
                .read(200, &json!({"code": 401, "message": "bad key"}))
                .status,
            401
        );
        assert_eq!(
            decide(&errors, 200, json!({"code": 401, "message": "bad key"})),
            Some((ErrorKind::Unauthorized, ErrorRule::Status))
        );
        // A code that is no error status, or one on an error answer, changes nothing.
        assert_eq!(errors.read(200, &json!({"code": 200})).status, 200);
        assert_eq!(errors.read(503, &json!({"code": 401})).status, 503);
        assert_eq!(
            decide(
                &errors,
                200,
                json!({"message": "later", "retry_after": "30"})
            ),
            Some((ErrorKind::RateLimited, ErrorRule::Words))
        );
    }

    #[test]
    fn fields_come_from_the_reason_or_the_message() {
        let errors = errors(json!({
            "message-pointers": ["/message"], "reason-pointers": ["/reason"],
            "field-before": ":",
            "reasons": [{"reason": "NOT_FOUND", "kind": "not_found", "field": "task_id"},
                        {"reason": "BAD", "kind": "invalid_request"},
                        {"reason": "AUTH", "kind": "unauthorized"}],
            "decide-by": ["reason", "status", "field"],
        }));
        let field = |status, body| {
            let answer = errors.read(status, &body);
            errors.decide(&answer, errors.rules()).unwrap().field
        };
        assert_eq!(
            field(404, json!({"reason": "NOT_FOUND", "message": "w: gone"})),
            Some("task_id".into())
        );
        assert_eq!(
            field(
                400,
                json!({"reason": "BAD", "message": "request.width: too wide"})
            ),
            Some("request.width".into())
        );
        // Only a refusal of the request names a field.
        assert_eq!(
            field(401, json!({"reason": "AUTH", "message": "key: bad"})),
            None
        );
        let by_field = errors
            .decide(
                &errors.read(200, &json!({"message": "steps: too many"})),
                errors.rules(),
            )
            .unwrap();
        assert_eq!(
            (by_field.kind, by_field.by, by_field.field.as_deref()),
            (ErrorKind::InvalidRequest, ErrorRule::Field, Some("steps"))
        );
    }

    #[test]
    fn a_spec_naming_no_rules_gets_the_default() {
        let errors = errors(json!({"message-pointers": ["/message"]}));
        assert_eq!(errors.rules(), ErrorRule::DEFAULT);
    }
}
