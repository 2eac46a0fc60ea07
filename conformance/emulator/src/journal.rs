//! The journal: every exchange an emulator served, in arrival order, with its timing and the spec
//! operation it reached, for graders of clients (`conformance client`) and the SDK suite. Kept only
//! when [`Config::journal`](crate::Config::journal) is on. [`Journal::exchanges`] holds what went
//! over the wire, keys included, and never leaves the process; [`Journal::redacted`] is the form to
//! write anywhere.
//!
//! Bounded whatever a client sends: a body above [`BODY_CUT`] is held cut (the cut marked by
//! [`Exchange::body_cut`], or an [`Answer`] without its body), and at most
//! [`HELD_BYTES`] of exchanges are held (by default; [`Journal::hold_at_most`]), the oldest let go
//! first and counted ([`Journal::let_go`]). A reader that must see every exchange whole takes them
//! as they finish instead ([`Journal::stream_to`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use img2img_specs::extensions::AuthPlacement;
use img2img_specs::{ApiKey, Provider, Spec};

use super::sync::lock;

/// What replaces a key in [`Journal::redacted`] (the specs crate's, beside `ApiKey`).
pub use img2img_specs::REDACTED;

/// The most of a body the journal holds: a request body above it is held cut to it (its whole
/// length in [`Exchange::body_length`]), a response body above it as its length only (images; JSON
/// is far smaller).
pub const BODY_CUT: usize = 256 * 1024;
/// The most bytes of exchanges (bodies, headers, paths) a journal holds unless told otherwise
/// ([`Journal::hold_at_most`]).
pub const HELD_BYTES: usize = 64 * 1024 * 1024;
/// A key's first characters, this many or more, at the end of a cut body are redacted too.
const KEY_HEAD: usize = 4;
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
    held: Mutex<Held>,
    limit: AtomicUsize,
    sink: RwLock<Option<Arc<Sink>>>,
    /// The keys the emulator was configured with (redacted wherever they appear; their `Debug`
    /// shows no key).
    secrets: Vec<ApiKey>,
}

/// What takes each exchange as it finishes ([`Journal::stream_to`]).
type Sink = dyn Fn(Exchange) + Send + Sync;

/// The exchanges held, oldest first (in the order they finished), and their size.
#[derive(Default)]
struct Held {
    exchanges: VecDeque<Exchange>,
    bytes: usize,
    let_go: u64,
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
    /// The request body as received; in what the journal holds, at most its first [`BODY_CUT`]
    /// bytes (then `body_cut`).
    pub body: Bytes,
    /// The request body's whole length in bytes, as received.
    pub body_length: u64,
    /// Whether `body` holds only the first [`BODY_CUT`] bytes of the body received.
    pub body_cut: bool,
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
    /// The body, unless it was larger than [`BODY_CUT`] in what the journal holds (then `None`;
    /// see `length`).
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

