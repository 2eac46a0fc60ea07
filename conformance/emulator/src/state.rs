//! The state one emulator shares between its requests, its job tasks and its sweeper.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use img2img_specs::extensions::{Answers, JobInfo, RenderDefaults, Stages};
use img2img_specs::{CompiledSchema, Feature, FeatureField, Provider, Reading, Spec};
use tokio::time::Instant;

use super::config::Config;
use super::jobs::JobStore;
use super::journal::Journal;
use super::rate_limit::RateWindows;
use super::rendering::Renderer;
use super::storage::ImageStore;

/// Counters and sizes of a running emulator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests served (every route, faults and errors included).
    pub requests: u64,
    /// Jobs held (running or finished, until their TTL ends).
    pub jobs_live: usize,
    /// Jobs not yet finished.
    pub jobs_running: usize,
    /// Images held: output URLs that serve (each rendered on its first download).
    pub images_stored: usize,
    /// Bytes the image store holds: the encoded images rendered so far and the decoded inputs
    /// they are made from (bounded by [`Config::max_stored_bytes`]).
    pub bytes_stored: u64,
    /// Webhook POSTs attempted (retries included).
    pub webhook_attempts: u64,
    /// Webhooks acknowledged with a 2xx.
    pub webhooks_delivered: u64,
}

/// What the emulator reads from one provider's spec, once. The embedded specs carry every
/// extension read here (the specs crate's tests check it); a spec without one is a build of this
/// crate that cannot run, hence the panics.
#[derive(Debug)]
pub(crate) struct ProviderInfo {
    pub spec: &'static Spec,
    /// `x-job`: every family's create and result operations.
    pub job: &'static JobInfo,
    /// The create request schema as the provider accepts it ([`Reading::Accepting`]).
    pub create_schema: Arc<CompiledSchema>,
    /// The status word of each stage (`x-job.stages`).
    pub stages: &'static Stages,
    /// What to render with where the request and the spec say nothing (`x-emulator`).
    pub render_defaults: &'static RenderDefaults,
    /// Largest accepted request body.
    pub body_limit: u64,
    /// Largest accepted input image, in pixels.
    pub max_input_pixels: u64,
    /// How long output URLs live (`x-limits`), if the spec says.
    pub url_ttl: Option<Duration>,
    /// What the emulator answers (`x-emulator.answers`).
    pub answers: &'static Answers,
    /// The request fields the answer templates read.
    pub request_pointers: Vec<String>,
}

/// Cap on request bodies where the spec gives no `max-input-bytes`: 20 MiB.
pub const DEFAULT_BODY_LIMIT: u64 = 20 * 1024 * 1024;
/// Room for the rest of the JSON beside a maximal base64 image: 1 MiB.
const JSON_ROOM: u64 = 1024 * 1024;

impl ProviderInfo {
    fn new(provider: Provider, pixel_budget: u64) -> ProviderInfo {
        let spec = Spec::embedded(provider);
        let job = &spec.extensions().job;
        let create_schema = spec
            .request_schema_as(&job.create, Reading::Accepting)
            .unwrap_or_else(|| {
                panic!(
                    "{provider}: x-job.create {} has no request body",
                    job.create
                )
            })
            .unwrap_or_else(|e| {
                panic!("{provider}: the create request schema does not compile: {e}")
            });
        let limits = &spec.extensions().limits;
        let body_limit = limits.max_input_bytes.map_or(DEFAULT_BODY_LIMIT, |bytes| {
            bytes.div_ceil(3) * 4 + JSON_ROOM
        });
        let url_ttl = limits
            .image_url_ttl_seconds
            .or(limits.temp_link_ttl_seconds)
            .map(Duration::from_secs);
        let answers = spec
            .extensions()
            .emulator
            .as_ref()
            .and_then(|e| e.answers.as_ref())
            .unwrap_or_else(|| panic!("{provider}: the spec has no x-emulator.answers"));
        let request_pointers = crate::answers::request_pointers(
            [answers.created(), &answers.result].into_iter().chain(
                answers
                    .webhook
                    .iter()
                    .flat_map(|w| std::iter::once(&w.body).chain(w.headers.values())),
            ),
        );
        ProviderInfo {
            answers,
            request_pointers,
            spec,
            job,
            create_schema,
            stages: job
                .stages
                .as_ref()
                .unwrap_or_else(|| panic!("{provider}: the spec's x-job has no stages")),
            render_defaults: spec
                .extensions()
                .emulator
                .as_ref()
                .map(|e| &e.render_defaults)
                .unwrap_or_else(|| {
                    panic!("{provider}: the spec has no x-emulator.render-defaults")
                }),
            body_limit,
            max_input_pixels: limits.max_input_pixels.unwrap_or(pixel_budget),
            url_ttl,
        }
    }

