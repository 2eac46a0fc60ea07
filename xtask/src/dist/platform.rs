//! The platforms the commands are packaged for, under npm's names (`process.platform`,
//! `process.arch`), and the package that carries the commands for each.

use std::fmt;

/// The npm package name every platform package's name starts with.
pub const NPM_PACKAGE: &str = "img2img-emulator";

/// One platform: how Rust names it (`std::env::consts`) and how npm does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    /// `std::env::consts::OS` (`linux`, `macos`, `windows`).
    pub rust_os: &'static str,
    /// `std::env::consts::ARCH` (`x86_64`, `aarch64`).
    pub rust_arch: &'static str,
    /// npm's `os` (node's `process.platform`).
    pub npm_os: &'static str,
    /// npm's `cpu` (node's `process.arch`).
    pub npm_cpu: &'static str,
    /// npm's `libc`, where the binaries need one (glibc Linux builds).
    pub libc: Option<&'static str>,
}

/// Every platform the main npm package lists in its `optionalDependencies`; `cargo xtask dist`
/// builds the package of the one it runs on.
pub const PLATFORMS: [Platform; 5] = [
    Platform {
        rust_os: "linux",
        rust_arch: "x86_64",
        npm_os: "linux",
        npm_cpu: "x64",
        libc: Some("glibc"),
    },
    Platform {
        rust_os: "linux",
        rust_arch: "aarch64",
        npm_os: "linux",
        npm_cpu: "arm64",
        libc: Some("glibc"),
    },
    Platform {
        rust_os: "macos",
        rust_arch: "x86_64",
        npm_os: "darwin",
        npm_cpu: "x64",
        libc: None,
    },
    Platform {
        rust_os: "macos",
        rust_arch: "aarch64",
        npm_os: "darwin",
        npm_cpu: "arm64",
        libc: None,
    },
    Platform {
        rust_os: "windows",
        rust_arch: "x86_64",
        npm_os: "win32",
        npm_cpu: "x64",
        libc: None,
    },
];

/// No package is made for this platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no npm platform package is defined for {os}/{arch}; the known ones are {known} \
     (add it to PLATFORMS in xtask/src/dist/platform.rs)"
)]
pub struct UnknownPlatform {
    /// `std::env::consts::OS`.
    pub os: String,
    /// `std::env::consts::ARCH`.
    pub arch: String,
    /// The platforms there are, comma-separated.
    pub known: String,
}

impl Platform {
    /// The platform with these Rust names.
    pub fn find(os: &str, arch: &str) -> Result<Platform, UnknownPlatform> {
        PLATFORMS
            .into_iter()
            .find(|p| p.rust_os == os && p.rust_arch == arch)
            .ok_or_else(|| UnknownPlatform {
                os: os.to_owned(),
                arch: arch.to_owned(),
                known: PLATFORMS
                    .iter()
                    .map(|p| format!("{}/{}", p.rust_os, p.rust_arch))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The platform xtask runs on (it builds for its host).
    pub fn host() -> Result<Platform, UnknownPlatform> {
        Platform::find(std::env::consts::OS, std::env::consts::ARCH)
    }

    /// The npm package carrying the commands for it: `img2img-emulator-<os>-<cpu>`, the name
    /// the JS helper derives from `process.platform` and `process.arch`.
    pub fn npm_package(self) -> String {
        format!("{NPM_PACKAGE}-{}-{}", self.npm_os, self.npm_cpu)
    }

    /// A command's file name on it (`emulator`, `emulator.exe`).
    pub fn executable(self, command: &str) -> String {
        if self.rust_os == "windows" {
            format!("{command}.exe")
        } else {
            command.to_owned()
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.npm_os, self.npm_cpu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_names_map_to_npm_names_and_package_names() {
        let linux = Platform::find("linux", "x86_64").unwrap();
        assert_eq!((linux.npm_os, linux.npm_cpu), ("linux", "x64"));
        assert_eq!(linux.libc, Some("glibc"));
        assert_eq!(linux.npm_package(), "img2img-emulator-linux-x64");
        assert_eq!(linux.executable("emulator"), "emulator");
        let mac = Platform::find("macos", "aarch64").unwrap();
        assert_eq!(mac.npm_package(), "img2img-emulator-darwin-arm64");
        assert_eq!(mac.libc, None);
        let windows = Platform::find("windows", "x86_64").unwrap();
        assert_eq!(windows.npm_package(), "img2img-emulator-win32-x64");
        assert_eq!(windows.executable("conformance"), "conformance.exe");
        assert_eq!(windows.to_string(), "win32-x64");
    }

    #[test]
    fn an_unknown_platform_is_refused_with_the_known_ones() {
        let error = Platform::find("freebsd", "riscv64")
            .unwrap_err()
            .to_string();
        assert!(error.contains("freebsd/riscv64"), "{error}");
        assert!(error.contains("linux/x86_64, linux/aarch64"), "{error}");
    }

    #[test]
    fn every_platform_is_listed_once() {
        let mut names: Vec<String> = PLATFORMS.iter().map(|p| p.npm_package()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PLATFORMS.len());
    }
}
