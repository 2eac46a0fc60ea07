//! Calling a spec's operations over HTTP, with the key placed as `x-auth` says (or withheld, or
//! wrong), and every exchange kept for the checks that judge responses.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use img2img_specs::extensions::{AuthPlacement, KeyPlacement};
use img2img_specs::{ApiKey, Location, Operation, Provider, Spec};
use serde_json::Value;

use super::budget::{Budget, BudgetSpent};
use img2img_report::results::RecordedResponse;

/// The path through which image downloads are proxied.
pub const DOWNLOAD_PATH: &str = "/__download";

/// Longest body text kept for a report.
const SNIPPET: usize = 2048;

/// Which key a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    /// The configured key.
    Valid,
    /// No key at all.
    Missing,
    /// A well-formed key the provider cannot know.
    Wrong,
}

/// The key sent when [`KeyMode::Wrong`] is asked for.
pub const WRONG_KEY: &str = "conformance-wrong-key-0000";

/// One request/response pair.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The operation called.
    pub operation: String,
    /// The body sent (the key redacted).
    pub request: Option<Value>,
    /// HTTP status, or `None` when no response arrived.
    pub status: Option<u16>,
    /// The response's content type.
    pub content_type: Option<String>,
    /// The body parsed as JSON, if it was JSON.
    pub json: Option<Value>,
    /// The raw body (cut to a bounded length for reports).
    pub text: String,
    /// The transport error, when no response arrived.
    pub error: Option<String>,
}

impl Exchange {
    /// The response as recorded in a report.
    pub fn recorded(&self) -> Option<RecordedResponse> {
        Some(RecordedResponse {
            status: self.status?,
            content_type: self.content_type.clone(),
            body: self
                .json
                .clone()
                .unwrap_or_else(|| Value::String(self.text.chars().take(SNIPPET).collect())),
        })
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Why a request was not sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    /// The run's request budget is spent.
    #[error(transparent)]
    BudgetSpent(#[from] BudgetSpent),
    /// The spec has no such operation.
    #[error("the {provider} spec has no operation {operation:?}")]
    NoOperation {
        /// The provider.
        provider: Provider,
        /// The operation asked for.
        operation: String,
    },
}

/// An HTTP caller for one provider's spec at one base URL.
#[derive(Clone)]
pub struct Caller {
    /// The provider.
    pub provider: Provider,
    /// `scheme://host[:port]` the requests go to.
    pub base_url: String,
    key: Option<ApiKey>,
    client: reqwest::Client,
    budget: Budget,
    journal: Arc<Mutex<Vec<Exchange>>>,
    download_via: Option<String>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// A caller sending `key` (when asked for a valid one) to `base_url`, within `budget`.
    pub fn new(provider: Provider, base_url: &str, key: Option<ApiKey>, budget: Budget) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("img2img-conformance/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a reqwest client with default TLS builds");
        Caller {
            provider,
            base_url: base_url.trim_end_matches('/').to_owned(),
            key,
            client,
            budget,
            journal: Arc::new(Mutex::new(Vec::new())),
            download_via: None,
        }
    }

    /// Sends image downloads through a recording proxy or replay server at `base`
    /// (`GET {base}/__download?url=…`).
    pub fn with_downloads_via(mut self, base: &str) -> Self {
        self.download_via = Some(base.trim_end_matches('/').to_owned());
        self
    }

    /// The key, if any (for the generated clients).
    pub fn key(&self) -> Option<&ApiKey> {
        self.key.as_ref()
    }

    /// The run's budget.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The spec.
    pub fn spec(&self) -> &'static Spec {
        Spec::embedded(self.provider)
    }

    /// Every exchange so far.
    pub fn journal(&self) -> Vec<Exchange> {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The spec's operation `id`, or the error naming it.
    fn operation(&self, id: &str) -> Result<&'static Operation, SendError> {
        self.spec()
            .operation(id)
            .ok_or_else(|| SendError::NoOperation {
                provider: self.provider,
                operation: id.to_owned(),
            })
    }

    /// Calls `operation` with `body` and path/query `params`.
    pub async fn call(
        &self,
        operation: &str,
        body: Option<&Value>,
        params: &BTreeMap<String, String>,
        key: KeyMode,
    ) -> Result<Exchange, SendError> {
        let op = self.operation(operation)?;
        let url = format!("{}{}", self.base_url, fill_path(op, params));
        self.send(op, &url, body, params, key).await
    }

