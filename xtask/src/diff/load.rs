//! Where the two versions of a spec come from: a file on disk, or the checked-in spec at another
//! git revision (`git show REV:./specs/<file>`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use img2img_specs::{Provider, Spec};

/// One version of a spec: its text and a label saying where it came from.
#[derive(Debug, Clone)]
pub struct Version {
    /// Where the text came from (`specs/<id>.yaml`, `HEAD:specs/<id>.yaml`).
    pub label: String,
    /// The YAML text.
    pub text: String,
}

impl Version {
    /// Parses the text with `img2img-specs`, naming the version in the error.
    pub fn parse(&self) -> anyhow::Result<Spec> {
        Spec::parse(&self.text).map_err(|e| anyhow::anyhow!("{}: {e}", self.label))
    }
}

/// Reads a spec file from disk.
pub fn file(path: &Path) -> anyhow::Result<Version> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the spec file {}", path.display()))?;
    Ok(Version {
        label: path.display().to_string(),
        text,
    })
}

/// Reads `path` (relative to the workspace root) as checked in at `rev`.
pub fn at_rev(root: &Path, rev: &str, path: &str) -> anyhow::Result<Version> {
    let object = format!("{rev}:./{path}");
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["show", &object])
        .output()
        .context("cannot run git (is it installed and on PATH?)")?;
    if !output.status.success() {
        bail!(
            "git show {object} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let text = String::from_utf8(output.stdout)
        .with_context(|| format!("git show {object}: the file is not UTF-8"))?;
    Ok(Version {
        label: format!("{rev}:{path}"),
        text,
    })
}

/// The spec files checked in at `rev` (`specs/<id>.yaml`, relative to the workspace root).
pub fn specs_at_rev(root: &Path, rev: &str) -> anyhow::Result<Vec<String>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-tree", "--name-only", "--full-name", rev, "--", "specs/"])
        .output()
        .context("cannot run git (is it installed and on PATH?)")?;
    if !output.status.success() {
        bail!(
            "git ls-tree {rev} specs/ failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|path| path.ends_with(".yaml"))
        .map(str::to_owned)
        .collect())
}

/// The spec files in the working tree's `specs/` (`specs/<id>.yaml`).
pub fn specs_on_disk(root: &Path) -> anyhow::Result<Vec<String>> {
    let dir = root.join("specs");
    let mut found = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
    {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") {
            found.push(format!("specs/{name}"));
        }
    }
    Ok(found)
}

/// What stands for a spec on the side where it does not exist: `present` with no operation, so
/// that the comparison lists each of its operations as added (or removed), and nothing else.
pub fn absent(present: &Version, label: String) -> anyhow::Result<Version> {
    let mut document = present.parse()?.document().clone();
    document["paths"] = serde_json::json!({});
    Ok(Version {
        label,
        text: serde_json::to_string(&document)?,
    })
}

/// A spec argument: a provider id (`acme`) means `specs/acme.yaml`; anything else is a path.
pub fn spec_argument(root: &Path, argument: &Path) -> PathBuf {
    if let Some(provider) = argument
        .to_str()
        .and_then(|s| s.parse::<Provider>().ok())
        .filter(|_| !argument.exists())
    {
        return root.join("specs").join(provider.spec_file());
    }
    argument.to_path_buf()
}

/// `file` as a path relative to the workspace root (what `git show REV:./<path>` needs).
pub fn relative_to_root(root: &Path, file: &Path) -> anyhow::Result<String> {
    let absolute = if file.is_absolute() {
        file.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current directory")?
            .join(file)
    };
    let absolute = absolute
        .canonicalize()
        .with_context(|| format!("cannot find the spec file {}", file.display()))?;
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot find the workspace root {}", root.display()))?;
    let relative = absolute.strip_prefix(&root).map_err(|_| {
        anyhow::anyhow!(
            "{} is outside the repository at {}; --rev reads checked-in files only",
            absolute.display(),
            root.display()
        )
    })?;
    Ok(relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/"))
}

#[cfg(test)]
mod tests {
    use img2img_specs::Provider;

    use super::*;
    use crate::diff::{Class, Kind, compare_specs};

    #[test]
    fn a_spec_on_one_side_only_is_every_operation_added_or_removed() {
        let root = crate::project::root();
        let on_disk = specs_on_disk(&root).unwrap();
        assert_eq!(on_disk.len(), Provider::all().len());
        for provider in Provider::all() {
            let present = file(&crate::project::spec_path(provider)).unwrap();
            let spec = present.parse().unwrap();
            let empty = absent(&present, "HEAD:specs/x.yaml (absent)".into()).unwrap();
            let added = compare_specs(&empty.parse().unwrap(), &spec).unwrap();
            assert_eq!(
                added.len(),
                spec.operations().len(),
                "{provider}: {added:#?}"
            );
            assert!(
                added
                    .iter()
                    .all(|c| c.kind == Kind::OperationAdded && c.class == Class::NonBreaking)
            );
            let removed = compare_specs(&spec, &empty.parse().unwrap()).unwrap();
            assert!(
                removed
                    .iter()
                    .all(|c| c.kind == Kind::OperationRemoved && c.class == Class::Breaking),
                "{provider}: {removed:#?}"
            );
        }
    }
}
