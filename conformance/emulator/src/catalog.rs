//! The providers one emulator serves: what it reads from each spec, once (the job's operations and
//! stage words, its answer templates, where a result request carries the id, the request schema
//! as the provider accepts it), and each provider's settings resolved against its spec.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use img2img_specs::extensions::{
    Answers, DOCS_FAMILY, IdPlace, JobIdStyle, JobInfo, JobStyle, RenderDefaults, Stages,
};
use img2img_specs::{CompiledSchema, Feature, FeatureField, Provider, Reading, Spec};

use super::answers::request_pointers;
use super::config::{AnswerStyle, Config};
use super::jobs::Job;

/// Cap on request bodies where the spec gives no `max-input-bytes`: 20 MiB.
pub const DEFAULT_BODY_LIMIT: u64 = 20 * 1024 * 1024;
/// Room for the rest of the JSON beside a maximal base64 image: 1 MiB.
const JSON_ROOM: u64 = 1024 * 1024;

/// One provider's settings, its spec's defaults and the run's [`Config`] together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    /// How a `sync-or-queued` create answers (always queued for a `poll` provider).
    pub answer_style: AnswerStyle,
    /// How much longer than its latency a synchronous create waits.
    pub sync_grace: Duration,
    /// Images per key per 60 s, when rate limits apply and the spec (or the run) gives a number.
    pub images_per_minute: Option<u32>,
    /// Unfinished jobs per key, likewise.
    pub queued_requests: Option<u32>,
    /// The wait a refusal over `queued_requests` asks for, in seconds.
    pub retry_after_secs: u32,
    /// Retries of a failed webhook delivery.
    pub webhook_retries: u32,
}

/// `x-job` as one API family reads it, and its stage words.
#[derive(Debug)]
pub(crate) struct FamilyJob {
    /// The family's view of `x-job` ([`JobInfo::for_family`]).
    pub job: JobInfo,
    /// The status word of each stage.
    pub stages: Stages,
}

/// What the emulator reads from one provider's spec, once. The embedded specs carry every
/// extension read here (the lint checks it); a spec without one is a build of this crate that
/// cannot run, hence the panics.
#[derive(Debug)]
pub(crate) struct ProviderInfo {
    pub provider: Provider,
    pub spec: &'static Spec,
    /// `x-job`: every family's create and result operations.
    pub job: &'static JobInfo,
    /// What the emulator answers (`x-emulator.answers`).
    pub answers: &'static Answers,
    /// What to render with where the request and the spec say nothing (`x-emulator`).
    pub render_defaults: &'static RenderDefaults,
    /// Each create operation's request schema as the provider accepts it ([`Reading::Accepting`]).
    create_schemas: HashMap<String, Arc<CompiledSchema>>,
    /// `x-job` as each family (by name) reads it: its pointers, status words and stages.
    family_jobs: HashMap<String, FamilyJob>,
    /// Largest accepted request body.
    pub body_limit: u64,
    /// Largest accepted input image, in pixels.
    pub max_input_pixels: u64,
    /// The largest image a request may carry, in bytes (`x-limits.max-input-bytes`).
    pub max_input_bytes: Option<u64>,
    /// How long output URLs live: the provider's TTL, or the job TTL if shorter.
    pub url_ttl: Duration,
    /// The request fields the answer templates read (`request.*`): what a job keeps of its request.
    pub request_pointers: Vec<String>,
    /// Where each result operation takes the job id.
    id_places: HashMap<String, IdPlace>,
    pub settings: Settings,
}

