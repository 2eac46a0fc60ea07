//! What a schema or a document fact admits: bound keywords (`minimum`, `maxLength`,
//! `x-max-count`...) with the way each one moves to admit fewer values, and list values (`enum`,
//! `x-output.formats`).

use serde_json::{Map, Value};

use super::change::{Changes, Kind, Site};
use super::keyed::{Lead, Pair, keyed_diff};

/// Which way a bound moves when it admits fewer values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Narrows {
    /// A lower bound: raising it refuses values that used to be valid.
    WhenRaised,
    /// An upper bound: lowering it refuses values that used to be valid.
    WhenLowered,
}

/// Every bound keyword the diff orders, in the order its changes are listed.
const BOUNDS: &[(&str, Narrows)] = &[
    ("minimum", Narrows::WhenRaised),
    ("exclusiveMinimum", Narrows::WhenRaised),
    ("minLength", Narrows::WhenRaised),
    ("minItems", Narrows::WhenRaised),
    ("minProperties", Narrows::WhenRaised),
    ("maximum", Narrows::WhenLowered),
    ("exclusiveMaximum", Narrows::WhenLowered),
    ("maxLength", Narrows::WhenLowered),
    ("maxItems", Narrows::WhenLowered),
    ("maxProperties", Narrows::WhenLowered),
    ("x-max-count", Narrows::WhenLowered),
];

/// Whether `key` is a bound keyword (compared by [`bounds`], not as an opaque constraint).
pub fn is_bound(key: &str) -> bool {
    BOUNDS.iter().any(|&(bound, _)| bound == key)
}

/// Records which way each bound of schema object `old` → `new` moved. A bound that appears
/// narrows, one that disappears widens, and a non-numeric one cannot be ordered.
pub fn bounds(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    at: &str,
    site: &Site,
    out: &mut Changes,
) {
    for &(key, narrows) in BOUNDS {
        let (x, y) = (old.get(key), new.get(key));
        if x == y {
            continue;
        }
        let narrowed = match (x.and_then(Value::as_f64), y.and_then(Value::as_f64)) {
            (None, Some(_)) if x.is_none() => Some(true),
            (Some(_), None) if y.is_none() => Some(false),
            (Some(p), Some(q)) => Some(match narrows {
                Narrows::WhenRaised => q > p,
                Narrows::WhenLowered => q < p,
            }),
            _ => None,
        };
        let kind = match narrowed {
            Some(true) => Kind::RangeNarrowed,
            Some(false) => Kind::RangeWidened,
            None => Kind::ConstraintChanged,
        };
        out.key(at, key, site).changed(kind, x.cloned(), y.cloned());
    }
}

/// Records the values of list `old` → `new` at `pointer` that are gone, then those that are new,
/// each at its index in the list it is in.
pub fn list_values(
    old: &[Value],
    new: &[Value],
    pointer: &str,
    site: &Site,
    keyword: &str,
    out: &mut Changes,
) {
    let values = keyed_diff(
        old.iter().map(|v| (v, v)),
        new.iter().map(|v| (v, v)),
        Lead::Old,
    );
    for (value, pair) in values {
        let (kind, list) = match pair {
            Pair::Removed(_) => (Kind::EnumValueRemoved, old),
            Pair::Added(_) => (Kind::EnumValueAdded, new),
            Pair::Both(..) => continue,
        };
        let index = list.iter().position(|v| v == value).unwrap_or(0);
        let (x, y) = pair.sides();
        out.at(format!("{pointer}/{index}"), site)
            .keyword(keyword)
            .changed(kind, x.cloned(), y.cloned());
    }
}
