//! The docs as tests: every `console` block of `README.md` and `docs/*.md` is run, command by
//! command, and what each printed is compared with what the page shows (`docs/README.md`, "How
//! the docs are tested", is the convention). A block marked `live` is listed as skipped; one
//! marked `ci` must be run verbatim by `.ci/run`. With `DOCS=overwrite`, a drifted block is
//! rewritten with what ran (wildcards kept where they matched) instead of failing.

mod compare;
mod run;
mod transcript;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use transcript::{Block, Kind};

/// Blocks run at once (most of their time is waiting on jobs and scenarios).
const PARALLEL: usize = 4;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lives in the workspace")
        .to_path_buf()
}

/// `README.md` and every `docs/*.md`, sorted.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "md"))
                .collect()
        })
        .unwrap_or_default();
    pages.sort();
    pages.insert(0, root.join("README.md"));
    pages
}

/// The cargo profile directory this test was built into (`target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.parent()
        .and_then(Path::parent)
        .expect("tests run from <target>/<profile>/deps")
        .to_path_buf()
}

/// Builds the commands the docs run, once, into this test's profile.
fn build_commands(profile: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    // What the quick start's `cargo build --locked` builds (run where it runs, the workspace's
    // root: its default members), so that command is then a no-op.
    command
        .current_dir(root())
        .args(["build", "--quiet", "--locked", "--target-dir"])
        .arg(profile.parent().expect("a profile directory has a parent"));
    if profile.file_name().is_some_and(|n| n == "release") {
        command.arg("--release");
    }
    let status = command.status().expect("cargo runs");
    assert!(
        status.success(),
        "building the commands the docs run failed"
    );
    // What `cargo xtask` builds (the alias runs `--package xtask` alone, whose dependencies'
    // features differ from the whole workspace's, so the build above does not cover it), where
    // the docs' `cargo xtask` lines look for it: the workspace's own target directory.
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .env_remove("CARGO_TARGET_DIR")
        .args(["build", "--quiet", "--locked", "--package", "xtask"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building `cargo xtask` failed");
}

/// A Python with `requests` to put first on `PATH` (the SDK venv `.ci/run` makes), or why a
/// block that runs `python3` cannot run.
fn python(root: &Path) -> Result<Option<PathBuf>, String> {
    let venv = std::env::var_os("SDK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/sdk-venv/bin/python"));
    if let Some(bin) = venv.parent().filter(|_| venv.is_file()) {
        return Ok(Some(bin.to_path_buf()));
    }
    match Command::new("python3")
        .args(["-c", "import requests"])
        .output()
    {
        Ok(out) if out.status.success() => Ok(None),
        Ok(_) => Err("python3 has no `requests` module (pip install requests)".into()),
        Err(e) => Err(format!("no python3 ({e})")),
    }
}

/// What became of one block.
enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
    /// Rewritten (`DOCS=overwrite`): the page's lines to replace, with the new ones.
    Rewritten(Vec<(std::ops::Range<usize>, Vec<String>)>),
}

fn run_block(block: &Block, setting: &run::Setting, name: &str, overwrite: bool) -> Outcome {
    let (ran, stray) = match run::run(block, setting, name) {
        Ok(ran) => ran,
        Err(e) => return Outcome::Failed(e),
    };
    let mut failures = Vec::new();
    let mut rewrites = Vec::new();
    for (command, ran) in block.commands.iter().zip(&ran) {
        let first = command.text.lines().next().unwrap_or_default();
        let label = format!("{name} `$ {first}`");
        if let Some(code) = ran.status.filter(|c| *c != 0) {
            failures.push(format!(
                "{label} exited {code} (a command the docs show failing ends with `; echo \"exit $?\"`); it printed:\n{}",
                ran.output
            ));
            continue;
        }
        let expected = compare::expected_text(&command.expected);
        if let Err((diff, normalized)) = compare::compare(&label, &ran.output, &expected) {
            if overwrite {
                let mut lines: Vec<String> = normalized.lines().map(str::to_owned).collect();
                // Keep the blank line that separated this output from the next command.
                lines.extend(
                    command
                        .expected
                        .iter()
                        .rev()
                        .take_while(|l| l.trim().is_empty())
                        .cloned(),
                );
                rewrites.push((command.expected_lines.clone(), lines));
            } else {
                failures.push(diff);
            }
        }
    }
    if !stray.trim().is_empty() && failures.is_empty() && rewrites.is_empty() {
        eprintln!("{name}: bash said: {stray}");
    }
    match (failures.is_empty(), rewrites.is_empty()) {
        (true, true) => Outcome::Passed,
        (true, false) => Outcome::Rewritten(rewrites),
        (false, _) => Outcome::Failed(failures.join("\n\n")),
    }
}

