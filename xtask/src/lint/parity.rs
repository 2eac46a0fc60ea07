//! The lint of `x-parity` (see `specs/README.md`): each mark reads as the specs crate's typed
//! [`Parity`], says why and where from together (`kept` with an `https://` `source`), and holds
//! only the keys its place allows: a schema `kept`/`source`/`facets` and, on an object, `omitted`
//! properties it does not declare; a response `kept`/`source`; an operation `operation` and
//! `omitted` parameters (`query seed`), response statuses (`response 422`) or its `request` body.

use serde_json::{Map, Value};

use img2img_specs::Method;
use img2img_specs::parity::{PARITY, Parity};
use img2img_specs::schema::escape;

use super::rules::{in_example, is_https_url};

/// Where a mark stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Operation,
    Response,
    Schema,
}

/// Checks every `x-parity` of `document`.
pub fn check(document: &Value, add: &mut impl FnMut(&str, String)) {
    visit(document, "", &mut |pointer, map| {
        if let Some(mark) = map.get(PARITY) {
            check_mark(pointer, map, mark, add);
        }
    });
}

fn visit(value: &Value, pointer: &str, on: &mut impl FnMut(&str, &Map<String, Value>)) {
    if in_example(pointer) {
        return;
    }
    match value {
        Value::Object(map) => {
            on(pointer, map);
            for (key, child) in map.iter().filter(|(k, _)| k.as_str() != PARITY) {
                visit(child, &format!("{pointer}/{}", escape(key)), on);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                visit(child, &format!("{pointer}/{i}"), on);
            }
        }
        _ => {}
    }
}

/// What stands at `pointer`: an operation (`/paths/<path>/<method>`), a response (`.../responses/
/// <status>`, `/components/responses/<name>`), or else a schema.
fn place(pointer: &str) -> Place {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    match segments.as_slice() {
        ["paths", _, method] if is_method(method) => Place::Operation,
        ["paths", _, method, "responses", _] if is_method(method) => Place::Response,
        ["components", "responses", _] => Place::Response,
        _ => Place::Schema,
    }
}

fn check_mark(
    pointer: &str,
    map: &Map<String, Value>,
    mark: &Value,
    add: &mut impl FnMut(&str, String),
) {
    let at = format!("{pointer}/{PARITY}");
    let parity = match Parity::read(mark) {
        Ok(parity) => parity,
        Err(e) => {
            add(&at, e.to_string());
            return;
        }
    };
    let place = place(pointer);
    let allowed: &[&str] = match place {
        Place::Operation => &["operation", "omitted"],
        Place::Response => &["kept", "source"],
        Place::Schema => &["kept", "source", "facets", "omitted"],
    };
    let used = [
        ("kept", parity.kept.is_some()),
        ("source", parity.source.is_some()),
        ("facets", !parity.facets.is_empty()),
        ("omitted", !parity.omitted.is_empty()),
        ("operation", parity.operation.is_some()),
    ];
    for (key, _) in used
        .iter()
        .filter(|(k, used)| *used && !allowed.contains(k))
    {
        let on = match place {
            Place::Operation => "an operation",
            Place::Response => "a response",
            Place::Schema => "a schema",
        };
        add(
            &format!("{at}/{key}"),
            format!(
                "{key} has no meaning on {on} (allowed: {})",
                allowed.join(", ")
            ),
        );
    }
    check_reason(&at, parity.kept.as_deref(), parity.source.as_deref(), add);
    if !parity.facets.is_empty() && parity.kept.is_none() {
        add(
            &format!("{at}/facets"),
            "facets says which differences `kept` covers; give `kept` and `source`".into(),
        );
    }
    if parity
        .operation
        .as_deref()
        .is_some_and(|o| o.trim().is_empty())
    {
        add(
            &format!("{at}/operation"),
            "must name the provider's operation (its operationId, or `METHOD /path`)".into(),
        );
    }
    let declared = map.get("properties").and_then(Value::as_object);
    for (name, kept) in &parity.omitted {
        let entry = format!("{at}/omitted/{}", escape(name));
        check_reason(&entry, Some(&kept.kept), Some(&kept.source), add);
        match place {
            Place::Schema if declared.is_none() => add(
                &entry,
                "omitted names properties, so it stands on an object schema with properties".into(),
            ),
            Place::Schema if declared.is_some_and(|d| d.contains_key(name)) => add(
                &entry,
                format!(
                    "{name} is a declared property; omitted is for fields the provider has and we leave out"
                ),
            ),
            Place::Operation if !is_operation_part(name) => add(
                &entry,
                format!(
                    "{name:?} is not `request`, `response <status>` or `<path|query|header|cookie> <name>`"
                ),
            ),
            _ => {}
        }
    }
}

/// Whether `key` is a method's key in a path item (`post`).
fn is_method(key: &str) -> bool {
    Method::ALL.iter().any(|m| m.key() == key)
}

/// `kept` and `source` come together: a reason, and the https:// page it comes from.
fn check_reason(
    at: &str,
    kept: Option<&str>,
    source: Option<&str>,
    add: &mut impl FnMut(&str, String),
) {
    match (kept, source) {
        (None, None) => {}
        (Some(_), None) => add(
            at,
            "kept needs a source (the https:// URL it follows)".into(),
        ),
        (None, Some(_)) => add(at, "source needs kept (why we differ)".into()),
        (Some(kept), Some(source)) => {
            if kept.trim().is_empty() {
                add(&format!("{at}/kept"), "must say why we differ".into());
            }
            if !is_https_url(source) {
                add(
                    &format!("{at}/source"),
                    format!("{source:?} must be the https:// URL of a public source"),
                );
            }
        }
    }
}

/// What an operation's `omitted` may name.
fn is_operation_part(name: &str) -> bool {
    if name == "request" {
        return true;
    }
    match name.split_once(' ') {
        Some(("response", status)) => {
            status == "default"
                || (status.len() == 3
                    && status
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == 'X' || c == 'x'))
        }
        Some((location, parameter)) => {
            ["path", "query", "header", "cookie"].contains(&location) && !parameter.is_empty()
        }
        None => false,
    }
}

#[cfg(test)]
#[path = "tests/parity.rs"]
mod tests;
