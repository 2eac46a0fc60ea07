//! The lint of `x-emulator.answers` and what goes with it (`x-job.poll-url-pointer`, the links
//! that tell where a result request carries the id): each answer template rendered for a sample job
//! or error and held to the spec: the response schema the spec documents for it, and the `x-job`
//! pointers a client reads (the id, the status word of each stage, the outputs, the reason of a
//! failure, the URL to poll).

use serde_json::Value;

use img2img_specs::extensions::{Answers, Cause, JobIdStyle, Stages};
use img2img_specs::schema::{escape, to_json_schema};
use img2img_specs::template::{ErrorVar, JobVar, OutputField, Scope, Value as Val, Var};
use img2img_specs::{ExampleKind, Feature, Spec};

/// The stages a job answer is rendered at.
const STAGES: [&str; 4] = ["queued", "processing", "succeeded", "failed"];

/// A sample job at one stage, for rendering the job templates.
struct SampleJob<'a> {
    stage: &'static str,
    stages: &'a Stages,
    style: JobIdStyle,
    format: &'a str,
    request: &'a Value,
}

const SAMPLE_REASON: &str = "sample failure";
const SAMPLE_MS: i64 = 1_767_225_600_000;

impl SampleJob<'_> {
    fn id(&self) -> &'static str {
        match self.style {
            JobIdStyle::Hex32 => "0123456789abcdef0123456789abcdef",
            JobIdStyle::Uuid4 => "3f1c2a7e-5b8d-4e21-9a6f-0c7d2e4b1a90",
            JobIdStyle::Sequence => "70000000",
        }
    }

    fn ended(&self) -> bool {
        matches!(self.stage, "succeeded" | "failed")
    }

    fn word(&self) -> &str {
        match self.stage {
            "queued" => &self.stages.queued,
            "processing" => &self.stages.processing,
            "succeeded" => &self.stages.succeeded,
            _ => &self.stages.failed,
        }
    }
}

impl Scope for SampleJob<'_> {
    fn job(&self, var: JobVar) -> Val<'_> {
        let started = self.stage != "queued";
        let seconds = |ms: i64| Val::Float(ms as f64 / 1000.0);
        match var {
            JobVar::Id => Val::Str(self.id().into()),
            JobVar::NumericId => match self.style {
                JobIdStyle::Sequence => Val::Uint(70_000_000),
                _ => Val::Str(self.id().into()),
            },
            JobVar::Status => Val::Str(self.word().into()),
            JobVar::Stage => Val::Str(self.stage.into()),
            JobVar::Progress => Val::Uint(match self.stage {
                "queued" => 0,
                "processing" => 50,
                _ => 100,
            }),
            JobVar::ProgressRatio => Val::Float(if self.ended() { 1.0 } else { 0.5 }),
            JobVar::Seed => Val::Uint(42),
            JobVar::Format => Val::Str(self.format.into()),
            JobVar::Width | JobVar::Height => Val::Uint(512),
            JobVar::Count => Val::Uint(1),
            JobVar::Steps => Val::Uint(20),
            JobVar::Strength => Val::Float(0.5),
            JobVar::Guidance => Val::Float(7.5),
            JobVar::Prompt => Val::Str("a lighthouse".into()),
            JobVar::NegativePrompt => Val::Str("".into()),
            JobVar::Reason if self.stage == "failed" => Val::Str(SAMPLE_REASON.into()),
            JobVar::Reason | JobVar::InputUrl => Val::Absent,
            JobVar::ResultUrl => Val::Str("http://127.0.0.1:8080/result".into()),
            JobVar::WebhookStatus => Val::Str("".into()),
            JobVar::NsfwDetection | JobVar::InlineBase64 => Val::Bool(false),
            JobVar::CreatedMs => Val::Int(SAMPLE_MS),
            JobVar::CreatedS => seconds(SAMPLE_MS),
            JobVar::StartedMs if started => Val::Int(SAMPLE_MS + 1000),
            JobVar::StartedS if started => seconds(SAMPLE_MS + 1000),
            JobVar::FinishedMs if self.ended() => Val::Int(SAMPLE_MS + 5000),
            JobVar::FinishedS if self.ended() => seconds(SAMPLE_MS + 5000),
            JobVar::StartedMs | JobVar::StartedS | JobVar::FinishedMs | JobVar::FinishedS => {
                Val::Absent
            }
            JobVar::EtaS => Val::Float(if self.ended() { 0.0 } else { 4.5 }),
            JobVar::EtaWholeS => Val::Int(if self.ended() { 0 } else { 5 }),
            JobVar::EtaMs => Val::Uint(if self.ended() { 0 } else { 4500 }),
            JobVar::ExecutionMs => Val::Uint(if started { 4000 } else { 0 }),
            JobVar::ExecutionS => Val::Float(if started { 4.0 } else { 0.0 }),
            JobVar::UrlTtlWholeS => Val::Uint(3600),
        }
    }

    fn request(&self) -> Option<&Value> {
        Some(self.request)
    }

    fn outputs(&self, future: bool) -> usize {
        usize::from(future || self.stage == "succeeded")
    }

    fn output(&self, index: usize, field: OutputField) -> Val<'_> {
        let name = format!("{}-{index}.{}", self.id(), self.format);
        match field {
            OutputField::Url => {
                Val::Str(format!("http://127.0.0.1:8080/emulator/images/{name}").into())
            }
            OutputField::Name => Val::Str(name.into()),
            OutputField::Base64 => Val::Str("iVBORw0KGgo=".into()),
            OutputField::Index => Val::Uint(index as u64),
            OutputField::Seed => Val::Uint(42 + index as u64),
        }
    }
}

