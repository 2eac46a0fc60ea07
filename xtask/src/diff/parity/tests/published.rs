use super::*;
use serde_json::json;

#[test]
fn the_server_path_is_the_base() {
    assert_eq!(
        base_path("https://modelslab.com/api/v6/images"),
        "/api/v6/images"
    );
    assert_eq!(base_path("https://api.bfl.ai"), "");
    assert_eq!(base_path("https://h/v1/"), "/v1");
    assert_eq!(base_path("/relative"), "/relative");
}

#[test]
fn ref_siblings_become_all_of_in_schemas_only() {
    let doc = json!({
        "paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/R", "description": "kept as is"}}}}},
        "components": {"schemas": {"S": {"properties": {
            "p": {"$ref": "#/components/schemas/T", "default": 3},
            "q": {"$ref": "#/components/schemas/T", "x-note": 1}
        }}}}
    });
    let out = rewrite_ref_siblings(doc, false);
    assert_eq!(
        out.pointer("/components/schemas/S/properties/p").unwrap(),
        &json!({"allOf": [{"$ref": "#/components/schemas/T"}], "default": 3})
    );
    assert_eq!(
        out.pointer("/components/schemas/S/properties/q/$ref"),
        Some(&json!("#/components/schemas/T"))
    );
    assert_eq!(
        out.pointer("/paths/~1a/get/responses/200/$ref"),
        Some(&json!("#/components/responses/R"))
    );
}

#[test]
fn only_openapi_3_is_read() {
    for (text, said) in [
        ("{\"swagger\": \"2.0\"}", "swagger = \"2.0\""),
        ("openapi: 4.0.0\n", "openapi = \"4.0.0\""),
        ("{[", "neither JSON nor YAML"),
    ] {
        let error = Published::parse(text, "x.json").unwrap_err().to_string();
        assert!(error.contains(said) && error.contains("x.json"), "{error}");
    }
    let yaml = Published::parse(
            "openapi: 3.1.0\ninfo: {title: T, version: '2'}\nservers: [{url: 'https://h/api'}]\npaths: {}\n",
            "t.yaml",
        )
        .unwrap();
    assert_eq!(
        (
            yaml.title.as_str(),
            yaml.version.as_str(),
            yaml.base_path.as_str()
        ),
        ("T", "2", "/api")
    );
}
