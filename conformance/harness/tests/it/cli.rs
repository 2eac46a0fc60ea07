//! The `conformance` command as a user runs it.

use std::process::Command;

use img2img_specs::{Provider, Spec};

use crate::scratch::scratch;

fn conformance() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conformance"));
    for provider in Provider::all() {
        command.env_remove(&Spec::embedded(provider).extensions().provider.key_env);
    }
    command
}

#[test]
fn dry_run_prints_the_plan_and_sends_nothing() {
    let output = conformance()
        .args([
            "--target",
            "live",
            "--dry-run",
            "--base-url",
            "http://127.0.0.1:9",
            "--cases",
            "3",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let plan = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "plan:",
        "positive_acceptance",
        "NOVITA_API_KEY",
        "--max-requests 60",
    ] {
        assert!(plan.contains(needle), "the plan lacks {needle:?}:\n{plan}");
    }
    // No price given: the cost is unknown, and the plan says how to give one.
    assert!(plan.contains("pass --price novita=USD"), "{plan}");
    assert!(!plan.contains("estimated cost"), "{plan}");
}

#[test]
fn dry_run_prices_the_plan_with_price_flags() {
    let output = conformance()
        .args(["--target", "live", "--dry-run", "--provider", "novita"])
        .args([
            "--cases",
            "3",
            "--price",
            "novita=0.5",
            "--max-requests",
            "10",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let plan = String::from_utf8_lossy(&output.stdout);
    // 3 cases: positive, negative, lifecycle, agreement and the four judging checks send 3
    // creates each, auth 2, seeds 3, three stateful checks 1 each: 32 creates of up to 2 images.
    assert!(
        plan.contains("cost: up to 32 creates × 2 image(s) × $0.5 = $32.00 (--price)"),
        "{plan}"
    );
    assert!(
        plan.contains("estimated cost: up to $32.00 (--max-requests 10 caps it at $10.00)"),
        "{plan}"
    );
    for bad in ["novita", "novita=-1", "nobody=1"] {
        let output = conformance()
            .args(["--target", "live", "--dry-run", "--price", bad])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad}: {output:?}");
    }
}

#[test]
fn a_run_writes_results_junit_and_summary_and_results_match_their_schema() {
    let (_guard, out) = scratch("run");
    let output = conformance()
        .args([
            "--provider",
            "novita",
            "--check",
            "positive_acceptance",
            "--check",
            "response_schema",
        ])
        .args([
            "--cases",
            "3",
            "--seed",
            "7",
            "--progress",
            "plain",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("conformance: 2 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        validator.is_valid(&results),
        "{:?}",
        validator
            .iter_errors(&results)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(results["seed"], 7);
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testcase name=\"positive_acceptance\""),
        "{junit}"
    );
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("| positive_acceptance | novita |"),
        "{summary}"
    );
}

#[test]
fn live_without_keys_is_skipped_and_strict_makes_that_fail() {
    let (_guard, out) = scratch("nokey");
    let base = [
        "--target",
        "live",
        "--base-url",
        "http://127.0.0.1:9",
        "--provider",
        "gptproto",
        "--progress",
        "quiet",
    ];
    let lenient = conformance()
        .args(base)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(lenient.status.success(), "{lenient:?}");
    let every_check_skipped = format!(
        "0 passed, 0 failed, {} skipped",
        img2img_harness::checks::CheckId::ALL.len()
    );
    assert!(
        String::from_utf8_lossy(&lenient.stdout).contains(&every_check_skipped),
        "{lenient:?}"
    );
    let strict = conformance()
        .args(base)
        .args(["--strict", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn bad_flags_exit_with_2() {
    for args in [
        vec!["--provider", "midjourney"],
        vec!["--check", "vibes"],
        vec!["--cases", "0"],
        vec!["--record", "/tmp/x"],
        vec!["--base-url", "http://127.0.0.1:9"],
        vec!["--replay", "/tmp/x", "--base-url", "http://127.0.0.1:9"],
        vec!["client", "--provider", "midjourney", "--", "true"],
    ] {
        let output = conformance().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(!output.stderr.is_empty(), "{args:?}: no message");
    }
}

#[test]
fn the_provider_flags_list_every_spec_and_refuse_an_unknown_id_naming_them() {
    for args in [&["--help"][..], &["client", "--help"]] {
        let help = conformance().args(args).output().unwrap();
        let text = String::from_utf8_lossy(&help.stdout);
        for provider in Provider::all() {
            assert!(
                text.contains(provider.id()),
                "{args:?} lacks {provider}:\n{text}"
            );
        }
    }
    for args in [
        &["--provider", "acme"][..],
        &["client", "--provider", "acme", "--", "true"],
    ] {
        let output = conformance().args(args).output().unwrap();
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(error.contains("acme"), "{error}");
        for provider in Provider::all() {
            assert!(error.contains(provider.id()), "{args:?}: {error}");
        }
    }
}

#[test]
fn help_lists_every_check_with_what_it_asserts() {
    let help = conformance().arg("--help").output().unwrap();
    assert!(help.status.success(), "{help:?}");
    let text = String::from_utf8_lossy(&help.stdout);
    for check in img2img_harness::checks::CheckId::ALL {
        let line = format!("{}:", check.id());
        assert!(text.contains(&line), "--help lacks {line}\n{text}");
        assert!(
            text.contains(check.description()),
            "--help lacks {check:?}'s description"
        );
    }
}
