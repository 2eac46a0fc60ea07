//! A compiled JSON Schema that reports every violation of a document as a [`Violation`].

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::schema::{SchemaError, unescape};
use crate::violation::{Rule, Violation, Violations};

/// A JSON Schema compiled once and used many times.
pub struct CompiledSchema {
    schema: Value,
    validator: Validator,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl CompiledSchema {
    /// Compiles a draft 2020-12 schema (as made by [`crate::schema::to_json_schema`]); `at` names it
    /// in errors.
    pub fn compile(schema: Value, at: &str) -> Result<Self, SchemaError> {
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(false)
            .build(&schema)
            .map_err(|e| SchemaError::DoesNotCompile {
                at: at.to_owned(),
                message: e.to_string(),
            })?;
        Ok(CompiledSchema { schema, validator })
    }

    /// The JSON Schema itself.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Whether `instance` is valid.
    pub fn is_valid(&self, instance: &Value) -> bool {
        self.validator.is_valid(instance)
    }

    /// Every violation of `instance`, or `Ok` when there is none.
    pub fn validate(&self, instance: &Value) -> Result<(), Violations> {
        if self.validator.is_valid(instance) {
            return Ok(());
        }
        let mut violations = Vec::new();
        for error in self.validator.iter_errors(instance) {
            self.explain(instance, &error, &mut violations);
        }
        violations.dedup();
        Err(Violations(violations))
    }

    fn node(&self, schema_path: &str) -> Option<&Value> {
        self.schema.pointer(schema_path)
    }

    /// The schema object holding the keyword at `schema_path`.
    fn keyword_parent(&self, schema_path: &str) -> Option<&Value> {
        let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
        self.node(parent)
    }

    fn explain(&self, root: &Value, error: &ValidationError<'_>, out: &mut Vec<Violation>) {
        let pointer = error.instance_path().as_str().to_owned();
        let value = root.pointer(&pointer).cloned().unwrap_or(Value::Null);
        let schema_path = error.schema_path().as_str().to_owned();
        let field = field_path(root, &pointer);
        let mut push = |rule: Rule, value: Value| {
            out.push(Violation {
                pointer: pointer.clone(),
                field: field.clone(),
                value,
                rule,
            })
        };
        match error.kind() {
            ValidationErrorKind::Minimum { limit } => push(
                Rule::Minimum {
                    limit: limit.clone(),
                    exclusive: false,
                },
                value,
            ),
            ValidationErrorKind::ExclusiveMinimum { limit } => push(
                Rule::Minimum {
                    limit: limit.clone(),
                    exclusive: true,
                },
                value,
            ),
            ValidationErrorKind::Maximum { limit } => push(
                Rule::Maximum {
                    limit: limit.clone(),
                    exclusive: false,
                },
                value,
            ),
            ValidationErrorKind::ExclusiveMaximum { limit } => push(
                Rule::Maximum {
                    limit: limit.clone(),
                    exclusive: true,
                },
                value,
            ),
            ValidationErrorKind::MultipleOf { .. } => {
                let divisor = self
                    .keyword_parent(&schema_path)
                    .and_then(|node| node.get("multipleOf"))
                    .cloned()
                    .unwrap_or(Value::Null);
                push(Rule::MultipleOf { divisor }, value)
            }
            ValidationErrorKind::MinLength { limit } => {
                push(Rule::MinLength { limit: *limit }, value)
            }
            ValidationErrorKind::MaxLength { limit } => {
                push(Rule::MaxLength { limit: *limit }, value)
            }
            ValidationErrorKind::MinItems { limit } => {
                push(Rule::MinItems { limit: *limit }, value)
            }
            ValidationErrorKind::MaxItems { limit } => {
                push(Rule::MaxItems { limit: *limit }, value)
            }
            ValidationErrorKind::Enum { options } => push(
                Rule::Enum {
                    allowed: options.as_array().cloned().unwrap_or_default(),
                },
                value,
            ),
            ValidationErrorKind::Constant { expected_value } => push(
                Rule::Enum {
                    allowed: vec![Value::clone(expected_value)],
                },
                value,
            ),
            ValidationErrorKind::Required { property } => {
                let because = self
                    .keyword_parent(&schema_path)
                    .and_then(|node| node.get("x-because"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                push(
                    Rule::Required {
                        property: property
                            .as_str()
                            .map_or_else(|| property.to_string(), str::to_owned),
                        because,
                    },
                    Value::Null,
                )
            }
            ValidationErrorKind::Type { .. } => {
                let expected = self
                    .keyword_parent(&schema_path)
                    .and_then(|node| node.get("type"))
                    .map(describe_type)
                    .unwrap_or_else(|| "another type".into());
                push(Rule::Type { expected }, value)
            }
            ValidationErrorKind::Pattern { pattern } => {
                let node = self.keyword_parent(&schema_path);
                let rule = node
                    .and_then(|n| dimension_rule(n, &value))
                    .unwrap_or_else(|| Rule::Pattern {
                        pattern: pattern.clone(),
                    });
                push(rule, value)
            }
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                for property in unexpected {
                    push(
                        Rule::UnknownProperty {
                            property: property.clone(),
                        },
                        value.clone(),
                    );
                }
            }
            ValidationErrorKind::OneOfNotValid { context }
            | ValidationErrorKind::AnyOf { context } => {
                let node = self
                    .keyword_parent(&schema_path)
                    .cloned()
                    .unwrap_or(Value::Null);
                self.explain_alternatives(root, &node, &value, context, &pointer, &field, out)
            }
            _ => push(
                Rule::Other {
                    message: error.to_string(),
                },
                value,
            ),
        }
    }

    /// A value that fits no branch of a `oneOf`/`anyOf`: explain the branch of the value's own type,
    /// reading a numeric string against its numeric sibling's range.
    #[allow(clippy::too_many_arguments)]
    fn explain_alternatives(
        &self,
        root: &Value,
        node: &Value,
        value: &Value,
        context: &[Vec<ValidationError<'static>>],
        pointer: &str,
        field: &str,
        out: &mut Vec<Violation>,
    ) {
        let branches = node
            .get("oneOf")
            .or_else(|| node.get("anyOf"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let fitting: Vec<usize> = context
            .iter()
            .enumerate()
            .filter(|(_, errors)| {
                !errors.iter().any(|e| {
                    e.instance_path().as_str() == pointer
                        && matches!(e.kind(), ValidationErrorKind::Type { .. })
                })
            })
            .map(|(i, _)| i)
            .collect();
        if let [only] = fitting[..] {
            if let Some(rule) = numeric_string_rule(&branches, value) {
                out.push(Violation {
                    pointer: pointer.to_owned(),
                    field: field.to_owned(),
                    value: value.clone(),
                    rule,
                });
                return;
            }
            for error in &context[only] {
                self.explain(root, error, out);
            }
            return;
        }
        let shapes: Vec<String> = branches
            .iter()
            .filter_map(|b| b.get("type").map(describe_type))
            .collect();
        out.push(Violation {
            pointer: pointer.to_owned(),
            field: field.to_owned(),
            value: value.clone(),
            rule: Rule::NoShape {
                shapes: if shapes.is_empty() {
                    "any of the allowed shapes".into()
                } else {
                    shapes.join(" or ")
                },
            },
        });
    }
}

/// `integer`, `integer or null`.
fn describe_type(kind: &Value) -> String {
    match kind {
        Value::String(s) => s.clone(),
        Value::Array(list) => list
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        other => other.to_string(),
    }
}

/// A `"WxH"` string under `x-dimensions`: which side is out of range.
fn dimension_rule(node: &Value, value: &Value) -> Option<Rule> {
    let dims = node.get("x-dimensions")?;
    let minimum = dims.get("minimum")?.as_u64()?;
    let maximum = dims.get("maximum")?.as_u64()?;
    let (w, h) = value.as_str()?.split_once('x')?;
    let sides = [("width", w), ("height", h)];
    for (side, text) in sides {
        let side_value: u64 = text.parse().ok()?;
        if side_value < minimum || side_value > maximum {
            return Some(Rule::Dimension {
                side: side.into(),
                side_value,
                minimum,
                maximum,
            });
        }
    }
    None
}

/// A number written as a string, out of the range its numeric sibling branch allows.
fn numeric_string_rule(branches: &[Value], value: &Value) -> Option<Rule> {
    let number: f64 = value.as_str()?.trim().parse().ok()?;
    let numeric = branches.iter().find(|b| {
        matches!(
            b.get("type").and_then(Value::as_str),
            Some("integer" | "number")
        )
    })?;
    if let Some(min) = numeric.get("minimum")
        && number < min.as_f64()?
    {
        return Some(Rule::Minimum {
            limit: min.clone(),
            exclusive: false,
        });
    }
    if let Some(max) = numeric.get("maximum")
        && number > max.as_f64()?
    {
        return Some(Rule::Maximum {
            limit: max.clone(),
            exclusive: false,
        });
    }
    if let Some(divisor) = numeric.get("multipleOf")
        && !is_multiple(number, divisor.as_f64()?)
    {
        return Some(Rule::MultipleOf {
            divisor: divisor.clone(),
        });
    }
    None
}

/// Whether `number` is a whole multiple of `divisor` (within floating-point noise).
fn is_multiple(number: f64, divisor: f64) -> bool {
    if divisor <= 0.0 {
        return true;
    }
    let quotient = number / divisor;
    (quotient - quotient.round()).abs() < 1e-9
}

/// `/request/loras/5/strength` in `root` as `request.loras[5].strength`.
pub fn field_path(root: &Value, pointer: &str) -> String {
    let mut field = String::new();
    let mut current = Some(root);
    for raw in pointer.split('/').skip(1) {
        let segment = unescape(raw);
        match current {
            Some(Value::Array(items)) => {
                field.push_str(&format!("[{segment}]"));
                current = segment.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            other => {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(&segment);
                current = other.and_then(|v| v.get(&segment));
            }
        }
    }
    field
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(schema: Value, instance: Value) -> Vec<String> {
        let compiled = CompiledSchema::compile(schema, "/test").unwrap();
        match compiled.validate(&instance) {
            Ok(()) => vec![],
            Err(v) => v.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn field_paths_read_arrays_and_objects() {
        let doc = json!({"request": {"loras": [{}, {"strength": 2}]}});
        assert_eq!(
            field_path(&doc, "/request/loras/1/strength"),
            "request.loras[1].strength"
        );
        assert_eq!(field_path(&doc, ""), "");
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["prompt"],
            "properties": {
                "prompt": {"type": "string"},
                "width": {"type": "integer", "minimum": 128, "maximum": 2048},
                "loras": {"type": "array", "maxItems": 1, "items": {"type": "object"}},
            }
        });
        let got = messages(
            schema,
            json!({"width": 4096, "loras": [{}, {}], "extra": 1}),
        );
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got.contains(&"width = 4096 is above the maximum 2048".to_owned()));
        assert!(got.contains(&"prompt is required".to_owned()));
        assert!(got.contains(&"loras has 2 items, more than the maximum 1".to_owned()));
        assert!(got.contains(&"extra is not a field of this request".to_owned()));
    }

    #[test]
    fn numeric_strings_are_read_against_the_numeric_range() {
        let schema = json!({"type": "object", "properties": {"width": {"oneOf": [
            {"type": "integer", "minimum": 256, "maximum": 1024},
            {"type": "string", "pattern": "^(25[6-9]|2[6-9][0-9]|[3-9][0-9]{2}|10[01][0-9]|102[0-4])$"}
        ]}}});
        assert_eq!(
            messages(schema.clone(), json!({"width": "2048"})),
            ["width = \"2048\" is above the maximum 1024"]
        );
        assert_eq!(
            messages(schema.clone(), json!({"width": 2048})),
            ["width = 2048 is above the maximum 1024"]
        );
        assert_eq!(
            messages(schema, json!({"width": true})),
            ["width = true is not integer or string"]
        );
    }

    #[test]
    fn sizes_name_the_side() {
        let schema = json!({"type": "object", "properties": {"size": {
            "type": "string", "pattern": "^(6[4-9]|[1-9][0-9]{2,3})x(6[4-9]|[1-9][0-9]{2,3})$",
            "x-dimensions": {"minimum": 64, "maximum": 9999}
        }}});
        assert_eq!(
            messages(schema, json!({"size": "64x10000"})),
            ["size = \"64x10000\": height 10000 is above the maximum 9999"]
        );
    }

    #[test]
    fn conditional_requirements_say_why() {
        let document =
            json!({"s": {"type": "object", "x-required-if": {"image": {"action": "img2img"}}}});
        let schema = crate::schema::to_json_schema(&document, "/s").unwrap();
        assert_eq!(
            messages(schema.clone(), json!({"action": "img2img"})),
            ["image is required when action = \"img2img\""]
        );
        assert!(messages(schema, json!({"action": "generate"})).is_empty());
    }

    #[test]
    fn nullable_values_accept_null_and_explain_the_rest() {
        let document = json!({"s": {"type": "object", "properties": {"seed": {
            "type": "integer", "nullable": true, "minimum": 0
        }}}});
        let schema = crate::schema::to_json_schema(&document, "/s").unwrap();
        assert!(messages(schema.clone(), json!({"seed": null})).is_empty());
        assert_eq!(
            messages(schema, json!({"seed": -1})),
            ["seed = -1 is below the minimum 0"]
        );
    }
}
