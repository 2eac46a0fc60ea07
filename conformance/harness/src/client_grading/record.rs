//! One run's traffic as it happens: the emulator's journal streams each exchange here as it
//! finishes ([`Journal::stream_to`](img2img_emulator::Journal::stream_to)); it is judged for
//! `requests_valid` as sent, redacted (the journal's redaction), read by the spec, written as a
//! line of `exchanges/<scenario>.jsonl` (long bodies cut, the cut marked), and handed to the
//! [judges](super::judges) in arrival order. Nothing of an exchange is kept beyond what the
//! judges keep, and a run whose client sends more than the cap is stopped.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use img2img_emulator::{Exchange, Outcome};
use img2img_report::results::RecordedResponse;
use img2img_specs::{ApiKey, Provider};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;
use tokio::sync::Notify;

use super::checks::{Bounds, Capped};
use super::judges::Judges;
use super::traffic::{Call, Reader, Shown, line};
use super::validity;

/// Longest string kept whole in a written body (base64 images are cut, marked with their length).
const LONG_STRING: usize = 256;
/// Most bytes of a body written whole; above it (after long strings are cut), its first
/// [`HEAD`] bytes are written, marked with its length.
const WRITTEN_BODY: usize = 64 * 1024;
/// What is written of a body above [`WRITTEN_BODY`], or of a body that is not JSON above it.
const HEAD: usize = 2 * 1024;

/// A file of exchanges that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// The IO error.
    pub source: std::io::Error,
}

/// The recorder of one run.
pub struct Recorder {
    provider: Provider,
    key: String,
    secrets: Vec<ApiKey>,
    reader: Reader,
    judges: Judges,
    /// Calls that finished before an earlier arrival did, until it does.
    waiting: BTreeMap<u64, Call>,
    next: u64,
    /// The earliest request found invalid so far: later ones need not be judged.
    first_invalid: Option<u64>,
    path: PathBuf,
    file: BufWriter<File>,
    error: Option<std::io::Error>,
    received: u64,
    max_requests: u64,
    capped: Option<Capped>,
    stop: Arc<Notify>,
    started: Instant,
    finished: bool,
}

/// What a finished run's recorder gives.
#[derive(Debug)]
pub struct Recorded {
    /// The judges, having seen every exchange.
    pub judges: Judges,
    /// Whether, and when, the run passed the request cap.
    pub capped: Option<Capped>,
    /// The file written.
    pub path: PathBuf,
}

impl Recorder {
    /// A recorder writing to `path` (created, or emptied), judging with `bounds` a client given
    /// `key` (with `secrets`, the emulator's keys, redacted), that notifies `stop` once the client
    /// has sent more than `bounds.max_requests` requests. Times count from now.
    pub fn create(
        provider: Provider,
        key: &str,
        secrets: &[ApiKey],
        path: &Path,
        bounds: &Bounds,
        stop: Arc<Notify>,
    ) -> Result<Recorder, WriteError> {
        let file = File::create(path).map_err(|source| WriteError {
            path: path.to_owned(),
            source,
        })?;
        Ok(Recorder {
            provider,
            key: key.to_owned(),
            secrets: secrets.to_vec(),
            reader: Reader::new(provider),
            judges: Judges::new(bounds.poll_floor),
            waiting: BTreeMap::new(),
            next: 0,
            first_invalid: None,
            path: path.to_owned(),
            file: BufWriter::new(file),
            error: None,
            received: 0,
            max_requests: bounds.max_requests,
            capped: None,
            stop,
            started: Instant::now(),
            finished: false,
        })
    }

