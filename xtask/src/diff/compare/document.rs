//! The document-level facts: the default server, `x-provider`, `x-auth`, `x-job`, and the
//! capabilities where more is better (`x-output`, `x-limits`).

use img2img_specs::schema::escape;
use serde_json::{Map, Value, json};

use super::change::{Changes, Kind, Site};
use super::keyed::{Lead, Pair, keyed_diff};
use super::ranges;

/// Records what changed in the servers and the document-level extensions.
pub fn compare(old: &Value, new: &Value, out: &mut Changes) {
    let server = |doc: &Value| doc.pointer("/servers/0/url").cloned();
    if server(old) != server(new) {
        let site = Site::document("the default server (DEFAULT_BASE_URL)");
        out.at("/servers/0/url", &site).keyword("servers").changed(
            Kind::AnnotationChanged,
            server(old),
            server(new),
        );
    }
    let empty = Map::new();
    for key in ["x-provider", "x-auth", "x-job"] {
        let a = old.get(key).and_then(Value::as_object).unwrap_or(&empty);
        let b = new.get(key).and_then(Value::as_object).unwrap_or(&empty);
        for (name, pair) in keyed_diff(a, b, Lead::Old) {
            let kind = match pair {
                Pair::Both(x, y) if x == y => continue,
                // A new key adds a fact without changing one the client relies on.
                Pair::Added(_) => Kind::AnnotationChanged,
                _ if key == "x-provider" => Kind::AnnotationChanged,
                _ => Kind::ClientBehaviourChanged,
            };
            let (x, y) = pair.sides();
            let keyword = format!("{key}.{name}");
            out.at(
                format!("/{key}/{}", escape(name)),
                &Site::document(format!("`{keyword}`")),
            )
            .keyword(&keyword)
            .changed(kind, x.cloned(), y.cloned());
        }
    }
    for key in ["x-output", "x-limits"] {
        let a = old.get(key).cloned().unwrap_or(json!({}));
        let b = new.get(key).cloned().unwrap_or(json!({}));
        capability(&a, &b, &format!("/{key}"), key, out);
    }
}

/// A document-level fact where more is better, `name` at `pointer` (`x-output.formats`).
fn capability(old: &Value, new: &Value, pointer: &str, name: &str, out: &mut Changes) {
    if old == new {
        return;
    }
    let site = Site::document(format!("`{name}`"));
    let kind = match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, pair) in keyed_diff(a, b, Lead::Old) {
                let child = format!("{pointer}/{}", escape(key));
                let child_name = format!("{name}.{key}");
                // A limit that disappears no longer bounds anything, and the reverse.
                let kind = match pair {
                    Pair::Both(x, y) => {
                        capability(x, y, &child, &child_name, out);
                        continue;
                    }
                    Pair::Removed(_) => Kind::RangeWidened,
                    Pair::Added(_) => Kind::RangeNarrowed,
                };
                let (x, y) = pair.sides();
                out.at(child, &Site::document(format!("`{child_name}`")))
                    .keyword(&child_name)
                    .changed(kind, x.cloned(), y.cloned());
            }
            return;
        }
        (Value::Array(a), Value::Array(b)) => {
            ranges::list_values(a, b, pointer, &site, name, out);
            return;
        }
        (Value::Number(a), Value::Number(b)) if b.as_f64() < a.as_f64() => Kind::RangeNarrowed,
        (Value::Number(_), Value::Number(_)) => Kind::RangeWidened,
        (Value::Bool(true), Value::Bool(_)) => Kind::RangeNarrowed,
        (Value::Bool(_), Value::Bool(_)) => Kind::RangeWidened,
        _ if name
            .rsplit('.')
            .next()
            .is_some_and(|k| k.contains("default")) =>
        {
            Kind::DefaultChanged
        }
        _ => Kind::ConstraintChanged,
    };
    out.at(pointer, &site)
        .keyword(name)
        .changed(kind, Some(old.clone()), Some(new.clone()));
}
