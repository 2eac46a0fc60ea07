use super::*;
use crate::{Rule, Violation};

fn invalid(field: &str) -> GuardError {
    GuardError::Invalid(Violations(vec![Violation {
        pointer: String::new(),
        field: field.to_owned(),
        value: Value::from(4096),
        rule: Rule::Maximum {
            limit: Value::from(2048),
            exclusive: false,
        },
    }]))
}

#[test]
fn every_kind_has_its_own_code() {
    for (kind, code) in KIND_CODES {
        assert_eq!(kind.code(), code);
        assert_eq!(GuardErrorKind::from_code(code), Some(kind));
    }
    let codes: std::collections::BTreeSet<_> = KIND_CODES.iter().map(|(_, c)| c).collect();
    assert_eq!(codes.len(), KIND_CODES.len());
}

#[test]
fn hook_messages_round_trip_kind_field_and_detail() {
    let cases = [
        invalid("request.width"),
        invalid("loras[0].na\"me] x"),
        GuardError::MissingKey {
            provider: Provider::named("novita"),
            env: "NOVITA_API_KEY".into(),
        },
        GuardError::KeyNotHeaderSafe {
            provider: Provider::named("gptproto"),
        },
        GuardError::BodyCannotCarryKey {
            provider: Provider::named("modelslab"),
        },
        GuardError::UnknownOperation {
            provider: Provider::named("novita"),
            operation: "nope".into(),
        },
        GuardError::SchemaDoesNotCompile {
            provider: Provider::named("novita"),
            operation: "create".into(),
            message: "bad ] schema".into(),
        },
        GuardError::BodyNotJson("expected value at line 1".into()),
    ];
    for error in cases {
        let message = error.to_hook_message();
        let refusal = GuardRefusal::from_hook_message(&message)
            .unwrap_or_else(|| panic!("{message:?} was not read back"));
        assert_eq!(refusal.kind, error.kind(), "{message}");
        assert_eq!(refusal.field, error.field(), "{message}");
        let expected = match &error {
            GuardError::Invalid(violations) => violations.to_string(),
            other => other.to_string(),
        };
        assert_eq!(refusal.detail, expected, "{message}");
    }
}

#[test]
fn a_refusal_names_the_field_and_the_range() {
    let message = invalid("request.width").to_hook_message();
    assert_eq!(
        message,
        "[img2img-guard invalid \"request.width\"] request.width = 4096 is above the maximum 2048"
    );
}

#[test]
fn other_messages_are_not_refusals() {
    for message in [
        "",
        "failed to serialize body",
        "[img2img-guard nonsense] x",
        "[img2img-guard invalid \"unterminated] x",
        "[img2img-guard missing_key]",
        "img2img-guard missing_key] x",
    ] {
        assert_eq!(
            GuardRefusal::from_hook_message(message),
            None,
            "{message:?}"
        );
    }
}

#[test]
fn only_request_faults_are_invalid_requests() {
    let request_faults: Vec<_> = KIND_CODES
        .iter()
        .map(|(kind, _)| *kind)
        .filter(|kind| kind.is_request_fault())
        .collect();
    assert_eq!(
        request_faults,
        [GuardErrorKind::Invalid, GuardErrorKind::BodyNotJson]
    );
}
