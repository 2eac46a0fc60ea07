//! How a client is built: base URL, timeouts, user agent and the key (explicit, or from the
//! environment variable the spec names in `x-provider.key-env`).

use std::time::Duration;

use img2img_specs::{ApiKey, Provider, Spec};

use crate::errors::Error;
use crate::poll::PollPolicy;
use crate::retry::RetryPolicy;

/// The user agent sent unless one is configured.
pub const DEFAULT_USER_AGENT: &str = concat!("img2img-client/", env!("CARGO_PKG_VERSION"));

/// Everything a [`crate::Client`] is built from. `Debug` never shows the key.
#[derive(Clone)]
pub struct ClientConfig {
    /// The provider.
    pub provider: Provider,
    /// `scheme://host[:port]`; `None` for the live provider (the spec's first server).
    pub base_url: Option<String>,
    /// The key; `None` reads the spec's `x-provider.key-env` variable.
    pub key: Option<ApiKey>,
    /// Time limit of one HTTP request, from connecting to the end of the body; `None` for none.
    pub timeout: Option<Duration>,
    /// Time limit of opening a connection (a failure here proves nothing was sent); `None` for
    /// none.
    pub connect_timeout: Option<Duration>,
    /// How long an idle pooled connection is kept; `None` keeps it until the server closes it.
    pub pool_idle_timeout: Option<Duration>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How `wait` polls.
    pub poll: PollPolicy,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("key", &self.key.as_ref().map(|_| img2img_specs::REDACTED))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("poll", &self.poll)
            .field("retry", &self.retry)
            .finish()
    }
}

impl ClientConfig {
    /// Defaults for `provider`: the live base URL, a 120 s request timeout, a 10 s connect
    /// timeout, the key from the environment.
    pub fn new(provider: Provider) -> Self {
        ClientConfig {
            provider,
            base_url: None,
            key: None,
            timeout: Some(Duration::from_secs(120)),
            connect_timeout: Some(Duration::from_secs(10)),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            poll: PollPolicy::default(),
            retry: RetryPolicy::default(),
        }
    }

    /// Uses this base URL (an emulator, a proxy, staging).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Uses this key instead of the environment's.
    pub fn key(mut self, key: impl Into<ApiKey>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the per-request timeout (`None`: no limit).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the user agent.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Sets the poll policy.
    pub fn poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The environment variable the key is read from (the spec's `x-provider.key-env`).
    pub fn key_env(&self) -> &'static str {
        &Spec::embedded(self.provider).extensions().provider.key_env
    }

    /// The base URL in effect, without a trailing slash.
    pub fn effective_base_url(&self) -> String {
        let url = match &self.base_url {
            Some(url) => url.as_str(),
            None => default_base_url(self.provider),
        };
        url.trim_end_matches('/').to_owned()
    }

    /// The key in effect: the explicit one, else the environment's.
    pub fn resolve_key(&self) -> Result<ApiKey, Error> {
        match &self.key {
            Some(key) if !key.is_empty() => Ok(key.clone()),
            Some(_) => Err(Error::config(format!(
                "the {} API key is empty",
                self.provider
            ))),
            None => ApiKey::from_env(self.key_env()).ok_or_else(|| {
                Error::config(format!(
                    "no API key for {}: set {}",
                    self.provider,
                    self.key_env()
                ))
            }),
        }
    }

    /// The HTTP client: timeouts, user agent, and no retries of its own (every retry is this
    /// crate's decision; see the crate docs).
    pub fn http_client(&self) -> Result<reqwest::Client, Error> {
        let url = self.effective_base_url();
        if url.is_empty() {
            return Err(Error::config(format!(
                "the {} spec names no server: give a base URL",
                self.provider
            )));
        }
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| Error::config(format!("base URL {url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::config(format!(
                "base URL {url:?} must be http(s)://host[:port]"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(self.user_agent.clone())
            .pool_idle_timeout(self.pool_idle_timeout)
            .retry(reqwest::retry::never());
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        builder
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))
    }
}

/// The live base URL of `provider`: the spec's first server (empty when it names none).
pub fn default_base_url(provider: Provider) -> &'static str {
    Spec::embedded(provider).default_base_url().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any_provider() -> Provider {
        Provider::all().next().expect("a spec in specs/")
    }

    #[test]
    fn debug_never_shows_the_key() {
        let config = ClientConfig::new(any_provider()).key("sk-very-secret");
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn the_live_base_url_is_the_specs_first_server() {
        for provider in Provider::all() {
            let server = &Spec::embedded(provider).openapi().servers[0].url;
            let config = ClientConfig::new(provider);
            assert_eq!(&config.effective_base_url(), server.trim_end_matches('/'));
            assert!(config.http_client().is_ok(), "{provider}");
        }
    }

    #[test]
    fn a_bad_base_url_is_a_config_error() {
        let err = ClientConfig::new(any_provider())
            .base_url("ftp://example")
            .http_client()
            .unwrap_err();
        assert_eq!(err.kind(), "config");
    }
}
