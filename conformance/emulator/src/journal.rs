//! The journal: every exchange an emulator served, in arrival order, with its timing and the spec
//! operation it reached, for graders of clients (`conformance client`) and the SDK suite. Kept only
//! when [`Config::journal`](crate::Config::journal) is on. [`Journal::exchanges`] holds what went
//! over the wire, keys included, and never leaves the process; [`Journal::redacted`] is the form to
//! write anywhere.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use img2img_specs::extensions::AuthPlacement;
use img2img_specs::{ApiKey, Provider, Spec};

use super::sync::lock;

/// What replaces a key in [`Journal::redacted`].
pub const REDACTED: &str = "[redacted]";

/// Response bodies larger than this are kept as their length only (images; JSON is far smaller).
const KEPT_BODY: usize = 256 * 1024;
/// Request bodies above this are refused with 413 before any handler (no provider allows more).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// The journal of one emulator; clones share it. Its `Debug` shows how many exchanges it holds,
/// never their contents.
#[derive(Clone)]
pub struct Journal(Arc<Inner>);

struct Inner {
    started: Instant,
    started_wall: SystemTime,
    next: AtomicU64,
    entries: Mutex<Vec<Exchange>>,
    /// The keys the emulator was configured with (redacted wherever they appear; their `Debug`
    /// shows no key).
    secrets: Vec<ApiKey>,
}

/// One request and what became of it. Its `Debug` hides the key wherever the provider's `x-auth`
/// puts it, and every header, query parameter or top-level body field whose name looks like a
/// credential (`authorization`, `*key*`, `*token*`, `*secret*`, `cookie`...): the raw record
/// stays in the process, and what is printed carries no key.
#[derive(Clone, PartialEq)]
pub struct Exchange {
    /// Arrival order, from 0.
    pub seq: u64,
    /// When the request arrived, since the emulator started.
    pub received: Duration,
    /// When the answer was sent or the connection closed, since the emulator started.
    pub finished: Duration,
    /// The provider whose operation the request reached; `None` for a route no spec has (an
    /// image download, `/health`, an unknown path).
    pub provider: Option<Provider>,
    /// The operationId the request reached, with `provider`.
    pub operation: Option<String>,
    /// `GET`, `POST`...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The request headers, names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The request body as received.
    pub body: Bytes,
    /// What the client got.
    pub outcome: Outcome,
}

/// What the client got for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// An answer was sent.
    Answered(Answer),
    /// The connection closed without an answer: a `drop` fault, a client that hung up, or the
    /// emulator stopping. `unsent` is the answer a `drop-after` fault withheld (the operation ran).
    Dropped {
        /// The answer the operation produced but the client never received.
        unsent: Option<Answer>,
    },
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The response headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, unless it was larger than 256 KiB (then `None`; see `length`).
    pub body: Option<Bytes>,
    /// The body's length in bytes.
    pub length: u64,
}

impl Answer {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(self.body.as_deref()?).ok()
    }
}

impl Exchange {
    /// The value of request header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// The request body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The answer the client received, if one was sent.
    pub fn answer(&self) -> Option<&Answer> {
        match &self.outcome {
            Outcome::Answered(answer) => Some(answer),
            Outcome::Dropped { .. } => None,
        }
    }

