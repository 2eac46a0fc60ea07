//! HTTP: the router (each provider's operations at the paths and methods its spec gives, plus the
//! emulator's own image, health and stats routes), the per-request pipeline (faults, auth, body,
//! validation, the operation, defects), logging, and the server that can drop a connection on
//! demand.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, RawPathParams, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, get, on};
use hyper_util::rt::{TokioIo, TokioTimer};
use img2img_specs::extensions::{AuthPlacement, Cause, DOCS_FAMILY, IdPlace};
use img2img_specs::{Location, Operation, Provider};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt as _;

use super::answers::{ErrorScope, error_answer};
use super::catalog::ProviderInfo;
use super::config::{Config, Defects};
use super::error::ApiError;
use super::faults::{ConnectionKiller, FAULT_HEADER, Plan, failing_body, forever};
use super::journal::{self, Journal, Reached, Unsent};
use super::operations::{self, Reply};
use super::rendering::Images;
use super::request::Ctx;
use super::state::{App, Stats};
use super::validation;

/// Path of the health route (a trivial round trip; the benchmark's baseline).
pub const HEALTH_PATH: &str = "/emulator/health";
/// Path of the stats route (the [`Stats`] as JSON).
pub const STATS_PATH: &str = "/emulator/stats";

/// A handle on a router's state, for its [`Stats`].
#[derive(Debug, Clone)]
pub struct Handle(App);

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
    let app = App::new(providers, config);
    (build(app.clone()), Handle(app))
}

fn build(app: App) -> Router {
    let mut router: Router<App> = Router::new();
    for provider in app.catalog.providers() {
        for operation in app.catalog.get(provider).spec.operations() {
            let method = Method::from(operation.method);
            let Ok(filter) = MethodFilter::try_from(method) else {
                continue;
            };
            let id = operation.id.clone();
            router = router.route(
                &operation.path,
                on(filter, move |State(app): State<App>, request: Request| {
                    let id = id.clone();
                    async move { handle(app, provider, id, request).await }
                }),
            );
        }
    }
    if app.rules.defects.method_not_allowed_as_not_found {
        router = router.method_not_allowed_fallback(unknown_route);
    }
    router
        .route("/emulator/images/{name}", get(serve_image))
        .route(HEALTH_PATH, get(|| async { "ok" }))
        .route(STATS_PATH, get(serve_stats))
        .fallback(unknown_route)
        .layer(from_fn_with_state(app.clone(), log_request))
        .with_state(app)
}

