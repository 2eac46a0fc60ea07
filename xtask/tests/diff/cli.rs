//! The built binary: output byte for byte in each format (the golden files were written by the
//! command before its rewrite), exit codes per `--fail-on`, usage and IO errors, each real spec
//! against itself, `--rev`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// The fixtures, relative to the crate directory the binary runs in (labels print as given).
const FIXTURES: &str = "tests/fixtures/diff";

/// Runs `xtask` in the crate directory.
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

#[test]
fn each_format_prints_the_golden_output() {
    let (old, new) = (fixture("base.yaml"), fixture("several.yaml"));
    for (format, golden) in [
        ("text", "several.txt"),
        ("md", "several.md"),
        ("json", "several.json"),
    ] {
        let output = xtask(&["diff", &old, &new, "--format", format]);
        let golden =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture(golden)))
                .expect("the golden file exists");
        assert_eq!(text(&output.stdout), golden, "--format {format}");
        assert_eq!(
            output.status.code(),
            Some(1),
            "--format {format}: breaking changes exit 1"
        );
    }
}

#[test]
fn exit_codes_follow_fail_on() {
    let old = fixture("base.yaml");
    // (new version, exit with --fail-on breaking (the default), exit with --fail-on any)
    for (new, breaking, any) in [
        ("several.yaml", 1, 1),
        ("widened.yaml", 0, 1),
        ("base.yaml", 0, 0),
    ] {
        let new = fixture(new);
        for format in ["text", "md", "json"] {
            let code = |extra: &[&str]| {
                let mut args = vec!["diff", old.as_str(), new.as_str(), "--format", format];
                args.extend_from_slice(extra);
                xtask(&args).status.code()
            };
            assert_eq!(code(&[]), Some(breaking), "{new} --format {format}");
            assert_eq!(
                code(&["--fail-on", "breaking"]),
                Some(breaking),
                "{new} --format {format}"
            );
            assert_eq!(
                code(&["--fail-on", "any"]),
                Some(any),
                "{new} --format {format}"
            );
        }
    }
}

#[test]
fn each_real_spec_against_itself_is_empty() {
    for file in ["gptproto.yaml", "novita.yaml", "modelslab.yaml"] {
        let spec = format!("../specs/{file}");
        let output = xtask(&["diff", &spec, &spec, "--format", "json", "--fail-on", "any"]);
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
        assert_eq!(json["diffs"][0]["changes"], Value::Array(vec![]), "{file}");
        assert_eq!(json["diffs"][0]["breaking"], 0, "{file}");
        assert_eq!(output.status.code(), Some(0), "{file}");
    }
}

#[test]
fn usage_and_io_errors_exit_2_saying_what_was_wrong() {
    let missing = xtask(&["diff", "no/such/old.yaml", "no/such/new.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = text(&missing.stderr);
    assert!(stderr.contains("no/such/old.yaml"), "{stderr}");

    let one = xtask(&["diff", "only-one.yaml"]);
    assert_eq!(one.status.code(), Some(2));
    assert!(text(&one.stderr).contains("two spec files"));

    let base = fixture("base.yaml");
    let format = xtask(&["diff", &base, &base, "--format", "xml"]);
    assert_eq!(format.status.code(), Some(2));

    let golden = fixture("several.json");
    let not_a_spec = xtask(&["diff", &golden, &base]);
    assert_eq!(not_a_spec.status.code(), Some(2));
    assert!(text(&not_a_spec.stderr).contains("several.json"));

    let bad_rev = xtask(&["diff", "--rev", "no-such-revision-xyz", "novita"]);
    assert_eq!(bad_rev.status.code(), Some(2));
    assert!(text(&bad_rev.stderr).contains("no-such-revision-xyz"));
}

#[test]
fn rev_reads_the_checked_in_spec() {
    let has_head = Command::new("git")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["cat-file", "-e", "HEAD:specs/novita.yaml"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_head {
        eprintln!("skipped: no git, or specs/novita.yaml is not checked in at HEAD");
        return;
    }
    let output = xtask(&["diff", "--rev", "HEAD", "novita", "--format", "json"]);
    assert_ne!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["diffs"][0]["old"], "HEAD:specs/novita.yaml");
    assert_eq!(json["diffs"][0]["new"], "specs/novita.yaml");
    // Without a file: every spec.
    let all = xtask(&[
        "diff",
        "--rev",
        "HEAD",
        "--format",
        "json",
        "--fail-on",
        "any",
    ]);
    let json: Value = serde_json::from_slice(&all.stdout).unwrap();
    let specs = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../specs"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert_eq!(json["diffs"].as_array().unwrap().len(), specs);
}
