//! Where a poll goes: which result operation, at which origin, with which parameters and body.
//!
//! The job id goes where the create operation's OpenAPI link to the result operation puts it (a
//! path or query parameter, or a body field; a decimal id as an integer where the field's schema
//! allows one). A URL the provider asked to be polled at (`x-job.poll-url-pointer`) is followed
//! through the spec: the result operation whose path matches the URL's path, with the path and
//! query parameters the URL carries, called at the URL's origin — but only when that origin is the
//! base URL's, or an `https` host `x-job.poll-url-hosts` lists, since the key travels with every
//! call. Any other URL, or a path no result operation has, is polled at `x-job.result` on the base
//! URL instead.

use img2img_specs::operations::CallInput;
use img2img_specs::{Location, Operation, Provider, Spec};
use serde_json::{Map, Value};

use crate::errors::Error;

/// One poll call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PollCall {
    /// The result operation.
    pub operation: &'static str,
    /// The origin (`scheme://host[:port]`) to call it at, when it is not the base URL.
    pub origin: Option<String>,
    /// Its parameters and body (the key is added where `x-auth` says, by the generated client).
    pub input: CallInput,
}

/// The poll of job `id`, at `poll_url` when the provider gave one that may be followed.
pub(crate) fn poll_call(
    provider: Provider,
    base_url: &str,
    id: &str,
    poll_url: Option<&str>,
) -> Result<PollCall, Error> {
    let spec = Spec::embedded(provider);
    let job = &spec.extensions().job;
    if let Some(url) = poll_url {
        match follow(spec, base_url, id, url) {
            Ok(call) => return Ok(call),
            Err(reason) => tracing::warn!(
                provider = provider.id(),
                reason,
                "not following the poll URL; polling x-job.result on the base URL"
            ),
        }
    }
    let operation = spec.operation(&job.result).ok_or_else(|| {
        Error::config(format!(
            "x-job.result {:?} is no operation of the {provider} spec",
            job.result
        ))
    })?;
    Ok(PollCall {
        operation: &operation.id,
        origin: None,
        input: id_input(spec, operation, id),
    })
}