/// The lines of `.ci/run`, without leading and trailing blanks (a `ci` block's command must end
/// one of them).
fn ci_lines(root: &Path) -> Vec<String> {
    std::fs::read_to_string(root.join(".ci/run"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_owned())
        .collect()
}

#[test]
fn every_transcript_in_the_docs_runs_as_written() {
    let started = Instant::now();
    let root = root();
    let profile = profile_dir();
    build_commands(&profile);
    let built = started.elapsed();
    let python = python(&root);
    let setting = run::Setting {
        root: root.clone(),
        profile: profile.clone(),
        scratch_root: root.join("target").join("docs-tests"),
        extra_path: python.clone().ok().flatten().into_iter().collect(),
    };
    let overwrite = std::env::var("DOCS").is_ok_and(|v| v == "overwrite");
    let ci = ci_lines(&root);

    let mut blocks = Vec::new();
    for page in pages(&root) {
        let text = std::fs::read_to_string(&page).expect("a readable page");
        blocks.extend(transcript::blocks(&page, &text).unwrap_or_else(|e| panic!("{e}")));
    }
    assert!(
        blocks.iter().any(|b| b.kind == Kind::Run),
        "no console block found"
    );

    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap();
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(block) = blocks.get(index) else { break };
                    let name = block.name(&root);
                    let outcome = match block.kind {
                        Kind::Live => Outcome::Skipped("live: needs keys, the internet or minutes".into()),
                        Kind::Ci => {
                            let missing: Vec<&str> = block
                                .commands
                                .iter()
                                .map(|c| c.text.as_str())
                                .filter(|c| !ci.iter().any(|line| line.ends_with(c)))
                                .collect();
                            if missing.is_empty() {
                                Outcome::Passed
                            } else {
                                Outcome::Failed(format!(
                                    "{name}: marked `ci` but .ci/run does not run {missing:?} verbatim"
                                ))
                            }
                        }
                        Kind::Run => {
                            let needs_python =
                                block.commands.iter().any(|c| c.text.contains("python3"));
                            match (&python, needs_python) {
                                (Err(why), true) => Outcome::Skipped(why.clone()),
                                _ => run_block(block, &setting, &name, overwrite),
                            }
                        }
                    };
                    results.lock().unwrap().push((index, outcome));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(index, _)| *index);

    let mut failures = Vec::new();
    let mut rewrites: Vec<(PathBuf, std::ops::Range<usize>, Vec<String>)> = Vec::new();
    let (mut passed, mut skipped) = (0, 0);
    // The summary is written to stderr directly, so `cargo test` shows it without
    // `--nocapture` (it captures only `print!` and `eprint!`): what was skipped stays visible.
    let mut summary = String::from("docs transcripts (see docs/README.md):\n");
    for (index, outcome) in results {
        let block = &blocks[index];
        let name = block.name(&root);
        let first = block.commands.first().map_or("", |c| c.text.as_str());
        let first = first.lines().next().unwrap_or_default();
        match outcome {
            Outcome::Passed => {
                passed += 1;
                let how = match block.kind {
                    Kind::Ci => "run by .ci/run",
                    _ => "ran",
                };
                summary.push_str(&format!(
                    "  {how:<14} {name} ({} command(s)) $ {first}\n",
                    block.commands.len()
                ));
            }
            Outcome::Skipped(why) => {
                skipped += 1;
                summary.push_str(&format!("  SKIPPED        {name} $ {first}: {why}\n"));
                if block.kind != Kind::Live && std::env::var_os("CI").is_some() {
                    failures.push(format!("CI is set, so {name} may not be skipped: {why}"));
                }
            }
            Outcome::Failed(why) => {
                summary.push_str(&format!("  FAILED         {name} $ {first}\n"));
                failures.push(why);
            }
            Outcome::Rewritten(parts) => {
                summary.push_str(&format!("  REWRITTEN      {name} $ {first}\n"));
                rewrites.extend(
                    parts
                        .into_iter()
                        .map(|(range, lines)| (block.page.clone(), range, lines)),
                );
            }
        }
    }
    // Rewrite from the bottom of each page up, so earlier line numbers stay right.
    rewrites.sort_by(|a, b| (&a.0, b.1.start).cmp(&(&b.0, a.1.start)));
    for (page, range, lines) in rewrites {
        let text = std::fs::read_to_string(&page).unwrap();
        let mut all: Vec<String> = text.lines().map(str::to_owned).collect();
        all.splice(range, lines);
        std::fs::write(&page, all.join("\n") + "\n").unwrap();
    }
    summary.push_str(&format!(
        "docs: {passed} passed, {} failed, {skipped} skipped in {:.1} s (building the commands: {:.1} s)\n",
        failures.len(),
        started.elapsed().as_secs_f64(),
        built.as_secs_f64()
    ));
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), summary.as_bytes());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
