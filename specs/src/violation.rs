//! One broken rule of a spec, said the way a person fixes it: the field path, the value and the
//! allowed range (`request.width = 4096 is above the maximum 2048`).

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The rule a value broke.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// Below `minimum` (or at or below an exclusive one).
    Minimum {
        /// The bound.
        limit: Value,
        /// Whether the bound itself is excluded.
        exclusive: bool,
    },
    /// Above `maximum` (or at or above an exclusive one).
    Maximum {
        /// The bound.
        limit: Value,
        /// Whether the bound itself is excluded.
        exclusive: bool,
    },
    /// A number that is not a multiple of `multipleOf`.
    MultipleOf {
        /// The divisor, as the schema writes it.
        divisor: Value,
    },
    /// A string shorter than `minLength`.
    MinLength {
        /// The bound.
        limit: u64,
    },
    /// A string longer than `maxLength`.
    MaxLength {
        /// The bound.
        limit: u64,
    },
    /// An array with fewer items than `minItems`.
    MinItems {
        /// The bound.
        limit: u64,
    },
    /// An array with more items than `maxItems`.
    MaxItems {
        /// The bound.
        limit: u64,
    },
    /// A value outside `enum`.
    Enum {
        /// The allowed values.
        allowed: Vec<Value>,
    },
    /// A required property that is missing.
    Required {
        /// The missing property.
        property: String,
        /// The condition that made it required, if any (`action = "img2img"`).
        because: Option<String>,
    },
    /// A value of the wrong JSON type.
    Type {
        /// The expected type(s).
        expected: String,
    },
    /// A string that does not match `pattern`.
    Pattern {
        /// The regular expression.
        pattern: String,
    },
    /// One side of a `"WxH"` size outside its range.
    Dimension {
        /// `width` or `height`.
        side: String,
        /// The side's value.
        side_value: u64,
        /// The allowed minimum.
        minimum: u64,
        /// The allowed maximum.
        maximum: u64,
    },
    /// A property the schema does not know (requests are strict).
    UnknownProperty {
        /// Its name.
        property: String,
    },
    /// A value that fits none of the shapes a `oneOf`/`anyOf` allows.
    NoShape {
        /// The shapes allowed, e.g. `integer or string`.
        shapes: String,
    },
    /// Anything else the validator reports.
    Other {
        /// The validator's words.
        message: String,
    },
}

/// One violation: where, what value, which rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// JSON pointer into the validated document (`/request/width`).
    pub pointer: String,
    /// The same place as a field path (`request.width`, `loras[5].strength`; empty for the root).
    pub field: String,
    /// The offending value (`null` when the rule is about a missing property).
    pub value: Value,
    /// The rule broken.
    #[serde(flatten)]
    pub rule: Rule,
}

impl Violation {
    /// The field the violation is about: for a missing or unknown property, the property's own path
    /// (`request.prompt`), otherwise [`Violation::field`].
    pub fn subject(&self) -> String {
        match &self.rule {
            Rule::Required { property, .. } | Rule::UnknownProperty { property } => {
                join_field(&self.field, property)
            }
            _ => self.field.clone(),
        }
    }

    /// The field path shown in messages: the field, or `body` for the document root.
    pub fn shown_field(&self) -> &str {
        if self.field.is_empty() {
            "body"
        } else {
            &self.field
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.shown_field();
        let value = ShortValue(&self.value);
        match &self.rule {
            Rule::Minimum {
                limit,
                exclusive: false,
            } => {
                write!(f, "{field} = {value} is below the minimum {limit}")
            }
            Rule::Minimum {
                limit,
                exclusive: true,
            } => {
                write!(f, "{field} = {value} must be above {limit}")
            }
            Rule::Maximum {
                limit,
                exclusive: false,
            } => {
                write!(f, "{field} = {value} is above the maximum {limit}")
            }
            Rule::Maximum {
                limit,
                exclusive: true,
            } => {
                write!(f, "{field} = {value} must be below {limit}")
            }
            Rule::MultipleOf { divisor } => {
                write!(f, "{field} = {value} is not a multiple of {divisor}")
            }
            Rule::MinLength { limit } => write!(
                f,
                "{field} = {value} has {} characters, fewer than the minimum length {limit}",
                char_count(&self.value)
            ),
            Rule::MaxLength { limit } => write!(
                f,
                "{field} = {value} has {} characters, more than the maximum length {limit}",
                char_count(&self.value)
            ),
            Rule::MinItems { limit } => write!(
                f,
                "{field} has {} items, fewer than the minimum {limit}",
                item_count(&self.value)
            ),
            Rule::MaxItems { limit } => write!(
                f,
                "{field} has {} items, more than the maximum {limit}",
                item_count(&self.value)
            ),
            Rule::Enum { allowed } => {
                write!(f, "{field} = {value} is not one of ")?;
                for (i, option) in allowed.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{option}")?;
                }
                Ok(())
            }
            Rule::Required { property, because } => {
                let path = join_field(&self.field, property);
                match because {
                    Some(condition) => write!(f, "{path} is required when {condition}"),
                    None => write!(f, "{path} is required"),
                }
            }
            Rule::Type { expected } => write!(
                f,
                "{field} = {value} is {}, expected {expected}",
                type_name(&self.value)
            ),
            Rule::Pattern { pattern } => {
                write!(f, "{field} = {value} does not match the pattern {pattern}")
            }
            Rule::Dimension {
                side,
                side_value,
                minimum,
                maximum,
            } => {
                if side_value < minimum {
                    write!(
                        f,
                        "{field} = {value}: {side} {side_value} is below the minimum {minimum}"
                    )
                } else {
                    write!(
                        f,
                        "{field} = {value}: {side} {side_value} is above the maximum {maximum}"
                    )
                }
            }
            Rule::UnknownProperty { property } => write!(
                f,
                "{} is not a field of this request",
                join_field(&self.field, property)
            ),
            Rule::NoShape { shapes } => write!(f, "{field} = {value} is not {shapes}"),
            Rule::Other { message } => write!(f, "{field}: {message}"),
        }
    }
}

