use super::lint;
use img2img_specs::Spec;

const LINKED: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://example.com"}]
x-provider: {id: novita, name: N, model: m, docs: "https://example.com/docs", key-env: K}
x-auth: {in: header, name: Authorization, prefix: "", accepted-prefixes: [""]}
x-job: {create: create, result: result, style: poll, id-pointer: /id, status-pointer: /s, pending: [], succeeded: [], failed: [error]}
x-output: {formats: [png], default-format: png, inline-base64: false}
paths:
  /create:
    post:
      operationId: create
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {type: object, description: d, properties: {id: {type: string, description: i}}}
          links:
            good: {operationId: result, parameters: {query.task_id: '$response.body#/data/id'}}
            no_such_operation: {operationId: gone}
            no_such_parameter: {operationId: result, parameters: {job: '$response.body#/data/id'}}
            no_such_field: {operationId: result, parameters: {task_id: '$response.body#/data/uuid'}}
            not_an_expression: {operationId: result, parameters: {task_id: '$body.id'}}
            no_body: {operationId: result, requestBody: {id: '$response.body#/data/id'}}
  /result:
    get:
      operationId: result
      x-not-found: {status: 404, job-status: missing, colour: red, message: 7}
      parameters:
        - {name: task_id, in: query, required: true, schema: {type: string}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
"##;

#[test]
fn links_and_not_found_are_checked() {
    let spec = Spec::parse(LINKED).unwrap();
    let findings: Vec<String> = lint(&spec).iter().map(ToString::to_string).collect();
    for needle in [
        "link no_such_operation: operationId \"gone\" does not exist",
        "link no_such_parameter: result has no parameter \"job\"",
        "\"$response.body#/data/uuid\" points at no field of the 200 response's schema",
        "\"$body.id\" is not an OpenAPI runtime expression",
        "link no_body: result takes no request body",
        "HTTP 404 is not a documented response of result",
        "\"missing\" is not one of x-job.failed (error)",
        "unknown key \"colour\"",
        "7 is not a string",
    ] {
        assert!(
            findings.iter().any(|f| f.contains(needle)),
            "no finding contains {needle:?}:\n{findings:#?}"
        );
    }
    assert!(
        !findings.iter().any(|f| f.contains("links to x-job.result")),
        "the good link was not seen: {findings:#?}"
    );
    let links = spec.links("create");
    assert_eq!(links[0].name, "good");
    assert_eq!(
        links[0].parameters,
        vec![("task_id".into(), "$response.body#/data/id".into())]
    );
    let body = serde_json::json!({"data": {"id": "t-1"}});
    assert_eq!(
        img2img_specs::Link::resolve(&links[0].parameters[0].1, &body),
        Some(serde_json::json!("t-1"))
    );
    assert_eq!(spec.not_found("result").unwrap().status, 404);
}