/// A sample error of one cause, sent with `status`.
struct SampleError<'a> {
    cause: Cause,
    status: u16,
    reason: &'a str,
    job_status: Option<&'a str>,
}

impl Scope for SampleError<'_> {
    fn error(&self, var: ErrorVar) -> Val<'_> {
        match var {
            ErrorVar::Status => Val::Uint(u64::from(self.status)),
            ErrorVar::Message => Val::Str("sample message naming request.width".into()),
            ErrorVar::Reason => Val::Str(self.reason.into()),
            ErrorVar::Cause => Val::Str(self.cause.as_str().into()),
            ErrorVar::RetryAfter if self.cause == Cause::RateLimited => Val::Uint(30),
            ErrorVar::ServerError => Val::Bool(self.status >= 500),
            ErrorVar::Field if self.cause == Cause::InvalidRequest => Val::Str("width".into()),
            ErrorVar::JobId if self.cause == Cause::NotFound => Val::Str("nope".into()),
            ErrorVar::JobStatus => self.job_status.map_or(Val::Absent, |s| Val::Str(s.into())),
            _ => Val::Absent,
        }
    }
}

/// Checks `x-emulator.answers` and what goes with it.
pub fn check_answers(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let ext = spec.extensions();
    let job = &ext.job;
    check_poll_url_pointer_syntax(spec, add);
    check_families_link(spec, add);
    let Some(answers) = ext.emulator.as_ref().and_then(|e| e.answers.as_ref()) else {
        add(
            "/x-emulator",
            "has no answers: the emulator cannot answer for this provider (specs/README.md, \"Answer templates\")".into(),
        );
        return;
    };
    let at = "/x-emulator/answers";
    check_settings(spec, answers, add);
    let Some(stages) = &job.stages else {
        return;
    };
    let request = spec
        .examples()
        .into_iter()
        .find(|e| e.operation == job.create && e.kind == ExampleKind::Request && !e.docs_only)
        .map_or(Value::Object(Default::default()), |e| e.value);
    let sample = |stage| SampleJob {
        stage,
        stages,
        style: answers.job_id,
        format: &ext.output.default_format,
        request: &request,
    };

    // The create answer: an id where the client reads it, the URL to poll where it is given.
    let created_at = if answers.created.is_some() {
        format!("{at}/created")
    } else {
        format!("{at}/result")
    };
    let create_stages: &[&str] = match job.style {
        img2img_specs::extensions::JobStyle::Poll => &["queued"],
        img2img_specs::extensions::JobStyle::SyncOrQueued => &STAGES,
    };
    for stage in create_stages {
        let job_sample = sample(stage);
        let value = answers.created().render_value(&job_sample);
        check_schema(
            spec,
            &job.create,
            spec.operation(&job.create)
                .map_or(200, |op| op.success_status()),
            &value,
            &created_at,
            &format!("the create answer at the {stage} stage"),
            add,
        );
        if job.id_of(&value).as_deref() != Some(job_sample.id()) {
            add(
                &created_at,
                format!(
                    "the create answer at the {stage} stage has no job id at x-job.id-pointer {} (or its fallbacks): {value}",
                    job.id_pointer
                ),
            );
        }
    }
    if let Some(pointer) = &job.poll_url_pointer {
        let places = answers.created().writes_at(pointer);
        if places.is_empty() {
            add(
                &created_at,
                format!(
                    "x-job.poll-url-pointer is {pointer}, where the create answer writes nothing"
                ),
            );
        }
        for template in [answers.created(), &answers.result] {
            if template
                .writes_at(pointer)
                .iter()
                .any(|var| *var != Some(Var::Job(JobVar::ResultUrl)))
            {
                add(
                    &created_at,
                    format!(
                        "at x-job.poll-url-pointer {pointer} an answer must write `${{job.result_url}}` (the emulator's own URL to poll)"
                    ),
                );
            }
        }
    }

    // The result answer at each stage: its status word, its outputs, why it failed.
    for stage in STAGES {
        let job_sample = sample(stage);
        let value = answers.result.render_value(&job_sample);
        let what = format!("the result answer at the {stage} stage");
        check_schema(
            spec,
            &job.result,
            200,
            &value,
            &format!("{at}/result"),
            &what,
            add,
        );
        if job.status_of(&value) != Some(job_sample.word()) {
            add(
                &format!("{at}/result"),
                format!(
                    "{what} does not say {:?} at x-job.status-pointer {}: {value}",
                    job_sample.word(),
                    job.status_pointer
                ),
            );
        }
        if stage == "succeeded" && job.outputs.is_some() && job.outputs_of(&value).is_empty() {
            add(
                &format!("{at}/result"),
                format!("{what} lists no image at x-job.outputs: {value}"),
            );
        }
        if stage == "failed" && !job.failure_pointers.is_empty() && job.failure_of(&value).is_none()
        {
            add(
                &format!("{at}/result"),
                format!("{what} says no reason at x-job.failure-pointers: {value}"),
            );
        }
    }

    check_family_answers(spec, answers, &sample, add);

    // Errors and the not-found answer.
    let create = spec.operation(&job.create);
    let mut cases: Vec<(Cause, u16)> = Cause::ALL
        .iter()
        .filter_map(|cause| Some((*cause, answers.status(*cause)?)))
        .collect();
    if let Some(op) = create {
        cases.extend(
            op.responses
                .iter()
                .filter_map(|r| r.status.parse::<u16>().ok())
                .filter(|s| *s >= 400)
                .map(|s| (Cause::Fault, s)),
        );
    }
    for (cause, status) in cases {
        let reason = error_reason(spec, cause, status);
        let scope = SampleError {
            cause,
            status,
            reason: &reason,
            job_status: None,
        };
        let value = answers.error.render_value(&scope);
        if create.is_some_and(|op| op.response(status).is_some()) {
            check_schema(
                spec,
                &job.create,
                status,
                &value,
                &format!("{at}/error"),
                &format!("the error answer of cause {cause} (HTTP {status})"),
                add,
            );
        }
    }
    check_unknown_route(spec, answers, add);
    check_family_errors(spec, answers, add);
    if let Some(not_found) = spec.not_found(&job.result) {
        let reason = error_reason(spec, Cause::NotFound, not_found.status);
        let scope = SampleError {
            cause: Cause::NotFound,
            status: not_found.status,
            reason: &reason,
            job_status: not_found.job_status.as_deref(),
        };
        let value = answers.not_found().render_value(&scope);
        let place = if answers.not_found.is_some() {
            "not-found"
        } else {
            "error"
        };
        check_schema(
            spec,
            &job.result,
            not_found.status,
            &value,
            &format!("{at}/{place}"),
            "the not-found answer",
            add,
        );
        if let Some(word) = &not_found.job_status
            && job.status_of(&value) != Some(word.as_str())
        {
            add(
                &format!("{at}/{place}"),
                format!(
                    "the not-found answer does not say x-not-found's {word:?} at x-job.status-pointer: {value}"
                ),
            );
        }
    }

    // The webhook: sent when the request can name a receiver, in the callback's schema.
    let webhook_feature = spec.feature(&job.create, Feature::Webhook).is_some();
    match (&answers.webhook, webhook_feature) {
        (None, true) => add(
            at,
            "the create request can name a webhook (x-feature: webhook), but answers.webhook says nothing to send".into(),
        ),
        (Some(_), false) => add(
            &format!("{at}/webhook"),
            "no property of the create request is marked x-feature: webhook, so it is never sent".into(),
        ),
        _ => {}
    }
    if let Some(webhook) = &answers.webhook {
        let schema = callback_schema(spec, &job.create);
        for stage in ["succeeded", "failed"] {
            let value = webhook.body.render_value(&sample(stage));
            let Some(schema) = &schema else {
                continue;
            };
            match spec.compiled(schema) {
                Ok(compiled) => {
                    if let Err(violations) = compiled.validate(&value) {
                        add(
                            &format!("{at}/webhook/body"),
                            format!(
                                "the webhook at the {stage} stage breaks the callback's request schema: {violations}\n{value}"
                            ),
                        );
                    }
                }
                Err(e) => add(&format!("{at}/webhook/body"), e.to_string()),
            }
        }
    }
}

