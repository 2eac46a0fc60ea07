//! The wheel: maturin (the version `dist/python/pyproject.toml` pins, from PyPI) builds
//! `img2img-emulator` from `dist/python/` with `bindings = "bin"`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use super::run_command;

/// The wheel's distribution name (`[project] name` in `dist/python/pyproject.toml`).
pub const DISTRIBUTION: &str = "img2img-emulator";

/// The maturin version pinned in the pyproject's `build-system.requires` (`maturin==X`), so
/// `cargo xtask dist` and `pip install ./dist/python` build with the same one.
pub fn maturin_pin(pyproject: &str) -> anyhow::Result<String> {
    const PREFIX: &str = "\"maturin==";
    let start = pyproject.find(PREFIX).context(
        "dist/python/pyproject.toml pins no maturin (\"maturin==X\" in build-system.requires)",
    )? + PREFIX.len();
    let version = &pyproject[start..][..pyproject[start..]
        .find('"')
        .context("unterminated maturin pin")?];
    anyhow::ensure!(
        !version.is_empty()
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.'),
        "the maturin pin {version:?} is not an exact version"
    );
    Ok(version.to_owned())
}

/// The start of the wheel's file name: the distribution name normalized as wheel file names
/// require (runs of `-`, `_`, `.` become `_`, lower case), then the version.
pub fn wheel_prefix(distribution: &str, version: &str) -> String {
    let mut name = String::new();
    for c in distribution.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !name.ends_with('_') {
                name.push('_');
            }
        } else {
            name.push(c.to_ascii_lowercase());
        }
    }
    format!("{name}-{version}-")
}

/// A maturin of the pinned version: `$MATURIN` when set, else the one in `tools` (a virtual
/// environment `cargo xtask dist` makes and fills from PyPI the first time).
pub fn maturin(tools: &Path, pin: &str) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("MATURIN") {
        return Ok(PathBuf::from(path));
    }
    let bin = tools.join(if cfg!(windows) { "Scripts" } else { "bin" });
    let maturin = bin.join(if cfg!(windows) {
        "maturin.exe"
    } else {
        "maturin"
    });
    if version_of(&maturin).as_deref() == Some(pin) {
        return Ok(maturin);
    }
    eprintln!(
        "installing maturin {pin} from PyPI into {}",
        tools.display()
    );
    let python = if cfg!(windows) { "python" } else { "python3" };
    run_command(Command::new(python).args(["-m", "venv"]).arg(tools)).with_context(|| {
        format!("cannot make a virtual environment with {python} (is python3-venv installed?)")
    })?;
    run_command(
        Command::new(bin.join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(format!("maturin=={pin}")),
    )?;
    anyhow::ensure!(
        version_of(&maturin).as_deref() == Some(pin),
        "{} is not maturin {pin} after installing it",
        maturin.display()
    );
    Ok(maturin)
}

/// `maturin --version` → `1.16.0`, or None when it does not run.
fn version_of(maturin: &Path) -> Option<String> {
    let output = Command::new(maturin).arg("--version").output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    text.split_whitespace().nth(1).map(str::to_owned)
}

/// Runs maturin in `project` (the pyproject's folder) and returns the wheel it wrote to `out`.
pub fn build(maturin: &Path, project: &Path, out: &Path, version: &str) -> anyhow::Result<PathBuf> {
    run_command(
        Command::new(maturin)
            .args(["build", "--release", "--out"])
            .arg(out)
            .current_dir(project),
    )?;
    let prefix = wheel_prefix(DISTRIBUTION, version);
    let wheels: Vec<PathBuf> = std::fs::read_dir(out)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
        .collect();
    match wheels.as_slice() {
        [wheel] => Ok(wheel.clone()),
        _ => anyhow::bail!(
            "expected one {prefix}*.whl in {} after maturin, found {}",
            out.display(),
            wheels.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maturin_pin_is_read_from_the_pyproject() {
        let text =
            "[build-system]\nrequires = [\"maturin==1.16.0\"]\nbuild-backend = \"maturin\"\n";
        assert_eq!(maturin_pin(text).unwrap(), "1.16.0");
        let error = maturin_pin("requires = [\"maturin>=1\"]")
            .unwrap_err()
            .to_string();
        assert!(error.contains("pins no maturin"), "{error}");
        let error = maturin_pin("requires = [\"maturin==1.*\"]")
            .unwrap_err()
            .to_string();
        assert!(error.contains("not an exact version"), "{error}");
    }

    #[test]
    fn the_committed_pyproject_pins_maturin() {
        let path = xtask::project::root().join("dist/python/pyproject.toml");
        let text = std::fs::read_to_string(path).unwrap();
        assert!(maturin_pin(&text).is_ok());
        assert!(text.contains(&format!("name = \"{DISTRIBUTION}\"")));
    }

    #[test]
    fn wheel_names_are_normalized() {
        assert_eq!(
            wheel_prefix("img2img-emulator", "0.1.0"),
            "img2img_emulator-0.1.0-"
        );
        assert_eq!(wheel_prefix("A.b--C_d", "2.0.0rc1"), "a_b_c_d-2.0.0rc1-");
    }
}
