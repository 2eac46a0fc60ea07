//! The compatibility report: every `x-feature` of every spec has a matrix row where each provider
//! that tags it shows "supported"; `compatibility.json` validates against its derived schema (and a
//! broken copy does not); the HTML renders in headless Chromium with a row per feature and
//! nothing wider than a phone's or a desktop's viewport.

use std::path::{Path, PathBuf};
use std::process::Command;

use img2img_report::results::{CheckResult, Failure, RecordedResponse, RunResults, Status, Target};
use img2img_report::sdk::{SdkCase, SdkDrift, SdkOutcome, SdkResult, SdkRun};
use img2img_report::{model::Report, model::Support};
use img2img_specs::{Provider, Spec};
use serde_json::{Value, json};

fn specs() -> Vec<&'static Spec> {
    Provider::all().map(Spec::embedded).collect()
}

/// A run with one result of each status, the failure carrying a request and a response.
fn run() -> RunResults {
    let result = |check: &str, provider: &str, target, status, failure| CheckResult {
        check: check.into(),
        description: format!("{check} holds"),
        provider: provider.into(),
        target,
        status,
        cases: 64,
        requests: 64,
        duration_ms: 10,
        detail: (status != Status::Passed).then(|| format!("{check} on {provider}: see case")),
        failure,
        scenario: None,
        client: None,
    };
    RunResults {
        tool_version: "conformance 0.1.0".into(),
        started_at: "2025-03-04T10:00:00Z".into(),
        finished_at: "2025-03-04T10:05:00Z".into(),
        seed: 42,
        cases_per_check: 64,
        results: vec![
            result(
                "positive_acceptance",
                "novita",
                Target::Emulator,
                Status::Passed,
                None,
            ),
            result(
                "negative_rejection",
                "modelslab",
                Target::Emulator,
                Status::Failed,
                Some(Failure {
                    message: "width = 4096 was accepted; the spec's maximum is 1024".into(),
                    operation: Some("create_img2img".into()),
                    request: Some(
                        json!({"model_id": "m", "prompt": "p", "init_image": "x", "width": 4096}),
                    ),
                    response: Some(RecordedResponse {
                        status: 200,
                        content_type: Some("application/json".into()),
                        body: json!({"status": "success", "output": []}),
                    }),
                }),
            ),
            result(
                "positive_acceptance",
                "gptproto",
                Target::Live,
                Status::Skipped,
                None,
            ),
        ],
        client_runs: Vec::new(),
    }
}

/// The SDK suite's findings for two SDKs, one working with drift, one failing.
pub(crate) fn sdk_run() -> SdkRun {
    let case = |name: &str, ok| SdkCase {
        case: name.into(),
        ok,
        detail: format!("{name} detail"),
    };
    SdkRun {
        generated_at: "2025-03-04T10:06:00Z".into(),
        sdks: vec![
            SdkResult {
                sdk: "novita-client".into(),
                registry: "PyPI".into(),
                version: "0.7.1".into(),
                provider: "novita".into(),
                outcome: SdkOutcome::Works,
                detail: "6 cases passed".into(),
                cases: vec![case("two_images_png", Some(true))],
                drift: SdkDrift {
                    fields: vec!["request.extra".into()],
                    nulls: vec!["request.steps".into(), "request.clip_skip".into()],
                    headers: vec!["user-agent: novita-python-sdk/0.5.0".into()],
                    ..SdkDrift::default()
                },
                violations: vec![],
                operations: vec!["create_img2img".into(), "get_task_result".into()],
            },
            SdkResult {
                sdk: "modelslab-py".into(),
                registry: "PyPI".into(),
                version: "0.2.3".into(),
                provider: "modelslab".into(),
                outcome: SdkOutcome::Fails,
                detail: "queued_job failed".into(),
                cases: vec![case("queued_job", Some(false)), case("failed_task", None)],
                drift: SdkDrift {
                    paths: vec![
                        "POST /api/v1/enterprise/images/img2img (x-job alias enterprise-images)"
                            .into(),
                    ],
                    ..SdkDrift::default()
                },
                violations: vec!["POST /api/v9/x: no operation of the spec".into()],
                operations: vec![],
            },
        ],
    }
}

/// The report; with a conformance run, the SDK suite's findings too.
fn build(results: Option<&RunResults>) -> Report {
    let sdks = results.map(|_| sdk_run());
    img2img_report::build_with_sdks(
        &specs(),
        results,
        "target/conformance/results.json",
        sdks.as_ref(),
        "target/conformance/sdk.json",
    )
    .unwrap()
}