impl ProviderInfo {
    fn new(provider: Provider, config: &Config) -> ProviderInfo {
        let spec = Spec::embedded(provider);
        let extensions = spec.extensions();
        let job = &extensions.job;
        let families = job.families();
        let create_schemas = families
            .iter()
            .flat_map(|family| family.creates.iter())
            .map(|create| {
                let schema = spec
                    .request_schema_as(create, Reading::Accepting)
                    .unwrap_or_else(|| panic!("{provider}: create {create} has no request body"))
                    .unwrap_or_else(|e| {
                        panic!("{provider}: the request schema of {create} does not compile: {e}")
                    });
                (create.clone(), schema)
            })
            .collect();
        let family_jobs = families
            .iter()
            .map(|family| {
                let job = job.for_family(family);
                let stages = job.stages.clone().unwrap_or_else(|| {
                    panic!("{provider}: x-job (family {}) has no stages", family.name)
                });
                (family.name.clone(), FamilyJob { job, stages })
            })
            .collect();
        let emulator = extensions
            .emulator
            .as_ref()
            .unwrap_or_else(|| panic!("{provider}: the spec has no x-emulator"));
        let answers = emulator
            .answers
            .as_ref()
            .unwrap_or_else(|| panic!("{provider}: the spec has no x-emulator.answers"));
        let limits = &extensions.limits;
        let body_limit = limits.max_input_bytes.map_or(DEFAULT_BODY_LIMIT, |bytes| {
            bytes.div_ceil(3) * 4 + JSON_ROOM
        });
        let url_ttl = limits
            .image_url_ttl_seconds
            .or(limits.temp_link_ttl_seconds)
            .map_or(config.job_ttl, |ttl| {
                Duration::from_secs(ttl).min(config.job_ttl)
            });
        let webhook_templates = answers
            .webhook
            .iter()
            .flat_map(|w| std::iter::once(&w.body).chain(w.headers.values()));
        let family_templates = answers.families.values().flat_map(|f| {
            [f.created.as_ref(), f.result.as_ref()]
                .into_iter()
                .flatten()
        });
        let request_pointers = request_pointers(
            [answers.created(), &answers.result]
                .into_iter()
                .chain(family_templates)
                .chain(webhook_templates),
        );
        let id_places = families
            .iter()
            .flat_map(|family| family.results.iter())
            .filter_map(|result| Some((result.clone(), spec.id_place(result)?)))
            .collect();
        ProviderInfo {
            provider,
            spec,
            job,
            answers,
            render_defaults: &emulator.render_defaults,
            create_schemas,
            family_jobs,
            body_limit,
            max_input_pixels: limits.max_input_pixels.unwrap_or(config.pixel_budget),
            max_input_bytes: limits.max_input_bytes,
            url_ttl,
            request_pointers,
            id_places,
            settings: settings(provider, config, job, answers),
        }
    }

    /// Where create operation `create` carries `feature` (the spec's feature view).
    pub fn feature(&self, create: &str, feature: Feature) -> Option<&'static FeatureField> {
        self.spec.feature(create, feature)
    }

    /// The request schema of create operation `create` as the provider accepts it (the docs'
    /// create's for an operation that creates nothing).
    pub fn create_schema(&self, create: &str) -> &CompiledSchema {
        self.create_schemas
            .get(create)
            .or_else(|| self.create_schemas.get(&self.job.create))
            .expect("the docs' create has a request schema")
    }

    /// The name of the API family `operation` belongs to (`docs` for an operation of none).
    pub fn family_name(&self, operation: &str) -> String {
        self.job
            .family_of(operation)
            .map_or_else(|| DOCS_FAMILY.to_owned(), |family| family.name)
    }

    /// `x-job` as family `name` reads it (the docs' family for an unknown name).
    pub fn family_job(&self, name: &str) -> &FamilyJob {
        self.family_jobs
            .get(name)
            .or_else(|| self.family_jobs.get(DOCS_FAMILY))
            .expect("the docs' family is always known")
    }

    /// The result operation of the family `operation` belongs to (the docs' result for an
    /// operation of none).
    pub fn family_result(&self, operation: &str) -> String {
        self.job
            .family_of(operation)
            .map_or_else(|| self.job.result.clone(), |family| family.result)
    }

    /// Where result operation `result` takes the job id (from the spec's links).
    pub fn id_place(&self, result: &str) -> Option<&IdPlace> {
        self.id_places.get(result)
    }

    /// The absolute URL of `job`'s result through the result operation of its family: the
    /// operation's path with the id in its path parameter, or in its query parameter.
    pub fn result_url(&self, job: &Job) -> String {
        let operation = &job.request.result_operation;
        let path = self
            .spec
            .operation(operation)
            .map_or_else(String::new, |op| op.path.clone());
        let url = format!("{}{path}", job.request.base_url);
        match self.id_place(operation) {
            Some(IdPlace::Path(name)) => url.replace(&format!("{{{name}}}"), &job.id),
            Some(IdPlace::Query(name)) => match reqwest::Url::parse(&url) {
                Ok(mut parsed) => {
                    parsed.query_pairs_mut().append_pair(name, &job.id);
                    parsed.to_string()
                }
                Err(_) => format!("{url}?{name}={}", job.id),
            },
            Some(IdPlace::Body(_)) | None => url,
        }
    }

    /// A new job id in the spec's style; `number` is the next of the run's sequence.
    pub fn new_id(&self, number: impl FnOnce() -> u64) -> String {
        let random = super::images::random_u64;
        match self.answers.job_id {
            JobIdStyle::Hex32 => format!("{:016x}{:016x}", random(), random()),
            JobIdStyle::Sequence => number().to_string(),
            JobIdStyle::Uuid4 => {
                let (a, b) = (random(), random());
                format!(
                    "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xfff,
                    0x8000 | (b >> 48) & 0x3fff,
                    b & 0xffff_ffff_ffff
                )
            }
        }
    }
}

