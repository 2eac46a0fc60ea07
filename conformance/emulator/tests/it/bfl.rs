//! The proof that a provider is its spec: `emulator --provider bfl` (the binary, on loopback)
//! serves Black Forest Labs, whose spec was added with no Rust. The test reads everything it
//! sends and checks from the spec: the key where `x-auth` puts it, a request example of the spec,
//! the id at `x-job.id-pointer`, the URL to poll at `x-job.poll-url-pointer`, the status words of
//! `x-job`, the image at `x-job.outputs`, the not-found answer of `x-not-found`, the documented
//! schema of every answer.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::*;
use img2img_specs::extensions::KeyPlacement;
use img2img_specs::{AspectRatio, ExampleKind, Feature, JobStatus, Provider};
use serde_json::{Value, json};

/// The emulator binary, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(args: &[&str]) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_emulator"))
        .args(["--port", &port.to_string(), "--api-key", KEY])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..400 {
        if client()
            .get(format!("{base}/emulator/health"))
            .send()
            .await
            .is_ok()
        {
            return (server, base);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the emulator did not start on {base}");
}

/// A request with the key where `x-auth` puts it.
fn keyed(
    provider: Provider,
    request: reqwest::RequestBuilder,
    key: Option<&str>,
) -> reqwest::RequestBuilder {
    match key.map(|key| spec(provider).extensions().auth.place(key)) {
        Some(KeyPlacement::Header { name, value }) => request.header(name, value),
        _ => request,
    }
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_serves_bfl_from_its_spec_alone() {
    let bfl = Provider::named("bfl");
    let spec = spec(bfl);
    let job = &spec.extensions().job;
    assert_eq!(
        spec.extensions().auth.place(KEY),
        KeyPlacement::Header {
            name: "x-key",
            value: KEY.into()
        },
        "the key goes in x-key"
    );
    let (_server, base) = start(&["--provider", "bfl", "--latency-ms", "300"]).await;
    let create = spec.operation(&job.create).unwrap();

    // A request example of the spec that names no webhook, with a real image at every x-media field.
    let webhook = spec.feature(&job.create, Feature::Webhook).unwrap();
    let example = spec
        .examples()
        .into_iter()
        .find(|e| {
            e.operation == job.create
                && e.kind == ExampleKind::Request
                && !e.docs_only
                && webhook.value_in(&e.value).is_none()
        })
        .expect("a request example without a webhook");
    let body = with_images(bfl, example.value, &png_base64(64, 48));

    let (status, created) = answer(
        keyed(
            bfl,
            client().post(format!("{base}{}", create.path)),
            Some(KEY),
        )
        .json(&body),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_documented(bfl, &job.create, 200, &created);
    let id = job.id_of(&created).expect("an id at x-job.id-pointer");
    let poll_url = created
        .pointer(
            job.poll_url_pointer
                .as_deref()
                .expect("x-job.poll-url-pointer"),
        )
        .and_then(Value::as_str)
        .expect("the URL to poll")
        .to_owned();
    let result = spec.operation(&job.result).unwrap();
    assert_eq!(
        poll_url,
        format!("{base}{}?id={id}", result.path),
        "polling_url is absolute, to this emulator, with the id"
    );

    // Poll exactly that URL through the pending words to the succeeded one.
    let mut seen = Vec::new();
    let done = loop {
        let (status, state) = answer(keyed(bfl, client().get(&poll_url), Some(KEY))).await;
        assert_eq!(status, 200, "{state}");
        assert_documented(bfl, &job.result, 200, &state);
        let word = job.status_of(&state).expect("a status word").to_owned();
        if seen.last() != Some(&word) {
            seen.push(word.clone());
        }
        if job.classify(&word).is_terminal() {
            break state;
        }
        assert!(seen.len() < 10, "{seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stages = job.stages.as_ref().unwrap();
    assert_eq!(seen, [stages.queued.clone(), stages.succeeded.clone()]);
    assert_eq!(job.classify(&seen[0]), JobStatus::Pending);
    assert!(
        done["progress"].is_null() && done["result"]["prompt"] == body["prompt"],
        "{done}"
    );

    // The image at x-job.outputs downloads, at the size the spec's render defaults give for the
    // ratio the request asks (x-feature: aspect_ratio), else the input's (64x48).
    let outputs = job.outputs_of(&done);
    assert_eq!(outputs.len(), 1, "{done}");
    assert!(outputs[0].starts_with(&base), "{}", outputs[0]);
    let image = client().get(&outputs[0]).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    let decoded = image::load_from_memory(&image.bytes().await.unwrap()).unwrap();
    let defaults = &spec.extensions().emulator.as_ref().unwrap().render_defaults;
    let asked = spec
        .feature(&job.create, Feature::AspectRatio)
        .and_then(|field| field.value_in(&body))
        .and_then(Value::as_str)
        .and_then(AspectRatio::parse);
    assert_eq!(
        (decoded.width(), decoded.height()),
        defaults.size_for(asked, AspectRatio::new(64, 48))
    );

    // The poll's `security` lets the key be left out.
    assert!(result.key_optional);
    let (status, keyless) = answer(client().get(&poll_url)).await;
    assert_eq!(
        (status, keyless["status"].clone()),
        (200, json!(stages.succeeded))
    );

    // An unknown id: x-not-found's answer.
    let not_found = spec.not_found(&job.result).unwrap();
    let (status, unknown) = answer(keyed(
        bfl,
        client().get(format!("{base}{}?id=nope", result.path)),
        Some(KEY),
    ))
    .await;
    assert_eq!(status, not_found.status);
    assert_eq!(job.status_of(&unknown), not_found.job_status.as_deref());
    assert_documented(bfl, &job.result, status, &unknown);

    // A body out of range, and no key: documented refusals.
    let mut invalid = body.clone();
    invalid["safety_tolerance"] = json!(7);
    let (status, refused) = answer(
        keyed(
            bfl,
            client().post(format!("{base}{}", create.path)),
            Some(KEY),
        )
        .json(&invalid),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_documented(bfl, &job.create, 422, &refused);
    assert_eq!(
        refused["detail"][0]["loc"],
        json!(["body", "safety_tolerance"])
    );
    let (status, refused) =
        answer(keyed(bfl, client().post(format!("{base}{}", create.path)), None).json(&body)).await;
    assert_eq!(
        (status, &refused),
        (
            403,
            &json!({"detail": "Not authenticated (missing API key: send it in the x-key header)"})
        )
    );
    assert_documented(bfl, &job.create, 403, &refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_id_is_not_found_and_a_webhook_that_is_no_url_is_refused_naming_it() {
    let bfl = Provider::named("bfl");
    let spec = spec(bfl);
    let job = &spec.extensions().job;
    let (_server, base) = start(&["--provider", "bfl"]).await;
    // `?id=` is an id the schema allows (a string): the not-found answer, not a refusal.
    let result = spec.operation(&job.result).unwrap();
    let (status, body) = answer(keyed(
        bfl,
        client().get(format!("{base}{}?id=", result.path)),
        Some(KEY),
    ))
    .await;
    let not_found = spec.not_found(&job.result).expect("x-not-found");
    assert_eq!(status, not_found.status, "{body}");
    assert_eq!(
        job.status_of(&body),
        not_found.job_status.as_deref(),
        "{body}"
    );
    // A webhook typed `format: uri` must be an http(s) URL: refused naming the field.
    let webhook = spec.feature(&job.create, Feature::Webhook).unwrap();
    let create = spec.operation(&job.create).unwrap();
    let (status, body) = answer(
        keyed(
            bfl,
            client().post(format!("{base}{}", create.path)),
            Some(KEY),
        )
        .json(&serde_json::json!({"prompt": "a fox", webhook.name(): "AAA"})),
    )
    .await;
    assert!((400..500).contains(&status), "{status} {body}");
    let text = body.to_string();
    assert!(
        text.contains(&webhook.name()) && text.contains("is not an http(s) URL"),
        "{text}"
    );
}
