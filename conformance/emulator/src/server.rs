//! HTTP: the router (each provider's operations at the paths and methods its spec gives, plus the
//! emulator's own image, health and stats routes), the per-request pipeline (faults, auth, body,
//! validation, the operation, defects), logging, and the server that can drop a connection on
//! demand.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, get, on};
use hyper_util::rt::{TokioIo, TokioTimer};
use img2img_specs::{Location, Provider};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt as _;

use super::auth;
use super::config::Config;
use super::error::{ApiError, ErrorKind};
use super::faults::{ConnectionKiller, FAULT_HEADER, Plan, failing_body, forever};
use super::journal::{self, Journal, Reached, Unsent};
use super::providers::{self, Ctx, Reply};
use super::rendering;
use super::state::{Shared, Stats};
use super::validation;

/// Path of the health route (a trivial round trip; the benchmark's baseline).
pub const HEALTH_PATH: &str = "/emulator/health";
/// Path of the stats route (the [`Stats`] as JSON).
pub const STATS_PATH: &str = "/emulator/stats";

/// A handle on a router's state, for its [`Stats`].
#[derive(Debug, Clone)]
pub struct Handle(Arc<Shared>);

impl Handle {
    /// Requests served, jobs and images held.
    pub fn stats(&self) -> Stats {
        self.0.stats()
    }
}

/// Every given provider under its real path prefixes on one router.
pub fn router(providers: &[Provider], config: Config) -> Router {
    router_with_handle(providers, config).0
}

/// [`router`], with a [`Handle`] to read its stats.
pub fn router_with_handle(providers: &[Provider], config: Config) -> (Router, Handle) {
    let shared = Shared::new(providers, config);
    (build(Arc::clone(&shared)), Handle(shared))
}

fn build(shared: Arc<Shared>) -> Router {
    let mut router: Router<Arc<Shared>> = Router::new();
    let mut providers: Vec<Provider> = shared.providers.keys().copied().collect();
    providers.sort();
    for provider in providers {
        for operation in shared.info(provider).spec.operations() {
            let Ok(filter) = MethodFilter::try_from(Method::from(operation.method)) else {
                continue;
            };
            let id = operation.id.clone();
            router = router.route(
                &operation.path,
                on(
                    filter,
                    move |State(shared): State<Arc<Shared>>, request: Request| {
                        let id = id.clone();
                        async move { handle(shared, provider, id, request).await }
                    },
                ),
            );
        }
    }
    if shared.config.defects.method_not_allowed_as_not_found {
        router = router.method_not_allowed_fallback(not_found);
    }
    router
        .route("/emulator/images/{name}", get(serve_image))
        .route(HEALTH_PATH, get(|| async { "ok" }))
        .route(STATS_PATH, get(serve_stats))
        .fallback(not_found)
        .layer(from_fn_with_state(Arc::clone(&shared), log_request))
        .with_state(shared)
}

/// One log line per request: method, path, status, latency (never a header or a body, so never a
/// key).
async fn log_request(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    shared
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    shared.ensure_sweeper();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = match &shared.journal {
        Some(journal) => journal::record(journal, request, |request| next.run(request)).await,
        None => next.run(request).await,
    };
    tracing::info!(
        target: "emulator",
        "{method} {path} {} {:.1}ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

async fn handle(
    shared: Arc<Shared>,
    provider: Provider,
    operation: String,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    if let Some(reached) = parts.extensions.get::<Reached>() {
        reached.set(provider, &operation);
    }
    let mut plan = match Plan::for_request(&shared, provider, &operation, &parts.headers) {
        Ok(plan) => plan,
        Err(error) => {
            let error = ApiError::invalid(format!("{FAULT_HEADER}: {error}"));
            return respond(&shared, provider, Err(error), &Plan::default());
        }
    };
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    if plan.drop {
        return drop_connection(&parts).await;
    }
    if let Some(status) = plan.status {
        return respond(&shared, provider, Err(fault_error(status, &plan)), &plan);
    }
    let job = shared.info(provider).job;
    let mut ctx = Ctx {
        host: parts
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned),
        fail: plan.fail.clone(),
        result_operation: job
            .family_of(&operation)
            .map_or_else(|| job.result.clone(), |family| family.result),
    };
    let outcome = call(
        &shared, provider, &operation, &mut ctx, &parts, body, &mut plan,
    )
    .await;
    if plan.drop {
        return drop_connection(&parts).await;
    }
    let response = respond(&shared, provider, outcome, &plan);
    if plan.drop_after {
        // The operation ran (a create made its job); the client never gets the answer.
        if let Some(unsent) = parts.extensions.get::<Unsent>() {
            let status = response.status();
            if let Ok(bytes) = axum::body::to_bytes(response.into_body(), usize::MAX).await {
                unsent.keep(status, &bytes);
            }
        }
        return drop_connection(&parts).await;
    }
    response
}

/// The error a `status=` fault answers with (a 429 with the plan's `retry-after`, if it has one).
fn fault_error(status: u16, plan: &Plan) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = format!(
        "emulated fault: HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let kind = match plan.retry_after {
        Some(retry_after) if status == StatusCode::TOO_MANY_REQUESTS => {
            ErrorKind::RateLimited { retry_after }
        }
        _ => ErrorKind::Fault,
    };
    ApiError::new(status, kind, message.trim_end())
}

