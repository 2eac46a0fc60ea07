//! Hostile inputs on a real loopback socket: each gets its documented status in the provider's
//! error shape, never a 500, the message names what was wrong, no key is echoed, and the server
//! keeps serving afterwards.

use crate::support::*;
use img2img_emulator::{Config, DEFAULT_BODY_LIMIT, Emulator};
use img2img_specs::Provider;
use img2img_specs::extensions::{AuthPlacement, Cause};
use serde_json::{Value, json};

const WRONG: &str = "sk-wrong-key-never-echoed";

struct Hostile {
    name: &'static str,
    provider: Provider,
    content_type: &'static str,
    body: Vec<u8>,
    key: Option<&'static str>,
    status: u16,
    says: &'static str,
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

fn with_key(provider: Provider, mut body: Value, key: Option<&str>) -> Value {
    if spec(provider).extensions().auth.placement == AuthPlacement::Body {
        match key {
            Some(key) => body["key"] = json!(key),
            None => {
                body.as_object_mut().unwrap().remove("key");
            }
        }
    }
    body
}

fn cases() -> Vec<Hostile> {
    let mut cases = Vec::new();
    for provider in Provider::all() {
        let good = create_body(provider, 1);
        // The statuses each provider's spec gives these causes (x-emulator.answers.statuses).
        let answers = spec(provider)
            .extensions()
            .emulator
            .as_ref()
            .and_then(|e| e.answers.as_ref())
            .unwrap();
        let status = |cause| answers.status(cause).unwrap();
        let (missing_status, wrong_status) = (status(Cause::MissingKey), status(Cause::WrongKey));
        let invalid_status = status(Cause::InvalidRequest);
        cases.push(Hostile {
            name: "missing key",
            provider,
            content_type: "application/json",
            body: json_bytes(&with_key(provider, good.clone(), None)),
            key: None,
            status: missing_status,
            says: "missing API key",
        });
        cases.push(Hostile {
            name: "wrong key",
            provider,
            content_type: "application/json",
            body: json_bytes(&with_key(provider, good.clone(), Some(WRONG))),
            key: Some(WRONG),
            status: wrong_status,
            says: "invalid API key",
        });
        cases.push(Hostile {
            name: "wrong content type",
            provider,
            content_type: "text/plain",
            body: json_bytes(&good),
            key: Some(KEY),
            status: invalid_status,
            says: "send application/json",
        });
        cases.push(Hostile {
            name: "malformed JSON",
            provider,
            content_type: "application/json",
            body: b"{\"prompt\": \"a cat\",".to_vec(),
            key: Some(KEY),
            status: invalid_status,
            says: "not valid JSON",
        });
        let limit = match provider.id() {
            "novita" => 10_485_760_usize.div_ceil(3) * 4 + 1024 * 1024,
            _ => DEFAULT_BODY_LIMIT as usize,
        };
        let mut big = good.clone();
        big["prompt"] = json!("a".repeat(limit));
        cases.push(Hostile {
            name: "oversized body",
            provider,
            content_type: "application/json",
            body: json_bytes(&big),
            key: Some(KEY),
            // The spec's status for a body too large (Novita: 400 IMAGE_FILE_EXCEEDS_MAX_SIZE).
            status: spec(provider)
                .extensions()
                .emulator
                .as_ref()
                .and_then(|e| e.answers.as_ref())
                .and_then(|a| a.status(Cause::TooLarge))
                .unwrap(),
            says: "above the maximum",
        });
        let mut foreign = good.clone();
        let media = media_fields_of(provider, &foreign);
        *foreign.pointer_mut(&media).unwrap() = json!("https://example.com/cat.png");
        cases.push(Hostile {
            name: "foreign URL",
            provider,
            content_type: "application/json",
            body: json_bytes(&foreign),
            key: Some(KEY),
            status: invalid_status,
            says: "never fetches remote URLs, and strict images are on",
        });
        let mut garbage = good.clone();
        *garbage.pointer_mut(&media).unwrap() = json!("bm90IGFuIGltYWdl");
        cases.push(Hostile {
            name: "not an image",
            provider,
            content_type: "application/json",
            body: json_bytes(&garbage),
            key: Some(KEY),
            status: invalid_status,
            says: "is not a PNG, JPEG or WebP image",
        });
    }
    let invalid = [
        (
            Provider::named("gptproto"),
            "/n",
            json!(5),
            "n = 5 is above the maximum 4",
        ),
        (
            Provider::named("novita"),
            "/request/width",
            json!(4096),
            "request.width = 4096 is above the maximum 2048",
        ),
        (
            Provider::named("modelslab"),
            "/samples",
            json!("9"),
            "samples",
        ),
    ];
    for (provider, pointer, value, says) in invalid {
        let mut body = create_body(provider, 1);
        *body.pointer_mut(pointer).unwrap() = value;
        cases.push(Hostile {
            name: "invalid field",
            provider,
            content_type: "application/json",
            body: json_bytes(&body),
            key: Some(KEY),
            status: 400,
            says,
        });
    }
    let mut huge = create_body(Provider::named("gptproto"), 1);
    huge["size"] = json!("49152x49152");
    cases.push(Hostile {
        name: "pixel budget",
        provider: Provider::named("gptproto"),
        content_type: "application/json",
        body: json_bytes(&huge),
        key: Some(KEY),
        status: 400,
        says: "size x n = 49152x49152 x 2 image(s) = 4831838208 output pixels, above the emulator's pixel budget 33554432",
    });
    cases
}

fn media_fields_of(provider: Provider, body: &Value) -> String {
    let fields = img2img_specs::media_fields(create_schema(provider).schema(), body);
    fields
        .into_iter()
        .next()
        .expect("the request carries an image")
}

#[tokio::test]
async fn each_hostile_input_gets_its_documented_status_and_the_server_keeps_serving() {
    let config = Config {
        api_keys: vec![KEY.into()],
        strict_images: true,
        ..Config::default()
    };
    let emulator = Emulator::start(&Provider::all().collect::<Vec<_>>(), config)
        .await
        .unwrap();
    let client = client();
    for case in cases() {
        let provider = case.provider;
        let auth = &spec(provider).extensions().auth;
        let mut builder = client
            .post(format!(
                "{}{}",
                emulator.base_url(),
                path(provider, &create_op(provider), None)
            ))
            .header("content-type", case.content_type)
            .body(case.body.clone());
        if let (AuthPlacement::Header, Some(key)) = (auth.placement, case.key) {
            builder = builder.header(auth.name.as_str(), format!("{}{key}", auth.prefix));
        }
        let response = builder.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        let label = format!("{provider} {}", case.name);
        assert_eq!(status, case.status, "{label}: {body}");
        // 413 is documented by no spec: it carries the shape of the provider's 400.
        let documented = if status == 413 { 400 } else { status };
        assert_documented(provider, &create_op(provider), documented, &body);
        let text = body.to_string();
        assert!(text.contains(case.says), "{label}: {text}");
        assert!(
            !text.contains(WRONG) && !text.contains(KEY),
            "{label}: a key is echoed: {text}"
        );

        let good = with_key(provider, create_body(provider, 2), Some(KEY));
        let mut again = client
            .post(format!(
                "{}{}",
                emulator.base_url(),
                path(provider, &create_op(provider), None)
            ))
            .json(&good);
        if auth.placement == AuthPlacement::Header {
            again = again.header(auth.name.as_str(), format!("{}{KEY}", auth.prefix));
        }
        let again = again.send().await.unwrap();
        assert_eq!(again.status(), 200, "{label}: the server stopped serving");
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn both_accepted_key_forms_work_and_keys_stay_out_of_debug_output() {
    let config = Config {
        api_keys: vec![KEY.into()],
        ..Config::default()
    };
    assert!(!format!("{config:?}").contains(KEY));
    let emulator = Emulator::start(
        &[Provider::named("gptproto"), Provider::named("novita")],
        config,
    )
    .await
    .unwrap();
    for provider in [Provider::named("gptproto"), Provider::named("novita")] {
        for form in [KEY.to_owned(), format!("Bearer {KEY}")] {
            let response = client()
                .post(format!(
                    "{}{}",
                    emulator.base_url(),
                    path(provider, &create_op(provider), None)
                ))
                .header("authorization", form.clone())
                .json(&create_body(provider, 1))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                200,
                "{provider} {}",
                form.replace(KEY, "<key>")
            );
        }
    }
    let unknown = client()
        .get(format!(
            "{}/v3/async/task-result?task_id=nope",
            emulator.base_url()
        ))
        .header("authorization", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_empty_key_list_accepts_any_non_empty_key_but_not_none() {
    let emulator = Emulator::start(&[Provider::named("novita")], Config::default())
        .await
        .unwrap();
    let url = format!(
        "{}{}",
        emulator.base_url(),
        path(Provider::named("novita"), "create_img2img", None)
    );
    let with_any = client()
        .post(&url)
        .header("authorization", "Bearer anything")
        .json(&create_body(Provider::named("novita"), 1))
        .send()
        .await
        .unwrap();
    assert_eq!(with_any.status(), 200);
    let with_empty = client()
        .post(&url)
        .header("authorization", "Bearer ")
        .json(&create_body(Provider::named("novita"), 1))
        .send()
        .await
        .unwrap();
    // Novita refuses a request without a key with 400 MISSING_API_KEY (its error table).
    assert_eq!(with_empty.status(), 400);
    let body: Value = with_empty.json().await.unwrap();
    assert_eq!(body["reason"], "MISSING_API_KEY");
    emulator.shutdown().await;
}
