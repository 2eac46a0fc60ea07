//! One schema against its other version, after `to_json_schema` has inlined its `$ref`s (so an
//! `x-` annotation beside a `$ref` is compared like any other): type, enum, bounds, default,
//! properties and their required marks, `additionalProperties`, `items`, the `oneOf`/`anyOf`/
//! `allOf` branches, `x-required-if`, then every other keyword.

use std::collections::BTreeSet;

use img2img_specs::schema::escape;
use serde_json::{Map, Value, json};

use super::change::{Changes, Kind, Site};
use super::keyed::{Lead, Pair, keyed_diff};
use super::ranges;

/// Keys that are prose or bookkeeping, never compared.
const IGNORED: &[&str] = &[
    "description",
    "title",
    "summary",
    "$schema",
    "example",
    "examples",
    "externalDocs",
    "x-because",
];

/// Schema keys handled by dedicated rules (bounds aside, see [`ranges::is_bound`]).
const HANDLED: &[&str] = &[
    "type",
    "enum",
    "default",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "oneOf",
    "anyOf",
    "allOf",
    "x-required-if",
    "x-dimensions",
];

/// Compares the schemas of one place (a request body, a response, a parameter).
pub struct SchemaWalk<'a> {
    /// Where the changes go.
    pub out: &'a mut Changes,
    /// The place the schemas belong to; fields inside are named after it.
    pub owner: &'a Site,
}

