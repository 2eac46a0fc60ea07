//! Walks two versions of a spec side by side and lists every difference a client user could
//! notice: operations, parameters, request bodies and responses (schemas compared after
//! `img2img_specs::schema::to_json_schema` has inlined their `$ref`s), enums, ranges, required
//! marks, types, defaults and the document-level `x-` extensions. Prose (`description`, `summary`,
//! examples) is not a contract and is not compared. Whether a change is breaking is decided in
//! [`super::classify`]; this module only says what changed, where, and on which side of the wire.

use std::collections::{BTreeMap, BTreeSet};

use img2img_specs::schema::{SchemaError, escape, to_json_schema};
use img2img_specs::{Operation, Spec};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Which way the changed data travels, which decides whether narrowing or widening hurts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Sent by the client (request bodies, parameters): narrowing refuses what used to be valid.
    Request,
    /// Received by the client (responses): widening sends what used to be impossible.
    Response,
    /// Document-level facts (`x-auth`, `x-job`, `x-output`, `x-limits`, servers).
    Document,
}

/// What kind of change was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An operation (method + path) is gone.
    OperationRemoved,
    /// A new operation.
    OperationAdded,
    /// An operation's `operationId` changed (the generated method is renamed).
    OperationRenamed,
    /// A parameter is gone.
    ParameterRemoved,
    /// A new parameter.
    ParameterAdded,
    /// An operation lost its request body.
    RequestBodyRemoved,
    /// An operation gained a request body.
    RequestBodyAdded,
    /// A documented response status is gone.
    ResponseRemoved,
    /// A new documented response status.
    ResponseAdded,
    /// An object property is gone.
    FieldRemoved,
    /// A new object property.
    FieldAdded,
    /// A field, parameter or body became required (or conditionally required).
    MadeRequired,
    /// A field, parameter or body became optional.
    MadeOptional,
    /// An enum (or list) value is gone.
    EnumValueRemoved,
    /// A new enum (or list) value.
    EnumValueAdded,
    /// A bound, an `enum` or `additionalProperties: false` admits fewer values than before.
    RangeNarrowed,
    /// A bound admits more values than before (or was dropped).
    RangeWidened,
    /// The JSON type (or the set of `oneOf`/`anyOf`/`allOf` branches) changed.
    TypeChanged,
    /// A default value changed, appeared or disappeared.
    DefaultChanged,
    /// A constraint whose effect cannot be ordered changed (`pattern`, `format`, `multipleOf`...).
    ConstraintChanged,
    /// How the client authenticates or follows a job changed (`x-auth`, `x-job`).
    ClientBehaviourChanged,
    /// Report metadata changed (`x-feature`, `x-unit`, `x-common-names`, `x-known-values`,
    /// `x-provider`, servers): no effect on what is sent or received.
    AnnotationChanged,
}

/// One difference, before classification.
#[derive(Debug, Clone, PartialEq)]
pub struct RawChange {
    /// JSON pointer into the spec (the new version's, or the old one's for what was removed).
    pub pointer: String,
    /// What kind of change.
    pub kind: Kind,
    /// Which side of the wire it affects.
    pub direction: Direction,
    /// What changed, for a person (`request body field \`request.width\``).
    pub subject: String,
    /// The keyword or key that changed (`maximum`, `enum`, `x-auth.prefix`...), if any.
    pub keyword: Option<String>,
    /// For additions: whether the new field, parameter or body is required.
    pub required: bool,
    /// The old value, if there was one.
    pub old: Option<Value>,
    /// The new value, if there is one.
    pub new: Option<Value>,
}

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

/// Keys that only feed the reports (any other unhandled `x-` key is treated alike).
const ANNOTATIONS: &[&str] = &["x-feature", "x-unit", "x-common-names", "x-known-values"];

/// Bounds below which values are refused.
const LOWER: &[&str] = &[
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
];

/// Bounds above which values are refused.
const UPPER: &[&str] = &[
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "x-max-count",
];

