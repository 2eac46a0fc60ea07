//! Scratch folders for tests that write files.

use std::path::PathBuf;

/// A fresh temporary folder, removed when the returned guard drops, and the path `name` inside it,
/// which does not exist yet (what a command told `--out name` would create).
pub fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let guard = tempfile::Builder::new()
        .prefix("img2img-harness-test-")
        .tempdir()
        .unwrap();
    let dir = guard.path().join(name);
    (guard, dir)
}
