//! Discovers the providers: every `*.yaml` file beside this crate's manifest is one provider's
//! spec, its file stem the provider's id. Writes `$OUT_DIR/registry.rs`, the embedded texts in
//! the order of their ids.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut ids: Vec<String> = std::fs::read_dir(&dir)
        .expect("the specs folder is readable")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .collect();
    ids.sort();
    let mut out = String::from(
        "/// Every spec in `specs/`, by id.\npub(crate) static ENTRIES: &[Entry] = &[\n",
    );
    for id in &ids {
        let path = dir.join(format!("{id}.yaml"));
        writeln!(
            out,
            "    Entry {{ id: {id:?}, file: {file:?}, yaml: include_str!({path:?}) }},",
            file = format!("{id}.yaml"),
            path = path.display().to_string(),
        )
        .expect("writing to a string");
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("registry.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
