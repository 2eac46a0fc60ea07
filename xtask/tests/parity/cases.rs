//! The comparison as a library, on the fixtures: our spec (`ours.yaml`) against the provider's,
//! published as OpenAPI 3.1 JSON (`theirs-3.1.json`) and as OpenAPI 3.0 YAML (`theirs-3.0.yaml`).

use img2img_specs::Spec;
use img2img_specs::parity::Facet;
use serde_json::{Value, json};
use xtask::diff::parity::{MatchedBy, ParityReport, Published, Verdict, compare};

use super::edit::{Edit, remove, set};

const OURS: &str = include_str!("../fixtures/parity/ours.yaml");
const THEIRS_31: &str = include_str!("../fixtures/parity/theirs-3.1.json");
const THEIRS_30: &str = include_str!("../fixtures/parity/theirs-3.0.yaml");

/// Our fixture with `edits` applied.
fn ours(edits: &[Edit]) -> Spec {
    let mut document: Value = Spec::parse(OURS).unwrap().document().clone();
    for edit in edits {
        edit.apply(&mut document);
    }
    Spec::from_document(document).unwrap()
}

fn theirs(text: &str) -> Published {
    Published::parse(text, "theirs").unwrap()
}

fn report(ours: &Spec, theirs: &Published) -> ParityReport {
    compare(ours, "ours", theirs).unwrap()
}

/// `(field, verdict, facets that differ)` of one of our operations, in the report's order.
fn verdicts(report: &ParityReport, operation: &str) -> Vec<(String, Verdict, Vec<Facet>)> {
    let op = report
        .operations
        .iter()
        .find(|op| op.ours.id == operation)
        .unwrap_or_else(|| panic!("{operation} was not compared"));
    op.fields
        .iter()
        .map(|f| {
            (
                f.name(),
                f.verdict,
                f.differences.iter().map(|d| d.facet).collect(),
            )
        })
        .collect()
}

/// The verdict on one field, and the facets that differ.
fn verdict(report: &ParityReport, operation: &str, field: &str) -> (Verdict, Vec<Facet>) {
    verdicts(report, operation)
        .into_iter()
        .find(|(name, _, _)| name == field)
        .map(|(_, v, f)| (v, f))
        .unwrap_or_else(|| panic!("{operation}: no field {field}"))
}

#[test]
fn every_field_of_the_create_call_gets_its_verdict() {
    use Facet::*;
    use Verdict::*;
    let report = report(&ours(&[]), &theirs(THEIRS_31));
    let expected: Vec<(&str, Verdict, Vec<Facet>)> = vec![
        ("request images", Open, vec![Required]),
        ("request negative_prompt", Open, vec![Presence]),
        ("request ip_adapter", Kept, vec![Presence]),
        ("request safety", Kept, vec![Type, Enum, Default]),
        ("request steps", Kept, vec![Range]),
        ("response 422", Kept, vec![Presence]),
        ("response 429", Kept, vec![Presence]),
        ("request guidance", Agree, vec![]),
        ("request images[]", Agree, vec![]),
        ("request mode", Agree, vec![]),
        ("request output_format", Agree, vec![]),
        ("request prompt", Agree, vec![]),
        ("request seed", Agree, vec![]),
        ("request strength", Agree, vec![]),
        ("request webhook_url", Agree, vec![]),
        ("request width", Agree, vec![]),
        ("response 200 id", Agree, vec![]),
        ("response 200 polling_url", Agree, vec![]),
    ];
    let expected: Vec<(String, Verdict, Vec<Facet>)> = expected
        .into_iter()
        .map(|(n, v, f)| (n.to_owned(), v, f))
        .collect();
    assert_eq!(verdicts(&report, "create_edit"), expected);
    let op = &report.operations[0];
    assert_eq!(
        (
            op.counts.compared,
            op.counts.agree,
            op.counts.kept,
            op.counts.open
        ),
        (18, 11, 5, 2)
    );
    let total = report.counts;
    assert_eq!(
        (total.compared, total.agree, total.kept, total.open),
        (41, 28, 8, 5)
    );
}

#[test]
fn openapi_3_1_json_and_3_0_yaml_of_one_api_give_the_same_verdicts() {
    let ours = ours(&[]);
    let (a, b) = (
        report(&ours, &theirs(THEIRS_31)),
        report(&ours, &theirs(THEIRS_30)),
    );
    assert_eq!(a.operations, b.operations);
    assert_eq!(a.counts, b.counts);
    assert_eq!(
        (a.theirs_openapi.as_str(), b.theirs_openapi.as_str()),
        ("3.1.0", "3.0.3")
    );
    // What 3.1 writes its own way, read as 3.0 reads it: `type: [x, "null"]`, a numeric
    // `exclusiveMinimum`, `const`, `examples` arrays, `$ref` with a `default` beside it.
    for field in [
        "request seed",
        "request strength",
        "request mode",
        "request prompt",
        "request output_format",
        "request webhook_url",
        "request width",
    ] {
        assert_eq!(
            verdict(&a, "create_edit", field).0,
            Verdict::Agree,
            "{field}"
        );
    }
}

