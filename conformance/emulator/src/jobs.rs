//! Jobs: what was asked, where each one is in its lifecycle (queued, processing, succeeded or
//! failed), and the bounded store that holds them until their TTL ends.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use img2img_specs::Provider;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::images::{Format, RenderParams};

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

/// Novita's `extra.webhook.test_mode`: send a mock event with this outcome instead of running.
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
    /// Provider-specific echo (model name, track id, scheduler...).
    pub echo: Value,
}

/// One job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub id: String,
    pub provider: Provider,
    pub key_hash: u64,
    pub request: JobRequest,
    pub phase: Phase,
    pub created: Instant,
    pub created_wall: SystemTime,
    pub processing_started: Option<(Instant, SystemTime)>,
    pub finished: Option<(Instant, SystemTime)>,
    /// File names of the outputs (`{id}-{i}.{ext}`), once succeeded.
    pub outputs: Vec<String>,
    /// How long the outputs' URLs live, in seconds.
    pub url_ttl: Duration,
    /// How the webhook went (ModelsLab's `webhook_status`).
    pub webhook_status: String,
    /// Total planned processing time (for eta and progress).
    pub processing: Duration,
    pub queued: Duration,
    pub done: Arc<watch::Sender<bool>>,
}

impl Job {
    /// Output file names, known from the start (ModelsLab's `future_links`).
    pub fn output_names(&self) -> Vec<String> {
        (0..self.request.count)
            .map(|i| format!("{}-{i}.{}", self.id, self.request.format.ext()))
            .collect()
    }

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

/// The jobs, bounded in number.
#[derive(Debug)]
pub(crate) struct JobStore {
    jobs: HashMap<String, Job>,
    order: VecDeque<String>,
    max_jobs: usize,
}

impl JobStore {
    pub fn new(max_jobs: usize) -> Self {
        JobStore {
            jobs: HashMap::new(),
            order: VecDeque::new(),
            max_jobs: max_jobs.max(1),
        }
    }

    /// Adds a job, evicting the oldest finished jobs when full; returns the file names of the
    /// images of evicted jobs. With `queued_limit`, refuses when the key has that many running jobs.
    pub fn admit(
        &mut self,
        job: Job,
        queued_limit: Option<u32>,
    ) -> Result<Vec<String>, AdmitError> {
        if let Some(limit) = queued_limit {
            let running = self
                .jobs
                .values()
                .filter(|j| j.key_hash == job.key_hash && j.provider == job.provider)
                .filter(|j| !j.phase.is_terminal())
                .count();
            if running >= limit as usize {
                return Err(AdmitError::QueuedLimit(limit));
            }
        }
        let mut evicted = Vec::new();
        if self.jobs.len() >= self.max_jobs {
            let position = self
                .order
                .iter()
                .position(|id| self.jobs.get(id).is_none_or(|j| j.phase.is_terminal()));
            match position {
                Some(position) => {
                    if let Some(id) = self.order.remove(position)
                        && let Some(old) = self.jobs.remove(&id)
                    {
                        evicted.extend(old.outputs);
                    }
                }
                None => return Err(AdmitError::Full(self.max_jobs)),
            }
        }
        self.order.push_back(job.id.clone());
        self.jobs.insert(job.id.clone(), job);
        Ok(evicted)
    }

    pub fn get(&self, id: &str) -> Option<&Job> {
        self.jobs.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Job> {
        self.jobs.get_mut(id)
    }

    /// Removes the jobs whose TTL ended; returns their image file names.
    pub fn sweep(&mut self, now: Instant, job_ttl: Duration) -> Vec<String> {
        let expired: Vec<String> = self
            .jobs
            .values()
            .filter(|job| job.evict_at(job_ttl) <= now)
            .map(|job| job.id.clone())
            .collect();
        let mut images = Vec::new();
        for id in &expired {
            if let Some(job) = self.jobs.remove(id) {
                images.extend(job.outputs);
            }
        }
        if !expired.is_empty() {
            self.order.retain(|id| self.jobs.contains_key(id));
        }
        images
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn running(&self) -> usize {
        self.jobs
            .values()
            .filter(|j| !j.phase.is_terminal())
            .count()
    }
}
