//! Every constraint a schema places on an instance, found by walking the schema beside a full
//! sample of it: where it applies, which values sit on its boundary, and how to break it alone.

use std::fmt;

use img2img_specs::field_path;
use img2img_specs::schema::escape;
use serde_json::{Number, Value, json};

use super::sample::{branches, exact_bounds, multiple_of, required_names, types};

/// The name of the property added to break `additionalProperties: false`.
pub const UNEXPECTED_PROPERTY: &str = "unexpected_field";

/// What a constraint requires.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintKind {
    /// A lower bound; `as_string` when it binds a number written as a string.
    Minimum {
        /// The bound, exactly as the schema writes it (integers beyond 2^53 stay exact).
        limit: Number,
        /// Whether the bound itself is excluded.
        exclusive: bool,
        /// Whether the value is an integer.
        integer: bool,
        /// Whether the value is a number written as a string (`"7.5"`).
        as_string: bool,
    },
    /// An upper bound.
    Maximum {
        /// The bound, exactly as the schema writes it (integers beyond 2^53 stay exact).
        limit: Number,
        /// Whether the bound itself is excluded.
        exclusive: bool,
        /// Whether the value is an integer.
        integer: bool,
        /// Whether the value is a number written as a string.
        as_string: bool,
    },
    /// A whole multiple of this number (`multipleOf`); `as_string` when it binds a number written
    /// as a string.
    MultipleOf {
        /// The divisor.
        step: i64,
        /// Whether the value is a number written as a string.
        as_string: bool,
    },
    /// A shortest string.
    MinLength(u64),
    /// A longest string.
    MaxLength(u64),
    /// Fewest items.
    MinItems(u64),
    /// Most items.
    MaxItems(u64),
    /// One of these values.
    Enum(Vec<Value>),
    /// A property that must be present (when `when` holds, if given).
    Required {
        /// The property.
        property: String,
        /// `(other property, value)` that makes it required.
        when: Option<(String, Value)>,
    },
    /// One of these JSON types.
    Type(Vec<String>),
    /// A regular expression.
    Pattern(String),
    /// No property beyond the listed ones.
    NoAdditionalProperties,
}

/// One constraint at one place of an instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// JSON pointer of the constrained value (for `Required` and `NoAdditionalProperties`, the
    /// object holding it).
    pub pointer: String,
    /// The same place as a field path (`request.width`).
    pub field: String,
    /// What it requires.
    pub kind: ConstraintKind,
    /// The value found at [`Constraint::pointer`] in the sample the constraint was found in (used
    /// to fill a place a random instance lacks, e.g. an item to repeat up to `maxItems`).
    pub template: Value,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.subject();
        match &self.kind {
            ConstraintKind::Minimum {
                limit, exclusive, ..
            } => {
                write!(f, "{field} {} {limit}", if *exclusive { ">" } else { ">=" })
            }
            ConstraintKind::Maximum {
                limit, exclusive, ..
            } => {
                write!(f, "{field} {} {limit}", if *exclusive { "<" } else { "<=" })
            }
            ConstraintKind::MultipleOf { step, .. } => write!(f, "{field} is a multiple of {step}"),
            ConstraintKind::MinLength(n) => write!(f, "{field} has at least {n} characters"),
            ConstraintKind::MaxLength(n) => write!(f, "{field} has at most {n} characters"),
            ConstraintKind::MinItems(n) => write!(f, "{field} has at least {n} items"),
            ConstraintKind::MaxItems(n) => write!(f, "{field} has at most {n} items"),
            ConstraintKind::Enum(values) => write!(f, "{field} is one of {} values", values.len()),
            ConstraintKind::Required {
                when: Some((other, value)),
                ..
            } => {
                write!(f, "{field} is required when {other} = {value}")
            }
            ConstraintKind::Required { .. } => write!(f, "{field} is required"),
            ConstraintKind::Type(kinds) => write!(f, "{field} is {}", kinds.join(" or ")),
            ConstraintKind::Pattern(p) => write!(f, "{field} matches {p}"),
            ConstraintKind::NoAdditionalProperties => write!(f, "{field} is not a known field"),
        }
    }
}

impl Constraint {
    /// The field a violation of this constraint is reported on.
    pub fn subject(&self) -> String {
        let join = |child: &str| {
            if self.field.is_empty() {
                child.to_owned()
            } else {
                format!("{}.{child}", self.field)
            }
        };
        match &self.kind {
            ConstraintKind::Required { property, .. } => join(property),
            ConstraintKind::NoAdditionalProperties => join(UNEXPECTED_PROPERTY),
            _ => self.field.clone(),
        }
    }