    /// Takes one finished exchange, whole and with its keys (what the journal streams).
    pub fn take(&mut self, mut exchange: Exchange) {
        if self.finished {
            return;
        }
        self.received += 1;
        if self.received > self.max_requests && self.capped.is_none() {
            self.capped = Some(Capped {
                requests: self.received,
                after: self.started.elapsed(),
            });
            self.stop.notify_one();
        }
        // Judged as sent, key included, while no earlier request was found invalid.
        let problem = if self.first_invalid.is_none_or(|first| exchange.seq < first) {
            let body = serde_json::from_slice::<Value>(&exchange.body);
            let operation = self.reader.operation_of(&exchange);
            validity::problem(self.provider, operation, &exchange, &body, &self.key)
        } else {
            None
        };
        if problem.is_some() {
            self.first_invalid = Some(exchange.seq);
        }
        exchange.redact(&self.secrets);
        let request = (!exchange.body.is_empty())
            .then(|| serde_json::from_slice::<Value>(&exchange.body).ok())
            .flatten();
        let answer = exchange
            .produced()
            .and_then(|a| a.body.as_deref())
            .and_then(|b| serde_json::from_slice::<Value>(b).ok());
        let mut call = self
            .reader
            .read(&exchange, request.as_ref(), answer.as_ref());
        call.problem = problem;
        call.line = line(&exchange);
        call.shown = Shown {
            operation: call
                .operation
                .map_or_else(|| call.line.clone(), |op| op.id.clone()),
            request: (!exchange.body.is_empty()).then(|| written_body(&exchange.body, request)),
            response: recorded(&exchange, answer),
        };
        self.write(&exchange, &call.shown);
        self.waiting.insert(call.seq, call);
        while let Some(call) = self.waiting.remove(&self.next) {
            self.judges.observe(&call);
            self.next += 1;
        }
    }

    /// Writes `exchange`'s line (a failed write is kept, and reported by [`Recorder::finish`]).
    fn write(&mut self, exchange: &Exchange, shown: &Shown) {
        if self.error.is_some() {
            return;
        }
        let line = Line {
            seq: exchange.seq,
            received_ms: exchange.received.as_secs_f64() * 1000.0,
            finished_ms: exchange.finished.as_secs_f64() * 1000.0,
            method: &exchange.method,
            path: &exchange.path,
            query: exchange.query.as_deref(),
            headers: Headers(&exchange.headers),
            body: shown.request.as_ref(),
            body_bytes: (exchange.body_length > 0).then_some(exchange.body_length),
            outcome: match &exchange.outcome {
                Outcome::Answered(_) => "answered",
                Outcome::Dropped { unsent: Some(_) } => "dropped after the operation ran",
                Outcome::Dropped { unsent: None } => "dropped",
            },
            response: shown.response.as_ref(),
        };
        let written = serde_json::to_writer(&mut self.file, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.file.write_all(b"\n"));
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    /// Ends the run: the exchanges still waiting for an earlier one are judged in order, and the
    /// file is flushed. Exchanges taken after this are ignored.
    pub fn finish(&mut self) -> Result<Recorded, WriteError> {
        for (_, call) in std::mem::take(&mut self.waiting) {
            self.judges.observe(&call);
        }
        self.finished = true;
        let flushed = self.file.flush();
        let error = self.error.take().map_or(flushed, Err);
        error.map_err(|source| WriteError {
            path: self.path.clone(),
            source,
        })?;
        Ok(Recorded {
            judges: std::mem::replace(&mut self.judges, Judges::new(Default::default())),
            capped: self.capped,
            path: self.path.clone(),
        })
    }
}

/// One line of `exchanges/<scenario>.jsonl`: times in ms, the request (keys redacted, bodies cut)
/// and what came back.
#[derive(Serialize)]
struct Line<'a> {
    seq: u64,
    received_ms: f64,
    finished_ms: f64,
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    headers: Headers<'a>,
    body: Option<&'a Value>,
    /// The request body's length as received (a cut body says so in its text).
    #[serde(skip_serializing_if = "Option::is_none")]
    body_bytes: Option<u64>,
    outcome: &'static str,
    response: Option<&'a RecordedResponse>,
}

/// Headers as a JSON object.
struct Headers<'a>(&'a [(String, String)]);

