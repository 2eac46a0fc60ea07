//! Webhook delivery: a JSON POST with a per-attempt timeout, retried with doubling backoff on a
//! timeout or a non-2xx answer. Only loopback receivers unless `WebhookConfig::allow_remote`.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use serde_json::Value;

use super::state::Shared;

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
    /// ModelsLab-style `webhook_status` text.
    pub fn status_text(&self) -> String {
        match self {
            Delivery::Delivered(_) => "success".into(),
            Delivery::Failed(why) => format!("failed: {why}"),
            Delivery::Skipped(why) => format!("skipped: {why}"),
        }
    }
}

/// Whether webhooks may go to `url`; the reason when not.
fn allowed(shared: &Shared, url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} is not an http(s) URL"));
    }
    if shared.config.webhooks.allow_remote {
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

fn client(shared: &Shared) -> &reqwest::Client {
    shared.webhook_client.get_or_init(|| {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    })
}

/// POSTs `body` to `url`, with up to `retries` retries.
pub(crate) async fn deliver(shared: &Shared, url: &str, body: &Value, retries: u32) -> Delivery {
    if let Err(why) = allowed(shared, url) {
        tracing::warn!("webhook not delivered: {why}");
        return Delivery::Skipped(why);
    }
    let settings = shared.config.webhooks;
    let mut backoff = settings.backoff;
    let mut last_error = String::new();
    for attempt in 1..=retries + 1 {
        shared.webhook_attempts.fetch_add(1, Ordering::Relaxed);
        let sent = client(shared)
            .post(url)
            .json(body)
            .timeout(settings.timeout)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                shared.webhooks_delivered.fetch_add(1, Ordering::Relaxed);
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
        if attempt <= retries {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }
    Delivery::Failed(last_error)
}
