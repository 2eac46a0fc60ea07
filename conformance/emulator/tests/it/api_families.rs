//! API families with a shape of their own (`x-job.aliases` with their own request body, several
//! results, their own words), and unknown routes answered in each provider's error shape.

use std::borrow::Cow;

use crate::support::*;
use img2img_emulator::{AnswerStyle, Config, router};
use img2img_specs::extensions::{Cause, ErrorsInfo, JobFamily};
use img2img_specs::template::{ErrorVar, Scope, Value as Val};
use img2img_specs::{ApiKey, Provider};
use serde_json::{Value, json};

fn modelslab() -> Provider {
    Provider::named("modelslab")
}

fn queued() -> Config {
    Config {
        api_keys: vec![ApiKey::new(KEY)],
        ..Config::default()
    }
    .with_answer_style(modelslab(), AnswerStyle::Queued)
}

fn family(name: &str) -> JobFamily {
    spec(modelslab())
        .extensions()
        .job
        .family(name)
        .unwrap_or_else(|| panic!("modelslab has a family {name}"))
}

/// Creates a job through `create` and fetches it through `result` (the id where the spec's links
/// put it) until it ends; returns the last answer.
async fn whole_job(router: &axum::Router, create: &str, result: &str, body: Value) -> Value {
    let answer = send(
        router,
        request(modelslab(), create, None, Some(body), Key::Valid),
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{create}: {}",
        String::from_utf8_lossy(&answer.bytes)
    );
    let created = answer.json();
    assert_documented(modelslab(), create, 200, &created);
    let id = job_id(modelslab(), &created);
    let in_body = spec(modelslab())
        .id_place(result)
        .and_then(|place| match place {
            img2img_specs::extensions::IdPlace::Body(field) => Some(field),
            _ => None,
        });
    for _ in 0..400 {
        let (path_id, fetch_body) = match &in_body {
            Some(field) => (None, json!({ field.as_str(): id })),
            None => (Some(id.as_str()), json!({})),
        };
        let answer = send(
            router,
            request(modelslab(), result, path_id, Some(fetch_body), Key::Valid),
        )
        .await;
        assert_eq!(
            answer.status,
            200,
            "{result}: {}",
            String::from_utf8_lossy(&answer.bytes)
        );
        let value = answer.json();
        assert_documented(modelslab(), result, 200, &value);
        if job_status(modelslab(), &value) != "processing" {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("{result} stayed processing");
}

async fn first_image(router: &axum::Router, answer: &Value) -> Vec<u8> {
    let urls = output_urls(modelslab(), answer);
    assert!(!urls.is_empty(), "{answer}");
    let image = download(router, &urls[0]).await;
    assert_eq!(image.status, 200);
    image.bytes.to_vec()
}

/// The docs' request for the inputs the v7 body carries, everything else at the spec's render
/// defaults, so that both families ask for the same image.
fn docs_body(image: &str) -> Value {
    let defaults = &spec(modelslab())
        .extensions()
        .emulator
        .as_ref()
        .unwrap()
        .render_defaults;
    json!({
        "model_id": "seedream-4.5-i2i", "prompt": "a lighthouse at dusk", "init_image": image,
        "strength": 0.6, "seed": 4242, "samples": 1, "width": defaults.width,
        "height": defaults.height, "num_inference_steps": defaults.steps,
        "guidance_scale": defaults.guidance
    })
}

#[tokio::test]
async fn a_v7_job_and_a_v6_fetch_by_body_run_whole_and_render_the_docs_image() {
    let router = router(&[modelslab()], queued());
    let image = png_base64(96, 64);
    let docs = family("docs");
    let expected = whole_job(&router, &docs.create, &docs.result, docs_body(&image)).await;
    assert_eq!(job_status(modelslab(), &expected), "success", "{expected}");
    let expected = first_image(&router, &expected).await;

    let v7 = family("v7");
    assert_ne!(
        spec(modelslab())
            .request_schema(&v7.create)
            .unwrap()
            .unwrap()
            .schema(),
        spec(modelslab())
            .request_schema(&docs.create)
            .unwrap()
            .unwrap()
            .schema(),
        "the v7 family has a request of its own"
    );
    for init_image in [json!(image), json!([image, png_base64(32, 32)])] {
        let body = json!({
            "model_id": "seedream-4.5-i2i", "prompt": "a lighthouse at dusk",
            "init_image": init_image, "aspect_ratio": "1:1", "strength": 0.6, "seed": 4242
        });
        let created = send(
            &router,
            request(
                modelslab(),
                &v7.create,
                None,
                Some(body.clone()),
                Key::Valid,
            ),
        )
        .await
        .json();
        let fetch_result = created["fetch_result"].as_str().unwrap();
        let id = job_id(modelslab(), &created);
        assert!(
            fetch_result.ends_with(&path(modelslab(), &v7.result, Some(&id))),
            "a v7 job is fetched in its own family: {fetch_result}"
        );
        let done = whole_job(&router, &v7.create, &v7.result, body).await;
        assert_eq!(job_status(modelslab(), &done), "success", "{done}");
        assert_eq!(
            first_image(&router, &done).await,
            expected,
            "the v7 family renders the docs' image for the same inputs ({init_image:.40})"
        );
    }

    let v6 = family("v6");
    assert_eq!(v6.results.len(), 2, "{v6:?}");
    for result in &v6.results {
        let done = whole_job(&router, &v6.create, result, docs_body(&image)).await;
        assert_eq!(
            job_status(modelslab(), &done),
            "success",
            "{result}: {done}"
        );
        assert_eq!(first_image(&router, &done).await, expected, "{result}");
    }
    let by_body = spec(modelslab()).id_place(&v6.results[1]);
    assert_eq!(
        by_body,
        Some(img2img_specs::extensions::IdPlace::Body(
            "request_id".into()
        ))
    );
}

#[tokio::test]
async fn a_v7_request_is_held_to_its_own_schema() {
    let router = router(&[modelslab()], queued());
    let v7 = family("v7");
    for (body, named) in [
        (json!({"model_id": "m", "prompt": "p"}), "init_image"),
        (
            json!({"model_id": "m", "prompt": "p", "init_image": png_base64(8, 8), "width": 512}),
            "width",
        ),
        (
            json!({"model_id": "m", "prompt": "p", "init_image": vec![png_base64(8, 8); 11]}),
            "init_image",
        ),
    ] {
        let answer = send(
            &router,
            request(modelslab(), &v7.create, None, Some(body), Key::Valid),
        )
        .await;
        assert_eq!(
            answer.status,
            400,
            "{}",
            String::from_utf8_lossy(&answer.bytes)
        );
        let text = String::from_utf8_lossy(&answer.bytes);
        assert!(text.contains(named), "{named}: {text}");
        assert_eq!(
            answer.json()["status"],
            "error",
            "ModelsLab's error shape: {text}"
        );
    }
}

/// An error as the emulator's unknown-route answer is rendered.
struct UnknownRoute<'a> {
    message: String,
    status: u16,
    reason: &'a str,
}

impl Scope for UnknownRoute<'_> {
    fn error(&self, var: ErrorVar) -> Val<'_> {
        match var {
            ErrorVar::Status => Val::Uint(u64::from(self.status)),
            ErrorVar::Message => Val::Str(Cow::Borrowed(&self.message)),
            ErrorVar::Reason => Val::Str(Cow::Borrowed(self.reason)),
            ErrorVar::Cause => Val::Str(Cow::Borrowed(Cause::UnknownRoute.as_str())),
            ErrorVar::ServerError => Val::Bool(false),
            _ => Val::Absent,
        }
    }
}

