//! The key, where the spec's `x-auth` puts it: a header with one of the accepted prefixes, or a
//! field of the JSON body. Keys are compared, hashed for per-key limits, and never logged or
//! echoed.

use axum::http::HeaderMap;
use img2img_specs::ApiKey;
use img2img_specs::extensions::{AuthInfo, AuthPlacement, Cause};
use serde_json::Value;

use super::error::ApiError;
use super::images::stable_hash;

/// The keys one emulator accepts.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    /// Accepted keys (the configured ones and those faults are bound to); none: any non-empty key.
    accepted: Vec<ApiKey>,
    /// Whether any key was configured.
    any: bool,
    /// The `skip_auth` defect: missing and wrong keys pass.
    skip: bool,
}

impl Keys {
    pub fn new(api_keys: &[ApiKey], fault_keys: impl Iterator<Item = ApiKey>, skip: bool) -> Keys {
        if api_keys.is_empty() && !skip {
            tracing::warn!(
                "no API key configured: any non-empty key is accepted (set --api-key or Config::api_keys)"
            );
        }
        Keys {
            any: api_keys.is_empty(),
            accepted: api_keys.iter().cloned().chain(fault_keys).collect(),
            skip,
        }
    }

    /// Checks the key of a request where `auth` puts it; returns a hash of it (for per-key
    /// limits). The body is read only for a key in the body. An operation whose spec lets the
    /// key be left out (`security` lists `{}`) takes any key, or none.
    pub fn check(
        &self,
        auth: &AuthInfo,
        optional: bool,
        headers: &HeaderMap,
        body: Option<&Value>,
    ) -> Result<u64, ApiError> {
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
        if self.skip || optional {
            return Ok(sent.map_or(0, |k| stable_hash(k.as_bytes())));
        }
        let where_ = || match auth.placement {
            AuthPlacement::Header => format!("the {} header", auth.name),
            AuthPlacement::Body => format!("the body field `{}`", auth.name),
        };
        let Some(key) = sent.filter(|k| !k.is_empty()) else {
            return Err(ApiError::new(
                Cause::MissingKey,
                format!("missing API key: send it in {}", where_()),
            ));
        };
        if !(self.any || self.accepted.iter().any(|k| k.expose_secret() == key)) {
            return Err(ApiError::new(
                Cause::WrongKey,
                format!("invalid API key in {}", where_()),
            ));
        }
        Ok(stable_hash(key.as_bytes()))
    }
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
