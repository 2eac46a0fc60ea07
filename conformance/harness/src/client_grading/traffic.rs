//! The emulator's journal read as the provider's spec sees it, one exchange at a time as it
//! finishes: which operation each request called, which job it was about, the job status and eta
//! each answer gave (at `x-job`'s pointers), the wait a `Retry-After` asked for, and the images each
//! answer listed. A job is found where the spec puts its id — the create's answer at `x-job`'s id
//! pointers, a poll's path and query parameters and body fields, a poll's answer at the same
//! pointers — and looked up among the jobs created so far in a set: reading is linear in the
//! traffic.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use img2img_emulator::Exchange;
use img2img_emulator::images::IMAGE_PATH;
use img2img_report::results::RecordedResponse;
use img2img_specs::extensions::{AuthInfo, AuthPlacement, JobInfo};
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

/// What a failure shows of the exchange behind it: the operation, the request body and the
/// answer, keys redacted and long bodies cut (as written to `exchanges/<scenario>.jsonl`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shown {
    /// The operationId, or `METHOD /path` when no operation matches.
    pub operation: String,
    /// The request body, when there was one.
    pub request: Option<Value>,
    /// The answer the operation produced (sent or withheld).
    pub response: Option<RecordedResponse>,
}

/// One exchange, with what the spec says about it: what the checks need, not the exchange.
#[derive(Debug, Clone)]
pub struct Call {
    /// Arrival order, from 0.
    pub seq: u64,
    /// When the request arrived, since the emulator started.
    pub received: Duration,
    /// When the client had its answer (or lost its connection).
    pub finished: Duration,
    /// `METHOD /path?query`.
    pub line: String,
    /// What it called.
    pub kind: CallKind,
    /// The operation, when one matches.
    pub operation: Option<&'static Operation>,
    /// The job it was about: for a create, the job its answer named (sent or withheld); for a
    /// poll, the known job its parameters, body or answer named.
    pub job: Option<String>,
    /// The HTTP status the client received, if an answer was sent.
    pub http_status: Option<u16>,
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
    /// For a download, the path and query it asked for.
    pub target: Option<String>,
    /// Why the request is not what the spec asks for (`requests_valid`), when it was judged.
    pub problem: Option<String>,
    /// What a failure shows of it.
    pub shown: Shown,
}

impl Call {
    /// Whether this is a create that the provider accepted (and billed): its answer, sent or
    /// withheld, was 2xx and named a job.
    pub fn accepted_create(&self) -> bool {
        self.kind == CallKind::Create && self.job.is_some()
    }
}

/// Reads one provider's exchanges, remembering the jobs their creates made.
#[derive(Debug)]
pub struct Reader {
    spec: &'static Spec,
    auth: &'static AuthInfo,
    /// Operations that create a job: `x-job`'s creates, and any other taking the create's request.
    creates: HashSet<&'static str>,
    /// `x-job`'s result operations.
    results: HashSet<&'static str>,
    /// `x-job` as each family's operation reads it (its own pointers and status words), by
    /// operationId; an operation of no family reads the top-level `x-job`.
    views: HashMap<&'static str, Arc<JobInfo>>,
    /// The top-level `x-job`, for operations of no family.
    top: Arc<JobInfo>,
    /// The ids of the jobs accepted creates named.
    known: HashSet<String>,
}

impl Reader {
    /// A reader of `provider`'s exchanges.
    pub fn new(provider: Provider) -> Reader {
        let spec = Spec::embedded(provider);
        let job = &spec.extensions().job;
        let schema_of = |id: &str| {
            spec.request_schema(id)
                .and_then(Result::ok)
                .map(|schema| schema.schema().clone())
        };
        let create_schema = schema_of(&job.create);
        let families = job.families();
        let results: HashSet<&'static str> = spec
            .operations()
            .iter()
            .filter(|op| families.iter().any(|f| f.results_with(&op.id)))
            .map(|op| op.id.as_str())
            .collect();
        // The create, or another path of it taking the same request (one API family's alias).
        let creates = spec
            .operations()
            .iter()
            .filter(|op| {
                families.iter().any(|f| f.creates_with(&op.id))
                    || (!results.contains(op.id.as_str())
                        && create_schema.is_some()
                        && schema_of(&op.id) == create_schema)
            })
            .map(|op| op.id.as_str())
            .collect();
        let views = spec
            .operations()
            .iter()
            .filter(|op| families.iter().any(|f| f.has(&op.id)))
            .map(|op| (op.id.as_str(), Arc::new(job.for_operation(&op.id))))
            .collect();
        Reader {
            spec,
            auth: &spec.extensions().auth,
            creates,
            results,
            views,
            top: Arc::new(job.clone()),
            known: HashSet::new(),
        }
    }

    /// `x-job` as operation `op`'s API family reads it.
    fn view(&self, op: Option<&Operation>) -> Arc<JobInfo> {
        Arc::clone(
            op.and_then(|op| self.views.get(op.id.as_str()))
                .unwrap_or(&self.top),
        )
    }

