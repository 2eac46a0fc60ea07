//! `cargo xtask codegen [--check]`: one typed client crate per spec, under `generated/<provider>/`.
//!
//! progenitor (builder style) writes the types and operations; this module adds the crate header,
//! the `ClientHooks` impl that runs `img2img_specs::guard::prepare` before every request, and the
//! crate manifest; rustfmt makes the result stable. The output is byte-for-byte deterministic, so
//! `--check` (and the test below) can compare it with what is checked in.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use img2img_specs::extensions::AuthPlacement;
use img2img_specs::{Provider, Spec};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use sha2::{Digest, Sha256};

use xtask::{diff, project};

/// Whether to write the files or only compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write every file whose contents changed.
    Write,
    /// Change nothing; fail naming each stale file.
    Check,
}

/// One file the generator owns.
struct Output {
    /// Relative to the workspace root.
    path: PathBuf,
    contents: String,
}

/// Regenerates (or checks) every provider's client crate.
pub fn run(mode: Mode) -> anyhow::Result<()> {
    let root = project::root();
    let mut stale = Vec::new();
    for provider in Provider::all() {
        let (text, spec) = project::load_spec(provider)?;
        let outputs = render(provider, &text, &spec)
            .with_context(|| format!("generating the client for specs/{}", provider.spec_file()))?;
        let mut regenerated = false;
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
                    regenerated = true;
                }
            }
        }
        if regenerated && let Some(summary) = diff::summary_since_head(provider, &text) {
            println!("specs/{} changed since HEAD:", provider.spec_file());
            print!("{summary}");
        }
        for orphan in orphans(&root, provider, &outputs)? {
            match mode {
                Mode::Check => stale.push(format!("{} (not generated any more)", orphan.display())),
                Mode::Write => {
                    std::fs::remove_file(root.join(&orphan))?;
                    println!("removed {}", orphan.display());
                }
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

/// Files under `generated/<provider>/` (but `target/`) that the generator does not write.
fn orphans(root: &Path, provider: Provider, outputs: &[Output]) -> anyhow::Result<Vec<PathBuf>> {
    let dir = Path::new("generated").join(provider.id());
    let mut found = Vec::new();
    let mut pending = vec![dir];
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

fn render(provider: Provider, text: &str, spec: &Spec) -> anyhow::Result<Vec<Output>> {
    let dir = Path::new("generated").join(provider.id());
    let sha = hex(&Sha256::digest(text.as_bytes()));
    Ok(vec![
        Output {
            path: dir.join("Cargo.toml"),
            contents: manifest(provider, spec),
        },
        Output {
            path: dir.join("src").join("lib.rs"),
            contents: library(provider, spec, &sha)?,
        },
    ])
}

/// The crate name of a provider's generated client.
pub fn crate_name(provider: Provider) -> String {
    format!("img2img-{}-client", provider.id())
}

fn manifest(provider: Provider, spec: &Spec) -> String {
    format!(
        r#"# Generated by `cargo xtask codegen` from specs/{file}. Do not edit.
[package]
name = "{name}"
version = "0.1.0"
description = "Typed client for {title}, generated from specs/{file}"
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[lib]
# Doc comments come from the spec's descriptions: prose, not Rust.
doctest = false

[dependencies]
bytes.workspace = true
futures-core = "0.3"
img2img-specs = {{ workspace = true, features = ["guard"] }}
progenitor-client.workspace = true
regress.workspace = true
reqwest.workspace = true
serde.workspace = true
serde_json.workspace = true
"#,
        file = provider.spec_file(),
        name = crate_name(provider),
        title = spec.extensions().provider.name,
    )
}

fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote::quote!(Credentials))
        .with_derive("PartialEq")
        .with_timeout(120)
        .with_replacement(
            "ApiKey",
            "::img2img_specs::ApiKey",
            [TypeImpl::FromStr, TypeImpl::Display].into_iter(),
        );
    settings
}

fn library(provider: Provider, spec: &Spec, sha: &str) -> anyhow::Result<String> {
    let mut generator = Generator::new(&settings());
    let tokens = generator
        .generate_tokens(spec.openapi())
        .map_err(|e| anyhow::anyhow!("progenitor: {e}"))?;
    let file: syn::File =
        syn::parse2(tokens).context("progenitor produced code syn cannot parse")?;
    let body = prettyplease::unparse(&file);

    let ext = spec.extensions();
    let server = spec
        .openapi()
        .servers
        .first()
        .map(|s| s.url.clone())
        .unwrap_or_default();
    let auth = match ext.auth.placement {
        AuthPlacement::Header if ext.auth.prefix.is_empty() => {
            format!("the raw key in the `{}` header", ext.auth.name)
        }
        AuthPlacement::Header => format!(
            "`{}{{key}}` in the `{}` header",
            ext.auth.prefix, ext.auth.name
        ),
        AuthPlacement::Body => format!("the key in the `{}` field of the JSON body", ext.auth.name),
    };

    let mut out = String::new();
    writeln!(
        out,
        "//! Typed client for {}: {}.",
        ext.provider.name, ext.provider.model
    )?;
    out.push_str(&format!(
        r#"//!
//! Generated by `cargo xtask codegen` from `specs/{file}`. Do not edit: change the spec and
//! regenerate; `cargo xtask codegen --check` and `cargo test` fail while this file is stale.
//!
//! Build a [`Client`] from a base URL (`scheme://host[:port]`, the live one is
//! [`DEFAULT_BASE_URL`]) and [`Credentials`]. Before any byte is sent, every request passes
//! `img2img_specs::guard::prepare`: the body is validated against the spec (a value the spec rules
//! out is refused with [`Error::InvalidRequest`] naming the field, the value and the allowed range),
//! the key is sent as {auth}, and progenitor's `api-version` header is dropped.
//! A key that is missing or cannot be sent is refused with [`Error::Custom`]; both refusals carry a
//! kind that `img2img_specs::guard::GuardRefusal::from_hook_message` reads back.
//!
//! Spec SHA-256: `{sha}`
#![allow(clippy::all, dead_code, missing_docs, unused_imports)]

pub use img2img_specs::ApiKey;
pub use img2img_specs::guard::Credentials;

/// The id of the provider this client speaks to (`specs/{file}`).
pub const PROVIDER_ID: &str = "{id}";

/// The provider this client speaks to.
pub fn provider() -> img2img_specs::Provider {{
    img2img_specs::Provider::named(PROVIDER_ID)
}}

/// The live provider's base URL (the spec's first server).
pub const DEFAULT_BASE_URL: &str = "{server}";

/// SHA-256 of `specs/{file}` as it was when this crate was generated.
pub const SPEC_SHA256: &str = "{sha}";

"#,
        file = provider.spec_file(),
        id = provider.id(),
    ));
    out.push_str(&body);
    out.push_str(
        r#"
/// The request guard: validation against the spec, the key, no `api-version` header. A refusal
/// of the request is [`Error::InvalidRequest`], one of the key or the build [`Error::Custom`];
/// both carry `GuardError::to_hook_message`, read back by `GuardRefusal::from_hook_message`.
impl ClientHooks<Credentials> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> std::result::Result<(), Error<E>> {
        img2img_specs::guard::prepare(provider(), info.operation_id, &self.inner, request).map_err(
            |e| {
                let message = e.to_hook_message();
                if e.kind().is_request_fault() {
                    Error::InvalidRequest(message)
                } else {
                    Error::Custom(message)
                }
            },
        )
    }
}
"#,
    );
    format_to_fixpoint(&out)
}

/// rustfmt is not idempotent on the `/** … */` doc blocks prettyplease writes (the closing `*/`
/// moves on a second pass): format until nothing changes, so `cargo fmt` agrees with the output.
fn format_to_fixpoint(source: &str) -> anyhow::Result<String> {
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    /// `cargo test` fails while a spec changed without `cargo xtask codegen`.
    #[test]
    fn generated_clients_are_up_to_date() {
        if let Err(error) = super::run(super::Mode::Check) {
            panic!("{error:#}");
        }
    }
}
