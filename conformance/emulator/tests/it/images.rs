//! Output images: they decode, have the requested size, count and format; the same request gives
//! the same bytes, another seed other bytes; image i of a batch is image 0 of seed + i; a random
//! seed is reported and reproduces the images; inputs come as base64, `data:` URLs or the
//! emulator's own image URLs.

use crate::support::*;
use image::{GenericImageView, ImageFormat};
use img2img_emulator::{Config, router};
use img2img_specs::{Feature, Provider};
use serde_json::{Value, json};

async fn images_of(
    router: &axum::Router,
    provider: Provider,
    body: Value,
) -> (Value, Vec<Vec<u8>>) {
    let done = run_job(router, provider, body).await;
    let mut images = Vec::new();
    for url in output_urls(provider, &done) {
        let answer = download(router, &url).await;
        assert_eq!(answer.status, 200);
        images.push(answer.bytes);
    }
    (done, images)
}

#[tokio::test]
async fn outputs_have_the_requested_size_count_and_format() {
    let router = router(&Provider::all().collect::<Vec<_>>(), Config::default());
    for (format, expected, mime) in [
        ("png", ImageFormat::Png, "image/png"),
        ("webp", ImageFormat::WebP, "image/webp"),
        ("jpeg", ImageFormat::Jpeg, "image/jpeg"),
    ] {
        let mut body = create_body(Provider::named("novita"), 3);
        body["extra"]["response_image_type"] = json!(format);
        body["request"]["width"] = json!(160);
        body["request"]["height"] = json!(128);
        body["request"]["image_num"] = json!(3);
        let done = run_job(&router, Provider::named("novita"), body).await;
        let urls = output_urls(Provider::named("novita"), &done);
        assert_eq!(urls.len(), 3);
        for url in urls {
            assert!(url.ends_with(&format!(".{format}")), "{url}");
            let answer = download(&router, &url).await;
            assert_eq!(answer.content_type, mime);
            assert_eq!(image::guess_format(&answer.bytes).unwrap(), expected);
            let decoded = image::load_from_memory(&answer.bytes).unwrap();
            assert_eq!(decoded.dimensions(), (160, 128));
        }
    }
    let (_, gptproto) = images_of(
        &router,
        Provider::named("gptproto"),
        create_body(Provider::named("gptproto"), 3),
    )
    .await;
    assert_eq!(gptproto.len(), 2);
    for bytes in &gptproto {
        assert_eq!(image::guess_format(bytes).unwrap(), ImageFormat::Png);
        assert_eq!(
            image::load_from_memory(bytes).unwrap().dimensions(),
            (128, 96)
        );
    }
    let (_, modelslab) = images_of(
        &router,
        Provider::named("modelslab"),
        create_body(Provider::named("modelslab"), 3),
    )
    .await;
    assert_eq!(modelslab.len(), 2);
    assert_eq!(
        image::load_from_memory(&modelslab[0]).unwrap().dimensions(),
        (256, 256)
    );
}

#[tokio::test]
async fn same_inputs_same_bytes_and_another_seed_other_bytes() {
    // Providers whose request can ask for a batch (x-feature: images_per_call).
    let batched = Provider::all().filter(|p| {
        spec(*p)
            .feature(&create_op(*p), img2img_specs::Feature::ImagesPerCall)
            .is_some()
    });
    for provider in batched {
        let router = router(&[provider], Config::default());
        let (_, first) = images_of(&router, provider, create_body(provider, 11)).await;
        let (_, again) = images_of(&router, provider, create_body(provider, 11)).await;
        assert_eq!(first, again, "{provider}: same request, same bytes");
        let (_, other) = images_of(&router, provider, create_body(provider, 12)).await;
        assert_ne!(
            first[0], other[0],
            "{provider}: another seed, another image"
        );
        assert_ne!(first[0], first[1], "{provider}: images of one batch differ");
        assert_eq!(
            first[1], other[0],
            "{provider}: image 1 of seed 11 is image 0 of seed 12"
        );
    }
}

