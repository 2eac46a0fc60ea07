//! Reading a job by the spec's `x-job`: its id, its status and what the status means, the
//! provider's estimate of the time left, and the status word of each stage.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Spec;
use crate::extensions::{JobFamily, JobInfo, JobOverrides};

/// The name of the docs' own family (`x-job.create` + `x-job.result`).
pub const DOCS_FAMILY: &str = "docs";

/// Where a job stands, by the spec's `x-job` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// In `x-job.pending`: still running.
    Pending,
    /// In `x-job.succeeded`: done, with images.
    Succeeded,
    /// In `x-job.failed`: done, without images.
    Failed,
    /// In no list of the spec.
    Unknown,
}

impl JobStatus {
    /// Whether the job is over (succeeded or failed).
    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed)
    }
}

/// `x-job.eta-unit`: the unit of the provider's estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EtaUnit {
    /// Seconds.
    Seconds,
    /// Milliseconds.
    Milliseconds,
}

impl EtaUnit {
    /// The word the spec writes (`seconds`).
    pub fn as_str(self) -> &'static str {
        match self {
            EtaUnit::Seconds => "seconds",
            EtaUnit::Milliseconds => "milliseconds",
        }
    }

    /// `amount` of this unit as a duration; `None` unless it is finite and not negative.
    pub fn duration(self, amount: f64) -> Option<Duration> {
        let seconds = match self {
            EtaUnit::Seconds => amount,
            EtaUnit::Milliseconds => amount / 1000.0,
        };
        Duration::try_from_secs_f64(seconds).ok()
    }
}

/// `x-job.stages`: the status word the provider reports at each stage of a job (each one of the
/// matching list: `queued` and `processing` of `pending`). What an emulator answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Stages {
    /// Accepted, not started.
    pub queued: String,
    /// Running.
    pub processing: String,
    /// Finished with images.
    pub succeeded: String,
    /// Finished without.
    pub failed: String,
}

/// Where a result request carries the job id: the parameter or body field a create operation's
/// OpenAPI link to the result operation fills ([`Spec::id_place`](crate::Spec::id_place)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdPlace {
    /// A path parameter (`/predictions/{id}/result`).
    Path(String),
    /// A query parameter (`?task_id=`).
    Query(String),
    /// A top-level field of the JSON body (`{"request_id": ...}`).
    Body(String),
}

impl IdPlace {
    /// The parameter or field name.
    pub fn name(&self) -> &str {
        match self {
            IdPlace::Path(name) | IdPlace::Query(name) | IdPlace::Body(name) => name,
        }
    }
}

impl Spec {
    /// Where result operation `result` takes the job id: what a link from the create operation of
    /// its family (or, failing that, of any family) to it fills, as a path or query parameter or
    /// a body field. `None` when no create operation links to it.
    pub fn id_place(&self, result: &str) -> Option<IdPlace> {
        let job = &self.extensions().job;
        let families = job.families();
        let creates = families
            .iter()
            .filter(|f| f.results_with(result))
            .chain(families.iter().filter(|f| !f.results_with(result)))
            .flat_map(|f| f.creates.iter().map(String::as_str));
        let operation = self.operation(result)?;
        creates
            .flat_map(|create| self.links(create))
            .filter(|link| link.operation == result)
            .find_map(|link| {
                let by_parameter = link.parameters.iter().find_map(|(name, _)| {
                    let parameter = operation.parameters.iter().find(|p| p.name == *name)?;
                    match parameter.location.as_str() {
                        "path" => Some(IdPlace::Path(name.clone())),
                        "query" => Some(IdPlace::Query(name.clone())),
                        _ => None,
                    }
                });
                by_parameter.or_else(|| {
                    link.body_fields
                        .first()
                        .map(|(name, _)| IdPlace::Body(name.clone()))
                })
            })
    }
}

