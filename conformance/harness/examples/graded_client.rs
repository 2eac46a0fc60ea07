//! A client for the client-grading tests: one whole job against any provider of `specs/`, read
//! from the provider's spec (operations and pointers from `x-job`, the key where `x-auth` puts
//! it, a valid create request sampled from the request schema). Without flags it behaves well;
//! each `--misbehave` flag breaks one rule, so a test can show that exactly one check fails.
//!
//! ```text
//! IMG2IMG_BASE_URL=http://127.0.0.1:8080 NOVITA_API_KEY=sk-test \
//!     cargo run -p img2img-harness --example graded_client -- --provider novita [--misbehave no-pause]
//! ```
//!
//! Misbehaviours: `resend-create` (re-sends a create whose answer did not arrive),
//! `no-pause` (polls without waiting), `ignore-retry-after` (retries a 429 after 100 ms whatever
//! `Retry-After` says), `poll-after-terminal` (polls twice more after the job ended),
//! `never-give-up` (no deadline), `ignore-failure` (a failed job exits 0, saying nothing),
//! `download-late` (waits 5 s before downloading), `misplaced-key` (the key goes where the
//! provider does not look for it), `skip-download` (exits 0 without downloading the images), and `tight-loop`: a hostile first integration that never
//! pauses, sends the create again after every error (a refused or lost create or poll), and never
//! gives up (what `--max-requests` is for).
//!
//! Exit codes: 0 the job succeeded and its images were downloaded; 1 it failed (the provider's
//! answer is printed); 2 usage.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use img2img_harness::payload::Payload;
use img2img_specs::extensions::{AuthPlacement, JobInfo};
use img2img_specs::{Location, Provider, Spec};
use img2img_strategy::sample::{Fill, sample};
use serde_json::{Value, json};

const MISBEHAVIOURS: &[&str] = &[
    "resend-create",
    "no-pause",
    "ignore-retry-after",
    "poll-after-terminal",
    "never-give-up",
    "ignore-failure",
    "download-late",
    "misplaced-key",
    "skip-download",
    "tight-loop",
];

struct Client {
    provider: Provider,
    spec: &'static Spec,
    base: String,
    key: String,
    http: reqwest::Client,
    bad: BTreeSet<String>,
}

/// An answer: status, `Retry-After`, JSON body.
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    body: Value,
}

fn usage(message: &str) -> ExitCode {
    eprintln!("graded_client: {message}");
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut provider = std::env::var("IMG2IMG_PROVIDER").ok();
    let mut bad = BTreeSet::new();
    let mut deadline = Duration::from_secs(20);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--provider" => provider = args.next(),
            "--misbehave" => {
                for item in args.next().unwrap_or_default().split(',') {
                    if !MISBEHAVIOURS.contains(&item) {
                        return usage(&format!(
                            "unknown misbehaviour {item:?}; known: {MISBEHAVIOURS:?}"
                        ));
                    }
                    bad.insert(item.to_owned());
                }
            }
            "--deadline" => match args.next().and_then(|s| s.parse().ok()) {
                Some(secs) => deadline = Duration::from_secs(secs),
                None => return usage("--deadline needs a number of seconds"),
            },
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let Some(provider) = provider.and_then(|p| p.parse::<Provider>().ok()) else {
        return usage("--provider gptproto|novita|modelslab (or IMG2IMG_PROVIDER) is required");
    };
    let spec = Spec::embedded(provider);
    let (Ok(base), Ok(key)) = (
        std::env::var("IMG2IMG_BASE_URL"),
        std::env::var(&spec.extensions().provider.key_env),
    ) else {
        return usage("IMG2IMG_BASE_URL and the provider's key variable must be set");
    };
    let client = Client {
        provider,
        spec,
        base: base.trim_end_matches('/').to_owned(),
        key,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a plain reqwest client builds"),
        bad,
    };
    if client.bad.contains("never-give-up") {
        deadline = Duration::from_secs(24 * 3600);
    }
    let ran = if client.is("tight-loop") {
        client.tight_loop().await
    } else {
        client.run(deadline).await
    };
    match ran {
        Ok(count) => {
            println!("done: {count} image(s) downloaded");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("graded_client: {message}");
            ExitCode::FAILURE
        }
    }
}

