//! The comparison as a library: each case edits the base spec and names every change the edit
//! must yield, breaking ones first. The reverse edit must yield changes too.

use img2img_specs::Spec;
use serde_json::{Value, json};
use xtask::diff::{Class, Kind, compare_specs};

use super::edit::{Edit, remove, set};
use Class::{Breaking, NonBreaking};
use Kind::*;

/// The base spec every case edits.
const BASE: &str = include_str!("../fixtures/diff/base.yaml");

/// A path under the create operation, as the diff names it.
macro_rules! create {
    ($rest:literal) => {
        concat!("#/paths/~1v3~1async~1img2img/post", $rest)
    };
}

/// A path under the create operation's request body schema.
macro_rules! body {
    ($rest:literal) => {
        concat!(
            "#/paths/~1v3~1async~1img2img/post/requestBody/content/application~1json/schema",
            $rest
        )
    };
}

/// A path under the task operation.
macro_rules! task {
    ($rest:literal) => {
        concat!("#/paths/~1v3~1task~1{id}/get", $rest)
    };
}

/// A path under the task operation's 200 response schema.
macro_rules! task_body {
    ($rest:literal) => {
        concat!(
            "#/paths/~1v3~1task~1{id}/get/responses/200/content/application~1json/schema",
            $rest
        )
    };
}

