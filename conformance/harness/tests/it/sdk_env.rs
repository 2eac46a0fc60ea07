//! Where the tests find the providers' official SDKs, one convention for every suite:
//!
//! | variable | default |
//! | --- | --- |
//! | `SDK_PYTHON` | `target/sdk-venv/bin/python` (the venv `.ci/run` and `conformance/sdk/run.sh` make) |
//! | `SDK_NODE` | `node` on `PATH` |
//! | `SDK_NODE_DIR` | `conformance/sdk/node` (holding `node_modules/` after `npm ci`) |

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// The path in variable `name`, or `default`.
pub fn env_path(name: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(name).map_or(default, PathBuf::from)
}

/// The Python that has the SDKs installed (`SDK_PYTHON`).
pub fn python() -> PathBuf {
    env_path("SDK_PYTHON", workspace().join("target/sdk-venv/bin/python"))
}

/// The Node.js to run the JS SDK with (`SDK_NODE`).
pub fn node() -> PathBuf {
    env_path("SDK_NODE", PathBuf::from("node"))
}

/// The folder whose `node_modules/` holds the JS SDK (`SDK_NODE_DIR`).
pub fn node_dir() -> PathBuf {
    env_path("SDK_NODE_DIR", workspace().join("conformance/sdk/node"))
}
