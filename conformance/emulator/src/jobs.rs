//! Jobs: what was asked, where each one is in its lifecycle (queued, processing, succeeded or
//! failed), the bounded store that holds them until their TTL ends, and [`Jobs`], the part of an
//! emulator that keeps them (with the rate windows and the id sequence).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use img2img_specs::Provider;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::images::{Format, RenderParams};
use super::rate_limit::RateWindows;
use super::sync::lock;

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    Queued,
    Processing,
    Succeeded,
    Failed(String),
}

impl Phase {
    pub fn is_terminal(&self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed(_))
    }
}

/// A webhook test mode (`x-feature: webhook_test_mode`): send a mock event with this outcome
/// instead of running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestMode {
    Succeed,
    Fail,
}

/// What a job was asked to do, after the spec's defaults were applied.
#[derive(Debug, Clone)]
pub(crate) struct JobRequest {
    /// Size, seed (of image 0), prompt, strength... of the outputs.
    pub render: RenderParams,
    pub count: u32,
    pub format: Format,
    /// Mixed into every seed by the `ignore_seed` defect (0 otherwise).
    pub salt: u64,
    pub inline_base64: bool,
    pub nsfw_detection: bool,
    pub webhook: Option<String>,
    pub test_mode: Option<TestMode>,
    /// A reason the job must fail with (fault `fail=`).
    pub fail: Option<String>,
    /// `http://host:port` the job was created through (its URLs use it).
    pub base_url: String,
    /// The result operation of the family the job was created through.
    pub result_operation: String,
    /// The name of that family (its answers and `x-job` words are the job's).
    pub family: String,
    /// The request fields the spec's answer templates read (`request.*`), and nothing else.
    pub fields: Value,
    /// The init image, when the request sent it as an http(s) URL.
    pub input_url: Option<String>,
}

/// One job. Cloning one is cheap (its request is shared), so that an answer can be built from a
/// copy without holding the job table's lock.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub id: Arc<str>,
    pub provider: Provider,
    pub key_hash: u64,
    pub request: Arc<JobRequest>,
    pub phase: Phase,
    pub created: Instant,
    pub created_wall: SystemTime,
    pub processing_started: Option<(Instant, SystemTime)>,
    pub finished: Option<(Instant, SystemTime)>,
    /// How long the outputs' URLs live, in seconds.
    pub url_ttl: Duration,
    /// How the webhook went (`job.webhook_status`).
    pub webhook_status: String,
    /// Total planned processing time (for eta and progress).
    pub processing: Duration,
    pub queued: Duration,
    pub done: Arc<watch::Sender<bool>>,
}

impl Job {
    /// Seconds until the job should end (0 once terminal).
    pub fn eta(&self, now: Instant) -> f64 {
        if self.phase.is_terminal() {
            return 0.0;
        }
        let end = match self.processing_started {
            Some((started, _)) => started + self.processing,
            None => self.created + self.queued + self.processing,
        };
        end.saturating_duration_since(now).as_secs_f64()
    }

    /// 0..100: 0 while queued, moving with time while processing (at most 99), 100 once ended.
    pub fn progress(&self, now: Instant) -> u32 {
        match (&self.phase, self.processing_started) {
            (Phase::Succeeded | Phase::Failed(_), _) => 100,
            (_, None) => 0,
            (_, Some((started, _))) => {
                if self.processing.is_zero() {
                    return 99;
                }
                let elapsed = now.saturating_duration_since(started).as_secs_f64();
                ((elapsed / self.processing.as_secs_f64()) * 100.0).clamp(0.0, 99.0) as u32
            }
        }
    }

    /// When the job (and its images) may be evicted: `job_ttl` after it ended; a job still
    /// running (slow, or stalled) is kept at least [`RUNNING_KEEP`] past its planned end, so a
    /// short TTL never makes a running job vanish under its poller.
    pub fn evict_at(&self, job_ttl: Duration) -> Instant {
        match self.finished {
            Some((finished, _)) => finished + job_ttl,
            None => self.created + self.queued + self.processing + job_ttl.max(RUNNING_KEEP),
        }
    }
}

/// The file name of output `index` of job `id`.
pub(crate) fn output_name(id: &str, index: u32, format: Format) -> String {
    format!("{id}-{index}.{}", format.ext())
}

/// Job id and output index of an output file name, if `name` has the form `{id}-{i}.{ext}`.
pub(crate) fn parse_output_name(name: &str) -> Option<(&str, u32, &str)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let (id, index) = stem.rsplit_once('-')?;
    Some((id, index.parse().ok()?, ext))
}

/// Least time a running job is kept past its planned end, whatever the job TTL.
pub(crate) const RUNNING_KEEP: Duration = Duration::from_secs(600);

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Why a job could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AdmitError {
    /// Every slot holds a running job.
    Full(usize),
    /// This key already has `limit` running jobs.
    QueuedLimit(u32),
}

/// The jobs, bounded in number; running jobs are counted per key as they start and end (no scan
/// of the table per request).
#[derive(Debug)]
pub(crate) struct JobStore {
    jobs: HashMap<Arc<str>, Job>,
    order: VecDeque<Arc<str>>,
    running: HashMap<(Provider, u64), u32>,
    max_jobs: usize,
}

impl JobStore {
    pub fn new(max_jobs: usize) -> Self {
        JobStore {
            jobs: HashMap::new(),
            order: VecDeque::new(),
            running: HashMap::new(),
            max_jobs: max_jobs.max(1),
        }
    }

