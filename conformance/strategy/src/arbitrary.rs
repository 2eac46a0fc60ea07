//! proptest strategies built from a schema: valid instances (boundary values favoured) and
//! instances that break exactly one constraint. Both shrink towards small, minimal requests.

use std::sync::Arc;

use img2img_specs::CompiledSchema;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::constraints::{Constraint, constraints};
use super::regex::matching;
use super::sample::{Fill, bounds, branches, multiple_of, required_names, sample, types};

/// Longest string generated for a field without a tighter `maxLength` (a boundary value of a
/// larger `maxLength` is still generated, up to [`LONGEST_BOUNDARY`]).
const TYPICAL_LENGTH: u64 = 48;
/// Longest boundary string generated in valid instances (a 13 MB base64 image is tested by the
/// constraint cases, not in every valid request).
const LONGEST_BOUNDARY: u64 = 4096;
/// Most items generated for an array without a tighter `maxItems`.
const TYPICAL_ITEMS: u64 = 3;

/// Valid instances of `schema`, checked against it.
pub fn valid(schema: Arc<CompiledSchema>) -> SBoxedStrategy<Value> {
    let strategy = node(schema.schema(), 0);
    strategy
        .prop_filter("instance must satisfy the schema", move |v| {
            schema.is_valid(v)
        })
        .sboxed()
}

/// Instances that break exactly one constraint of `schema`, with that constraint. Each starts from a
/// valid instance and changes one place; the filter keeps only those the validator faults at that
/// place and nowhere else.
pub fn invalid(schema: Arc<CompiledSchema>) -> SBoxedStrategy<(Value, Constraint)> {
    let full = sample(schema.schema(), Fill::All);
    let all = constraints(schema.schema(), &full);
    assert!(!all.is_empty(), "the schema has no constraint to break");
    let base = node(schema.schema(), 0);
    let checker = Arc::clone(&schema);
    (base, select(all))
        .prop_map(move |(base, constraint)| {
            let grounded = ground(base, &full, &constraint.pointer);
            (constraint.break_in(&grounded), constraint)
        })
        .prop_filter(
            "must break exactly the chosen constraint",
            move |(value, constraint)| breaks_only(&checker, value, constraint),
        )
        .sboxed()
}

/// Whether `value` breaks `constraint` and nothing else.
pub fn breaks_only(schema: &CompiledSchema, value: &Value, constraint: &Constraint) -> bool {
    match schema.validate(value) {
        Ok(()) => false,
        Err(violations) => {
            let subject = constraint.subject();
            violations.iter().all(|v| v.subject() == subject)
        }
    }
}

/// `base` with every ancestor of `pointer` (and the value there) taken from `full` where missing,
/// so that a constraint found in a full sample has its place in a randomly generated instance.
pub fn ground(mut base: Value, full: &Value, pointer: &str) -> Value {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    for depth in 1..=segments.len() {
        let prefix = format!("/{}", segments[..depth].join("/"));
        if base.pointer(&prefix).is_some() {
            continue;
        }
        let Some(wanted) = full.pointer(&prefix).cloned() else {
            break;
        };
        let parent = format!("/{}", segments[..depth - 1].join("/"));
        let parent = if depth == 1 { String::new() } else { parent };
        let key = segments[depth - 1].replace("~1", "/").replace("~0", "~");
        match base.pointer_mut(&parent) {
            Some(Value::Object(map)) => {
                map.insert(key, wanted);
            }
            Some(Value::Array(list)) if key == "0" && list.is_empty() => list.push(wanted),
            Some(slot) => {
                // The parent exists with another shape (null, or another oneOf branch): take the
                // full sample's parent whole.
                if let Some(parent_value) = full.pointer(&parent) {
                    *slot = parent_value.clone();
                }
            }
            None => break,
        }
    }
    base
}