    /// The answer the operation produced, sent or withheld by `drop-after`.
    pub fn produced(&self) -> Option<&Answer> {
        match &self.outcome {
            Outcome::Answered(answer) => Some(answer),
            Outcome::Dropped { unsent } => unsent.as_ref(),
        }
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("exchanges", &lock(&self.0.entries).len())
            .field("secrets", &self.0.secrets.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.clone();
        redact(&mut shown, &[]);
        // The provider's key header is already redacted, keeping its prefix (`Bearer [redacted]`).
        let headers: Vec<(&str, &str)> = shown
            .headers
            .iter()
            .map(|(n, v)| {
                let hide = looks_secret(n) && !v.contains(REDACTED);
                (n.as_str(), if hide { REDACTED } else { v.as_str() })
            })
            .collect();
        let query = shown.query.as_deref().map(|q| {
            q.split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if looks_secret(name) => format!("{name}={REDACTED}"),
                    _ => pair.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        let body = match shown.json() {
            Some(serde_json::Value::Object(mut map)) => {
                for (name, value) in map.iter_mut() {
                    if looks_secret(name) {
                        *value = REDACTED.into();
                    }
                }
                serde_json::Value::Object(map).to_string()
            }
            _ => String::from_utf8_lossy(&shown.body).into_owned(),
        };
        f.debug_struct("Exchange")
            .field("seq", &shown.seq)
            .field("received", &shown.received)
            .field("finished", &shown.finished)
            .field("provider", &shown.provider)
            .field("operation", &shown.operation)
            .field("method", &shown.method)
            .field("path", &shown.path)
            .field("query", &query)
            .field("headers", &headers)
            .field("body", &body)
            .field("outcome", &shown.outcome)
            .finish()
    }
}

/// Whether a header, query parameter or body field named `name` may carry a credential.
fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "auth",
        "key",
        "token",
        "secret",
        "password",
        "cookie",
        "signature",
    ]
    .iter()
    .any(|word| name.contains(word))
}

impl Default for Journal {
    fn default() -> Self {
        Journal::new(Vec::new())
    }
}

impl Journal {
    /// An empty journal starting now; `secrets` (the configured keys) are redacted wherever they
    /// appear in [`Journal::redacted`].
    pub fn new(secrets: Vec<ApiKey>) -> Journal {
        Journal(Arc::new(Inner {
            started: Instant::now(),
            started_wall: SystemTime::now(),
            next: AtomicU64::new(0),
            entries: Mutex::new(Vec::new()),
            secrets: secrets
                .into_iter()
                .filter(|s| !s.expose_secret().is_empty())
                .collect(),
        }))
    }

    /// [`Journal::exchanges`] with every key replaced by [`REDACTED`]: the provider's key header
    /// keeps only the prefix it was sent with (`Bearer [redacted]`), its key field in a JSON body is
    /// replaced, and a configured key anywhere else in a header or body too.
    pub fn redacted(&self) -> Vec<Exchange> {
        let mut exchanges = self.exchanges();
        for exchange in &mut exchanges {
            redact(exchange, &self.0.secrets);
        }
        exchanges
    }

    /// Every exchange finished so far, in arrival order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let mut entries = lock(&self.0.entries).clone();
        entries.sort_by_key(|e| e.seq);
        entries
    }

    /// The wall-clock time the journal's offsets count from.
    pub fn started_at(&self) -> SystemTime {
        self.0.started_wall
    }

    fn since_start(&self) -> Duration {
        self.0.started.elapsed()
    }
}

/// Where a handler leaves an answer that a `drop-after` fault withholds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Unsent(Arc<Mutex<Option<Answer>>>);

impl Unsent {
    /// Keeps `status` and `body` as the answer the client will not get.
    pub fn keep(&self, status: StatusCode, body: &[u8]) {
        *lock(&self.0) = Some(Answer {
            status: status.as_u16(),
            headers: vec![(CONTENT_TYPE.as_str().to_owned(), "application/json".into())],
            length: body.len() as u64,
            body: Some(Bytes::copy_from_slice(body)),
        });
    }
}

/// An exchange being served; written to the journal when it ends, however it ends (a dropped
/// connection drops the future holding it).
struct Pending {
    journal: Journal,
    exchange: Option<Exchange>,
    unsent: Unsent,
    reached: Reached,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(mut exchange) = self.exchange.take() {
            exchange.finished = self.journal.since_start();
            if let Some((provider, operation)) = lock(&self.reached.0).take() {
                exchange.provider = Some(provider);
                exchange.operation = Some(operation);
            }
            if matches!(exchange.outcome, Outcome::Dropped { .. }) {
                exchange.outcome = Outcome::Dropped {
                    unsent: lock(&self.unsent.0).take(),
                };
            }
            lock(&self.journal.0.entries).push(exchange);
        }
    }
}

