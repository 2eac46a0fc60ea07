//! From the template as the spec writes it (a JSON value) to the tree that renders: expressions
//! parsed, variables resolved against the vocabulary, literal parts serialized once, object keys
//! sorted.

use serde_json::Value as Json;

use super::vars::{ErrorVar, JobVar, OutputField};
use super::{Role, TemplateError};

/// A variable, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    /// `job.*`.
    Job(JobVar),
    /// `error.*`.
    Error(ErrorVar),
    /// `request.<path>`: the field of the request body at this JSON pointer, as it came.
    Request(String),
    /// A field of the output image bound by the `$map` at this depth (0: the outermost).
    Output {
        /// Depth of the `$map` that binds it.
        depth: usize,
        /// Which field.
        field: OutputField,
    },
    /// A field of one output image by its index (`job.outputs.0.url`): absent when the job has
    /// no such image (yet).
    OutputAt {
        /// `job.future_outputs` (every image from the start) rather than `job.outputs`.
        future: bool,
        /// The image's index.
        index: usize,
        /// Which field.
        field: OutputField,
    },
    /// The JSON item bound by the `$map` at this depth, or its field at this JSON pointer.
    Item {
        /// Depth of the `$map` that binds it.
        depth: usize,
        /// JSON pointer into the item (`""` for the item itself).
        pointer: String,
    },
}

/// What a `$map` walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum List {
    /// `job.outputs`: the images a result lists (none before the job succeeded).
    Outputs,
    /// `job.future_outputs`: every image the job will make, from the start.
    FutureOutputs,
    /// An array of the request body.
    Request(String),
    /// An array inside the JSON item bound at this depth.
    Item { depth: usize, pointer: String },
}

/// One term of an expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Term {
    Var(Var),
    Literal(Json),
}

/// `term ?? term ?? ...`: the first term that is present.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr(pub Vec<Term>);

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    Expr(Expr),
}

/// The compiled tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// JSON text with no expression in it, serialized once.
    Literal(Box<str>),
    /// Keys (serialized, quotes included) sorted as `serde_json` sorts a map's, with their values.
    Object(Vec<(Box<str>, Node)>),
    Array(Vec<Node>),
    /// `"${expr}"`: the value with its own JSON type.
    Value(Expr),
    /// `"text ${expr} text"`: a string.
    Text(Vec<Piece>),
    If {
        cond: Expr,
        then: Box<Node>,
        otherwise: Option<Box<Node>>,
    },
    Match {
        on: Expr,
        cases: Vec<(String, Node)>,
        default: Option<Box<Node>>,
    },
    Map {
        list: List,
        body: Box<Node>,
    },
    Time {
        at: Expr,
        format: Vec<chrono::format::Item<'static>>,
    },
}

/// What a `$map` binds a name to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Output,
    Json,
}

/// The compiler's state: the role and the names bound by the enclosing `$map`s.
struct Compiler {
    role: Role,
    bound: Vec<(String, Bound)>,
}

pub(crate) fn compile(source: &Json, role: Role) -> Result<Node, TemplateError> {
    Compiler {
        role,
        bound: Vec::new(),
    }
    .node(source, "")
}

fn error(at: &str, message: impl Into<String>) -> TemplateError {
    TemplateError {
        at: if at.is_empty() { "/".into() } else { at.into() },
        message: message.into(),
    }
}

