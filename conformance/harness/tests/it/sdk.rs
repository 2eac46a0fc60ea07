//! The SDK compatibility suite: the providers' official SDKs, unmodified and pinned
//! (`conformance/sdk/`), run whole jobs against the emulator started in this process, each through
//! its own script. Every request each SDK sent is validated against the spec's accepting reading and
//! every answer against its response schema (from the emulator's request journal); what each SDK
//! sends beyond the docs is written to `target/conformance/sdk.json` for the compatibility report.
//!
//! Nothing is installed here: `.ci/run` (or `conformance/sdk/run.sh`) installs the SDKs. Where they
//! are is read from `SDK_PYTHON`, `SDK_NODE` and `SDK_NODE_DIR` (see [`sdk_env`](crate::sdk_env));
//! `SDK_REPORT` (default `target/conformance/sdk.json`) says where the results go.
//!
//! A missing runtime or SDK skips that SDK with a message, and fails the test when `CI` is set.
//!
//! Also here: a request the docs rule out, such as the one novita-client sends, is still refused by
//! our generated client before anything is sent, while the emulator accepts it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use img2img_emulator::{AnswerStyle, Config, Emulator, Exchange, KeyFault};
use img2img_harness::clients::{CallInput, call};
use img2img_harness::sdk::{drift, operations, violations};
use img2img_report::sdk::{SdkCase, SdkOutcome, SdkResult, SdkRun};
use img2img_specs::guard::Credentials;
use img2img_specs::{ApiKey, Provider, Spec};
use serde_json::{Value, json};

use crate::sdk_env;

const KEY: &str = "sk-sdk-suite";
const FAULT_KEY: &str = "sk-sdk-suite-fails";
const FAULT_REASON: &str = "sdk suite failure";

/// One official SDK and how its script runs.
struct Sdk {
    name: &'static str,
    registry: &'static str,
    version: &'static str,
    provider: Provider,
    program: PathBuf,
    args: Vec<String>,
    dir: PathBuf,
    /// Why it cannot run here, if it cannot.
    missing: Option<String>,
}

