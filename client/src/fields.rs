//! Setting any field of the create body the spec defines, by its path: what `img2img --set` does
//! for the fields no common flag maps.
//!
//! A path is dotted (`request.loras.0.strength`, or `request.loras[0].strength` as errors write
//! it) or a JSON pointer (`/request/loras/0/strength`). It is resolved against the create body's
//! schema (the sending reading, `$ref`s inlined, through `oneOf`/`anyOf`/`allOf` branches and array
//! `items`), so an unknown field is refused naming the nearest known ones, before any request. The
//! value's range is checked with the whole body against the spec, like every other field.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::errors::Error;

/// A value for one field of the create body, by its path.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSetting {
    /// The path as given: dotted (`request.loras.0.strength`) or a JSON pointer.
    pub path: String,
    /// The value.
    pub value: Value,
}

impl FieldSetting {
    /// A setting of `path` to `value`.
    pub fn new(path: impl Into<String>, value: impl Into<Value>) -> Self {
        FieldSetting {
            path: path.into(),
            value: value.into(),
        }
    }

    /// Whether this setting is of `field`, a path as errors write it (`request.loras[0].strength`).
    pub fn names(&self, field: &str) -> bool {
        self.segments().is_ok_and(|steps| shown(&steps) == field)
    }

    /// The path's segments: property names and array indices.
    fn segments(&self) -> Result<Vec<Step>, Error> {
        let path = self.path.trim();
        let raw: Vec<String> = if let Some(pointer) = path.strip_prefix('/') {
            pointer
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect()
        } else {
            path.replace('[', ".")
                .replace(']', "")
                .split('.')
                .map(str::to_owned)
                .collect()
        };
        if path.is_empty() || raw.iter().any(String::is_empty) {
            return Err(Error::InvalidRequest {
                field: Some(self.path.clone()),
                message: format!(
                    "{:?} is not a field path (request.steps, request.loras.0.strength or /request/steps)",
                    self.path
                ),
            });
        }
        Ok(raw
            .into_iter()
            .map(|s| match s.parse::<usize>() {
                Ok(index) => Step::Index(index, s),
                Err(_) => Step::Name(s),
            })
            .collect())
    }
}

/// `path=value`: the value is read as JSON when it is JSON (`20`, `true`, `[1, 2]`, `"20"`), else
/// taken as a string (`sd_xl_base_1.0.safetensors`).
impl FromStr for FieldSetting {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (path, value) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?} is not path=value (for example request.steps=30)"))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        Ok(FieldSetting::new(path.trim(), value))
    }
}

impl fmt::Display for FieldSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// One segment of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// A property name.
    Name(String),
    /// An array index, with its text (a property may be named by digits too).
    Index(usize, String),
}

impl Step {
    fn text(&self) -> &str {
        match self {
            Step::Name(name) | Step::Index(_, name) => name,
        }
    }
}

/// The field path of `steps` as errors write it (`request.loras[0].strength`).
fn shown(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Index(index, _) => out.push_str(&format!("[{index}]")),
            Step::Name(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
        }
    }
    out
}

/// A schema and every schema its `oneOf`/`anyOf`/`allOf` branches hold, depth first.
fn alternatives(schema: &Value) -> Vec<&Value> {
    let mut out = vec![schema];
    let mut i = 0;
    while i < out.len() {
        let current = out[i];
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(Value::Array(branches)) = current.get(key) {
                out.extend(branches);
            }
        }
        i += 1;
    }
    out
}

/// How a path step continues in `schema`: the property's schema, or the array's items.
fn child<'a>(schema: &'a Value, step: &Step) -> Option<(&'a Value, bool)> {
    let options = alternatives(schema);
    let property = options
        .iter()
        .find_map(|s| s.get("properties").and_then(|p| p.get(step.text())));
    if let Some(property) = property {
        return Some((property, false));
    }
    if let Step::Index(..) = step
        && let Some(items) = options.iter().find_map(|s| s.get("items"))
    {
        return Some((items, true));
    }
    None
}

