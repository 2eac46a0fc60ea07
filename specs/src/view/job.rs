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
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Provider, Spec};

    fn job(provider: Provider) -> &'static JobInfo {
        &Spec::embedded(provider).extensions().job
    }

    #[test]
    fn statuses_are_classified_by_the_spec_lists() {
        for (provider, status, expected) in [
            (
                Provider::named("gptproto"),
                "completed",
                JobStatus::Succeeded,
            ),
            (Provider::named("gptproto"), "canceled", JobStatus::Failed),
            (
                Provider::named("gptproto"),
                "in_progress",
                JobStatus::Pending,
            ),
            (Provider::named("gptproto"), "baking", JobStatus::Unknown),
            (
                Provider::named("novita"),
                "TASK_STATUS_UNKNOWN",
                JobStatus::Pending,
            ),
            (Provider::named("modelslab"), "error", JobStatus::Failed),
        ] {
            assert_eq!(
                job(provider).classify(status),
                expected,
                "{provider} {status}"
            );
        }
        assert!(job(Provider::named("novita")).is_terminal("TASK_STATUS_SUCCEED"));
        assert!(!job(Provider::named("novita")).is_terminal("TASK_STATUS_QUEUED"));
    }

    #[test]
    fn etas_read_numbers_and_numeric_strings_in_their_unit() {
        let modelslab = job(Provider::named("modelslab"));
        assert_eq!(
            modelslab.eta_of(&json!({"eta": 12.5})),
            Some(Duration::from_secs_f64(12.5))
        );
        assert_eq!(
            modelslab.eta_of(&json!({"eta": " 3 "})),
            Some(Duration::from_secs(3))
        );
        assert_eq!(modelslab.eta_of(&json!({"eta": -1})), None);
        assert_eq!(modelslab.eta_of(&json!({"eta": "soon"})), None);
        assert_eq!(
            job(Provider::named("gptproto")).eta_of(&json!({"eta": 3})),
            None
        );
        assert_eq!(
            EtaUnit::Milliseconds.duration(1500.0),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn ids_are_read_at_the_pointer_or_its_fallbacks() {
        let novita = job(Provider::named("novita"));
        assert_eq!(
            novita
                .id_of(&json!({"data": {"task_id": "t-1"}}))
                .as_deref(),
            Some("t-1")
        );
        assert_eq!(novita.id_of(&json!({"task_id": ""})), None);
        assert_eq!(
            job(Provider::named("modelslab"))
                .id_of(&json!({"id": 13443928}))
                .as_deref(),
            Some("13443928")
        );
    }

    #[test]
    fn failure_reasons_are_read_at_the_first_pointer_that_says_one() {
        let novita = job(Provider::named("novita"));
        assert_eq!(
            novita
                .failure_of(&json!({"task": {"reason": "nsfw"}}))
                .as_deref(),
            Some("nsfw")
        );
        assert_eq!(novita.failure_of(&json!({"task": {"reason": ""}})), None);
        let gptproto = job(Provider::named("gptproto"));
        assert_eq!(
            gptproto
                .failure_of(&json!({"data": {"error": {"message": "blocked"}}}))
                .as_deref(),
            Some("blocked")
        );
        assert_eq!(gptproto.failure_of(&json!({"data": {"error": null}})), None);
        assert_eq!(
            job(Provider::named("modelslab"))
                .failure_of(&json!({"message": " ", "messege": "out of memory"}))
                .as_deref(),
            Some("out of memory")
        );
    }

    #[test]
    fn poll_urls_are_read_at_the_pointer_and_hosts_allowed_by_name() {
        let mut job = job(Provider::named("modelslab")).clone();
        job.poll_url_pointer = Some("/fetch_result".into());
        job.poll_url_hosts = vec!["api.eu1.example.com".into()];
        assert_eq!(
            job.poll_url_of(&json!({"fetch_result": " https://h/f/1 "})),
            Some("https://h/f/1")
        );
        assert_eq!(job.poll_url_of(&json!({"fetch_result": ""})), None);
        assert_eq!(job.poll_url_of(&json!({"fetch_result": 3})), None);
        assert!(job.allows_poll_host("API.eu1.example.com"));
        assert!(!job.allows_poll_host("example.com"));
        job.poll_url_pointer = None;
        assert_eq!(job.poll_url_of(&json!({"fetch_result": "https://h"})), None);
    }

    #[test]
    fn progress_is_read_at_the_pointer_within_0_to_100() {
        let mut job = job(Provider::named("novita")).clone();
        job.progress_pointer = Some("/task/progress_percent".into());
        let body = |v: serde_json::Value| json!({"task": {"progress_percent": v}});
        assert_eq!(job.progress_of(&body(json!(40))), Some(40));
        assert_eq!(job.progress_of(&body(json!("55.4"))), Some(55));
        assert_eq!(job.progress_of(&body(json!(140))), Some(100));
        assert_eq!(job.progress_of(&body(json!(-3))), Some(0));
        assert_eq!(job.progress_of(&body(json!("soon"))), None);
        job.progress_pointer = None;
        assert_eq!(job.progress_of(&body(json!(40))), None);
    }

    #[test]
    fn the_id_of_a_result_request_is_where_the_create_links_put_it() {
        let spec = |id| Spec::embedded(Provider::named(id));
        assert_eq!(
            spec("gptproto").id_place("get_prediction_result"),
            Some(IdPlace::Path("id".into()))
        );
        assert_eq!(
            spec("novita").id_place("get_task_result"),
            Some(IdPlace::Query("task_id".into()))
        );
        let modelslab = spec("modelslab");
        assert_eq!(
            modelslab.id_place("fetch_queued_result"),
            Some(IdPlace::Body("request_id".into()))
        );
        for result in ["fetch_enterprise_images", "fetch_v6"] {
            assert_eq!(
                modelslab.id_place(result),
                Some(IdPlace::Path("id".into())),
                "{result}"
            );
        }
        assert_eq!(modelslab.id_place("create_img2img"), None);
        assert_eq!(
            modelslab.extensions().job.poll_url_pointer.as_deref(),
            Some("/fetch_result")
        );
        let bfl = spec("bfl");
        assert!(bfl.operation("get_result").unwrap().key_optional);
        assert!(
            !bfl.operation("create_flux_kontext_pro")
                .unwrap()
                .key_optional
        );
        assert!(!modelslab.operation("fetch_v6").unwrap().key_optional);
    }

    #[test]
    fn every_stage_word_is_in_its_list() {
        for provider in Provider::all() {
            let job = job(provider);
            let stages = job.stages.as_ref().expect("every spec names its stages");
            assert_eq!(job.classify(&stages.queued), JobStatus::Pending);
            assert_eq!(job.classify(&stages.processing), JobStatus::Pending);
            assert_eq!(job.classify(&stages.succeeded), JobStatus::Succeeded);
            assert_eq!(job.classify(&stages.failed), JobStatus::Failed);
        }
    }
}