/// One log line per request: method, path, status, latency (never a header or a body, so never a
/// key).
async fn log_request(State(app): State<App>, request: Request, next: Next) -> Response {
    app.requests.count();
    app.runner.ensure_sweeper();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = match &app.journal {
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

/// The pipeline of one request to `operation` of `provider`: faults, the operation, the answer
/// (or a dropped connection).
async fn handle(app: App, provider: Provider, operation: String, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Some(reached) = parts.extensions.get::<Reached>() {
        reached.set(provider, &operation);
    }
    let info = app.catalog.get(provider);
    let family = info.family_name(&operation);
    let defects = app.rules.defects;
    let mut plan = match Plan::for_request(&app.faults, provider, &operation, &parts.headers) {
        Ok(plan) => plan,
        Err(error) => {
            let error = ApiError::invalid(format!("{FAULT_HEADER}: {error}"));
            return respond(info, &family, defects, Err(error), &Plan::default());
        }
    };
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    if plan.drop {
        return drop_connection(&parts).await;
    }
    if let Some(status) = plan.status {
        return respond(
            info,
            &family,
            defects,
            Err(fault_error(status, &plan)),
            &plan,
        );
    }
    let mut ctx = Ctx {
        host: parts
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned),
        origin: &app.origin,
        fail: plan.fail.clone(),
        result_operation: info.family_result(&operation),
        family: family.clone(),
        operation: operation.clone(),
    };
    let outcome = call(
        &app, info, &operation, &mut ctx, &mut parts, body, &mut plan,
    )
    .await;
    if plan.drop {
        return drop_connection(&parts).await;
    }
    let response = respond(info, &family, defects, outcome, &plan);
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
    ApiError::fault(status, plan.retry_after)
}

/// Auth, the faults bound to the key, body, validation and the operation itself.
async fn call(
    app: &App,
    info: &ProviderInfo,
    operation: &str,
    ctx: &mut Ctx<'_>,
    parts: &mut Parts,
    body: Body,
    plan: &mut Plan,
) -> Result<Reply, ApiError> {
    let Some(op) = info.spec.operation(operation) else {
        return Err(ApiError::invalid(format!("no operation {operation}")));
    };
    let defects = app.rules.defects;
    let auth = &info.spec.extensions().auth;
    let header_auth = auth.placement == AuthPlacement::Header;
    let mut key = if header_auth {
        app.keys
            .check(auth, op.key_optional, &parts.headers, None)?
    } else {
        0
    };
    let body = match &op.request_body {
        Some(_) => Some(validation::read_json(info, &parts.headers, body).await?),
        None => None,
    };
    if !header_auth {
        key = app
            .keys
            .check(auth, op.key_optional, &parts.headers, body.as_ref())?;
    }
    if app.faults.has_key_faults() {
        let before = plan.clone();
        plan.add_key_faults(&app.faults, key);
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
    if let Some(body) = &body
        && !defects.skip_validation
    {
        validation::validate(info, operation, body)?;
    }
    let id = id_parameter(info, op, parts, defects.skip_validation).await?;
    if info.job.is_create(operation) {
        let body = body.unwrap_or(Value::Null);
        operations::create(&app.runner, info, app.rules, ctx, (operation, &body), key).await
    } else if info.job.is_result(operation) {
        operations::result(&app.runner, info, defects, operation, id, body.as_ref()).await
    } else {
        Err(ApiError::invalid(format!(
            "the emulator does not implement {operation}"
        )))
    }
}

/// The operation's parameters (path and query, read by axum's extractors): each required one must
/// be there (unless validation is off); returns the one that carries the job id (where the
/// spec's links put it, else the first given).
async fn id_parameter(
    info: &ProviderInfo,
    op: &Operation,
    parts: &mut Parts,
    lenient: bool,
) -> Result<Option<String>, ApiError> {
    if op.parameters.is_empty() {
        return Ok(None);
    }
    let has = |location| op.parameters_in(location).next().is_some();
    let path: Vec<(String, String)> = if has(Location::Path) {
        RawPathParams::from_request_parts(parts, &())
            .await
            .map(|params| {
                params
                    .iter()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let query: Vec<(String, String)> = if has(Location::Query) {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| pairs)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let find = |list: &[(String, String)], name: &str| {
        list.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    };
    let mut first = None;
    for parameter in &op.parameters {
        let value = match parameter.location {
            Location::Path => find(&path, &parameter.name),
            Location::Query => find(&query, &parameter.name),
            _ => None,
        };
        // An empty value is a value where the parameter's schema takes one (`?id=` names no
        // job: the not-found answer), and missing where it does not (`minLength`, a pattern).
        let allows_empty = || {
            parameter
                .schema
                .as_deref()
                .and_then(|at| info.spec.compiled(at).ok())
                .is_some_and(|schema| schema.is_valid(&Value::String(String::new())))
        };
        match value {
            Some(value) if !value.is_empty() || allows_empty() => {
                first = first.or(Some(value));
            }
            _ if parameter.required && !lenient => {
                return Err(ApiError::invalid(format!(
                    "{} is required ({} parameter)",
                    parameter.name, parameter.location
                )));
            }
            _ => {}
        }
    }
    let named = match info.id_place(&op.id) {
        Some(IdPlace::Path(name)) => find(&path, name),
        Some(IdPlace::Query(name)) => find(&query, name),
        _ => None,
    };
    Ok(named.or(first))
}

/// The response, with defects and body faults applied (and kept in the journal when it is on);
/// an error in the templates of API family `family`.
fn respond(
    info: &ProviderInfo,
    family: &str,
    defects: Defects,
    outcome: Result<Reply, ApiError>,
    plan: &Plan,
) -> Response {
    let (status, body) = match outcome {
        Ok(reply) => {
            // A create's success answered with a status its operation does not document.
            let status = if reply.created && defects.undocumented_status {
                if reply.status == StatusCode::ACCEPTED {
                    StatusCode::OK
                } else {
                    StatusCode::ACCEPTED
                }
            } else {
                reply.status
            };
            (status, reply.body)
        }
        Err(error) => {
            let status = error.status(info.answers);
            let body = if defects.wrong_error_shape && error.cause == Cause::InvalidRequest {
                serde_json::to_vec(&json!("invalid request")).unwrap_or_default()
            } else {
                let template = match error.cause {
                    Cause::NotFound => info.answers.not_found_for(family),
                    Cause::UnknownRoute => info.answers.unknown_route(),
                    _ => info.answers.error_for(family),
                };
                let scope = ErrorScope {
                    error: &error,
                    status: status.as_u16(),
                    reason: error.reason(status, info.answers, &info.spec.extensions().errors),
                };
                error_answer(template, &scope)
            };
            (status, body)
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
async fn serve_image(State(images): State<Arc<Images>>, Path(name): Path<String>) -> Response {
    match images.image(&name).await {
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

async fn serve_stats(State(app): State<App>) -> Response {
    let stats = app.stats();
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

/// A method and path no operation has: answered in the error shape of the provider whose paths
/// it is under (`x-emulator.answers.unknown-route`), or, when no provider served owns it, in the
/// emulator's own shape.
async fn unknown_route(State(app): State<App>, request: Request) -> Response {
    let path = request.uri().path();
    let message = format!("no route {} {path}", request.method());
    match app.catalog.owner_of(path) {
        Some(provider) => {
            let error = ApiError::new(Cause::UnknownRoute, message);
            let info = app.catalog.get(provider);
            respond(
                info,
                DOCS_FAMILY,
                app.rules.defects,
                Err(error),
                &Plan::default(),
            )
        }
        None => {
            let body = json!({"error": {"message": message, "type": "not_found"}});
            (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
        }
    }
}

/// An emulator serving on a socket, in a tokio task.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    app: App,
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
        let app = App::new(providers, config);
        app.origin.bind(addr);
        app.runner.ensure_sweeper();
        let router = build(app.clone());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(listener, router, stopped));
        Ok(Emulator {
            addr,
            app,
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
        self.app.stats()
    }

    /// The journal of every exchange, when [`Config::journal`] is on (it outlives the emulator).
    pub fn journal(&self) -> Option<Journal> {
        self.app.journal.clone()
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
