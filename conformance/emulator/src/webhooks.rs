//! Webhook delivery: a JSON POST (the spec's `x-emulator.answers.webhook`) with a per-attempt
//! timeout, tried again with doubling backoff on a timeout or a non-2xx answer. Only loopback
//! receivers unless `WebhookConfig::allow_remote`.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::header::CONTENT_TYPE;

use super::config::WebhookConfig;

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// A 2xx answer, after this many attempts.
    Delivered(u32),
    /// Every attempt failed; the last error.
    Failed(String),
    /// Not attempted: the URL is not loopback (or not a URL).
    Skipped(String),
}

impl Delivery {
    /// What `job.webhook_status` reports: `success`, `failed: ...` or `skipped: ...`.
    pub fn status_text(&self) -> String {
        match self {
            Delivery::Delivered(_) => "success".into(),
            Delivery::Failed(why) => format!("failed: {why}"),
            Delivery::Skipped(why) => format!("skipped: {why}"),
        }
    }
}

/// One webhook to send.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub url: String,
    /// The JSON body.
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    /// Retries after a failed attempt.
    pub retries: u32,
}

/// The webhook sender of one emulator, with its counters.
#[derive(Debug, Default)]
pub(crate) struct Webhooks {
    config: WebhookConfig,
    client: OnceLock<reqwest::Client>,
    attempts: AtomicU64,
    delivered: AtomicU64,
}

impl Webhooks {
    pub fn new(config: WebhookConfig) -> Webhooks {
        Webhooks {
            config,
            ..Webhooks::default()
        }
    }

    /// Attempts made (retries included), and deliveries acknowledged with a 2xx.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.attempts.load(Ordering::Relaxed),
            self.delivered.load(Ordering::Relaxed),
        )
    }

    /// Whether webhooks may go to `url`; the reason when not.
    fn allowed(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("{url:?} is not an http(s) URL"));
        }
        if self.config.allow_remote {
            return Ok(());
        }
        let host = parsed.host_str().unwrap_or("");
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if loopback {
            Ok(())
        } else {
            Err(format!(
                "{url:?} is not a loopback address; the emulator delivers webhooks to loopback only unless WebhookConfig::allow_remote is set"
            ))
        }
    }

    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_else(|_| reqwest::Client::new())
        })
    }

    /// POSTs the webhook, with up to its retries.
    pub async fn deliver(&self, webhook: &Webhook) -> Delivery {
        let url = webhook.url.as_str();
        if let Err(why) = self.allowed(url) {
            tracing::warn!("webhook not delivered: {why}");
            return Delivery::Skipped(why);
        }
        let settings = self.config;
        let mut backoff = settings.backoff;
        let mut last_error = String::new();
        for attempt in 1..=webhook.retries + 1 {
            self.attempts.fetch_add(1, Ordering::Relaxed);
            let mut request = self
                .client()
                .post(url)
                .header(CONTENT_TYPE, "application/json")
                .body(webhook.body.clone())
                .timeout(settings.timeout);
            for (name, value) in &webhook.headers {
                request = request.header(name, value);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    self.delivered.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        attempt,
                        status = response.status().as_u16(),
                        "webhook delivered"
                    );
                    return Delivery::Delivered(attempt);
                }
                Ok(response) => last_error = format!("HTTP {}", response.status().as_u16()),
                Err(error) if error.is_timeout() => {
                    last_error = format!("no answer within {:?}", settings.timeout);
                }
                Err(error) => last_error = format!("{}", error.without_url()),
            }
            tracing::warn!(attempt, error = %last_error, "webhook attempt failed");
            if attempt <= webhook.retries {
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
            }
        }
        Delivery::Failed(last_error)
    }
}
