//! One of our operations against the provider's: its parameters (by location and name; path
//! parameters by position, header names in any case), its request body's fields, and each
//! response status with its body's fields. Every field gets a verdict: it agrees, it differs only
//! where our `x-parity` keeps the difference on purpose, or the difference is open.

use std::collections::BTreeMap;

use img2img_specs::parity::{Facet, Kept, Parity};
use img2img_specs::schema::to_json_schema;
use img2img_specs::{Location, Operation, Parameter};
use serde::Serialize;
use serde_json::Value;

use super::ParityError;
use super::fields::{Difference, Facts, Fields, differences, mark, summary};
use super::routes::MatchedBy;
use super::shape::Shape;

/// Whether a field agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Not kept on purpose: drift to settle.
    Open,
    /// Differs only where our spec says why (`x-parity`).
    Kept,
    /// The same on both sides.
    Agree,
}

/// One field (or parameter, response status, request body) compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldParity {
    /// Where it is: `request`, `query`, `path`, `header`, `cookie` or `response 200`.
    pub place: String,
    /// Its path there (`request.width`, `images[].url`); empty for the place itself.
    pub field: String,
    /// Agree, kept or open.
    pub verdict: Verdict,
    /// What differs.
    pub differences: Vec<Difference>,
    /// Why the differences are kept, when they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<Kept>,
    /// Our mark keeps a difference that no longer exists (remove the mark).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stale_mark: bool,
    /// The reason our mark on this field gives, kept or not.
    #[serde(skip)]
    pub mark: Option<Kept>,
}

impl FieldParity {
    /// `request request.width`, `response 200 status`, `response 422`.
    pub fn name(&self) -> String {
        if self.field.is_empty() {
            self.place.clone()
        } else {
            format!("{} {}", self.place, self.field)
        }
    }
}

/// Counts over a list of fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Fields compared.
    pub compared: usize,
    /// Fields that agree.
    pub agree: usize,
    /// Fields that differ only where our spec keeps the difference on purpose.
    pub kept: usize,
    /// Fields with a difference no mark keeps.
    pub open: usize,
}

impl Counts {
    /// The counts of `fields`.
    pub fn of(fields: &[FieldParity]) -> Counts {
        let count = |v| fields.iter().filter(|f| f.verdict == v).count();
        Counts {
            compared: fields.len(),
            agree: count(Verdict::Agree),
            kept: count(Verdict::Kept),
            open: count(Verdict::Open),
        }
    }

    /// The sum of two counts.
    pub fn plus(self, other: Counts) -> Counts {
        Counts {
            compared: self.compared + other.compared,
            agree: self.agree + other.agree,
            kept: self.kept + other.kept,
            open: self.open + other.open,
        }
    }
}

/// An operation as the output names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationRef {
    /// Its `operationId` (may be empty in their spec).
    pub id: String,
    /// Upper-case method.
    pub method: String,
    /// The path as its document writes it.
    pub path: String,
}

impl From<&Operation> for OperationRef {
    fn from(op: &Operation) -> Self {
        OperationRef {
            id: op.id.clone(),
            method: op.method.as_str().to_owned(),
            path: op.path.clone(),
        }
    }
}

/// One of our operations compared with theirs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationParity {
    /// Ours.
    pub ours: OperationRef,
    /// Theirs.
    pub theirs: OperationRef,
    /// How they were paired.
    pub matched_by: MatchedBy,
    /// Counts over [`OperationParity::fields`].
    pub counts: Counts,
    /// Every field compared: open ones first, then kept, then those that agree.
    pub fields: Vec<FieldParity>,
}

/// The two documents an operation pair lives in.
pub struct Documents<'a> {
    /// Our spec.
    pub ours: &'a Value,
    /// Theirs (3.1 `$ref` siblings rewritten).
    pub theirs: &'a Value,
}