#[test]
fn sdk_rows_say_whether_each_sdk_works_and_what_it_sends() {
    let report = build(Some(&run()));
    let md = img2img_report::markdown::render(&report);
    assert!(md.contains("## Official SDKs against the emulator"), "{md}");
    let novita = md
        .lines()
        .find(|l| l.contains("`novita-client` 0.7.1"))
        .expect("a novita-client row");
    assert!(novita.contains("✅ works"), "{novita}");
    assert!(novita.contains("fields: request.extra"), "{novita}");
    assert!(
        novita.contains("nulls: request.steps, request.clip_skip"),
        "{novita}"
    );
    let modelslab = md
        .lines()
        .find(|l| l.contains("`modelslab-py` 0.2.3"))
        .expect("a modelslab-py row");
    assert!(modelslab.contains("❌ fails"), "{modelslab}");
    assert!(
        modelslab.contains("paths: POST /api/v1/enterprise/images/img2img"),
        "{modelslab}"
    );
    let html = img2img_report::html::render(&report);
    assert!(html.contains("<code>novita-client</code> 0.7.1"), "{html}");
    assert!(html.contains("<li>nulls: request.steps, request.clip_skip</li>"));

    let without = build(None);
    assert!(img2img_report::markdown::render(&without).contains("SDK suite not run"));
    assert!(img2img_report::html::render(&without).contains("SDK suite not run"));
}

/// A scratch directory, removed when the returned guard drops.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("report-test-{name}-"))
        .tempdir()
        .unwrap()
}

/// Every `x-feature` value anywhere in a document, found by a plain search (not the report's walk).
fn features_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(feature)) = map.get("x-feature") {
                out.push(feature.clone());
            }
            map.values().for_each(|v| features_in(v, out));
        }
        Value::Array(list) => list.iter().for_each(|v| features_in(v, out)),
        _ => {}
    }
}

