//! Parameter ranges side by side: for every feature some provider bounds, each provider's field,
//! bounds, unit (`x-unit`) and default, read from the converted request schemas. Also the
//! [`Facts`] of one schema, which the matrix summarises.

use serde_json::{Map, Number, Value};

use super::model::{Bounds, RangeCell, RangeRow};
use img2img_specs::{Feature, FeatureField};

/// A bound, exactly as the spec writes it (an int64 bound stays exact), and whether it is exclusive.
pub(crate) type Bound = (Number, bool);

/// What one (converted) property schema says, with `oneOf`/`anyOf` branches merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Facts {
    /// JSON types other than `null`, across branches.
    pub types: Vec<String>,
    /// Whether `null` is accepted.
    pub nullable: bool,
    /// Lower bound and whether it is exclusive.
    pub minimum: Option<Bound>,
    /// Upper bound and whether it is exclusive.
    pub maximum: Option<Bound>,
    /// `minLength`.
    pub min_length: Option<Number>,
    /// `maxLength`.
    pub max_length: Option<Number>,
    /// `minItems`.
    pub min_items: Option<Number>,
    /// `maxItems`.
    pub max_items: Option<Number>,
    /// `x-max-count` (comma-separated lists).
    pub max_count: Option<Number>,
    /// `x-dimensions` (each side of a `"WxH"` size).
    pub dimensions: Option<(Option<Number>, Option<Number>)>,
    /// `enum` values other than `null`.
    pub values: Vec<Value>,
    /// `x-common-names`.
    pub common_names: Map<String, Value>,
    /// `x-known-values`.
    pub known_values: Vec<String>,
    /// `default`.
    pub default: Option<Value>,
    /// `x-unit`.
    pub unit: Option<String>,
    /// `x-media` (`image` on strings that carry an image).
    pub media: Option<String>,
    /// Property names, for objects.
    pub properties: Vec<String>,
    /// What each item is, for arrays.
    pub items: Option<Box<Facts>>,
}

impl Facts {
    /// Reads a converted schema.
    pub fn of(schema: &Value) -> Facts {
        let mut facts = Facts::default();
        facts.read(schema);
        facts
    }

    fn read(&mut self, schema: &Value) {
        let Some(map) = schema.as_object() else {
            return;
        };
        match map.get("type") {
            Some(Value::String(t)) => self.add_type(t),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .for_each(|t| self.add_type(t)),
            _ => {}
        }
        let number = |key: &str| map.get(key).and_then(as_number);
        if self.minimum.is_none() {
            self.minimum = number("minimum")
                .map(|n| (n, false))
                .or(number("exclusiveMinimum").map(|n| (n, true)));
        }
        if self.maximum.is_none() {
            self.maximum = number("maximum")
                .map(|n| (n, false))
                .or(number("exclusiveMaximum").map(|n| (n, true)));
        }
        self.min_length = self.min_length.take().or(number("minLength"));
        self.max_length = self.max_length.take().or(number("maxLength"));
        self.min_items = self.min_items.take().or(number("minItems"));
        self.max_items = self.max_items.take().or(number("maxItems"));
        self.max_count = self.max_count.take().or(number("x-max-count"));
        if let Some(Value::Object(dims)) = map.get("x-dimensions") {
            let side = |k: &str| dims.get(k).and_then(as_number);
            self.dimensions = Some((side("minimum"), side("maximum")));
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            for value in values {
                if value.is_null() {
                    self.nullable = true;
                } else if !self.values.contains(value) {
                    self.values.push(value.clone());
                }
            }
        }
        if let Some(Value::Object(names)) = map.get("x-common-names") {
            self.common_names.extend(names.clone());
        }
        if let Some(Value::Array(known)) = map.get("x-known-values") {
            self.known_values
                .extend(known.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        if self.default.is_none() {
            self.default = map.get("default").cloned();
        }
        if self.unit.is_none() {
            self.unit = map.get("x-unit").and_then(Value::as_str).map(str::to_owned);
        }
        if self.media.is_none() {
            self.media = map
                .get("x-media")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        if let Some(Value::Object(properties)) = map.get("properties") {
            self.properties.extend(properties.keys().cloned());
        }
        if let Some(items) = map.get("items")
            && self.items.is_none()
        {
            self.items = Some(Box::new(Facts::of(items)));
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = map.get(key) {
                for branch in branches {
                    self.read(branch);
                }
            }
        }
    }

    fn add_type(&mut self, kind: &str) {
        if kind == "null" {
            self.nullable = true;
        } else if !self.types.iter().any(|t| t == kind) {
            self.types.push(kind.to_owned());
        }
    }

    /// Whether the value is a number (possibly also accepted as a string).
    pub fn numeric(&self) -> bool {
        self.types.iter().any(|t| t == "integer" || t == "number")
    }

    /// Whether it is only a JSON type `kind` (ignoring `null`).
    pub fn is(&self, kind: &str) -> bool {
        self.types.len() == 1 && self.types[0] == kind
    }

    /// The bounds that matter for this schema, most specific first.
    pub fn bounds(&self) -> Option<(Bounds, Option<Bound>, Option<Bound>)> {
        if let Some((low, high)) = self.dimensions.clone() {
            return Some((
                Bounds::EachSide,
                low.map(|n| (n, false)),
                high.map(|n| (n, false)),
            ));
        }
        if self.minimum.is_some() || self.maximum.is_some() {
            return Some((Bounds::Value, self.minimum.clone(), self.maximum.clone()));
        }
        if self.min_length.is_some() || self.max_length.is_some() {
            return Some((
                Bounds::Length,
                self.min_length.clone().map(|n| (n, false)),
                self.max_length.clone().map(|n| (n, false)),
            ));
        }
        if self.min_items.is_some() || self.max_items.is_some() || self.max_count.is_some() {
            return Some((
                Bounds::Count,
                self.min_items.clone().map(|n| (n, false)),
                self.max_items
                    .clone()
                    .or(self.max_count.clone())
                    .map(|n| (n, false)),
            ));
        }
        None
    }

    /// Notes a reader needs beside the bounds.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.numeric() && self.types.iter().any(|t| t == "string") {
            notes.push("also accepted as a decimal string".to_owned());
        }
        if self.nullable {
            notes.push("null accepted".to_owned());
        }
        notes
    }
}

/// A number of a schema, kept as written: integers stay exact however large.
fn as_number(value: &Value) -> Option<Number> {
    value.as_number().cloned()
}

/// A number as a person writes it, exactly (`4294967295`, `9223372036854775807`, `0.7`, and `7`
/// for a `7.0`).
pub fn number(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{}", f as i64)
        }
        _ => n.to_string(),
    }
}