/// All violations of one document, in document order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// The violations.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, violation) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// `parent.child`, or `child` at the root.
pub fn join_field(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

fn char_count(value: &Value) -> usize {
    value.as_str().map_or(0, |s| s.chars().count())
}

fn item_count(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

/// The JSON type name of a value, with an article (`a string`, `an integer`).
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value shown in a message: long strings cut to 48 characters, arrays and objects summarised.
struct ShortValue<'a>(&'a Value);

impl fmt::Display for ShortValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 48;
        match self.0 {
            Value::String(s) if s.chars().count() > MAX => {
                let cut: String = s.chars().take(MAX).collect();
                write!(
                    f,
                    "{}…",
                    Value::String(cut).to_string().trim_end_matches('"')
                )
            }
            Value::Array(items) => write!(f, "[{} items]", items.len()),
            Value::Object(map) => write!(f, "{{{} fields}}", map.len()),
            other => write!(f, "{other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(field: &str, value: Value, rule: Rule, expected: &str) {
        let violation = Violation {
            pointer: String::new(),
            field: field.into(),
            value,
            rule,
        };
        assert_eq!(violation.to_string(), expected);
    }

    #[test]
    fn messages_name_field_value_and_range() {
        check(
            "request.width",
            json!(4096),
            Rule::Maximum {
                limit: json!(2048),
                exclusive: false,
            },
            "request.width = 4096 is above the maximum 2048",
        );
        check(
            "n",
            json!(0),
            Rule::Minimum {
                limit: json!(1),
                exclusive: false,
            },
            "n = 0 is below the minimum 1",
        );
        check(
            "request.loras",
            json!([1, 2, 3, 4, 5, 6]),
            Rule::MaxItems { limit: 5 },
            "request.loras has 6 items, more than the maximum 5",
        );
        check(
            "request",
            Value::Null,
            Rule::Required {
                property: "prompt".into(),
                because: None,
            },
            "request.prompt is required",
        );
        check(
            "",
            Value::Null,
            Rule::Required {
                property: "image".into(),
                because: Some("action = \"img2img\"".into()),
            },
            "image is required when action = \"img2img\"",
        );
        check(
            "sampler",
            json!("Euler a"),
            Rule::Enum {
                allowed: vec![json!("k_euler"), json!("ddim_v3")],
            },
            "sampler = \"Euler a\" is not one of \"k_euler\", \"ddim_v3\"",
        );
        check(
            "size",
            json!("64x70000"),
            Rule::Dimension {
                side: "height".into(),
                side_value: 70000,
                minimum: 64,
                maximum: 49152,
            },
            "size = \"64x70000\": height 70000 is above the maximum 49152",
        );
        check(
            "width",
            json!("512"),
            Rule::Type {
                expected: "integer".into(),
            },
            "width = \"512\" is a string, expected integer",
        );
    }

    #[test]
    fn long_strings_are_cut() {
        let long = "a".repeat(2000);
        let violation = Violation {
            pointer: "/prompt".into(),
            field: "prompt".into(),
            value: json!(long),
            rule: Rule::MaxLength { limit: 1024 },
        };
        let shown = violation.to_string();
        assert!(shown.len() < 200, "{shown}");
        assert!(shown.ends_with("has 2000 characters, more than the maximum length 1024"));
    }
}
