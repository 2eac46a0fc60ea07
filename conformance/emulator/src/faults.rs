//! Faults on demand: from the `x-emulator-fault` header of one request, and from the run's
//! [`FaultRule`](super::FaultRule)s (every n-th matching request); and how each one changes the
//! response.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use tokio::sync::Notify;

use img2img_specs::Provider;

use super::config::{Fault, ParseFaultError, parse_fault_list};
use super::images::stable_hash;
use super::state::Shared;

/// The request header that asks for faults.
pub const FAULT_HEADER: &str = "x-emulator-fault";

/// The faults that apply to one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub status: Option<u16>,
    pub latency: Duration,
    pub fail: Option<String>,
    pub malformed: bool,
    pub truncated: bool,
    pub drop: bool,
    pub drop_after: bool,
    pub retry_after: Option<u32>,
    pub content_type: Option<String>,
}

impl Plan {
    fn add(&mut self, fault: Fault) {
        match fault {
            Fault::Status(status) => self.status = Some(status),
            Fault::Latency(latency) => self.latency += latency,
            Fault::FailTask(reason) => self.fail = Some(reason),
            Fault::Malformed => self.malformed = true,
            Fault::Truncated => self.truncated = true,
            Fault::Drop => self.drop = true,
            Fault::DropAfter => self.drop_after = true,
            Fault::RetryAfter(secs) => self.retry_after = Some(secs),
            Fault::ContentType(kind) => self.content_type = Some(kind),
        }
    }

    /// The faults of the run's rules that hit this request of `operation` of `provider`, then the
    /// header's.
    pub fn for_request(
        shared: &Shared,
        provider: Provider,
        operation: &str,
        headers: &HeaderMap,
    ) -> Result<Plan, ParseFaultError> {
        let mut plan = Plan::default();
        for (rule, counter) in shared.config.faults.iter().zip(&shared.fault_counters) {
            if !rule.applies_to(provider, operation) {
                continue;
            }
            let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
            let every = u64::from(rule.every_nth);
            if every > 0
                && n % every == 0
                && rule.times.is_none_or(|times| n / every <= u64::from(times))
            {
                plan.add(rule.fault.clone());
            }
        }
        for value in headers.get_all(FAULT_HEADER) {
            let text = value.to_str().map_err(|_| ParseFaultError {
                text: String::from_utf8_lossy(value.as_bytes()).into_owned(),
                problem: "the header is not ASCII".into(),
            })?;
            for fault in parse_fault_list(text)? {
                plan.add(fault);
            }
        }
        Ok(plan)
    }

    /// Adds the faults bound to the key whose hash is `key_hash` (see [`crate::KeyFault`]).
    pub fn add_key_faults(&mut self, shared: &Shared, key_hash: u64) {
        for bound in &shared.config.key_faults {
            if stable_hash(bound.key.expose_secret().as_bytes()) == key_hash {
                self.add(bound.fault.clone());
            }
        }
    }

    /// The body as the faults leave it.
    pub fn mangle(&self, body: Vec<u8>) -> Vec<u8> {
        if self.malformed {
            return b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec();
        }
        if self.truncated {
            let mut body = body;
            body.truncate(body.len() / 2);
            return body;
        }
        body
    }
}

/// Lets a request close its own connection without a response (the `drop` fault). The emulator's
/// server puts one in each request's extensions.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionKiller(pub Arc<Notify>);

/// A body that fails at once: where no [`ConnectionKiller`] is available (the router served by
/// someone else's server), hyper aborts the connection on it.
pub(crate) fn failing_body() -> Body {
    Body::new(FailingBody)
}

struct FailingBody;

impl http_body::Body for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "x-emulator-fault: drop",
        ))))
    }
}

/// Never resolves (a dropped request waits here while its connection is closed).
pub(crate) async fn forever() -> Infallible {
    std::future::pending().await
}