    /// The request body parsed as JSON, if it is JSON (a cut body is not).
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.body_cut {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// Replaces every key in place with [`REDACTED`], as [`Journal::redacted`] does: the
    /// provider's key header keeps only the prefix it was sent with (`Bearer [redacted]`), its key
    /// field in a JSON body is replaced, and each of `secrets` anywhere in the path, query, a
    /// header or a body too (at the end of a cut body, a key's first four characters or more).
    pub fn redact(&mut self, secrets: &[ApiKey]) {
        redact(self, secrets);
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
        let held = lock(&self.0.held);
        f.debug_struct("Journal")
            .field("exchanges", &held.exchanges.len())
            .field("held_bytes", &held.bytes)
            .field("let_go", &held.let_go)
            .field("streaming", &self.streaming())
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
            // A cut body is not shown: its key field could not be found to hide it.
            _ if shown.body_cut => format!(
                "({} of {} bytes held; not shown)",
                shown.body.len(),
                shown.body_length
            ),
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
            .field("body_length", &shown.body_length)
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
            held: Mutex::new(Held::default()),
            limit: AtomicUsize::new(HELD_BYTES),
            sink: RwLock::new(None),
            secrets: secrets
                .into_iter()
                .filter(|s| !s.expose_secret().is_empty())
                .collect(),
        }))
    }

    /// [`Journal::exchanges`] with every key replaced by [`REDACTED`] ([`Exchange::redact`] with
    /// the configured keys).
    pub fn redacted(&self) -> Vec<Exchange> {
        let mut exchanges = self.exchanges();
        for exchange in &mut exchanges {
            redact(exchange, &self.0.secrets);
        }
        exchanges
    }

    /// Every exchange held, in arrival order: each one finished so far, unless it was let go
    /// ([`Journal::let_go`]) or streamed ([`Journal::stream_to`]); bodies above [`BODY_CUT`] cut.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let mut entries: Vec<Exchange> = lock(&self.0.held).exchanges.iter().cloned().collect();
        entries.sort_by_key(|e| e.seq);
        entries
    }

    /// Holds at most `bytes` of exchanges from now on ([`HELD_BYTES`] until told), letting the
    /// oldest go first.
    pub fn hold_at_most(&self, bytes: usize) {
        self.0.limit.store(bytes, Ordering::Relaxed);
        let mut held = lock(&self.0.held);
        held.trim(bytes);
    }

    /// The bytes of exchanges held now (bodies, headers, paths and the records themselves).
    pub fn held_bytes(&self) -> usize {
        lock(&self.0.held).bytes
    }

    /// How many exchanges were let go to stay within the held bytes.
    pub fn let_go(&self) -> u64 {
        lock(&self.0.held).let_go
    }

    /// From now on, hands every exchange to `sink` as it finishes (in the order they finish, from
    /// the task that served it), whole: bodies uncut and keys included, so `sink` keeps them in
    /// the process or redacts them ([`Exchange::redact`]). Streamed exchanges are not held. A
    /// slow `sink` slows the emulator's answers down, never its memory up.
    pub fn stream_to(&self, sink: impl Fn(Exchange) + Send + Sync + 'static) {
        *self.0.sink.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(sink));
    }

    /// Whether exchanges go to a sink ([`Journal::stream_to`]) instead of being held.
    pub fn streaming(&self) -> bool {
        self.0
            .sink
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// The configured keys (what [`Journal::redacted`] replaces).
    pub fn secrets(&self) -> &[ApiKey] {
        &self.0.secrets
    }

    /// Takes a finished exchange: to the sink when one streams, else held (cut, within the limit).
    fn take(&self, exchange: Exchange) {
        let sink = self
            .0
            .sink
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match sink {
            Some(sink) => sink(exchange),
            None => {
                let exchange = cut(exchange);
                let limit = self.0.limit.load(Ordering::Relaxed);
                let mut held = lock(&self.0.held);
                held.bytes += held_size(&exchange);
                held.exchanges.push_back(exchange);
                held.trim(limit);
            }
        }
    }

    /// The wall-clock time the journal's offsets count from.
    pub fn started_at(&self) -> SystemTime {
        self.0.started_wall
    }

    fn since_start(&self) -> Duration {
        self.0.started.elapsed()
    }
}

impl Held {
    /// Lets the oldest exchanges go until at most `limit` bytes are held.
    fn trim(&mut self, limit: usize) {
        while self.bytes > limit {
            let Some(old) = self.exchanges.pop_front() else {
                break;
            };
            self.bytes -= held_size(&old);
            self.let_go += 1;
        }
    }
}

/// `exchange` as the journal holds it: a request body above [`BODY_CUT`] cut to it (copied, so the
/// whole body is freed), an answer body above it dropped.
fn cut(mut exchange: Exchange) -> Exchange {
    if exchange.body.len() > BODY_CUT {
        exchange.body = Bytes::copy_from_slice(&exchange.body[..BODY_CUT]);
        exchange.body_cut = true;
    }
    let answers = match &mut exchange.outcome {
        Outcome::Answered(answer) => vec![answer],
        Outcome::Dropped { unsent } => unsent.iter_mut().collect(),
    };
    for answer in answers {
        if answer.body.as_ref().is_some_and(|b| b.len() > BODY_CUT) {
            answer.body = None;
        }
    }
    exchange
}

/// The bytes `exchange` takes when held: its record, strings, headers and bodies.
fn held_size(exchange: &Exchange) -> usize {
    let headers = |headers: &[(String, String)]| -> usize {
        headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 2 * std::mem::size_of::<String>())
            .sum()
    };
    let answer = |answer: &Answer| {
        std::mem::size_of::<Answer>()
            + headers(&answer.headers)
            + answer.body.as_ref().map_or(0, Bytes::len)
    };
    let outcome = match &exchange.outcome {
        Outcome::Answered(a) => answer(a),
        Outcome::Dropped { unsent } => unsent.as_ref().map_or(0, answer),
    };
    std::mem::size_of::<Exchange>()
        + exchange.operation.as_ref().map_or(0, String::len)
        + exchange.method.len()
        + exchange.path.len()
        + exchange.query.as_ref().map_or(0, String::len)
        + headers(&exchange.headers)
        + exchange.body.len()
        + outcome
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
            self.journal.take(exchange);
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
    exchange.path = scrub(std::mem::take(&mut exchange.path));
    exchange.query = exchange.query.take().map(scrub);
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
    let mut body = scrub(String::from_utf8_lossy(&body).into_owned());
    if exchange.body_cut {
        scrub_key_head(&mut body, secrets);
    }
    exchange.body = Bytes::from(body);
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