fn node(schema: &Value, depth: usize) -> SBoxedStrategy<Value> {
    if depth > 16 {
        return Just(sample(schema, Fill::Required)).sboxed();
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        return select(values.clone()).sboxed();
    }
    let nullable = types(schema).iter().any(|t| t == "null");
    let strategy = if let Some(branches) = branches(schema) {
        let options: Vec<SBoxedStrategy<Value>> =
            branches.into_iter().map(|b| node(b, depth + 1)).collect();
        proptest::strategy::Union::new(options).sboxed()
    } else {
        match types(schema).into_iter().find(|t| t != "null").as_deref() {
            Some("object") => object(schema, depth),
            Some("array") => array(schema, depth),
            Some("string") => string(schema),
            Some("integer") => integer(schema),
            Some("number") => number(schema),
            Some("boolean") => any::<bool>().prop_map(Value::Bool).sboxed(),
            _ => Just(Value::Null).sboxed(),
        }
    };
    if nullable {
        prop_oneof![9 => strategy, 1 => Just(Value::Null)].sboxed()
    } else {
        strategy
    }
}

fn object(schema: &Value, depth: usize) -> SBoxedStrategy<Value> {
    let mut required = required_names(schema);
    // Properties an `x-required-if` may demand are always generated, so the rule holds.
    if let Some(Value::Array(rules)) = schema.get("allOf") {
        for rule in rules {
            required.extend(rule.get("then").map(required_names).unwrap_or_default());
        }
    }
    let mut fields: Vec<SBoxedStrategy<Option<(String, Value)>>> = Vec::new();
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (name, property) in properties {
            let name = name.clone();
            let value = node(property, depth + 1);
            let field = if required.contains(&name) {
                value.prop_map(move |v| Some((name.clone(), v))).sboxed()
            } else {
                proptest::option::of(value)
                    .prop_map(move |v| v.map(|v| (name.clone(), v)))
                    .sboxed()
            };
            fields.push(field);
        }
    }
    fields
        .prop_map(|pairs| {
            Value::Object(pairs.into_iter().flatten().collect::<Map<String, Value>>())
        })
        .sboxed()
}

fn array(schema: &Value, depth: usize) -> SBoxedStrategy<Value> {
    let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
    let max = schema.get("maxItems").and_then(Value::as_u64);
    let upper = max.unwrap_or(min + TYPICAL_ITEMS).max(min);
    let item = schema
        .get("items")
        .map_or_else(|| Just(Value::Null).sboxed(), |s| node(s, depth + 1));
    let typical = (min as usize)..=(upper.min(min + TYPICAL_ITEMS) as usize);
    let boundary = (upper as usize)..=(upper as usize);
    prop_oneof![
        3 => proptest::collection::vec(item.clone(), typical),
        1 => proptest::collection::vec(item, boundary),
    ]
    .prop_map(Value::Array)
    .sboxed()
}

fn string(schema: &Value) -> SBoxedStrategy<Value> {
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && let Some(strategy) = matching(pattern)
    {
        return strategy.prop_map(Value::String).sboxed();
    }
    if let Some(uri) = uri(schema) {
        return uri;
    }
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let max = schema.get("maxLength").and_then(Value::as_u64);
    let typical_max = max.unwrap_or(u64::MAX).min(min + TYPICAL_LENGTH).max(min);
    let chars =
        proptest::char::ranges(vec!['a'..='z', 'A'..='Z', '0'..='9', ' '..=' ', ','..=','].into());
    let typical = proptest::collection::vec(chars, (min as usize)..=(typical_max as usize))
        .prop_map(|c| Value::String(c.into_iter().collect()))
        .sboxed();
    let mut edges = vec![min];
    if let Some(max) = max.filter(|m| *m <= LONGEST_BOUNDARY) {
        edges.push(max);
    }
    prop_oneof![
        4 => typical,
        1 => select(edges).prop_map(|n| Value::String("p".repeat(n as usize))),
    ]
    .sboxed()
}

