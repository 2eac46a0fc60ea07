//! The "operation coverage" table: a row per operation of every spec with its example counts;
//! the provider's published spec, the official SDKs and live recordings fill their cells from
//! `parity.json`, `sdk.json` and cassettes, and say "no published spec compared", "none" and
//! "never" without them.

use img2img_report::coverage::{Sources, load_cassettes, table};
use img2img_report::parity::{Comparison, OperationCounts, ParityFile};
use img2img_report::sdk::SdkOutcome;
use img2img_specs::{ExampleKind, Provider, Spec};
use serde_json::json;

use super::report::sdk_run;

fn specs() -> Vec<&'static Spec> {
    Provider::all().map(Spec::embedded).collect()
}

/// A scratch directory, removed when the returned guard drops.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("report-coverage-{name}-"))
        .tempdir()
        .unwrap()
}

/// A comparison of ModelsLab's spec with a published v6 spec: one operation paired.
fn parity() -> ParityFile {
    let mut file = ParityFile::default();
    file.record(Comparison {
        provider: "modelslab".into(),
        ours: "specs/modelslab.yaml".into(),
        theirs_file: "v6.openapi.json".into(),
        theirs_title: "ModelsLab v6".into(),
        theirs_version: "6.0.0".into(),
        compared_at: "2025-05-06T07:08:09Z".into(),
        operations: vec![OperationCounts {
            operation: "create_img2img_v6".into(),
            theirs: "POST /img2img".into(),
            compared: 87,
            agree: 16,
            kept: 5,
            open: 66,
        }],
        only_ours: vec!["create_img2img".into()],
        only_theirs: vec!["POST /fetch".into()],
    });
    file
}

/// A cassette as the harness writes it (`conformance/harness/src/cassette.rs`).
fn cassette(provider: &str, recorded_at: &str, requests: &[(&str, &str)]) -> String {
    let interactions: Vec<_> = requests
        .iter()
        .map(|(method, path)| {
            json!({
                "request": {"method": method, "path": path, "body": null},
                "response": {"status": 200, "headers": [], "body": {}, "body_base64": null}
            })
        })
        .collect();
    json!({"provider": provider, "recorded_at": recorded_at, "interactions": interactions})
        .to_string()
}

#[test]
fn every_operation_has_a_row_with_its_example_counts_and_nothing_else_without_sources() {
    let specs = specs();
    let coverage = table(&specs, &Sources::default());
    let operations: usize = specs.iter().map(|s| s.operations().len()).sum();
    assert_eq!(coverage.rows.len(), operations);
    for spec in &specs {
        let provider = &spec.extensions().provider.id;
        for op in spec.operations() {
            let row = coverage
                .rows
                .iter()
                .find(|r| &r.provider == provider && r.operation == op.id)
                .unwrap_or_else(|| panic!("{provider} {} has no row", op.id));
            let examples: Vec<_> = spec
                .examples()
                .into_iter()
                .filter(|e| e.operation == op.id)
                .collect();
            let requests = examples
                .iter()
                .filter(|e| e.kind == ExampleKind::Request && !e.docs_only)
                .count();
            assert_eq!(row.examples.request, requests, "{provider} {}", op.id);
            assert_eq!(
                row.examples.request + row.examples.response + row.examples.docs_only,
                examples.len()
            );
            assert!(row.published.is_empty());
            assert_eq!(
                row.published_note.as_deref(),
                Some("no published spec compared")
            );
            assert!(row.sdks.is_empty() && row.live.is_none());
        }
        let create = &spec.extensions().job.create;
        let row = coverage
            .rows
            .iter()
            .find(|r| &r.provider == provider && &r.operation == create)
            .unwrap();
        assert_eq!(row.role.as_deref(), Some("create"));
        assert!(
            row.examples.request > 0,
            "{provider}: its create has examples"
        );
    }
}

