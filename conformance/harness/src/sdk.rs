//! The SDK compatibility suite's judgement of what an official SDK sent to the emulator (its
//! journal, [`img2img_emulator::Emulator::journal`], redacted): whether every exchange fits the spec
//! (requests in the accepting reading, answers in the response schemas), and what the SDK sends
//! that the provider's docs do not mention (fields, nulls, paths, headers), measured against the
//! sending reading, which is the docs' own. The suite itself is `tests/it/sdk.rs`.

use std::collections::BTreeSet;

use img2img_emulator::images::IMAGE_PATH;
use img2img_emulator::{Exchange, FAULT_HEADER, HEALTH_PATH, STATS_PATH};
use img2img_report::sdk::SdkDrift;
use img2img_specs::extensions::AuthPlacement;
use img2img_specs::{Reading, Rule, Spec};
use serde_json::Value;

/// Headers every HTTP client sends, which no docs page needs to mention.
const PLAIN_HEADERS: &[&str] = &[
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "connection",
    "content-length",
    "content-type",
    "sec-fetch-mode",
];

/// Every way the exchanges break the spec: a request outside the accepting reading, an answer
/// with an undocumented status or outside its response schema, a path no operation has.
pub fn violations(exchanges: &[Exchange]) -> Vec<String> {
    let mut out = Vec::new();
    for entry in &seen(exchanges) {
        let call = format!("{} {}", entry.method, entry.path);
        let Some(provider) = entry.provider else {
            out.push(format!(
                "{call}: no operation of any spec has this path (HTTP {})",
                entry.status
            ));
            continue;
        };
        let spec = Spec::embedded(provider);
        let Some(op) = spec.operation(entry.operation) else {
            out.push(format!(
                "{call}: {provider} has no operation {}",
                entry.operation
            ));
            continue;
        };
        if let (Some(body), Some(schema)) = (
            &entry.request,
            spec.request_schema_as(&op.id, Reading::Accepting),
        ) {
            match schema {
                Ok(schema) => {
                    if let Err(v) = schema.validate(body) {
                        out.push(format!(
                            "{call} ({}): the request breaks what the provider accepts: {v}",
                            op.id
                        ));
                    }
                }
                Err(e) => out.push(format!("{call}: {e}")),
            }
        }
        if op.response(entry.status).is_none() {
            out.push(format!(
                "{call} ({}): HTTP {} is not documented",
                op.id, entry.status
            ));
            continue;
        }
        match (spec.response_schema(&op.id, entry.status), &entry.response) {
            (Some(Ok(schema)), Some(body)) => {
                if let Err(v) = schema.validate(body) {
                    out.push(format!(
                        "{call} ({}): the HTTP {} answer breaks the spec: {v}",
                        op.id, entry.status
                    ));
                }
            }
            (Some(Ok(_)), None) => out.push(format!(
                "{call} ({}): the HTTP {} answer is not JSON",
                op.id, entry.status
            )),
            (Some(Err(e)), _) => out.push(format!("{call}: {e}")),
            (None, _) => {}
        }
    }
    out
}

/// What the exchanges carry beyond the provider's docs.
pub fn drift(exchanges: &[Exchange]) -> SdkDrift {
    let mut fields = BTreeSet::new();
    let mut nulls = BTreeSet::new();
    let mut values = BTreeSet::new();
    let mut paths = BTreeSet::new();
    let mut headers = BTreeSet::new();
    for entry in &seen(exchanges) {
        let Some(provider) = entry.provider else {
            paths.insert(format!(
                "{} {} (no such operation)",
                entry.method, entry.path
            ));
            continue;
        };
        let spec = Spec::embedded(provider);
        let ext = spec.extensions();
        let Some(op) = spec.operation(entry.operation) else {
            continue;
        };
        if let Some(family) = ext.job.aliases.iter().find(|f| f.has(&op.id)) {
            paths.insert(format!(
                "{} {} (x-job alias {})",
                op.method, op.path, family.name
            ));
        }
        if let (Some(body), Some(Ok(schema))) = (&entry.request, spec.request_schema(&op.id)) {
            for violation in schema.validate(body).err().into_iter().flat_map(|v| v.0) {
                match &violation.rule {
                    Rule::UnknownProperty { property } => {
                        fields.insert(join(&violation.field, property));
                    }
                    _ if violation.value.is_null()
                        && body.pointer(&violation.pointer) == Some(&Value::Null) =>
                    {
                        nulls.insert(violation.field.clone());
                    }
                    _ => {
                        values.insert(violation.to_string());
                    }
                }
            }
        }
        let auth = &ext.auth;
        for (name, value) in entry.headers {
            if PLAIN_HEADERS.contains(&name.as_str()) || name == FAULT_HEADER {
                continue;
            }
            if auth.placement == AuthPlacement::Header && name.eq_ignore_ascii_case(&auth.name) {
                if !value.starts_with(&auth.prefix) {
                    headers.insert(format!(
                        "{name}: the key without the docs' {:?} prefix",
                        auth.prefix
                    ));
                }
                continue;
            }
            headers.insert(format!("{name}: {value}"));
        }
    }
    SdkDrift {
        fields: fields.into_iter().collect(),
        nulls: nulls.into_iter().collect(),
        values: values.into_iter().collect(),
        paths: paths.into_iter().collect(),
        headers: headers.into_iter().collect(),
    }
}

/// The operationIds the exchanges reached, in the order first reached (the report's coverage
/// table shows each SDK on these operations).
pub fn operations(exchanges: &[Exchange]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for entry in &seen(exchanges) {
        if entry.provider.is_some()
            && !entry.operation.is_empty()
            && !out.iter().any(|o| o == entry.operation)
        {
            out.push(entry.operation.to_owned());
        }
    }
    out
}

/// One exchange with an SDK, as the judgement reads it.
struct Seen<'a> {
    provider: Option<img2img_specs::Provider>,
    operation: &'a str,
    method: &'a str,
    path: &'a str,
    headers: &'a [(String, String)],
    request: Option<Value>,
    /// The status answered (0: the connection was dropped).
    status: u16,
    response: Option<Value>,
}

/// The exchanges an SDK had with the provider's API: the emulator's own routes (image downloads,
/// health, stats) are not the provider's and are left out.
fn seen(exchanges: &[Exchange]) -> Vec<Seen<'_>> {
    let own =
        |path: &str| path.starts_with(IMAGE_PATH) || path == HEALTH_PATH || path == STATS_PATH;
    exchanges
        .iter()
        .filter(|e| !own(&e.path))
        .map(|e| Seen {
            provider: e.provider,
            operation: e.operation.as_deref().unwrap_or_default(),
            method: &e.method,
            path: &e.path,
            headers: &e.headers,
            request: (!e.body.is_empty()).then(|| e.json()).flatten(),
            status: e.answer().map_or(0, |a| a.status),
            response: e.answer().and_then(|a| a.json()),
        })
        .collect()
}

fn join(parent: &str, property: &str) -> String {
    if parent.is_empty() {
        property.to_owned()
    } else {
        format!("{parent}.{property}")
    }
}
