//! The lint of `x-test-mode` (see `specs/README.md`): every `webhook_test_mode` object says which
//! of its properties turns the test mode on (a boolean) and which holds the status word the mock
//! event reports, so the emulator reads a request's test mode without knowing the names.

use serde_json::Value;

use img2img_specs::{Feature, Spec, follow_refs};

/// Adds a finding for each `webhook_test_mode` property without a well-formed `x-test-mode`.
pub(super) fn check(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let doc = spec.document();
    for operation in spec.operations() {
        for field in spec.features(&operation.id) {
            if field.feature != Feature::WebhookTestMode {
                continue;
            }
            let at = &field.schema_pointer;
            let names = match field.test_mode() {
                Ok(Some(names)) => names,
                Ok(None) => {
                    add(
                        at,
                        "a webhook_test_mode needs x-test-mode: {switch: <property>, status: \
                         <property>}, the properties that turn it on and name its status word"
                            .into(),
                    );
                    continue;
                }
                Err(error) => {
                    add(
                        &format!("{at}/x-test-mode"),
                        format!("must be {{switch: <property>, status: <property>}}: {error}"),
                    );
                    continue;
                }
            };
            let properties = doc
                .pointer(&field.resolved_pointer)
                .and_then(|schema| schema.get("properties"));
            for (key, name) in [("switch", &names.switch), ("status", &names.status)] {
                let Some(property) = properties.and_then(|p| p.get(name)) else {
                    add(
                        &format!("{at}/x-test-mode/{key}"),
                        format!("{name:?} is not a property of the test mode's object"),
                    );
                    continue;
                };
                let (_, property) = follow_refs(doc, "", property);
                if key == "switch"
                    && property.get("type").and_then(Value::as_str) != Some("boolean")
                {
                    add(
                        &format!("{at}/x-test-mode/switch"),
                        format!(
                            "{name:?} must be a boolean property (its `true` turns the test mode on)"
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use img2img_specs::Spec;

    use super::super::rules::{Finding, lint};

    /// A spec with one create operation whose body has a `webhook_test_mode` object, the
    /// object's `x-test-mode` written as `MARK` (or left out when it is empty).
    fn spec(mark: &str) -> Spec {
        let text = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://example.com"}]
x-provider: {id: acme, name: A, model: m, docs: "https://example.com/docs", key-env: K}
x-auth: {in: header, name: Authorization, prefix: "", accepted-prefixes: [""]}
x-job: {create: create, result: create, style: poll, id-pointer: /id, status-pointer: /s, pending: [], succeeded: [done], failed: [error]}
x-output: {formats: [png], default-format: png, inline-base64: false}
paths:
  /create:
    post:
      operationId: create
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                hook:
                  $ref: '#/components/schemas/Mode'
                  x-feature: webhook_test_mode
                  MARK
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object}
components:
  schemas:
    Mode:
      type: object
      properties:
        active: {type: boolean}
        outcome: {type: string}
"##;
        Spec::parse(&text.replace("MARK", mark)).unwrap()
    }

    /// The findings about the test mode mark.
    fn findings(mark: &str) -> Vec<Finding> {
        let mut found = Vec::new();
        super::check(&spec(mark), &mut |pointer, message| {
            found.push(Finding {
                pointer: pointer.to_owned(),
                message,
            })
        });
        found
    }

    #[test]
    fn a_test_mode_naming_its_boolean_switch_and_its_status_passes() {
        assert_eq!(
            findings("x-test-mode: {switch: active, status: outcome}"),
            []
        );
        let all = lint(&spec("x-test-mode: {switch: active, status: outcome}"));
        assert!(
            all.iter().all(|f| !f.pointer.contains("x-test-mode")),
            "{all:?}"
        );
    }

    #[test]
    fn a_missing_or_malformed_mark_is_reported() {
        let at =
            "/paths/~1create/post/requestBody/content/application~1json/schema/properties/hook";
        let missing = findings("");
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0].pointer, at);
        assert!(missing[0].message.contains("x-test-mode"), "{missing:?}");

        let malformed = findings("x-test-mode: {switch: active, state: outcome}");
        assert_eq!(malformed.len(), 1, "{malformed:?}");
        assert_eq!(malformed[0].pointer, format!("{at}/x-test-mode"));
        assert!(malformed[0].message.contains("state"), "{malformed:?}");
    }

    #[test]
    fn names_must_be_properties_of_the_object_and_the_switch_a_boolean() {
        let at =
            "/paths/~1create/post/requestBody/content/application~1json/schema/properties/hook";
        let unknown = findings("x-test-mode: {switch: enabled, status: outcome}");
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert_eq!(unknown[0].pointer, format!("{at}/x-test-mode/switch"));
        assert!(unknown[0].message.contains("\"enabled\""), "{unknown:?}");

        let not_boolean = findings("x-test-mode: {switch: outcome, status: active}");
        assert_eq!(not_boolean.len(), 1, "{not_boolean:?}");
        assert_eq!(not_boolean[0].pointer, format!("{at}/x-test-mode/switch"));
        assert!(
            not_boolean[0].message.contains("boolean"),
            "{not_boolean:?}"
        );

        let no_status = findings("x-test-mode: {switch: active, status: status}");
        assert_eq!(no_status[0].pointer, format!("{at}/x-test-mode/status"));
    }
}
