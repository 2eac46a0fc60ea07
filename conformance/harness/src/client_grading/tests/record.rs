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
fn exchange(seq: u64, method: &str, path: &str, query: &str, body: &str, answer: &str) -> Exchange {
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
    let dir = tempfile::Builder::new()
        .prefix("img2img-record-")
        .tempdir()
        .unwrap();
    let path = dir.path().join("stuck.jsonl");
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