impl Serialize for Headers<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A body as written: its JSON (`parsed`) with strings above [`LONG_STRING`] characters cut, else
/// its text; above [`WRITTEN_BODY`] bytes, its first [`HEAD`] bytes. Every cut is marked with the
/// length it had.
fn written_body(bytes: &[u8], parsed: Option<Value>) -> Value {
    if let Some(value) = parsed.map(shorten)
        && (bytes.len() <= WRITTEN_BODY
            || serde_json::to_vec(&value).is_ok_and(|v| v.len() <= WRITTEN_BODY))
    {
        return value;
    }
    if bytes.len() <= HEAD {
        return Value::String(String::from_utf8_lossy(bytes).into_owned());
    }
    Value::String(format!(
        "{}… (cut: {} bytes)",
        String::from_utf8_lossy(&bytes[..HEAD]),
        bytes.len()
    ))
}

/// `value` with every string above [`LONG_STRING`] characters cut to its first 48, marked with its
/// length.
fn shorten(value: Value) -> Value {
    match value {
        Value::String(s) => {
            let length = s.chars().count();
            if length > LONG_STRING {
                let head: String = s.chars().take(48).collect();
                Value::String(format!("{head}… ({length} characters)"))
            } else {
                Value::String(s)
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(shorten).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, shorten(v))).collect())
        }
        other => other,
    }
}