/// Redacts one exchange in place (see [`Journal::redacted`]).
fn redact(exchange: &mut Exchange, secrets: &[ApiKey]) {
    let scrub = |text: String| {
        secrets.iter().fold(text, |text, key| {
            text.replace(key.expose_secret(), REDACTED)
        })
    };
    let auth = exchange
        .provider
        .map(|p| &Spec::embedded(p).extensions().auth);
    for (name, value) in &mut exchange.headers {
        let header_auth = auth
            .filter(|a| a.placement == AuthPlacement::Header && a.name.eq_ignore_ascii_case(name));
        *value = match header_auth {
            Some(auth) => {
                let prefix = auth
                    .accepted_prefixes
                    .iter()
                    .filter(|p| !p.is_empty())
                    .find(|p| {
                        value.len() > p.len()
                            && value.is_char_boundary(p.len())
                            && value[..p.len()].eq_ignore_ascii_case(p)
                    })
                    .map_or("", |p| &value[..p.len()]);
                format!("{prefix}{REDACTED}")
            }
            None => scrub(std::mem::take(value)),
        };
    }
    let body_auth = auth.filter(|a| a.placement == AuthPlacement::Body);
    let body = match (exchange.json(), body_auth) {
        (Some(serde_json::Value::Object(mut map)), Some(auth)) if map.contains_key(&auth.name) => {
            map.insert(auth.name.clone(), REDACTED.into());
            serde_json::to_vec(&map).unwrap_or_default()
        }
        _ => exchange.body.to_vec(),
    };
    exchange.body = Bytes::from(scrub(String::from_utf8_lossy(&body).into_owned()));
    let answers = match &mut exchange.outcome {
        Outcome::Answered(answer) => vec![answer],
        Outcome::Dropped { unsent } => unsent.iter_mut().collect(),
    };
    for answer in answers {
        if let Some(body) = &answer.body {
            answer.body = Some(Bytes::from(scrub(
                String::from_utf8_lossy(body).into_owned(),
            )));
        }
    }
}

/// Where a handler names the operation a request reached, for its exchange.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reached(Arc<Mutex<Option<(Provider, String)>>>);

impl Reached {
    /// Records that the request reached `operation` of `provider`.
    pub fn set(&self, provider: Provider, operation: &str) {
        *lock(&self.0) = Some((provider, operation.to_owned()));
    }
}

/// The value of header `name` (lower case) in a journaled header list.
fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Serves `request` through `next`, recording the exchange in `journal`.
pub(crate) async fn record<F, Fut>(journal: &Journal, request: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let received = journal.since_start();
    let seq = journal.0.next.fetch_add(1, Ordering::Relaxed);
    let (mut parts, body) = request.into_parts();
    let unsent = Unsent::default();
    parts.extensions.insert(unsent.clone());
    let reached = Reached::default();
    parts.extensions.insert(reached.clone());
    let mut pending = Pending {
        journal: journal.clone(),
        exchange: Some(Exchange {
            seq,
            received,
            finished: received,
            provider: None,
            operation: None,
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: header_list(&parts.headers),
            body: Bytes::new(),
            outcome: Outcome::Dropped { unsent: None },
        }),
        unsent,
        reached,
    };
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let mut response = Response::new(Body::from(
                r#"{"message":"request body unreadable or above 64 MiB"}"#,
            ));
            *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return finish(&mut pending, response).await;
        }
    };
    if let Some(exchange) = pending.exchange.as_mut() {
        exchange.body = bytes.clone();
    }
    let response = next(Request::from_parts(parts, Body::from(bytes))).await;
    finish(&mut pending, response).await
}

async fn finish(pending: &mut Pending, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            if let Some(exchange) = pending.exchange.as_mut() {
                exchange.outcome = Outcome::Answered(Answer {
                    status: parts.status.as_u16(),
                    headers: header_list(&parts.headers),
                    length: bytes.len() as u64,
                    body: (bytes.len() <= KEPT_BODY).then(|| bytes.clone()),
                });
            }
            Response::from_parts(parts, Body::from(bytes))
        }
        // The body failed (a `drop` fault on a server without a connection killer): the
        // exchange stays `Dropped`, and the client sees its connection aborted.
        Err(_) => Response::from_parts(parts, super::faults::failing_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_debug_shows_no_key() {
        let journal = Journal::new(vec![ApiKey::new("sk-journal-secret")]);
        assert!(!format!("{journal:?}").contains("sk-journal-secret"));
    }
}