/// Absolute URLs of an allowed length for a `format: uri` string (a server that calls it back reads
/// it as an address): a path under [`crate::URI_BASE`], which refuses connections at once. `None`
/// when the length bounds leave no room for it.
fn uri(schema: &Value) -> Option<SBoxedStrategy<Value>> {
    if schema.get("format").and_then(Value::as_str) != Some("uri") {
        return None;
    }
    let base = crate::URI_BASE.len() as u64;
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    if max < base.max(min) {
        return None;
    }
    let shortest = min.saturating_sub(base);
    let longest = (max - base).min(shortest + TYPICAL_LENGTH).max(shortest);
    let chars = proptest::char::ranges(vec!['a'..='z', '0'..='9'].into());
    Some(
        proptest::collection::vec(chars, (shortest as usize)..=(longest as usize))
            .prop_map(|path| {
                Value::String(format!("{}{}", crate::URI_BASE, String::from_iter(path)))
            })
            .sboxed(),
    )
}

fn integer(schema: &Value) -> SBoxedStrategy<Value> {
    let (lower, xl, upper, xu) = bounds(schema);
    let low = lower.map_or(-1_000_000, |l| l as i64 + i64::from(xl));
    let high = upper.map_or(low.saturating_add(1_000_000), |u| u as i64 - i64::from(xu));
    if let Some(step) = multiple_of(schema) {
        // The multiples of `step` in [low, high], drawn by their index.
        let (first, last) = (
            low.div_euclid(step) + i64::from(low.rem_euclid(step) != 0),
            high.div_euclid(step),
        );
        return Favoured {
            low: first as f64,
            high: last.max(first) as f64,
            integer: true,
        }
        .prop_map(move |n| json!(n as i64 * step))
        .sboxed();
    }
    Favoured {
        low: low as f64,
        high: high as f64,
        integer: true,
    }
    .prop_map(|n| json!(n as i64))
    .sboxed()
}

fn number(schema: &Value) -> SBoxedStrategy<Value> {
    let (lower, xl, upper, xu) = bounds(schema);
    let low = lower.map_or(-1e6, |l| if xl { l + 1e-6 } else { l });
    let high = upper.map_or(low + 1e6, |u| if xu { u - 1e-6 } else { u });
    Favoured {
        low,
        high,
        integer: false,
    }
    .prop_map(|n| json!(n))
    .sboxed()
}

/// Numbers in `[low, high]` with both boundaries drawn often (one case in five each), that shrink
/// by binary search towards `low` from wherever they started, boundaries included.
#[derive(Debug, Clone, Copy)]
struct Favoured {
    low: f64,
    high: f64,
    integer: bool,
}

impl Strategy for Favoured {
    type Tree = Towards;
    type Value = f64;

    fn new_tree(
        &self,
        runner: &mut proptest::test_runner::TestRunner,
    ) -> proptest::strategy::NewTree<Self> {
        let rng = runner.rng();
        let start = match rng.random_range(0..10) {
            0 | 1 => self.low,
            2 | 3 => self.high,
            _ if self.integer => rng.random_range(self.low as i64..=self.high as i64) as f64,
            _ => rng.random_range(self.low..=self.high),
        };
        Ok(Towards {
            lo: self.low,
            curr: start,
            hi: start,
            integer: self.integer,
        })
    }
}

/// proptest's binary-search shrinking, towards a lower bound instead of zero.
#[derive(Debug, Clone, Copy)]
struct Towards {
    lo: f64,
    curr: f64,
    hi: f64,
    integer: bool,
}

impl Towards {
    fn reposition(&mut self) -> bool {
        let middle = self.lo + (self.hi - self.lo) / 2.0;
        let middle = if self.integer { middle.floor() } else { middle };
        let settled = if self.integer {
            middle == self.curr
        } else {
            (middle - self.curr).abs() < 1e-9
        };
        if settled {
            return false;
        }
        self.curr = middle;
        true
    }
}

impl proptest::strategy::ValueTree for Towards {
    type Value = f64;

    fn current(&self) -> f64 {
        self.curr
    }

    fn simplify(&mut self) -> bool {
        if self.hi <= self.lo {
            return false;
        }
        self.hi = self.curr;
        self.reposition()
    }

    fn complicate(&mut self) -> bool {
        if self.hi <= self.lo {
            return false;
        }
        self.lo = if self.integer {
            self.curr + 1.0
        } else {
            self.curr
        };
        self.reposition()
    }
}