/// Compares our `ours` with their `theirs`.
pub fn compare(
    docs: &Documents<'_>,
    ours: &Operation,
    theirs: &Operation,
    matched_by: MatchedBy,
) -> Result<OperationParity, ParityError> {
    let op_mark = mark(
        docs.ours
            .pointer(&ours.pointer)
            .and_then(|o| o.get(img2img_specs::parity::PARITY)),
    )?
    .unwrap_or_default();
    let mut out = Vec::new();
    parameters(docs, ours, theirs, &op_mark, &mut out)?;
    body(docs, ours, theirs, &op_mark, &mut out)?;
    responses(docs, ours, theirs, &op_mark, &mut out)?;
    // A mark on a schema several places share is stale only where it keeps nothing in any of them
    // (an error body's `message` is required in their 400 answer, not in their 200 one).
    let used: Vec<Kept> = out.iter().filter_map(|f| f.kept.clone()).collect();
    for field in &mut out {
        if field.mark.as_ref().is_some_and(|m| used.contains(m)) {
            field.stale_mark = false;
        }
    }
    out.sort_by_key(|f| f.verdict);
    Ok(OperationParity {
        ours: ours.into(),
        theirs: theirs.into(),
        matched_by,
        counts: Counts::of(&out),
        fields: out,
    })
}

/// The shape of the schema at `pointer` (any, when there is none).
fn shape(document: &Value, pointer: Option<&str>) -> Result<Shape, ParityError> {
    match pointer {
        Some(at) => Ok(Shape::of(&to_json_schema(document, at)?)),
        None => Ok(Shape::default()),
    }
}

fn parameters(
    docs: &Documents<'_>,
    ours: &Operation,
    theirs: &Operation,
    op_mark: &Parity,
    out: &mut Vec<FieldParity>,
) -> Result<(), ParityError> {
    // Their path parameters take our names, by position in the template.
    let renames: BTreeMap<String, String> = path_names(&theirs.path)
        .into_iter()
        .zip(path_names(&ours.path))
        .collect();
    let key = |p: &Parameter, renames: Option<&BTreeMap<String, String>>| {
        let name = match p.location {
            Location::Header => p.name.to_ascii_lowercase(),
            Location::Path => renames
                .and_then(|r| r.get(&p.name))
                .cloned()
                .unwrap_or_else(|| p.name.clone()),
            Location::Query | Location::Cookie => p.name.clone(),
        };
        (p.location.as_str(), name)
    };
    let mut mine = BTreeMap::new();
    for p in &ours.parameters {
        let shape = shape(docs.ours, p.schema.as_deref())?;
        mine.insert(key(p, None), Facts::of(&shape, p.required)?);
    }
    let mut theirs_by = BTreeMap::new();
    for p in &theirs.parameters {
        let shape = shape(docs.theirs, p.schema.as_deref())?;
        theirs_by.insert(key(p, Some(&renames)), Facts::of(&shape, p.required)?);
    }
    let names: std::collections::BTreeSet<_> =
        mine.keys().chain(theirs_by.keys()).cloned().collect();
    for (location, name) in names {
        let omitted = op_mark.omitted.get(&format!("{location} {name}"));
        let k = (location, name.clone());
        out.push(judge(
            location,
            &name,
            mine.get(&k),
            theirs_by.get(&k),
            omitted,
        ));
    }
    Ok(())
}

/// The names of a template's path parameters, in order.
fn path_names(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

fn body(
    docs: &Documents<'_>,
    ours: &Operation,
    theirs: &Operation,
    op_mark: &Parity,
    out: &mut Vec<FieldParity>,
) -> Result<(), ParityError> {
    let place = "request";
    match (&ours.request_body, &theirs.request_body) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            let mine = Fields::of(&shape(docs.ours, Some(a))?)?;
            let theirs = Fields::of(&shape(docs.theirs, Some(b))?)?;
            compare_fields(place, &mine, &theirs, out);
        }
        (Some(a), None) => {
            let facts = Facts::of(&shape(docs.ours, Some(a))?, ours.body_required)?;
            out.push(judge(place, "", Some(&facts), None, None));
        }
        (None, Some(_)) => {
            let facts = Facts {
                required: theirs.body_required,
                ..Facts::default()
            };
            let omitted = op_mark.omitted.get(place);
            out.push(judge(place, "", None, Some(&facts), omitted));
        }
    }
    Ok(())
}

