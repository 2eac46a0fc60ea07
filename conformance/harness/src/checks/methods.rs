//! `unsupported_method`: every path of the spec, asked with a method the spec does not list for it,
//! is answered 405 Method Not Allowed with an `Allow` header naming exactly the methods it lists
//! (RFC 9110 §15.5.6), as schemathesis's check of the same name asks.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;

use super::{Context, Verdict, failure};

/// Methods tried, in order; the first one a path does not list is sent.
const CANDIDATES: [Method; 5] = [
    Method::DELETE,
    Method::PUT,
    Method::PATCH,
    Method::GET,
    Method::POST,
];

/// Runs the check: one request per path of the spec.
pub(crate) async fn unsupported(context: &Context) -> Verdict {
    let spec = context.caller.spec();
    // Path template → the methods the spec lists for it.
    let mut paths: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for op in spec.operations() {
        paths
            .entry(op.path.as_str())
            .or_default()
            .insert(op.method.as_str().to_owned());
    }
    let mut cases = 0;
    for (template, listed) in &paths {
        let Some(method) = CANDIDATES.iter().find(|m| !listed.contains(m.as_str())) else {
            continue;
        };
        let path = concrete(template);
        cases += 1;
        let (status, allow) = match context.caller.probe(method, &path).await {
            Ok(answer) => answer,
            Err(e) => return Verdict::Skipped(e.to_string()),
        };
        let expected: Vec<&str> = listed.iter().map(String::as_str).collect();
        let allowed: BTreeSet<String> = allow
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .filter(|m| !m.is_empty())
            .collect();
        let problem = match status {
            None => Some("the connection failed".to_owned()),
            Some(405) if allow.is_none() => Some("405 without an Allow header".to_owned()),
            // HEAD comes with GET; a server may list it (and OPTIONS) beside the spec's methods.
            Some(405)
                if !listed.iter().all(|m| allowed.contains(m))
                    || allowed
                        .iter()
                        .any(|m| !listed.contains(m) && m != "HEAD" && m != "OPTIONS") =>
            {
                Some(format!(
                    "405 with Allow: {}",
                    allow.as_deref().unwrap_or("")
                ))
            }
            Some(405) => None,
            Some(other) => Some(format!("HTTP {other}")),
        };
        if let Some(problem) = problem {
            return Verdict::Failed {
                cases,
                failure: failure(
                    format!(
                        "{method} {path} was answered {problem}; a method the spec does not list \
                         must get 405 with Allow: {}",
                        expected.join(", ")
                    ),
                    None,
                ),
            };
        }
    }
    Verdict::Passed { cases }
}

/// `template` with every `{parameter}` filled with a placeholder id.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "conformance-probe"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::concrete;

    #[test]
    fn path_parameters_are_filled() {
        assert_eq!(
            concrete("/v1/predictions/{id}/result"),
            "/v1/predictions/conformance-probe/result"
        );
        assert_eq!(concrete("/v3/async/img2img"), "/v3/async/img2img");
    }
}