fn literal(value: &Json) -> Node {
    Node::Literal(serde_json::to_string(value).unwrap_or_default().into())
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Compiler {
    fn node(&mut self, source: &Json, at: &str) -> Result<Node, TemplateError> {
        match source {
            Json::String(text) => self.string(text, at),
            Json::Array(items) => {
                let nodes = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.node(item, &format!("{at}/{i}")))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(collapse_array(nodes))
            }
            Json::Object(map) if map.keys().any(|k| is_operator(k)) => self.operator(map, at),
            Json::Object(map) => {
                let mut entries = Vec::with_capacity(map.len());
                for (key, value) in map {
                    let key = key.strip_prefix('$').unwrap_or(key);
                    let node = self.node(value, &format!("{at}/{}", escape(key)))?;
                    entries.push((key.to_owned(), node));
                }
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                if entries.windows(2).any(|w| w[0].0 == w[1].0) {
                    return Err(error(at, "a key is written twice (once escaped as `$$`)"));
                }
                Ok(collapse_object(entries))
            }
            other => Ok(literal(other)),
        }
    }

    fn string(&mut self, text: &str, at: &str) -> Result<Node, TemplateError> {
        if !text.contains('$') {
            return Ok(Node::Literal(
                serde_json::to_string(text).unwrap_or_default().into(),
            ));
        }
        let mut pieces: Vec<Piece> = Vec::new();
        let mut rest = text;
        let mut plain = String::new();
        while let Some(start) = rest.find('$') {
            plain.push_str(&rest[..start]);
            let after = &rest[start..];
            if let Some(escaped) = after.strip_prefix("$${") {
                plain.push_str("${");
                rest = escaped;
            } else if let Some(open) = after.strip_prefix("${") {
                let end = closing_brace(open)
                    .ok_or_else(|| error(at, format!("{text:?}: `${{` is never closed")))?;
                if !plain.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut plain)));
                }
                pieces.push(Piece::Expr(self.expr(&open[..end], at)?));
                rest = &open[end + 1..];
            } else {
                plain.push('$');
                rest = &after[1..];
            }
        }
        plain.push_str(rest);
        if !plain.is_empty() {
            pieces.push(Piece::Text(plain));
        }
        Ok(match pieces.as_slice() {
            [Piece::Expr(expr)] => Node::Value(expr.clone()),
            [] => Node::Literal("\"\"".into()),
            [Piece::Text(only)] => {
                Node::Literal(serde_json::to_string(only).unwrap_or_default().into())
            }
            _ => Node::Text(pieces),
        })
    }

    fn operator(
        &mut self,
        map: &serde_json::Map<String, Json>,
        at: &str,
    ) -> Result<Node, TemplateError> {
        let operators: Vec<&String> = map.keys().filter(|k| is_operator(k)).collect();
        let [operator] = operators.as_slice() else {
            return Err(error(
                at,
                format!(
                    "an object holds one operator at most, here {}",
                    operators
                        .iter()
                        .map(|o| o.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let allowed: &[&str] = match operator.as_str() {
            "$if" => &["$if", "then", "else"],
            "$match" => &["$match", "cases", "default"],
            "$map" => &["$map", "as", "to"],
            "$time" => &["$time", "format"],
            other => {
                return Err(error(
                    at,
                    format!("unknown operator {other:?}: expected $if, $match, $map or $time"),
                ));
            }
        };
        if let Some(extra) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(error(
                at,
                format!("{operator} takes {}, not {extra:?}", allowed.join(", ")),
            ));
        }
        let required = |key: &str| {
            map.get(key)
                .ok_or_else(|| error(at, format!("{operator} needs `{key}`")))
        };
        let text = |key: &str| -> Result<&str, TemplateError> {
            required(key)?
                .as_str()
                .ok_or_else(|| error(&format!("{at}/{}", escape(key)), "must be a string"))
        };
        match operator.as_str() {
            "$if" => Ok(Node::If {
                cond: self.expr(text("$if")?, &format!("{at}/$if"))?,
                then: Box::new(self.node(required("then")?, &format!("{at}/then"))?),
                otherwise: match map.get("else") {
                    Some(node) => Some(Box::new(self.node(node, &format!("{at}/else"))?)),
                    None => None,
                },
            }),
            "$match" => {
                let on = self.expr(text("$match")?, &format!("{at}/$match"))?;
                let Json::Object(cases) = required("cases")? else {
                    return Err(error(
                        &format!("{at}/cases"),
                        "must be an object: value → template",
                    ));
                };
                let cases = cases
                    .iter()
                    .map(|(case, node)| {
                        Ok((
                            case.clone(),
                            self.node(node, &format!("{at}/cases/{}", escape(case)))?,
                        ))
                    })
                    .collect::<Result<Vec<_>, TemplateError>>()?;
                let default = match map.get("default") {
                    Some(node) => Some(Box::new(self.node(node, &format!("{at}/default"))?)),
                    None => None,
                };
                Ok(Node::Match { on, cases, default })
            }
            "$map" => {
                let list = self.list(text("$map")?, &format!("{at}/$map"))?;
                let name = text("as")?;
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    || matches!(name, "job" | "error" | "request")
                {
                    return Err(error(
                        &format!("{at}/as"),
                        format!(
                            "{name:?} must be a name of letters, digits and `_` other than job, error and request"
                        ),
                    ));
                }
                let bound = match list {
                    List::Outputs | List::FutureOutputs => Bound::Output,
                    List::Request(_) | List::Item { .. } => Bound::Json,
                };
                self.bound.push((name.to_owned(), bound));
                let body = self.node(required("to")?, &format!("{at}/to"));
                self.bound.pop();
                Ok(Node::Map {
                    list,
                    body: Box::new(body?),
                })
            }
            _ => {
                let format = text("format")?;
                let items = chrono::format::StrftimeItems::new(format)
                    .parse_to_owned()
                    .map_err(|e| {
                        error(
                            &format!("{at}/format"),
                            format!("{format:?} is not a strftime format: {e}"),
                        )
                    })?;
                Ok(Node::Time {
                    at: self.expr(text("$time")?, &format!("{at}/$time"))?,
                    format: items,
                })
            }
        }
    }

    /// A `$map` list: `job.outputs`, `job.future_outputs`, a request array or an array in a bound
    /// JSON item.
    fn list(&self, text: &str, at: &str) -> Result<List, TemplateError> {
        let text = text.trim();
        let text = text
            .strip_prefix("${")
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(text)
            .trim();
        match text {
            "job.outputs" | "job.future_outputs" if self.role != Role::Job => Err(error(
                at,
                format!("{text} is not known in {} templates", self.role.name()),
            )),
            "job.outputs" => Ok(List::Outputs),
            "job.future_outputs" => Ok(List::FutureOutputs),
            _ => match self.var(text, at)? {
                Var::Request(pointer) => Ok(List::Request(pointer)),
                Var::Item { depth, pointer } => Ok(List::Item { depth, pointer }),
                _ => Err(error(
                    at,
                    format!(
                        "$map walks job.outputs, job.future_outputs or an array of the request, not {text}"
                    ),
                )),
            },
        }
    }

    /// `term ?? term ...`.
    fn expr(&self, text: &str, at: &str) -> Result<Expr, TemplateError> {
        let mut terms = Vec::new();
        for term in split_alternatives(text) {
            let term = term.trim();
            if term.is_empty() {
                return Err(error(at, format!("{text:?}: an empty term")));
            }
            terms.push(match literal_term(term) {
                Some(value) => Term::Literal(value),
                None => Term::Var(self.var(term, at)?),
            });
        }
        Ok(Expr(terms))
    }

    fn var(&self, path: &str, at: &str) -> Result<Var, TemplateError> {
        let segments: Vec<&str> = path.split('.').collect();
        if segments.iter().any(|s| {
            s.is_empty()
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }) {
            return Err(error(
                at,
                format!("{path:?} is neither a variable (names joined by `.`) nor a literal"),
            ));
        }
        let (head, tail) = (segments[0], &segments[1..]);
        let pointer = || {
            tail.iter()
                .map(|s| format!("/{}", escape(s)))
                .collect::<String>()
        };
        if let Some(depth) = self.bound.iter().rposition(|(name, _)| name == head) {
            return match self.bound[depth].1 {
                Bound::Json => Ok(Var::Item {
                    depth,
                    pointer: pointer(),
                }),
                Bound::Output => {
                    let word = tail.join(".");
                    OutputField::from_word(&word)
                        .map(|field| Var::Output { depth, field })
                        .ok_or_else(|| {
                            error(
                                at,
                                format!(
                                    "{path:?}: an image has {}",
                                    OutputField::ALL
                                        .iter()
                                        .map(|f| format!("{head}.{}", f.word()))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            )
                        })
                }
            };
        }
        let word = tail.join(".");
        if head == "job"
            && self.role == Role::Job
            && let [list @ ("outputs" | "future_outputs"), index, field @ ..] = tail
        {
            let index = index.parse::<usize>().map_err(|_| {
                error(
                    at,
                    format!("{path:?}: after job.{list} comes an image's index (job.{list}.0.url)"),
                )
            })?;
            let field = OutputField::from_word(&field.join(".")).ok_or_else(|| {
                error(
                    at,
                    format!(
                        "{path:?}: an image has {}",
                        OutputField::ALL
                            .iter()
                            .map(|f| format!("job.{list}.{index}.{}", f.word()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            return Ok(Var::OutputAt {
                future: *list == "future_outputs",
                index,
                field,
            });
        }
        match head {
            "request" if !tail.is_empty() && self.role == Role::Job => Ok(Var::Request(pointer())),
            "job" if self.role == Role::Job => {
                JobVar::from_word(&word).map(Var::Job).ok_or_else(|| {
                    error(
                        at,
                        format!(
                            "unknown variable {path:?}: expected one of {}",
                            JobVar::names()
                        ),
                    )
                })
            }
            "error" if self.role == Role::Error => {
                ErrorVar::from_word(&word).map(Var::Error).ok_or_else(|| {
                    error(
                        at,
                        format!(
                            "unknown variable {path:?}: expected one of {}",
                            ErrorVar::names()
                        ),
                    )
                })
            }
            "job" | "error" | "request" if self.role == Role::Error || head != "request" => {
                Err(error(
                    at,
                    format!("{path:?} is not known in {} templates", self.role.name()),
                ))
            }
            _ => Err(error(
                at,
                format!(
                    "unknown variable {path:?}: variables start with {}{}",
                    match self.role {
                        Role::Job => "job. or request.",
                        Role::Error => "error.",
                    },
                    if self.bound.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " or a name bound by $map ({})",
                            self.bound
                                .iter()
                                .map(|(n, _)| n.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ),
            )),
        }
    }
}

fn is_operator(key: &str) -> bool {
    key.starts_with('$') && !key.starts_with("$$")
}

/// Where the `}` closing an expression is (outside quotes).
fn closing_brace(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '}') => return Some(i),
            (None, _) => {}
        }
    }
    None
}

/// The terms of `a ?? b ?? c` (outside quotes).
fn split_alternatives(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote = None;
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'?' && bytes.get(i + 1) == Some(&b'?') => {
                out.push(&text[start..i]);
                start = i + 2;
                i += 1;
            }
            None => {}
        }
        i += 1;
    }
    out.push(&text[start..]);
    out
}

/// A literal term: a quoted string (`'text'` or `"text"`), a number, `true`, `false` or `null`.
fn literal_term(term: &str) -> Option<Json> {
    for quote in ['\'', '"'] {
        if let Some(inner) = term.strip_prefix(quote).and_then(|t| t.strip_suffix(quote))
            && term.len() >= 2
        {
            return Some(Json::String(inner.to_owned()));
        }
    }
    match term {
        "true" => Some(Json::Bool(true)),
        "false" => Some(Json::Bool(false)),
        "null" => Some(Json::Null),
        _ if term.starts_with(|c: char| c.is_ascii_digit() || c == '-') => {
            serde_json::from_str::<Json>(term)
                .ok()
                .filter(Json::is_number)
        }
        _ => None,
    }
}

fn collapse_array(nodes: Vec<Node>) -> Node {
    if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
        let mut text = String::from("[");
        for (i, node) in nodes.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            if let Node::Literal(json) = node {
                text.push_str(json);
            }
        }
        text.push(']');
        return Node::Literal(text.into());
    }
    Node::Array(nodes)
}

fn collapse_object(entries: Vec<(String, Node)>) -> Node {
    let entries: Vec<(Box<str>, Node)> = entries
        .into_iter()
        .map(|(key, node)| (serde_json::to_string(&key).unwrap_or_default().into(), node))
        .collect();
    if entries.iter().all(|(_, n)| matches!(n, Node::Literal(_))) {
        let mut text = String::from("{");
        for (i, (key, node)) in entries.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(key);
            text.push(':');
            if let Node::Literal(json) = node {
                text.push_str(json);
            }
        }
        text.push('}');
        return Node::Literal(text.into());
    }
    Node::Object(entries)
}