    /// The operation of the spec `exchange` reached (the emulator's journal names it).
    pub fn operation_of(&self, exchange: &Exchange) -> Option<&'static Operation> {
        exchange
            .operation
            .as_deref()
            .filter(|_| exchange.provider.is_some() && exchange.provider == self.spec.provider())
            .and_then(|id| self.spec.operation(id))
    }

    /// Reads `exchange`, whose request body parsed to `request` and whose produced answer (sent or
    /// withheld) parsed to `answer`, if they are JSON.
    pub fn read(
        &mut self,
        exchange: &Exchange,
        request: Option<&Value>,
        answer: Option<&Value>,
    ) -> Call {
        let operation = self.operation_of(exchange);
        let kind = match operation {
            Some(op) if self.creates.contains(op.id.as_str()) => CallKind::Create,
            Some(op) if self.results.contains(op.id.as_str()) => CallKind::Result,
            Some(_) => CallKind::OtherOperation,
            None if is_download(exchange) => CallKind::Download,
            None => CallKind::Unknown,
        };
        let body = answer.filter(|_| {
            exchange
                .produced()
                .is_some_and(|a| (200..300).contains(&a.status))
        });
        let view = self.view(operation);
        let status = body
            .and_then(|b| view.status_of(b))
            .map(str::to_owned)
            .filter(|_| operation.is_some());
        let terminal = status.as_deref().and_then(|s| match view.classify(s) {
            JobStatus::Succeeded => Some(Terminal::Succeeded),
            JobStatus::Failed => Some(Terminal::Failed),
            JobStatus::Pending | JobStatus::Unknown => None,
        });
        let (kind, job) = match (kind, operation) {
            (CallKind::Create, _) => {
                let job = body.and_then(|b| view.id_of(b));
                if let Some(id) = &job {
                    self.known.insert(id.clone());
                }
                (kind, job)
            }
            // An operation other than `x-job.result` that names a known job (another path of
            // the same provider's fetch) is a poll too.
            (CallKind::Result | CallKind::OtherOperation, Some(op)) => {
                match self.named_job(op, exchange, request, body) {
                    Some(job) => (CallKind::Result, Some(job)),
                    None => (kind, None),
                }
            }
            _ => (kind, None),
        };
        Call {
            seq: exchange.seq,
            received: exchange.received,
            finished: exchange.finished,
            line: line(exchange),
            kind,
            operation,
            job,
            http_status: exchange.answer().map(|a| a.status),
            eta: body
                .filter(|_| terminal.is_none())
                .and_then(|b| view.eta_of(b))
                .filter(|eta| !eta.is_zero()),
            outputs: match (body, terminal) {
                (Some(body), Some(Terminal::Succeeded)) => view.outputs_of(body),
                _ => Vec::new(),
            },
            status,
            terminal,
            retry_after: exchange
                .answer()
                .and_then(|a| a.header("retry-after"))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
            target: (kind == CallKind::Download).then(|| match &exchange.query {
                Some(q) => format!("{}?{q}", exchange.path),
                None => exchange.path.clone(),
            }),
            problem: None,
            shown: Shown::default(),
        }
    }

    /// The known job `op`'s request names where the spec puts an id: a path parameter, a query
    /// parameter, a top-level body field other than the key's; else the one its answer names at
    /// `x-job`'s id pointers. Each candidate is one look-up.
    fn named_job(
        &self,
        op: &Operation,
        exchange: &Exchange,
        request: Option<&Value>,
        answer: Option<&Value>,
    ) -> Option<String> {
        let declared = |name: &str, location: img2img_specs::Location| {
            op.parameters
                .iter()
                .any(|p| p.location == location && p.name == name)
        };
        let template = op.path.trim_matches('/').split('/');
        let in_path = template
            .zip(exchange.path.trim_matches('/').split('/'))
            .filter(|(t, _)| {
                t.strip_prefix('{')
                    .and_then(|t| t.strip_suffix('}'))
                    .is_some_and(|name| declared(name, img2img_specs::Location::Path))
            })
            .map(|(_, actual)| actual);
        let in_query = exchange
            .query
            .as_deref()
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter_map(|pair| pair.split_once('='))
            .filter(|(name, _)| declared(name, img2img_specs::Location::Query))
            .map(|(_, value)| value);
        if let Some(id) = in_path.chain(in_query).find(|id| self.known.contains(*id)) {
            return Some(id.to_owned());
        }
        let key_field = (self.auth.placement == AuthPlacement::Body).then_some(&self.auth.name);
        let in_body = request
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(name, _)| Some(*name) != key_field)
            .filter_map(|(_, value)| match value {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        in_body
            .chain(answer.and_then(|a| self.view(Some(op)).id_of(a)))
            .find(|id| self.known.contains(id))
    }
}

/// Whether `exchange` is a GET of an image the emulator serves.
pub fn is_download(exchange: &Exchange) -> bool {
    exchange.operation.is_none()
        && exchange.method == "GET"
        && exchange.path.starts_with(IMAGE_PATH)
}

/// `METHOD /path?query`.
pub fn line(exchange: &Exchange) -> String {
    match &exchange.query {
        Some(q) => format!("{} {}?{q}", exchange.method, exchange.path),
        None => format!("{} {}", exchange.method, exchange.path),
    }
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
