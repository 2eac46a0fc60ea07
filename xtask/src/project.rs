//! Where things are in the repository.

use std::path::{Path, PathBuf};

use img2img_specs::{Provider, Spec};

/// The folder of the generated crates, relative to the workspace root: `generated/<id>/` for each
/// spec, and the registry.
pub const GENERATED: &str = "generated";

/// The registry crate's folder inside [`GENERATED`]; no provider may take this id.
pub const REGISTRY: &str = "registry";

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lives inside the workspace")
        .to_path_buf()
}

/// `specs/<provider>.yaml`.
pub fn spec_path(provider: Provider) -> PathBuf {
    root().join("specs").join(provider.spec_file())
}

/// Reads and parses a provider's spec from disk (not the copy embedded at build time).
pub fn load_spec(provider: Provider) -> anyhow::Result<(String, Spec)> {
    let path = spec_path(provider);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let spec = Spec::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((text, spec))
}
