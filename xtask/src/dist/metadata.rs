//! What `cargo xtask dist` reads from `cargo metadata`: the version the packages carry (the
//! workspace's, which the `img2img-dist` crate inherits) and the dependencies it checks.

use std::collections::BTreeSet;
use std::process::Command;

use anyhow::Context;
use serde::Deserialize;

/// The crate whose binaries are packaged (`dist/Cargo.toml`).
pub const DIST_CRATE: &str = "img2img-dist";
/// The crates whose `main.rs` it builds.
pub const SOURCE_CRATES: [&str; 2] = ["img2img-emulator", "img2img-harness"];

/// The workspace's packages, as `cargo metadata --no-deps` describes them.
#[derive(Debug, Deserialize)]
pub struct Workspace {
    packages: Vec<Package>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
    version: String,
    dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    name: String,
    /// `null` for a normal dependency, else `dev` or `build`.
    kind: Option<String>,
    features: Vec<String>,
    uses_default_features: bool,
}

impl Workspace {
    /// Runs `cargo metadata --no-deps` on the workspace.
    pub fn load() -> anyhow::Result<Workspace> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(&cargo)
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(xtask::project::root().join("Cargo.toml"))
            .output()
            .with_context(|| format!("cannot run {cargo} metadata"))?;
        anyhow::ensure!(
            output.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Workspace::parse(&output.stdout)
    }

    /// Reads `cargo metadata` output.
    pub fn parse(json: &[u8]) -> anyhow::Result<Workspace> {
        serde_json::from_slice(json).context("cargo metadata printed something unexpected")
    }

    fn package(&self, name: &str) -> anyhow::Result<&Package> {
        self.packages
            .iter()
            .find(|p| p.name == name)
            .with_context(|| format!("the workspace has no package {name}"))
    }

    /// The version of the packages `cargo xtask dist` builds: the `img2img-dist` crate's, which
    /// is the workspace's (`version.workspace = true`).
    pub fn dist_version(&self) -> anyhow::Result<String> {
        Ok(self.package(DIST_CRATE)?.version.clone())
    }

    /// What the dist crate asks beyond the source crates and their normal dependencies: a crate they do
    /// not depend on, a feature none of them turns on, or default features they leave off. Any of
    /// these would change the features cargo unifies, so the release build could not reuse theirs.
    pub fn dist_extras(&self) -> anyhow::Result<Vec<String>> {
        let dist = self.package(DIST_CRATE)?;
        let sources = SOURCE_CRATES
            .iter()
            .map(|name| self.package(name))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut extras = Vec::new();
        let normal = dist
            .dependencies
            .iter()
            .filter(|d| d.kind.is_none() && !SOURCE_CRATES.contains(&d.name.as_str()));
        for dependency in normal {
            let same: Vec<&Dependency> = sources
                .iter()
                .flat_map(|p| &p.dependencies)
                .filter(|d| d.kind.is_none() && d.name == dependency.name)
                .collect();
            if same.is_empty() {
                extras.push(format!(
                    "{}: neither {} depends on it",
                    dependency.name,
                    SOURCE_CRATES.join(" nor ")
                ));
                continue;
            }
            let known: BTreeSet<&str> = same
                .iter()
                .flat_map(|d| d.features.iter().map(String::as_str))
                .collect();
            for feature in &dependency.features {
                if !known.contains(feature.as_str()) {
                    extras.push(format!(
                        "{}: feature {feature:?} is not asked by {}",
                        dependency.name,
                        SOURCE_CRATES.join(" or ")
                    ));
                }
            }
            if dependency.uses_default_features && !same.iter().any(|d| d.uses_default_features) {
                extras.push(format!(
                    "{}: default features on, off in {}",
                    dependency.name,
                    SOURCE_CRATES.join(" and ")
                ));
            }
        }
        Ok(extras)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, version: &str, dependencies: &str) -> String {
        format!(r#"{{"name": "{name}", "version": "{version}", "dependencies": [{dependencies}]}}"#)
    }

    fn dependency(name: &str, kind: &str, features: &[&str], default: bool) -> String {
        format!(
            r#"{{"name": "{name}", "kind": {kind}, "features": {}, "uses_default_features": {default}}}"#,
            serde_json::to_string(features).unwrap()
        )
    }

    fn workspace(dist: &str) -> Workspace {
        let emulator = package(
            "img2img-emulator",
            "0.1.0",
            &[
                dependency("tokio", "null", &["net", "signal"], true),
                dependency("tracing-subscriber", "null", &["fmt"], false),
                dependency("insta", r#""dev""#, &[], true),
            ]
            .join(","),
        );
        let harness = package(
            "img2img-harness",
            "0.1.0",
            &dependency("tokio", "null", &["process"], true),
        );
        let json = format!(r#"{{"packages": [{emulator}, {harness}, {dist}]}}"#);
        Workspace::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn the_version_is_the_dist_crates() {
        let dist = package("img2img-dist", "1.2.3", "");
        assert_eq!(workspace(&dist).dist_version().unwrap(), "1.2.3");
        let error = Workspace::parse(br#"{"packages": []}"#)
            .unwrap()
            .dist_version()
            .unwrap_err()
            .to_string();
        assert!(error.contains("no package img2img-dist"), "{error}");
    }

    #[test]
    fn dependencies_within_the_source_crates_pass() {
        let dist = package(
            "img2img-dist",
            "0.1.0",
            &[
                dependency("img2img-harness", "null", &[], true),
                dependency("tokio", "null", &["signal", "process"], true),
                dependency("tracing-subscriber", "null", &["fmt"], false),
            ]
            .join(","),
        );
        assert_eq!(
            workspace(&dist).dist_extras().unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_new_crate_a_new_feature_or_default_features_are_named() {
        let dist = package(
            "img2img-dist",
            "0.1.0",
            &[
                dependency("tokio", "null", &["fs"], true),
                dependency("tracing-subscriber", "null", &[], true),
                dependency("insta", "null", &[], true),
            ]
            .join(","),
        );
        assert_eq!(
            workspace(&dist).dist_extras().unwrap(),
            [
                "tokio: feature \"fs\" is not asked by img2img-emulator or img2img-harness",
                "tracing-subscriber: default features on, off in img2img-emulator and img2img-harness",
                "insta: neither img2img-emulator nor img2img-harness depends on it",
            ]
        );
    }

    #[test]
    fn the_dist_crate_asks_nothing_beyond_the_emulator_and_the_harness() {
        let extras = Workspace::load().unwrap().dist_extras().unwrap();
        assert!(
            extras.is_empty(),
            "dist/Cargo.toml asks more than the crates it packages, so its release build would \
             rebuild their dependencies: {extras:#?}"
        );
    }
}
