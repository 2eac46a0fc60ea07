use quote::ToTokens;
use serde_json::json;

use super::*;

/// `cargo test` fails while a spec changed without `cargo xtask codegen`.
#[test]
fn generated_clients_are_up_to_date() {
    if let Err(error) = run(Mode::Check) {
        panic!("{error:#}");
    }
}

fn shown(ty: &syn::Type) -> String {
    ty.to_token_stream().to_string()
}

/// A small document with each kind of input progenitor writes a setter for.
fn small_document() -> openapiv3::OpenAPI {
    let error = json!({"description": "error", "content": {"application/json": {"schema":
        {"type": "object", "properties": {"message": {"type": "string"}}}}}});
    serde_json::from_value(json!({
        "openapi": "3.0.3",
        "info": {"title": "Small", "version": "1"},
        "paths": {
            "/things/{thing-id}": {"post": {
                "operationId": "makeThing",
                "parameters": [
                    {"name": "thing-id", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "pageSize", "in": "query", "schema": {"type": "integer", "minimum": 1}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema":
                    {"$ref": "#/components/schemas/Thing"}}}},
                "responses": {
                    "200": {"description": "made", "content": {"application/json": {"schema":
                        {"$ref": "#/components/schemas/Thing"}}}},
                    "400": error
                }
            }},
            "/status": {"get": {
                "operationId": "status",
                "responses": {"204": {"description": "fine"}}
            }}
        },
        "components": {"schemas": {"Thing": {"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}}}}}
    }))
    .unwrap()
}

#[test]
fn the_types_of_each_operation_are_read_from_progenitors_builders() {
    let file = client::progenitor_output(&small_document()).unwrap();
    let found = shapes::operations(&file).unwrap();
    // progenitor's id is the spec's in snake case.
    let ids: Vec<&str> = found.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["make_thing", "status"]);

    let make = &found[0];
    assert_eq!(make.method, "make_thing");
    assert_eq!(make.builder, "MakeThing");
    let params: Vec<(String, String)> = make
        .params
        .iter()
        .map(|(setter, ty)| (setter.to_string(), shown(ty)))
        .collect();
    assert_eq!(
        params,
        [
            (
                "thing_id".to_owned(),
                ":: std :: string :: String".to_owned()
            ),
            (
                "page_size".to_owned(),
                ":: std :: num :: NonZeroU64".to_owned()
            ),
        ]
    );
    assert_eq!(
        make.body.as_ref().map(shown).as_deref(),
        Some("types :: Thing")
    );
    assert_eq!(shown(&make.success), "types :: Thing");
    assert_eq!(shown(&make.error), "types :: MakeThingResponse");

    let status = &found[1];
    assert!(status.params.is_empty() && status.body.is_none());
    assert_eq!(shown(&status.success), "()");
    assert_eq!(shown(&status.error), "()");
}

/// The string literals of the arms of the `match` in `fn name` of the operations module.
fn arms_of(file: &syn::File, name: &str) -> Vec<String> {
    use syn::visit::Visit;
    struct Arms(Vec<String>);
    impl<'ast> Visit<'ast> for Arms {
        fn visit_arm(&mut self, arm: &'ast syn::Arm) {
            let literal = |pat: &syn::Pat| match pat {
                syn::Pat::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            };
            match &arm.pat {
                syn::Pat::Tuple(t) => self.0.extend(t.elems.first().and_then(literal)),
                pat => self.0.extend(literal(pat)),
            }
        }
    }
    let mut arms = Arms(Vec::new());
    for item in &file.items {
        match item {
            syn::Item::Fn(f) if f.sig.ident == name => arms.visit_item_fn(f),
            syn::Item::Impl(block) => {
                for item in &block.items {
                    if let syn::ImplItem::Fn(f) = item
                        && f.sig.ident == name
                    {
                        arms.visit_impl_item_fn(f);
                    }
                }
            }
            _ => {}
        }
    }
    arms.0.dedup();
    arms.0
}

#[test]
fn a_copied_spec_with_new_operation_ids_gets_a_dispatch_covering_them() {
    let novita = Provider::named("novita");
    let (text, _) = project::load_spec(novita).unwrap();
    let text = text
        .replace("create_img2img", "acme_submit")
        .replace("get_task_result", "acme_status")
        .replace("/v3/async/", "/acme/v3/async/");
    let source = Source {
        id: "acme".into(),
        file: "acme.yaml".into(),
        spec: Spec::parse(&text).unwrap(),
        text,
    };
    let outputs = render(std::slice::from_ref(&source)).unwrap();
    let paths: Vec<String> = outputs
        .iter()
        .map(|o| o.path.display().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "generated/acme/Cargo.toml",
            "generated/acme/src/lib.rs",
            "generated/acme/src/operations.rs",
            "generated/registry/Cargo.toml",
            "generated/registry/src/lib.rs",
        ]
    );
    let operations: syn::File = syn::parse_file(&outputs[2].contents).unwrap();
    assert_eq!(arms_of(&operations, "call"), ["acme_status", "acme_submit"]);
    assert_eq!(
        arms_of(&operations, "round_trip"),
        ["acme_status", "acme_submit"]
    );
    assert!(
        outputs[2]
            .contents
            .contains("pub const OPERATION_IDS: &[&str] = &[\"acme_status\", \"acme_submit\"];"),
        "{}",
        outputs[2].contents
    );
    assert!(
        outputs[2]
            .contents
            .contains("input.param::<types::AcmeStatusTaskId>(\"task_id\")?"),
        "{}",
        outputs[2].contents
    );
    assert!(outputs[1].contents.contains("/acme/v3/async/img2img"));
    assert!(
        outputs[3]
            .contents
            .contains("img2img-acme-client = { path = \"../acme\" }")
    );
    assert!(outputs[4].contents.contains("img2img_acme_client::connect"));

    // The same input gives the same bytes.
    let again = render(std::slice::from_ref(&source)).unwrap();
    assert!(
        outputs
            .iter()
            .zip(&again)
            .all(|(a, b)| a.contents == b.contents)
    );
}