/// The call `url` stands for, or why it is not followed.
fn follow(spec: &'static Spec, base_url: &str, id: &str, url: &str) -> Result<PollCall, String> {
    let job = &spec.extensions().job;
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{e}"))?;
    let base = reqwest::Url::parse(base_url).map_err(|e| format!("base URL: {e}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let same_origin = parsed.origin() == base.origin();
    let allowed_host = parsed.scheme() == "https" && job.allows_poll_host(host);
    if !same_origin && !allowed_host {
        return Err(format!(
            "its origin {} is neither the base URL's nor an https host of x-job.poll-url-hosts",
            parsed.origin().ascii_serialization()
        ));
    }
    let operation = spec
        .operations()
        .iter()
        .find(|op| job.is_result(&op.id) && op.matches_path(parsed.path()))
        .ok_or_else(|| format!("its path {} is no result operation's", parsed.path()))?;
    let mut input = id_input(spec, operation, id);
    for (name, value) in path_parameters(operation, parsed.path()) {
        input.params.insert(name, Value::String(value));
    }
    for (name, value) in parsed.query_pairs() {
        if operation
            .parameters_in(Location::Query)
            .any(|p| p.name == name)
        {
            input
                .params
                .insert(name.into_owned(), Value::String(value.into_owned()));
        }
    }
    Ok(PollCall {
        operation: &operation.id,
        origin: (!same_origin).then(|| parsed.origin().ascii_serialization()),
        input,
    })
}

/// The path parameters a concrete path gives an operation's template, percent-decoded.
fn path_parameters(operation: &Operation, path: &str) -> Vec<(String, String)> {
    let template = operation.path.trim_matches('/').split('/');
    let actual = path.trim_matches('/').split('/');
    template
        .zip(actual)
        .filter_map(|(t, a)| {
            let name = t.strip_prefix('{')?.strip_suffix('}')?;
            let value = percent_encoding::percent_decode_str(a).decode_utf8_lossy();
            Some((name.to_owned(), value.into_owned()))
        })
        .collect()
}

/// The inputs that carry job `id` to `operation`: what a create operation's link to it fills
/// with the id (its family's create first), and an object body for an operation that takes one.
fn id_input(spec: &Spec, operation: &Operation, id: &str) -> CallInput {
    let job = &spec.extensions().job;
    let families = job.families();
    let creates = families
        .iter()
        .filter(|f| f.result == operation.id)
        .chain(families.iter().filter(|f| f.result != operation.id))
        .map(|f| f.create.as_str());
    let link = creates
        .flat_map(|create| spec.links(create))
        .find(|link| link.operation == operation.id);
    let is_id = |expression: &str| {
        expression
            .strip_prefix("$response.body#")
            .is_some_and(|pointer| {
                pointer == job.id_pointer || job.id_fallback_pointers.iter().any(|p| p == pointer)
            })
    };
    let mut input = CallInput::default();
    let mut body = Map::new();
    if let Some(link) = link {
        for (name, expression) in &link.parameters {
            if is_id(expression) {
                input
                    .params
                    .insert(name.clone(), Value::String(id.to_owned()));
            }
        }
        for (name, expression) in &link.body_fields {
            if is_id(expression) {
                body.insert(name.clone(), id_value(spec, operation, name, id));
            }
        }
    }
    if operation.request_body.is_some() {
        input.body = Some(Value::Object(body));
    }
    input
}

/// The id as body field `field` of `operation` takes it: an integer when it is decimal and the
/// field's schema allows an integer, else a string.
fn id_value(spec: &Spec, operation: &Operation, field: &str, id: &str) -> Value {
    let Ok(number) = id.parse::<i64>() else {
        return Value::String(id.to_owned());
    };
    let takes_integer = spec
        .request_schema(&operation.id)
        .and_then(Result::ok)
        .and_then(|schema| {
            schema
                .schema()
                .get("properties")
                .and_then(|p| p.get(field))
                .map(allows_integer)
        })
        .unwrap_or(false);
    if takes_integer {
        Value::from(number)
    } else {
        Value::String(id.to_owned())
    }
}

/// Whether a converted schema (or one of its `oneOf`/`anyOf` branches) is an integer or number.
fn allows_integer(schema: &Value) -> bool {
    let typed = |t: &Value| matches!(t.as_str(), Some("integer" | "number"));
    let by_type = match schema.get("type") {
        Some(Value::Array(types)) => types.iter().any(typed),
        Some(t) => typed(t),
        None => false,
    };
    by_type
        || ["oneOf", "anyOf"].iter().any(|key| {
            schema
                .get(*key)
                .and_then(Value::as_array)
                .is_some_and(|branches| branches.iter().any(allows_integer))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:9";

    #[test]
    fn without_a_url_every_spec_polls_its_result_operation_with_the_id() {
        for provider in Provider::all() {
            let spec = Spec::embedded(provider);
            let call = poll_call(provider, BASE, "job-7", None).unwrap();
            assert_eq!(call.operation, spec.extensions().job.result, "{provider}");
            assert_eq!(call.origin, None);
            let carried = call.input.params.values().any(|v| v == "job-7")
                || call
                    .input
                    .body
                    .as_ref()
                    .and_then(Value::as_object)
                    .is_some_and(|b| b.values().any(|v| v == "job-7"));
            assert!(carried, "{provider}: the id travels nowhere: {call:?}");
        }
    }

    #[test]
    fn a_url_elsewhere_is_not_followed_and_one_here_is_read_through_the_spec() {
        for provider in Provider::all() {
            let spec = Spec::embedded(provider);
            let job = &spec.extensions().job;
            let result = spec.operation(&job.result).unwrap();
            let elsewhere = format!("https://elsewhere.example{}", result.path_with("9"));
            let call = poll_call(provider, BASE, "9", Some(&elsewhere)).unwrap();
            assert_eq!(call.origin, None, "{provider}");
            assert_eq!(call.operation, job.result, "{provider}");
            let unknown_path = format!("{BASE}/no/such/path/9");
            let call = poll_call(provider, BASE, "9", Some(&unknown_path)).unwrap();
            assert_eq!(call.operation, job.result, "{provider}");
            let here = format!("{BASE}{}", result.path_with("42"));
            let call = poll_call(provider, BASE, "9", Some(&here)).unwrap();
            assert_eq!(call.operation, job.result, "{provider}");
            assert_eq!(call.origin, None, "{provider}");
            for parameter in result.parameters_in(Location::Path) {
                assert_eq!(call.input.params[&parameter.name], "42", "{provider}");
            }
        }
    }

    #[test]
    fn a_url_on_a_listed_host_is_followed_over_https_only() {
        for provider in Provider::all() {
            let embedded = Spec::embedded(provider);
            let mut document = embedded.document().clone();
            document["x-job"]["poll-url-hosts"] = serde_json::json!(["api.eu1.example.com"]);
            let spec: &'static Spec = Box::leak(Box::new(Spec::from_document(document).unwrap()));
            let job = &spec.extensions().job;
            let result = spec.operation(&job.result).unwrap();
            let listed = format!("https://api.eu1.example.com{}", result.path_with("42"));
            let call = follow(spec, BASE, "9", &listed).unwrap();
            assert_eq!(call.operation, job.result, "{provider}");
            assert_eq!(
                call.origin.as_deref(),
                Some("https://api.eu1.example.com"),
                "{provider}"
            );
            let plain = listed.replacen("https://", "http://", 1);
            assert!(follow(spec, BASE, "9", &plain).is_err(), "{provider}");
            let unlisted = listed.replacen("eu1", "us1", 1);
            assert!(follow(spec, BASE, "9", &unlisted).is_err(), "{provider}");
        }
    }
}