/// The answer `exchange`'s operation produced (sent or withheld), its body `parsed` when JSON;
/// an image, or a body the journal did not keep, as its length.
fn recorded(exchange: &Exchange, parsed: Option<Value>) -> Option<RecordedResponse> {
    let answer = exchange.produced()?;
    let content_type = answer.header("content-type");
    Some(RecordedResponse {
        status: answer.status,
        content_type: content_type.map(str::to_owned),
        body: match &answer.body {
            Some(bytes) if content_type.is_some_and(|t| !t.starts_with("image/")) => {
                written_body(bytes, parsed)
            }
            _ => Value::String(format!("<{} bytes>", answer.length)),
        },
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Bytes;
    use futures::FutureExt;
    use img2img_emulator::Answer;

    use super::*;
    use crate::client_grading::ClientCheckId;
    use crate::client_grading::checks::{Evidence, Judgement, judge};
    use crate::client_grading::command::CommandOutcome;
    use crate::client_grading::scenario::Expect;

    const KEY: &str = "sk-record-unit-key";

    /// A Novita exchange as the journal streams it: `seq`, the key in its header, answered 200.
    fn exchange(
        seq: u64,
        method: &str,
        path: &str,
        query: &str,
        body: &str,
        answer: &str,
    ) -> Exchange {
        let at = Duration::from_millis(seq);
        Exchange {
            seq,
            received: at,
            finished: at,
            provider: Some(Provider::named("novita")),
            operation: Some(
                if method == "POST" {
                    "create_img2img"
                } else {
                    "get_task_result"
                }
                .into(),
            ),
            method: method.into(),
            path: path.into(),
            query: (!query.is_empty()).then(|| query.to_owned()),
            headers: vec![
                ("authorization".into(), format!("Bearer {KEY}")),
                ("host".into(), "127.0.0.1:9".into()),
            ],
            body: Bytes::from(body.to_owned()),
            body_length: body.len() as u64,
            body_cut: false,
            outcome: Outcome::Answered(Answer {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                length: answer.len() as u64,
                body: Some(Bytes::from(answer.to_owned())),
            }),
        }
    }

    /// What this process holds in memory (`VmRSS`), in KiB.
    fn resident_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/self/status")
    }

    /// A tight-loop client's 50,000 requests (a create, then polls of its pending job without a
    /// pause, a fresh create every 1,000th) go through the recorder as the journal streams them:
    /// every one is written, the cap is passed once, and the memory held does not grow with them.
    #[cfg(target_os = "linux")]
    #[test]
    fn fifty_thousand_requests_are_recorded_in_memory_that_does_not_grow() {
        let dir = std::env::temp_dir().join(format!("img2img-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stuck.jsonl");
        let stop = Arc::new(Notify::new());
        let bounds = Bounds {
            max_requests: 10_000,
            ..Bounds::default()
        };
        let secrets = [ApiKey::new(KEY)];
        let mut recorder = Recorder::create(
            Provider::named("novita"),
            KEY,
            &secrets,
            &path,
            &bounds,
            Arc::clone(&stop),
        )
        .unwrap();
        let create = r#"{"request": {"model_name": "sd_xl_base_1.0.safetensors", "image_base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC", "prompt": "a fox", "width": 256, "height": 256, "image_num": 1, "steps": 20, "guidance_scale": 7.5, "sampler_name": "Euler a"}}"#;
        let mut job = String::new();
        let mut resident_at_5000 = 0;
        for seq in 0..50_000u64 {
            let exchange = if seq % 1_000 == 0 {
                job = format!("0b5e-{seq:08}-job");
                let answer = format!(r#"{{"task_id": "{job}"}}"#);
                exchange(seq, "POST", "/v3/async/img2img", "", create, &answer)
            } else {
                let answer = format!(
                    r#"{{"audios":[],"extra":{{"seed":2396584599}},"images":[],"task":{{"eta":1,"progress_percent":0,"reason":"","status":"TASK_STATUS_QUEUED","task_id":"{job}","task_type":"IMG_TO_IMG"}},"videos":[]}}"#
                );
                let query = format!("task_id={job}");
                exchange(seq, "GET", "/v3/async/task-result", &query, "", &answer)
            };
            recorder.take(exchange);
            if seq == 5_000 {
                resident_at_5000 = resident_kib();
            }
        }
        let grown = resident_kib().saturating_sub(resident_at_5000);
        assert!(
            grown < 8 * 1024,
            "45,000 more requests grew the memory held by {grown} KiB"
        );
        let recorded = recorder.finish().unwrap();
        assert_eq!(recorded.judges.requests(), 50_000);
        let capped = recorded.capped.expect("the cap was passed");
        assert_eq!(capped.requests, 10_001);
        assert!(
            stop.notified().now_or_never().is_some(),
            "the run was told to stop"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 50_000);
        assert!(
            !text.contains(KEY),
            "the key is redacted in what was written"
        );
        // Every poll followed its answer at once: the pacing breach is the first one.
        let command = CommandOutcome {
            exit_code: None,
            timed_out: false,
            stopped: true,
            duration: capped.after,
            output: Vec::new(),
            spawn_error: None,
        };
        let evidence = Evidence {
            judges: &recorded.judges,
            command: &command,
            expect: &Expect::default(),
            bounds: &bounds,
            capped: recorded.capped,
        };
        let Judgement::Failed(pacing) = judge(ClientCheckId::PollPacing, &evidence) else {
            panic!("a tight loop breaks the pacing");
        };
        assert!(
            pacing
                .message
                .starts_with("a poll of job 0b5e-00000000-job at 0.00 s"),
            "{pacing:?}"
        );
        assert_eq!(
            judge(ClientCheckId::RequestsValid, &evidence),
            Judgement::Passed
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn long_bodies_are_cut_and_the_cut_is_marked() {
        let image = "A".repeat(10_000);
        let body = format!(r#"{{"image": "{image}", "prompt": "a fox"}}"#);
        let parsed = serde_json::from_str(&body).ok();
        let written = written_body(body.as_bytes(), parsed);
        assert_eq!(written["prompt"], "a fox");
        assert!(
            written["image"]
                .as_str()
                .is_some_and(|s| s.ends_with("… (10000 characters)") && s.len() < 100),
            "{written}"
        );
        let many: Vec<String> = (0..20_000).map(|i| format!("tag-{i}")).collect();
        let body = serde_json::to_vec(&many).unwrap();
        let written = written_body(&body, serde_json::from_slice(&body).ok());
        let text = written.as_str().expect("cut to text");
        assert!(
            text.ends_with(&format!("… (cut: {} bytes)", body.len())),
            "{text}"
        );
        assert!(text.len() < HEAD + 100);
        let text = vec![b'x'; 5_000];
        assert_eq!(
            written_body(&text, None),
            Value::String(format!("{}… (cut: 5000 bytes)", "x".repeat(HEAD)))
        );
        assert_eq!(written_body(b"plain", None), "plain");
    }
}