#[test]
fn published_specs_sdks_and_cassettes_fill_their_cells() {
    let guard = scratch("sources");
    let dir = guard.path();
    std::fs::write(
        dir.join("novita.json"),
        cassette(
            "novita",
            "2025-06-01T12:00:00Z",
            &[
                ("POST", "/v3/async/img2img"),
                ("GET", "/v3/async/task-result?task_id=abc"),
                ("GET", "/v3/async/task-result?task_id=abc"),
                ("GET", "https://cdn.example/image.png"),
            ],
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("novita-older.json"),
        cassette(
            "novita",
            "2024-01-01T00:00:00Z",
            &[("POST", "/v3/async/img2img")],
        ),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a cassette").unwrap();
    let recordings = load_cassettes(dir).unwrap();
    assert_eq!(recordings.len(), 2);
    let (parity, sdks) = (parity(), sdk_run());
    let coverage = table(
        &specs(),
        &Sources {
            parity: Some(&parity),
            parity_source: "target/conformance/parity.json",
            sdks: Some(&sdks),
            sdk_source: "target/conformance/sdk.json",
            recordings: &recordings,
            cassette_source: "cassettes",
        },
    );
    let row = |provider: &str, operation: &str| {
        coverage
            .rows
            .iter()
            .find(|r| r.provider == provider && r.operation == operation)
            .unwrap_or_else(|| panic!("{provider} {operation}"))
    };

    let v6 = row("modelslab", "create_img2img_v6");
    assert_eq!(v6.published.len(), 1);
    let p = &v6.published[0];
    assert_eq!(
        (p.compared, p.agree, p.kept, p.open, p.date.as_str()),
        (87, 16, 5, 66, "2025-05-06")
    );
    assert_eq!(p.spec, "ModelsLab v6 6.0.0 (v6.openapi.json)");
    assert_eq!(
        row("modelslab", "create_img2img").published_note.as_deref(),
        Some("not in ModelsLab v6 6.0.0 (v6.openapi.json)")
    );
    assert_eq!(
        row("novita", "create_img2img").published_note.as_deref(),
        Some("no published spec compared")
    );

    // novita-client records the operations it reached; modelslab-py does not, so it is shown,
    // assumed, on the docs' create and result only.
    let novita = row("novita", "create_img2img");
    assert_eq!(novita.sdks.len(), 1);
    assert_eq!(novita.sdks[0].sdk, "novita-client");
    assert!(!novita.sdks[0].assumed);
    assert_eq!(novita.sdks[0].outcome, SdkOutcome::Works);
    let modelslab = Spec::embedded(Provider::named("modelslab")).extensions();
    for (operation, shown) in [
        (modelslab.job.create.as_str(), true),
        (modelslab.job.result.as_str(), true),
        ("create_img2img_v6", false),
    ] {
        let sdks = &row("modelslab", operation).sdks;
        assert_eq!(!sdks.is_empty(), shown, "{operation}");
        assert!(
            sdks.iter()
                .all(|s| s.assumed && s.outcome == SdkOutcome::Fails)
        );
    }

    // The latest cassette that reached the operation; the query does not matter.
    let live = novita.live.as_ref().unwrap();
    assert_eq!((live.date.as_str(), live.exchanges), ("2025-06-01", 1));
    let result = row("novita", "get_task_result").live.as_ref().unwrap();
    assert_eq!(result.exchanges, 2);
    assert!(row("modelslab", "create_img2img").live.is_none());

    // Laid out in Markdown and HTML.
    let mut report = img2img_report::build(&specs(), None, "results.json").unwrap();
    report.coverage = coverage.clone();
    let md = img2img_report::markdown::render(&report);
    for needle in [
        "## Operation coverage",
        "agrees 16 of 87 fields, 5 kept, 66 open (ModelsLab v6 6.0.0 (v6.openapi.json) `POST /img2img`, 2025-05-06)",
        "`novita-client` 0.7.1 ✅ works",
        "(assumed)",
        "2025-06-01 (1 exchanges)",
        "never",
        "no published spec compared",
    ] {
        assert!(md.contains(needle), "no {needle:?} in:\n{md}");
    }
    let html = img2img_report::html::render(&report);
    for needle in [
        "<section id=\"coverage\">",
        "16 of 87 agree",
        "5 kept on purpose · 66 open",
        "(operations not recorded)",
        "href=\"#coverage\"",
    ] {
        assert!(html.contains(needle), "no {needle:?} in the HTML");
    }
}

#[test]
fn a_file_that_is_not_a_cassette_is_an_error_naming_it_and_no_folder_is_none() {
    let guard = scratch("bad");
    let dir = guard.path();
    assert!(load_cassettes(&dir.join("missing")).unwrap().is_empty());
    std::fs::write(dir.join("broken.json"), "{\"provider\": 3}").unwrap();
    let error = load_cassettes(dir).unwrap_err().to_string();
    assert!(error.contains("broken.json"), "{error}");
}
