//! What a recording was made with, from and back to a run's options.

use std::time::Duration;

use img2img_specs::Provider;

use super::{LIVE_SHRINK_ITERS, RunOptions};
use crate::cassette::{Given, Recording};
use crate::checks::CheckId;

impl Recording {
    /// What a run made with `options` records.
    pub fn of(options: &RunOptions) -> Recording {
        Recording {
            providers: options
                .providers
                .iter()
                .map(|p| p.id().to_owned())
                .collect(),
            checks: options.checks.iter().map(|c| c.id().to_owned()).collect(),
            seed: options.seed,
            cases: options.cases,
            max_requests: options.max_requests,
            max_shrink_iters: options.max_shrink_iters.unwrap_or(LIVE_SHRINK_ITERS),
            job_ttl_secs: options.job_ttl.map(|t| t.as_secs()),
            recorded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Sets `options` to replay this recording: its providers, checks, seed, cases, budget,
    /// shrink steps and job TTL. A value the user gave (`given`) must be the recorded one: a
    /// replay runs what was recorded, or it would ask for exchanges nobody recorded.
    pub fn apply(&self, options: &mut RunOptions, given: &Given) -> Result<(), String> {
        let differs = |flag: &str, asked: String, recorded: String| {
            Err(format!(
                "--replay runs what was recorded: it was recorded with {flag} {recorded}, not {asked} (leave {flag} out)"
            ))
        };
        let providers = self
            .providers
            .iter()
            .map(|id| Provider::from_id(id).map_err(|e| format!("{}: {e}", Recording::FILE)))
            .collect::<Result<Vec<_>, _>>()?;
        let checks = self
            .checks
            .iter()
            .map(|id| {
                id.parse::<CheckId>()
                    .map_err(|e| format!("{}: {e}", Recording::FILE))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ids = |list: &[Provider]| list.iter().map(|p| p.id()).collect::<Vec<_>>().join(" ");
        if !given.providers.is_empty() && given.providers != providers {
            return differs("--provider", ids(&given.providers), ids(&providers));
        }
        let names = |list: &[CheckId]| list.iter().map(|c| c.id()).collect::<Vec<_>>().join(" ");
        if !given.checks.is_empty() && given.checks != checks {
            return differs("--check", names(&given.checks), names(&checks));
        }
        if let Some(seed) = given.seed.filter(|s| *s != self.seed) {
            return differs("--seed", seed.to_string(), self.seed.to_string());
        }
        if let Some(cases) = given.cases.filter(|c| *c != self.cases) {
            return differs("--cases", cases.to_string(), self.cases.to_string());
        }
        if let Some(max) = given.max_requests.filter(|m| *m != self.max_requests) {
            return differs(
                "--max-requests",
                max.to_string(),
                self.max_requests.to_string(),
            );
        }
        options.providers = providers;
        options.checks = checks;
        options.seed = self.seed;
        options.cases = self.cases;
        options.max_requests = self.max_requests;
        options.max_shrink_iters = Some(self.max_shrink_iters);
        options.job_ttl = self.job_ttl_secs.map(Duration::from_secs);
        Ok(())
    }
}