/// Every field path of `schema` (arrays written with index 0), at most `depth` deep.
fn known_paths(schema: &Value, prefix: &mut Vec<Step>, depth: usize, out: &mut Vec<String>) {
    if depth == 0 {
        return;
    }
    for option in alternatives(schema) {
        if let Some(Value::Object(properties)) = option.get("properties") {
            for (name, property) in properties {
                prefix.push(Step::Name(name.clone()));
                out.push(shown(prefix));
                known_paths(property, prefix, depth - 1, out);
                prefix.pop();
            }
        }
        if let Some(items) = option.get("items") {
            prefix.push(Step::Index(0, "0".into()));
            known_paths(items, prefix, depth - 1, out);
            prefix.pop();
        }
    }
}

/// The known paths nearest to `wanted` (at most three, by edit distance).
fn nearest(schema: &Value, wanted: &str) -> Vec<String> {
    let mut paths = Vec::new();
    known_paths(schema, &mut Vec::new(), 8, &mut paths);
    paths.sort();
    paths.dedup();
    let mut scored: Vec<(usize, String)> = paths
        .into_iter()
        .map(|p| (strsim::levenshtein(&p, wanted), p))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, p)| p).collect()
}

/// Sets `setting` in `body`, resolving its path against `schema` (the create body's converted
/// schema). `key_field` is the top-level field the key travels in (`x-auth`), which no setting may
/// write.
pub(crate) fn apply(
    body: &mut Value,
    schema: &Value,
    setting: &FieldSetting,
    key_field: Option<&str>,
) -> Result<(), Error> {
    let steps = setting.segments()?;
    let field = shown(&steps);
    if steps.len() == 1 && key_field == Some(steps[0].text()) {
        return Err(Error::InvalidRequest {
            field: Some(field.clone()),
            message: format!(
                "{field} carries the API key (x-auth): the key comes from the client's configuration, not from a request field"
            ),
        });
    }
    let mut at = schema;
    let mut kinds = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let Some((next, is_item)) = child(at, step) else {
            let parent = shown(&steps[..i]);
            let nearest = nearest(schema, &shown(&normalized(&steps)));
            return Err(Error::InvalidRequest {
                field: Some(field.clone()),
                message: format!(
                    "{field}: the create body has no field {:?}{}; nearest known: {}",
                    step.text(),
                    if parent.is_empty() {
                        String::new()
                    } else {
                        format!(" in {parent}")
                    },
                    if nearest.is_empty() {
                        "none".to_owned()
                    } else {
                        nearest.join(", ")
                    }
                ),
            });
        };
        kinds.push(is_item);
        at = next;
    }
    put(body, &steps, &kinds, setting.value.clone(), &field)
}

/// `steps` with every array index written as 0 (how known paths are listed).
fn normalized(steps: &[Step]) -> Vec<Step> {
    steps
        .iter()
        .map(|s| match s {
            Step::Index(_, text) if !text.is_empty() => Step::Index(0, "0".into()),
            other => other.clone(),
        })
        .collect()
}