/// `provider`'s settings: the run's where it sets them, else its spec's.
fn settings(provider: Provider, config: &Config, job: &JobInfo, answers: &Answers) -> Settings {
    let set = config.settings(provider);
    let rate = job_rate_limits(provider);
    let limited = |value: Option<u32>| value.filter(|_| config.rate_limit);
    Settings {
        answer_style: match job.style {
            JobStyle::SyncOrQueued => set.answer_style.unwrap_or_default(),
            JobStyle::Poll => AnswerStyle::Queued,
        },
        sync_grace: Duration::from_secs(answers.sync_grace_seconds.unwrap_or(0)),
        images_per_minute: limited(set.images_per_minute.or(rate.images_per_minute)),
        queued_requests: limited(set.queued_requests.or(rate.queued_requests)),
        retry_after_secs: set
            .retry_after_secs
            .or(rate.retry_after_seconds)
            .unwrap_or(0),
        webhook_retries: set
            .webhook_retries
            .or(answers.webhook.as_ref().map(|w| w.retries))
            .unwrap_or(0),
    }
}

fn job_rate_limits(provider: Provider) -> img2img_specs::extensions::RateLimits {
    Spec::embedded(provider)
        .extensions()
        .limits
        .rate_limit
        .clone()
        .unwrap_or_default()
}

/// Every provider served.
#[derive(Debug)]
pub(crate) struct Catalog {
    providers: HashMap<Provider, ProviderInfo>,
}

impl Catalog {
    pub fn new(providers: &[Provider], config: &Config) -> Catalog {
        Catalog {
            providers: providers
                .iter()
                .map(|p| (*p, ProviderInfo::new(*p, config)))
                .collect(),
        }
    }

    /// What the emulator knows of `provider` (one it serves).
    pub fn get(&self, provider: Provider) -> &ProviderInfo {
        &self.providers[&provider]
    }

    /// The providers served, in the order of their ids.
    pub fn providers(&self) -> Vec<Provider> {
        let mut providers: Vec<Provider> = self.providers.keys().copied().collect();
        providers.sort();
        providers
    }

    /// The provider served that owns `path`, a path no operation has: the only one served, else
    /// the one with an operation path sharing the most leading segments with it (`{param}`
    /// segments match any), if exactly one does.
    pub fn owner_of(&self, path: &str) -> Option<Provider> {
        if self.providers.len() == 1 {
            return self.providers.keys().next().copied();
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let shared = |template: &str| {
            template
                .split('/')
                .filter(|s| !s.is_empty())
                .zip(&segments)
                .take_while(|(t, s)| t.starts_with('{') || t == *s)
                .count()
        };
        let mut best: Vec<(usize, Provider)> = self
            .providers
            .values()
            .map(|info| {
                let most = info
                    .spec
                    .operations()
                    .iter()
                    .map(|op| shared(&op.path))
                    .max()
                    .unwrap_or(0);
                (most, info.provider)
            })
            .filter(|(most, _)| *most > 0)
            .collect();
        best.sort_by_key(|(most, _)| std::cmp::Reverse(*most));
        match best.as_slice() {
            [(most, provider), rest @ ..] if rest.first().is_none_or(|(next, _)| next < most) => {
                Some(*provider)
            }
            _ => None,
        }
    }

    /// The shortest output URL TTL of any provider served.
    pub fn shortest_url_ttl(&self) -> Option<Duration> {
        self.providers.values().map(|p| p.url_ttl).min()
    }
}
