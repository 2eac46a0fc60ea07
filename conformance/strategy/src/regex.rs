//! Strings that match (or miss) a spec's `pattern`.

use proptest::strategy::{SBoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// The pattern without its outer `^…$` anchors, which proptest's regex generator does not support.
fn unanchored(pattern: &str) -> String {
    let inner = pattern.strip_prefix('^').unwrap_or(pattern);
    let inner = inner.strip_suffix('$').unwrap_or(inner);
    format!("(?:{inner})")
}

/// A strategy for strings matching `pattern`, or `None` if proptest cannot generate from it.
pub fn matching(pattern: &str) -> Option<SBoxedStrategy<String>> {
    proptest::string::string_regex(&unanchored(pattern))
        .ok()
        .map(Strategy::sboxed)
}

/// One deterministic string matching `pattern`.
pub fn sample_matching(pattern: &str) -> Option<String> {
    let strategy = matching(pattern)?;
    let mut runner = TestRunner::deterministic();
    strategy
        .new_tree(&mut runner)
        .ok()
        .map(|tree| tree.current())
}