#[test]
fn a_difference_without_its_mark_is_open_and_a_mark_on_other_facets_does_not_keep_it() {
    let steps = "/components/schemas/EditRequest/properties/steps/x-parity";
    let unmarked = report(&ours(&[remove(steps)]), &theirs(THEIRS_31));
    assert_eq!(
        verdict(&unmarked, "create_edit", "request steps"),
        (Verdict::Open, vec![Facet::Range])
    );
    let other_facet = report(
        &ours(&[set(
            "/components/schemas/EditRequest/properties/steps/x-parity/facets",
            json!(["default"]),
        )]),
        &theirs(THEIRS_31),
    );
    assert_eq!(
        verdict(&other_facet, "create_edit", "request steps").0,
        Verdict::Open
    );
    // A second difference beside the kept one opens the field again.
    let wider = report(
        &ours(&[set(
            "/components/schemas/EditRequest/properties/steps/default",
            json!(30),
        )]),
        &theirs(THEIRS_31),
    );
    assert_eq!(
        verdict(&wider, "create_edit", "request steps"),
        (Verdict::Open, vec![Facet::Range, Facet::Default])
    );
    let omitted = "/components/schemas/EditRequest/x-parity/omitted/ip_adapter";
    let unmarked = report(&ours(&[remove(omitted)]), &theirs(THEIRS_31));
    assert_eq!(
        verdict(&unmarked, "create_edit", "request ip_adapter").0,
        Verdict::Open
    );
    let status = "/paths/~1api~1v1~1edit/post/responses/429/x-parity";
    let unmarked = report(&ours(&[remove(status)]), &theirs(THEIRS_31));
    assert_eq!(
        verdict(&unmarked, "create_edit", "response 429").0,
        Verdict::Open
    );
}

#[test]
fn a_mark_whose_difference_is_gone_is_reported_stale() {
    let report = report(&ours(&[]), &theirs(THEIRS_31));
    let stale: Vec<String> = report.operations[0]
        .fields
        .iter()
        .filter(|f| f.stale_mark)
        .map(|f| f.name())
        .collect();
    assert_eq!(stale, ["request guidance"]);
}

#[test]
fn the_kept_reason_and_source_come_with_the_field() {
    let report = report(&ours(&[]), &theirs(THEIRS_31));
    let safety = report.operations[0]
        .fields
        .iter()
        .find(|f| f.name() == "request safety")
        .unwrap();
    let kept = safety.kept.as_ref().unwrap();
    assert_eq!(kept.source, "https://example.test/sdk");
    assert!(kept.kept.contains("yes"), "{}", kept.kept);
    let enumeration = safety
        .differences
        .iter()
        .find(|d| d.facet == Facet::Enum)
        .unwrap();
    assert_eq!(enumeration.ours, Some(json!(["no", "yes"])));
    assert_eq!(enumeration.theirs, Some(json!("any")));
}

