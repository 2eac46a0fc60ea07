use super::*;

const MINIMAL: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://example.com/api"}]
x-provider: {id: novita, name: N, model: m, docs: d, key-env: K}
x-auth: {in: header, name: Authorization, prefix: "Bearer ", accepted-prefixes: [""]}
x-job: {create: create, result: result, style: poll, id-pointer: /id, status-pointer: /s, pending: [], succeeded: [], failed: [], failure-pointers: [task.reason], stages: {queued: q, processing: p, succeeded: s, failed: f}, create-fields: {mode: x}, poll-url-pointer: poll, progress-pointer: pct, poll-url-hosts: ["https://eu.example.com"]}
x-output: {formats: [png], default-format: jpeg, inline-base64: false}
x-emulator:
  render-defaults: {width: 0, height: 8, strength: 0.5, steps: 20, guidance: 7.0, pixels: 100, multiple-of: 16}
x-errors:
  message-pointers: [message]
  reason-pointers: [/reason]
  reasons: [{reason: X, kind: unauthorized, status: 200, field: nope}, {reason: X, kind: forbidden}]
  words: {rate_limited: [[Rate Limit], []]}
  status-pointers: [code]
  decide-by: [status, status, field]
  word-statuses: {content_policy: [400, 700]}
paths:
  /a:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                width: {type: integer, minimum: 10, maximum: 5, default: 20, x-feature: colour}
                ref: {$ref: "#/components/schemas/Missing"}
      responses:
        "200": {description: ok}
        "201":
          description: created
          content:
            application/json:
              schema: {type: integer}
              examples:
                bad: {value: "wide"}
        "400":
          description: refused
          content:
            application/json:
              schema: {type: object}
              examples:
                refused: {value: {reason: Y}}
"##;

#[test]
fn docs_must_be_an_https_url() {
    for good in [
        "https://novita.ai/docs/api-reference/model-apis-img2img",
        "https://stablediffusionapi.com/docs/enterprise-plan/img2img/",
        "https://example.com",
    ] {
        assert!(is_https_url(good), "{good:?} was refused");
    }
    for bad in [
        "novita-img2img.md",
        "../docs/novita-img2img.md",
        "http://novita.ai/docs",
        "https://",
        "https:///docs",
        "https://novita.ai/docs page",
    ] {
        assert!(!is_https_url(bad), "{bad:?} was accepted");
    }
}

#[test]
fn reports_every_finding_at_once() {
    let spec = Spec::parse(MINIMAL).unwrap();
    let findings: Vec<String> = lint(&spec).iter().map(ToString::to_string).collect();
    let expect = [
        "must be scheme://host with no path",
        "has no operationId",
        "response 200 has no application/json schema",
        "property width has no description",
        "minimum 10 is above maximum 5",
        "x-feature \"colour\" is not in the vocabulary",
        "$ref \"#/components/schemas/Missing\" does not resolve",
        "operationId \"create\" does not exist",
        "does not include the prefix the client sends",
        "\"jpeg\" is not among x-output.formats",
        "\"d\" must be the https:// URL of the provider's public docs page",
        "example \"bad\" breaks its schema",
        "\"q\" is not in the x-job list for a queued job",
        "\"f\" is not in the x-job list for a failed job",
        "\"message\" is not a JSON pointer",
        "\"task.reason\" is not a JSON pointer",
        "reason \"X\" is empty or listed twice",
        "200 is not an HTTP error status",
        "\"nope\" is no parameter and no request body field of any operation",
        "\"Rate Limit\" must be a non-empty, lower-case word",
        "is an empty list of words",
        "error example \"refused\" has no message at x-errors.message-pointers",
        "error example \"refused\" sends reason \"Y\", which x-errors.reasons does not list",
        "\"mode\" is no top-level property of the create body",
        "\"poll\" is not a JSON pointer",
        "\"pct\" is not a JSON pointer",
        "\"https://eu.example.com\" is not a bare host name",
        "\"code\" is not a JSON pointer",
        "rule \"status\" is listed twice",
        "rule \"field\" can never decide: x-errors has no field-before",
        "bounds a kind that has no words",
        "700 is not an HTTP status",
        "width 0: must be at least 1 pixel",
        "multiple-of 16: a square of that side is above the area 100 it rounds",
    ];
    for needle in expect {
        assert!(
            findings.iter().any(|f| f.contains(needle)),
            "no finding contains {needle:?}:\n{findings:#?}"
        );
    }
}