/// The unit as it follows a number (`px` for pixels).
pub fn unit(unit: Option<&str>) -> String {
    match unit {
        None => String::new(),
        Some("pixels") => " px".to_owned(),
        Some(other) => format!(" {other}"),
    }
}

/// `0.01..0.99`, `≥ -1`, `< 1`, `any` for a pair of bounds.
pub fn span(low: Option<(Number, bool)>, high: Option<(Number, bool)>) -> String {
    match (low, high) {
        (Some((a, false)), Some((b, false))) => format!("{}..{}", number(&a), number(&b)),
        (Some((a, ax)), Some((b, bx))) => format!(
            "{} {} x {} {}",
            number(&a),
            if ax { "<" } else { "≤" },
            if bx { "<" } else { "≤" },
            number(&b)
        ),
        (Some((a, ax)), None) => format!("{} {}", if ax { ">" } else { "≥" }, number(&a)),
        (None, Some((b, bx))) => format!("{} {}", if bx { "<" } else { "≤" }, number(&b)),
        (None, None) => "any".to_owned(),
    }
}

/// One row per feature that at least one provider bounds, in `features` order.
pub(crate) fn rows(
    features: &[Feature],
    providers: &[(String, Vec<&FeatureField>)],
) -> Vec<RangeRow> {
    let mut rows = Vec::new();
    for feature in features {
        let cells: Vec<RangeCell> = providers
            .iter()
            .map(|(provider, tagged)| {
                let found = tagged.iter().find(|t| t.feature == *feature);
                let facts = found.map(|t| Facts::of(&t.schema));
                let bounds = facts.as_ref().and_then(Facts::bounds);
                let (kind, low, high) = match bounds {
                    Some((kind, low, high)) => (Some(kind), low, high),
                    None => (None, None, None),
                };
                RangeCell {
                    provider: provider.clone(),
                    field: found.map(|t| t.name()),
                    bounds: kind,
                    exclusive_minimum: low.as_ref().is_some_and(|(_, x)| *x),
                    minimum: low.map(|(n, _)| n),
                    exclusive_maximum: high.as_ref().is_some_and(|(_, x)| *x),
                    maximum: high.map(|(n, _)| n),
                    unit: facts.as_ref().and_then(|f| f.unit.clone()),
                    default: facts.as_ref().and_then(|f| f.default.clone()),
                    notes: facts.as_ref().map(Facts::notes).unwrap_or_default(),
                }
            })
            .collect();
        if cells.iter().any(|c| c.bounds.is_some()) {
            rows.push(RangeRow {
                feature: feature.as_str().to_owned(),
                label: feature.label().to_owned(),
                cells,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_one_of_branches_and_nullable() {
        let facts = Facts::of(&json!({
            "anyOf": [{"type": "null"}, {"oneOf": [
                {"type": "integer", "minimum": 256, "maximum": 1024},
                {"type": "string", "pattern": "^[0-9]+$"}
            ]}],
            "default": 512, "x-unit": "pixels"
        }));
        assert_eq!(facts.minimum, Some((256.into(), false)));
        assert_eq!(facts.maximum, Some((1024.into(), false)));
        assert!(facts.nullable);
        assert_eq!(facts.default, Some(json!(512)));
        assert_eq!(
            facts.notes(),
            ["also accepted as a decimal string", "null accepted"]
        );
    }

    fn n(value: Value) -> Number {
        value.as_number().cloned().unwrap()
    }

    #[test]
    fn spans_read_like_ranges() {
        assert_eq!(
            span(Some((n(json!(0.01)), false)), Some((n(json!(0.99)), false))),
            "0.01..0.99"
        );
        assert_eq!(span(Some((n(json!(-1)), false)), None), "≥ -1");
        assert_eq!(
            span(Some((n(json!(0.0)), true)), Some((n(json!(1)), false))),
            "0 < x ≤ 1"
        );
        assert_eq!(number(&n(json!(4294967295u64))), "4294967295");
        assert_eq!(number(&n(json!(7.0))), "7");
    }

    #[test]
    fn integers_print_exactly_however_large() {
        assert_eq!(number(&n(json!(i64::MAX))), "9223372036854775807");
        assert_eq!(number(&n(json!(i64::MIN))), "-9223372036854775808");
        assert_eq!(number(&n(json!(u64::MAX))), "18446744073709551615");
        let facts = Facts::of(&json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}));
        assert_eq!(span(facts.minimum, facts.maximum), "0..9223372036854775807");
    }
}
