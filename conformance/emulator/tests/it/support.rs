//! Helpers shared by the emulator tests: real input images, requests per provider, and calls
//! through the router (in-process) or a loopback socket, with the key where `x-auth` puts it.

use std::io::Cursor;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use http_body_util::BodyExt;
use image::{ImageFormat, RgbImage};
use img2img_specs::extensions::{AuthPlacement, KeyPlacement};
use img2img_specs::{CompiledSchema, Location, Provider, Spec, media_fields};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const KEY: &str = "sk-emulator-test-key";
pub const HOST: &str = "emulator.test:80";

/// A PNG of `width x height` with a gradient, as bytes.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The same PNG in base64.
pub fn png_base64(width: u32, height: u32) -> String {
    base64::engine::general_purpose::STANDARD.encode(png(width, height))
}

pub fn spec(provider: Provider) -> &'static Spec {
    Spec::embedded(provider)
}

pub fn create_op(provider: Provider) -> String {
    spec(provider).extensions().job.create.clone()
}

pub fn result_op(provider: Provider) -> String {
    spec(provider).extensions().job.result.clone()
}

pub fn create_schema(provider: Provider) -> Arc<CompiledSchema> {
    spec(provider)
        .request_schema_as(&create_op(provider), img2img_specs::Reading::Accepting)
        .unwrap()
        .unwrap()
}

/// `body` with every `x-media` string replaced by `image`.
pub fn with_images(provider: Provider, mut body: Value, image: &str) -> Value {
    for pointer in media_fields(create_schema(provider).schema(), &body) {
        *body.pointer_mut(&pointer).unwrap() = json!(image);
    }
    body
}

/// A small valid create request with a fixed seed and a real init image.
pub fn create_body(provider: Provider, seed: u64) -> Value {
    let image = png_base64(96, 64);
    match provider.id() {
        "gptproto" => json!({
            "prompt": "a lighthouse at dusk", "action": "img2img", "image": image,
            "size": "128x96", "n": 2, "seed": seed, "strength": 0.6, "steps": 20, "scale": 6
        }),
        "novita" => json!({
            "extra": {"response_image_type": "jpeg"},
            "request": {
                "model_name": "sd_xl_base_1.0.safetensors", "image_base64": image,
                "prompt": "a lighthouse at dusk", "width": 128, "height": 128, "image_num": 2,
                "steps": 20, "guidance_scale": 7.5, "sampler_name": "Euler a", "seed": seed
            }
        }),
        "modelslab" => json!({
            "key": KEY, "model_id": "midjourney", "prompt": "a lighthouse at dusk",
            "init_image": image, "width": "256", "height": "256", "samples": "2",
            "num_inference_steps": "20", "guidance_scale": 7.5, "strength": 0.6, "seed": seed
        }),
        "bfl" => json!({
            "prompt": "a lighthouse at dusk", "input_image": image, "seed": seed,
            "output_format": "png", "safety_tolerance": 2
        }),
        other => panic!("no test data for {other}"),
    }
}

/// The spec's path for an operation, with `{id}` filled in.
pub fn path(provider: Provider, operation: &str, id: Option<&str>) -> String {
    let op = spec(provider).operation(operation).unwrap();
    let mut path = op.path.clone();
    if let Some(id) = id {
        for parameter in &op.parameters {
            match parameter.location {
                Location::Path => path = path.replace(&format!("{{{}}}", parameter.name), id),
                Location::Query => path = format!("{path}?{}={id}", parameter.name),
                Location::Header | Location::Cookie => {}
            }
        }
    }
    path
}

/// How a call carries its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    Valid,
    None,
    Other(&'a str),
}

/// An HTTP request for `operation` with `body`, the key where `x-auth` puts it.
pub fn request(
    provider: Provider,
    operation: &str,
    id: Option<&str>,
    body: Option<Value>,
    key: Key,
) -> Request<Body> {
    let op = spec(provider).operation(operation).unwrap();
    let auth = &spec(provider).extensions().auth;
    let mut builder = Request::builder()
        .method(op.method.as_str())
        .uri(path(provider, operation, id))
        .header("host", HOST);
    let key_text = match key {
        Key::Valid => Some(KEY),
        Key::None => None,
        Key::Other(other) => Some(other),
    };
    let mut body = body;
    match key_text.map(|key| auth.place(key)) {
        Some(KeyPlacement::Header { name, value }) => builder = builder.header(name, value),
        Some(KeyPlacement::BodyField { name, value }) => {
            body.get_or_insert_with(|| json!({}))[name] = json!(value);
        }
        None if auth.placement == AuthPlacement::Body => {
            body.get_or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap()
                .remove(auth.name.as_str());
        }
        None => {}
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }
}

