//! Comparing what a command printed with what the docs show: both sides redacted alike (ids,
//! times, dates, ports), then matched with snapbox (`[..]` in a line, `...` for whole lines),
//! which renders a readable diff when they differ.

use std::sync::OnceLock;

use regex::Regex;
use snapbox::data::IntoData;

/// What varies from run to run, and the placeholder it reads as on both sides.
const REDACTIONS: &[(&str, &str)] = &[
    // RFC 3339 timestamps (log lines, `recorded_at`).
    (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[TIMESTAMP]",
    ),
    // HTTP dates.
    (
        r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
        "[DATE]",
    ),
    // Job and task ids.
    (
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[UUID]",
    ),
    // Millisecond clocks in answers (`submit_time_ms`).
    (r"\b1[0-9]{12}\b", "[EPOCH_MS]"),
    // Measured durations: `0.6 s`, `3.1ms`, `in 1.0s`, `5.2 s`.
    (r"\b\d+\.\d+ ?(ms|s)\b", "[TIME]"),
];

fn redactions() -> &'static [(Regex, &'static str)] {
    static CELL: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    CELL.get_or_init(|| {
        REDACTIONS
            .iter()
            .map(|(pattern, placeholder)| (Regex::new(pattern).expect("a pattern"), *placeholder))
            .collect()
    })
}

/// Lines cargo prints about its own work (`Compiling`, `Finished`, `Running`...): the docs leave
/// them out.
fn cargo_progress() -> &'static Regex {
    static CELL: OnceLock<Regex> = OnceLock::new();
    CELL.get_or_init(|| {
        Regex::new(
            r"^\s+(Compiling|Finished|Running|Blocking|Building|Checking|Downloaded|Downloading|Updating|Locking|Adding|Fresh|Waiting) ",
        )
        .expect("a pattern")
    })
}

fn ansi() -> &'static Regex {
    static CELL: OnceLock<Regex> = OnceLock::new();
    CELL.get_or_init(|| Regex::new(r"\x1b\[[0-9;]*[A-Za-z]").expect("a pattern"))
}

/// `text` with everything that varies replaced by its placeholder.
pub fn redact(text: &str) -> String {
    redactions()
        .iter()
        .fold(text.to_owned(), |text, (pattern, placeholder)| {
            pattern.replace_all(&text, *placeholder).into_owned()
        })
}

/// What a command printed, as a terminal shows it and the docs write it: no colour codes, no
/// cargo progress lines, no trailing blank lines.
pub fn as_shown(output: &str) -> String {
    let plain = ansi().replace_all(output, "");
    let kept: Vec<&str> = plain
        .lines()
        .filter(|line| !cargo_progress().is_match(line))
        .collect();
    kept.join("\n").trim_end().to_owned()
}

/// The docs' lines under a command, as compared.
pub fn expected_text(lines: &[String]) -> String {
    lines.join("\n").trim_end().to_owned()
}

/// `Ok` when `actual` matches `expected`; otherwise snapbox's diff. `normalized` receives the
/// actual output normalized to the expected one (wildcards kept where they matched), for
/// rewriting the docs.
pub fn compare(name: &str, actual: &str, expected: &str) -> Result<(), (String, String)> {
    let (actual, expected) = (redact(&as_shown(actual)), redact(expected));
    let assert = snapbox::Assert::new().action(snapbox::assert::Action::Verify);
    let (normalized, _) =
        assert.normalize(actual.clone().into_data(), expected.clone().into_data());
    assert
        .try_eq(Some(&name), actual.into_data(), expected.into_data())
        .map_err(|e| (e.to_string(), normalized.render().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_times_and_wildcards_match_and_a_drift_shows_a_diff() {
        let shown =
            "job 759a21f5-ae43-44ef-9829-96f72669434c done in 0.6 s\n...\nwrote [..]/results.json";
        let actual = "\x1b[32mjob 1b2c3d4e-0000-4000-8000-000000000000 done in 12.25 s\x1b[0m\nline\nmore\nwrote /tmp/x/results.json\n\n";
        assert_eq!(compare("t", actual, shown), Ok(()));
        let drifted =
            "job 1b2c3d4e-0000-4000-8000-000000000000 failed in 0.1 s\nwrote /tmp/x/results.json";
        let (diff, normalized) = compare("t", drifted, shown).unwrap_err();
        assert!(diff.contains("failed"), "{diff}");
        assert!(
            normalized.contains("[UUID] failed in [TIME]"),
            "{normalized}"
        );
    }

    #[test]
    fn cargo_progress_lines_are_left_out() {
        let out = "   Compiling xtask v0.1.0\n    Finished `dev` profile\n     Running `target/debug/xtask lint`\nspecs pass";
        assert_eq!(as_shown(out), "specs pass");
    }
}
