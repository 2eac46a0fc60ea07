//! rustfmt, as `cargo fmt` would run it, until the output settles.

use std::io::Write as _;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// rustfmt is not idempotent on the `/** … */` doc blocks prettyplease writes (the closing `*/`
/// moves on a second pass): format until nothing changes, so `cargo fmt` agrees with the output.
pub fn rustfmt_to_fixpoint(source: &str) -> anyhow::Result<String> {
    let mut current = rustfmt(source)?;
    for _ in 0..4 {
        let next = rustfmt(&current)?;
        if next == current {
            return Ok(current);
        }
        current = next;
    }
    bail!("rustfmt did not settle on a fixpoint after 5 passes")
}

/// `source` with a blank line before each top-level item but between imports (prettyplease
/// writes none), so the generated modules read like hand-written ones.
pub fn spaced(source: &str) -> String {
    let is_import = |line: &str| line.starts_with("use ") || line.starts_with("pub use ");
    let mut out = String::with_capacity(source.len() + source.len() / 16);
    let mut previous: Option<&str> = None;
    let mut last_item: Option<&str> = None;
    for line in source.lines() {
        let starts_item =
            !line.is_empty() && !line.starts_with([' ', '}', ')', ']']) && !line.starts_with("//!");
        // After a doc comment or an attribute (`)]` closes one written over several lines).
        let attached =
            previous.is_some_and(|p| p.starts_with("///") || p.starts_with("#[") || p == ")]");
        if starts_item && !attached {
            let both_imports = last_item.is_some_and(is_import) && is_import(line);
            if previous.is_some_and(|p| !p.is_empty()) && !both_imports {
                out.push('\n');
            }
            last_item = Some(line);
        }
        out.push_str(line);
        out.push('\n');
        previous = Some(line);
    }
    out
}

/// Formats Rust source with rustfmt (edition 2024), as `cargo fmt` would.
fn rustfmt(source: &str) -> anyhow::Result<String> {
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let mut child = Command::new(&rustfmt)
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!("running {rustfmt} (install it with `rustup component add rustfmt`)")
        })?;
    let mut stdin = child.stdin.take().context("rustfmt stdin")?;
    let input = source.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("rustfmt writer panicked"))??;
    if !output.status.success() {
        bail!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}