    /// Whether the constraint bounds a number (written as a number or as a string).
    pub fn is_numeric_bound(&self) -> bool {
        matches!(
            self.kind,
            ConstraintKind::Minimum { .. } | ConstraintKind::Maximum { .. }
        )
    }

    /// Whether the constraint is a range of any kind (number, length, item count).
    pub fn is_range(&self) -> bool {
        self.is_numeric_bound()
            || matches!(
                self.kind,
                ConstraintKind::MinLength(_)
                    | ConstraintKind::MaxLength(_)
                    | ConstraintKind::MinItems(_)
                    | ConstraintKind::MaxItems(_)
            )
    }

    /// Values on the valid side of this constraint's boundary, each meant to replace the value at
    /// [`Constraint::pointer`] of `instance`.
    pub fn boundary_values(&self, instance: &Value) -> Vec<Value> {
        let current = instance.pointer(&self.pointer);
        match &self.kind {
            ConstraintKind::Minimum {
                limit,
                exclusive,
                integer,
                as_string,
            } => {
                vec![number(
                    step(limit, *exclusive, *integer, 1),
                    *integer,
                    *as_string,
                )]
            }
            ConstraintKind::Maximum {
                limit,
                exclusive,
                integer,
                as_string,
            } => {
                vec![number(
                    step(limit, *exclusive, *integer, -1),
                    *integer,
                    *as_string,
                )]
            }
            ConstraintKind::MinLength(n) | ConstraintKind::MaxLength(n) => vec![text(*n)],
            ConstraintKind::MinItems(n) | ConstraintKind::MaxItems(n) => {
                vec![items(current, &self.template, *n)]
            }
            ConstraintKind::Enum(values) => values.clone(),
            _ => Vec::new(),
        }
    }

    /// `instance` with this constraint, and only it, broken.
    pub fn break_in(&self, instance: &Value) -> Value {
        let mut out = instance.clone();
        let current = instance.pointer(&self.pointer);
        let replacement = match &self.kind {
            ConstraintKind::Minimum {
                limit,
                exclusive,
                integer,
                as_string,
            } => Some(number(
                step(limit, !*exclusive, *integer, -1),
                *integer,
                *as_string,
            )),
            ConstraintKind::Maximum {
                limit,
                exclusive,
                integer,
                as_string,
            } => Some(number(
                step(limit, !*exclusive, *integer, 1),
                *integer,
                *as_string,
            )),
            ConstraintKind::MultipleOf { step, as_string } => {
                // One above a multiple that the value's range holds: off the step, in range.
                let base = current
                    .and_then(|v| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok()))
                    .unwrap_or(*step);
                let off = base.div_euclid(*step) * step + 1;
                Some(if *as_string {
                    json!(off.to_string())
                } else {
                    json!(off)
                })
            }
            ConstraintKind::MinLength(n) => Some(text(n.saturating_sub(1))),
            ConstraintKind::MaxLength(n) => Some(text(n + 1)),
            ConstraintKind::MinItems(n) => {
                Some(items(current, &self.template, n.saturating_sub(1)))
            }
            ConstraintKind::MaxItems(n) => Some(items(current, &self.template, n + 1)),
            ConstraintKind::Enum(values) => Some(outside(values)),
            ConstraintKind::Type(kinds) => Some(wrong_type(kinds)),
            ConstraintKind::Pattern(_) => Some(json!("not-a-match!")),
            ConstraintKind::Required { property, when } => {
                if let Some(Value::Object(map)) = out.pointer_mut(&self.pointer) {
                    map.remove(property);
                    if let Some((other, value)) = when {
                        map.insert(other.clone(), value.clone());
                    }
                }
                None
            }
            ConstraintKind::NoAdditionalProperties => {
                if let Some(Value::Object(map)) = out.pointer_mut(&self.pointer) {
                    map.insert(UNEXPECTED_PROPERTY.into(), json!(true));
                }
                None
            }
        };
        if let Some(value) = replacement
            && let Some(slot) = out.pointer_mut(&self.pointer)
        {
            *slot = value;
        }
        out
    }
}

