use super::lint;
use img2img_specs::Spec;

fn spec(job_extra: &str) -> Spec {
    Spec::parse(&format!(
            r##"
openapi: 3.0.3
info: {{title: t, version: "1"}}
servers: [{{url: "https://example.com"}}]
x-provider: {{id: novita, name: N, model: m, docs: "https://example.com/docs", key-env: K}}
x-auth: {{in: body, name: key, prefix: "", accepted-prefixes: [""]}}
x-job: {{create: create, result: create, style: poll, id-pointer: /id, status-pointer: /s, pending: [], succeeded: [], failed: [], {job_extra}}}
x-output: {{formats: [png], default-format: png, inline-base64: false}}
paths:
  /create:
    post:
      operationId: create
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                key: {{type: string, description: k}}
                mode: {{type: string, enum: [a, b], description: m}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  fetch: {{type: string, description: f}}
"##
        ))
        .unwrap()
}

fn findings(job_extra: &str) -> Vec<String> {
    lint(&spec(job_extra))
        .iter()
        .map(ToString::to_string)
        .filter(|f| f.contains("/x-job/"))
        .collect()
}

#[test]
fn create_fields_and_poll_urls_are_checked() {
    let bad = findings(
        "create-fields: {mode: z, key: k}, poll-url-pointer: /nowhere, poll-url-hosts: [eu.example.com, 'eu.example.com:8443']",
    );
    for needle in [
        "\"z\" is not a value \"mode\" allows",
        "\"key\" carries the key (x-auth)",
        "/nowhere points at no field of the create operation's 200 response schema",
        "\"eu.example.com:8443\" is not a bare host name",
    ] {
        assert!(
            bad.iter().any(|f| f.contains(needle)),
            "no finding contains {needle:?}:\n{bad:#?}"
        );
    }
    assert_eq!(bad.len(), 4, "{bad:#?}");
    let good = findings(
        "create-fields: {mode: a}, poll-url-pointer: /fetch, poll-url-hosts: [eu.example.com]",
    );
    assert!(good.is_empty(), "{good:#?}");
}