fn responses(
    docs: &Documents<'_>,
    ours: &Operation,
    theirs: &Operation,
    op_mark: &Parity,
    out: &mut Vec<FieldParity>,
) -> Result<(), ParityError> {
    let statuses: std::collections::BTreeSet<&str> = ours
        .responses
        .iter()
        .chain(&theirs.responses)
        .map(|r| r.status.as_str())
        .collect();
    for status in statuses {
        let place = format!("response {status}");
        let mine = ours.responses.iter().find(|r| r.status == status);
        let other = theirs.responses.iter().find(|r| r.status == status);
        match (mine, other) {
            (Some(a), Some(b)) => {
                let mine = Fields::of(&shape(docs.ours, a.schema.as_deref())?)?;
                let theirs = Fields::of(&shape(docs.theirs, b.schema.as_deref())?)?;
                compare_fields(&place, &mine, &theirs, out);
            }
            (Some(a), None) => {
                let facts = Facts {
                    mark: mark(
                        docs.ours
                            .pointer(&a.pointer)
                            .and_then(|r| r.get(img2img_specs::parity::PARITY)),
                    )?,
                    ..Facts::default()
                };
                out.push(judge(&place, "", Some(&facts), None, None));
            }
            (None, _) => {
                let omitted = op_mark.omitted.get(&place);
                out.push(judge(&place, "", None, Some(&Facts::default()), omitted));
            }
        }
    }
    Ok(())
}

/// Every field of either side of one place.
fn compare_fields(place: &str, ours: &Fields, theirs: &Fields, out: &mut Vec<FieldParity>) {
    let names: std::collections::BTreeSet<&String> =
        ours.fields.keys().chain(theirs.fields.keys()).collect();
    // Fields only we have, kept on purpose: a field beneath one of them is only ours too, for the
    // same reason (names sort parents first).
    let mut kept_only_ours: BTreeMap<&str, Kept> = BTreeMap::new();
    for name in names {
        let mut field = judge(
            place,
            name,
            ours.fields.get(name),
            theirs.fields.get(name),
            ours.omitted.get(name),
        );
        let only_ours = !theirs.fields.contains_key(name) && ours.fields.contains_key(name);
        if only_ours && field.verdict == Verdict::Open {
            let parent = kept_only_ours
                .iter()
                .rev()
                .find(|(parent, _)| is_beneath(name, parent));
            if let Some((_, reason)) = parent {
                field.verdict = Verdict::Kept;
                field.kept = Some(reason.clone());
            }
        }
        if only_ours && let Some(reason) = field.kept.clone() {
            kept_only_ours.insert(name, reason);
        }
        out.push(field);
    }
}

/// Whether field `name` lies beneath field `parent` (`a.b` and `a[].b` beneath `a`).
fn is_beneath(name: &str, parent: &str) -> bool {
    name.strip_prefix(parent)
        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with("[]"))
}

/// The verdict on one field: `omitted` is our reason for lacking a field they have.
fn judge(
    place: &str,
    field: &str,
    ours: Option<&Facts>,
    theirs: Option<&Facts>,
    omitted: Option<&Kept>,
) -> FieldParity {
    // A place itself (a response status, a request body) is documented or not.
    let what = |facts: &Facts| {
        if field.is_empty() {
            Value::from("documented")
        } else {
            summary(facts)
        }
    };
    let (differences, covered): (Vec<Difference>, Vec<Option<Kept>>) = match (ours, theirs) {
        (Some(a), Some(b)) => {
            let found = differences(a, b);
            let covered = found
                .iter()
                .map(|d| a.mark.as_ref().and_then(|m| m.covers(d.facet)))
                .collect();
            (found, covered)
        }
        (Some(a), None) => (
            vec![Difference {
                facet: Facet::Presence,
                ours: Some(what(a)),
                theirs: None,
            }],
            vec![a.mark.as_ref().and_then(|m| m.covers(Facet::Presence))],
        ),
        (None, Some(b)) => (
            vec![Difference {
                facet: Facet::Presence,
                ours: None,
                theirs: Some(what(b)),
            }],
            vec![omitted.cloned()],
        ),
        (None, None) => (Vec::new(), Vec::new()),
    };
    let has_mark = ours.and_then(|a| a.mark.as_ref()).and_then(Parity::reason);
    let (verdict, kept) = if differences.is_empty() {
        (Verdict::Agree, None)
    } else if covered.iter().all(Option::is_some) {
        (Verdict::Kept, covered.into_iter().flatten().next())
    } else {
        (Verdict::Open, None)
    };
    FieldParity {
        place: place.to_owned(),
        field: field.to_owned(),
        stale_mark: verdict == Verdict::Agree && has_mark.is_some(),
        mark: has_mark,
        verdict,
        differences,
        kept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parameters_in_order() {
        assert_eq!(path_names("/a/{x}/b/{y}"), ["x", "y"]);
        assert_eq!(path_names("/a/b"), Vec::<String>::new());
    }
}
