//! The emulator's journal read as the provider's spec sees it: which operation each request
//! called, which job it was about, the job status and eta each answer gave (at `x-job`'s
//! pointers), the wait a `Retry-After` asked for, and the images each answer listed.

use std::time::Duration;

use img2img_emulator::Exchange;
use img2img_emulator::images::IMAGE_PATH;
use img2img_specs::extensions::JobInfo;
use img2img_specs::{JobStatus, Operation, Provider, Spec};
use serde_json::Value;

/// What a request was, by the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// The paid create operation (`x-job.create`, or another operation taking its request).
    Create,
    /// The poll or fetch operation (`x-job.result`, or another operation naming a known job).
    Result,
    /// Another operation of the spec.
    OtherOperation,
    /// A GET of an image the emulator serves.
    Download,
    /// A request no operation of the spec matches.
    Unknown,
}

/// How a job status reads by `x-job`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    /// In `x-job.succeeded`.
    Succeeded,
    /// In `x-job.failed`.
    Failed,
}

/// One exchange, with what the spec says about it.
#[derive(Debug, Clone)]
pub struct Call {
    /// The exchange as the emulator journaled it.
    pub exchange: Exchange,
    /// What it called.
    pub kind: CallKind,
    /// The operation, when one matches.
    pub operation: Option<Operation>,
    /// The job it was about: for a create, the job its answer named (sent or withheld); for a
    /// poll, the known job id found in its path, query or body.
    pub job: Option<String>,
    /// The job status the answer gave (`x-job.status-pointer`).
    pub status: Option<String>,
    /// Whether that status ends the job.
    pub terminal: Option<Terminal>,
    /// The provider's estimate of the time left (`x-job.eta-pointer`, in `x-job.eta-unit`).
    pub eta: Option<Duration>,
    /// The wait the answer's `Retry-After` header asked for.
    pub retry_after: Option<Duration>,
    /// The image URLs (or inline data) a successful answer listed (`x-job.outputs`).
    pub outputs: Vec<String>,
}

impl Call {
    /// When the request arrived.
    pub fn received(&self) -> Duration {
        self.exchange.received
    }

    /// When the client had its answer (or lost its connection).
    pub fn finished(&self) -> Duration {
        self.exchange.finished
    }

    /// The HTTP status the client received, if an answer was sent.
    pub fn http_status(&self) -> Option<u16> {
        self.exchange.answer().map(|a| a.status)
    }

    /// `METHOD /path?query`.
    pub fn line(&self) -> String {
        match &self.exchange.query {
            Some(q) => format!("{} {}?{q}", self.exchange.method, self.exchange.path),
            None => format!("{} {}", self.exchange.method, self.exchange.path),
        }
    }

    /// Whether this is a create that the provider accepted (and billed): its answer, sent or
    /// withheld, was 2xx and named a job.
    pub fn accepted_create(&self) -> bool {
        self.kind == CallKind::Create && self.job.is_some()
    }
}

/// Reads every exchange of `exchanges` for `provider`.
pub fn read(provider: Provider, exchanges: &[Exchange]) -> Vec<Call> {
    let spec = Spec::embedded(provider);
    let job = &spec.extensions().job;
    let create_schema = request_schema_of(spec, &job.create);
    let mut calls: Vec<Call> = exchanges
        .iter()
        .map(|exchange| classify(spec, job, create_schema.as_ref(), exchange))
        .collect();
    // Job ids come from the creates' answers; polls name them in their path, query or body. An
    // operation other than `x-job.result` that names a known job (another path of the same
    // provider's fetch) is a poll too.
    let known: Vec<String> = calls.iter().filter_map(|c| c.job.clone()).collect();
    for call in &mut calls {
        if matches!(call.kind, CallKind::Result | CallKind::OtherOperation) {
            call.job = known
                .iter()
                .find(|id| mentions(&call.exchange, id))
                .cloned();
            if call.job.is_some() {
                call.kind = CallKind::Result;
            }
        }
    }
    calls
}

/// The compiled request schema of `operation`, as JSON (to recognise operations sharing it).
fn request_schema_of(spec: &Spec, operation: &str) -> Option<Value> {
    spec.request_schema(operation)
        .and_then(Result::ok)
        .map(|schema| schema.schema().clone())
}

fn classify(
    spec: &Spec,
    job: &JobInfo,
    create_schema: Option<&Value>,
    exchange: &Exchange,
) -> Call {
    // The emulator's journal names the operation each request reached.
    let operation = exchange
        .operation
        .as_deref()
        .filter(|_| exchange.provider.is_some() && exchange.provider == spec.provider())
        .and_then(|id| spec.operation(id))
        .cloned();
    // The create, or another path of it taking the same request (one API family's alias).
    let creates = |op: &Operation| {
        job.is_create(&op.id)
            || (!job.is_result(&op.id)
                && create_schema.is_some()
                && request_schema_of(spec, &op.id).as_ref() == create_schema)
    };
    let kind = match &operation {
        Some(op) if creates(op) => CallKind::Create,
        Some(op) if job.is_result(&op.id) => CallKind::Result,
        Some(_) => CallKind::OtherOperation,
        None if exchange.method == "GET" && exchange.path.starts_with(IMAGE_PATH) => {
            CallKind::Download
        }
        None => CallKind::Unknown,
    };
    let produced = exchange.produced();
    let body = produced
        .filter(|a| (200..300).contains(&a.status))
        .and_then(|a| a.json());
    let status = body
        .as_ref()
        .and_then(|b| job.status_of(b))
        .map(str::to_owned)
        .filter(|_| operation.is_some());
    let terminal = status.as_deref().and_then(|s| match job.classify(s) {
        JobStatus::Succeeded => Some(Terminal::Succeeded),
        JobStatus::Failed => Some(Terminal::Failed),
        JobStatus::Pending | JobStatus::Unknown => None,
    });
    let job_id = match (kind, &body) {
        (CallKind::Create, Some(body)) => job.id_of(body),
        _ => None,
    };
    let outputs = match (&body, terminal) {
        (Some(body), Some(Terminal::Succeeded)) => job.outputs_of(body),
        _ => Vec::new(),
    };
    Call {
        exchange: exchange.clone(),
        kind,
        job: job_id,
        eta: body
            .as_ref()
            .filter(|_| terminal.is_none())
            .and_then(|b| job.eta_of(b))
            .filter(|eta| !eta.is_zero()),
        status,
        terminal,
        retry_after: exchange
            .answer()
            .and_then(|a| a.header("retry-after"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs),
        outputs,
        operation,
    }
}

/// Whether the request names job `id`: a path segment, a query value, or a top-level body value.
fn mentions(exchange: &Exchange, id: &str) -> bool {
    let in_path = exchange.path.split('/').any(|segment| segment == id);
    let in_query = exchange.query.as_deref().is_some_and(|query| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .any(|(_, value)| value == id)
    });
    let in_body = serde_json::from_slice::<Value>(&exchange.body)
        .ok()
        .and_then(|body| body.as_object().cloned())
        .is_some_and(|body| {
            body.values().any(|value| match value {
                Value::String(s) => s == id,
                Value::Number(n) => n.to_string() == id,
                _ => false,
            })
        });
    in_path || in_query || in_body
}

/// The path (and query) of an absolute URL; `None` for inline data.
pub fn url_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    Some(match rest.find('/') {
        Some(at) => rest[at..].to_owned(),
        None => "/".to_owned(),
    })
}
