//! Which of our operations is which of theirs. In order: our operation's `x-parity.operation`
//! (their `operationId`, or `METHOD /path` as their document writes the path, or with its base);
//! then the same method and path, their path under their server's base path, path parameters
//! matched by position whatever their names; then, for what is left, the same method with one
//! full path a suffix of the other at a segment boundary (their `/img2img` with no base path and
//! our `/api/v6/images/img2img`), when exactly one of our operations fits.

use img2img_specs::Operation;
use serde::Serialize;

use super::fields::mark;
use super::{ParityError, Published};

/// How two operations were matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Our `x-parity.operation` names theirs.
    Mark,
    /// The same method and path (theirs under their base path).
    Path,
    /// The same method, one path ending with the other.
    Suffix,
}

/// Our operations and theirs, paired.
#[derive(Debug, Default)]
pub struct Routes<'a> {
    /// Ours, theirs, and how.
    pub pairs: Vec<(&'a Operation, &'a Operation, MatchedBy)>,
    /// Ours with no match.
    pub only_ours: Vec<&'a Operation>,
    /// Theirs with no match.
    pub only_theirs: Vec<&'a Operation>,
    /// What could not be matched as written (a mark naming nothing, an ambiguous suffix).
    pub notes: Vec<String>,
}

/// Pairs `ours` (operations of `our_doc`) with `theirs` (of `published`).
pub fn pair<'a>(
    ours: &'a [Operation],
    our_doc: &serde_json::Value,
    theirs: &'a [Operation],
    published: &Published,
) -> Result<Routes<'a>, ParityError> {
    let base = published.base_path.as_str();
    let full = |op: &Operation| format!("{base}{}", op.path);
    let mut routes = Routes::default();
    let mut ours_left: Vec<&Operation> = ours.iter().collect();
    let mut theirs_left: Vec<&Operation> = theirs.iter().collect();
    let take = |routes: &mut Routes<'a>,
                ours_left: &mut Vec<&'a Operation>,
                theirs_left: &mut Vec<&'a Operation>,
                (o, t): (usize, usize),
                by| {
        routes
            .pairs
            .push((ours_left.remove(o), theirs_left.remove(t), by));
    };

    // 1. Marks.
    let mut i = 0;
    while i < ours_left.len() {
        let op = ours_left[i];
        let named = our_doc
            .pointer(&op.pointer)
            .and_then(|o| o.get(img2img_specs::parity::PARITY));
        let Some(name) = mark(named)?.and_then(|m| m.operation) else {
            i += 1;
            continue;
        };
        let found = theirs_left.iter().position(|t| match name.split_once(' ') {
            Some((method, path)) => {
                t.method.as_str().eq_ignore_ascii_case(method)
                    && (same_path(&t.path, path) || same_path(&full(t), path))
            }
            None => t.id == name,
        });
        match found {
            Some(t) => take(
                &mut routes,
                &mut ours_left,
                &mut theirs_left,
                (i, t),
                MatchedBy::Mark,
            ),
            None => {
                routes.notes.push(format!(
                    "{} {} ({}): x-parity.operation names {name:?}, which {} does not have (or pairs with another)",
                    op.method, op.path, op.id, published.label
                ));
                i += 1;
            }
        }
    }

    // 2. Method and full path.
    let mut i = 0;
    while i < ours_left.len() {
        let op = ours_left[i];
        match theirs_left
            .iter()
            .position(|t| t.method == op.method && same_path(&full(t), &op.path))
        {
            Some(t) => take(
                &mut routes,
                &mut ours_left,
                &mut theirs_left,
                (i, t),
                MatchedBy::Path,
            ),
            None => i += 1,
        }
    }

    // 3. A suffix, when exactly one of ours fits.
    let mut t = 0;
    while t < theirs_left.len() {
        let theirs_op = theirs_left[t];
        let fits: Vec<usize> = ours_left
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.method == theirs_op.method
                    && (is_suffix(&full(theirs_op), &o.path)
                        || is_suffix(&o.path, &full(theirs_op)))
            })
            .map(|(i, _)| i)
            .collect();
        match fits.as_slice() {
            [o] => take(
                &mut routes,
                &mut ours_left,
                &mut theirs_left,
                (*o, t),
                MatchedBy::Suffix,
            ),
            [] => t += 1,
            several => {
                let names: Vec<String> = several
                    .iter()
                    .map(|&o| format!("{} {}", ours_left[o].method, ours_left[o].path))
                    .collect();
                routes.notes.push(format!(
                    "{} {} of {} ends several of our paths ({}): name it in one of them with x-parity.operation",
                    theirs_op.method,
                    theirs_op.path,
                    published.label,
                    names.join(", ")
                ));
                t += 1;
            }
        }
    }
    routes.only_ours = ours_left;
    routes.only_theirs = theirs_left;
    Ok(routes)
}

/// A path's segments, each parameter written `{}` (their names do not matter).
pub fn segments(path: &str) -> Vec<&str> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                "{}"
            } else {
                s
            }
        })
        .collect()
}

fn same_path(a: &str, b: &str) -> bool {
    segments(a) == segments(b)
}

/// Whether `short` ends `long` at a segment boundary (and is shorter).
fn is_suffix(short: &str, long: &str) -> bool {
    let (s, l) = (segments(short), segments(long));
    !s.is_empty() && s.len() < l.len() && l.ends_with(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_match_by_position_and_suffixes_at_segment_boundaries() {
        assert!(same_path("/v1/task/{id}", "/v1/task/{task_id}/"));
        assert!(!same_path("/v1/task/{id}", "/v1/task"));
        assert!(is_suffix("/img2img", "/api/v6/images/img2img"));
        assert!(!is_suffix("/mg2img", "/api/v6/images/img2img"));
        assert!(!is_suffix("/img2img", "/img2img"));
    }
}