#[test]
fn operations_pair_by_mark_by_path_under_the_base_and_by_suffix() {
    let report = report(&ours(&[]), &theirs(THEIRS_31));
    let pairs: Vec<(&str, &str, MatchedBy)> = report
        .operations
        .iter()
        .map(|op| (op.ours.id.as_str(), op.theirs.path.as_str(), op.matched_by))
        .collect();
    assert_eq!(
        pairs,
        [
            ("create_edit", "/v1/edit", MatchedBy::Path),
            ("create_edit_legacy", "/v0/edit", MatchedBy::Mark),
            ("get_result", "/v1/result/{id}", MatchedBy::Path),
        ]
    );
    // Their path parameter `id` is our `task_id`: it agrees, it is not on one side only.
    assert_eq!(
        verdict(&report, "get_result", "path task_id").0,
        Verdict::Agree
    );
    let only_ours: Vec<&str> = report.only_ours.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(only_ours, ["ping", "create_edit_v2"]);
    let only_theirs: Vec<&str> = report.only_theirs.iter().map(|o| o.path.as_str()).collect();
    assert_eq!(only_theirs, ["/v1/upscale"]);
    assert!(report.notes.is_empty(), "{:?}", report.notes);

    // No server path: `/v1/result/{id}` ends exactly one of our paths; `/v1/edit` ends one too.
    let bare = THEIRS_31.replace("https://api.example.test/api", "https://api.example.test");
    let report = self::report(&ours(&[]), &theirs(&bare));
    let by: Vec<(&str, MatchedBy)> = report
        .operations
        .iter()
        .map(|op| (op.ours.id.as_str(), op.matched_by))
        .collect();
    assert_eq!(
        by,
        [
            ("create_edit", MatchedBy::Suffix),
            ("create_edit_legacy", MatchedBy::Mark),
            ("get_result", MatchedBy::Suffix),
        ]
    );

    // `/edit` ends two of ours: no guess, a note saying how to pair it.
    let ambiguous = bare.replace("\"/v1/edit\"", "\"/edit\"");
    let report = self::report(&ours(&[]), &theirs(&ambiguous));
    assert!(
        report
            .operations
            .iter()
            .all(|op| op.ours.id != "create_edit")
    );
    assert!(report.only_theirs.iter().any(|o| o.path == "/edit"));
    assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
    assert!(
        report.notes[0].contains("x-parity.operation"),
        "{}",
        report.notes[0]
    );

    // A mark naming nothing of theirs is said, and the path decides.
    let wrong = report_with_mark("no_such_operation");
    assert!(
        wrong.notes[0].contains("no_such_operation"),
        "{:?}",
        wrong.notes
    );
    // A mark may name their method and path instead of their operationId.
    let by_route = report_with_mark("POST /v0/edit");
    assert!(
        by_route
            .operations
            .iter()
            .any(|op| op.ours.id == "create_edit_legacy" && op.matched_by == MatchedBy::Mark)
    );
}

fn report_with_mark(name: &str) -> ParityReport {
    report(
        &ours(&[set(
            "/paths/~1api~1v1~1edit-legacy/post/x-parity/operation",
            json!(name),
        )]),
        &theirs(THEIRS_31),
    )
}

#[test]
fn a_malformed_mark_is_an_error_naming_the_key() {
    let bad = ours(&[set(
        "/components/schemas/EditRequest/properties/steps/x-parity/facets",
        json!(["width"]),
    )]);
    let error = compare(&bad, "ours", &theirs(THEIRS_31))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("x-parity") && error.contains("facets"),
        "{error}"
    );
}

#[test]
fn a_spec_against_itself_agrees_everywhere() {
    let text = OURS;
    let report = report(&ours(&[]), &theirs(text));
    assert_eq!(report.counts.open, 0);
    assert_eq!(report.counts.kept, 0);
    assert_eq!(report.counts.agree, report.counts.compared);
    assert!(report.only_ours.is_empty() && report.only_theirs.is_empty());
}

#[test]
fn a_schema_that_cannot_be_inlined_costs_its_pair_only() {
    let mut document: Value = serde_json::from_str(THEIRS_31).unwrap();
    document["components"]["schemas"]["Result"]["properties"]["parent"] =
        json!({"$ref": "#/components/schemas/Result"});
    let recursive = Published::parse(&document.to_string(), "theirs").unwrap();
    let report = report(&ours(&[]), &recursive);
    let compared: Vec<&str> = report
        .operations
        .iter()
        .map(|o| o.ours.id.as_str())
        .collect();
    assert_eq!(compared, ["create_edit", "create_edit_legacy"]);
    assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
    assert!(
        report.notes[0].contains("get_result") && report.notes[0].contains("recursive"),
        "{}",
        report.notes[0]
    );
}

#[test]
fn fields_beneath_a_field_only_we_have_share_its_mark() {
    let extra = json!({
        "type": "object",
        "description": "Only ours.",
        "x-parity": {"kept": "Only ours, on purpose.", "source": "https://example.com/why", "facets": ["presence"]},
        "properties": {
            "a": {"type": "string", "description": "A."},
            "b": {
                "type": "object",
                "description": "B.",
                "properties": {"c": {"type": "integer", "description": "C."}}
            }
        }
    });
    let property = "/components/schemas/EditRequest/properties/extra";
    let marked = report(&ours(&[set(property, extra.clone())]), &theirs(THEIRS_31));
    for field in ["extra", "extra.a", "extra.b", "extra.b.c"] {
        let field = format!("request {field}");
        assert_eq!(
            verdict(&marked, "create_edit", &field),
            (Verdict::Kept, vec![Facet::Presence]),
            "{field}"
        );
    }
    let unmarked = report(
        &ours(&[
            set(property, extra),
            remove("/components/schemas/EditRequest/properties/extra/x-parity"),
        ]),
        &theirs(THEIRS_31),
    );
    for field in ["extra", "extra.a", "extra.b.c"] {
        let field = format!("request {field}");
        assert_eq!(
            verdict(&unmarked, "create_edit", &field).0,
            Verdict::Open,
            "{field}"
        );
    }
}