/// The value one step from `limit` towards `direction` (±1) when `move_off`, else `limit`. An
/// integer steps by one in exact arithmetic (a bound of `i64::MAX` steps to `2^63`, which no `f64`
/// tells apart from it); any other number by 0.01.
fn step(limit: &Number, move_off: bool, integer: bool, direction: i8) -> Step {
    let exact = limit
        .as_i64()
        .map(i128::from)
        .or_else(|| limit.as_u64().map(i128::from));
    match exact {
        Some(whole) if integer => {
            let delta = if move_off { i128::from(direction) } else { 0 };
            Step::Integer(whole + delta)
        }
        _ => {
            let value = limit.as_f64().unwrap_or(0.0);
            let delta = if move_off {
                f64::from(direction) * if integer { 1.0 } else { 0.01 }
            } else {
                0.0
            };
            Step::Float(value + delta)
        }
    }
}

/// A stepped bound: exact for an integer bound, else a float.
enum Step {
    Integer(i128),
    Float(f64),
}

fn number(value: Step, integer: bool, as_string: bool) -> Value {
    match (value, integer, as_string) {
        // An integer written exactly, in the smallest JSON form that holds it.
        (Step::Integer(whole), _, false) => match (i64::try_from(whole), u64::try_from(whole)) {
            (Ok(n), _) => json!(n),
            (_, Ok(n)) => json!(n),
            _ => json!(nearest_beyond(whole)),
        },
        (Step::Integer(whole), _, true) => json!(whole.to_string()),
        (Step::Float(value), true, false) => json!(value as i64),
        (Step::Float(value), true, true) => json!((value as i64).to_string()),
        (Step::Float(value), false, false) => json!(round(value)),
        (Step::Float(value), false, true) => json!(round(value).to_string()),
    }
}

/// The float nearest `whole` on its far side from zero (or `whole` itself, if a float holds it):
/// for a value beyond every 64-bit integer, one that stays beyond once written as a float.
fn nearest_beyond(whole: i128) -> f64 {
    let mut value = whole as f64;
    while whole < 0 && (value as i128) > whole {
        value = value.next_down();
    }
    while whole > 0 && (value as i128) < whole {
        value = value.next_up();
    }
    value
}

/// Drops floating-point noise (`0.09000000000000001` → `0.09`).
fn round(value: f64) -> f64 {
    (value * 1e9).round() / 1e9
}

fn text(length: u64) -> Value {
    Value::String("a".repeat(length as usize))
}

fn items(current: Option<&Value>, template: &Value, count: u64) -> Value {
    let first = |v: &Value| v.as_array().and_then(|list| list.first()).cloned();
    let item = current
        .and_then(first)
        .or_else(|| first(template))
        .unwrap_or(Value::Null);
    Value::Array(vec![item; count as usize])
}

fn outside(values: &[Value]) -> Value {
    if values.iter().all(Value::is_number) {
        let max = values.iter().filter_map(Value::as_i64).max().unwrap_or(0);
        json!(max + 1)
    } else {
        json!("not-an-allowed-value")
    }
}

fn wrong_type(accepted: &[String]) -> Value {
    let accepts = |kind: &str| {
        accepted.iter().any(|a| {
            a == kind
                || (kind == "integer" && a == "number")
                || (kind == "number" && a == "integer")
        })
    };
    [
        ("boolean", json!(true)),
        ("string", json!("wrong-type")),
        ("integer", json!(12345)),
        ("object", json!({})),
        ("array", json!([])),
    ]
    .into_iter()
    .find(|(kind, _)| !accepts(kind))
    .map_or(Value::Null, |(_, value)| value)
}

/// Every constraint `schema` places on `instance` (use a [`super::Fill::All`] sample so nested
/// constraints have a place).
pub fn constraints(schema: &Value, instance: &Value) -> Vec<Constraint> {
    let mut out = Vec::new();
    walk(schema, instance, "", false, &mut out);
    for constraint in &mut out {
        constraint.field = field_path(instance, &constraint.pointer);
        constraint.template = instance
            .pointer(&constraint.pointer)
            .cloned()
            .unwrap_or(Value::Null);
    }
    out
}

