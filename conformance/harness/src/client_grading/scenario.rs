//! Scenarios: named emulator configurations a client runs under, and what the grader expects of
//! the job in each. The built-in ones ([`builtin`]) are written in the same JSON a scenario file
//! (`--scenario-file FILE`) uses:
//!
//! ```json
//! {"scenarios": [{
//!   "name": "slow-5s",
//!   "description": "queued 2 s, processing 3 s",
//!   "expect": {"job": "success", "downloads": true},
//!   "emulator": {"latency_ms": {"queued": 2000, "processing": 3000}, "acme_mode": "queued",
//!                "faults": [{"operation": "x-job.result", "times": 1, "fault": "status=503"}]}
//! }]}
//! ```
//!
//! `emulator` is an emulator scenario (the `emulator --scenario` format: latency, modes such as
//! `<id>_mode` for the provider of `specs/<id>.yaml`, faults, defects, TTLs); in its fault rules, `x-job.create` and `x-job.result` stand for the provider's
//! create and result operations (from its spec's `x-job`). `expect.job` is `success`, `failure`
//! (with the `reason` the client must print), `never_ends` (the client must give up) or `any`;
//! `downloads: true` asks that the images be fetched before their URLs expire.

use std::collections::BTreeSet;

use img2img_emulator::{Config, Scenario};
use img2img_specs::ApiKey;
use serde::Deserialize;
use serde_json::Value;

/// The built-in scenarios, as JSON.
const BUILTIN: &str = include_str!("scenarios.json");

/// What the job does under a scenario, and so which checks apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// It succeeds.
    #[default]
    Success,
    /// It ends in the provider's failure status, with [`Expect::reason`].
    Failure,
    /// It never reaches a terminal status.
    NeverEnds,
    /// Whatever the client makes of it (e.g. its create answer was lost).
    Any,
}

/// What the grader expects under a scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// How the job ends.
    #[serde(default)]
    pub job: JobOutcome,
    /// The provider's failure reason the client must print (with `job: failure`).
    #[serde(default)]
    pub reason: Option<String>,
    /// Whether the client must download the images before their URLs expire.
    #[serde(default)]
    pub downloads: bool,
}

/// One scenario.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientScenario {
    /// Its name (`happy`, `stuck`...): letters, digits, `-` and `_`.
    pub name: String,
    /// What it does to the client, in one line.
    pub description: String,
    /// What the grader expects.
    #[serde(default)]
    pub expect: Expect,
    /// The emulator's configuration (the `emulator --scenario` format).
    #[serde(default)]
    pub emulator: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    scenarios: Vec<ClientScenario>,
}

/// A scenario that cannot be used, naming the scenario and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The text is not a scenario file.
    #[error("{source_name}: not a scenario file: {message}")]
    Syntax {
        /// The file (or `built-in`).
        source_name: String,
        /// What the parser said, with the line and column.
        message: String,
    },
    /// A scenario breaks a rule of the format.
    #[error("scenario {name:?}: {problem}")]
    Invalid {
        /// The scenario.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// No scenario has this name.
    #[error("no scenario {name:?}; known: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names there are, comma-separated.
        known: String,
    },
}

/// The built-in scenarios: `happy`, `slow-queue`, `job-fails`, `rate-limited`, `flaky-polls`,
/// `create-dropped`, `short-ttl`, `stuck`.
pub fn builtin() -> Vec<ClientScenario> {
    parse(BUILTIN, "built-in").expect("the built-in scenarios are valid (a unit test checks)")
}

/// Reads a scenario file's text; `source_name` names it in errors.
pub fn parse(text: &str, source_name: &str) -> Result<Vec<ClientScenario>, ScenarioError> {
    let file: ScenarioFile = serde_json::from_str(text).map_err(|e| ScenarioError::Syntax {
        source_name: source_name.to_owned(),
        message: e.to_string(),
    })?;
    let mut seen = BTreeSet::new();
    for scenario in &file.scenarios {
        scenario.check()?;
        if !seen.insert(scenario.name.clone()) {
            return Err(scenario.invalid("the name is used twice"));
        }
    }
    Ok(file.scenarios)
}