/// Auth, the faults bound to the key, body, validation and the operation itself.
#[allow(clippy::too_many_arguments)]
async fn call(
    shared: &Arc<Shared>,
    provider: Provider,
    operation: &str,
    ctx: &mut Ctx,
    parts: &Parts,
    body: Body,
    plan: &mut Plan,
) -> Result<Reply, ApiError> {
    let info = shared.info(provider);
    let Some(op) = info.spec.operation(operation) else {
        return Err(ApiError::not_found(format!("no operation {operation}")));
    };
    let header_auth = auth::in_header(shared, provider);
    let mut key = if header_auth {
        auth::check(shared, provider, &parts.headers, None)?
    } else {
        0
    };
    let body = match &op.request_body {
        Some(_) => Some(validation::read_json(shared, provider, &parts.headers, body).await?),
        None => None,
    };
    if !header_auth {
        key = auth::check(shared, provider, &parts.headers, body.as_ref())?;
    }
    if !shared.config.key_faults.is_empty() {
        let before = plan.clone();
        plan.add_key_faults(shared, key);
        if plan.latency > before.latency {
            tokio::time::sleep(plan.latency - before.latency).await;
        }
        if plan.drop {
            return Err(ApiError::invalid("dropped"));
        }
        if let Some(status) = plan.status.filter(|_| before.status.is_none()) {
            return Err(fault_error(status, plan));
        }
        ctx.fail = plan.fail.clone();
    }
    if let Some(body) = &body {
        validation::validate(shared, provider, operation, body)?;
    }
    // The operation's id parameter (path or query), as the spec declares it.
    let mut id = None;
    for parameter in &op.parameters {
        let value = match parameter.location {
            Location::Path => path_parameter(&op.path, parts.uri.path(), &parameter.name),
            Location::Query => query_parameter(parts.uri.query().unwrap_or(""), &parameter.name),
            Location::Header | Location::Cookie => None,
        };
        match value {
            Some(value) if !value.is_empty() => id = id.or(Some(value)),
            _ if parameter.required && !shared.config.defects.skip_validation => {
                return Err(ApiError::invalid(format!(
                    "{} is required ({} parameter)",
                    parameter.name, parameter.location
                )));
            }
            _ => {}
        }
    }
    if info.job.is_create(operation) {
        providers::create(shared, provider, ctx, body.unwrap_or(Value::Null), key).await
    } else if info.job.is_result(operation) {
        providers::result(shared, provider, ctx, id, body).await
    } else {
        Err(ApiError::not_found(format!(
            "the emulator does not implement {operation}"
        )))
    }
}

fn path_parameter(template: &str, path: &str, name: &str) -> Option<String> {
    let wanted = format!("{{{name}}}");
    template
        .split('/')
        .zip(path.split('/'))
        .find(|(t, _)| *t == wanted)
        .map(|(_, value)| percent_decode(value))
}

fn query_parameter(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| match key.contains('%') {
            true => percent_decode(key) == name,
            false => *key == name,
        })
        .map(|(_, value)| match value.contains(['%', '+']) {
            true => percent_decode(&value.replace('+', " ")),
            false => value.to_owned(),
        })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The response, with defects and body faults applied (and kept in the journal when it is on).
