//! The built binary: golden output in each format, exit codes, `--save`, usage errors, and each
//! real spec against itself.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// The fixtures, relative to the crate directory the binary runs in (labels print as given).
const FIXTURES: &str = "tests/fixtures/parity";

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the xtask binary runs")
}

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// A scratch directory, removed when the returned guard drops.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("xtask-parity-{name}-"))
        .tempdir()
        .unwrap()
}

#[test]
fn each_format_prints_the_golden_output_and_open_fields_exit_1() {
    let (theirs, ours) = (fixture("theirs-3.1.json"), fixture("ours.yaml"));
    for (format, golden) in [
        ("text", "expected.txt"),
        ("md", "expected.md"),
        ("json", "expected.json"),
    ] {
        let output = xtask(&["diff", "--against", &theirs, &ours, "--format", format]);
        let golden =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture(golden)))
                .expect("the golden file exists");
        assert_eq!(text(&output.stdout), golden, "--format {format}");
        assert_eq!(
            output.status.code(),
            Some(1),
            "--format {format}: open fields exit 1"
        );
    }
}

#[test]
fn each_real_spec_against_itself_agrees_and_exits_0() {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&specs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let file = path.to_str().unwrap();
        let output = xtask(&["diff", "--against", file, file, "--format", "json"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{file}: {}",
            text(&output.stderr)
        );
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
        assert_eq!(json["counts"]["open"], 0, "{file}");
        assert_eq!(
            json["counts"]["agree"], json["counts"]["compared"],
            "{file}"
        );
        assert!(json["counts"]["compared"].as_u64().unwrap() > 10, "{file}");
        seen += 1;
    }
    assert!(seen >= 3, "only {seen} specs in specs/");
}

#[test]
fn a_provider_id_names_our_spec() {
    let theirs = fixture("theirs-3.1.json");
    let by_flag = xtask(&[
        "diff",
        "--against",
        &theirs,
        "--provider",
        "novita",
        "--format",
        "json",
    ]);
    let by_argument = xtask(&["diff", "--against", &theirs, "novita", "--format", "json"]);
    for output in [&by_flag, &by_argument] {
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
        assert_eq!(json["ours"], "specs/novita.yaml");
        assert_eq!(json["provider"], "novita");
    }
}

#[test]
fn save_keeps_the_latest_counts_per_published_file() {
    let guard = scratch("save");
    let dir = guard.path();
    let file = dir.join("parity.json");
    let file_arg = file.to_str().unwrap();
    let ours = fixture("ours.yaml");
    for theirs in ["theirs-3.1.json", "theirs-3.0.yaml", "theirs-3.1.json"] {
        let output = xtask(&[
            "diff",
            "--against",
            &fixture(theirs),
            &ours,
            "--save",
            file_arg,
        ]);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    }
    let saved: img2img_report::parity::ParityFile =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let files: Vec<&str> = saved
        .comparisons
        .iter()
        .map(|c| c.theirs_file.as_str())
        .collect();
    assert_eq!(files, ["theirs-3.0.yaml", "theirs-3.1.json"]);
    let comparison = &saved.comparisons[1];
    assert_eq!(comparison.provider, "fixture");
    assert_eq!(comparison.ours, "xtask/tests/fixtures/parity/ours.yaml");
    assert_eq!(comparison.theirs_title, "Fixture API");
    let create = &comparison.operations[0];
    assert_eq!(
        (
            create.operation.as_str(),
            create.theirs.as_str(),
            create.compared,
            create.agree,
            create.kept,
            create.open
        ),
        ("create_edit", "POST /v1/edit", 18, 11, 5, 2)
    );
    assert_eq!(comparison.only_ours, ["ping", "create_edit_v2"]);
    assert_eq!(comparison.only_theirs, ["POST /v1/upscale"]);
    assert!(
        comparison.compared_at.ends_with('Z'),
        "{}",
        comparison.compared_at
    );
}

#[test]
fn usage_and_io_errors_exit_2_saying_what_was_wrong() {
    let theirs = fixture("theirs-3.1.json");
    let ours = fixture("ours.yaml");

    let no_ours = xtask(&["diff", "--against", &theirs]);
    assert_eq!(no_ours.status.code(), Some(2));
    assert!(
        text(&no_ours.stderr).contains("name our spec"),
        "{}",
        text(&no_ours.stderr)
    );

    let missing = xtask(&["diff", "--against", "no/such/theirs.json", &ours]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no/such/theirs.json"));

    let unknown = xtask(&["diff", "--against", &theirs, "--provider", "acme"]);
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = text(&unknown.stderr);
    assert!(
        stderr.contains("acme") && stderr.contains("novita"),
        "{stderr}"
    );

    for conflicting in [
        vec!["--rev", "HEAD"],
        vec!["--fail-on", "any"],
        vec![ours.as_str()],
    ] {
        let mut args = vec!["diff", "--against", theirs.as_str(), ours.as_str()];
        args.extend(conflicting.iter().copied());
        let output = xtask(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }

    let guard = scratch("errors");
    let dir = guard.path();
    let swagger = dir.join("swagger.json");
    std::fs::write(&swagger, r#"{"swagger": "2.0", "paths": {}}"#).unwrap();
    let old = xtask(&["diff", "--against", swagger.to_str().unwrap(), &ours]);
    assert_eq!(old.status.code(), Some(2));
    let stderr = text(&old.stderr);
    assert!(
        stderr.contains("swagger") && stderr.contains("3.1"),
        "{stderr}"
    );
}
