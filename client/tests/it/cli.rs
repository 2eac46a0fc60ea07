//! The `img2img` binary end to end against a mock server: a whole job, bad input refused with
//! exit code 2 and no request sent, a failed wait that prints its handle, and `img2img resume`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{KEY, Sequence, json, png};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs the binary with only `env` keys set (none of the real ones leak in).
async fn img2img(args: Vec<String>, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_img2img"));
    command.args(args);
    for provider in img2img_client::Provider::all() {
        let spec = img2img_specs::Spec::embedded(provider);
        command.env_remove(&spec.extensions().provider.key_env);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn input(dir: &Path) -> String {
    let file = dir.join("in.png");
    std::fs::write(&file, png(512, 384)).unwrap();
    file.to_string_lossy().into_owned()
}

async fn novita_server(final_status: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/async/img2img"))
        .respond_with(json(200, json!({"task_id": "task-42"})))
        .mount(&server)
        .await;
    let done = json!({"task": {"task_id": "task-42", "status": final_status, "eta": 0},
        "images": [{"image_url": format!("{}/o/0.png", server.uri()), "image_type": "png"},
                   {"image_url": format!("{}/o/1.png", server.uri()), "image_type": "png"}]});
    Mock::given(method("GET"))
        .and(path("/v3/async/task-result"))
        .respond_with(Sequence::new(vec![
            json(200, json!({"task": {"task_id": "task-42", "status": "TASK_STATUS_PROCESSING", "progress_percent": 40}})),
            json(200, done),
        ]))
        .mount(&server)
        .await;
    for i in 0..2 {
        Mock::given(method("GET"))
            .and(path(format!("/o/{i}.png")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(png(32 + i, 16)))
            .mount(&server)
            .await;
    }
    server
}

#[tokio::test]
async fn a_whole_job_writes_its_images_and_a_json_summary() {
    let server = novita_server("TASK_STATUS_SUCCEED").await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let image = input(dir.path());
    let output = img2img(
        args(&[
            "--provider",
            "novita",
            "--image",
            &image,
            "--prompt",
            "a fox",
            "--model",
            "m.safetensors",
            "--n",
            "2",
            "--sampler",
            "euler_ancestral",
            "--base-url",
            &server.uri(),
            "--out",
            out.to_str().unwrap(),
            "--json",
        ]),
        &[("NOVITA_API_KEY", KEY)],
    )
    .await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["status"], "TASK_STATUS_SUCCEED");
    assert_eq!(summary["job"]["id"], "task-42");
    let images = summary["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    for (i, image) in images.iter().enumerate() {
        let file = Path::new(image["path"].as_str().unwrap());
        assert_eq!(
            file.file_name().unwrap(),
            format!("novita-task-42-{i}.png").as_str()
        );
        assert_eq!(image["width"], 32 + i as u64);
        assert_eq!(std::fs::read(file).unwrap(), png(32 + i as u32, 16));
    }
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));
    // The handle file written at submission now says the job finished and where its images are:
    // resuming it sends nothing and says so.
    let handle_file = out.join("novita-task-42.job.json");
    let sent = server.received_requests().await.unwrap().len();
    let output = img2img(
        args(&["resume", handle_file.to_str().unwrap()]),
        &[("NOVITA_API_KEY", KEY)],
    )
    .await;
    let resumed = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{resumed}\n{}",
        text(&output.stderr)
    );
    assert!(
        resumed.starts_with("novita job task-42 already finished (TASK_STATUS_SUCCEED, "),
        "{resumed}"
    );
    assert!(
        resumed.contains("nothing was sent. Its images:"),
        "{resumed}"
    );
    for i in 0..2 {
        let image = out.join(format!("novita-task-42-{i}.png"));
        assert!(
            resumed.contains(&format!("  {}\n", image.display())),
            "{resumed}"
        );
    }
    assert_eq!(server.received_requests().await.unwrap().len(), sent);
    // The body the command sent: the neutral flags where Novita wants them.
    let received = server.received_requests().await.unwrap();
    let create: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(create["request"]["image_num"], 2);
    assert_eq!(create["request"]["sampler_name"], "Euler a");
    assert_eq!(create["request"]["width"], 512);
}

