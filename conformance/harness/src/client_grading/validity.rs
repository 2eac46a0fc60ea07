//! `requests_valid` for one request, judged as it arrives (from the request as sent, key
//! included): an operation of the spec, a JSON body valid in the accepting reading of its request
//! schema, the required query parameters there, the key where `x-auth` puts it.

use img2img_emulator::Exchange;
use img2img_specs::extensions::AuthPlacement;
use img2img_specs::{Operation, Provider, Reading, Spec};
use serde_json::Value;

use super::command::key_env;
use super::traffic::{is_download, line};

fn secs(d: std::time::Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Why `exchange` (as received, reaching `operation`, its body parsed as `body`) is not a request
/// `provider`'s spec allows with `key`, if it is not.
pub fn problem(
    provider: Provider,
    operation: Option<&Operation>,
    exchange: &Exchange,
    body: &Result<Value, serde_json::Error>,
    key: &str,
) -> Option<String> {
    let spec = Spec::embedded(provider);
    let auth = &spec.extensions().auth;
    let at = secs(exchange.received);
    let call = line(exchange);
    let op = match operation {
        Some(op) => op,
        None if is_download(exchange) => return None,
        None => {
            return Some(format!(
                "{call} at {at} is not an operation of the {provider} spec"
            ));
        }
    };
    let body = match (&op.request_body, body) {
        (None, _) => None,
        (Some(_), Ok(body)) => Some(body),
        (Some(_), Err(e)) => {
            return Some(format!(
                "{} ({}) at {at}: the body is not JSON: {e}",
                call, op.id
            ));
        }
    };
    let key_placed = match auth.placement {
        AuthPlacement::Header => exchange
            .header(&auth.name.to_ascii_lowercase())
            .is_some_and(|value| {
                auth.accepted_prefixes.iter().any(|prefix| {
                    value.len() == prefix.len() + key.len()
                        && value.starts_with(prefix.as_str())
                        && value.ends_with(key)
                })
            }),
        AuthPlacement::Body => {
            body.and_then(|b| b.get(&auth.name)).and_then(Value::as_str) == Some(key)
        }
    };
    if !key_placed {
        let prefixes: Vec<String> = auth
            .accepted_prefixes
            .iter()
            .map(|p| format!("{p:?}"))
            .collect();
        let place = match auth.placement {
            AuthPlacement::Header => format!(
                "the {} header, after one of the prefixes {}",
                auth.name,
                prefixes.join(", ")
            ),
            AuthPlacement::Body => format!("the body's top-level {:?} field", auth.name),
        };
        return Some(format!(
            "{} ({}) at {at}: the key given in {} is not in {place}",
            call,
            op.id,
            key_env(provider)
        ));
    }
    for parameter in op.parameters.iter().filter(|p| p.required) {
        let present = match parameter.location.as_str() {
            "query" => exchange.query.as_deref().is_some_and(|query| {
                query.split('&').any(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    name == parameter.name && !value.is_empty()
                })
            }),
            _ => true,
        };
        if !present {
            return Some(format!(
                "{} ({}) at {at}: the required {} parameter {:?} is missing",
                call, op.id, parameter.location, parameter.name
            ));
        }
    }
    let body = body?;
    // What the provider accepts (the accepting reading): an SDK's explicit nulls are no fault of
    // the client when the provider reads them as absent.
    match spec.request_schema_as(&op.id, Reading::Accepting)? {
        Err(e) => Some(format!(
            "{}: the request schema does not compile: {e}",
            op.id
        )),
        Ok(schema) => schema.validate(body).err().map(|violations| {
            format!(
                "{} ({}) at {at}: invalid request: {violations}",
                call, op.id
            )
        }),
    }
}
