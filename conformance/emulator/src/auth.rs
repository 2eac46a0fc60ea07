//! The key, where each provider's spec (`x-auth`) puts it: a header with one of the accepted
//! prefixes (GPTProto raw or `Bearer `, Novita `Bearer ` or bare), or a field of the JSON body
//! (ModelsLab `key`). Keys are compared, hashed for per-key limits, and never logged or echoed.

use axum::http::{HeaderMap, StatusCode};
use img2img_specs::Provider;
use img2img_specs::extensions::AuthPlacement;
use serde_json::Value;

use super::error::{ApiError, ErrorKind};
use super::images::stable_hash;
use super::state::Shared;

/// Whether the key travels in a header (checked before the body is read).
pub(crate) fn in_header(shared: &Shared, provider: Provider) -> bool {
    shared.info(provider).spec.extensions().auth.placement == AuthPlacement::Header
}

/// Checks the key of a request; returns a hash of it (for per-key limits).
pub(crate) fn check(
    shared: &Shared,
    provider: Provider,
    headers: &HeaderMap,
    body: Option<&Value>,
) -> Result<u64, ApiError> {
    let auth = &shared.info(provider).spec.extensions().auth;
    let sent: Option<&str> = match auth.placement {
        AuthPlacement::Header => headers
            .get(auth.name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(|value| strip_prefix(value, &auth.accepted_prefixes)),
        AuthPlacement::Body => body
            .and_then(|b| b.get(auth.name.as_str()))
            .and_then(Value::as_str)
            .map(str::trim),
    };
    if shared.config.defects.skip_auth {
        return Ok(sent.map_or(0, |k| stable_hash(k.as_bytes())));
    }
    let where_ = || match auth.placement {
        AuthPlacement::Header => format!("the {} header", auth.name),
        AuthPlacement::Body => format!("the body field `{}`", auth.name),
    };
    let Some(key) = sent.filter(|k| !k.is_empty()) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::MissingKey,
            format!("missing API key: send it in {}", where_()),
        ));
    };
    let accepted = shared.config.api_keys.is_empty()
        || shared
            .config
            .api_keys
            .iter()
            .chain(shared.config.key_faults.iter().map(|f| &f.key))
            .any(|k| k.expose_secret() == key);
    if !accepted {
        let status = if provider == Provider::named("novita") {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        };
        return Err(ApiError::new(
            status,
            ErrorKind::WrongKey,
            format!("invalid API key in {}", where_()),
        ));
    }
    Ok(stable_hash(key.as_bytes()))
}

/// The key with the longest matching accepted prefix removed (`Bearer ` matched in any case).
fn strip_prefix<'a>(value: &'a str, prefixes: &[String]) -> &'a str {
    let mut longest: Option<&String> = None;
    for prefix in prefixes.iter().filter(|p| !p.is_empty()) {
        let matches = value.trim().eq_ignore_ascii_case(prefix.trim())
            || (value.len() >= prefix.len()
                && value.is_char_boundary(prefix.len())
                && value[..prefix.len()].eq_ignore_ascii_case(prefix));
        if matches && longest.is_none_or(|l| prefix.len() > l.len()) {
            longest = Some(prefix);
        }
    }
    match longest {
        // "Bearer" alone (a trailing space is trimmed on the wire) is an empty bearer key.
        Some(prefix) if value.trim().eq_ignore_ascii_case(prefix.trim()) => "",
        Some(prefix) => value[prefix.len()..].trim(),
        None if prefixes.iter().any(String::is_empty) => value.trim(),
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_prefixes_are_stripped() {
        let both = vec!["Bearer ".to_owned(), String::new()];
        assert_eq!(strip_prefix("Bearer sk-1", &both), "sk-1");
        assert_eq!(strip_prefix("bearer sk-1", &both), "sk-1");
        assert_eq!(strip_prefix("sk-1", &both), "sk-1");
        assert_eq!(strip_prefix("Bearer", &both), "");
        let bearer_only = vec!["Bearer ".to_owned()];
        assert_eq!(strip_prefix("sk-1", &bearer_only), "");
    }
}
