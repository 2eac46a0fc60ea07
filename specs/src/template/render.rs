//! Rendering a compiled template straight into JSON bytes, reading variables from a [`Scope`].

use std::borrow::Cow;
use std::io::Write as _;

use serde_json::Value as Json;

use super::compile::{Expr, List, Node, Piece, Term, Var};
use super::vars::{ErrorVar, JobVar, OutputField};

/// A variable's value. [`Value::Absent`] is no value at all: an object key whose value is absent
/// is left out, an array item too, and `a ?? b` gives `b`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// No value.
    Absent,
    /// JSON `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    Uint(u64),
    /// A float (written as `serde_json` writes an `f64`: `20.0`).
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// A JSON value written as it is (a request field keeps its exact form).
    Json(&'a Json),
}

impl Value<'_> {
    /// False for absent, `null`, `false` and `""`; true otherwise.
    fn truthy(&self) -> bool {
        match self {
            Value::Absent | Value::Null | Value::Bool(false) => false,
            Value::Str(s) => !s.is_empty(),
            Value::Json(json) => {
                !matches!(json, Json::Null | Json::Bool(false))
                    && json.as_str().is_none_or(|s| !s.is_empty())
            }
            _ => true,
        }
    }

    /// The value as text (a string as it is, anything else as its JSON); `None` when absent.
    fn text(&self) -> Option<Cow<'_, str>> {
        Some(match self {
            Value::Absent => return None,
            Value::Str(s) => Cow::Borrowed(s.as_ref()),
            Value::Json(Json::String(s)) => Cow::Borrowed(s.as_str()),
            other => {
                let mut out = Vec::new();
                other.write(&mut out);
                Cow::Owned(String::from_utf8(out).unwrap_or_default())
            }
        })
    }

    /// Writes the value as JSON (`null` when absent).
    fn write(&self, out: &mut Vec<u8>) {
        let _ = match self {
            Value::Absent | Value::Null => out.write_all(b"null"),
            Value::Bool(b) => serde_json::to_writer(&mut *out, b).map_err(Into::into),
            Value::Int(n) => serde_json::to_writer(&mut *out, n).map_err(Into::into),
            Value::Uint(n) => serde_json::to_writer(&mut *out, n).map_err(Into::into),
            Value::Float(n) => serde_json::to_writer(&mut *out, n).map_err(Into::into),
            Value::Str(s) => serde_json::to_writer(&mut *out, s.as_ref()).map_err(Into::into),
            Value::Json(json) => serde_json::to_writer(&mut *out, json).map_err(Into::into),
        };
    }

    /// The value as a whole number, if it is one.
    fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Uint(n) => i64::try_from(*n).ok(),
            Value::Float(n) if n.fract() == 0.0 => Some(*n as i64),
            Value::Json(json) => json.as_i64(),
            _ => None,
        }
    }
}

/// Where a template's variables come from: the emulator implements it for a job, an error or a
/// not-found answer. Every method has a default (absent, no request, no outputs), so a scope
/// implements only what its role reads.
pub trait Scope {
    /// The value of `job.<var>`.
    fn job(&self, var: JobVar) -> Value<'_> {
        let _ = var;
        Value::Absent
    }

    /// The value of `error.<var>`.
    fn error(&self, var: ErrorVar) -> Value<'_> {
        let _ = var;
        Value::Absent
    }

    /// The request body, when it was JSON.
    fn request(&self) -> Option<&Json> {
        None
    }

    /// How many images `job.outputs` (`future: false`) or `job.future_outputs` (`true`) holds.
    fn outputs(&self, future: bool) -> usize {
        let _ = future;
        0
    }

    /// A field of output image `index`.
    fn output(&self, index: usize, field: OutputField) -> Value<'_> {
        let _ = (index, field);
        Value::Absent
    }
}

/// What a `$map` has bound.
#[derive(Clone, Copy)]
pub(crate) enum Item<'a> {
    Output(usize),
    Json(&'a Json),
}

