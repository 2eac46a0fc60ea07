//! The npm packages, laid out as esbuild's: the main package `img2img-emulator` (the JS helper,
//! its types, launchers for the commands) lists one package per platform in its
//! `optionalDependencies`; each of those declares its `os`, `cpu` (and `libc`), so npm installs
//! only the one that matches, and carries the two binaries. Nothing is downloaded at install time.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use serde_json::{Map, Value, json};

use super::platform::{NPM_PACKAGE, PLATFORMS, Platform};

/// The file `npm pack` writes for a package (`@scope/name` → `scope-name-<version>.tgz`).
pub fn tarball_name(package: &str, version: &str) -> String {
    let name = package.trim_start_matches('@').replace('/', "-");
    format!("{name}-{version}.tgz")
}

/// The main package's `package.json`: the committed one (`dist/npm/img2img-emulator/`) with the
/// version and one optional dependency per platform, each at the same version.
pub fn main_manifest(committed: &str, version: &str) -> anyhow::Result<Value> {
    let mut manifest: Map<String, Value> =
        serde_json::from_str(committed).context("dist/npm/img2img-emulator/package.json")?;
    anyhow::ensure!(
        manifest.get("name") == Some(&json!(NPM_PACKAGE)),
        "dist/npm/img2img-emulator/package.json must be named {NPM_PACKAGE}"
    );
    manifest.insert("version".into(), json!(version));
    let optional: Map<String, Value> = PLATFORMS
        .iter()
        .map(|p| (p.npm_package(), json!(version)))
        .collect();
    manifest.insert("optionalDependencies".into(), Value::Object(optional));
    Ok(Value::Object(manifest))
}

/// A platform package's `package.json`.
pub fn platform_manifest(platform: Platform, version: &str, license: &str) -> Value {
    let mut manifest = json!({
        "name": platform.npm_package(),
        "version": version,
        "description": format!(
            "The emulator and conformance commands of {NPM_PACKAGE} for {platform}; install {NPM_PACKAGE}, which depends on it"
        ),
        "license": license,
        "os": [platform.npm_os],
        "cpu": [platform.npm_cpu],
        "files": ["bin/", "README.md"],
        "preferUnplugged": true,
    });
    if let Some(libc) = platform.libc {
        manifest["libc"] = json!([libc]);
    }
    manifest
}

/// Copies a folder's files (not `node_modules/`) into `to`.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            if entry.file_name() != "node_modules" {
                copy_tree(&entry.path(), &target)?;
            }
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// What goes into the two packages.
pub struct Inputs<'a> {
    /// `dist/npm/img2img-emulator/`.
    pub main_source: &'a Path,
    /// The client grader's `scenarios.json`.
    pub scenarios: &'a Path,
    /// The built commands: (name, path).
    pub commands: &'a [(&'a str, PathBuf)],
    /// This platform.
    pub platform: Platform,
    /// The workspace version.
    pub version: &'a str,
}

/// Lays out both packages under `staging` and packs each into `out` with `npm pack`; returns the
/// tarballs (the platform package's first).
pub fn build(inputs: &Inputs<'_>, staging: &Path, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let main_dir = staging.join(NPM_PACKAGE);
    copy_tree(inputs.main_source, &main_dir)?;
    std::fs::copy(inputs.scenarios, main_dir.join("scenarios.json"))?;
    let committed = std::fs::read_to_string(inputs.main_source.join("package.json"))?;
    let main = main_manifest(&committed, inputs.version)?;
    write_json(&main_dir.join("package.json"), &main)?;
    let license = main["license"].as_str().unwrap_or("UNLICENSED").to_owned();

    let platform = inputs.platform;
    let platform_dir = staging.join(platform.npm_package());
    let bin = platform_dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    for (name, path) in inputs.commands {
        let target = bin.join(platform.executable(name));
        std::fs::copy(path, &target).with_context(|| format!("cannot copy {}", path.display()))?;
        make_executable(&target)?;
    }
    write_json(
        &platform_dir.join("package.json"),
        &platform_manifest(platform, inputs.version, &license),
    )?;
    std::fs::write(
        platform_dir.join("README.md"),
        format!(
            "# {}\n\nThe `emulator` and `conformance` commands of [`{NPM_PACKAGE}`](https://www.npmjs.com/package/{NPM_PACKAGE}) \
             for {platform}, installed by npm as one of its optional dependencies. Install `{NPM_PACKAGE}` instead.\n",
            platform.npm_package()
        ),
    )?;

    let mut tarballs = Vec::new();
    for (dir, name) in [
        (&platform_dir, platform.npm_package()),
        (&main_dir, NPM_PACKAGE.to_owned()),
    ] {
        let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
        super::run_command(
            Command::new(npm)
                .args(["pack", "--silent", "--pack-destination"])
                .arg(out)
                .current_dir(dir),
        )
        .context("the npm packages need npm (`npm pack`)")?;
        let tarball = out.join(tarball_name(&name, inputs.version));
        anyhow::ensure!(tarball.is_file(), "npm pack wrote no {}", tarball.display());
        tarballs.push(tarball);
    }
    Ok(tarballs)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarball_names_follow_npm_pack() {
        assert_eq!(
            tarball_name("img2img-emulator-linux-x64", "0.1.0"),
            "img2img-emulator-linux-x64-0.1.0.tgz"
        );
        assert_eq!(tarball_name("@scope/pkg", "1.0.0"), "scope-pkg-1.0.0.tgz");
    }

    #[test]
    fn the_main_package_lists_every_platform_at_its_own_version() {
        let manifest = main_manifest(
            r#"{"name": "img2img-emulator", "main": "index.js"}"#,
            "0.3.0",
        )
        .unwrap();
        assert_eq!(manifest["version"], "0.3.0");
        assert_eq!(manifest["main"], "index.js");
        let optional = manifest["optionalDependencies"].as_object().unwrap();
        assert_eq!(optional.len(), PLATFORMS.len());
        assert_eq!(optional["img2img-emulator-linux-x64"], "0.3.0");
        assert_eq!(optional["img2img-emulator-win32-x64"], "0.3.0");
        let error = main_manifest(r#"{"name": "other"}"#, "0.3.0")
            .unwrap_err()
            .to_string();
        assert!(error.contains("must be named img2img-emulator"), "{error}");
    }

    #[test]
    fn a_platform_package_declares_its_os_cpu_and_libc() {
        let linux = Platform::find("linux", "aarch64").unwrap();
        let manifest = platform_manifest(linux, "0.1.0", "MIT");
        assert_eq!(manifest["name"], "img2img-emulator-linux-arm64");
        assert_eq!(manifest["os"], json!(["linux"]));
        assert_eq!(manifest["cpu"], json!(["arm64"]));
        assert_eq!(manifest["libc"], json!(["glibc"]));
        let mac = Platform::find("macos", "x86_64").unwrap();
        assert!(platform_manifest(mac, "0.1.0", "MIT").get("libc").is_none());
    }

    #[test]
    fn the_committed_main_package_json_is_complete_but_for_what_dist_adds() {
        let path = xtask::project::root().join("dist/npm/img2img-emulator/package.json");
        let manifest = main_manifest(&std::fs::read_to_string(path).unwrap(), "0.1.0").unwrap();
        for field in ["main", "types", "bin", "files", "license"] {
            assert!(manifest.get(field).is_some(), "package.json has no {field}");
        }
    }
}