impl Spec {
    /// Whether create operation `create` takes the request body schema of the docs' create
    /// (`x-job.create`), as written: a family of the same shape, which a docs' request fits. A
    /// family with a body of its own maps its fields to the same `x-feature`s instead.
    pub fn takes_docs_request(&self, create: &str) -> bool {
        let written = |id: &str| {
            let at = self.operation(id)?.request_body.clone()?;
            self.document().pointer(&at).cloned()
        };
        let docs = &self.extensions().job.create;
        written(create).is_some() && written(create) == written(docs)
    }
}

impl JobInfo {
    /// Every family: the docs' pair first (named `docs`), then the aliases.
    pub fn families(&self) -> Vec<JobFamily> {
        let docs = JobFamily {
            name: DOCS_FAMILY.into(),
            create: self.create.clone(),
            result: self.result.clone(),
            creates: vec![self.create.clone()],
            results: vec![self.result.clone()],
            overrides: JobOverrides::default(),
        };
        std::iter::once(docs)
            .chain(self.aliases.iter().cloned())
            .collect()
    }

    /// The family named `name` (`docs`: the docs' pair).
    pub fn family(&self, name: &str) -> Option<JobFamily> {
        self.families().into_iter().find(|f| f.name == name)
    }

    /// The first family one of whose creates or results is `operation` (a result several
    /// families share belongs to the first that lists it).
    pub fn family_of(&self, operation: &str) -> Option<JobFamily> {
        self.families().into_iter().find(|f| f.has(operation))
    }

    /// Whether `operation` creates a job (in any family).
    pub fn is_create(&self, operation: &str) -> bool {
        self.families().iter().any(|f| f.creates_with(operation))
    }

    /// Whether `operation` reads a job's result (in any family).
    pub fn is_result(&self, operation: &str) -> bool {
        self.families().iter().any(|f| f.results_with(operation))
    }

    /// This `x-job` as `family` reads it: the family's create and result, and each key the
    /// family overrides in place of the top-level one (the aliases kept, so the view still
    /// knows every family).
    pub fn for_family(&self, family: &JobFamily) -> JobInfo {
        let o = &family.overrides;
        let pick =
            |over: &Option<String>, top: &Option<String>| over.clone().or_else(|| top.clone());
        JobInfo {
            create: family.create.clone(),
            result: family.result.clone(),
            aliases: self.aliases.clone(),
            style: o.style.unwrap_or(self.style),
            id_pointer: o
                .id_pointer
                .clone()
                .unwrap_or_else(|| self.id_pointer.clone()),
            id_fallback_pointers: o
                .id_fallback_pointers
                .clone()
                .unwrap_or_else(|| self.id_fallback_pointers.clone()),
            status_pointer: o
                .status_pointer
                .clone()
                .unwrap_or_else(|| self.status_pointer.clone()),
            pending: o.pending.clone().unwrap_or_else(|| self.pending.clone()),
            succeeded: o
                .succeeded
                .clone()
                .unwrap_or_else(|| self.succeeded.clone()),
            failed: o.failed.clone().unwrap_or_else(|| self.failed.clone()),
            eta_pointer: pick(&o.eta_pointer, &self.eta_pointer),
            eta_unit: o.eta_unit.or(self.eta_unit),
            progress_pointer: pick(&o.progress_pointer, &self.progress_pointer),
            outputs: pick(&o.outputs, &self.outputs),
            failure_pointers: o
                .failure_pointers
                .clone()
                .unwrap_or_else(|| self.failure_pointers.clone()),
            stages: o.stages.clone().or_else(|| self.stages.clone()),
            create_fields: o
                .create_fields
                .clone()
                .unwrap_or_else(|| self.create_fields.clone()),
            poll_url_pointer: pick(&o.poll_url_pointer, &self.poll_url_pointer),
            poll_url_hosts: self.poll_url_hosts.clone(),
        }
    }

    /// This `x-job` as the family of `operation` reads it ([`JobInfo::for_family`]); the
    /// top-level one for an operation of no family.
    pub fn for_operation(&self, operation: &str) -> JobInfo {
        match self.family_of(operation) {
            Some(family) => self.for_family(&family),
            None => self.clone(),
        }
    }