fn walk(schema: &Value, root: &Value, pointer: &str, in_branch: bool, out: &mut Vec<Constraint>) {
    let mut add = |kind| {
        out.push(Constraint {
            pointer: pointer.to_owned(),
            field: String::new(),
            kind,
            template: Value::Null,
        })
    };
    let kinds = types(schema);
    if !in_branch && !pointer.is_empty() && !kinds.is_empty() {
        add(ConstraintKind::Type(kinds.clone()));
    }
    let integer = kinds.first().is_some_and(|k| k == "integer");
    let (lower, xl, upper, xu) = exact_bounds(schema);
    if let Some(limit) = lower {
        add(ConstraintKind::Minimum {
            limit,
            exclusive: xl,
            integer,
            as_string: false,
        });
    }
    if let Some(limit) = upper {
        add(ConstraintKind::Maximum {
            limit,
            exclusive: xu,
            integer,
            as_string: false,
        });
    }
    if let Some(step) = multiple_of(schema) {
        add(ConstraintKind::MultipleOf {
            step,
            as_string: false,
        });
    }
    for (key, make) in [
        (
            "minLength",
            ConstraintKind::MinLength as fn(u64) -> ConstraintKind,
        ),
        ("maxLength", ConstraintKind::MaxLength),
        ("minItems", ConstraintKind::MinItems),
        ("maxItems", ConstraintKind::MaxItems),
    ] {
        let trivial = |n: u64| matches!(key, "minLength" | "minItems") && n == 0;
        // An item count of a `oneOf` branch the instance is not an array of (one URL or a list of
        // them) has no item to repeat: that branch's counts are not this instance's.
        let other_branch = in_branch
            && key.ends_with("Items")
            && !root.pointer(pointer).is_some_and(Value::is_array);
        if let Some(n) = schema.get(key).and_then(Value::as_u64)
            && !trivial(n)
            && !other_branch
        {
            add(make(n));
        }
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        add(ConstraintKind::Enum(values.clone()));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        add(ConstraintKind::Pattern(pattern.to_owned()));
    }

    if let Some(branches) = branches(schema) {
        // A number written as a string: the string branch's pattern encodes the numeric branch's range.
        let numeric = branches.iter().find(|b| {
            matches!(
                b.get("type").and_then(Value::as_str),
                Some("integer" | "number")
            )
        });
        let has_string = branches
            .iter()
            .any(|b| b.get("type").and_then(Value::as_str) == Some("string"));
        if let (Some(numeric), true) = (numeric, has_string) {
            let integer = numeric.get("type").and_then(Value::as_str) == Some("integer");
            let (lower, xl, upper, xu) = exact_bounds(numeric);
            // The limits of an integer `format` bind the number, not its digits as a string.
            let of_format = |limit: &Number| {
                let format = numeric.get("format").and_then(Value::as_str);
                let (min, max) = match format {
                    Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
                    Some("int64") => (i64::MIN, i64::MAX),
                    _ => return false,
                };
                limit.as_i64().is_some_and(|n| n == min || n == max)
            };
            let (lower, upper) = (
                lower.filter(|l| !of_format(l)),
                upper.filter(|u| !of_format(u)),
            );
            if let Some(limit) = lower {
                add(ConstraintKind::Minimum {
                    limit,
                    exclusive: xl,
                    integer,
                    as_string: true,
                });
            }
            if let Some(limit) = upper {
                add(ConstraintKind::Maximum {
                    limit,
                    exclusive: xu,
                    integer,
                    as_string: true,
                });
            }
            if let Some(step) = multiple_of(numeric) {
                add(ConstraintKind::MultipleOf {
                    step,
                    as_string: true,
                });
            }
        }
        for branch in branches {
            walk(branch, root, pointer, true, out);
        }
    }

    let here = root.pointer(pointer);
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for name in required_names(schema) {
            add_required(out, pointer, name, None);
        }
        if let Some(Value::Array(rules)) = schema.get("allOf") {
            for rule in rules {
                let condition = rule
                    .get("if")
                    .and_then(|c| c.get("properties"))
                    .and_then(Value::as_object);
                let then = rule.get("then").map(required_names).unwrap_or_default();
                if let Some(condition) = condition
                    && let Some((other, test)) = condition.iter().next()
                    && let Some(value) = test.get("const")
                {
                    for name in then {
                        add_required(out, pointer, name, Some((other.clone(), value.clone())));
                    }
                }
            }
        }
        if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
            out.push(Constraint {
                pointer: pointer.to_owned(),
                field: String::new(),
                kind: ConstraintKind::NoAdditionalProperties,
                template: Value::Null,
            });
        }
        for (name, property) in properties {
            let child = format!("{pointer}/{}", escape(name));
            if here.and_then(|h| h.get(name)).is_some() {
                walk(property, root, &child, false, out);
            }
        }
    }
    if let Some(item) = schema.get("items")
        && here.and_then(|h| h.get(0)).is_some()
    {
        walk(item, root, &format!("{pointer}/0"), false, out);
    }
}

fn add_required(
    out: &mut Vec<Constraint>,
    pointer: &str,
    property: String,
    when: Option<(String, Value)>,
) {
    out.push(Constraint {
        pointer: pointer.to_owned(),
        field: String::new(),
        kind: ConstraintKind::Required { property, when },
        template: Value::Null,
    });
}
