use super::*;

const SPEC: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://example.com"}]
x-provider: {id: modelslab, name: M, model: m, docs: "https://example.com/docs", key-env: K}
x-auth: {in: header, name: Authorization, prefix: "", accepted-prefixes: [""]}
x-job:
  create: create
  result: fetch
  style: poll
  id-pointer: /id
  status-pointer: /s
  pending: []
  succeeded: []
  failed: []
  aliases:
    - {name: docs, create: create_other, result: fetch}
    - {name: v6, create: missing, result: fetch_other}
    - {name: twice, create: create, result: fetch}
x-output: {formats: [png], default-format: png, inline-base64: false}
paths:
  /create:
    post:
      operationId: create
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/Body"}}}}
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Answer"}}}}}
  /create/other:
    post:
      operationId: create_other
      requestBody: {content: {application/json: {schema: {type: object, description: another body}}}}
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Answer"}}}}}
  /fetch:
    post:
      operationId: fetch
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Answer"}}}}}
  /fetch/other:
    post:
      operationId: fetch_other
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Answer"}}}}}
components:
  schemas:
    Body:
      type: object
      description: body
      required: [prompt]
      x-accepting:
        optional: [steps]
        tolerated:
          prompt: {type: string, description: declared already}
          extra: {type: object}
        also:
          ghost: {type: boolean, description: not declared}
        strict: true
      properties:
        prompt: {type: string, description: p}
        seed:
          description: s
          nullable: true
          oneOf: [{type: integer}, {type: string}]
        track:
          description: t
          oneOf: [{type: integer, nullable: true}, {type: string, nullable: true}]
    Answer: {type: object, description: a}
"##;

#[test]
fn aliases_nullable_and_accepting_marks_are_checked() {
    let spec = Spec::parse(SPEC).unwrap();
    let findings: Vec<String> = lint(&spec).iter().map(ToString::to_string).collect();
    for needle in [
        "\"docs\" is used twice",
        "\"create_other\" has a request body of its own that marks no x-feature: init_image",
        "operationId \"create\" already belongs to another family",
        "operationId \"missing\" does not exist",
        "nullable: true without a type is ignored",
        "2 branches of this oneOf are nullable",
        "\"steps\" is not a required property",
        "prompt is a declared property",
        "property extra has no description",
        "\"strict\" is not null-as-absent",
        "ghost is not a declared property; also widens declared ones",
    ] {
        assert!(
            findings.iter().any(|f| f.contains(needle)),
            "no finding contains {needle:?}:\n{findings:#?}"
        );
    }
    assert!(
        !findings.iter().any(|f| f.contains("fetch_other")),
        "a valid alias result is not reported: {findings:#?}"
    );
}
