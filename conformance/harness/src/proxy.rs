//! Two loopback servers that let every check run unchanged: a recording proxy in front of a live
//! provider, and a replay server that answers from a cassette. Image downloads go through them too
//! (`GET /__download?url=…`), so a replayed run needs no network at all.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use img2img_specs::ApiKey;
use serde_json::Value;
use tokio::sync::oneshot;

use super::cassette::{
    Cassette, Interaction, KEPT_HEADERS, RecordedReply, RecordedRequest, redact,
};

pub use crate::http::DOWNLOAD_PATH;

/// A loopback server running in the background.
pub struct LoopbackServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl LoopbackServer {
    async fn serve(router: Router) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(LoopbackServer {
            url,
            stop: Some(stop),
            task,
        })
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// What the recording proxy needs to redact.
#[derive(Clone)]
struct Recorder {
    upstream: String,
    client: reqwest::Client,
    secrets: Vec<ApiKey>,
    key_field: Option<String>,
    interactions: Arc<Mutex<Vec<Interaction>>>,
}

/// A recording proxy in front of `upstream`.
pub struct RecordingProxy {
    server: LoopbackServer,
    interactions: Arc<Mutex<Vec<Interaction>>>,
}

impl RecordingProxy {
    /// Starts a proxy forwarding to `upstream`; `secrets` are replaced by `[redacted]` wherever they
    /// appear in what is stored, and the body field `key_field` (if any) is always redacted.
    pub async fn start(
        upstream: &str,
        secrets: Vec<ApiKey>,
        key_field: Option<String>,
    ) -> std::io::Result<Self> {
        let interactions = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            secrets,
            key_field,
            interactions: Arc::clone(&interactions),
        };
        let router = Router::new().fallback(record).with_state(recorder);
        Ok(RecordingProxy {
            server: LoopbackServer::serve(router).await?,
            interactions,
        })
    }

    /// The proxy's URL: use it as the base URL.
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// Stops the proxy and returns what it recorded.
    pub async fn finish(self, provider: &str) -> Cassette {
        self.server.shutdown().await;
        let interactions =
            std::mem::take(&mut *self.interactions.lock().unwrap_or_else(|p| p.into_inner()));
        Cassette {
            provider: provider.to_owned(),
            recorded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            interactions,
        }
    }
}

fn path_of(uri: &Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
}

/// The absolute URL a `/__download?url=…` request names.
fn download_target(uri: &Uri) -> Option<String> {
    if uri.path() != DOWNLOAD_PATH {
        return None;
    }
    let query = uri.query()?;
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.into_owned())
}

async fn record(
    State(recorder): State<Recorder>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let download = download_target(&uri);
    let target = download
        .clone()
        .unwrap_or_else(|| format!("{}{}", recorder.upstream, path_of(&uri)));
    let mut request = recorder.client.request(
        reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET),
        &target,
    );
    if download.is_none() {
        for (name, value) in &headers {
            if !matches!(name.as_str(), "host" | "content-length" | "connection") {
                request = request.header(name.as_str(), value.as_bytes());
            }
        }
        request = request.body(body.to_vec());
    }
    let reply = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let kept: Vec<(String, String)> = KEPT_HEADERS
                .iter()
                .filter_map(|h| {
                    response
                        .headers()
                        .get(*h)
                        .and_then(|v| v.to_str().ok())
                        .map(|v| ((*h).to_owned(), v.to_owned()))
                })
                .collect();
            let bytes = response.bytes().await.unwrap_or_default();
            to_reply(status, kept, &bytes)
        }
        Err(e) => to_reply(
            502,
            vec![("content-type".into(), "text/plain".into())],
            format!("proxy: {}", e.without_url()).as_bytes(),
        ),
    };
    let mut stored_body = serde_json::from_slice::<Value>(&body).ok();
    if let Some(b) = stored_body.as_mut() {
        redact(b, &recorder.secrets, recorder.key_field.as_deref());
    }
    let mut stored_reply = reply.clone();
    if let Some(b) = stored_reply.body.as_mut() {
        redact(b, &recorder.secrets, None);
    }
    let mut path = download.unwrap_or_else(|| path_of(&uri));
    let mut path_value = Value::String(path.clone());
    redact(&mut path_value, &recorder.secrets, None);
    if let Value::String(p) = path_value {
        path = p;
    }
    recorder
        .interactions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Interaction {
            request: RecordedRequest {
                method: method.as_str().to_owned(),
                path,
                body: stored_body,
            },
            response: stored_reply,
        });
    respond(&reply)
}

fn to_reply(status: u16, headers: Vec<(String, String)>, bytes: &[u8]) -> RecordedReply {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(json) if !bytes.is_empty() => RecordedReply {
            status,
            headers,
            body: Some(json),
            body_base64: None,
        },
        _ => RecordedReply {
            status,
            headers,
            body: None,
            body_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        },
    }
}

fn respond(reply: &RecordedReply) -> Response {
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY),
        reply.bytes(),
    )
        .into_response();
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Match key of a request: method, path, and the body with its key field redacted.
fn match_key(method: &str, path: &str, body: Option<&Value>, key_field: Option<&str>) -> String {
    let mut body = body.cloned();
    if let Some(b) = body.as_mut() {
        redact(b, &[], key_field);
    }
    format!(
        "{method} {path} {}",
        body.map(|b| b.to_string()).unwrap_or_default()
    )
}

#[derive(Clone)]
struct Replayer {
    queues: Arc<Mutex<BTreeMap<String, VecDeque<RecordedReply>>>>,
    key_field: Option<String>,
}

/// A server answering from a cassette.
pub struct ReplayServer {
    server: LoopbackServer,
}

impl ReplayServer {
    /// Starts a server answering each request with the next recorded reply to the same request.
    pub async fn start(cassette: &Cassette, key_field: Option<String>) -> std::io::Result<Self> {
        let mut queues: BTreeMap<String, VecDeque<RecordedReply>> = BTreeMap::new();
        for interaction in &cassette.interactions {
            let r = &interaction.request;
            queues
                .entry(match_key(
                    &r.method,
                    &r.path,
                    r.body.as_ref(),
                    key_field.as_deref(),
                ))
                .or_default()
                .push_back(interaction.response.clone());
        }
        let replayer = Replayer {
            queues: Arc::new(Mutex::new(queues)),
            key_field,
        };
        let router = Router::new().fallback(replay).with_state(replayer);
        Ok(ReplayServer {
            server: LoopbackServer::serve(router).await?,
        })
    }

    /// The server's URL: use it as the base URL.
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

async fn replay(
    State(replayer): State<Replayer>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = download_target(&uri).unwrap_or_else(|| path_of(&uri));
    let json = serde_json::from_slice::<Value>(&body).ok();
    let key = match_key(
        method.as_str(),
        &path,
        json.as_ref(),
        replayer.key_field.as_deref(),
    );
    let reply = replayer
        .queues
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_mut(&key)
        .and_then(VecDeque::pop_front);
    match reply {
        Some(reply) => respond(&reply),
        None => (
            StatusCode::NOT_IMPLEMENTED,
            [("content-type", "application/json")],
            serde_json::json!({"error": format!("no recorded exchange left for {method} {path}: the run diverged from the recording")}).to_string(),
        )
            .into_response(),
    }
}