#[tokio::test]
async fn the_summary_and_progress_are_readable_without_json() {
    let server = novita_server("TASK_STATUS_SUCCEED").await;
    let dir = tempfile::tempdir().unwrap();
    let image = input(dir.path());
    let output = img2img(
        args(&[
            "--provider",
            "novita",
            "--image",
            &image,
            "--prompt",
            "a fox",
            "--model",
            "m",
            "--base-url",
            &server.uri(),
            "--out",
            dir.path().to_str().unwrap(),
        ]),
        &[("NOVITA_API_KEY", KEY)],
    )
    .await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("waiting: TASK_STATUS_PROCESSING 40%"),
        "{stderr}"
    );
    assert!(stdout.contains("2 image(s)"), "{stdout}");
    assert!(stdout.contains("png 33x16"), "{stdout}");
}

#[tokio::test]
async fn bad_input_exits_2_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json(500, json!({})))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let image = input(dir.path());
    let base = server.uri();
    type Case<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)], &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--provider", "novita", "--model", "m", "--n", "9"],
            &[("NOVITA_API_KEY", KEY)],
            "request.image_num = 9 is above the maximum 8",
        ),
        (
            vec!["--provider", "gptproto", "--strength", "0"],
            &[("GPTPROTO_API_KEY", KEY)],
            "strength = 0.0 is below the minimum 0.01",
        ),
        (
            vec![
                "--provider",
                "modelslab",
                "--model",
                "m",
                "--size",
                "2000x512",
            ],
            &[("MODELSLAB_API_KEY", KEY)],
            "width = 2000",
        ),
        (
            vec!["--provider", "novita", "--model", "m", "--noise", "0.2"],
            &[("NOVITA_API_KEY", KEY)],
            "--noise",
        ),
        (
            vec!["--provider", "novita"],
            &[("NOVITA_API_KEY", KEY)],
            "request.model_name",
        ),
        (
            vec!["--provider", "novita", "--model", "m"],
            &[],
            "NOVITA_API_KEY",
        ),
        (
            vec!["--provider", "novita", "--model", "m", "--size", "big"],
            &[("NOVITA_API_KEY", KEY)],
            "not WxH",
        ),
        (vec!["--provider", "nobody"], &[], "invalid value 'nobody'"),
    ];
    for (extra, env, expected) in cases {
        let mut list = vec![
            "--image",
            image.as_str(),
            "--prompt",
            "a fox",
            "--base-url",
            base.as_str(),
        ];
        list.extend(extra.iter().copied());
        let output = img2img(args(&list), env).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{list:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{list:?}: expected {expected:?} in {stderr}"
        );
    }
    let missing = img2img(
        args(&[
            "--provider",
            "novita",
            "--image",
            "/nonexistent.png",
            "--prompt",
            "x",
        ]),
        &[],
    )
    .await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a request was sent"
    );
}