/// Sends a request through the router, in-process.
pub async fn send(router: &axum::Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        content_type,
        bytes,
    }
}

/// Asserts `body` validates against the spec's schema for `operation` and `status`.
pub fn assert_documented(provider: Provider, operation: &str, status: u16, body: &Value) {
    let schema = spec(provider)
        .response_schema(operation, status)
        .unwrap_or_else(|| {
            panic!("{provider} {operation}: HTTP {status} is not documented; body {body}")
        })
        .unwrap();
    if let Err(violations) = schema.validate(body) {
        panic!("{provider} {operation} HTTP {status}: {violations}\nbody: {body}");
    }
}

/// The job id in a create answer (`x-job.id-pointer`).
pub fn job_id(provider: Provider, body: &Value) -> String {
    let job = &spec(provider).extensions().job;
    job.id_of(body)
        .unwrap_or_else(|| panic!("no job id at {} in {body}", job.id_pointer))
}

/// The status in a result answer (`x-job.status-pointer`).
pub fn job_status(provider: Provider, body: &Value) -> String {
    let job = &spec(provider).extensions().job;
    job.status_of(body)
        .unwrap_or_else(|| panic!("no status at {} in {body}", job.status_pointer))
        .to_owned()
}

/// Calls the result operation of a job once (the id where the spec's create-to-result link puts
/// it).
pub async fn fetch(router: &axum::Router, provider: Provider, id: &str) -> Answer {
    let operation = result_op(provider);
    let request = match spec(provider).id_place(&operation) {
        Some(img2img_specs::extensions::IdPlace::Body(field)) => request(
            provider,
            &operation,
            None,
            Some(Value::Object([(field, json!(id))].into_iter().collect())),
            Key::Valid,
        ),
        _ => request(provider, &operation, Some(id), None, Key::Valid),
    };
    send(router, request).await
}

/// Polls a job until its status is terminal (every answer checked against the spec); returns
/// the final body.
pub async fn poll_to_end(router: &axum::Router, provider: Provider, id: &str) -> Value {
    let job = &spec(provider).extensions().job;
    for _ in 0..2000 {
        let answer = fetch(router, provider, id).await;
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.bytes)
        );
        let body = answer.json();
        assert_documented(provider, &result_op(provider), 200, &body);
        if job.is_terminal(&job_status(provider, &body)) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("{provider} job {id} never ended");
}

/// Output image URLs of a finished job's answer (`x-job.outputs`).
pub fn output_urls(provider: Provider, body: &Value) -> Vec<String> {
    spec(provider).extensions().job.outputs_of(body)
}

/// GETs one of the emulator's image URLs through the router.
pub async fn download(router: &axum::Router, url: &str) -> Answer {
    let path = &url[url.find("/emulator/").expect("an emulator image URL")..];
    let request = Request::builder()
        .uri(path)
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    send(router, request).await
}

/// Sends the create call with a valid key; asserts a documented 200 and returns its body.
pub async fn create_job(router: &axum::Router, provider: Provider, body: Value) -> Value {
    let answer = send(
        router,
        request(provider, &create_op(provider), None, Some(body), Key::Valid),
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.bytes)
    );
    let created = answer.json();
    assert_documented(provider, &create_op(provider), 200, &created);
    created
}

/// Creates a job and polls it to its end; returns the final body (ModelsLab sync: the create
/// answer itself).
pub async fn run_job(router: &axum::Router, provider: Provider, body: Value) -> Value {
    let created = create_job(router, provider, body).await;
    if provider == Provider::named("modelslab") && created["status"] == "success" {
        return created;
    }
    let id = job_id(provider, &created);
    poll_to_end(router, provider, &id).await
}

/// A client that talks to loopback without a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}