/// Writes `value` at `steps` in `body`, making the objects and arrays on the way; an array index
/// may name an item or the one after the last.
fn put(
    body: &mut Value,
    steps: &[Step],
    is_item: &[bool],
    value: Value,
    field: &str,
) -> Result<(), Error> {
    let mut node = body;
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        let fresh = || {
            if last {
                Value::Null
            } else if is_item[i + 1] {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }
        };
        node = if is_item[i] {
            let Step::Index(index, _) = step else {
                unreachable!("an item step is an index")
            };
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let Value::Array(items) = node else {
                unreachable!("made an array above")
            };
            if *index > items.len() {
                return Err(Error::InvalidRequest {
                    field: Some(field.to_owned()),
                    message: format!(
                        "{field}: index {index} is past the end of a list of {} item(s); set index {} first",
                        items.len(),
                        items.len()
                    ),
                });
            }
            if *index == items.len() {
                items.push(fresh());
            }
            &mut items[*index]
        } else {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            let Value::Object(map) = node else {
                unreachable!("made an object above")
            };
            map.entry(step.text().to_owned()).or_insert_with(fresh)
        };
    }
    *node = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "key": {"type": "string"},
                "request": {
                    "type": "object",
                    "properties": {
                        "steps": {"type": "integer"},
                        "seed": {"type": "integer"},
                        "loras": {"type": "array", "items": {
                            "type": "object",
                            "properties": {"name": {"type": "string"}, "strength": {"type": "number"}}
                        }},
                        "extra": {"oneOf": [{"type": "null"}, {"type": "object",
                            "properties": {"format": {"type": "string"}}}]}
                    }
                }
            }
        })
    }

    fn set(body: &mut Value, setting: &str) -> Result<(), Error> {
        apply(body, &schema(), &setting.parse().unwrap(), Some("key"))
    }

    #[test]
    fn values_are_json_when_they_parse_else_strings() {
        let parse = |s: &str| s.parse::<FieldSetting>().unwrap().value;
        assert_eq!(parse("a=30"), json!(30));
        assert_eq!(parse("a=true"), json!(true));
        assert_eq!(parse("a=\"30\""), json!("30"));
        assert_eq!(
            parse("a=sd_xl_base_1.0.safetensors"),
            json!("sd_xl_base_1.0.safetensors")
        );
        assert_eq!(parse("a=x=y"), json!("x=y"));
        assert!("no-equals-sign".parse::<FieldSetting>().is_err());
    }

    #[test]
    fn dotted_bracketed_and_pointer_paths_set_the_same_field() {
        for path in [
            "request.loras.0.strength",
            "request.loras[0].strength",
            "/request/loras/0/strength",
        ] {
            let mut body = json!({"request": {"steps": 20}});
            set(&mut body, &format!("{path}=0.7")).unwrap();
            assert_eq!(
                body,
                json!({"request": {"steps": 20, "loras": [{"strength": 0.7}]}}),
                "{path}"
            );
        }
        let mut body = json!({});
        set(&mut body, "request.extra.format=png").unwrap();
        assert_eq!(body, json!({"request": {"extra": {"format": "png"}}}));
    }

    #[test]
    fn unknown_fields_name_the_nearest_known_ones() {
        let err = set(&mut json!({}), "request.stpes=30").unwrap_err();
        let Error::InvalidRequest { field, message } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(field.as_deref(), Some("request.stpes"));
        assert!(
            message.starts_with(
                "request.stpes: the create body has no field \"stpes\" in request; nearest known: request.steps"
            ),
            "{message}"
        );
        let err = set(&mut json!({}), "request.lora.0.strength=1").unwrap_err();
        assert!(
            err.to_string().contains("nearest known: request.loras"),
            "{err}"
        );
    }

    #[test]
    fn the_key_field_and_gaps_in_lists_are_refused() {
        let err = set(&mut json!({}), "key=sk-1").unwrap_err();
        assert!(err.to_string().contains("carries the API key"), "{err}");
        assert!(!err.to_string().contains("sk-1"), "{err}");
        let err = set(&mut json!({}), "request.loras.2.strength=1").unwrap_err();
        assert!(
            err.to_string()
                .contains("index 2 is past the end of a list of 0 item(s); set index 0 first"),
            "{err}"
        );
        let setting: FieldSetting = "/request/loras/0/strength=1".parse().unwrap();
        assert!(setting.names("request.loras[0].strength"));
        assert!(!setting.names("request.loras"));
        let err = set(&mut json!({}), "request..steps=1").unwrap_err();
        assert!(err.to_string().contains("is not a field path"), "{err}");
    }
}