fn python_sdk(
    name: &'static str,
    version: &'static str,
    provider: Provider,
    module: &str,
    script: &str,
) -> Sdk {
    let python = sdk_env::python();
    let dir = sdk_env::workspace().join("conformance/sdk/python");
    let missing = match Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
    {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "{} cannot import {module}: {} (install the SDKs: python3 -m venv target/sdk-venv && target/sdk-venv/bin/pip install -r conformance/sdk/python/requirements.txt, or set SDK_PYTHON)",
            python.display(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Err(e) => Some(format!(
            "no Python at {} ({e}); make the venv (see conformance/sdk/README.md) or set SDK_PYTHON",
            python.display()
        )),
    };
    Sdk {
        name,
        registry: "PyPI",
        version,
        provider,
        program: python,
        args: vec![script.to_owned()],
        dir,
        missing,
    }
}

fn node_sdk() -> Sdk {
    let node = sdk_env::node();
    let dir = sdk_env::node_dir();
    let missing = match Command::new(&node).arg("--version").output() {
        Ok(out) if out.status.success() => {
            let module = dir.join("node_modules/novita-sdk/package.json");
            (!module.is_file()).then(|| {
                format!(
                    "{} is missing: run `npm ci` in {} (or set SDK_NODE_DIR)",
                    module.display(),
                    dir.display()
                )
            })
        }
        _ => Some(format!(
            "no Node.js at {} (install Node 18 or later, or set SDK_NODE)",
            node.display()
        )),
    };
    Sdk {
        name: "novita-sdk",
        registry: "npm",
        version: "3.1.3",
        provider: Provider::named("novita"),
        program: node,
        args: vec!["novita_sdk_check.mjs".into()],
        dir,
        missing,
    }
}

fn sdks() -> Vec<Sdk> {
    vec![
        python_sdk(
            "novita-client",
            "0.7.1",
            Provider::named("novita"),
            "novita_client",
            "novita_client_check.py",
        ),
        node_sdk(),
        python_sdk(
            "modelslab-py",
            "0.2.3",
            Provider::named("modelslab"),
            "modelslab_py",
            "modelslab_py_check.py",
        ),
        python_sdk(
            "gptproto",
            "0.1.0",
            Provider::named("gptproto"),
            "gptproto",
            "gptproto_check.py",
        ),
    ]
}

/// The emulator every SDK talks to: the key accepted, a second key whose jobs all fail, the journal on.
fn config(mode: AnswerStyle) -> Config {
    Config {
        api_keys: vec![ApiKey::new(KEY)],
        key_faults: vec![
            format!("{FAULT_KEY}=fail={FAULT_REASON}")
                .parse::<KeyFault>()
                .unwrap(),
        ],
        journal: true,
        ..Config::default()
    }
    .with_answer_style(Provider::named("modelslab"), mode)
}

/// Runs one SDK's script; returns its cases, whether it exited 0, and its stderr.
fn run_script(sdk: &Sdk, base: &str, queued: &str) -> (Vec<SdkCase>, bool, String) {
    let output = Command::new(&sdk.program)
        .args(&sdk.args)
        .current_dir(&sdk.dir)
        .env("IMG2IMG_BASE_URL", base)
        .env("IMG2IMG_QUEUED_BASE_URL", queued)
        .env("NOVITA_API_KEY", KEY)
        .env("MODELSLAB_API_KEY", KEY)
        .env("GPTPROTO_API_KEY", KEY)
        .env("GPTPROTO_POLL_INTERVAL", "0.05")
        .env("IMG2IMG_FAULT_KEY", FAULT_KEY)
        .env("IMG2IMG_FAULT_REASON", FAULT_REASON)
        .env("MODELSLAB_FETCH_WAIT", "1")
        .env("NOVITA_POLL_MS", "50")
        .env_remove("IMG2IMG_FAULT_BASE_URL")
        .env_remove("IMG2IMG_WRONG_KEY")
        .output()
        .unwrap_or_else(|e| panic!("{}: cannot run {}: {e}", sdk.name, sdk.program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let cases = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|line| SdkCase {
            case: line["case"].as_str().unwrap_or("?").to_owned(),
            ok: line["ok"].as_bool(),
            detail: line["detail"].as_str().unwrap_or("").to_owned(),
        })
        .collect();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (cases, output.status.success(), stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_sdks_complete_whole_jobs_against_the_emulator() {
    let main = Emulator::start(
        &Provider::all().collect::<Vec<_>>(),
        config(AnswerStyle::Sync),
    )
    .await
    .unwrap();
    let queued = Emulator::start(&[Provider::named("modelslab")], config(AnswerStyle::Queued))
        .await
        .unwrap();
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for sdk in sdks() {
        let base = |sdk: &Sdk| SdkResult {
            sdk: sdk.name.into(),
            registry: sdk.registry.into(),
            version: sdk.version.into(),
            provider: sdk.provider.id().into(),
            outcome: SdkOutcome::Skipped,
            detail: String::new(),
            cases: Vec::new(),
            drift: Default::default(),
            violations: Vec::new(),
            operations: Vec::new(),
        };
        if let Some(why) = &sdk.missing {
            eprintln!("skipped {}: {why}", sdk.name);
            missing.push(format!("{}: {why}", sdk.name));
            results.push(SdkResult {
                detail: format!("not run: {why}"),
                ..base(&sdk)
            });
            continue;
        }
        let before = (traffic(&main).len(), traffic(&queued).len());
        let (main_url, queued_url) = (main.base_url(), queued.base_url());
        let script = Sdk {
            missing: None,
            args: sdk.args.clone(),
            program: sdk.program.clone(),
            dir: sdk.dir.clone(),
            ..sdk
        };
        let (cases, exited_ok, stderr, script) = tokio::task::spawn_blocking(move || {
            let (cases, ok, stderr) = run_script(&script, &main_url, &queued_url);
            (cases, ok, stderr, script)
        })
        .await
        .unwrap();
        let traffic: Vec<Exchange> = traffic(&main)[before.0..]
            .iter()
            .chain(&traffic(&queued)[before.1..])
            .cloned()
            .collect();
        let failed: Vec<&SdkCase> = cases.iter().filter(|c| c.ok == Some(false)).collect();
        let skipped = cases.iter().filter(|c| c.ok.is_none()).count();
        let broken = violations(&traffic);
        let works = exited_ok
            && !cases.is_empty()
            && failed.is_empty()
            && skipped == 0
            && broken.is_empty()
            && !traffic.is_empty();
        let detail = if works {
            format!(
                "{} cases passed, {} exchanges fit the spec",
                cases.len(),
                traffic.len()
            )
        } else {
            let mut why: Vec<String> = failed
                .iter()
                .map(|c| format!("{} failed: {}", c.case, c.detail))
                .collect();
            why.extend(
                cases
                    .iter()
                    .filter(|c| c.ok.is_none())
                    .map(|c| format!("{} skipped: {}", c.case, c.detail)),
            );
            why.extend(broken.iter().take(3).cloned());
            if !exited_ok && why.is_empty() {
                why.push(format!("the script failed: {}", stderr.trim()));
            }
            why.join("; ")
        };
        eprintln!("{}: {detail}", script.name);
        results.push(SdkResult {
            outcome: if works {
                SdkOutcome::Works
            } else {
                SdkOutcome::Fails
            },
            detail,
            cases,
            drift: drift(&traffic),
            violations: broken,
            operations: operations(&traffic),
            ..base(&script)
        });
    }
    main.shutdown().await;
    queued.shutdown().await;

    let report = sdk_env::env_path(
        "SDK_REPORT",
        sdk_env::workspace().join("target/conformance/sdk.json"),
    );
    if let Some(dir) = report.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let run = SdkRun {
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        sdks: results.clone(),
    };
    std::fs::write(&report, serde_json::to_string_pretty(&run).unwrap()).unwrap();
    eprintln!("wrote {}", report.display());

    assert!(
        missing.is_empty() || std::env::var_os("CI").is_none(),
        "CI is set but SDKs are missing (.ci/run installs them):\n{}",
        missing.join("\n")
    );
    for result in &results {
        assert_ne!(
            result.outcome,
            SdkOutcome::Fails,
            "{}: {}\n{:#?}",
            result.sdk,
            result.detail,
            result
        );
        assert!(
            !format!("{result:?}").contains(KEY),
            "{}: a key reached the results",
            result.sdk
        );
    }
    // What the pinned SDKs are known to send beyond the docs is found in their traffic.
    let found = |name: &str| {
        results
            .iter()
            .find(|r| r.sdk == name && r.outcome == SdkOutcome::Works)
    };
    if let Some(novita) = found("novita-client") {
        assert!(
            novita.drift.fields.contains(&"request.extra".to_owned()),
            "{:?}",
            novita.drift
        );
        assert!(
            novita.drift.nulls.contains(&"request.steps".to_owned()),
            "{:?}",
            novita.drift
        );
        // The operations it reached, for the report's coverage table.
        let novita_spec = Spec::embedded(Provider::named("novita")).extensions();
        for operation in [&novita_spec.job.create, &novita_spec.job.result] {
            assert!(
                novita.operations.contains(operation),
                "{:?}",
                novita.operations
            );
        }
    }
    if let Some(js) = found("novita-sdk") {
        assert!(
            js.drift
                .headers
                .iter()
                .any(|h| h.starts_with("authorization: the key without")),
            "{:?}",
            js.drift
        );
    }
    if let Some(modelslab) = found("modelslab-py") {
        assert!(
            modelslab
                .drift
                .paths
                .iter()
                .any(|p| p.contains("enterprise-images")),
            "{:?}",
            modelslab.drift
        );
        assert!(
            modelslab
                .drift
                .paths
                .iter()
                .any(|p| p.contains("(x-job alias v6)")),
            "{:?}",
            modelslab.drift
        );
        assert!(
            modelslab
                .drift
                .headers
                .contains(&"x-requested-with: modelslab-py".to_owned()),
            "{:?}",
            modelslab.drift
        );
    }
    if let Some(gptproto) = found("gptproto") {
        // GPTProto's SDK calls only the unified API (the x-job family `unified`), never the
        // NovelAI route the docs page shows, and sends nothing the unified schemas leave out.
        for operation in [
            "create_unified_image",
            "create_unified_image_edit",
            "get_unified_task",
        ] {
            assert!(
                gptproto.operations.iter().any(|o| o == operation),
                "{:?}",
                gptproto.operations
            );
        }
        let docs = &Spec::embedded(Provider::named("gptproto")).extensions().job;
        assert!(
            !gptproto
                .operations
                .iter()
                .any(|o| *o == docs.create || *o == docs.result),
            "{:?}",
            gptproto.operations
        );
        assert!(
            gptproto
                .drift
                .paths
                .iter()
                .any(|p| p.contains("/api/v3/images (x-job alias unified)")),
            "{:?}",
            gptproto.drift
        );
        assert!(
            gptproto.drift.fields.is_empty() && gptproto.drift.nulls.is_empty(),
            "{:?}",
            gptproto.drift
        );
    }
}

/// The body novita-client 0.7.1 sends for `img2img_v3` with only the arguments it requires
/// (as captured in conformance/sdk/captured/novita-client.jsonl).
fn novita_client_body() -> Value {
    json!({
        "extra": {"response_image_type": "jpeg", "enable_nsfw_detection": false,
                  "nsfw_detection_level": 0, "custom_storage": {}, "enterprise_plan": {}},
        "request": {"model_name": "sd_xl_base_1.0.safetensors",
            "image_base64": img2img_harness::payload::Payload::default().image_base64(),
            "prompt": "a fox", "width": 128, "height": 128, "negative_prompt": null, "sd_vae": null,
            "loras": null, "embeddings": null, "seed": -1, "image_num": 1, "steps": null,
            "clip_skip": null, "guidance_scale": 7.5, "strength": 0.5, "sampler_name": "Euler a",
            "extra": {}, "controlnet": null}
    })
}

#[tokio::test]
async fn our_client_still_refuses_what_the_docs_rule_out_before_sending() {
    let emulator = Emulator::start(
        &Provider::all().collect::<Vec<_>>(),
        config(AnswerStyle::Sync),
    )
    .await
    .unwrap();
    let send = |provider: Provider, operation: &'static str, body: Value| {
        let base = emulator.base_url();
        async move {
            call(
                provider,
                operation,
                &base,
                Credentials::new(KEY),
                CallInput {
                    body: Some(body),
                    params: BTreeMap::new(),
                },
            )
            .await
        }
    };
    // The same request as the docs allow it: no nulls, no `request.extra`, `steps` given.
    let mut clean = novita_client_body();
    let request = clean["request"].as_object_mut().unwrap();
    request.retain(|_, v| !v.is_null());
    request.remove("extra");
    request.insert("steps".into(), json!(20));
    let outcome = send(Provider::named("novita"), "create_img2img", clean.clone()).await;
    assert!(
        !outcome.refused_before_sending(),
        "the docs' form is sent: {outcome:?}"
    );
    assert_eq!(traffic(&emulator).len(), 1);

    let with = |mut body: Value, pointer: &str, value: Value| {
        let (parent, name) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent).unwrap()[name] = value;
        body
    };
    let modelslab = json!({"model_id": "m", "prompt": "p",
        "init_image": img2img_harness::payload::Payload::default().image_base64()});
    for (provider, operation, body, named) in [
        // What novita-client sends: refused (its nulls cannot even be put in the typed request).
        (
            Provider::named("novita"),
            "create_img2img",
            novita_client_body(),
            "request.",
        ),
        (
            Provider::named("novita"),
            "create_img2img",
            with(clean.clone(), "/request/extra", json!({})),
            "extra",
        ),
        (
            Provider::named("novita"),
            "create_img2img",
            with(clean.clone(), "/request/stpes", json!(20)),
            "stpes",
        ),
        (
            Provider::named("novita"),
            "create_img2img",
            with(clean.clone(), "/request/steps", json!(null)),
            "steps",
        ),
        (
            Provider::named("modelslab"),
            "create_img2img_enterprise_images",
            with(modelslab, "/panorama", json!("yes")),
            "panorama",
        ),
    ] {
        let outcome = send(provider, operation, body).await;
        assert!(
            outcome.refused_before_sending(),
            "{provider} {operation} {named}: {outcome:?}"
        );
        let refusal = outcome.refusal().unwrap();
        assert!(refusal.contains(named), "{provider}: {refusal}");
    }
    assert_eq!(
        traffic(&emulator).len(),
        1,
        "no refused request reached the emulator: {:#?}",
        traffic(&emulator)
    );

    // The provider (here its emulator) accepts the same SDK body: the two readings differ.
    let accepted = reqwest::Client::new()
        .post(format!("{}/v3/async/img2img", emulator.base_url()))
        .bearer_auth(KEY)
        .json(&novita_client_body())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200, "{}", accepted.text().await.unwrap());
    emulator.shutdown().await;
}

/// Every exchange `emulator` journaled so far, keys redacted.
fn traffic(emulator: &Emulator) -> Vec<Exchange> {
    emulator
        .journal()
        .expect("the suite's emulators keep a journal")
        .redacted()
}
