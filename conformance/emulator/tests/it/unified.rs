//! GPTProto's unified API (the `x-job` family `unified` of `specs/gptproto.yaml`, what GPTProto's
//! official SDKs call) served as a whole job: a 202 create answered in the unified task shape, polled
//! at `/api/v3/tasks/result/{id}` with the family's own status words, the same image as the NovelAI
//! route renders for the same inputs, and errors in the family's error shape.

use crate::support::*;
use img2img_emulator::{Config, router};
use img2img_specs::{ApiKey, Provider};
use serde_json::{Value, json};

const CREATE: &str = "create_unified_image";
const EDIT: &str = "create_unified_image_edit";
const RESULT: &str = "get_unified_task";

fn gptproto() -> Provider {
    Provider::named("gptproto")
}

fn config() -> Config {
    Config {
        api_keys: vec![ApiKey::new(KEY)],
        ..Config::default()
    }
}

/// The same NovelAI job through the route of the docs page and through the unified API.
fn same_job(seed: u64, image: &str) -> (Value, Value) {
    let route = json!({
        "prompt": "a watercolour fox", "negative_prompt": "blurry", "action": "img2img",
        "image": image, "size": "128x96", "n": 2, "seed": seed, "steps": 20, "scale": 5,
        "sampler": "k_dpmpp_2m", "strength": 0.4, "noise": 0.1
    });
    let unified = json!({
        "model": "novel/nai-diffusion-4-5-curated", "prompt": "a watercolour fox",
        "size": "128x96", "n": 2, "seed": seed,
        "input_references": [{"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{image}")}}],
        "provider": {"options": {"novel": {"parameters": {
            "negative_prompt": "blurry", "steps": 20, "scale": 5, "sampler": "k_dpmpp_2m",
            "strength": 0.4, "noise": 0.1
        }}}}
    });
    (route, unified)
}

/// Creates a unified task (202, documented) and polls it to a terminal status; returns the
/// statuses seen and the last answer.
async fn run_unified(router: &axum::Router, operation: &str, body: Value) -> (Vec<String>, Value) {
    let answer = send(
        router,
        request(gptproto(), operation, None, Some(body), Key::Valid),
    )
    .await;
    assert_eq!(
        answer.status,
        202,
        "{}",
        String::from_utf8_lossy(&answer.bytes)
    );
    let created = answer.json();
    assert_documented(gptproto(), operation, 202, &created);
    let id = created["id"].as_str().expect("a task id").to_owned();
    assert_eq!(
        created["polling_url"],
        format!("/api/v3/tasks/result/{id}"),
        "{created}"
    );
    let mut seen = vec![created["status"].as_str().unwrap().to_owned()];
    for _ in 0..2000 {
        let answer = send(
            router,
            request(gptproto(), RESULT, Some(&id), None, Key::Valid),
        )
        .await;
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.bytes)
        );
        let task = answer.json();
        assert_documented(gptproto(), RESULT, 200, &task);
        let status = task["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if ["completed", "failed", "cancelled", "expired"].contains(&status.as_str()) {
            return (seen, task);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("unified task {id} never ended");
}

async fn images_of(router: &axum::Router, urls: &[String]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for url in urls {
        let answer = download(router, url).await;
        assert_eq!(answer.status, 200, "{url}");
        out.push(answer.bytes.to_vec());
    }
    out
}

#[tokio::test]
async fn a_unified_task_renders_the_same_images_as_the_novelai_route() {
    let router = router(&[gptproto()], config());
    let (route, unified) = same_job(7, &png_base64(64, 48));

    let by_route = run_job(&router, gptproto(), route).await;
    let route_images = images_of(&router, &output_urls(gptproto(), &by_route)).await;
    assert_eq!(route_images.len(), 2, "{by_route}");

    let (seen, task) = run_unified(&router, CREATE, unified.clone()).await;
    assert_eq!(
        seen.first().map(String::as_str),
        Some("pending"),
        "{seen:?}"
    );
    assert_eq!(
        seen.last().map(String::as_str),
        Some("completed"),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .all(|s| ["pending", "in_progress", "completed"].contains(&s.as_str())),
        "only the unified API's own words: {seen:?}"
    );
    assert_eq!(task["model"], "novel/nai-diffusion-4-5-curated", "{task}");
    assert!(task.get("error").is_none(), "{task}");
    let urls: Vec<String> = task["unsigned_urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect();
    let unified_images = images_of(&router, &urls).await;
    assert_eq!(
        unified_images, route_images,
        "the same inputs render the same images through either family"
    );

    // Another seed renders another image: the comparison above can fail.
    let (_, other) = run_unified(&router, CREATE, {
        let mut body = unified;
        body["seed"] = json!(8);
        body
    })
    .await;
    let other_urls: Vec<String> = other["unsigned_urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect();
    assert_ne!(images_of(&router, &other_urls).await, route_images);
}

#[tokio::test]
async fn an_image_tool_task_runs_through_the_edit_endpoint() {
    let router = router(&[gptproto()], config());
    let body = json!({
        "model": "novel/nai-diffusion-4-5-curated",
        "image": format!("data:image/png;base64,{}", png_base64(64, 48))
    });
    let (seen, task) = run_unified(&router, EDIT, body).await;
    assert_eq!(
        seen.last().map(String::as_str),
        Some("completed"),
        "{seen:?}"
    );
    let urls = task["unsigned_urls"].as_array().unwrap();
    assert_eq!(urls.len(), 1, "{task}");
    let image = download(&router, urls[0].as_str().unwrap()).await;
    assert_eq!(image.status, 200);
    assert!(image.bytes.starts_with(b"\x89PNG"), "a PNG");
}

#[tokio::test]
async fn unified_errors_come_in_the_unified_error_shape() {
    let router = router(&[gptproto()], config());
    let (_, body) = same_job(7, &png_base64(64, 48));

    // A wrong key: 401 with {"error": {"message", "code"}}, what GPTProto's SDKs parse.
    let answer = send(
        &router,
        request(
            gptproto(),
            CREATE,
            None,
            Some(body.clone()),
            Key::Other("sk-wrong"),
        ),
    )
    .await;
    assert_eq!(answer.status, 401);
    let error = answer.json();
    assert_documented(gptproto(), CREATE, 401, &error);
    assert_eq!(error["error"]["code"], 401, "{error}");
    assert!(error["error"]["message"].is_string(), "{error}");

    // A model that is not NovelAI's, and a field the schema does not have: 400 naming it.
    for (pointer, value, named) in [
        ("/model", json!("openai/gpt-image-1"), "model"),
        (
            "/provider/options/novel/parameters/steps",
            json!(51),
            "steps",
        ),
    ] {
        let mut bad = body.clone();
        *bad.pointer_mut(pointer).unwrap() = value;
        let answer = send(
            &router,
            request(gptproto(), CREATE, None, Some(bad), Key::Valid),
        )
        .await;
        assert_eq!(answer.status, 400, "{pointer}");
        let error = answer.json();
        assert_documented(gptproto(), CREATE, 400, &error);
        assert_eq!(error["error"]["code"], 400, "{error}");
        assert!(
            error["error"]["message"].as_str().unwrap().contains(named),
            "{error}"
        );
    }

    // An unknown task: 404 in the same shape.
    let answer = send(
        &router,
        request(gptproto(), RESULT, Some("no-such-task"), None, Key::Valid),
    )
    .await;
    assert_eq!(answer.status, 404);
    let error = answer.json();
    assert_documented(gptproto(), RESULT, 404, &error);
    assert_eq!(error["error"]["code"], 404, "{error}");
}
