//! Helpers shared by the client tests: a tiny PNG, clients aimed at a wiremock server, sequences
//! of responses, and a log capture.

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use img2img_client::{
    Client, ClientConfig, ImageRequest, PollPolicy, Provider, ProviderOptions, RetryPolicy,
};
use wiremock::{Request, Respond, ResponseTemplate};

/// The key every test uses; it must never show up anywhere.
pub const KEY: &str = "sk-test-DO-NOT-LEAK-4f1c9a";

/// A PNG of `width` x `height`.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(width, height, image::Rgb([200, 100, 50]))
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A request every provider accepts (with a model for those that need one).
pub fn request() -> ImageRequest {
    ImageRequest {
        prompt: "a watercolour fox".into(),
        image: png(512, 384),
        options: ProviderOptions {
            model: None,
            ..ProviderOptions::default()
        },
        ..ImageRequest::default()
    }
}

/// [`request`] fitted to `provider`: with a model where its spec requires one.
pub fn request_for(provider: Provider) -> ImageRequest {
    let mut r = request();
    if needs_model(provider) {
        r.options.model = Some("sd_xl_base_1.0.safetensors".into());
    }
    r
}

/// Whether `provider`'s create body requires its `model` feature.
pub fn needs_model(provider: Provider) -> bool {
    let spec = img2img_specs::Spec::embedded(provider);
    spec.feature(&spec.extensions().job.create, img2img_specs::Feature::Model)
        .is_some_and(|f| f.required)
}

/// A config aimed at `base_url`, fit for tokio's paused clock: no timer inside the HTTP client
/// (no request, connect or pool-idle timeout), fixed jitter seeds.
pub fn config(provider: Provider, base_url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(provider)
        .base_url(base_url)
        .key(KEY)
        .timeout(None)
        .poll(PollPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
            multiplier: 2.0,
            jitter: 0.0,
            deadline: Duration::from_secs(120),
            seed: Some(1),
        })
        .retry(RetryPolicy {
            max_attempts: 4,
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            jitter: 0.0,
        });
    config.connect_timeout = None;
    config.pool_idle_timeout = None;
    config
}

/// A client aimed at `base_url` (see [`config`]).
pub fn client(provider: Provider, base_url: &str) -> Client {
    Client::new(config(provider, base_url)).unwrap()
}

/// Answers with each template in turn, repeating the last one.
pub struct Sequence {
    templates: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Sequence {
    /// The templates, in order.
    pub fn new(templates: Vec<ResponseTemplate>) -> Self {
        Sequence {
            templates,
            next: AtomicUsize::new(0),
        }
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        self.templates[i.min(self.templates.len() - 1)].clone()
    }
}

/// JSON with a status.
pub fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// A buffer that a `tracing` subscriber writes into.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// What was written.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs a TRACE subscriber writing into a buffer for the current thread (the tests run on a
/// current-thread runtime); spans are logged when they close, with their recorded fields.
pub fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    // A callsite first seen while another test's thread had no subscriber is cached as disabled
    // for every thread; recompute each callsite's interest now that this one is in place.
    tracing::callsite::rebuild_interest_cache();
    (captured, guard)
}