/// One edit of the base spec and what the diff must say about it.
struct Case {
    name: &'static str,
    edits: Vec<Edit>,
    expect: Vec<(Kind, Class, &'static str)>,
}

fn case<const E: usize, const X: usize>(
    name: &'static str,
    edits: [Edit; E],
    expect: [(Kind, Class, &'static str); X],
) -> Case {
    Case {
        name,
        edits: edits.into(),
        expect: expect.into(),
    }
}

/// Every case: its name and edits on the first line (pointers into the YAML document), then the
/// changes it must yield (paths as the diff walks them from each operation).
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    vec![
        // Prose is not a contract.
        case("a description", [set("/components/schemas/Request/properties/seed/description", json!("Random when omitted."))],
            []),
        case("a summary", [set("/paths/~1v3~1task~1{id}/get/summary", json!("Reads a task."))],
            []),

        // Operations.
        case("operation removed", [remove("/paths/~1v3~1task~1{id}")],
            [(OperationRemoved, Breaking, task!(""))]),
        case("operation added", [set("/paths/~1v3~1task~1{id}/delete", json!({"operationId": "cancel_task", "responses": {"204": {"description": "Cancelled."}}}))],
            [(OperationAdded, NonBreaking, "#/paths/~1v3~1task~1{id}/delete")]),
        case("operation renamed", [set("/paths/~1v3~1async~1img2img/post/operationId", json!("create"))],
            [(OperationRenamed, Breaking, create!("/operationId"))]),

        // Parameters.
        case("parameter removed", [remove("/paths/~1v3~1task~1{id}/get/parameters/1")],
            [(ParameterRemoved, Breaking, task!("/parameters/1"))]),
        case("optional parameter added", [set("/paths/~1v3~1task~1{id}/get/parameters/-", json!({"name": "lang", "in": "query", "schema": {"type": "string"}}))],
            [(ParameterAdded, NonBreaking, task!("/parameters/2"))]),
        case("required parameter added", [set("/paths/~1v3~1task~1{id}/get/parameters/-", json!({"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string"}}))],
            [(ParameterAdded, Breaking, task!("/parameters/2"))]),
        case("parameter made required", [set("/paths/~1v3~1task~1{id}/get/parameters/1/required", json!(true))],
            [(MadeRequired, Breaking, task!("/parameters/1/required"))]),
        case("parameter made optional", [set("/paths/~1v3~1task~1{id}/get/parameters/0/required", json!(false))],
            [(MadeOptional, NonBreaking, task!("/parameters/0/required"))]),
        case("parameter type changed", [set("/paths/~1v3~1task~1{id}/get/parameters/1/schema/type", json!("string"))],
            [(TypeChanged, Breaking, task!("/parameters/1/schema/type"))]),

        // Request bodies.
        case("request body removed", [remove("/paths/~1v3~1async~1img2img/post/requestBody")],
            [(RequestBodyRemoved, Breaking, create!("/requestBody"))]),
        case("optional request body added", [set("/paths/~1v3~1task~1{id}/get/requestBody", json!({"content": {"application/json": {"schema": {"type": "object"}}}}))],
            [(RequestBodyAdded, NonBreaking, task!("/requestBody"))]),
        case("required request body added", [set("/paths/~1v3~1task~1{id}/get/requestBody", json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}}))],
            [(RequestBodyAdded, Breaking, task!("/requestBody"))]),
        case("request body made optional", [set("/paths/~1v3~1async~1img2img/post/requestBody/required", json!(false))],
            [(MadeOptional, NonBreaking, create!("/requestBody/required"))]),

        // Responses.
        case("response added", [set("/paths/~1v3~1task~1{id}/get/responses/404", json!({"description": "No such task."}))],
            [(ResponseAdded, NonBreaking, task!("/responses/404"))]),
        case("response removed", [remove("/paths/~1v3~1async~1img2img/post/responses/200")],
            [(ResponseRemoved, Breaking, create!("/responses/200"))]),
        case("response content dropped", [remove("/paths/~1v3~1task~1{id}/get/responses/200/content")],
            [(TypeChanged, Breaking, task!("/responses/200"))]),

        // Request fields.
        case("request field removed", [remove("/components/schemas/Request/properties/seed")],
            [(FieldRemoved, Breaking, body!("/properties/seed"))]),
        case("optional field added", [set("/components/schemas/Request/properties/steps", json!({"type": "integer"}))],
            [(FieldAdded, NonBreaking, body!("/properties/steps"))]),
        case("required field added", [set("/components/schemas/Request/properties/steps", json!({"type": "integer"})), set("/components/schemas/Request/required/-", json!("steps"))],
            [(FieldAdded, Breaking, body!("/properties/steps"))]),
        case("field made required", [set("/components/schemas/Request/required/-", json!("width"))],
            [(MadeRequired, Breaking, body!("/properties/width"))]),
        case("field made optional", [set("/components/schemas/Request/required", json!([]))],
            [(MadeOptional, NonBreaking, body!("/properties/prompt"))]),
        case("a required name with no property", [set("/components/schemas/Request/required/-", json!("ghost"))],
            [(MadeRequired, Breaking, body!("/required"))]),
        case("field type changed", [set("/components/schemas/Request/properties/seed/type", json!("string"))],
            [(TypeChanged, Breaking, body!("/properties/seed/type"))]),
        case("field made nullable", [set("/components/schemas/Request/properties/seed/nullable", json!(true))],
            [(TypeChanged, Breaking, body!("/properties/seed/type"))]),
        case("default changed", [set("/components/schemas/Request/properties/width/default", json!(1024))],
            [(DefaultChanged, Breaking, body!("/properties/width/default"))]),

        // Request enums.
        case("enum value added", [set("/components/schemas/Request/properties/sampler/enum/-", json!("heun"))],
            [(EnumValueAdded, NonBreaking, body!("/properties/sampler/enum/2"))]),
        case("enum value removed", [remove("/components/schemas/Request/properties/sampler/enum/1")],
            [(EnumValueRemoved, Breaking, body!("/properties/sampler/enum/1"))]),
        case("enum dropped", [remove("/components/schemas/Request/properties/sampler/enum")],
            [(RangeWidened, NonBreaking, body!("/properties/sampler/enum"))]),
        case("enum imposed", [set("/components/schemas/Request/properties/seed/enum", json!([1, 2]))],
            [(RangeNarrowed, Breaking, body!("/properties/seed/enum"))]),

        // Request bounds.
        case("maximum lowered", [set("/components/schemas/Request/properties/width/maximum", json!(1024))],
            [(RangeNarrowed, Breaking, body!("/properties/width/maximum"))]),
        case("minimum raised", [set("/components/schemas/Request/properties/width/minimum", json!(256))],
            [(RangeNarrowed, Breaking, body!("/properties/width/minimum"))]),
        case("maximum raised", [set("/components/schemas/Request/properties/width/maximum", json!(4096))],
            [(RangeWidened, NonBreaking, body!("/properties/width/maximum"))]),
        case("minimum dropped", [remove("/components/schemas/Request/properties/width/minimum")],
            [(RangeWidened, NonBreaking, body!("/properties/width/minimum"))]),
        case("maximum made exclusive", [set("/components/schemas/Request/properties/width/exclusiveMaximum", json!(true))],
            [(RangeNarrowed, Breaking, body!("/properties/width/exclusiveMaximum")),
             (RangeWidened, NonBreaking, body!("/properties/width/maximum"))]),
        case("maxItems raised", [set("/components/schemas/Request/properties/tags/maxItems", json!(8))],
            [(RangeWidened, NonBreaking, body!("/properties/tags/maxItems"))]),
        case("minItems imposed", [set("/components/schemas/Request/properties/tags/minItems", json!(1))],
            [(RangeNarrowed, Breaking, body!("/properties/tags/minItems"))]),
        case("x-max-count imposed", [set("/components/schemas/Request/properties/tags/x-max-count", json!(2))],
            [(RangeNarrowed, Breaking, body!("/properties/tags/x-max-count"))]),
        case("x-dimensions imposed", [set("/components/schemas/Request/properties/width/x-dimensions", json!({"minimum": 64, "maximum": 4096}))],
            [(RangeNarrowed, Breaking, body!("/properties/width/x-dimensions/minimum")),
             (RangeNarrowed, Breaking, body!("/properties/width/x-dimensions/maximum"))]),

        // Arrays, branches, open objects.
        case("item maxLength lowered", [set("/components/schemas/Request/properties/tags/items/maxLength", json!(10))],
            [(RangeNarrowed, Breaking, body!("/properties/tags/items/maxLength"))]),
        case("items retyped", [set("/components/schemas/Request/properties/tags/items", json!({"type": "integer"}))],
            [(TypeChanged, Breaking, body!("/properties/tags/items/type")),
             (RangeWidened, NonBreaking, body!("/properties/tags/items/maxLength"))]),
        case("items dropped", [remove("/components/schemas/Request/properties/tags/items")],
            [(RangeWidened, NonBreaking, body!("/properties/tags/items"))]),
        case("oneOf branch added", [set("/components/schemas/Request/properties/strength/oneOf/-", json!({"type": "boolean"}))],
            [(TypeChanged, Breaking, body!("/properties/strength/oneOf"))]),
        case("oneOf branch narrowed", [set("/components/schemas/Request/properties/strength/oneOf/0/maximum", json!(0.5))],
            [(RangeNarrowed, Breaking, body!("/properties/strength/oneOf/0/maximum"))]),
        case("oneOf branch enum value removed", [remove("/components/schemas/Request/properties/strength/oneOf/1/enum/1")],
            [(EnumValueRemoved, Breaking, body!("/properties/strength/oneOf/1/enum/1"))]),
        case("additionalProperties opened", [set("/components/schemas/Request/additionalProperties", json!(true))],
            [(RangeWidened, NonBreaking, body!("/additionalProperties"))]),
        case("additionalProperties given a schema", [set("/components/schemas/Request/additionalProperties", json!({"type": "string"}))],
            [(RangeWidened, NonBreaking, body!("/additionalProperties"))]),

        // Conditions, constraints, annotations.
        case("made required under a condition", [set("/components/schemas/Request/x-required-if/width", json!({"sampler": "euler"}))],
            [(MadeRequired, Breaking, body!("/x-required-if/width"))]),
        case("condition dropped", [remove("/components/schemas/Request/x-required-if")],
            [(MadeOptional, NonBreaking, body!("/x-required-if/seed"))]),
        case("condition changed", [set("/components/schemas/Request/x-required-if/seed/sampler", json!("euler"))],
            [(ConstraintChanged, Breaking, body!("/x-required-if/seed"))]),
        case("pattern imposed", [set("/components/schemas/Request/properties/prompt/pattern", json!("^a"))],
            [(ConstraintChanged, Breaking, body!("/properties/prompt/pattern"))]),
        case("format changed inside a $ref", [set("/components/schemas/Webhook/properties/url/format", json!("uri-reference"))],
            [(ConstraintChanged, Breaking, body!("/properties/webhook/properties/url/format"))]),
        case("field inside a $ref made optional", [set("/components/schemas/Webhook/required", json!([]))],
            [(MadeOptional, NonBreaking, body!("/properties/webhook/properties/url"))]),
        case("x-feature beside a $ref changed", [set("/components/schemas/Request/properties/webhook/x-feature", json!("callback"))],
            [(AnnotationChanged, NonBreaking, body!("/properties/webhook/x-feature"))]),
        case("x-feature beside a $ref removed", [remove("/components/schemas/Request/properties/webhook/x-feature")],
            [(AnnotationChanged, NonBreaking, body!("/properties/webhook/x-feature"))]),
        case("x-unit added", [set("/components/schemas/Request/properties/width/x-unit", json!("px"))],
            [(AnnotationChanged, NonBreaking, body!("/properties/width/x-unit"))]),

        // Response fields: what the client receives.
        case("response field added", [set("/components/schemas/Task/properties/eta", json!({"type": "integer"}))],
            [(FieldAdded, NonBreaking, task_body!("/properties/eta"))]),
        case("response field removed", [remove("/components/schemas/Task/properties/image_url")],
            [(FieldRemoved, Breaking, task_body!("/properties/image_url"))]),
        case("response field made optional", [remove("/components/schemas/Task/required/1")],
            [(MadeOptional, Breaking, task_body!("/properties/progress"))]),
        case("response field made required", [set("/components/schemas/Task/required/-", json!("image_url"))],
            [(MadeRequired, NonBreaking, task_body!("/properties/image_url"))]),
        case("response enum value added", [set("/components/schemas/Task/properties/status/enum/-", json!("cancelled"))],
            [(EnumValueAdded, Breaking, task_body!("/properties/status/enum/3"))]),
        case("response enum value removed", [remove("/components/schemas/Task/properties/status/enum/2")],
            [(EnumValueRemoved, Breaking, task_body!("/properties/status/enum/2"))]),
        case("response range narrowed", [set("/components/schemas/Task/properties/progress/maximum", json!(50))],
            [(RangeNarrowed, NonBreaking, task_body!("/properties/progress/maximum"))]),
        case("response range widened", [set("/components/schemas/Task/properties/progress/maximum", json!(1000))],
            [(RangeWidened, Breaking, task_body!("/properties/progress/maximum"))]),
        case("response additionalProperties closed", [set("/components/schemas/Task/additionalProperties", json!(false))],
            [(RangeNarrowed, NonBreaking, task_body!("/additionalProperties"))]),
        case("response default documented", [set("/components/schemas/Task/properties/progress/default", json!(0))],
            [(DefaultChanged, NonBreaking, task_body!("/properties/progress/default"))]),
        case("response field type changed", [set("/components/schemas/Task/properties/progress/type", json!("number"))],
            [(TypeChanged, Breaking, task_body!("/properties/progress/type"))]),

        // Document-level facts.
        case("default server", [set("/servers/0/url", json!("https://other.test"))],
            [(AnnotationChanged, NonBreaking, "#/servers/0/url")]),
        case("x-provider name", [set("/x-provider/name", json!("Other"))],
            [(AnnotationChanged, NonBreaking, "#/x-provider/name")]),
        case("x-auth prefix", [set("/x-auth/prefix", json!("Token "))],
            [(ClientBehaviourChanged, Breaking, "#/x-auth/prefix")]),
        case("x-job pending statuses", [set("/x-job/pending/-", json!("running"))],
            [(ClientBehaviourChanged, Breaking, "#/x-job/pending")]),
        case("x-job key added", [set("/x-job/eta-pointer", json!("/eta"))],
            [(AnnotationChanged, NonBreaking, "#/x-job/eta-pointer")]),
        case("output format removed", [set("/x-output/formats", json!([]))],
            [(EnumValueRemoved, Breaking, "#/x-output/formats/0")]),
        case("output format added", [set("/x-output/formats/-", json!("webp"))],
            [(EnumValueAdded, NonBreaking, "#/x-output/formats/1")]),
        case("default output format", [set("/x-output/default-format", json!("webp"))],
            [(DefaultChanged, Breaking, "#/x-output/default-format")]),
        case("inline base64 offered", [set("/x-output/inline-base64", json!(true))],
            [(RangeWidened, NonBreaking, "#/x-output/inline-base64")]),
        case("limit lowered", [set("/x-limits/max-input-bytes", json!(2048))],
            [(RangeNarrowed, Breaking, "#/x-limits/max-input-bytes")]),
        case("nested limit raised", [set("/x-limits/rate-limit/queued-requests", json!(10))],
            [(RangeWidened, NonBreaking, "#/x-limits/rate-limit/queued-requests")]),
        case("limit dropped", [remove("/x-limits/max-input-bytes")],
            [(RangeWidened, NonBreaking, "#/x-limits/max-input-bytes")]),
        case("limit added", [set("/x-limits/max-input-pixels", json!(2048))],
            [(RangeNarrowed, Breaking, "#/x-limits/max-input-pixels")]),

        // Several at once: breaking ones first, otherwise in document order.
        case("breaking changes lead", [
                set("/components/schemas/Request/properties/sampler/enum/-", json!("heun")),
                set("/components/schemas/Request/properties/seed/type", json!("string")),
                set("/components/schemas/Task/properties/eta", json!({"type": "integer"})),
                remove("/paths/~1v3~1task~1{id}/get/parameters/1"),
            ],
            [(TypeChanged, Breaking, body!("/properties/seed/type")),
             (ParameterRemoved, Breaking, task!("/parameters/1")),
             (EnumValueAdded, NonBreaking, body!("/properties/sampler/enum/2")),
             (FieldAdded, NonBreaking, task_body!("/properties/eta"))]),
    ]
}

