//! Answer templates (`x-emulator.answers`, see `specs/README.md`): the JSON an emulator answers
//! with, written in the spec as YAML with `${...}` expressions and four operators (`$if`,
//! `$match`, `$map`, `$time`), compiled once when the spec is read into a tree that renders
//! straight into JSON bytes against a [`Scope`] (the job or the error the answer is about).
//!
//! Why a small module of its own rather than a template crate: json-e, the nearest ready-made
//! language for JSON templates, reads every number as an `f64`, so a 64-bit seed or a millisecond
//! timestamp loses digits; text template engines (handlebars, minijinja, tera) write text, not
//! typed JSON, and their output would have to be parsed again on every answer. Here a value keeps
//! its exact JSON form (an integer stays an integer, a request field is written as it came),
//! object keys come out sorted as `serde_json` writes a map (so answers keep the bytes they had
//! when the emulator built them as `serde_json` values), and an unknown variable, operator or
//! time format is an error when the spec is read, not at the first answer.
//!
//! ```
//! use img2img_specs::template::{JobVar, Role, Scope, Template, Value};
//! struct Job;
//! impl Scope for Job {
//!     fn job(&self, var: JobVar) -> Value<'_> {
//!         match var {
//!             JobVar::Id => Value::Str("t-1".into()),
//!             JobVar::Stage => Value::Str("failed".into()),
//!             JobVar::Reason => Value::Str("nsfw".into()),
//!             _ => Value::Absent,
//!         }
//!     }
//! }
//! let source = serde_json::json!({
//!     "task": {"id": "${job.id}", "reason": "${job.reason ?? ''}"},
//!     "done": {"$if": "job.reason", "then": true, "else": false},
//! });
//! let template = Template::compile(&source, Role::Job).unwrap();
//! assert_eq!(
//!     template.render_to_string(&Job),
//!     r#"{"done":true,"task":{"id":"t-1","reason":"nsfw"}}"#
//! );
//! ```

mod compile;
mod render;
mod vars;

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value as Json;

pub use compile::Var;
pub use render::{Scope, Value};
pub use vars::{ErrorVar, JobVar, OutputField};

use compile::Node;

/// What a template answers about, and so which variables it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A job (`job.*`, `request.*`): the `created`, `result` and `webhook` answers.
    Job,
    /// An error (`error.*`, `request.*`): the `error` and `not-found` answers.
    Error,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Job => "job",
            Role::Error => "error",
        }
    }
}

/// A template that cannot be compiled: where in it, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {at}: {message}")]
pub struct TemplateError {
    /// JSON pointer into the template (`/task/status`).
    pub at: String,
    /// What is wrong there.
    pub message: String,
}

/// A compiled template. `Debug`, equality and serialization are those of its source.
#[derive(Clone)]
pub struct Template {
    source: Json,
    role: Role,
    root: Node,
}

impl Template {
    /// Compiles `source` (the template as the spec writes it) for `role`.
    pub fn compile(source: &Json, role: Role) -> Result<Template, TemplateError> {
        Ok(Template {
            root: compile::compile(source, role)?,
            source: source.clone(),
            role,
        })
    }

    /// The template as the spec writes it.
    pub fn source(&self) -> &Json {
        &self.source
    }

    /// What it answers about.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Appends the rendered JSON to `out` (`null` if the whole template is absent).
    pub fn render(&self, scope: &impl Scope, out: &mut Vec<u8>) {
        let mut items = Vec::new();
        if !render::write(&self.root, scope, &mut items, out) {
            out.extend_from_slice(b"null");
        }
    }

