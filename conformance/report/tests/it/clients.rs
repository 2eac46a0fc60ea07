//! The "client behaviour" table: built from client grading results, one row per client ×
//! provider, failures named with their scenario and why; "not run" without results.

use img2img_report::clients::behaviour;
use img2img_report::results::{CheckResult, ClientRun, RunResults, Status, Target};
use img2img_specs::{Provider, Spec};

fn result(client: &str, scenario: &str, check: &str, status: Status) -> CheckResult {
    CheckResult {
        check: check.into(),
        description: format!("{check} holds"),
        provider: "novita".into(),
        target: Target::Emulator,
        status,
        cases: 1,
        requests: 4,
        duration_ms: 100,
        detail: (status == Status::Failed).then(|| format!("{check} broke under {scenario}")),
        failure: None,
        scenario: Some(scenario.into()),
        client: Some(client.into()),
    }
}

fn run(client: &str, scenario: &str) -> ClientRun {
    ClientRun {
        client: client.into(),
        provider: "novita".into(),
        scenario: scenario.into(),
        description: format!("{scenario} weather"),
        command: vec![client.into()],
        exit_code: Some(0),
        timed_out: false,
        duration_ms: 1000,
        requests: 4,
        output_tail: vec!["done".into()],
    }
}

fn graded() -> RunResults {
    let mut results = Vec::new();
    let mut runs = Vec::new();
    for (client, scenario, checks) in [
        (
            "img2img",
            "happy",
            vec![
                ("poll_pacing", Status::Passed),
                ("stops_at_terminal", Status::Passed),
            ],
        ),
        (
            "img2img",
            "stuck",
            vec![
                ("poll_pacing", Status::Passed),
                ("gives_up", Status::Passed),
            ],
        ),
        (
            "novita-client",
            "happy",
            vec![
                ("poll_pacing", Status::Passed),
                ("stops_at_terminal", Status::Passed),
            ],
        ),
        (
            "novita-client",
            "stuck",
            vec![
                ("poll_pacing", Status::Failed),
                ("gives_up", Status::Failed),
            ],
        ),
    ] {
        runs.push(run(client, scenario));
        for (check, status) in checks {
            results.push(result(client, scenario, check, status));
        }
    }
    RunResults {
        tool_version: "0.1.0".into(),
        started_at: "2026-12-01T10:00:00Z".into(),
        finished_at: "2026-12-01T10:01:00Z".into(),
        seed: 0,
        cases_per_check: 1,
        results,
        client_runs: runs,
    }
}

#[test]
fn without_results_the_table_says_not_run() {
    let section = behaviour(&[("target/conformance/clients/x/results.json".into(), None)]);
    assert!(section.is_empty());
    let note = section.note.unwrap();
    assert!(note.starts_with("not run"), "{note}");
    assert!(
        note.contains("target/conformance/clients/x/results.json"),
        "{note}"
    );
    let specs: Vec<&Spec> = Provider::all().map(Spec::embedded).collect();
    let report = img2img_report::build(&specs, None, "r.json").unwrap();
    let md = img2img_report::markdown::render(&report);
    assert!(md.contains("## Client behaviour\n\n_not run"), "{md}");
    let html = img2img_report::html::render(&report);
    assert!(html.contains("<strong>Not run.</strong>"));
}

#[test]
fn each_client_gets_a_row_and_each_failure_its_scenario_and_reason() {
    let section = behaviour(&[("a.json".into(), Some(graded()))]);
    let checks: Vec<&str> = section.checks.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(checks, ["poll_pacing", "stops_at_terminal", "gives_up"]);
    let rows: Vec<(&str, &str)> = section
        .rows
        .iter()
        .map(|r| (r.client.as_str(), r.provider.as_str()))
        .collect();
    assert_eq!(rows, [("img2img", "novita"), ("novita-client", "novita")]);
    let ours = &section.rows[0];
    assert!(ours.cells.iter().all(|c| c.status == Some(Status::Passed)));
    assert_eq!(ours.cells[0].passed, ["happy", "stuck"]);
    assert_eq!(ours.scenarios, ["happy", "stuck"]);
    let sdk = &section.rows[1];
    assert_eq!(sdk.cells[0].status, Some(Status::Failed));
    assert_eq!(sdk.cells[0].passed, ["happy"]);
    assert_eq!(sdk.cells[0].failed[0].scenario, "stuck");
    assert_eq!(
        sdk.cells[0].failed[0].detail,
        "poll_pacing broke under stuck"
    );
    assert_eq!(sdk.cells[1].status, Some(Status::Passed));

    let specs: Vec<&Spec> = Provider::all().map(Spec::embedded).collect();
    let mut report = img2img_report::build(&specs, None, "r.json").unwrap();
    report.client_behaviour = section;
    let md = img2img_report::markdown::render(&report);
    assert!(
        md.contains("| `novita-client` | novita | ❌ stuck | ✅ 1/1 | ❌ stuck |"),
        "{md}"
    );
    assert!(
        md.contains("| `img2img` | novita | ✅ 2/2 | ✅ 1/1 | ✅ 1/1 |"),
        "{md}"
    );
    assert!(
        md.contains(
            "- `novita-client` · novita · `gives_up` under `stuck`: gives_up broke under stuck"
        ),
        "{md}"
    );
    let html = img2img_report::html::render(&report);
    assert!(html.contains("<section id=\"clients\">"));
    assert!(html.contains("<strong>stuck</strong>: poll_pacing broke under stuck"));
    // The JSON carries the section and still validates against its schema.
    let json: serde_json::Value =
        serde_json::from_str(&img2img_report::json::render(&report)).unwrap();
    assert_eq!(
        json["client_behaviour"]["rows"][1]["client"],
        "novita-client"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&img2img_report::json::schema_text()).unwrap();
    assert!(jsonschema::is_valid(&schema, &json));
}

#[test]
fn client_results_stay_out_of_the_server_table() {
    let specs: Vec<&Spec> = Provider::all().map(Spec::embedded).collect();
    let report = img2img_report::build(&specs, Some(&graded()), "r.json").unwrap();
    assert!(
        report.conformance.checks.is_empty(),
        "{:?}",
        report.conformance.checks
    );
}