fn base() -> Spec {
    Spec::parse(BASE).expect("the base spec parses")
}

/// (kind, class, path) of every change from `old` to `new`; each must explain itself.
fn changes(old: &Spec, new: &Spec) -> Vec<(Kind, Class, String)> {
    compare_specs(old, new)
        .expect("the schemas convert")
        .into_iter()
        .map(|c| {
            assert!(!c.explanation.is_empty(), "{c:?}");
            (c.kind, c.class, c.path)
        })
        .collect()
}

#[test]
fn each_edit_is_classed_as_expected() {
    let base = base();
    let mut failures = Vec::new();
    for case in cases() {
        let mut document: Value = base.document().clone();
        for edit in &case.edits {
            edit.apply(&mut document);
        }
        let edited = Spec::from_document(document)
            .unwrap_or_else(|e| panic!("{}: the edited spec does not parse: {e}", case.name));
        let expected: Vec<(Kind, Class, String)> = case
            .expect
            .iter()
            .map(|&(kind, class, path)| (kind, class, path.to_owned()))
            .collect();
        let found = changes(&base, &edited);
        if found != expected {
            failures.push(format!(
                "{}:\n  expected {expected:?}\n  found    {found:?}",
                case.name
            ));
        }
        // Undoing an edit is a change too (or, for prose, nothing either way).
        let undone = changes(&edited, &base);
        if undone.is_empty() != expected.is_empty() {
            failures.push(format!("{}: undoing it yields {undone:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_cases_cover_every_kind_of_change() {
    let covered: Vec<Kind> = cases()
        .iter()
        .flat_map(|c| c.expect.iter().map(|&(kind, ..)| kind))
        .collect();
    // A match without a wildcard: a new kind does not compile here until it is listed.
    let every = |kind: Kind| match kind {
        OperationRemoved
        | OperationAdded
        | OperationRenamed
        | ParameterRemoved
        | ParameterAdded
        | RequestBodyRemoved
        | RequestBodyAdded
        | ResponseRemoved
        | ResponseAdded
        | FieldRemoved
        | FieldAdded
        | MadeRequired
        | MadeOptional
        | EnumValueRemoved
        | EnumValueAdded
        | RangeNarrowed
        | RangeWidened
        | TypeChanged
        | DefaultChanged
        | ConstraintChanged
        | ClientBehaviourChanged
        | AnnotationChanged => kind,
    };
    let all = [
        OperationRemoved,
        OperationAdded,
        OperationRenamed,
        ParameterRemoved,
        ParameterAdded,
        RequestBodyRemoved,
        RequestBodyAdded,
        ResponseRemoved,
        ResponseAdded,
        FieldRemoved,
        FieldAdded,
        MadeRequired,
        MadeOptional,
        EnumValueRemoved,
        EnumValueAdded,
        RangeNarrowed,
        RangeWidened,
        TypeChanged,
        DefaultChanged,
        ConstraintChanged,
        ClientBehaviourChanged,
        AnnotationChanged,
    ];
    for kind in all.map(every) {
        assert!(covered.contains(&kind), "no case yields {kind:?}");
    }
}

#[test]
fn the_base_spec_against_itself_is_empty() {
    let base = base();
    assert_eq!(changes(&base, &base), vec![]);
}