impl Client {
    fn job(&self) -> &'static JobInfo {
        &self.spec.extensions().job
    }

    fn is(&self, misbehaviour: &str) -> bool {
        self.bad.contains(misbehaviour)
    }

    /// Sends `body` to `operation` with path/query parameter `id`, the key placed per `x-auth`.
    async fn call(
        &self,
        operation: &str,
        id: Option<&str>,
        body: Option<Value>,
    ) -> Result<Reply, String> {
        let op = self
            .spec
            .operation(operation)
            .ok_or_else(|| format!("no operation {operation}"))?;
        let mut path = op.path.clone();
        let mut query = Vec::new();
        let mut body = body;
        for parameter in &op.parameters {
            let Some(id) = id else { continue };
            match parameter.location {
                Location::Path => path = path.replace(&format!("{{{}}}", parameter.name), id),
                Location::Query => query.push((parameter.name.clone(), id.to_owned())),
                Location::Header | Location::Cookie => {}
            }
        }
        if let (Some(id), true) = (id, op.parameters.is_empty()) {
            // The id travels in the body: its one required field that is not the key.
            let auth = &self.spec.extensions().auth;
            if let Some(Ok(schema)) = self.spec.request_schema(operation) {
                let field = img2img_strategy::sample::required_names(schema.schema())
                    .into_iter()
                    .find(|f| *f != auth.name);
                if let Some(field) = field {
                    let mut map = body
                        .take()
                        .and_then(|b| b.as_object().cloned())
                        .unwrap_or_default();
                    map.insert(field, json!(id));
                    body = Some(Value::Object(map));
                }
            }
        }
        let mut request = self
            .http
            .request(op.method.into(), format!("{}{path}", self.base))
            .query(&query);
        let auth = &self.spec.extensions().auth;
        let misplaced = self.is("misplaced-key");
        match (auth.placement, misplaced) {
            (AuthPlacement::Header, false) => {
                request =
                    request.header(auth.name.as_str(), format!("{}{}", auth.prefix, self.key));
            }
            (AuthPlacement::Body, false) => {
                let mut map = body
                    .take()
                    .and_then(|b| b.as_object().cloned())
                    .unwrap_or_default();
                map.insert(auth.name.clone(), json!(self.key));
                body = Some(Value::Object(map));
            }
            (_, true) => request = request.header("x-api-key", self.key.as_str()),
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{operation}: {e}"))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs);
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    fn status_of(&self, body: &Value) -> Option<String> {
        body.pointer(&self.job().status_pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    fn eta_of(&self, body: &Value) -> Option<Duration> {
        let seconds = body.pointer(self.job().eta_pointer.as_deref()?)?.as_f64()?;
        (seconds > 0.0).then(|| Duration::from_secs_f64(seconds.min(5.0)))
    }

    fn id_of(&self, body: &Value) -> Option<String> {
        let job = self.job();
        std::iter::once(&job.id_pointer)
            .chain(&job.id_fallback_pointers)
            .filter_map(|p| body.pointer(p))
            .find_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    }

    /// The wait after a 429: `Retry-After`, else 1 s.
    fn rate_limit_wait(&self, reply: &Reply) -> Duration {
        if self.is("ignore-retry-after") {
            Duration::from_millis(100)
        } else {
            reply.retry_after.unwrap_or(Duration::from_secs(1))
        }
    }

    /// A valid create request, sampled from the request schema, without the key.
    fn create_body(&self) -> Result<Value, String> {
        let schema = self
            .spec
            .request_schema(&self.job().create)
            .ok_or("the create operation has no body")?
            .map_err(|e| e.to_string())?;
        let mut body = sample(schema.schema(), Fill::Required);
        Payload::new(128, 1).prepare(self.spec, &mut body);
        let auth = &self.spec.extensions().auth;
        if let Value::Object(map) = &mut body {
            map.remove(&auth.name);
        }
        Ok(body)
    }

    async fn create(&self) -> Result<Value, String> {
        let create = &self.job().create;
        let body = self.create_body()?;
        for _attempt in 0..6 {
            let reply = match self.call(create, None, Some(body.clone())).await {
                Ok(reply) => reply,
                Err(e) if self.is("resend-create") => {
                    eprintln!("create failed ({e}); sending it again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                // The create may have been accepted: sending it again could pay twice.
                Err(e) => return Err(format!("the create got no answer ({e}); not sent again")),
            };
            match reply.status {
                200..=299 => return Ok(reply.body),
                429 => tokio::time::sleep(self.rate_limit_wait(&reply)).await,
                status => return Err(format!("create refused with HTTP {status}: {}", reply.body)),
            }
        }
        Err("the create was rate limited six times".into())
    }

    async fn run(&self, deadline: Duration) -> Result<usize, String> {
        let started = Instant::now();
        let job = self.job();
        let mut answer = self.create().await?;
        let id = self
            .id_of(&answer)
            .ok_or_else(|| format!("no job id in {answer}"))?;
        eprintln!("job {id} created");
        let mut wait = self.eta_of(&answer).unwrap_or(Duration::ZERO);
        let mut extra_polls = if self.is("poll-after-terminal") { 2 } else { 0 };
        loop {
            let status = self.status_of(&answer).unwrap_or_default();
            let terminal = job.is_terminal(&status);
            if terminal && extra_polls == 0 {
                break;
            }
            if terminal {
                extra_polls -= 1;
            }
            if !terminal && started.elapsed() > deadline {
                return Err(format!(
                    "gave up on job {id} after {} s (last status {status:?})",
                    deadline.as_secs()
                ));
            }
            if !self.is("no-pause") {
                tokio::time::sleep(wait).await;
            }
            wait = Duration::from_millis(500);
            match self.call(&job.result, Some(&id), None).await {
                Ok(reply) if (200..300).contains(&reply.status) => {
                    if let Some(eta) = self.eta_of(&reply.body) {
                        wait = wait.max(eta);
                    }
                    if !job.is_terminal(&self.status_of(&answer).unwrap_or_default()) {
                        answer = reply.body;
                    }
                }
                Ok(reply) if reply.status == 429 => wait = self.rate_limit_wait(&reply),
                Ok(reply) => {
                    eprintln!("poll answered HTTP {}; trying again", reply.status);
                    wait = Duration::from_secs(1);
                }
                Err(e) => {
                    eprintln!("poll failed ({e}); trying again");
                    wait = Duration::from_secs(1);
                }
            }
        }
        let status = self.status_of(&answer).unwrap_or_default();
        if job.failed.contains(&status) {
            if self.is("ignore-failure") {
                return Ok(0);
            }
            return Err(format!("job {id} failed: {answer}"));
        }
        if self.is("download-late") {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        self.download(&answer).await
    }

    /// Downloads every image URL `answer` (a finished job) lists; the number of outputs.
    async fn download(&self, answer: &Value) -> Result<usize, String> {
        let outputs = self.job().outputs_of(answer);
        for url in &outputs {
            if !url.starts_with("http") || self.is("skip-download") {
                continue;
            }
            let response = self
                .http
                .get(url)
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            if !response.status().is_success() {
                return Err(format!("GET {url}: HTTP {}", response.status()));
            }
            let bytes = response.bytes().await.map_err(|e| e.to_string())?;
            eprintln!(
                "downloaded {} bytes from {url} ({})",
                bytes.len(),
                self.provider
            );
        }
        Ok(outputs.len())
    }

    /// `tight-loop`: create, poll without a pause until the job ends, and after any refused or
    /// lost create or poll start again with a fresh create; never give up.
    async fn tight_loop(&self) -> Result<usize, String> {
        let job = self.job();
        let body = self.create_body()?;
        loop {
            let created = match self.call(&job.create, None, Some(body.clone())).await {
                Ok(reply) if (200..300).contains(&reply.status) => reply.body,
                _ => continue,
            };
            let Some(id) = self.id_of(&created) else {
                continue;
            };
            let mut answer = created;
            loop {
                let status = self.status_of(&answer).unwrap_or_default();
                if job.succeeded.contains(&status) {
                    return self.download(&answer).await;
                }
                if job.failed.contains(&status) {
                    return Err(format!("job {id} failed: {answer}"));
                }
                match self.call(&job.result, Some(&id), None).await {
                    Ok(reply) if (200..300).contains(&reply.status) => answer = reply.body,
                    _ => break,
                }
            }
        }
    }
}