#[tokio::test]
async fn the_prompt_and_strength_change_the_image() {
    let router = router(&[Provider::named("gptproto")], Config::default());
    let (_, base) = images_of(
        &router,
        Provider::named("gptproto"),
        create_body(Provider::named("gptproto"), 5),
    )
    .await;
    let mut body = create_body(Provider::named("gptproto"), 5);
    body["prompt"] = json!("a red fox");
    let (_, prompt) = images_of(&router, Provider::named("gptproto"), body).await;
    assert_ne!(base[0], prompt[0]);
    let mut body = create_body(Provider::named("gptproto"), 5);
    body["strength"] = json!(0.2);
    let (_, strength) = images_of(&router, Provider::named("gptproto"), body).await;
    assert_ne!(base[0], strength[0]);
}

#[tokio::test]
async fn random_seeds_are_reported_and_reproduce_the_images() {
    let router = router(&Provider::all().collect::<Vec<_>>(), Config::default());
    // Novita: seed -1, reported in extra.seed.
    let mut body = create_body(Provider::named("novita"), 0);
    body["request"]["seed"] = json!(-1);
    let (done, random) = images_of(&router, Provider::named("novita"), body).await;
    let seed = done["extra"]["seed"]
        .as_u64()
        .expect("extra.seed is reported");
    let (_, fixed) = images_of(
        &router,
        Provider::named("novita"),
        create_body(Provider::named("novita"), seed),
    )
    .await;
    assert_eq!(random, fixed);
    // ModelsLab: seed null, reported in meta.seed.
    let mut body = create_body(Provider::named("modelslab"), 0);
    body["seed"] = Value::Null;
    let (done, random) = images_of(&router, Provider::named("modelslab"), body).await;
    let seed = done["meta"]["seed"]
        .as_u64()
        .expect("meta.seed is reported");
    let (_, fixed) = images_of(
        &router,
        Provider::named("modelslab"),
        create_body(Provider::named("modelslab"), seed),
    )
    .await;
    assert_eq!(random, fixed);
    // GPTProto: seed absent; two runs differ.
    let mut body = create_body(Provider::named("gptproto"), 0);
    body.as_object_mut().unwrap().remove("seed");
    let (_, one) = images_of(&router, Provider::named("gptproto"), body.clone()).await;
    let (_, two) = images_of(&router, Provider::named("gptproto"), body).await;
    assert_ne!(one, two);
}

#[tokio::test]
async fn inputs_as_data_urls_and_own_urls_are_decoded() {
    let router = router(&Provider::all().collect::<Vec<_>>(), Config::default());
    let (done, _) = images_of(
        &router,
        Provider::named("gptproto"),
        create_body(Provider::named("gptproto"), 1),
    )
    .await;
    let own_url = output_urls(Provider::named("gptproto"), &done)[0].clone();
    let data_url = format!("data:image/png;base64,{}", png_base64(40, 30));
    for input in [own_url, data_url] {
        let mut body = create_body(Provider::named("modelslab"), 1);
        body["init_image"] = json!(input);
        let done = run_job(&router, Provider::named("modelslab"), body).await;
        assert_eq!(done["status"], "success", "{input:.60}");
    }
    // Which input was given shows in the output.
    let mut body = create_body(Provider::named("modelslab"), 1);
    body["init_image"] = json!(png_base64(40, 30));
    let (_, other_input) = images_of(&router, Provider::named("modelslab"), body).await;
    let (_, usual) = images_of(
        &router,
        Provider::named("modelslab"),
        create_body(Provider::named("modelslab"), 1),
    )
    .await;
    assert_ne!(other_input[0], usual[0]);
}

#[tokio::test]
async fn modelslab_base64_yes_returns_the_images_inline() {
    let router = router(&[Provider::named("modelslab")], Config::default());
    let mut body = create_body(Provider::named("modelslab"), 4);
    body["base64"] = json!("yes");
    let done = run_job(&router, Provider::named("modelslab"), body).await;
    let inline = done["output"].as_array().unwrap();
    assert_eq!(inline.len(), 2);
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(inline[0].as_str().unwrap())
        .unwrap();
    assert_eq!(
        image::load_from_memory(&bytes).unwrap().dimensions(),
        (256, 256)
    );
    let (_, by_url) = images_of(
        &router,
        Provider::named("modelslab"),
        create_body(Provider::named("modelslab"), 4),
    )
    .await;
    assert_eq!(
        bytes, by_url[0],
        "inline and URL outputs are the same image"
    );
}