/// The scenarios named in `names`, in that order, from `known`; every one when `names` is empty.
pub fn select(
    known: &[ClientScenario],
    names: &[String],
) -> Result<Vec<ClientScenario>, ScenarioError> {
    if names.is_empty() {
        return Ok(known.to_vec());
    }
    names
        .iter()
        .map(|name| {
            known
                .iter()
                .find(|s| &s.name == name)
                .cloned()
                .ok_or_else(|| ScenarioError::Unknown {
                    name: name.clone(),
                    known: known
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        })
        .collect()
}

impl ClientScenario {
    fn invalid(&self, problem: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            name: self.name.clone(),
            problem: problem.into(),
        }
    }

    fn check(&self) -> Result<(), ScenarioError> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(self.invalid("the name must be letters, digits, '-' or '_'"));
        }
        match (self.expect.job, &self.expect.reason) {
            (JobOutcome::Failure, None) => {
                return Err(self.invalid(
                    "expect.job = failure needs expect.reason (the text the client must print)",
                ));
            }
            (JobOutcome::Failure, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(self.invalid("expect.reason is only for expect.job = failure"));
            }
        }
        // The emulator must be able to read it, faults included.
        self.config("sk-scenario-check")?;
        Ok(())
    }

    /// The emulator scenario (its fault rules' `x-job.create` / `x-job.result` name every API
    /// family's create and result operations, as the emulator reads them).
    fn emulator_scenario(&self) -> Result<Scenario, ScenarioError> {
        let emulator = match &self.emulator {
            Value::Null => Value::Object(Default::default()),
            other => other.clone(),
        };
        if emulator.get("api_keys").is_some() {
            return Err(self
                .invalid("emulator.api_keys is set by the grader (the key it gives the command)"));
        }
        Scenario::parse(&emulator.to_string()).map_err(|e| self.invalid(format!("emulator: {e}")))
    }

    /// The emulator configuration, accepting only `key`, with the journal on.
    pub fn config(&self, key: &str) -> Result<Config, ScenarioError> {
        let base = Config {
            api_keys: vec![ApiKey::new(key)],
            journal: true,
            ..Config::default()
        };
        self.emulator_scenario()?
            .apply(base)
            .map_err(|e| self.invalid(format!("emulator: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use img2img_emulator::Fault;
    use img2img_specs::{Provider, Spec};

    #[test]
    fn the_builtin_scenarios_parse_and_resolve_the_job_operations() {
        let all = builtin();
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "happy",
                "slow-queue",
                "job-fails",
                "rate-limited",
                "flaky-polls",
                "create-dropped",
                "short-ttl",
                "stuck"
            ]
        );
        for provider in Provider::all() {
            let job = &Spec::embedded(provider).extensions().job;
            let scenario = select(&all, &["create-dropped".into()]).unwrap().remove(0);
            let config = scenario.config("sk-x").unwrap();
            assert!(config.journal);
            assert!(config.faults[0].applies_to(provider, &job.create));
            assert!(!config.faults[0].applies_to(provider, &job.result));
            assert_eq!(config.faults[0].fault, Fault::DropAfter);
            assert_eq!(config.faults[0].times, Some(1));
        }
    }

    #[test]
    fn bad_scenarios_are_refused_with_the_reason() {
        let error = parse(
            r#"{"scenarios": [{"name": "x", "description": "d", "expect": {"job": "failure"}}]}"#,
            "f.json",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("needs expect.reason"), "{error}");
        let error = parse(
            r#"{"scenarios": [{"name": "x", "description": "d", "emulator": {"faults": [{"fault": "boom"}]}}]}"#,
            "f.json",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("\"boom\" is not a known fault"), "{error}");
        let error = parse(
            r#"{"scenarios": [{"name": "a b", "description": "d"}]}"#,
            "f.json",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("letters, digits"), "{error}");
        let error = select(&builtin(), &["sunny".into()])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("no scenario \"sunny\"; known: happy"),
            "{error}"
        );
    }
}