impl SchemaWalk<'_> {
    /// Compares `old` with `new`, the schema of `field` (`""` for the whole) at pointer `at`.
    pub fn schema(&mut self, old: &Value, new: &Value, at: &str, field: &str) {
        if old == new {
            return;
        }
        let site = self.owner.field(field);
        let (Some(a), Some(b)) = (old.as_object(), new.as_object()) else {
            // Boolean schemas (`true`/`false`) or anything odd: one opaque change.
            self.out
                .at(at, &site)
                .changed(Kind::TypeChanged, Some(old.clone()), Some(new.clone()));
            return;
        };

        if types(a) != types(b) {
            self.out
                .key(at, "type", &site)
                .changed_in(Kind::TypeChanged, a, b);
        }
        match (a.get("enum"), b.get("enum")) {
            (Some(Value::Array(x)), Some(Value::Array(y))) => {
                ranges::list_values(x, y, &format!("{at}/enum"), &site, "enum", self.out);
            }
            (None, None) => {}
            (x, y) => self.presence(&format!("{at}/enum"), &site, "enum", x.cloned(), y.cloned()),
        }
        ranges::bounds(a, b, at, &site, self.out);
        let dims = |m: &Map<String, Value>| {
            m.get("x-dimensions")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let dimensions = format!("{at}/x-dimensions");
        ranges::bounds(&dims(a), &dims(b), &dimensions, &site, self.out);
        if a.get("default") != b.get("default") {
            self.out
                .key(at, "default", &site)
                .changed_in(Kind::DefaultChanged, a, b);
        }
        self.properties(a, b, at, field);
        self.additional_properties(a, b, at, field, &site);
        match (a.get("items"), b.get("items")) {
            (Some(x), Some(y)) => self.schema(x, y, &format!("{at}/items"), &join(field, "[]")),
            (None, None) => {}
            (x, y) => self.presence(
                &format!("{at}/items"),
                &site,
                "items",
                x.map(brief),
                y.map(brief),
            ),
        }
        self.branches(a, b, at, field, &site);
        self.required_if(a, b, at, field);
        self.other_keys(a, b, at, &site);
    }

    /// A keyword that restricts values (`enum`, `items`) appeared (narrowed) or went (widened).
    fn presence(
        &mut self,
        pointer: &str,
        site: &Site,
        keyword: &str,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        let kind = if new.is_some() {
            Kind::RangeNarrowed
        } else {
            Kind::RangeWidened
        };
        self.out
            .at(pointer, site)
            .keyword(keyword)
            .changed(kind, old, new);
    }

    /// Properties gone, new, or in both (compared, with their required mark), then required names
    /// that have no property on either side.
    fn properties(
        &mut self,
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        at: &str,
        field: &str,
    ) {
        let props =
            |m: &Map<String, Value>| m.get("properties").and_then(Value::as_object).cloned();
        let (x, y) = (props(a).unwrap_or_default(), props(b).unwrap_or_default());
        let (rx, ry) = (required(a), required(b));
        for (name, pair) in keyed_diff(&x, &y, Lead::Old) {
            let pointer = format!("{at}/properties/{}", escape(name));
            let child = join(field, name);
            let site = self.owner.field(&child);
            match pair {
                Pair::Both(p, q) => {
                    let kind = match (rx.contains(name), ry.contains(name)) {
                        (false, true) => Some(Kind::MadeRequired),
                        (true, false) => Some(Kind::MadeOptional),
                        _ => None,
                    };
                    if let Some(kind) = kind {
                        self.out
                            .at(pointer.clone(), &site)
                            .keyword("required")
                            .changed(
                                kind,
                                Some(json!(rx.contains(name))),
                                Some(json!(ry.contains(name))),
                            );
                    }
                    self.schema(p, q, &pointer, &child);
                }
                Pair::Removed(p) => self
                    .out
                    .at(pointer, &site)
                    .removed(Kind::FieldRemoved, brief(p)),
                Pair::Added(q) => self
                    .out
                    .at(pointer, &site)
                    .required(ry.contains(name))
                    .added(Kind::FieldAdded, brief(q)),
            }
        }
        // Required names with no property on either side (rare, but a contract all the same).
        for name in rx.symmetric_difference(&ry) {
            if x.contains_key(name) || y.contains_key(name) {
                continue;
            }
            let kind = if ry.contains(name) {
                Kind::MadeRequired
            } else {
                Kind::MadeOptional
            };
            let site = self.owner.field(&join(field, name));
            self.out
                .at(format!("{at}/required"), &site)
                .keyword("required")
                .changed(
                    kind,
                    Some(json!(rx.contains(name))),
                    Some(json!(ry.contains(name))),
                );
        }
    }

    /// `additionalProperties`: two schemas are compared; otherwise `false` admits nothing, a
    /// schema some, `true` (or absent) anything.
    fn additional_properties(
        &mut self,
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        at: &str,
        field: &str,
        site: &Site,
    ) {
        let (x, y) = (a.get("additionalProperties"), b.get("additionalProperties"));
        if x == y {
            return;
        }
        let rank = |v: Option<&Value>| match v {
            Some(Value::Bool(false)) => 0,
            Some(Value::Object(_)) => 1,
            _ => 2,
        };
        let pointer = format!("{at}/additionalProperties");
        match (x, y) {
            (Some(p @ Value::Object(_)), Some(q @ Value::Object(_))) => {
                self.schema(p, q, &pointer, &join(field, "*"));
            }
            _ if rank(x) == rank(y) => {}
            _ => {
                let kind = if rank(y) < rank(x) {
                    Kind::RangeNarrowed
                } else {
                    Kind::RangeWidened
                };
                self.out
                    .at(pointer, site)
                    .keyword("additionalProperties")
                    .changed(kind, x.map(brief), y.map(brief));
            }
        }
    }

    /// `oneOf`/`anyOf`/`allOf`: a different number of branches changes the type; branches at the
    /// same index are compared.
    fn branches(
        &mut self,
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        at: &str,
        field: &str,
        site: &Site,
    ) {
        for key in ["oneOf", "anyOf", "allOf"] {
            let branches = |m: &Map<String, Value>| -> Vec<Value> {
                let Some(list) = m.get(key).and_then(Value::as_array) else {
                    return Vec::new();
                };
                list.iter()
                    // `allOf` entries made from `x-required-if` are compared through it.
                    .filter(|s| s.pointer("/then/x-because").is_none())
                    .cloned()
                    .collect()
            };
            let (x, y) = (branches(a), branches(b));
            if x.len() != y.len() {
                self.out
                    .at(format!("{at}/{key}"), site)
                    .keyword(key)
                    .changed(
                        Kind::TypeChanged,
                        Some(json!(x.len())),
                        Some(json!(y.len())),
                    );
            }
            for (i, (x, y)) in x.iter().zip(&y).enumerate() {
                self.schema(x, y, &format!("{at}/{key}/{i}"), field);
            }
        }
    }

    /// `x-required-if`: a property required under a condition.
    fn required_if(
        &mut self,
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        at: &str,
        field: &str,
    ) {
        let rules = |m: &Map<String, Value>| {
            m.get("x-required-if")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let (x, y) = (rules(a), rules(b));
        for (name, pair) in keyed_diff(&x, &y, Lead::Old) {
            let kind = match pair {
                Pair::Added(_) => Kind::MadeRequired,
                Pair::Removed(_) => Kind::MadeOptional,
                Pair::Both(p, q) if p != q => Kind::ConstraintChanged,
                Pair::Both(..) => continue,
            };
            let (p, q) = pair.sides();
            let site = self.owner.field(&join(field, name));
            self.out
                .at(format!("{at}/x-required-if/{}", escape(name)), &site)
                .keyword("x-required-if")
                .changed(kind, p.cloned(), q.cloned());
        }
    }

    /// Every keyword no rule above handles: `x-` keys are annotations for the tools (not
    /// validated), anything else a constraint the diff cannot order (`pattern`, `format`...).
    fn other_keys(
        &mut self,
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        at: &str,
        site: &Site,
    ) {
        for (key, pair) in keyed_diff(a, b, Lead::Old) {
            let key = key.as_str();
            let (x, y) = pair.sides();
            if IGNORED.contains(&key) || HANDLED.contains(&key) || ranges::is_bound(key) || x == y {
                continue;
            }
            let kind = if key.starts_with("x-") {
                Kind::AnnotationChanged
            } else {
                Kind::ConstraintChanged
            };
            self.out
                .key(at, key, site)
                .changed(kind, x.cloned(), y.cloned());
        }
    }
}

/// The names a schema object lists as `required`.
fn required(schema: &Map<String, Value>) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The set of JSON types a schema names (`None` when it names none).
fn types(schema: &Map<String, Value>) -> Option<BTreeSet<String>> {
    match schema.get("type")? {
        Value::String(t) => Some(BTreeSet::from([t.clone()])),
        Value::Array(list) => Some(
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

/// A short stand-in for a whole schema in a change's old/new value.
fn brief(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => map
            .get("type")
            .cloned()
            .or_else(|| {
                ["oneOf", "anyOf", "allOf", "enum", "$ref"]
                    .into_iter()
                    .find(|k| map.contains_key(*k))
                    .map(|k| json!(k))
            })
            .unwrap_or_else(|| json!("schema")),
        other => other.clone(),
    }
}

/// `request.width`, `images[]`: the name of `name` inside `field`.
fn join(field: &str, name: &str) -> String {
    match (field.is_empty(), name) {
        (true, _) => name.to_owned(),
        (false, "[]") => format!("{field}[]"),
        (false, _) => format!("{field}.{name}"),
    }
}
