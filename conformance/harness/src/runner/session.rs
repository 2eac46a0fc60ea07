//! One provider's target for the length of its checks: an emulator started in process, the live
//! provider (through a recording proxy with `record`), or a replay server; opened, then closed
//! (a recording is saved as its cassette).

use std::path::PathBuf;
use std::time::Duration;

use img2img_emulator::Emulator;
use img2img_specs::extensions::AuthPlacement;
use img2img_specs::{ApiKey, Provider, Spec};

use super::options::{DEFAULT_EMULATOR_JOB_TTL, RunOptions, Target};
use crate::budget::Budget;
use crate::cassette::{Cassette, CassetteError};
use crate::http::Caller;
use crate::proxy::{RecordingProxy, ReplayServer};

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A cassette could not be read or written.
    #[error(transparent)]
    Cassette(#[from] CassetteError),
    /// The in-process emulator did not start.
    #[error("cannot start the {provider} emulator: {source}")]
    Emulator {
        /// The provider.
        provider: Provider,
        /// Why.
        source: std::io::Error,
    },
    /// The replay server did not start.
    #[error("cannot start the replay server for {provider}: {source}")]
    Replay {
        /// The provider.
        provider: Provider,
        /// Why.
        source: std::io::Error,
    },
    /// The recording proxy did not start.
    #[error("cannot start the recording proxy for {provider}: {source}")]
    Proxy {
        /// The provider.
        provider: Provider,
        /// Why.
        source: std::io::Error,
    },
    /// A live run has nowhere to send a provider's requests.
    #[error("the {provider} spec has no server and no --base-url was given")]
    NoServer {
        /// The provider.
        provider: Provider,
    },
    /// What the recording was made with could not be written beside its cassettes.
    #[error("{message}")]
    Recording {
        /// What went wrong, naming the file.
        message: String,
    },
}

/// What serves the checks' requests.
enum Serving {
    Emulator(Emulator),
    Replay(ReplayServer),
    Live,
    Recording { proxy: RecordingProxy, dir: PathBuf },
}

/// A provider's target, open.
pub(super) struct Session {
    provider: Provider,
    base_url: String,
    key: ApiKey,
    serving: Serving,
}

/// What opening a target gave.
pub(super) enum Opened {
    /// Ready for checks.
    Ready(Box<Session>),
    /// Nothing to run against (a live run without a key); every check is skipped for this reason.
    Unavailable(String),
}

impl Session {
    /// Opens `provider`'s target as `options` say.
    pub(super) async fn open(options: &RunOptions, provider: Provider) -> Result<Opened, RunError> {
        let spec = Spec::embedded(provider);
        let session = match &options.target {
            Target::Emulator => Session::emulator(options, provider).await?,
            Target::Replay(dir) => {
                let cassette = Cassette::load(&Cassette::path(dir, provider.id()))?;
                let server = ReplayServer::start(&cassette, key_field(spec))
                    .await
                    .map_err(|source| RunError::Replay { provider, source })?;
                Session {
                    provider,
                    base_url: server.url().to_owned(),
                    key: ApiKey::new("replay-key"),
                    serving: Serving::Replay(server),
                }
            }
            Target::Live { record, .. } => {
                let key_env = &spec.extensions().provider.key_env;
                let given = options
                    .keys
                    .iter()
                    .find(|(p, _)| *p == provider)
                    .map(|(_, k)| k.clone());
                let Some(key) = given.or_else(|| ApiKey::from_env(key_env)) else {
                    return Ok(Opened::Unavailable(format!(
                        "no {key_env} in the environment: live checks need a key"
                    )));
                };
                let upstream = options
                    .live_url(spec)
                    .ok_or(RunError::NoServer { provider })?;
                let (base_url, serving) = match record {
                    Some(dir) => {
                        let proxy =
                            RecordingProxy::start(&upstream, vec![key.clone()], key_field(spec))
                                .await
                                .map_err(|source| RunError::Proxy { provider, source })?;
                        let url = proxy.url().to_owned();
                        let dir = dir.clone();
                        (url, Serving::Recording { proxy, dir })
                    }
                    None => (upstream, Serving::Live),
                };
                Session {
                    provider,
                    base_url,
                    key,
                    serving,
                }
            }
        };
        Ok(Opened::Ready(Box::new(session)))
    }

    async fn emulator(options: &RunOptions, provider: Provider) -> Result<Session, RunError> {
        let mut config = options.emulator.clone();
        if config.api_keys.is_empty() {
            config.api_keys = vec![ApiKey::new(format!("emulator-key-{:016x}", options.seed))];
        }
        let key = config.api_keys[0].clone();
        config.job_ttl = options.job_ttl.unwrap_or(DEFAULT_EMULATOR_JOB_TTL);
        let running = Emulator::start(&[provider], config)
            .await
            .map_err(|source| RunError::Emulator { provider, source })?;
        Ok(Session {
            provider,
            base_url: running.base_url(),
            key,
            serving: Serving::Emulator(running),
        })
    }

    /// A caller of this target within `budget`; downloads go through the proxy or replay server
    /// when there is one, so they are recorded or replayed too.
    pub(super) fn caller(&self, budget: &Budget) -> Caller {
        let caller = Caller::new(
            self.provider,
            &self.base_url,
            Some(self.key.clone()),
            budget.clone(),
        );
        match self.serving {
            Serving::Replay(_) | Serving::Recording { .. } => {
                caller.with_downloads_via(&self.base_url)
            }
            Serving::Emulator(_) | Serving::Live => caller,
        }
    }

    /// How long the target keeps a finished job, if known.
    pub(super) fn job_ttl(&self, options: &RunOptions) -> Option<Duration> {
        match self.serving {
            Serving::Emulator(_) => Some(options.job_ttl.unwrap_or(DEFAULT_EMULATOR_JOB_TTL)),
            Serving::Live | Serving::Recording { .. } | Serving::Replay(_) => options.job_ttl,
        }
    }

    /// Stops what was started; a recording is saved as `<dir>/<provider>.json`.
    pub(super) async fn close(self) -> Result<(), RunError> {
        match self.serving {
            Serving::Emulator(running) => running.shutdown().await,
            Serving::Replay(server) => server.shutdown().await,
            Serving::Recording { proxy, dir } => {
                let cassette = proxy.finish(self.provider.id()).await;
                cassette.save(&Cassette::path(&dir, self.provider.id()))?;
            }
            Serving::Live => {}
        }
        Ok(())
    }
}

/// The body field that carries the key, when `x-auth` puts it in the body (always redacted).
fn key_field(spec: &Spec) -> Option<String> {
    let auth = &spec.extensions().auth;
    (auth.placement == AuthPlacement::Body).then(|| auth.name.clone())
}
