//! The request journal ([`crate::Config::journal`]): every exchange with a spec operation (and every
//! request no route knows), as the client sent it and as the emulator answered, with the key
//! redacted. A test reads it with [`crate::Emulator::journal`] to judge what a client sends, without a
//! proxy in between.

use axum::http::HeaderMap;
use img2img_specs::Provider;
use img2img_specs::extensions::AuthPlacement;
use serde_json::Value;

use super::state::{Shared, lock};

/// What replaces a key in the journal.
pub const REDACTED: &str = "[redacted]";

/// One exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    /// The provider whose operation was called; `None` for a request no route knows.
    pub provider: Option<Provider>,
    /// The operationId called; empty for a request no route knows.
    pub operation: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Every request header, in order, names lower-case; the key header's value is redacted.
    pub headers: Vec<(String, String)>,
    /// The JSON body the client sent, its key field redacted; `None` when there was none or it was
    /// not JSON.
    pub request: Option<Value>,
    /// The HTTP status answered.
    pub status: u16,
    /// The body answered, when it was JSON.
    pub response: Option<Value>,
}

/// The request's headers with the key redacted: the provider's key header keeps only the accepted
/// prefix it was sent with (`Bearer [redacted]`), and a configured key in any other header is
/// replaced too.
pub(crate) fn headers(
    shared: &Shared,
    provider: Option<Provider>,
    map: &HeaderMap,
) -> Vec<(String, String)> {
    let auth = provider
        .map(|p| &shared.info(p).spec.extensions().auth)
        .filter(|auth| auth.placement == AuthPlacement::Header);
    let keys: Vec<&str> = shared
        .config
        .api_keys
        .iter()
        .chain(shared.config.key_faults.iter().map(|f| &f.key))
        .map(|k| k.expose_secret())
        .filter(|k| !k.is_empty())
        .collect();
    map.iter()
        .map(|(name, value)| {
            let name = name.as_str().to_owned();
            let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let value = match auth.filter(|a| a.name.eq_ignore_ascii_case(&name)) {
                Some(auth) => {
                    let prefix = auth
                        .accepted_prefixes
                        .iter()
                        .filter(|p| !p.is_empty())
                        .find(|p| {
                            text.len() > p.len()
                                && text.is_char_boundary(p.len())
                                && text[..p.len()].eq_ignore_ascii_case(p)
                        })
                        .map_or("", |p| &text[..p.len()]);
                    format!("{prefix}{REDACTED}")
                }
                None => keys
                    .iter()
                    .fold(text, |text, key| text.replace(key, REDACTED)),
            };
            (name, value)
        })
        .collect()
}

/// A request body with the provider's key field redacted.
pub(crate) fn body(shared: &Shared, provider: Provider, body: &Value) -> Value {
    let auth = &shared.info(provider).spec.extensions().auth;
    let mut body = body.clone();
    if auth.placement == AuthPlacement::Body
        && let Value::Object(map) = &mut body
        && map.contains_key(&auth.name)
    {
        map.insert(auth.name.clone(), Value::String(REDACTED.into()));
    }
    body
}

/// Keeps `entry` when the journal is on.
pub(crate) fn keep(shared: &Shared, entry: JournalEntry) {
    if shared.config.journal {
        lock(&shared.journal).push(entry);
    }
}