/// Each API family of `x-job.aliases`, as it reads `x-job`, answers as its operations document:
/// its create answer (or `families.<name>.created`) at each create stage with the job id where
/// the family reads it, and its result answer at each stage in every result's 200 schema with the
/// stage's word where the family reads it.
fn check_family_answers<'a>(
    spec: &Spec,
    answers: &Answers,
    sample: &dyn Fn(&'static str) -> SampleJob<'a>,
    add: &mut impl FnMut(&str, String),
) {
    let job = &spec.extensions().job;
    for (i, family) in job.aliases.iter().enumerate() {
        let own = job.for_family(family);
        let at = match answers.family(&family.name) {
            Some(_) => format!("/x-emulator/answers/families/{}", escape(&family.name)),
            None => format!("/x-job/aliases/{i}"),
        };
        let Some(stages) = own.stages.clone() else {
            continue;
        };
        let create_stages: &[&'static str] = match own.style {
            img2img_specs::extensions::JobStyle::Poll => &["queued"],
            img2img_specs::extensions::JobStyle::SyncOrQueued => &STAGES,
        };
        for stage in STAGES {
            let job_sample = SampleJob {
                stages: &stages,
                ..sample(stage)
            };
            let what = |kind: &str| {
                format!(
                    "the {kind} answer of family {} at the {stage} stage",
                    family.name
                )
            };
            if create_stages.contains(&stage) {
                let value = answers.created_for(&family.name).render_value(&job_sample);
                for create in &family.creates {
                    // Sent with the success status the create documents (200, or 202 for some).
                    let status = spec.operation(create).map_or(200, |op| op.success_status());
                    check_schema(spec, create, status, &value, &at, &what("create"), add);
                }
                if own.id_of(&value).as_deref() != Some(job_sample.id()) {
                    add(
                        &at,
                        format!(
                            "{} has no job id at the family's id-pointer {}: {value}",
                            what("create"),
                            own.id_pointer
                        ),
                    );
                }
            }
            let value = answers.result_for(&family.name).render_value(&job_sample);
            for result in &family.results {
                check_schema(spec, result, 200, &value, &at, &what("result"), add);
            }
            if own.status_of(&value) != Some(job_sample.word()) {
                add(
                    &at,
                    format!(
                        "{} does not say {:?} at the family's status-pointer {}: {value}",
                        what("result"),
                        job_sample.word(),
                        own.status_pointer
                    ),
                );
            }
            if stage == "succeeded" && own.outputs.is_some() && own.outputs_of(&value).is_empty() {
                add(
                    &at,
                    format!(
                        "{} lists no image at the family's outputs: {value}",
                        what("result")
                    ),
                );
            }
        }
    }
    for name in answers.families.keys() {
        if job
            .family(name)
            .is_none_or(|f| f.name == img2img_specs::extensions::DOCS_FAMILY)
        {
            add(
                &format!("/x-emulator/answers/families/{}", escape(name)),
                format!("{name:?} names no family of x-job.aliases"),
            );
        }
    }
}