/// Replaces a key's first characters ([`KEY_HEAD`] or more) at the end of `text` (a cut body).
fn scrub_key_head(text: &mut String, secrets: &[ApiKey]) {
    for key in secrets {
        let key = key.expose_secret();
        let head = (KEY_HEAD..key.len())
            .rev()
            .filter(|n| key.is_char_boundary(*n))
            .find(|n| text.ends_with(&key[..*n]));
        if let Some(n) = head {
            text.truncate(text.len() - n);
            text.push_str(REDACTED);
            return;
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
            body_length: 0,
            body_cut: false,
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
        exchange.body_length = bytes.len() as u64;
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
                    body: Some(bytes.clone()),
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

    fn exchange(provider: Provider, headers: &[(&str, &str)], query: &str, body: &str) -> Exchange {
        Exchange {
            seq: 0,
            received: Duration::ZERO,
            finished: Duration::ZERO,
            provider: Some(provider),
            operation: None,
            method: "POST".into(),
            path: "/".into(),
            query: Some(query.into()),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: Bytes::from(body.to_owned()),
            body_length: body.len() as u64,
            body_cut: false,
            outcome: Outcome::Dropped { unsent: None },
        }
    }

    /// A provider whose key travels as `Authorization: Bearer <key>` (its spec's `x-auth`).
    fn bearer_provider() -> Provider {
        Provider::all()
            .find(|p| {
                let auth = &Spec::embedded(*p).extensions().auth;
                auth.placement == AuthPlacement::Header
                    && auth.name.eq_ignore_ascii_case("authorization")
                    && auth
                        .accepted_prefixes
                        .iter()
                        .any(|prefix| prefix == "Bearer ")
            })
            .expect("a spec sends the key as a Bearer token")
    }

    fn numbered(seq: u64, body: &str) -> Exchange {
        Exchange {
            seq,
            ..exchange(bearer_provider(), &[("accept", "*/*")], "page=1", body)
        }
    }

    #[test]
    fn held_exchanges_are_cut_and_stay_within_the_limit_oldest_let_go_first() {
        let journal = Journal::default();
        let big = format!(r#"{{"prompt": "{}"}}"#, "x".repeat(BODY_CUT + 10));
        journal.take(numbered(0, &big));
        let held = journal.exchanges();
        assert_eq!(held[0].body.len(), BODY_CUT);
        assert_eq!(held[0].body_length, big.len() as u64);
        assert!(held[0].body_cut && held[0].json().is_none());
        assert!(format!("{:?}", held[0]).contains("not shown"));

        let limit = 64 * 1024;
        journal.hold_at_most(limit);
        assert_eq!((journal.exchanges().len(), journal.let_go()), (0, 1));
        let body = format!(r#"{{"prompt": "{}"}}"#, "y".repeat(900));
        for seq in 1..=1000 {
            journal.take(numbered(seq, &body));
            assert!(journal.held_bytes() <= limit, "{}", journal.held_bytes());
        }
        let held = journal.exchanges();
        assert!(held.len() > 10 && held.len() < 100, "{}", held.len());
        assert_eq!(journal.let_go() + held.len() as u64, 1001);
        assert_eq!(
            held.last().map(|e| e.seq),
            Some(1000),
            "the newest are held"
        );
        assert!(format!("{journal:?}").contains("let_go"));
    }

    #[test]
    fn a_streamed_exchange_goes_whole_to_the_sink_and_is_not_held() {
        let journal = Journal::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        journal.stream_to(move |e: Exchange| lock(&sink).push(e.body_length));
        let big = "z".repeat(BODY_CUT * 2);
        journal.take(numbered(0, &big));
        assert!(journal.streaming());
        assert_eq!(*lock(&seen), [big.len() as u64]);
        assert_eq!((journal.exchanges().len(), journal.held_bytes()), (0, 0));
    }

    #[test]
    fn redaction_reaches_the_path_the_query_and_a_key_cut_in_half() {
        let key = "sk-redact-me-0123456789";
        let mut sent = exchange(
            bearer_provider(),
            &[("authorization", &format!("Bearer {key}"))],
            &format!("api_key={key}&page=2"),
            &format!("{}{}", "a".repeat(BODY_CUT - 8), key),
        );
        sent.path = format!("/v3/{key}/result");
        let mut held = cut(sent.clone());
        assert!(held.body_cut);
        held.redact(&[ApiKey::new(key)]);
        let written = format!(
            "{} {:?} {:?} {}",
            held.path,
            held.query,
            held.headers,
            String::from_utf8_lossy(&held.body)
        );
        assert!(!written.contains(&key[..KEY_HEAD]), "{written}");
        assert!(held.body.ends_with(REDACTED.as_bytes()));
        assert!(written.contains("page=2") && written.contains("Bearer [redacted]"));
        sent.redact(&[ApiKey::new(key)]);
        assert!(!String::from_utf8_lossy(&sent.body).contains(key));
    }
}