fn respond(
    shared: &Shared,
    provider: Provider,
    outcome: Result<Reply, ApiError>,
    plan: &Plan,
) -> Response {
    let defects = shared.config.defects;
    let (status, body) = match outcome {
        Ok(reply) => {
            let status = if reply.created && defects.undocumented_status {
                StatusCode::ACCEPTED
            } else {
                reply.status
            };
            (status, reply.body.into_bytes())
        }
        Err(error) => {
            let body = if defects.wrong_error_shape && error.kind == ErrorKind::InvalidRequest {
                json!("invalid request")
            } else {
                providers::error_body(provider, &error)
            };
            (error.status, serde_json::to_vec(&body).unwrap_or_default())
        }
    };
    let bytes = plan.mangle(body);
    let json = HeaderValue::from_static("application/json");
    let content_type = match &plan.content_type {
        Some(kind) => HeaderValue::from_str(kind).unwrap_or(json),
        None if defects.wrong_content_type => HeaderValue::from_static("text/plain; charset=utf-8"),
        None => json,
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, content_type);
    if let Some(secs) = plan.retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Closes the connection without a response (through the server's [`ConnectionKiller`]), or, on
/// a server that gives none, aborts the response body.
async fn drop_connection(parts: &Parts) -> Response {
    tracing::info!(target: "emulator", "{} {} dropped ({FAULT_HEADER}: drop)", parts.method, parts.uri.path());
    match parts.extensions.get::<ConnectionKiller>() {
        Some(killer) => {
            killer.0.notify_one();
            match forever().await {}
        }
        None => Response::new(failing_body()),
    }
}

/// An output image: rendered on its first download, a copy of the kept bytes after that.
async fn serve_image(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    match rendering::image(&shared, &name).await {
        Ok(Some((encoded, format))) => {
            let mut response = Response::new(encoded.into_body());
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
            response
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {"message": format!("image {name} not found: unknown, or expired after its URL TTL"), "type": "not_found"}})),
        )
            .into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"error": {"message": format!("image {name} could not be rendered: {error}"), "type": "server_error"}})),
        )
            .into_response(),
    }
}

async fn serve_stats(State(shared): State<Arc<Shared>>) -> Response {
    let stats = shared.stats();
    axum::Json(json!({
        "requests": stats.requests,
        "jobs_live": stats.jobs_live,
        "jobs_running": stats.jobs_running,
        "images_stored": stats.images_stored,
        "bytes_stored": stats.bytes_stored,
        "webhook_attempts": stats.webhook_attempts,
        "webhooks_delivered": stats.webhooks_delivered,
    }))
    .into_response()
}

async fn not_found(request: Request) -> Response {
    let body = json!({"error": {"message": format!("no route {} {}", request.method(), request.uri().path()), "type": "not_found"}});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// An emulator serving on a socket, in a tokio task.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Emulator {
    /// Serves `providers` on `127.0.0.1` at a free port.
    pub async fn start(providers: &[Provider], config: Config) -> std::io::Result<Emulator> {
        Emulator::bind(SocketAddr::from(([127, 0, 0, 1], 0)), providers, config).await
    }

    /// Serves `providers` on `addr`.
    pub async fn bind(
        addr: SocketAddr,
        providers: &[Provider],
        config: Config,
    ) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Shared::new(providers, config);
        let _ = shared.bound.set(addr);
        shared.ensure_sweeper();
        let app = build(Arc::clone(&shared));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(listener, app, stopped));
        Ok(Emulator {
            addr,
            shared,
            stop,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`: the specs' paths are full paths, so this is the whole base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests served, jobs and images held.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// The journal of every exchange, when [`Config::journal`] is on (it outlives the emulator).
    pub fn journal(&self) -> Option<Journal> {
        self.shared.journal.clone()
    }

    /// Stops accepting, closes every connection and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn serve(listener: TcpListener, app: Router, mut stopped: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, app.clone(), stopped.clone()));
                }
                Err(error) => {
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stopped.changed() => break,
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let killer = Arc::new(Notify::new());
    let handle = Arc::clone(&killer);
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectionKiller(Arc::clone(&handle)));
            app.clone().oneshot(request.map(Body::new))
        });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = killer.notified() => {}
        _ = stopped.changed() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_from_path_and_query() {
        assert_eq!(
            path_parameter(
                "/api/v3/predictions/{id}/result",
                "/api/v3/predictions/ab%20c/result",
                "id"
            ),
            Some("ab c".to_owned())
        );
        assert_eq!(
            query_parameter("x=1&task_id=73fab7c0", "task_id"),
            Some("73fab7c0".to_owned())
        );
        assert_eq!(query_parameter("x=1", "task_id"), None);
        assert_eq!(percent_decode("100%"), "100%");
    }
}
