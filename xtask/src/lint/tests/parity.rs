use img2img_specs::Spec;

use super::super::rules::lint;

/// Every kind of wrong mark, and one of each right one.
const MARKED: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://example.com"}]
x-provider: {id: novita, name: N, model: m, docs: "https://example.com/docs", key-env: K}
x-auth: {in: header, name: Authorization, prefix: "", accepted-prefixes: [""]}
x-job: {create: create, result: create, style: poll, id-pointer: /id, status-pointer: /s, pending: [], succeeded: [], failed: [error]}
x-output: {formats: [png], default-format: png, inline-base64: false}
paths:
  /create:
    post:
      operationId: create
      x-parity:
        operation: "POST /v1/create"
        kept: an operation keeps nothing
        source: https://example.com/a
        omitted:
          response 422: {kept: validation errors are 400 here, source: "https://example.com/errors"}
          query seed: {kept: the seed goes in the body, source: "https://example.com/seed"}
          colour: {kept: no such part, source: "https://example.com/c"}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              description: d
              x-parity:
                omitted:
                  steps: {kept: a declared one, source: "https://example.com/s"}
                  ip_adapter: {kept: not offered yet, source: "https://example.com/ip"}
              properties:
                steps:
                  type: integer
                  description: s
                  x-parity: {kept: the docs page allows 1..50, source: "https://example.com/steps", facets: [range]}
                width:
                  type: integer
                  description: w
                  x-parity: {kept: no source here}
                height:
                  type: integer
                  description: h
                  x-parity: {source: "https://example.com/h", facets: [colour]}
                seed:
                  type: integer
                  description: s
                  x-parity: {kept: a local file, source: docs/seed.md, operation: "POST /x"}
                strength:
                  type: number
                  description: s
                  x-parity: {facets: [range]}
                mode:
                  type: string
                  description: m
                  x-parity: {omitted: {fast: {kept: "a string has no properties", source: "https://example.com/m"}}}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {type: object, description: a}}}
        "429":
          description: slow down
          x-parity: {kept: the docs pages list 429, source: "https://example.com/429", facets: [presence]}
          content: {application/json: {schema: {type: object, description: a}}}
"##;

#[test]
fn every_misplaced_or_malformed_mark_is_found() {
    let spec = Spec::parse(MARKED).unwrap();
    let findings: Vec<String> = lint(&spec)
        .iter()
        .map(ToString::to_string)
        .filter(|f| f.contains("x-parity"))
        .collect();
    for needle in [
        "/post/x-parity/kept: kept has no meaning on an operation",
        "/post/x-parity/source: source has no meaning on an operation",
        "\"colour\" is not `request`, `response <status>`",
        "steps is a declared property",
        "width/x-parity: kept needs a source",
        "height/x-parity: x-parity is malformed",
        "seed/x-parity/source: \"docs/seed.md\" must be the https:// URL",
        "seed/x-parity/operation: operation has no meaning on a schema",
        "strength/x-parity/facets: facets says which differences `kept` covers",
        "mode/x-parity/omitted/fast: omitted names properties",
        "429/x-parity/facets: facets has no meaning on a response",
    ] {
        assert!(
            findings.iter().any(|f| f.contains(needle)),
            "no finding contains {needle:?}:\n{findings:#?}"
        );
    }
    for fine in [
        "response 422",
        "query seed",
        "ip_adapter",
        "steps/x-parity:",
    ] {
        assert!(
            !findings.iter().any(|f| f.contains(fine)),
            "{fine} is right and was reported:\n{findings:#?}"
        );
    }
    assert_eq!(findings.len(), 11, "{findings:#?}");
}

#[test]
fn the_parity_fixture_marks_pass() {
    let spec = Spec::parse(include_str!("../../../tests/fixtures/parity/ours.yaml")).unwrap();
    let findings: Vec<String> = lint(&spec)
        .iter()
        .map(ToString::to_string)
        .filter(|f| f.contains("x-parity"))
        .collect();
    assert!(findings.is_empty(), "{findings:#?}");
}
