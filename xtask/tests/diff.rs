//! `cargo xtask diff`, run as the built binary: each fixture pair under `tests/fixtures/diff/`
//! yields exactly the change its `expected.json` names (kind, class, JSON path), exit codes follow
//! `--fail-on`, usage and IO errors exit 2, and each real spec compared with itself is empty.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("the xtask binary runs")
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 20, "expected a fixture pair per change class");
    dirs
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// (kind, class, path) of every change the JSON output lists.
fn changes(output: &Output) -> Vec<(String, String, String)> {
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let diffs = json["diffs"].as_array().unwrap();
    assert_eq!(diffs.len(), 1);
    diffs[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(
                c["explanation"].as_str().is_some_and(|e| !e.is_empty()),
                "{c}"
            );
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["class"].as_str().unwrap().to_owned(),
                c["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn each_fixture_pair_is_classed_as_expected() {
    let mut failures = Vec::new();
    for dir in fixtures() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (old, new) = (dir.join("old.yaml"), dir.join("new.yaml"));
        let expected: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let expected: Vec<(String, String, String)> = expected
            .iter()
            .map(|c| {
                (
                    c["kind"].as_str().unwrap().to_owned(),
                    c["class"].as_str().unwrap().to_owned(),
                    c["path"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let output = xtask(&["diff", path(&old), path(&new), "--format", "json"]);
        let found = changes(&output);
        if found != expected {
            failures.push(format!("{name}: expected {expected:?}\n  found {found:?}"));
        }
        let breaking = expected.iter().any(|(_, class, _)| class == "breaking");
        for (fail_on, fails) in [("breaking", breaking), ("any", !expected.is_empty())] {
            let status = xtask(&["diff", path(&old), path(&new), "--fail-on", fail_on])
                .status
                .code();
            let want = Some(i32::from(fails));
            if status != want {
                failures.push(format!(
                    "{name}: --fail-on {fail_on} exited {status:?}, expected {want:?}"
                ));
            }
        }
        // The default is --fail-on breaking.
        let status = xtask(&["diff", path(&old), path(&new), "--format", "md"]).status;
        if status.code() != Some(i32::from(breaking)) {
            failures.push(format!("{name}: default --fail-on exited {status:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn text_and_markdown_name_the_path_and_the_class() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff/range_narrowed");
    let (old, new) = (dir.join("old.yaml"), dir.join("new.yaml"));
    let pointer = "#/paths/~1v3~1async~1img2img/post/requestBody/content/application~1json/schema/properties/width/maximum";
    let text = xtask(&["diff", path(&old), path(&new)]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains(pointer), "{text}");
    assert!(text.contains("BREAKING"), "{text}");
    assert!(text.contains("2048 → 1024"), "{text}");
    let md = xtask(&["diff", path(&old), path(&new), "--format", "md"]);
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains(&format!("`{pointer}`")), "{md}");
    assert!(md.contains("| **breaking** |"), "{md}");
}

#[test]
fn each_real_spec_against_itself_is_empty() {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    for file in ["gptproto.yaml", "novita.yaml", "modelslab.yaml"] {
        let spec = specs.join(file);
        let output = xtask(&[
            "diff",
            path(&spec),
            path(&spec),
            "--format",
            "json",
            "--fail-on",
            "any",
        ]);
        assert_eq!(changes(&output), vec![], "{file}");
        assert_eq!(output.status.code(), Some(0), "{file}");
    }
}

#[test]
fn usage_and_io_errors_exit_2_saying_what_was_wrong() {
    let missing = xtask(&["diff", "no/such/old.yaml", "no/such/new.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("no/such/old.yaml"), "{stderr}");

    let one = xtask(&["diff", "only-one.yaml"]);
    assert_eq!(one.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&one.stderr).contains("two spec files"));

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff/range_narrowed");
    let old = dir.join("old.yaml");
    let format = xtask(&["diff", path(&old), path(&old), "--format", "xml"]);
    assert_eq!(format.status.code(), Some(2));

    let not_a_spec = xtask(&["diff", path(&dir.join("expected.json")), path(&old)]);
    assert_eq!(not_a_spec.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_a_spec.stderr).contains("expected.json"));

    let bad_rev = xtask(&["diff", "--rev", "no-such-revision-xyz", "novita"]);
    assert_eq!(bad_rev.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_rev.stderr).contains("no-such-revision-xyz"));
}

#[test]
fn rev_reads_the_checked_in_spec() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let has_head = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["cat-file", "-e", "HEAD:specs/novita.yaml"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_head {
        eprintln!("skipped: no git, or specs/novita.yaml is not checked in at HEAD");
        return;
    }
    let output = xtask(&["diff", "--rev", "HEAD", "novita", "--format", "json"]);
    assert_ne!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    assert_eq!(json["diffs"].as_array().unwrap().len(), 3);
}