#[tokio::test]
async fn a_failed_wait_prints_the_handle_and_resume_finishes_the_job() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/api/v3/novel/nai-diffusion-4-5-curated/image-to-image",
        ))
        .respond_with(json(
            200,
            json!({"data": {"id": "p-7", "status": "queued"}, "code": 200}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/predictions/p-7/result"))
        .respond_with(json(
            200,
            json!({"data": {"id": "p-7", "status": "running"}}),
        ))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let image = input(dir.path());
    let out = dir.path().to_str().unwrap();
    let output = img2img(
        args(&[
            "--provider",
            "gptproto",
            "--image",
            &image,
            "--prompt",
            "a fox",
            "--base-url",
            &server.uri(),
            "--out",
            out,
            "--deadline",
            "1",
        ]),
        &[("GPTPROTO_API_KEY", KEY)],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("deadline of 1s exceeded while the job was still running"),
        "{stderr}"
    );
    assert!(
        stderr.contains("img2img resume '{\"provider\":\"gptproto\",\"id\":\"p-7\""),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY));
    let handle_file = dir.path().join("gptproto-p-7.job.json");
    assert!(handle_file.exists());

    // The job finishes later; resuming from the saved file fetches the images without paying again.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/predictions/p-7/result"))
        .respond_with(json(
            200,
            json!({"data": {"id": "p-7", "status": "completed", "outputs": [format!("{}/p7.png", server.uri())]}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/p7.png"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(png(8, 8)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json(500, json!({})))
        .expect(0)
        .mount(&server)
        .await;
    let output = img2img(
        args(&[
            "resume",
            handle_file.to_str().unwrap(),
            "--out",
            out,
            "--json",
        ]),
        &[("GPTPROTO_API_KEY", KEY)],
    )
    .await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["images"][0]["width"], 8);
    assert!(dir.path().join("gptproto-p-7-0.png").exists());
}

#[tokio::test]
async fn refusals_name_the_flag_and_providers_come_from_the_specs() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json(500, json!({})))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let image = input(dir.path());
    let base = server.uri();
    let env: &[(&str, &str)] = &[("NOVITA_API_KEY", KEY)];
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["--provider", "novita"], vec!["model_name", "--model"]),
        (
            vec!["--provider", "novita", "--model", "m", "--n", "9"],
            vec!["request.image_num = 9 is above the maximum 8", "--n"],
        ),
        (
            vec!["--provider", "novita", "--model", "m", "--noise", "0.1"],
            vec!["--noise"],
        ),
        (
            vec![
                "--provider",
                "novita",
                "--model",
                "m",
                "--set",
                "request.clip_skip=20",
            ],
            vec![
                "request.clip_skip = 20 is above the maximum 12",
                "(set by --set request.clip_skip=20)",
            ],
        ),
        (
            vec![
                "--provider",
                "novita",
                "--model",
                "m",
                "--set",
                "request.stpes=3",
            ],
            vec!["nearest known: request.steps"],
        ),
        (
            vec!["--provider", "novita", "--set", "steps"],
            vec!["is not path=value"],
        ),
        (
            vec![
                "--provider",
                "novita",
                "--model",
                "m",
                "--aspect-ratio",
                "16:9",
            ],
            vec!["novita has no aspect_ratio setting", "--aspect-ratio"],
        ),
        (
            vec!["--provider", "bfl", "--aspect-ratio", "16x9"],
            vec!["\"16x9\" is not W:H"],
        ),
    ];
    for (extra, expected) in cases {
        let mut list = vec![
            "--image",
            image.as_str(),
            "--prompt",
            "a fox",
            "--base-url",
            base.as_str(),
        ];
        list.extend(extra.iter().copied());
        let output = img2img(args(&list), env).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{list:?}: {stderr}");
        for needle in expected {
            assert!(
                stderr.contains(needle),
                "{list:?}: expected {needle:?} in {stderr}"
            );
        }
    }
    // A size nobody gave comes from the input image: the error says so, and names the flag.
    let small = dir.path().join("small.png");
    std::fs::write(&small, png(64, 48)).unwrap();
    let list = [
        "--image",
        small.to_str().unwrap(),
        "--prompt",
        "a fox",
        "--base-url",
        base.as_str(),
        "--provider",
        "novita",
        "--model",
        "m",
    ];
    let output = img2img(args(&list), env).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is below the minimum")
            && stderr.contains("(the input image's size; --size sets another)"),
        "{stderr}"
    );
    let unknown = img2img(args(&["--provider", "nobody"]), &[]).await;
    let stderr = text(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(2), "{stderr}");
    let help = img2img(args(&["--help"]), &[]).await;
    let help = text(&help.stdout);
    for provider in img2img_client::Provider::all() {
        let key_env = &img2img_specs::Spec::embedded(provider)
            .extensions()
            .provider
            .key_env;
        assert!(stderr.contains(provider.id()), "{stderr}");
        assert!(
            help.contains(provider.id()) && help.contains(key_env.as_str()),
            "{help}"
        );
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a request was sent"
    );
}

#[tokio::test]
async fn set_fields_reach_the_create_body() {
    let server = novita_server("TASK_STATUS_SUCCEED").await;
    let dir = tempfile::tempdir().unwrap();
    let image = input(dir.path());
    let output = img2img(
        args(&[
            "--provider",
            "novita",
            "--image",
            &image,
            "--prompt",
            "a fox",
            "--model",
            "m",
            "--set",
            "request.clip_skip=2",
            "--set",
            "/request/loras/0/model_name=add_detail",
            "--set",
            "request.loras.0.strength=0.5",
            "--base-url",
            &server.uri(),
            "--out",
            dir.path().to_str().unwrap(),
            "--json",
        ]),
        &[("NOVITA_API_KEY", KEY)],
    )
    .await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let received = server.received_requests().await.unwrap();
    let create: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(create["request"]["clip_skip"], 2);
    assert_eq!(
        create["request"]["loras"],
        json!([{"model_name": "add_detail", "strength": 0.5}])
    );
}