/// Writes `node`; false (and nothing written) when it is absent.
pub(crate) fn write<'s, S: Scope>(
    node: &'s Node,
    scope: &'s S,
    items: &mut Vec<Item<'s>>,
    out: &mut Vec<u8>,
) -> bool {
    match node {
        Node::Literal(json) => out.extend_from_slice(json.as_bytes()),
        Node::Object(entries) => {
            out.push(b'{');
            let mut first = true;
            for (key, value) in entries {
                let mark = out.len();
                if !first {
                    out.push(b',');
                }
                out.extend_from_slice(key.as_bytes());
                out.push(b':');
                if write(value, scope, items, out) {
                    first = false;
                } else {
                    out.truncate(mark);
                }
            }
            out.push(b'}');
        }
        Node::Array(nodes) => {
            out.push(b'[');
            let mut first = true;
            for node in nodes {
                first = write_item(node, scope, items, out, first);
            }
            out.push(b']');
        }
        Node::Value(expr) => {
            let value = eval(expr, scope, items);
            if value == Value::Absent {
                return false;
            }
            value.write(out);
        }
        Node::Text(pieces) => {
            let mut text = String::new();
            for piece in pieces {
                match piece {
                    Piece::Text(plain) => text.push_str(plain),
                    Piece::Expr(expr) => match eval(expr, scope, items).text() {
                        Some(value) => text.push_str(&value),
                        None => return false,
                    },
                }
            }
            Value::Str(Cow::Owned(text)).write(out);
        }
        Node::If {
            cond,
            then,
            otherwise,
        } => {
            if eval(cond, scope, items).truthy() {
                return write(then, scope, items, out);
            }
            return match otherwise {
                Some(node) => write(node, scope, items, out),
                None => false,
            };
        }
        Node::Match { on, cases, default } => {
            let value = eval(on, scope, items);
            let chosen = value
                .text()
                .and_then(|text| cases.iter().find(|(case, _)| *case == text))
                .map(|(_, node)| node)
                .or(default.as_deref());
            return match chosen {
                Some(node) => write(node, scope, items, out),
                None => false,
            };
        }
        Node::Map { list, body } => {
            out.push(b'[');
            let mut first = true;
            match list {
                List::Outputs | List::FutureOutputs => {
                    for index in 0..scope.outputs(*list == List::FutureOutputs) {
                        items.push(Item::Output(index));
                        first = write_item(body, scope, items, out, first);
                        items.pop();
                    }
                }
                List::Request(pointer) => {
                    let array = scope.request().and_then(|r| r.pointer(pointer));
                    for item in array.and_then(Json::as_array).into_iter().flatten() {
                        items.push(Item::Json(item));
                        first = write_item(body, scope, items, out, first);
                        items.pop();
                    }
                }
                List::Item { depth, pointer } => {
                    let array = match items.get(*depth) {
                        Some(Item::Json(json)) => json.pointer(pointer),
                        _ => None,
                    };
                    for item in array.and_then(Json::as_array).into_iter().flatten() {
                        items.push(Item::Json(item));
                        first = write_item(body, scope, items, out, first);
                        items.pop();
                    }
                }
            }
            out.push(b']');
        }
        Node::Time { at, format } => {
            let Some(ms) = eval(at, scope, items).as_i64() else {
                return false;
            };
            let Some(time) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) else {
                return false;
            };
            let text = time.format_with_items(format.iter()).to_string();
            Value::Str(Cow::Owned(text)).write(out);
        }
    }
    true
}

/// Writes one array item (with its comma); returns whether the next one is still the first.
fn write_item<'s, S: Scope>(
    node: &'s Node,
    scope: &'s S,
    items: &mut Vec<Item<'s>>,
    out: &mut Vec<u8>,
    first: bool,
) -> bool {
    let mark = out.len();
    if !first {
        out.push(b',');
    }
    if write(node, scope, items, out) {
        false
    } else {
        out.truncate(mark);
        first
    }
}

/// The first term of `expr` that is present.
fn eval<'s, S: Scope>(expr: &'s Expr, scope: &'s S, items: &[Item<'s>]) -> Value<'s> {
    for term in &expr.0 {
        let value = match term {
            Term::Literal(json) => return Value::Json(json),
            Term::Var(var) => resolve(var, scope, items),
        };
        if value != Value::Absent {
            return value;
        }
    }
    Value::Absent
}

fn resolve<'s, S: Scope>(var: &Var, scope: &'s S, items: &[Item<'s>]) -> Value<'s> {
    match var {
        Var::Job(var) => scope.job(*var),
        Var::Error(var) => scope.error(*var),
        Var::Request(pointer) => scope
            .request()
            .and_then(|r| r.pointer(pointer))
            .map_or(Value::Absent, Value::Json),
        Var::Output { depth, field } => match items.get(*depth) {
            Some(Item::Output(index)) => scope.output(*index, *field),
            _ => Value::Absent,
        },
        Var::OutputAt {
            future,
            index,
            field,
        } => {
            if *index < scope.outputs(*future) {
                scope.output(*index, *field)
            } else {
                Value::Absent
            }
        }
        Var::Item { depth, pointer } => match items.get(*depth) {
            Some(Item::Json(json)) => json.pointer(pointer).map_or(Value::Absent, Value::Json),
            _ => Value::Absent,
        },
    }
}