    /// Calls `operation` at an absolute URL the provider gave (`x-job.poll-url-pointer`): its path
    /// and query are sent to this caller's base URL, so recording, replay and emulators see it.
    pub async fn call_at(
        &self,
        operation: &str,
        url: &str,
        body: Option<&Value>,
        key: KeyMode,
    ) -> Result<Exchange, SendError> {
        let op = self.operation(operation)?;
        let path = reqwest::Url::parse(url)
            .map(|u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            })
            .unwrap_or_else(|_| op.path.clone());
        let url = format!("{}{path}", self.base_url);
        self.send(op, &url, body, &BTreeMap::new(), key).await
    }

    /// Sends `method` to `path` (no body; the key in its header where `x-auth` puts it there) and
    /// returns the status and the `Allow` header: for requests outside the spec's operations (an
    /// unsupported method), which is why they are not journaled. Counts against the budget.
    pub async fn probe(
        &self,
        method: &reqwest::Method,
        path: &str,
    ) -> Result<(Option<u16>, Option<String>), SendError> {
        self.budget.take()?;
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base_url));
        let auth = &self.spec().extensions().auth;
        if let Some(KeyPlacement::Header { name, value }) =
            self.key.as_ref().map(|k| auth.place(k.expose_secret()))
        {
            request = request.header(name, value);
        }
        Ok(match request.send().await {
            Ok(response) => (
                Some(response.status().as_u16()),
                response
                    .headers()
                    .get(reqwest::header::ALLOW)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            ),
            Err(_) => (None, None),
        })
    }

    /// Fetches an image URL the provider returned (no key, no budget: downloads are free).
    pub async fn download(&self, url: &str) -> Result<(Option<String>, Vec<u8>), String> {
        let request = match &self.download_via {
            Some(base) => self
                .client
                .get(format!("{base}{}", DOWNLOAD_PATH))
                .query(&[("url", url)]),
            None => self.client.get(url),
        };
        let response = request
            .send()
            .await
            .map_err(|e| format!("GET {url}: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {url}: HTTP {status}"));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        Ok((content_type, bytes.to_vec()))
    }

    async fn send(
        &self,
        op: &Operation,
        url: &str,
        body: Option<&Value>,
        params: &BTreeMap<String, String>,
        key: KeyMode,
    ) -> Result<Exchange, SendError> {
        self.budget.take()?;
        let auth = &self.spec().extensions().auth;
        let key_value = match key {
            KeyMode::Valid => self.key.as_ref().map(|k| k.expose_secret().to_owned()),
            KeyMode::Missing => None,
            KeyMode::Wrong => Some(WRONG_KEY.to_owned()),
        };
        let mut body = body.cloned();
        let mut request = self.client.request(op.method.into(), url);
        for parameter in op.parameters_in(Location::Query) {
            if let Some(value) = params.get(&parameter.name) {
                request = request.query(&[(parameter.name.as_str(), value.as_str())]);
            }
        }
        match key_value.as_deref().map(|k| auth.place(k)) {
            Some(KeyPlacement::Header { name, value }) => request = request.header(name, value),
            Some(KeyPlacement::BodyField { name, value }) => {
                let object = body.get_or_insert_with(|| Value::Object(Default::default()));
                if let Value::Object(map) = object {
                    map.insert(name.to_owned(), Value::String(value));
                }
            }
            None if auth.placement == AuthPlacement::Body => {
                if let Some(Value::Object(map)) = body.as_mut() {
                    map.remove(&auth.name);
                }
            }
            None => {}
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let mut exchange = Exchange {
            operation: op.id.clone(),
            request: body.map(|b| redact_body(b, &auth.name, auth.placement)),
            status: None,
            content_type: None,
            json: None,
            text: String::new(),
            error: None,
        };
        match request.send().await {
            Ok(response) => {
                exchange.status = Some(response.status().as_u16());
                exchange.content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match response.bytes().await {
                    Ok(bytes) => {
                        exchange.json = serde_json::from_slice(&bytes).ok();
                        exchange.text = String::from_utf8_lossy(&bytes[..bytes.len().min(SNIPPET)])
                            .into_owned();
                    }
                    Err(e) => exchange.error = Some(format!("reading the body: {e}")),
                }
            }
            Err(e) => exchange.error = Some(transport_message(e)),
        }
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(exchange.clone());
        Ok(exchange)
    }
}

/// A reqwest error said without its URL's query (which may carry ids) and without the key.
fn transport_message(error: reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "could not connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the body broke off"
    } else {
        "the exchange failed"
    };
    format!("{kind}: {}", error.without_url())
}

/// The operation's path with its `{name}` parameters filled in.
fn fill_path(op: &Operation, params: &BTreeMap<String, String>) -> String {
    let mut path = op.path.clone();
    for parameter in op.parameters_in(Location::Path) {
        if let Some(value) = params.get(&parameter.name) {
            let encoded: String = url_escape(value);
            path = path.replace(&format!("{{{}}}", parameter.name), &encoded);
        }
    }
    path
}

fn url_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A body with the key field replaced by `[redacted]`.
pub fn redact_body(mut body: Value, field: &str, placement: AuthPlacement) -> Value {
    if placement == AuthPlacement::Body
        && let Value::Object(map) = &mut body
        && map.contains_key(field)
    {
        map.insert(field.to_owned(), Value::String("[redacted]".into()));
    }
    body
}
