//! A provider's own published spec: OpenAPI 3.0 or 3.1, JSON or YAML, read as a JSON value
//! (`openapiv3` reads 3.0 only). In a 3.1 document a `$ref` with sibling keywords means both
//! (`{$ref, default}`); it is rewritten as `{allOf: [{$ref}], default}` so that the conversion to
//! JSON Schema, which reads a `$ref` the 3.0 way, keeps the siblings. The path of the first
//! server URL (`https://api.example.com/v6/images` → `/v6/images`) is the base every path
//! of the document stands under.

use std::path::Path;

use serde_json::{Map, Value};

use super::ParityError;

/// A provider's published spec, ready to compare.
#[derive(Debug, Clone)]
pub struct Published {
    /// Where it came from, as given (a file path).
    pub label: String,
    /// Its `info.title`.
    pub title: String,
    /// Its `info.version`.
    pub version: String,
    /// Its `openapi` version (`3.1.0`).
    pub openapi: String,
    /// The path every operation's path stands under (`/api/v6/images`; `""` for none).
    pub base_path: String,
    /// The document, `$ref` siblings rewritten for 3.1.
    pub document: Value,
}

impl Published {
    /// Reads a spec file.
    pub fn load(path: &Path) -> Result<Published, ParityError> {
        let text = std::fs::read_to_string(path).map_err(|source| ParityError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Published::parse(&text, &path.display().to_string())
    }

    /// Parses spec text (JSON, or YAML 1.2 with core booleans only), labelled `label`.
    pub fn parse(text: &str, label: &str) -> Result<Published, ParityError> {
        let document: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(_) => {
                let options = serde_saphyr::options! { strict_booleans: true };
                serde_saphyr::from_str_with_options(text, options).map_err(|e| {
                    ParityError::NotASpec {
                        label: label.to_owned(),
                        message: format!("neither JSON nor YAML: {e}"),
                    }
                })?
            }
        };
        let openapi = document
            .get("openapi")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let is_31 = openapi.starts_with("3.1.");
        if !(is_31 || openapi.starts_with("3.0.")) {
            let found = document.get("swagger").map_or_else(
                || format!("openapi = {openapi:?}"),
                |v| format!("swagger = {v}"),
            );
            return Err(ParityError::NotASpec {
                label: label.to_owned(),
                message: format!("{found}: --against reads OpenAPI 3.0 and 3.1 documents"),
            });
        }
        if !document.get("paths").is_none_or(Value::is_object) {
            return Err(ParityError::NotASpec {
                label: label.to_owned(),
                message: "`paths` is not an object".into(),
            });
        }
        let info = |key: &str| {
            document
                .pointer(&format!("/info/{key}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (title, version) = (info("title"), info("version"));
        let base_path = document
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .map(base_path)
            .unwrap_or_default();
        let document = if is_31 {
            rewrite_ref_siblings(document, false)
        } else {
            document
        };
        Ok(Published {
            label: label.to_owned(),
            title,
            version,
            openapi,
            base_path,
            document,
        })
    }

    /// The file name it came from (no directory), for records that must not carry local paths.
    pub fn file_name(&self) -> String {
        Path::new(&self.label)
            .file_name()
            .map_or_else(|| self.label.clone(), |n| n.to_string_lossy().into_owned())
    }
}

/// The path of a server URL, without a trailing `/` (`https://h/api/v6/` → `/api/v6`).
fn base_path(url: &str) -> String {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    path.trim_end_matches('/').to_owned()
}

/// Rewrites, inside schemas, every `{$ref, siblings...}` with a sibling that is not an `x-`
/// annotation into `{allOf: [{$ref}], siblings...}`.
fn rewrite_ref_siblings(value: Value, in_schema: bool) -> Value {
    match value {
        Value::Object(map) => {
            let rewrite = in_schema
                && map.contains_key("$ref")
                && map.keys().any(|k| k != "$ref" && !k.starts_with("x-"));
            let mut out = Map::new();
            for (key, child) in map {
                // `schema` (of a media type or a parameter) and `schemas` (of components)
                // hold schemas; so does everything inside one, but `properties` maps names.
                let child_in_schema = in_schema || key == "schema" || key == "schemas";
                out.insert(key, rewrite_ref_siblings(child, child_in_schema));
            }
            if rewrite && let Some(reference) = out.remove("$ref") {
                let mut target = Map::new();
                target.insert("$ref".into(), reference);
                out.insert("allOf".into(), Value::Array(vec![Value::Object(target)]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| rewrite_ref_siblings(v, in_schema))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
#[path = "tests/published.rs"]
mod tests;
