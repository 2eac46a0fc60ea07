//! `cargo xtask codegen [--check]`: one typed client crate per spec under `generated/<id>/`, and
//! the registry crate `generated/registry/` that maps each provider id to its client.
//!
//! - [`client`]: progenitor (builder style) writes the types and operations; this adds the crate
//!   header, the `ClientHooks` impl that runs `img2img_specs::guard::prepare` before every request,
//!   the `operations` module ([`dispatch`]: `impl Operations for Client`, from the types
//!   [`shapes`] reads out of progenitor's code) and the manifest.
//! - [`registry`]: `img2img-registry`, every generated client by provider id.
//!
//! rustfmt makes the output stable ([`format`]). It is byte-for-byte deterministic, so `--check`
//! (and the test below) can compare it with what is checked in; every file under `generated/` the
//! generator does not write (the crate of a deleted spec) is removed.

mod client;
mod dispatch;
mod format;
mod registry;
mod shapes;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use img2img_specs::{Provider, Spec};
use sha2::{Digest, Sha256};

use xtask::{diff, project};

/// Whether to write the files or only compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write every file whose contents changed, remove every file no spec generates.
    Write,
    /// Change nothing; fail naming each stale file.
    Check,
}

/// One file the generator owns.
pub(crate) struct Output {
    /// Relative to the workspace root.
    path: PathBuf,
    contents: String,
}

/// One spec, as read from `specs/`.
pub(crate) struct Source {
    /// The provider id: the file stem.
    id: String,
    /// The file name inside `specs/`.
    file: String,
    /// The spec text.
    text: String,
    /// The parsed spec.
    spec: Spec,
}

impl Source {
    fn load(provider: Provider) -> anyhow::Result<Source> {
        let (text, spec) = project::load_spec(provider)?;
        Ok(Source {
            id: provider.id().to_owned(),
            file: provider.spec_file().to_owned(),
            text,
            spec,
        })
    }

    fn sha256(&self) -> String {
        Sha256::digest(self.text.as_bytes())
            .iter()
            .fold(String::new(), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }
}

/// The crate name of a provider's generated client.
pub fn crate_name(id: &str) -> String {
    format!("img2img-{id}-client")
}

/// Every file the generator writes for these specs.
fn render(sources: &[Source]) -> anyhow::Result<Vec<Output>> {
    let mut outputs = Vec::new();
    for source in sources {
        outputs.extend(
            client::render(source)
                .with_context(|| format!("generating the client for specs/{}", source.file))?,
        );
    }
    outputs.extend(registry::render(sources).context("generating the registry")?);
    Ok(outputs)
}

/// Regenerates (or checks) every provider's client crate and the registry.
pub fn run(mode: Mode) -> anyhow::Result<()> {
    let root = project::root();
    let sources = Provider::all()
        .map(Source::load)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let outputs = render(&sources)?;
    let mut stale = Vec::new();
    let mut regenerated = Vec::new();
    for output in &outputs {
        let path = root.join(&output.path);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(output.contents.as_str()) {
            continue;
        }
        match mode {
            Mode::Check => stale.push(output.path.display().to_string()),
            Mode::Write => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, &output.contents)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("updated {}", output.path.display());
                regenerated.push(output.path.clone());
            }
        }
    }
    for source in &sources {
        let dir = Path::new(project::GENERATED).join(&source.id);
        if regenerated.iter().any(|p| p.starts_with(&dir))
            && let Ok(provider) = Provider::from_id(&source.id)
            && let Some(summary) = diff::summary_since_head(provider, &source.text)
        {
            println!("specs/{} changed since HEAD:", source.file);
            print!("{summary}");
        }
    }
    for orphan in orphans(&root, &outputs)? {
        match mode {
            Mode::Check => stale.push(format!("{} (not generated any more)", orphan.display())),
            Mode::Write => {
                std::fs::remove_file(root.join(&orphan))?;
                println!("removed {}", orphan.display());
                remove_empty_parents(&root, &orphan)?;
            }
        }
    }
    if !stale.is_empty() {
        bail!(
            "generated code is out of date with specs/; run `cargo xtask codegen` and commit the result:\n  {}",
            stale.join("\n  ")
        );
    }
    if mode == Mode::Check {
        println!("generated/: up to date with specs/");
    }
    Ok(())
}

/// Files under `generated/` (but any `target/`) that the generator does not write: left by an
/// older generator, or the crate of a deleted spec.
fn orphans(root: &Path, outputs: &[Output]) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::from(project::GENERATED)];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let relative = dir.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                if entry.file_name() != "target" {
                    pending.push(relative);
                }
            } else if !outputs.iter().any(|o| o.path == relative) {
                found.push(relative);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Removes the now empty folders above a removed file, up to `generated/`.
fn remove_empty_parents(root: &Path, removed: &Path) -> anyhow::Result<()> {
    let mut dir = removed.parent();
    while let Some(current) = dir {
        if current == Path::new(project::GENERATED) {
            break;
        }
        let full = root.join(current);
        if std::fs::read_dir(&full)?.next().is_some() {
            break;
        }
        std::fs::remove_dir(&full)?;
        println!("removed {}/", current.display());
        dir = current.parent();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