    /// Where the create request carries `feature` (the spec's feature view).
    pub fn feature(&self, feature: Feature) -> Option<&'static FeatureField> {
        self.spec.feature(&self.job.create, feature)
    }
}

/// Everything shared.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: Config,
    pub providers: HashMap<Provider, ProviderInfo>,
    pub jobs: Mutex<JobStore>,
    pub images: Mutex<ImageStore>,
    pub renderer: Renderer,
    pub rate: Mutex<RateWindows>,
    pub fault_counters: Vec<AtomicU64>,
    pub requests: AtomicU64,
    pub webhook_attempts: AtomicU64,
    pub webhooks_delivered: AtomicU64,
    pub next_numeric_id: AtomicU64,
    pub bound: OnceLock<SocketAddr>,
    pub webhook_client: OnceLock<reqwest::Client>,
    pub journal: Option<Journal>,
    sweeper_started: AtomicBool,
}

/// Locks a mutex, ignoring poisoning (no code holding these locks can panic halfway through a
/// change that matters).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn new(providers: &[Provider], config: Config) -> Arc<Shared> {
        let infos = providers
            .iter()
            .map(|p| (*p, ProviderInfo::new(*p, config.pixel_budget)))
            .collect();
        if config.api_keys.is_empty() && !config.defects.skip_auth {
            tracing::warn!(
                "no API key configured: any non-empty key is accepted (set --api-key or Config::api_keys)"
            );
        }
        Arc::new(Shared {
            jobs: Mutex::new(JobStore::new(config.max_jobs)),
            images: Mutex::new(ImageStore::new(config.max_stored_bytes)),
            renderer: Renderer::default(),
            rate: Mutex::new(RateWindows::default()),
            fault_counters: config.faults.iter().map(|_| AtomicU64::new(0)).collect(),
            requests: AtomicU64::new(0),
            webhook_attempts: AtomicU64::new(0),
            webhooks_delivered: AtomicU64::new(0),
            next_numeric_id: AtomicU64::new(70_000_000),
            bound: OnceLock::new(),
            webhook_client: OnceLock::new(),
            sweeper_started: AtomicBool::new(false),
            journal: config.journal.then(|| {
                let secrets = config
                    .api_keys
                    .iter()
                    .chain(config.key_faults.iter().map(|f| &f.key))
                    .cloned()
                    .collect();
                Journal::new(secrets)
            }),
            providers: infos,
            config,
        })
    }

    pub fn info(&self, provider: Provider) -> &ProviderInfo {
        &self.providers[&provider]
    }

    pub fn stats(&self) -> Stats {
        let (jobs_live, jobs_running) = {
            let jobs = lock(&self.jobs);
            (jobs.len(), jobs.running())
        };
        let (images_stored, bytes_stored) = {
            let images = lock(&self.images);
            (images.len(), images.bytes())
        };
        Stats {
            requests: self.requests.load(Ordering::Relaxed),
            jobs_live,
            jobs_running,
            images_stored,
            bytes_stored,
            webhook_attempts: self.webhook_attempts.load(Ordering::Relaxed),
            webhooks_delivered: self.webhooks_delivered.load(Ordering::Relaxed),
        }
    }

    /// How long an output URL of `provider` lives: the provider's TTL, or the job TTL if shorter.
    pub fn url_ttl(&self, provider: Provider) -> Duration {
        let job_ttl = self.config.job_ttl;
        self.info(provider)
            .url_ttl
            .map_or(job_ttl, |ttl| ttl.min(job_ttl))
    }

    /// Evicts jobs and images whose TTL ended.
    pub fn sweep(&self, now: Instant) {
        if self.config.defects.keep_expired_jobs {
            return;
        }
        let jobs = lock(&self.jobs).sweep(now, self.config.job_ttl);
        let mut store = lock(&self.images);
        for job in jobs {
            store.remove(&job);
        }
        store.sweep(now);
    }

    /// Starts the background sweeper once (from inside a tokio runtime); it stops when the
    /// emulator is dropped.
    pub fn ensure_sweeper(self: &Arc<Self>) {
        if self.sweeper_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak: Weak<Shared> = Arc::downgrade(self);
        let shortest = self
            .providers
            .keys()
            .map(|p| self.url_ttl(*p))
            .min()
            .unwrap_or(self.config.job_ttl);
        let period = (shortest / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                shared.sweep(Instant::now());
            }
        });
    }

    /// The `host:port` forms under which this emulator is reached (its own image URLs).
    pub fn own_authorities(&self, host_header: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(host) = host_header {
            out.push(host.to_owned());
        }
        if let Some(addr) = self.bound.get() {
            out.push(addr.to_string());
            if addr.ip().is_loopback() {
                out.push(format!("localhost:{}", addr.port()));
                out.push(format!("127.0.0.1:{}", addr.port()));
            }
        }
        out
    }
}