#[tokio::test]
async fn a_remote_url_is_never_fetched_but_stands_for_an_input_derived_from_it() {
    // The docs' own examples send remote URLs; nothing listens at these (tests have no network).
    let lenient = router(&Provider::all().collect::<Vec<_>>(), Config::default());
    let strict = router(
        &Provider::all().collect::<Vec<_>>(),
        Config {
            strict_images: true,
            ..Config::default()
        },
    );
    for provider in Provider::all() {
        let with_url = |url: &str| {
            let mut body = create_body(provider, 7);
            for pointer in img2img_specs::media_fields(create_schema(provider).schema(), &body) {
                *body.pointer_mut(&pointer).unwrap() = json!(url);
            }
            body
        };
        let (_, a) = images_of(
            &lenient,
            provider,
            with_url("https://example.com/reference.jpg"),
        )
        .await;
        let (_, b) = images_of(
            &lenient,
            provider,
            with_url("https://example.com/reference.jpg"),
        )
        .await;
        let (_, c) = images_of(
            &lenient,
            provider,
            with_url("https://example.com/image.jpg"),
        )
        .await;
        assert_eq!(a, b, "{provider}: the same URL gave two inputs");
        assert_ne!(a, c, "{provider}: two URLs gave the same input");
        let refused = send(
            &strict,
            request(
                provider,
                &create_op(provider),
                None,
                Some(with_url("https://example.com/reference.jpg")),
                Key::Valid,
            ),
        )
        .await;
        let invalid_status = spec(provider)
            .extensions()
            .emulator
            .as_ref()
            .and_then(|e| e.answers.as_ref())
            .and_then(|a| a.status(img2img_specs::extensions::Cause::InvalidRequest))
            .unwrap();
        assert_eq!(
            refused.status, invalid_status,
            "{provider}: strict images accepted a URL"
        );
        assert!(
            String::from_utf8_lossy(&refused.bytes).contains("never fetches remote URLs"),
            "{provider}"
        );
    }
}

/// A provider whose output keeps about one area whatever its shape (`render-defaults.pixels`:
/// BFL's one megapixel) renders the ratio a request asks for (`x-feature: aspect_ratio`), else
/// its init image's; a ratio it cannot read counts as none.
#[tokio::test]
async fn an_output_kept_at_one_area_takes_the_asked_ratio_else_the_inputs() {
    let bfl = Provider::named("bfl");
    let router = router(&[bfl], Config::default());
    let defaults = &spec(bfl)
        .extensions()
        .emulator
        .as_ref()
        .unwrap()
        .render_defaults;
    let pixels = defaults.pixels.expect("BFL keeps one area") as f64;
    let ratio_field = spec(bfl)
        .feature(&create_op(bfl), Feature::AspectRatio)
        .and_then(|field| field.property_names())
        .expect("BFL's create has an aspect ratio");
    let [ratio_field] = ratio_field[..] else {
        panic!("BFL's aspect ratio is a top-level field: {ratio_field:?}");
    };
    let input = (96.0, 64.0);
    for (asked, ratio) in [
        (Some("16:9"), 16.0 / 9.0),
        (Some("9:21"), 9.0 / 21.0),
        (Some("1:1"), 1.0),
        (None, input.0 / input.1),
        (Some("<string>"), input.0 / input.1),
    ] {
        let mut body = create_body(bfl, 7);
        if let Some(asked) = asked {
            body[ratio_field] = json!(asked);
        }
        let (done, images) = images_of(&router, bfl, body).await;
        assert_eq!(images.len(), 1, "{done}");
        let (width, height) = image::load_from_memory(&images[0]).unwrap().dimensions();
        let (width, height) = (f64::from(width), f64::from(height));
        assert!(
            (width / height / ratio - 1.0).abs() < 0.05,
            "{asked:?}: {width}x{height} is not {ratio:.3}"
        );
        assert!(
            (width * height / pixels - 1.0).abs() < 0.05,
            "{asked:?}: {width}x{height} is not about {pixels} pixels"
        );
    }
}
