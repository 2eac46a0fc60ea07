//! The parts of one emulator, shared by its requests, its job tasks and its sweeper, each with its
//! own methods; handlers take the part they need as an axum sub-state ([`FromRef`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::FromRef;
use img2img_specs::Provider;

use super::auth::Keys;
use super::catalog::Catalog;
use super::config::Config;
use super::faults::Faults;
use super::journal::Journal;
use super::lifecycle::Runner;
use super::origin::Origin;
use super::rendering::Images;
use super::request::Rules;

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

/// Requests served.
#[derive(Debug, Default)]
pub(crate) struct Requests(AtomicU64);

impl Requests {
    pub fn count(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// One emulator: its parts, shared (a clone is one reference count).
#[derive(Debug, Clone)]
pub(crate) struct App(Arc<Parts>);

impl std::ops::Deref for App {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// The parts of one emulator.
#[derive(Debug)]
pub(crate) struct Parts {
    /// The providers served, read from their specs.
    pub catalog: Arc<Catalog>,
    /// Jobs, images and webhooks.
    pub runner: Runner,
    pub keys: Arc<Keys>,
    pub faults: Arc<Faults>,
    pub origin: Arc<Origin>,
    pub journal: Option<Journal>,
    pub requests: Arc<Requests>,
    /// The run's rules for requests (pixel budget, image URLs, defects).
    pub rules: Rules,
}

impl App {
    pub fn new(providers: &[Provider], config: Config) -> App {
        let catalog = Arc::new(Catalog::new(providers, &config));
        let fault_keys = config.key_faults.iter().map(|f| f.key.clone());
        App(Arc::new(Parts {
            keys: Arc::new(Keys::new(
                &config.api_keys,
                fault_keys,
                config.defects.skip_auth,
            )),
            runner: Runner::new(Arc::clone(&catalog), &config),
            catalog,
            journal: config.journal.then(|| {
                let secrets = config
                    .api_keys
                    .iter()
                    .chain(config.key_faults.iter().map(|f| &f.key))
                    .cloned()
                    .collect();
                Journal::new(secrets)
            }),
            origin: Arc::default(),
            requests: Arc::default(),
            rules: Rules {
                pixel_budget: config.pixel_budget,
                strict_images: config.strict_images,
                defects: config.defects,
            },
            faults: Arc::new(Faults::new(config.faults, config.key_faults)),
        }))
    }

    pub fn stats(&self) -> Stats {
        let (jobs_live, jobs_running) = self.runner.jobs.counts();
        let (images_stored, bytes_stored) = self.runner.images.counts();
        let (webhook_attempts, webhooks_delivered) = self.runner.webhooks.counts();
        Stats {
            requests: self.requests.0.load(Ordering::Relaxed),
            jobs_live,
            jobs_running,
            images_stored,
            bytes_stored,
            webhook_attempts,
            webhooks_delivered,
        }
    }
}

impl FromRef<App> for Arc<Images> {
    fn from_ref(app: &App) -> Self {
        Arc::clone(&app.runner.images)
    }
}