/// Schema keys handled by dedicated rules.
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

/// Every difference between `old` and `new`, in document order.
pub fn compare(old: &Spec, new: &Spec) -> Result<Vec<RawChange>, SchemaError> {
    let mut walker = Walker {
        old: old.document(),
        new: new.document(),
        changes: Vec::new(),
    };
    walker.document();
    walker.operations(old.operations(), new.operations())?;
    Ok(walker.changes)
}

/// Where in the document a schema sits and which way its data travels.
struct Context {
    direction: Direction,
    /// `request body`, `response 200`, ``parameter `id` (path)``.
    owner: String,
}

impl Context {
    fn subject(&self, field: &str) -> String {
        if field.is_empty() {
            self.owner.clone()
        } else {
            format!("{} field `{field}`", self.owner)
        }
    }
}

struct Walker<'a> {
    old: &'a Value,
    new: &'a Value,
    changes: Vec<RawChange>,
}

impl Walker<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        pointer: String,
        kind: Kind,
        direction: Direction,
        subject: String,
        keyword: Option<&str>,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        self.changes.push(RawChange {
            pointer,
            kind,
            direction,
            subject,
            keyword: keyword.map(str::to_owned),
            required: false,
            old,
            new,
        });
    }

    /// Servers and the document-level extensions.
    fn document(&mut self) {
        let (old, new) = (self.old, self.new);
        let server = |doc: &Value| doc.pointer("/servers/0/url").cloned();
        if server(old) != server(new) {
            self.push(
                "/servers/0/url".into(),
                Kind::AnnotationChanged,
                Direction::Document,
                "the default server (DEFAULT_BASE_URL)".into(),
                Some("servers"),
                server(old),
                server(new),
            );
        }
        for key in ["x-provider", "x-auth", "x-job"] {
            let empty = Map::new();
            let a = old.get(key).and_then(Value::as_object).unwrap_or(&empty);
            let b = new.get(key).and_then(Value::as_object).unwrap_or(&empty);
            for name in union(a.keys(), b.keys()) {
                if a.get(&name) != b.get(&name) {
                    // A new key adds a fact without changing one the client relies on.
                    let kind = if key == "x-provider" || !a.contains_key(&name) {
                        Kind::AnnotationChanged
                    } else {
                        Kind::ClientBehaviourChanged
                    };
                    self.push(
                        format!("/{key}/{}", escape(&name)),
                        kind,
                        Direction::Document,
                        format!("`{key}.{name}`"),
                        Some(&format!("{key}.{name}")),
                        a.get(&name).cloned(),
                        b.get(&name).cloned(),
                    );
                }
            }
        }
        for key in ["x-output", "x-limits"] {
            let a = old.get(key).cloned().unwrap_or(json!({}));
            let b = new.get(key).cloned().unwrap_or(json!({}));
            self.capability(&a, &b, &format!("/{key}"), key);
        }
    }

    /// Document-level facts where more is better (`x-output`, `x-limits`).
    fn capability(&mut self, old: &Value, new: &Value, pointer: &str, name: &str) {
        if old == new {
            return;
        }
        let subject = format!("`{name}`");
        let dir = Direction::Document;
        match (old, new) {
            (Value::Object(a), Value::Object(b)) => {
                for key in union(a.keys(), b.keys()) {
                    let child = format!("{pointer}/{}", escape(&key));
                    let child_name = format!("{name}.{key}");
                    match (a.get(&key), b.get(&key)) {
                        (Some(x), Some(y)) => self.capability(x, y, &child, &child_name),
                        // A limit that disappears no longer bounds anything, and the reverse.
                        (Some(x), None) => self.push(
                            child,
                            Kind::RangeWidened,
                            dir,
                            format!("`{child_name}`"),
                            Some(&child_name),
                            Some(x.clone()),
                            None,
                        ),
                        (None, Some(y)) => self.push(
                            child,
                            Kind::RangeNarrowed,
                            dir,
                            format!("`{child_name}`"),
                            Some(&child_name),
                            None,
                            Some(y.clone()),
                        ),
                        (None, None) => {}
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                for value in a.iter().filter(|v| !b.contains(v)) {
                    let pointer = format!("{pointer}/{}", index_of(a, value));
                    self.push(
                        pointer,
                        Kind::EnumValueRemoved,
                        dir,
                        subject.clone(),
                        Some(name),
                        Some(value.clone()),
                        None,
                    );
                }
                for value in b.iter().filter(|v| !a.contains(v)) {
                    let pointer = format!("{pointer}/{}", index_of(b, value));
                    self.push(
                        pointer,
                        Kind::EnumValueAdded,
                        dir,
                        subject.clone(),
                        Some(name),
                        None,
                        Some(value.clone()),
                    );
                }
            }
            (Value::Number(a), Value::Number(b)) => {
                let kind = if b.as_f64() < a.as_f64() {
                    Kind::RangeNarrowed
                } else {
                    Kind::RangeWidened
                };
                self.push(
                    pointer.into(),
                    kind,
                    dir,
                    subject,
                    Some(name),
                    Some(old.clone()),
                    Some(new.clone()),
                );
            }
            (Value::Bool(a), Value::Bool(_)) => {
                let kind = if *a {
                    Kind::RangeNarrowed
                } else {
                    Kind::RangeWidened
                };
                self.push(
                    pointer.into(),
                    kind,
                    dir,
                    subject,
                    Some(name),
                    Some(old.clone()),
                    Some(new.clone()),
                );
            }
            _ => {
                let kind = if name
                    .rsplit('.')
                    .next()
                    .is_some_and(|k| k.contains("default"))
                {
                    Kind::DefaultChanged
                } else {
                    Kind::ConstraintChanged
                };
                self.push(
                    pointer.into(),
                    kind,
                    dir,
                    subject,
                    Some(name),
                    Some(old.clone()),
                    Some(new.clone()),
                );
            }
        }
    }

    fn operations(&mut self, old: &[Operation], new: &[Operation]) -> Result<(), SchemaError> {
        let key = |op: &Operation| (op.path.clone(), op.method.clone());
        let old_ops: BTreeMap<_, _> = old.iter().map(|op| (key(op), op)).collect();
        let new_ops: BTreeMap<_, _> = new.iter().map(|op| (key(op), op)).collect();
        for op in old {
            if !new_ops.contains_key(&key(op)) {
                self.push(
                    op.pointer.clone(),
                    Kind::OperationRemoved,
                    Direction::Request,
                    format!("operation {} {}", op.method, op.path),
                    None,
                    Some(json!(op.id)),
                    None,
                );
            }
        }
        for op in new {
            match old_ops.get(&key(op)) {
                None => self.push(
                    op.pointer.clone(),
                    Kind::OperationAdded,
                    Direction::Request,
                    format!("operation {} {}", op.method, op.path),
                    None,
                    None,
                    Some(json!(op.id)),
                ),
                Some(before) => self.operation(before, op)?,
            }
        }
        Ok(())
    }

    fn operation(&mut self, old: &Operation, new: &Operation) -> Result<(), SchemaError> {
        let name = format!("operation {} {}", new.method, new.path);
        if old.id != new.id {
            self.push(
                format!("{}/operationId", new.pointer),
                Kind::OperationRenamed,
                Direction::Request,
                name.clone(),
                Some("operationId"),
                Some(json!(old.id)),
                Some(json!(new.id)),
            );
        }

        for parameter in &old.parameters {
            let twin = new
                .parameters
                .iter()
                .find(|p| p.name == parameter.name && p.location == parameter.location);
            let owner = format!("parameter `{}` ({})", parameter.name, parameter.location);
            let pointer = |p: &img2img_specs::Parameter, op: &Operation| {
                p.schema
                    .as_deref()
                    .and_then(|s| s.strip_suffix("/schema"))
                    .map_or_else(|| format!("{}/parameters", op.pointer), str::to_owned)
            };
            let Some(twin) = twin else {
                self.push(
                    pointer(parameter, old),
                    Kind::ParameterRemoved,
                    Direction::Request,
                    format!("{owner} of {name}"),
                    None,
                    Some(json!({"required": parameter.required})),
                    None,
                );
                continue;
            };
            if parameter.required != twin.required {
                let kind = if twin.required {
                    Kind::MadeRequired
                } else {
                    Kind::MadeOptional
                };
                self.push(
                    format!("{}/required", pointer(twin, new)),
                    kind,
                    Direction::Request,
                    format!("{owner} of {name}"),
                    Some("required"),
                    Some(json!(parameter.required)),
                    Some(json!(twin.required)),
                );
            }
            if let (Some(a), Some(b)) = (&parameter.schema, &twin.schema) {
                let context = Context {
                    direction: Direction::Request,
                    owner: format!("{owner} of {name}"),
                };
                self.schemas(a, b, &context)?;
            }
        }
        for parameter in &new.parameters {
            if !old
                .parameters
                .iter()
                .any(|p| p.name == parameter.name && p.location == parameter.location)
            {
                let pointer = parameter
                    .schema
                    .as_deref()
                    .and_then(|s| s.strip_suffix("/schema"))
                    .map_or_else(|| format!("{}/parameters", new.pointer), str::to_owned);
                self.push(
                    pointer,
                    Kind::ParameterAdded,
                    Direction::Request,
                    format!(
                        "parameter `{}` ({}) of {name}",
                        parameter.name, parameter.location
                    ),
                    None,
                    None,
                    Some(json!({"required": parameter.required})),
                );
                self.changes.last_mut().expect("just pushed").required = parameter.required;
            }
        }

        let body = format!("{}/requestBody", new.pointer);
        match (&old.request_body, &new.request_body) {
            (Some(_), None) => self.push(
                format!("{}/requestBody", old.pointer),
                Kind::RequestBodyRemoved,
                Direction::Request,
                format!("request body of {name}"),
                None,
                Some(json!({"required": old.body_required})),
                None,
            ),
            (None, Some(_)) => {
                self.push(
                    body,
                    Kind::RequestBodyAdded,
                    Direction::Request,
                    format!("request body of {name}"),
                    None,
                    None,
                    Some(json!({"required": new.body_required})),
                );
                self.changes.last_mut().expect("just pushed").required = new.body_required;
            }
            (Some(a), Some(b)) => {
                if old.body_required != new.body_required {
                    let kind = if new.body_required {
                        Kind::MadeRequired
                    } else {
                        Kind::MadeOptional
                    };
                    self.push(
                        format!("{body}/required"),
                        kind,
                        Direction::Request,
                        format!("request body of {name}"),
                        Some("required"),
                        Some(json!(old.body_required)),
                        Some(json!(new.body_required)),
                    );
                }
                let context = Context {
                    direction: Direction::Request,
                    owner: format!("request body of {name}"),
                };
                self.schemas(a, b, &context)?;
            }
            (None, None) => {}
        }

        for response in &old.responses {
            let owner = format!("response {} of {name}", response.status);
            match new.responses.iter().find(|r| r.status == response.status) {
                None => self.push(
                    response.pointer.clone(),
                    Kind::ResponseRemoved,
                    Direction::Response,
                    owner,
                    None,
                    Some(json!(response.status)),
                    None,
                ),
                Some(twin) => match (&response.schema, &twin.schema) {
                    (Some(a), Some(b)) => {
                        let context = Context {
                            direction: Direction::Response,
                            owner,
                        };
                        self.schemas(a, b, &context)?;
                    }
                    (None, None) => {}
                    (a, b) => self.push(
                        twin.pointer.clone(),
                        Kind::TypeChanged,
                        Direction::Response,
                        owner,
                        Some("content"),
                        Some(json!(a.is_some())),
                        Some(json!(b.is_some())),
                    ),
                },
            }
        }
        for response in &new.responses {
            if !old.responses.iter().any(|r| r.status == response.status) {
                self.push(
                    response.pointer.clone(),
                    Kind::ResponseAdded,
                    Direction::Response,
                    format!("response {} of {name}", response.status),
                    None,
                    None,
                    Some(json!(response.status)),
                );
            }
        }
        Ok(())
    }

    /// Converts both schemas (inlining `$ref`s) and compares them; paths follow the new one.
    fn schemas(&mut self, old: &str, new: &str, context: &Context) -> Result<(), SchemaError> {
        let a = to_json_schema(self.old, old)?;
        let b = to_json_schema(self.new, new)?;
        self.schema(&a, &b, new, "", context);
        Ok(())
    }

    fn schema(&mut self, old: &Value, new: &Value, at: &str, field: &str, cx: &Context) {
        if old == new {
            return;
        }
        let (Some(a), Some(b)) = (old.as_object(), new.as_object()) else {
            // Boolean schemas (`true`/`false`) or anything odd: one opaque change.
            self.push(
                at.into(),
                Kind::TypeChanged,
                cx.direction,
                cx.subject(field),
                None,
                Some(old.clone()),
                Some(new.clone()),
            );
            return;
        };
        let subject = cx.subject(field);
        let dir = cx.direction;

        if types(a) != types(b) {
            self.push(
                format!("{at}/type"),
                Kind::TypeChanged,
                dir,
                subject.clone(),
                Some("type"),
                a.get("type").cloned(),
                b.get("type").cloned(),
            );
        }

        match (a.get("enum"), b.get("enum")) {
            (Some(Value::Array(x)), Some(Value::Array(y))) => {
                for value in x.iter().filter(|v| !y.contains(v)) {
                    self.push(
                        format!("{at}/enum/{}", index_of(x, value)),
                        Kind::EnumValueRemoved,
                        dir,
                        subject.clone(),
                        Some("enum"),
                        Some(value.clone()),
                        None,
                    );
                }
                for value in y.iter().filter(|v| !x.contains(v)) {
                    self.push(
                        format!("{at}/enum/{}", index_of(y, value)),
                        Kind::EnumValueAdded,
                        dir,
                        subject.clone(),
                        Some("enum"),
                        None,
                        Some(value.clone()),
                    );
                }
            }
            (None, None) => {}
            (x, y) => {
                let kind = if y.is_some() {
                    Kind::RangeNarrowed
                } else {
                    Kind::RangeWidened
                };
                self.push(
                    format!("{at}/enum"),
                    kind,
                    dir,
                    subject.clone(),
                    Some("enum"),
                    x.cloned(),
                    y.cloned(),
                );
            }
        }

        self.bounds(a, b, at, &subject, dir);
        let dims = |m: &Map<String, Value>| {
            m.get("x-dimensions")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        self.bounds(
            &dims(a),
            &dims(b),
            &format!("{at}/x-dimensions"),
            &subject,
            dir,
        );

        if a.get("default") != b.get("default") {
            self.push(
                format!("{at}/default"),
                Kind::DefaultChanged,
                dir,
                subject.clone(),
                Some("default"),
                a.get("default").cloned(),
                b.get("default").cloned(),
            );
        }

        self.properties(a, b, at, field, cx);
        self.additional_properties(a, b, at, field, cx);

        match (a.get("items"), b.get("items")) {
            (Some(x), Some(y)) => {
                let child = join(field, "[]");
                self.schema(x, y, &format!("{at}/items"), &child, cx);
            }
            (None, None) => {}
            (x, y) => {
                let kind = if y.is_some() {
                    Kind::RangeNarrowed
                } else {
                    Kind::RangeWidened
                };
                self.push(
                    format!("{at}/items"),
                    kind,
                    dir,
                    subject.clone(),
                    Some("items"),
                    x.map(brief),
                    y.map(brief),
                );
            }
        }

        for key in ["oneOf", "anyOf", "allOf"] {
            let branches = |m: &Map<String, Value>| -> Option<Vec<Value>> {
                let list = m.get(key)?.as_array()?;
                Some(
                    list.iter()
                        // `allOf` entries made from `x-required-if` are compared through it.
                        .filter(|s| s.pointer("/then/x-because").is_none())
                        .cloned()
                        .collect(),
                )
                .filter(|l: &Vec<Value>| !l.is_empty())
            };
            let (x, y) = (branches(a), branches(b));
            let (x, y) = (x.unwrap_or_default(), y.unwrap_or_default());
            if x.len() != y.len() {
                self.push(
                    format!("{at}/{key}"),
                    Kind::TypeChanged,
                    dir,
                    subject.clone(),
                    Some(key),
                    Some(json!(x.len())),
                    Some(json!(y.len())),
                );
            }
            for (i, (x, y)) in x.iter().zip(&y).enumerate() {
                self.schema(x, y, &format!("{at}/{key}/{i}"), field, cx);
            }
        }

        let rules = |m: &Map<String, Value>| {
            m.get("x-required-if")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let (x, y) = (rules(a), rules(b));
        for name in union(x.keys(), y.keys()) {
            let pointer = format!("{at}/x-required-if/{}", escape(&name));
            let child = cx.subject(&join(field, &name));
            let (kind, keyword) = match (x.get(&name), y.get(&name)) {
                (None, Some(_)) => (Kind::MadeRequired, "x-required-if"),
                (Some(_), None) => (Kind::MadeOptional, "x-required-if"),
                (Some(p), Some(q)) if p != q => (Kind::ConstraintChanged, "x-required-if"),
                _ => continue,
            };
            self.push(
                pointer,
                kind,
                dir,
                child,
                Some(keyword),
                x.get(&name).cloned(),
                y.get(&name).cloned(),
            );
        }

        for key in union(a.keys(), b.keys()) {
            let key = key.as_str();
            if IGNORED.contains(&key)
                || HANDLED.contains(&key)
                || LOWER.contains(&key)
                || UPPER.contains(&key)
                || a.get(key) == b.get(key)
            {
                continue;
            }
            // `x-` keys other than those handled above are not validated: metadata for the tools.
            let kind = if ANNOTATIONS.contains(&key) || key.starts_with("x-") {
                Kind::AnnotationChanged
            } else {
                Kind::ConstraintChanged
            };
            self.push(
                format!("{at}/{}", escape(key)),
                kind,
                dir,
                subject.clone(),
                Some(key),
                a.get(key).cloned(),
                b.get(key).cloned(),
            );
        }
    }

    /// `minimum`, `maxLength`, `maxItems`, `x-max-count`...: which way each bound moved.
    fn bounds(
        &mut self,
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        at: &str,
        subject: &str,
        dir: Direction,
    ) {
        for (keys, lower) in [(LOWER, true), (UPPER, false)] {
            for &key in keys {
                let (x, y) = (a.get(key), b.get(key));
                if x == y {
                    continue;
                }
                let narrowed = match (x.and_then(Value::as_f64), y.and_then(Value::as_f64)) {
                    (None, Some(_)) if x.is_none() => Some(true),
                    (Some(_), None) if y.is_none() => Some(false),
                    (Some(p), Some(q)) => Some(if lower { q > p } else { q < p }),
                    _ => None,
                };
                let kind = match narrowed {
                    Some(true) => Kind::RangeNarrowed,
                    Some(false) => Kind::RangeWidened,
                    None => Kind::ConstraintChanged,
                };
                self.push(
                    format!("{at}/{key}"),
                    kind,
                    dir,
                    subject.to_owned(),
                    Some(key),
                    x.cloned(),
                    y.cloned(),
                );
            }
        }
    }

    fn properties(
        &mut self,
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        at: &str,
        field: &str,
        cx: &Context,
    ) {
        let props =
            |m: &Map<String, Value>| m.get("properties").and_then(Value::as_object).cloned();
        let (x, y) = (props(a).unwrap_or_default(), props(b).unwrap_or_default());
        let required = |m: &Map<String, Value>| -> BTreeSet<String> {
            m.get("required")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (rx, ry) = (required(a), required(b));
        for name in union(x.keys(), y.keys()) {
            let pointer = format!("{at}/properties/{}", escape(&name));
            let child = join(field, &name);
            let subject = cx.subject(&child);
            match (x.get(&name), y.get(&name)) {
                (Some(p), Some(q)) => {
                    match (rx.contains(&name), ry.contains(&name)) {
                        (false, true) => self.push(
                            pointer.clone(),
                            Kind::MadeRequired,
                            cx.direction,
                            subject,
                            Some("required"),
                            Some(json!(false)),
                            Some(json!(true)),
                        ),
                        (true, false) => self.push(
                            pointer.clone(),
                            Kind::MadeOptional,
                            cx.direction,
                            subject,
                            Some("required"),
                            Some(json!(true)),
                            Some(json!(false)),
                        ),
                        _ => {}
                    }
                    self.schema(p, q, &pointer, &child, cx);
                }
                (Some(p), None) => self.push(
                    pointer,
                    Kind::FieldRemoved,
                    cx.direction,
                    subject,
                    None,
                    Some(brief(p)),
                    None,
                ),
                (None, Some(q)) => {
                    self.push(
                        pointer,
                        Kind::FieldAdded,
                        cx.direction,
                        subject,
                        None,
                        None,
                        Some(brief(q)),
                    );
                    self.changes.last_mut().expect("just pushed").required = ry.contains(&name);
                }
                (None, None) => {}
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
            self.push(
                format!("{at}/required"),
                kind,
                cx.direction,
                cx.subject(&join(field, name)),
                Some("required"),
                Some(json!(rx.contains(name))),
                Some(json!(ry.contains(name))),
            );
        }
    }

    fn additional_properties(
        &mut self,
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        at: &str,
        field: &str,
        cx: &Context,
    ) {
        let (x, y) = (a.get("additionalProperties"), b.get("additionalProperties"));
        if x == y {
            return;
        }
        // How much each admits: `false` nothing, a schema some, `true` (or absent) anything.
        let rank = |v: Option<&Value>| match v {
            Some(Value::Bool(false)) => 0,
            Some(Value::Object(_)) => 1,
            _ => 2,
        };
        let pointer = format!("{at}/additionalProperties");
        match (x, y) {
            (Some(p @ Value::Object(_)), Some(q @ Value::Object(_))) => {
                self.schema(p, q, &pointer, &join(field, "*"), cx);
            }
            _ if rank(x) == rank(y) => {}
            _ => {
                let kind = if rank(y) < rank(x) {
                    Kind::RangeNarrowed
                } else {
                    Kind::RangeWidened
                };
                self.push(
                    pointer,
                    kind,
                    cx.direction,
                    cx.subject(field),
                    Some("additionalProperties"),
                    x.map(brief),
                    y.map(brief),
                );
            }
        }
    }
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

fn join(field: &str, name: &str) -> String {
    match (field.is_empty(), name) {
        (true, _) => name.to_owned(),
        (false, "[]") => format!("{field}[]"),
        (false, _) => format!("{field}.{name}"),
    }
}

fn index_of(list: &[Value], value: &Value) -> usize {
    list.iter().position(|v| v == value).unwrap_or(0)
}

/// Keys of both maps, in order: the old map's first, then the new map's new ones.
fn union<'a>(
    a: impl Iterator<Item = &'a String>,
    b: impl Iterator<Item = &'a String>,
) -> Vec<String> {
    let mut out: Vec<String> = a.cloned().collect();
    for key in b {
        if !out.contains(key) {
            out.push(key.clone());
        }
    }
    out
}