    /// Adds a job, evicting the oldest finished job when full; returns the ids of evicted jobs
    /// (their images go too). With `queued_limit`, refuses when the key has that many running jobs.
    pub fn admit(
        &mut self,
        job: Job,
        queued_limit: Option<u32>,
    ) -> Result<Vec<Arc<str>>, AdmitError> {
        let owner = (job.provider, job.key_hash);
        if let Some(limit) = queued_limit
            && self.running.get(&owner).copied().unwrap_or(0) >= limit
        {
            return Err(AdmitError::QueuedLimit(limit));
        }
        let mut evicted = Vec::new();
        if self.jobs.len() >= self.max_jobs {
            let position = self
                .order
                .iter()
                .position(|id| self.jobs.get(id).is_none_or(|j| j.phase.is_terminal()));
            match position {
                Some(position) => {
                    if let Some(id) = self.order.remove(position) {
                        self.remove(&id);
                        evicted.push(id);
                    }
                }
                None => return Err(AdmitError::Full(self.max_jobs)),
            }
        }
        if !job.phase.is_terminal() {
            *self.running.entry(owner).or_insert(0) += 1;
        }
        self.order.push_back(Arc::clone(&job.id));
        self.jobs.insert(Arc::clone(&job.id), job);
        Ok(evicted)
    }

    pub fn get(&self, id: &str) -> Option<&Job> {
        self.jobs.get(id)
    }

    /// Changes job `id` (if held), keeping the count of running jobs per key right.
    pub fn update(&mut self, id: &str, change: impl FnOnce(&mut Job)) {
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        let was_running = !job.phase.is_terminal();
        change(job);
        if was_running && job.phase.is_terminal() {
            let owner = (job.provider, job.key_hash);
            self.release(owner);
        }
    }

    fn release(&mut self, owner: (Provider, u64)) {
        if let Some(count) = self.running.get_mut(&owner) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.running.remove(&owner);
            }
        }
    }

    fn remove(&mut self, id: &str) -> Option<Job> {
        let job = self.jobs.remove(id)?;
        if !job.phase.is_terminal() {
            self.release((job.provider, job.key_hash));
        }
        Some(job)
    }

    /// Removes the jobs whose TTL ended; returns their ids.
    pub fn sweep(&mut self, now: Instant, job_ttl: Duration) -> Vec<Arc<str>> {
        let expired: Vec<Arc<str>> = self
            .jobs
            .values()
            .filter(|job| job.evict_at(job_ttl) <= now)
            .map(|job| Arc::clone(&job.id))
            .collect();
        for id in &expired {
            self.remove(id);
        }
        if !expired.is_empty() {
            self.order.retain(|id| self.jobs.contains_key(id));
        }
        expired
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn running(&self) -> usize {
        self.running.values().map(|n| *n as usize).sum()
    }
}

/// The first number of the `sequence` id style.
const FIRST_NUMBER: u64 = 70_000_000;

/// The jobs of one emulator: the bounded table, the images created per key (for an
/// images-per-minute limit), and the next number of the `sequence` id style.
#[derive(Debug)]
pub(crate) struct Jobs {
    store: Mutex<JobStore>,
    rate: Mutex<RateWindows>,
    next_number: AtomicU64,
    /// The `forget_jobs` defect: answers see no job.
    forget: bool,
}

impl Jobs {
    pub fn new(max_jobs: usize, forget: bool) -> Jobs {
        Jobs {
            store: Mutex::new(JobStore::new(max_jobs)),
            rate: Mutex::new(RateWindows::default()),
            next_number: AtomicU64::new(FIRST_NUMBER),
            forget,
        }
    }

    /// A copy of job `id` for an answer, if it is held (none under the `forget_jobs` defect).
    pub fn snapshot(&self, id: &str) -> Option<Job> {
        if self.forget {
            return None;
        }
        self.get(id)
    }

    /// A copy of job `id`, if it is held.
    pub fn get(&self, id: &str) -> Option<Job> {
        lock(&self.store).get(id).cloned()
    }

    /// Changes job `id`, if it is held.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Job)) {
        lock(&self.store).update(id, change);
    }

    /// Adds a job (see [`JobStore::admit`]).
    pub fn admit(&self, job: Job, queued_limit: Option<u32>) -> Result<Vec<Arc<str>>, AdmitError> {
        lock(&self.store).admit(job, queued_limit)
    }

    /// Takes `images` from the allowance of `limit` images per minute of `key` at `provider`; on
    /// refusal, the seconds to wait.
    pub fn take_images(
        &self,
        provider: Provider,
        key: u64,
        images: u32,
        limit: u32,
        now: Instant,
    ) -> Result<(), u64> {
        lock(&self.rate).take((provider, key), images, limit, now)
    }

    /// The next number of the `sequence` id style.
    pub fn next_number(&self) -> u64 {
        self.next_number.fetch_add(1, Ordering::Relaxed)
    }

    /// Removes the jobs whose TTL ended; returns their ids.
    pub fn sweep(&self, now: Instant, job_ttl: Duration) -> Vec<Arc<str>> {
        lock(&self.store).sweep(now, job_ttl)
    }

    /// Jobs held, and of those, not yet finished.
    pub fn counts(&self) -> (usize, usize) {
        let store = lock(&self.store);
        (store.len(), store.running())
    }
}