    /// What `status` means, by the `pending`, `succeeded` and `failed` lists.
    pub fn classify(&self, status: &str) -> JobStatus {
        let has = |list: &[String]| list.iter().any(|s| s == status);
        if has(&self.succeeded) {
            JobStatus::Succeeded
        } else if has(&self.failed) {
            JobStatus::Failed
        } else if has(&self.pending) {
            JobStatus::Pending
        } else {
            JobStatus::Unknown
        }
    }

    /// Whether `status` ends the job.
    pub fn is_terminal(&self, status: &str) -> bool {
        self.classify(status).is_terminal()
    }

    /// The status in a result body, at `status-pointer`.
    pub fn status_of<'a>(&self, body: &'a Value) -> Option<&'a str> {
        body.pointer(&self.status_pointer).and_then(Value::as_str)
    }

    /// The job id in a create response, at `id-pointer` or else its `id-fallback-pointers`: a
    /// non-empty string, or an integer written in decimal.
    pub fn id_of(&self, body: &Value) -> Option<String> {
        std::iter::once(&self.id_pointer)
            .chain(&self.id_fallback_pointers)
            .filter_map(|p| body.pointer(p))
            .find_map(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    }

    /// Every output a finished result lists, at `outputs` (`*` stands for every array item; an
    /// array reached at the end stands for its strings): URLs or base64 data. Empty when the spec
    /// names no `outputs` pointer.
    pub fn outputs_of(&self, body: &Value) -> Vec<String> {
        let Some(pattern) = self.outputs.as_deref() else {
            return Vec::new();
        };
        let mut current = vec![body];
        for segment in pattern.split('/').skip(1) {
            current = current
                .into_iter()
                .flat_map(|value| -> Vec<&Value> {
                    if segment == "*" {
                        value
                            .as_array()
                            .map(|a| a.iter().collect())
                            .unwrap_or_default()
                    } else {
                        value.get(segment).into_iter().collect()
                    }
                })
                .collect();
        }
        current
            .into_iter()
            .flat_map(|v| match v {
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            })
            .collect()
    }

    /// Why a failed job failed, at the first of `failure-pointers` that holds a non-empty string,
    /// or an object with a non-empty `message`.
    pub fn failure_of(&self, body: &Value) -> Option<String> {
        self.failure_pointers
            .iter()
            .filter_map(|p| body.pointer(p))
            .find_map(|v| {
                let text = match v {
                    Value::Object(map) => map.get("message")?.as_str()?,
                    other => other.as_str()?,
                };
                (!text.trim().is_empty()).then(|| text.to_owned())
            })
    }

    /// How far a pending job is, in percent, at `progress-pointer`: a number (or a numeric string)
    /// kept within 0..=100.
    pub fn progress_of(&self, body: &Value) -> Option<u8> {
        let value = body.pointer(self.progress_pointer.as_deref()?)?;
        let percent = value
            .as_f64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|p| p.is_finite())?;
        Some(percent.clamp(0.0, 100.0).round() as u8)
    }

    /// The absolute URL the provider asks to be polled at, at `poll-url-pointer`: a non-empty
    /// string; `None` when the spec names no pointer or the body holds none.
    pub fn poll_url_of<'a>(&self, body: &'a Value) -> Option<&'a str> {
        body.pointer(self.poll_url_pointer.as_deref()?)?
            .as_str()
            .map(str::trim)
            .filter(|url| !url.is_empty())
    }

    /// Whether `poll-url-hosts` lists `host` (compared without case), a host other than the base
    /// URL's that a poll URL may name.
    pub fn allows_poll_host(&self, host: &str) -> bool {
        self.poll_url_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    /// The provider's estimate of the time left, at `eta-pointer`, in `eta-unit` (seconds when the
    /// spec names none): a JSON number or a decimal string, finite and not negative.
    pub fn eta_of(&self, body: &Value) -> Option<Duration> {
        let value = body.pointer(self.eta_pointer.as_deref()?)?;
        let amount = value
            .as_f64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))?;
        self.eta_unit.unwrap_or(EtaUnit::Seconds).duration(amount)
    }
}

#[cfg(test)]
#[path = "tests/job.rs"]
mod tests;
