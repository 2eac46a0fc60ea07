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
#[path = "tests/record.rs"]
mod tests;