    /// The rendered JSON as text.
    pub fn render_to_string(&self, scope: &impl Scope) -> String {
        let mut out = Vec::new();
        self.render(scope, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The rendered JSON as a value.
    pub fn render_value(&self, scope: &impl Scope) -> Json {
        let mut out = Vec::new();
        self.render(scope, &mut out);
        serde_json::from_slice(&out).unwrap_or(Json::Null)
    }

    /// What the template may write at JSON `pointer`, through every branch of its operators:
    /// for each place, the variable it writes there when that is a lone `${variable}`, else
    /// `None`. Empty when nothing can be written there.
    pub fn writes_at(&self, pointer: &str) -> Vec<Option<Var>> {
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let mut found = Vec::new();
        nodes_at(&self.root, &segments, &mut found);
        found
    }

    /// The JSON pointers into the request body the template reads (`request.*`), so that a job
    /// keeps only those fields of its request.
    pub fn request_pointers(&self) -> Vec<String> {
        let mut found = Vec::new();
        visit_vars(&self.root, &mut |var| {
            if let Var::Request(pointer) = var {
                found.push(pointer.clone());
            }
        });
        found.sort();
        found.dedup();
        found
    }

    /// Whether the template reads `field` of an output image anywhere.
    pub fn reads_output(&self, field: OutputField) -> bool {
        reads_output(&self.root, field)
    }
}

fn nodes_at(node: &Node, segments: &[String], found: &mut Vec<Option<Var>>) {
    match node {
        Node::If {
            then, otherwise, ..
        } => {
            nodes_at(then, segments, found);
            if let Some(node) = otherwise {
                nodes_at(node, segments, found);
            }
        }
        Node::Match { cases, default, .. } => {
            for (_, node) in cases {
                nodes_at(node, segments, found);
            }
            if let Some(node) = default {
                nodes_at(node, segments, found);
            }
        }
        _ if segments.is_empty() => found.push(match node {
            Node::Value(expr) => match expr.0.as_slice() {
                [compile::Term::Var(var)] => Some(var.clone()),
                _ => None,
            },
            _ => None,
        }),
        Node::Object(entries) => {
            let key = serde_json::to_string(&segments[0]).unwrap_or_default();
            for (name, value) in entries {
                if **name == *key {
                    nodes_at(value, &segments[1..], found);
                }
            }
        }
        Node::Literal(json) => {
            let value: Json = serde_json::from_str(json).unwrap_or(Json::Null);
            let pointer: String = segments
                .iter()
                .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
                .collect();
            if value.pointer(&pointer).is_some() {
                found.push(None);
            }
        }
        _ => {}
    }
}

fn reads_output(node: &Node, field: OutputField) -> bool {
    let mut found = false;
    visit_vars(node, &mut |var| {
        found |= matches!(
            var,
            Var::Output { field: f, .. } | Var::OutputAt { field: f, .. } if *f == field
        );
    });
    found
}

/// Calls `visit` with every variable `node` reads (a `$map` over the request counts as reading
/// that array).
fn visit_vars(node: &Node, visit: &mut dyn FnMut(&Var)) {
    let in_expr = |expr: &compile::Expr, visit: &mut dyn FnMut(&Var)| {
        for term in &expr.0 {
            if let compile::Term::Var(var) = term {
                visit(var);
            }
        }
    };
    match node {
        Node::Literal(_) => {}
        Node::Object(entries) => entries.iter().for_each(|(_, n)| visit_vars(n, visit)),
        Node::Array(nodes) => nodes.iter().for_each(|n| visit_vars(n, visit)),
        Node::Value(expr) | Node::Time { at: expr, .. } => in_expr(expr, visit),
        Node::Text(pieces) => {
            for piece in pieces {
                if let compile::Piece::Expr(expr) = piece {
                    in_expr(expr, visit);
                }
            }
        }
        Node::If {
            cond,
            then,
            otherwise,
        } => {
            in_expr(cond, visit);
            visit_vars(then, visit);
            if let Some(node) = otherwise {
                visit_vars(node, visit);
            }
        }
        Node::Match { on, cases, default } => {
            in_expr(on, visit);
            cases.iter().for_each(|(_, n)| visit_vars(n, visit));
            if let Some(node) = default {
                visit_vars(node, visit);
            }
        }
        Node::Map { list, body } => {
            if let compile::List::Request(pointer) = list {
                visit(&Var::Request(pointer.clone()));
            }
            visit_vars(body, visit);
        }
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Template").field(&self.source).finish()
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Template) -> bool {
        self.role == other.role && self.source == other.source
    }
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.source.serialize(serializer)
    }
}

/// Deserializes a template of `role` (for `#[serde(deserialize_with)]`).
pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    role: Role,
) -> Result<Template, D::Error> {
    let source = <Json as serde::Deserialize>::deserialize(deserializer)?;
    Template::compile(&source, role).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests;