/// The unknown-route answer says a message where a client reads one (`x-errors.message-pointers`),
/// and fits the create's schema for its status when the create documents that status.
fn check_unknown_route(spec: &Spec, answers: &Answers, add: &mut impl FnMut(&str, String)) {
    let ext = spec.extensions();
    let place = if answers.unknown_route.is_some() {
        "/x-emulator/answers/unknown-route"
    } else {
        "/x-emulator/answers/error"
    };
    let Some(status) = answers.status(Cause::UnknownRoute) else {
        return;
    };
    let reason = error_reason(spec, Cause::UnknownRoute, status);
    let value = answers.unknown_route().render_value(&SampleError {
        cause: Cause::UnknownRoute,
        status,
        reason: &reason,
        job_status: None,
    });
    if ext.errors.message_in(&value).is_none() {
        add(
            place,
            format!(
                "the unknown-route answer says no message at x-errors.message-pointers: {value}"
            ),
        );
    }
    if spec
        .operation(&ext.job.create)
        .is_some_and(|op| op.response(status).is_some())
    {
        check_schema(
            spec,
            &ext.job.create,
            status,
            &value,
            place,
            &format!("the unknown-route answer (HTTP {status})"),
            add,
        );
    }
}

/// A family's own error and not-found answers fit what its creates document for each status, and
/// what its results document for their `x-not-found`.
fn check_family_errors(spec: &Spec, answers: &Answers, add: &mut impl FnMut(&str, String)) {
    let job = &spec.extensions().job;
    for family in &job.aliases {
        let Some(own) = answers.family(&family.name) else {
            continue;
        };
        let at = format!("/x-emulator/answers/families/{}", escape(&family.name));
        if own.error.is_some() {
            for create in &family.creates {
                let Some(op) = spec.operation(create) else {
                    continue;
                };
                let statuses = op
                    .responses
                    .iter()
                    .filter_map(|r| r.status.parse::<u16>().ok())
                    .filter(|s| *s >= 400);
                for status in statuses {
                    let cause = Cause::ALL
                        .iter()
                        .copied()
                        .find(|c| answers.status(*c) == Some(status))
                        .unwrap_or(Cause::Fault);
                    let reason = error_reason(spec, cause, status);
                    let value = answers.error_for(&family.name).render_value(&SampleError {
                        cause,
                        status,
                        reason: &reason,
                        job_status: None,
                    });
                    check_schema(
                        spec,
                        create,
                        status,
                        &value,
                        &format!("{at}/error"),
                        &format!("the error answer of family {} (HTTP {status})", family.name),
                        add,
                    );
                }
            }
        }
        for result in &family.results {
            let Some(not_found) = spec.not_found(result) else {
                continue;
            };
            let reason = error_reason(spec, Cause::NotFound, not_found.status);
            let value = answers
                .not_found_for(&family.name)
                .render_value(&SampleError {
                    cause: Cause::NotFound,
                    status: not_found.status,
                    reason: &reason,
                    job_status: not_found.job_status.as_deref(),
                });
            check_schema(
                spec,
                result,
                not_found.status,
                &value,
                &format!("{at}/not-found"),
                &format!("the not-found answer of family {}", family.name),
                add,
            );
        }
    }
}