fn reason_for(errors: &ErrorsInfo, status: u16) -> &str {
    errors
        .reason_for_status(status)
        .map_or("", |r| r.reason.as_str())
}

#[tokio::test]
async fn an_unknown_route_is_answered_in_each_providers_error_shape() {
    for provider in Provider::all() {
        let router = router(&[provider], Config::default());
        let spec = spec(provider);
        let answers = spec
            .extensions()
            .emulator
            .as_ref()
            .unwrap()
            .answers
            .as_ref()
            .unwrap();
        let status = answers.status(Cause::UnknownRoute).unwrap();
        let answer = send(
            &router,
            axum::http::Request::post("/no/such/route")
                .header("host", HOST)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, status, "{provider}");
        let expected = answers.unknown_route().render_value(&UnknownRoute {
            message: "no route POST /no/such/route".into(),
            status,
            reason: reason_for(&spec.extensions().errors, status),
        });
        assert_eq!(answer.json(), expected, "{provider}");
        assert!(
            spec.extensions().errors.message_in(&expected).is_some(),
            "{provider}: a client reads a message in {expected}"
        );
    }
}

#[tokio::test]
async fn an_unknown_route_under_one_providers_paths_takes_its_shape_when_all_are_served() {
    let router = router(&Provider::all().collect::<Vec<_>>(), Config::default());
    let answer = send(
        &router,
        axum::http::Request::post("/api/v7/images/no-such-endpoint")
            .header("host", HOST)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 404);
    let body = answer.json();
    assert_eq!(
        body["status"], "error",
        "ModelsLab's {{status, message}}: {body}"
    );
    assert_eq!(
        body["message"],
        "no route POST /api/v7/images/no-such-endpoint"
    );
}