#[test]
fn every_feature_in_the_specs_has_a_row_and_tagging_providers_show_supported() {
    let report = build(None);
    let mut checked = 0;
    for spec in specs() {
        let provider = &spec.extensions().provider.id;
        let mut features = Vec::new();
        features_in(spec.document(), &mut features);
        assert!(!features.is_empty(), "{provider} declares no x-feature");
        for feature in features {
            let row = report
                .matrix
                .iter()
                .find(|r| r.id == feature)
                .unwrap_or_else(|| panic!("no matrix row for x-feature {feature} ({provider})"));
            let cell = row
                .cells
                .iter()
                .find(|c| &c.provider == provider)
                .unwrap_or_else(|| panic!("row {feature} has no {provider} cell"));
            assert_eq!(
                cell.support,
                Support::Supported,
                "{provider} tags {feature} but its cell is {cell:?}"
            );
            assert!(
                !cell.fields.is_empty(),
                "{feature}/{provider}: no source field"
            );
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} tagged properties checked");
    // Every row has one cell per provider, and every provider is a column.
    for row in &report.matrix {
        let ids: Vec<&str> = row.cells.iter().map(|c| c.provider.as_str()).collect();
        let providers: Vec<&str> = Provider::all().map(Provider::id).collect();
        assert_eq!(ids, providers, "row {}", row.id);
    }
    // The document-level rows of the issue are there, and undeclared features are listed.
    for id in ["auth", "polling", "limits"] {
        assert!(report.matrix.iter().any(|r| r.id == id), "no {id} row");
    }
    for feature in &report.undeclared_features {
        assert!(!report.matrix.iter().any(|r| &r.id == feature));
    }
}

#[test]
fn cells_say_what_the_specs_say() {
    let report = build(None);
    let cell = |row: &str, provider: &str| {
        report
            .matrix
            .iter()
            .find(|r| r.id == row)
            .and_then(|r| r.cells.iter().find(|c| c.provider == provider))
            .unwrap_or_else(|| panic!("no {row}/{provider} cell"))
            .clone()
    };
    // Values read back from the documents, so the test follows the specs, not a copy of them.
    let gpt = Spec::embedded(Provider::named("gptproto")).document();
    let strength = gpt
        .pointer("/components/schemas/ImageToImageRequest/properties/strength")
        .unwrap();
    let summary = cell("strength", "gptproto").summary;
    for key in ["minimum", "maximum", "default"] {
        let value = strength[key].as_f64().unwrap().to_string();
        assert!(summary.contains(&value), "{summary} lacks {key} {value}");
    }
    let novita = Spec::embedded(Provider::named("novita")).document();
    let loras = novita
        .pointer("/components/schemas/Img2ImgParameters/properties/loras/maxItems")
        .unwrap();
    assert!(cell("lora", "novita").summary.contains(&loras.to_string()));
    assert_eq!(cell("noise", "novita").support, Support::NotSupported);
    assert_eq!(cell("auth", "modelslab").support, Support::Info);
    // The sampler table puts each provider's Euler ancestral under one name.
    let euler = report
        .samplers
        .iter()
        .find(|r| r.common_name == "euler_ancestral")
        .unwrap();
    for (provider, spelling) in [
        ("gptproto", "k_euler_ancestral"),
        ("novita", "Euler a"),
        ("modelslab", "EulerAncestralDiscreteScheduler"),
    ] {
        let cell = euler.cells.iter().find(|c| c.provider == provider).unwrap();
        assert_eq!(cell.values, [spelling]);
    }
    // Ranges side by side with unit and default.
    let width = report.ranges.iter().find(|r| r.feature == "width").unwrap();
    let ml = width
        .cells
        .iter()
        .find(|c| c.provider == "modelslab")
        .unwrap();
    assert_eq!(
        (ml.minimum.clone(), ml.maximum.clone()),
        (Some(256.into()), Some(1024.into()))
    );
    assert_eq!(ml.unit.as_deref(), Some("pixels"));
    // ModelsLab's width defaults to 512 (its enterprise img2img page and its v6 OpenAPI); Novita's
    // seed to -1.
    assert_eq!(ml.default, Some(json!(512)));
    let seed = report.ranges.iter().find(|r| r.feature == "seed").unwrap();
    let novita = seed.cells.iter().find(|c| c.provider == "novita").unwrap();
    assert_eq!(novita.default, Some(json!(-1)));
}

#[test]
fn json_validates_against_its_schema() {
    let guard = temp_dir("json");
    let dir = guard.path();
    img2img_report::write(&build(Some(&run())), dir).unwrap();
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    let schema = read("compatibility.schema.json");
    let instance = read("compatibility.json");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The schema is not a blank cheque.
    let mut broken = instance.clone();
    broken["matrix"][0]["cells"][0]["support"] = json!("maybe");
    assert!(
        !validator.is_valid(&broken),
        "an unknown support level validated"
    );
    let mut broken = instance;
    broken["conformance"]
        .as_object_mut()
        .unwrap()
        .remove("checks");
    assert!(
        !validator.is_valid(&broken),
        "a report without checks validated"
    );
    // And the JSON reads back as the Rust type.
    let back: Report = serde_json::from_value(read("compatibility.json")).unwrap();
    assert_eq!(back, build(Some(&run())));
}

#[test]
fn results_are_laid_out_with_links_to_failing_cases() {
    let report = build(Some(&run()));
    let c = &report.conformance;
    assert_eq!(c.run.as_ref().unwrap().date, "2025-03-04");
    assert_eq!(c.columns.len(), 3);
    assert_eq!(c.failures.len(), 1);
    let anchor = &c.failures[0].anchor;
    let failing = c
        .checks
        .iter()
        .flat_map(|r| &r.cells)
        .find(|cell| cell.status == Some(Status::Failed))
        .unwrap();
    assert_eq!(failing.failure_anchor.as_ref(), Some(anchor));
    let md = img2img_report::markdown::render(&report);
    assert!(md.contains(&format!("(#{anchor})")), "{md}");
    assert!(md.contains(&format!("<a id=\"{anchor}\"></a>")));
    assert!(md.contains("\"width\": 4096"));
    let html = img2img_report::html::render(&report);
    assert!(html.contains(&format!("href=\"#{anchor}\"")));
    assert!(html.contains(&format!("id=\"{anchor}\"")));
    assert!(html.contains("2025-03-04"));
}

#[test]
fn integers_are_printed_exactly_in_every_rendering() {
    // ModelsLab's int64 fields are bounded by int64's maximum: no float may round it.
    let report = build(None);
    let json = serde_json::to_string(&report).unwrap();
    for (name, text) in [
        ("markdown", img2img_report::markdown::render(&report)),
        ("html", img2img_report::html::render(&report)),
        ("json", json),
    ] {
        assert!(text.contains("9223372036854775807"), "{name}");
        for rounded in ["9223372036854776000", "9223372036854775808", "e18"] {
            // int64's minimum, -9223372036854775808, is exact (a seed with no range but its format).
            let rounded_max = text
                .match_indices(rounded)
                .any(|(at, _)| !text[..at].ends_with('-'));
            assert!(!rounded_max, "{name} shows {rounded}");
        }
    }
}

#[test]
fn html_is_self_contained() {
    let html = img2img_report::html::render(&build(Some(&run())));
    let lower = html.to_lowercase();
    for forbidden in ["<script", "<link", " src=", "url(", "@import"] {
        assert!(!lower.contains(forbidden), "the page contains {forbidden}");
    }
    assert!(lower.contains("<meta name=\"viewport\""));
    assert!(lower.contains("@media print"));
    for label in [
        "Supported",
        "Partial",
        "Not supported",
        "Passed",
        "Failed",
        "Skipped",
    ] {
        assert!(
            html.contains(&format!(">{label}<")),
            "no text label {label}"
        );
    }
}

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("CHROMIUM").ok(),
        Some("/usr/bin/chromium".into()),
        Some("/usr/bin/chromium-browser".into()),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// What the probe script measured.
#[derive(Debug, serde::Deserialize)]
struct Probe {
    inner_width: f64,
    scroll_width: f64,
    rows: Vec<String>,
    too_wide: Vec<String>,
}

/// Loads `html`, with a measuring script appended, in a `width`×`height` frame (headless Chromium
/// will not make a window narrower than 500 px, a frame can be any size), and reads the
/// measurements back from the dumped DOM of the host page.
fn measure(chromium: &Path, html: &str, width: u32, height: u32, dir: &Path) -> Probe {
    let probe = r#"<script>
(function () {
  var root = document.documentElement;
  var rows = Array.prototype.map.call(
    document.querySelectorAll('#matrix tbody tr'), function (r) { return r.dataset.feature; });
  var tooWide = [];
  document.querySelectorAll('body *').forEach(function (e) {
    var inScroll = e.closest('.scroll') && !e.classList.contains('scroll');
    var r = e.getBoundingClientRect();
    if (!inScroll && r.width > 0 && (r.right > innerWidth + 1 || r.left < -1)) {
      tooWide.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
    }
  });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({inner_width: innerWidth, scroll_width: root.scrollWidth,
    rows: rows, too_wide: tooWide.slice(0, 20)});
  document.body.appendChild(out);
})();
</script>"#;
    let page = html.replace("</body>", &format!("{probe}</body>"));
    let srcdoc = page.replace('&', "&amp;").replace('"', "&quot;");
    let host = format!(
        r#"<!doctype html><html><body style="margin:0">
<iframe id="frame" style="width:{width}px;height:{height}px;border:0" srcdoc="{srcdoc}"></iframe>
<pre id="probe"></pre>
<script>
document.getElementById('frame').addEventListener('load', function () {{
  document.getElementById('probe').textContent =
    this.contentDocument.getElementById('probe').textContent;
}});
</script></body></html>"#
    );
    let file = dir.join(format!("probe-{width}.html"));
    std::fs::write(&file, host).unwrap();
    let profile = dir.join(format!("profile-{width}"));
    let output = Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!(
            "--window-size={},{}",
            width.max(500) + 40,
            height + 40
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let marker = "<pre id=\"probe\">";
    let start = dom.find(marker).unwrap_or_else(|| {
        panic!(
            "no probe in the dumped page; chromium said:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    }) + marker.len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let text = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "probe output {text:?}: {e}; chromium said:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn html_renders_in_chromium_with_a_row_per_feature_and_no_overflow() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but Chromium is missing: install Debian's `chromium` package (see .ci/run)"
        );
        eprintln!(
            "SKIPPED html_renders_in_chromium...: no Chromium at /usr/bin/chromium \
             (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
        );
        return;
    };
    let report = build(Some(&run()));
    let html = img2img_report::html::render(&report);
    let guard = temp_dir("chromium");
    let dir = guard.path();
    let expected: Vec<String> = report.matrix.iter().map(|r| r.id.clone()).collect();
    for (width, height) in [(390, 844), (1280, 900)] {
        let probe = measure(&chromium, &html, width, height, dir);
        assert_eq!(probe.inner_width, f64::from(width), "viewport width");
        assert_eq!(probe.rows, expected, "matrix rows at {width}px");
        assert!(
            probe.scroll_width <= probe.inner_width,
            "at {width}px the page is {}px wide; too wide: {:?}",
            probe.scroll_width,
            probe.too_wide
        );
        assert!(
            probe.too_wide.is_empty(),
            "at {width}px: {:?}",
            probe.too_wide
        );
    }
}