/// The reason the emulator answers an error of `cause` sent with `status` with.
fn error_reason(spec: &Spec, cause: Cause, status: u16) -> String {
    let answers = spec
        .extensions()
        .emulator
        .as_ref()
        .and_then(|e| e.answers.as_ref());
    answers
        .and_then(|a| a.reason(cause, status, &spec.extensions().errors))
        .unwrap_or_default()
        .to_owned()
}

/// The word `x-errors` writes for `kind` (`invalid_request`).
fn kind_word(kind: img2img_specs::extensions::ErrorKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Reports `value` if it breaks the schema `operation` documents for `status`.
fn check_schema(
    spec: &Spec,
    operation: &str,
    status: u16,
    value: &Value,
    at: &str,
    what: &str,
    add: &mut impl FnMut(&str, String),
) {
    match spec.response_schema(operation, status) {
        None => add(
            at,
            format!("{what} is sent with HTTP {status}, which {operation} does not document"),
        ),
        Some(Err(e)) => add(at, e.to_string()),
        Some(Ok(schema)) => {
            if let Err(violations) = schema.validate(value) {
                add(
                    at,
                    format!(
                        "{what} breaks the HTTP {status} schema of {operation}: {violations}\n{value}"
                    ),
                );
            }
        }
    }
}

/// The JSON pointer of the request body schema of the first callback of `operation`.
fn callback_schema(spec: &Spec, operation: &str) -> Option<String> {
    let op = spec.operation(operation)?;
    let callbacks = spec
        .document()
        .pointer(&format!("{}/callbacks", op.pointer))?
        .as_object()?;
    let (name, callback) = callbacks.iter().next()?;
    let (expression, item) = callback.as_object()?.iter().next()?;
    item.pointer("/post/requestBody/content/application~1json/schema")?;
    Some(format!(
        "{}/callbacks/{}/{}/post/requestBody/content/application~1json/schema",
        op.pointer,
        escape(name),
        escape(expression)
    ))
}

/// `statuses` name causes whose status can change, to documented statuses; `reasons` name
/// reasons `x-errors` lists with the cause's meaning and status; the unlisted word is in no list; a `sync-or-queued` job says how long a synchronous create waits.
fn check_settings(spec: &Spec, answers: &Answers, add: &mut impl FnMut(&str, String)) {
    let job = &spec.extensions().job;
    let at = "/x-emulator/answers";
    for (cause, status) in &answers.statuses {
        let pointer = format!("{at}/statuses/{cause}");
        if cause.usual_status().is_none() {
            add(
                &pointer,
                format!(
                    "the status of {cause} is not set here ({})",
                    match cause {
                        Cause::NotFound => "x-not-found sets it",
                        _ => "the fault sets it",
                    }
                ),
            );
        } else if spec
            .operation(&job.create)
            .is_none_or(|op| op.response(*status).is_none())
        {
            add(
                &pointer,
                format!(
                    "HTTP {status} is not a documented response of {}",
                    job.create
                ),
            );
        }
    }
    for (cause, reason) in &answers.reasons {
        let pointer = format!("{at}/reasons/{cause}");
        let listed = spec.extensions().errors.reason(reason);
        let status = answers.status(*cause);
        match (listed, cause.meaning()) {
            (None, _) => add(
                &pointer,
                format!("{reason} is not a reason x-errors.reasons lists"),
            ),
            (Some(_), None) => add(
                &pointer,
                format!("{cause} is answered by its status alone: it takes no reason"),
            ),
            (Some(listed), Some(meaning)) => {
                if listed.kind != meaning {
                    add(
                        &pointer,
                        format!(
                            "{reason} means {} in x-errors, but an error of {cause} means {}",
                            kind_word(listed.kind),
                            kind_word(meaning)
                        ),
                    );
                }
                if let Some(status) = status
                    && listed.status.is_some_and(|s| s != status)
                {
                    add(
                        &pointer,
                        format!(
                            "{reason} comes with HTTP {} in x-errors, but {cause} is answered with {status}",
                            listed.status.unwrap_or_default()
                        ),
                    );
                }
            }
        }
    }
    let word = answers.unlisted_status();
    if [&job.pending, &job.succeeded, &job.failed]
        .iter()
        .any(|list| list.iter().any(|w| w == word))
    {
        add(
            &format!("{at}/unlisted-status"),
            format!(
                "{word:?} is in an x-job list: the unlisted_status defect must send a word none lists"
            ),
        );
    }
    let sync = job.style == img2img_specs::extensions::JobStyle::SyncOrQueued;
    match (sync, answers.sync_grace_seconds) {
        (true, None) => add(
            at,
            "x-job.style is sync-or-queued: sync-grace-seconds must say how long a synchronous create waits".into(),
        ),
        (false, Some(_)) => add(
            &format!("{at}/sync-grace-seconds"),
            "is only read for x-job.style sync-or-queued".into(),
        ),
        _ => {}
    }
}

/// `x-job.poll-url-pointer`: a JSON pointer to a field of the create answer's schema.
fn check_poll_url_pointer_syntax(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let job = &spec.extensions().job;
    let Some(pointer) = &job.poll_url_pointer else {
        return;
    };
    if !pointer.starts_with('/') {
        add(
            "/x-job/poll-url-pointer",
            format!("{pointer:?} is not a JSON pointer (it starts with /)"),
        );
        return;
    }
    let schema = spec
        .operation(&job.create)
        .and_then(|op| op.response(200))
        .and_then(|r| r.schema.as_deref())
        .and_then(|at| to_json_schema(spec.document(), at).ok());
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    if !schema.is_some_and(|s| super::rules::schema_has_path(&s, &segments)) {
        add(
            "/x-job/poll-url-pointer",
            format!("{pointer} points at no field of the create operation's 200 response schema"),
        );
    }
}

/// Every family's create operation links to its result operation, so that the id of a result
/// request is found (`Spec::id_place`).
fn check_families_link(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    for (i, family) in spec.extensions().job.aliases.iter().enumerate() {
        for create in family
            .creates
            .iter()
            .filter(|c| spec.operation(c).is_some())
        {
            let links = spec.links(create);
            for result in family
                .results
                .iter()
                .filter(|r| spec.operation(r).is_some())
            {
                if !links.iter().any(|link| link.operation == *result) {
                    add(
                        &format!("/x-job/aliases/{i}"),
                        format!(
                            "no 2xx answer of {create} links to {result}: where a result request of this family carries the job id is unknown"
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use img2img_specs::Spec;

    use super::super::rules::lint;

    /// A spec whose answers get every rule wrong once.
    const WRONG: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://example.com"}]
x-provider: {id: acme, name: A, model: m, docs: "https://example.com/docs", key-env: K}
x-auth: {in: header, name: Authorization, prefix: "", accepted-prefixes: [""]}
x-job:
  create: create
  result: result
  style: sync-or-queued
  id-pointer: /id
  status-pointer: /status
  pending: [running]
  succeeded: [done]
  failed: [failed, gone]
  outputs: /images
  failure-pointers: [/why]
  poll-url-pointer: /poll
  stages: {queued: running, processing: running, succeeded: done, failed: failed}
  aliases: [{name: other, create: create_other, result: result_other}]
x-output: {formats: [png], default-format: png, inline-base64: false}
x-errors: {message-pointers: [/message], reasons: [{reason: AUTH, kind: unauthorized, status: 401}]}
x-emulator:
  render-defaults: {width: 512, height: 512, strength: 0.5, steps: 20, guidance: 7.0}
  answers:
    job-id: uuid4
    statuses: {not_found: 404, wrong_key: 418}
    reasons: {image_format: AUTH, too_large: NOPE, fault: AUTH}
    unlisted-status: gone
    created: {poll: 'http://fixed', status: '${job.status}'}
    result: {id: '${job.id}', status: ok}
    error: {message: 7}
    not-found: {message: '${error.message}'}
paths:
  /create:
    post:
      operationId: create
      requestBody:
        content:
          application/json:
            schema:
              type: object
              description: body
              properties:
                hook: {type: string, description: h, x-feature: webhook}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                description: a
                properties:
                  id: {type: string, description: i}
                  poll: {type: string, description: p}
                  status: {type: string, description: s}
          links:
            result: {operationId: result, parameters: {id: '$response.body#/id'}}
        "400":
          description: refused
          content: {application/json: {schema: {type: object, description: e, properties: {message: {type: string, description: m}}}}}
  /create/other:
    post:
      operationId: create_other
      requestBody:
        content: {application/json: {schema: {type: object, description: body, properties: {hook: {type: string, description: h, x-feature: webhook}}}}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object, description: a}}}}
  /result:
    get:
      operationId: result
      x-not-found: {status: 200, job-status: gone}
      parameters: [{name: id, in: query, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                description: r
                properties:
                  status: {type: string, enum: [running, done, failed, gone], description: s}
  /result/other:
    get:
      operationId: result_other
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object, description: r}}}}
"##;

    #[test]
    fn every_answer_is_held_to_the_spec() {
        let spec = Spec::parse(WRONG).unwrap();
        let findings: Vec<String> = lint(&spec).iter().map(ToString::to_string).collect();
        for needle in [
            "#/x-emulator/answers/statuses/not_found: the status of not_found is not set here (x-not-found sets it)",
            "#/x-emulator/answers/statuses/wrong_key: HTTP 418 is not a documented response of create",
            "#/x-emulator/answers/unlisted-status: \"gone\" is in an x-job list",
            "#/x-emulator/answers/reasons/image_format: AUTH means unauthorized in x-errors, but an error of image_format means invalid_request",
            "#/x-emulator/answers/reasons/image_format: AUTH comes with HTTP 401 in x-errors, but image_format is answered with 400",
            "#/x-emulator/answers/reasons/too_large: NOPE is not a reason x-errors.reasons lists",
            "#/x-emulator/answers/reasons/fault: fault is answered by its status alone: it takes no reason",
            "#/x-emulator/answers: x-job.style is sync-or-queued: sync-grace-seconds must say",
            "the create answer at the queued stage has no job id at x-job.id-pointer /id",
            "at x-job.poll-url-pointer /poll an answer must write `${job.result_url}`",
            "the result answer at the processing stage breaks the HTTP 200 schema of result",
            "the result answer at the succeeded stage does not say \"done\" at x-job.status-pointer /status",
            "the result answer at the succeeded stage lists no image at x-job.outputs",
            "the result answer at the failed stage says no reason at x-job.failure-pointers",
            "the error answer of cause invalid_request (HTTP 400) breaks the HTTP 400 schema of create",
            "the not-found answer does not say x-not-found's \"gone\" at x-job.status-pointer",
            "the create request can name a webhook (x-feature: webhook), but answers.webhook says nothing to send",
            "#/x-job/aliases/0: no 2xx answer of create_other links to result_other",
        ] {
            assert!(
                findings.iter().any(|f| f.contains(needle)),
                "no finding contains {needle:?}:\n{findings:#?}"
            );
        }
    }

    #[test]
    fn a_spec_without_answers_cannot_be_emulated_and_the_poll_url_must_be_a_field() {
        let text = WRONG
            .replace(
                "  poll-url-pointer: /poll\n",
                "  poll-url-pointer: /nowhere\n",
            )
            .replace(
                WRONG
                    .split("  answers:\n")
                    .nth(1)
                    .and_then(|rest| rest.split("paths:\n").next())
                    .unwrap(),
                "",
            )
            .replace("  answers:\n", "");
        let spec = Spec::parse(&text).unwrap();
        let findings: Vec<String> = lint(&spec).iter().map(ToString::to_string).collect();
        for needle in [
            "#/x-emulator: has no answers: the emulator cannot answer for this provider",
            "#/x-job/poll-url-pointer: /nowhere points at no field of the create operation's 200 response schema",
        ] {
            assert!(
                findings.iter().any(|f| f.contains(needle)),
                "no finding contains {needle:?}:\n{findings:#?}"
            );
        }
    }

    /// A spec whose API families get every family rule wrong once.
    const FAMILIES: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://example.com"}]
x-provider: {id: acme, name: A, model: m, docs: "https://example.com/docs", key-env: K}
x-auth: {in: header, name: Authorization, prefix: "", accepted-prefixes: [""]}
x-job:
  create: create
  result: result
  style: poll
  id-pointer: /id
  status-pointer: /status
  pending: [running]
  succeeded: [done]
  failed: [failed]
  stages: {queued: running, processing: running, succeeded: done, failed: failed}
  aliases:
    - name: own
      creates: [create_own, create]
      results: [result, result_body]
      status-pointer: state
      pending: [waiting]
      create-fields: {mode: edit}
x-output: {formats: [png], default-format: png, inline-base64: false}
x-errors: {message-pointers: [/message]}
x-emulator:
  render-defaults: {width: 512, height: 512, strength: 0.5, steps: 20, guidance: 7.0}
  answers:
    job-id: uuid4
    created: {id: '${job.id}'}
    result: {id: '${job.id}', status: '${job.status}'}
    error: {message: '${error.message}'}
    unknown-route: {detail: '${error.message}'}
    families:
      own: {created: {job: '${job.id}'}}
      ghost: {result: {status: '${job.status}'}}
paths:
  /create:
    post:
      operationId: create
      requestBody:
        content: {application/json: {schema: {$ref: '#/components/schemas/Body'}}}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Answer'}}}
          links:
            result: {operationId: result, parameters: {id: '$response.body#/id'}}
  /create/own:
    post:
      operationId: create_own
      requestBody:
        content:
          application/json:
            schema:
              type: object
              description: its own body, marking no init image
              properties:
                text: {type: string, description: t, x-feature: prompt}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Answer'}}}
          links:
            result: {operationId: result, parameters: {id: '$response.body#/id'}}
  /result/{id}:
    get:
      operationId: result
      parameters: [{name: id, in: path, required: true, description: i, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Answer'}}}
  /result:
    post:
      operationId: result_body
      requestBody:
        content: {application/json: {schema: {type: object, description: b, properties: {id: {type: string, description: i}}}}}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Answer'}}}
components:
  schemas:
    Body:
      type: object
      description: body
      properties:
        image: {type: string, description: i, x-feature: init_image}
    Answer:
      type: object
      description: a
      properties:
        id: {type: string, description: i}
        job: {type: string, description: j}
        status: {type: string, description: s}
"##;

    #[test]
    fn every_family_rule_is_checked() {
        let spec = Spec::parse(FAMILIES).unwrap();
        let findings: Vec<String> = lint(&spec).iter().map(ToString::to_string).collect();
        for needle in [
            "#/x-job/aliases/0/create: operationId \"create\" already belongs to another family",
            "#/x-job/aliases/0/create: \"create_own\" has a request body of its own that marks no x-feature: init_image",
            "#/x-job/aliases/0/status-pointer: \"state\" is not a JSON pointer",
            "#/x-job/aliases/0/stages/queued: \"running\" is not in the x-job list for a queued job",
            "#/x-job/aliases/0/create-fields/mode: \"mode\" is no top-level property of the create body of create_own",
            "#/x-job/aliases/0: no 2xx answer of create_own links to result_body",
            "#/x-emulator/answers/families/own: the create answer of family own at the queued stage has no job id at the family's id-pointer /id",
            "#/x-emulator/answers/families/ghost: \"ghost\" names no family of x-job.aliases",
            "#/x-emulator/answers/unknown-route: the unknown-route answer says no message at x-errors.message-pointers",
        ] {
            assert!(
                findings.iter().any(|f| f.contains(needle)),
                "no finding contains {needle:?}:\n{findings:#?}"
            );
        }
    }
}
