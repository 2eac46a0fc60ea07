//! The spec lint: every rule of `specs/README.md` a machine can check, all findings at once.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use img2img_specs::CompiledSchema;
use img2img_specs::extensions::{
    AuthPlacement, DOCS_FAMILY, ErrorKind, ErrorRule, ErrorsInfo, JobInfo, JobOverrides,
    RenderDefaults,
};
use img2img_specs::schema::{escape, to_json_schema};
use img2img_specs::vocabulary::{SAMPLERS, UNITS};
use img2img_specs::{ExampleKind, Location, Spec};
use img2img_specs::{Feature, JobStatus};

/// One lint finding: where in the spec, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// JSON pointer into the spec.
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", display_pointer(&self.pointer), self.message)
    }
}

fn display_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        "#".into()
    } else {
        format!("#{pointer}")
    }
}

/// Lints `spec`; an empty list means it follows every rule.
pub fn lint(spec: &Spec) -> Vec<Finding> {
    let mut findings = Vec::new();
    let doc = spec.document();
    let mut add = |pointer: &str, message: String| {
        findings.push(Finding {
            pointer: pointer.to_owned(),
            message,
        })
    };

    if doc.get("openapi").and_then(Value::as_str) != Some("3.0.3") {
        add("/openapi", "must be \"3.0.3\"".into());
    }
    check_servers(doc, &mut add);
    check_operations(spec, &mut add);
    walk(doc, "", &mut |pointer, value| {
        check_node(doc, pointer, value, &mut add)
    });
    check_extensions(spec, &mut add);
    check_errors(spec, &mut add);
    check_examples(spec, &mut add);
    check_links(spec, &mut add);
    check_not_found(spec, &mut add);
    super::parity::check(doc, &mut add);
    super::answers::check_answers(spec, &mut add);
    super::test_mode::check(spec, &mut add);

    findings.sort();
    findings.dedup();
    findings
}

fn check_servers(doc: &Value, add: &mut impl FnMut(&str, String)) {
    let servers = doc.get("servers").and_then(Value::as_array);
    let Some(servers) = servers.filter(|s| !s.is_empty()) else {
        add("/servers", "must list the provider's scheme://host".into());
        return;
    };
    for (i, server) in servers.iter().enumerate() {
        let url = server
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let host = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if !host.is_some_and(|h| !h.is_empty() && !h.contains('/')) {
            add(
                &format!("/servers/{i}/url"),
                format!("{url:?} must be scheme://host with no path: paths carry the full path"),
            );
        }
    }
}

fn check_operations(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let mut seen = BTreeSet::new();
    for op in spec.operations() {
        if op.id.is_empty() {
            add(
                &op.pointer,
                format!("{} {} has no operationId", op.method, op.path),
            );
        } else if !op
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            add(
                &format!("{}/operationId", op.pointer),
                format!("{:?} is not snake_case", op.id),
            );
        } else if !seen.insert(op.id.clone()) {
            add(
                &format!("{}/operationId", op.pointer),
                format!("{:?} is used twice", op.id),
            );
        }
        if !op.responses.iter().any(|r| r.status.starts_with('2')) {
            add(
                &format!("{}/responses", op.pointer),
                "documents no success (2xx) response".into(),
            );
        }
        for response in &op.responses {
            if response.schema.is_none() && response.status != "204" {
                add(
                    &response.pointer,
                    format!(
                        "response {} has no application/json schema",
                        response.status
                    ),
                );
            }
        }
        for (i, parameter) in op.parameters.iter().enumerate() {
            if parameter.schema.is_none() {
                add(
                    &format!("{}/parameters/{i}", op.pointer),
                    format!("parameter {} has no schema", parameter.name),
                );
            }
        }
        let schemas = op
            .request_body
            .iter()
            .chain(op.responses.iter().filter_map(|r| r.schema.as_ref()))
            .chain(op.parameters.iter().filter_map(|p| p.schema.as_ref()));
        for at in schemas {
            if let Err(e) =
                to_json_schema(spec.document(), at).and_then(|s| CompiledSchema::compile(s, at))
            {
                add(at, e.to_string());
            }
        }
    }
}

/// Calls `visit` on every value of the document with its JSON pointer.
fn walk(value: &Value, pointer: &str, visit: &mut impl FnMut(&str, &Value)) {
    visit(pointer, value);
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                walk(child, &format!("{pointer}/{}", escape(key)), visit);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, &format!("{pointer}/{i}"), visit);
            }
        }
        _ => {}
    }
}

/// Whether `pointer` is inside an example value (whose keys are data, not spec keywords).
pub(super) fn in_example(pointer: &str) -> bool {
    pointer.contains("/example/")
        || pointer.ends_with("/example")
        || pointer.contains("/value")
            && (pointer.contains("/examples/") || pointer.contains("/x-docs-examples/"))
}

fn check_node(doc: &Value, pointer: &str, value: &Value, add: &mut impl FnMut(&str, String)) {
    if in_example(pointer) {
        return;
    }
    let Value::Object(map) = value else {
        return;
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str)
        && img2img_specs::schema::resolve_ref(doc, reference).is_none()
    {
        add(pointer, format!("$ref {reference:?} does not resolve"));
    }
    let is_schema_context = pointer.contains("schema")
        || pointer.contains("/properties/")
        || pointer.ends_with("/items");
    if !is_schema_context {
        return;
    }
    if pointer.ends_with("/properties") {
        // A map of property names, not a schema: a property may well be called `type` or `if`.
        check_descriptions(doc, pointer, map, add);
        return;
    }
    if map.get("type").is_some_and(|t| !t.is_string()) {
        add(
            pointer,
            "type must be one string in OpenAPI 3.0 (use nullable: true)".into(),
        );
    }
    for keyword in [
        "const",
        "if",
        "then",
        "else",
        "$defs",
        "prefixItems",
        "unevaluatedProperties",
    ] {
        if map.contains_key(keyword) {
            add(
                pointer,
                format!("{keyword} is not OpenAPI 3.0; use an x- extension the tools translate"),
            );
        }
    }
    if let (Some(min), Some(max)) = (
        map.get("minimum").and_then(Value::as_f64),
        map.get("maximum").and_then(Value::as_f64),
    ) && min > max
    {
        add(pointer, format!("minimum {min} is above maximum {max}"));
    }
    if let Some(divisor) = map.get("multipleOf") {
        let numeric = matches!(
            map.get("type").and_then(Value::as_str),
            Some("integer" | "number")
        );
        if !numeric || !divisor.as_f64().is_some_and(|d| d > 0.0) {
            add(
                pointer,
                format!("multipleOf {divisor} must be a number above 0 on an integer or number"),
            );
        } else if let Some(d) = divisor.as_f64() {
            for bound in ["minimum", "maximum"] {
                if let Some(value) = map.get(bound).and_then(Value::as_f64)
                    && ((value / d) - (value / d).round()).abs() > 1e-9
                {
                    add(
                        pointer,
                        format!(
                            "{bound} {value} is not a multiple of multipleOf {d}: no value reaches it"
                        ),
                    );
                }
            }
        }
    }
    if let Some(feature) = map.get("x-feature")
        && feature
            .as_str()
            .and_then(|f| f.parse::<Feature>().ok())
            .is_none()
    {
        add(
            pointer,
            format!("x-feature {feature} is not in the vocabulary of specs/README.md"),
        );
    }
    if let Some(unit) = map.get("x-unit")
        && !unit.as_str().is_some_and(|u| UNITS.contains(&u))
    {
        add(
            pointer,
            format!("x-unit {unit} is not in the vocabulary of specs/README.md"),
        );
    }
    if let Some(media) = map.get("x-media")
        && media.as_str() != Some("image")
    {
        add(
            pointer,
            format!("x-media {media} is not \"image\", the one media type the tools know"),
        );
    }
    if let Some(names) = map.get("x-common-names") {
        check_common_names(pointer, map.get("enum"), names, add);
    }
    check_nullable(pointer, map, add);
    if let Some(marks) = map.get(img2img_specs::schema::ACCEPTING) {
        check_accepting(doc, pointer, map, marks, add);
    }
    if let Some(default) = map.get("default")
        && !map.contains_key("$ref")
        && let Ok(schema) = to_json_schema(doc, pointer)
        && let Ok(compiled) = CompiledSchema::compile(schema, pointer)
        && let Err(violations) = compiled.validate(default)
    {
        add(
            &format!("{pointer}/default"),
            format!("the default breaks its own schema: {violations}"),
        );
    }
}

/// `nullable` where every OpenAPI 3.0 tool reads it: beside a `type` (3.0.3: "only if type is
/// explicitly defined within the same Schema Object"), and on at most one branch of a `oneOf`.
fn check_nullable(
    pointer: &str,
    map: &serde_json::Map<String, Value>,
    add: &mut impl FnMut(&str, String),
) {
    if map.get("nullable") == Some(&Value::Bool(true))
        && !map.contains_key("type")
        && !map.contains_key("$ref")
    {
        add(
            pointer,
            "nullable: true without a type is ignored by strict OpenAPI 3.0 tools; put it on one typed branch of the oneOf".into(),
        );
    }
    if let Some(Value::Array(branches)) = map.get("oneOf") {
        let nullable = branches
            .iter()
            .filter(|b| b.get("nullable") == Some(&Value::Bool(true)))
            .count();
        if nullable > 1 {
            add(
                pointer,
                format!(
                    "{nullable} branches of this oneOf are nullable, so null fits more than one and is refused"
                ),
            );
        }
    }
}

/// `x-accepting` (see `specs/README.md`): on an object; `null-as-absent` a boolean, `optional` names
/// required properties, `tolerated` holds described schemas of properties the object does not declare,
/// `also` described schemas that widen properties it declares.
fn check_accepting(
    doc: &Value,
    pointer: &str,
    map: &serde_json::Map<String, Value>,
    marks: &Value,
    add: &mut impl FnMut(&str, String),
) {
    let at = format!("{pointer}/{}", img2img_specs::schema::ACCEPTING);
    let Some(marks) = marks.as_object() else {
        add(
            &at,
            "must be an object (null-as-absent, optional, tolerated, also)".into(),
        );
        return;
    };
    if !map.contains_key("properties") {
        add(&at, "stands on a schema without properties".into());
    }
    let declared = map.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (key, value) in marks {
        match key.as_str() {
            "null-as-absent" if value.is_boolean() => {}
            "optional" => {
                for name in value.as_array().into_iter().flatten() {
                    if !name.as_str().is_some_and(|n| required.contains(&n)) {
                        add(
                            &format!("{at}/optional"),
                            format!("{name} is not a required property of this object"),
                        );
                    }
                }
            }
            "tolerated" => {
                let Some(tolerated) = value.as_object() else {
                    add(
                        &format!("{at}/tolerated"),
                        "must map property names to schemas".into(),
                    );
                    continue;
                };
                check_descriptions(doc, &format!("{at}/tolerated"), tolerated, add);
                for name in tolerated.keys() {
                    if declared.is_some_and(|d| d.contains_key(name)) {
                        add(
                            &format!("{at}/tolerated/{}", escape(name)),
                            format!(
                                "{name} is a declared property; tolerated is for fields the docs do not declare"
                            ),
                        );
                    }
                }
            }
            "also" => {
                let Some(also) = value.as_object() else {
                    add(
                        &format!("{at}/also"),
                        "must map property names to schemas".into(),
                    );
                    continue;
                };
                check_descriptions(doc, &format!("{at}/also"), also, add);
                for name in also.keys() {
                    if !declared.is_some_and(|d| d.contains_key(name)) {
                        add(
                            &format!("{at}/also/{}", escape(name)),
                            format!(
                                "{name} is not a declared property; also widens declared ones (tolerated adds new ones)"
                            ),
                        );
                    }
                }
            }
            other => add(
                &format!("{at}/{}", escape(other)),
                format!("{other:?} is not null-as-absent (a boolean), optional, tolerated or also"),
            ),
        }
    }
}

fn check_descriptions(
    doc: &Value,
    pointer: &str,
    properties: &serde_json::Map<String, Value>,
    add: &mut impl FnMut(&str, String),
) {
    for (name, property) in properties {
        let described = property.get("description").is_some()
            || property
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| img2img_specs::schema::resolve_ref(doc, r))
                .is_some_and(|target| target.get("description").is_some());
        if !described {
            add(
                &format!("{pointer}/{}", escape(name)),
                format!("property {name} has no description"),
            );
        }
    }
}

fn check_common_names(
    pointer: &str,
    values: Option<&Value>,
    names: &Value,
    add: &mut impl FnMut(&str, String),
) {
    let Some(names) = names.as_object() else {
        add(
            pointer,
            "x-common-names must map each enum value to a common name".into(),
        );
        return;
    };
    let values: Vec<&str> = values
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for value in &values {
        if !names.contains_key(*value) {
            add(
                pointer,
                format!("x-common-names has no entry for enum value {value:?}"),
            );
        }
    }
    for (value, common) in names {
        if !values.contains(&value.as_str()) {
            add(
                pointer,
                format!("x-common-names maps {value:?}, which is not an enum value"),
            );
        }
        let common = common.as_str().unwrap_or_default();
        if !SAMPLERS.contains(&common) && common != value {
            add(
                pointer,
                format!(
                    "x-common-names maps {value:?} to {common:?}, which is not in the vocabulary"
                ),
            );
        }
    }
}

fn check_extensions(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let ext = spec.extensions();
    let id = &ext.provider.id;
    let well_formed = id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        add(
            "/x-provider/id",
            format!(
                "{id:?} must be lower-case letters, digits and `_`, starting with a letter (it names the spec file, the crate, flags and reports)"
            ),
        );
    }
    if !is_https_url(&ext.provider.docs) {
        add(
            "/x-provider/docs",
            format!(
                "{:?} must be the https:// URL of the provider's public docs page",
                ext.provider.docs
            ),
        );
    }
    for (field, id) in [("create", &ext.job.create), ("result", &ext.job.result)] {
        if spec.operation(id).is_none() {
            add(
                &format!("/x-job/{field}"),
                format!("operationId {id:?} does not exist"),
            );
        }
    }
    check_job_words(&ext.job, "/x-job", add);
    check_job_aliases(spec, add);
    check_create_fields(spec, add);
    check_poll_url_hosts(spec, add);
    if !ext.auth.accepted_prefixes.contains(&ext.auth.prefix) {
        add(
            "/x-auth/accepted-prefixes",
            format!(
                "does not include the prefix the client sends, {:?}",
                ext.auth.prefix
            ),
        );
    }
    if ext.auth.placement == AuthPlacement::Body {
        for op in spec.operations() {
            let has_field = op
                .request_body
                .as_deref()
                .and_then(|at| to_json_schema(spec.document(), at).ok())
                .is_some_and(|s| {
                    s.pointer(&format!("/properties/{}", escape(&ext.auth.name)))
                        .is_some()
                });
            if !has_field {
                add(
                    &op.pointer,
                    format!(
                        "x-auth puts the key in body field {:?}, which this operation's body lacks",
                        ext.auth.name
                    ),
                );
            }
        }
    }
    if !ext.output.formats.contains(&ext.output.default_format) {
        add(
            "/x-output/default-format",
            format!(
                "{:?} is not among x-output.formats",
                ext.output.default_format
            ),
        );
    }
    if let Some(emulator) = &ext.emulator {
        check_render_defaults(&emulator.render_defaults, add);
    }
}

/// `x-emulator.render-defaults` describes a size an image can have: no side, area or rounding
/// step of zero, and a rounding step whose square fits the area it rounds.
fn check_render_defaults(defaults: &RenderDefaults, add: &mut impl FnMut(&str, String)) {
    let at = "/x-emulator/render-defaults";
    for (key, value) in [
        ("width", u64::from(defaults.width)),
        ("height", u64::from(defaults.height)),
    ] {
        if value == 0 {
            add(
                &format!("{at}/{key}"),
                format!("{key} 0: must be at least 1 pixel"),
            );
        }
    }
    if defaults.pixels == Some(0) {
        add(
            &format!("{at}/pixels"),
            "pixels 0: must be at least 1".into(),
        );
    }
    // A derived size has about `pixels` pixels, or width x height where `pixels` is not set.
    let area = defaults
        .pixels
        .unwrap_or(u64::from(defaults.width) * u64::from(defaults.height));
    match defaults.multiple_of {
        Some(0) => add(
            &format!("{at}/multiple-of"),
            "multiple-of 0: must be at least 1".into(),
        ),
        Some(step) if u64::from(step).pow(2) > area => add(
            &format!("{at}/multiple-of"),
            format!("multiple-of {step}: a square of that side is above the area {area} it rounds"),
        ),
        _ => {}
    }
}

/// The stage words of `job` are in their lists, and its pointers are JSON pointers; `at` is
/// where the `x-job` (or the family) is written.
fn check_job_words(job: &JobInfo, at: &str, add: &mut impl FnMut(&str, String)) {
    if let Some(stages) = &job.stages {
        for (stage, word, class) in [
            ("queued", &stages.queued, JobStatus::Pending),
            ("processing", &stages.processing, JobStatus::Pending),
            ("succeeded", &stages.succeeded, JobStatus::Succeeded),
            ("failed", &stages.failed, JobStatus::Failed),
        ] {
            if job.classify(word) != class {
                add(
                    &format!("{at}/stages/{stage}"),
                    format!("{word:?} is not in the x-job list for a {stage} job"),
                );
            }
        }
    }
    let pointers = [
        ("id-pointer", std::slice::from_ref(&job.id_pointer)),
        ("id-fallback-pointers", job.id_fallback_pointers.as_slice()),
        ("status-pointer", std::slice::from_ref(&job.status_pointer)),
        ("eta-pointer", job.eta_pointer.as_slice()),
        ("progress-pointer", job.progress_pointer.as_slice()),
        ("outputs", job.outputs.as_slice()),
        ("failure-pointers", job.failure_pointers.as_slice()),
        ("poll-url-pointer", job.poll_url_pointer.as_slice()),
    ];
    for (name, list) in pointers {
        for pointer in list.iter().filter(|p| !p.starts_with('/')) {
            add(
                &format!("{at}/{name}"),
                format!("{pointer:?} is not a JSON pointer (it starts with /)"),
            );
        }
    }
}

/// `x-job.create-fields`: each a top-level property of the create body whose schema allows the
/// value, and never the field `x-auth` puts the key in.
fn check_create_fields(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let job = &spec.extensions().job;
    check_create_fields_of(spec, job, std::slice::from_ref(&job.create), "/x-job", add);
}

/// `job.create-fields` against the body of each of `creates`.
fn check_create_fields_of(
    spec: &Spec,
    job: &JobInfo,
    creates: &[String],
    at: &str,
    add: &mut impl FnMut(&str, String),
) {
    let ext = spec.extensions();
    for create in creates {
        let schema = spec
            .operation(create)
            .and_then(|op| op.request_body.as_deref())
            .and_then(|body| to_json_schema(spec.document(), body).ok());
        for (name, value) in &job.create_fields {
            let at = format!("{at}/create-fields/{}", escape(name));
            let is_key = ext.auth.placement == AuthPlacement::Body && *name == ext.auth.name;
            let property = schema
                .as_ref()
                .and_then(|s| s.pointer(&format!("/properties/{}", escape(name))));
            match property {
                _ if is_key => add(&at, format!("{name:?} carries the key (x-auth)")),
                None => add(
                    &at,
                    format!("{name:?} is no top-level property of the create body of {create}"),
                ),
                Some(property) => {
                    let allowed = CompiledSchema::compile(property.clone(), &at)
                        .is_ok_and(|compiled| compiled.is_valid(value));
                    if !allowed {
                        add(&at, format!("{value} is not a value {name:?} allows"));
                    }
                }
            }
        }
    }
}

/// `x-job.poll-url-hosts` are bare host names (the pointer is checked with the answers).
fn check_poll_url_hosts(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let job = &spec.extensions().job;
    for (i, host) in job.poll_url_hosts.iter().enumerate() {
        let bare = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !bare {
            add(
                &format!("/x-job/poll-url-hosts/{i}"),
                format!("{host:?} is not a bare host name (no scheme, port or path)"),
            );
        }
    }
}

/// `x-errors`: JSON pointers, reasons listed once and naming fields that exist, lower-case words,
/// the rules of `decide-by` usable, and every error example readable through it.
fn check_errors(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let errors = &spec.extensions().errors;
    if errors.message_pointers.is_empty() {
        add(
            "/x-errors/message-pointers",
            "must name where an error body keeps the provider's message".into(),
        );
    }
    for (name, pointers) in [
        ("message-pointers", &errors.message_pointers),
        ("reason-pointers", &errors.reason_pointers),
        ("retry-after-pointers", &errors.retry_after_pointers),
        ("status-pointers", &errors.status_pointers),
    ] {
        for (i, pointer) in pointers.iter().enumerate() {
            if !pointer.starts_with('/') {
                add(
                    &format!("/x-errors/{name}/{i}"),
                    format!("{pointer:?} is not a JSON pointer (it starts with /)"),
                );
            }
        }
    }
    if errors.field_before.as_deref() == Some("") {
        add("/x-errors/field-before", "must not be empty".into());
    }
    if !errors.reasons.is_empty() && errors.reason_pointers.is_empty() {
        add(
            "/x-errors/reason-pointers",
            "must name where an error body keeps the reasons listed".into(),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, reason) in errors.reasons.iter().enumerate() {
        let at = format!("/x-errors/reasons/{i}");
        if reason.reason.is_empty() || !seen.insert(reason.reason.as_str()) {
            add(
                &at,
                format!("reason {:?} is empty or listed twice", reason.reason),
            );
        }
        if let Some(status) = reason.status.filter(|s| !(400..=599).contains(s)) {
            add(
                &format!("{at}/status"),
                format!("{status} is not an HTTP error status (400..599)"),
            );
        }
        if let Some(field) = &reason.field
            && !names_a_field(spec, field)
        {
            add(
                &format!("{at}/field"),
                format!("{field:?} is no parameter and no request body field of any operation"),
            );
        }
    }
    for (kind, lists) in &errors.words {
        for (i, words) in lists.iter().enumerate() {
            let at = format!("/x-errors/words/{}/{i}", kind_name(*kind));
            if words.is_empty() {
                add(&at, "is an empty list of words".into());
            }
            for word in words {
                if word.is_empty() || *word != word.to_ascii_lowercase() {
                    add(
                        &at,
                        format!("{word:?} must be a non-empty, lower-case word"),
                    );
                }
            }
        }
    }
    check_decide_by(errors, add);
    for example in spec.examples() {
        let ExampleKind::Response(status) = &example.kind else {
            continue;
        };
        if !status.parse::<u16>().is_ok_and(|s| s >= 400) {
            continue;
        }
        if errors.message_in(&example.value).is_none() {
            add(
                &example.pointer,
                format!(
                    "error example {:?} has no message at x-errors.message-pointers",
                    example.name
                ),
            );
        }
        if let Some(reason) = errors.reason_in(&example.value)
            && !errors.reasons.is_empty()
            && errors.reason(reason).is_none()
        {
            add(
                &example.pointer,
                format!(
                    "error example {:?} sends reason {reason:?}, which x-errors.reasons does not list",
                    example.name
                ),
            );
        }
    }
}

/// `x-errors.decide-by` names each rule once, and each can decide: `reason` needs `reasons`,
/// `words` needs `words`, `field` needs `field-before`; `word-statuses` bounds kinds that have
/// words, with HTTP statuses.
fn check_decide_by(errors: &ErrorsInfo, add: &mut impl FnMut(&str, String)) {
    if let Some(rules) = &errors.decide_by {
        if rules.is_empty() {
            add("/x-errors/decide-by", "names no rule".into());
        }
        let mut seen = BTreeSet::new();
        for (i, rule) in rules.iter().enumerate() {
            let at = format!("/x-errors/decide-by/{i}");
            if !seen.insert(rule.as_str()) {
                add(&at, format!("rule {:?} is listed twice", rule.as_str()));
            }
            let missing = match rule {
                ErrorRule::Reason => errors.reasons.is_empty().then_some("reasons"),
                ErrorRule::Words => errors.words.is_empty().then_some("words"),
                ErrorRule::Field => errors.field_before.is_none().then_some("field-before"),
                ErrorRule::Status => None,
            };
            if let Some(key) = missing {
                add(
                    &at,
                    format!(
                        "rule {:?} can never decide: x-errors has no {key}",
                        rule.as_str()
                    ),
                );
            }
        }
    }
    for (kind, statuses) in &errors.word_statuses {
        let at = format!("/x-errors/word-statuses/{}", kind_name(*kind));
        if !errors.words.contains_key(kind) {
            add(&at, "bounds a kind that has no words".into());
        }
        if statuses.is_empty() {
            add(&at, "is an empty list of statuses".into());
        }
        for status in statuses.iter().filter(|s| !(100..=599).contains(*s)) {
            add(&at, format!("{status} is not an HTTP status"));
        }
    }
}

/// The name of a kind as the spec writes it (`insufficient_balance`).
fn kind_name(kind: ErrorKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Whether `field` is a parameter of some operation, or a field path (`request.model_name`) of some
/// operation's request body.
fn names_a_field(spec: &Spec, field: &str) -> bool {
    let pointer: String = field
        .split('.')
        .map(|segment| format!("/properties/{}", escape(segment)))
        .collect();
    spec.operations().iter().any(|op| {
        op.parameters.iter().any(|p| p.name == field)
            || op
                .request_body
                .as_deref()
                .and_then(|at| to_json_schema(spec.document(), at).ok())
                .is_some_and(|schema| schema.pointer(&pointer).is_some())
    })
}

/// `x-job.aliases`: unique names; existing operations; a create in one family only and never a
/// result (a result may be shared by families); a create with a request body of its own marks
/// the job's features on it (`x-feature`, at least `init_image`); what a family overrides is well
/// formed (its stage words in its lists, JSON pointers, create fields its bodies allow). Its answers
/// are held to its operations' schemas with the answer templates (`answers.rs`).
fn check_job_aliases(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let job = &spec.extensions().job;
    let doc = spec.document();
    // The schema object as written (its `$ref`, usually) at a pointer.
    let written = |at: Option<&str>| at.and_then(|p| doc.pointer(p)).cloned();
    let body_of = |id: &str| written(spec.operation(id)?.request_body.as_deref());
    let mut names = BTreeSet::new();
    let mut creates: BTreeSet<&str> = [job.create.as_str()].into();
    let families = job.families();
    let results: BTreeSet<&str> = families
        .iter()
        .flat_map(|f| f.results.iter().map(String::as_str))
        .collect();
    for (i, alias) in job.aliases.iter().enumerate() {
        let at = format!("/x-job/aliases/{i}");
        if alias.name == DOCS_FAMILY || !names.insert(alias.name.as_str()) {
            add(
                &format!("{at}/name"),
                format!(
                    "{:?} is used twice (\"docs\" names the create/result pair)",
                    alias.name
                ),
            );
        }
        for id in &alias.results {
            if spec.operation(id).is_none() {
                add(
                    &format!("{at}/result"),
                    format!("operationId {id:?} does not exist"),
                );
            }
        }
        for id in &alias.creates {
            if spec.operation(id).is_none() {
                add(
                    &format!("{at}/create"),
                    format!("operationId {id:?} does not exist"),
                );
                continue;
            }
            if !creates.insert(id.as_str()) || results.contains(id.as_str()) {
                add(
                    &format!("{at}/create"),
                    format!("operationId {id:?} already belongs to another family"),
                );
            }
            if body_of(id).is_some() && body_of(id) != body_of(&job.create) {
                let features = spec.features(id);
                if !features.iter().any(|f| f.feature == Feature::InitImage) {
                    add(
                        &format!("{at}/create"),
                        format!(
                            "{id:?} has a request body of its own that marks no x-feature: init_image, so an emulator cannot render the job it asks for"
                        ),
                    );
                }
            } else if body_of(id).is_none() {
                add(
                    &format!("{at}/create"),
                    format!("{id:?} has no request body"),
                );
            }
        }
        let own = job.for_family(alias);
        check_job_words(&own, &at, &mut |pointer, message| {
            let key = pointer.trim_start_matches(&at).trim_start_matches('/');
            let key = key.split('/').next().unwrap_or_default();
            if overrides(&alias.overrides, key) {
                add(pointer, message);
            }
        });
        if alias.overrides.create_fields.is_some() {
            check_create_fields_of(spec, &own, &alias.creates, &at, add);
        }
    }
}

/// Whether a family sets `key` (an `x-job` key) itself.
fn overrides(o: &JobOverrides, key: &str) -> bool {
    match key {
        "stages" => {
            o.stages.is_some() || o.pending.is_some() || o.succeeded.is_some() || o.failed.is_some()
        }
        "id-pointer" => o.id_pointer.is_some(),
        "id-fallback-pointers" => o.id_fallback_pointers.is_some(),
        "status-pointer" => o.status_pointer.is_some(),
        "eta-pointer" => o.eta_pointer.is_some(),
        "progress-pointer" => o.progress_pointer.is_some(),
        "outputs" => o.outputs.is_some(),
        "failure-pointers" => o.failure_pointers.is_some(),
        "poll-url-pointer" => o.poll_url_pointer.is_some(),
        _ => true,
    }
}

/// `https://host[/path]`, with a host and no whitespace.
pub(super) fn is_https_url(text: &str) -> bool {
    text.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !rest.contains(char::is_whitespace)
    })
}

fn check_examples(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    for example in spec.examples() {
        match spec.compiled(&example.schema) {
            Ok(compiled) => {
                if let Err(violations) = compiled.validate(&example.value) {
                    add(
                        &example.pointer,
                        format!("example {:?} breaks its schema: {violations}", example.name),
                    );
                }
            }
            Err(e) => add(&example.schema, e.to_string()),
        }
    }
}

/// Every OpenAPI `link` of every response: its `operationId` exists, each parameter it fills is a
/// parameter of that operation, each body field it fills is a field of that operation's request
/// body, and each `$response.body#/...` expression points at a field of the response's schema.
/// The create operation of `x-job` must link to its result operation from a 2xx answer, so generic
/// tools (schemathesis' stateful phase) can follow a job.
fn check_links(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let doc = spec.document();
    let job = &spec.extensions().job;
    for op in spec.operations() {
        let mut links_to_result = false;
        for response in &op.responses {
            let Some(Value::Object(links)) =
                doc.pointer(&response.pointer).and_then(|r| r.get("links"))
            else {
                continue;
            };
            let source = response
                .schema
                .as_deref()
                .and_then(|at| to_json_schema(doc, at).ok());
            for (name, link) in links {
                let at = format!("{}/links/{}", response.pointer, escape(name));
                let (at, link) = img2img_specs::follow_refs(doc, &at, link);
                let Some(target_id) = link.get("operationId").and_then(Value::as_str) else {
                    add(
                        &at,
                        format!(
                            "link {name} has no operationId (operationRef is not read by the tools)"
                        ),
                    );
                    continue;
                };
                let Some(target) = spec.operation(target_id) else {
                    add(
                        &format!("{at}/operationId"),
                        format!("link {name}: operationId {target_id:?} does not exist"),
                    );
                    continue;
                };
                if target.id == job.result
                    && op.id == job.create
                    && response.status.starts_with('2')
                {
                    links_to_result = true;
                }
                let status = response.status.as_str();
                if let Some(Value::Object(parameters)) = link.get("parameters") {
                    for (key, value) in parameters {
                        let located = key.split_once('.').and_then(|(location, parameter)| {
                            Some((location.parse::<Location>().ok()?, parameter))
                        });
                        let (location, parameter) = match located {
                            Some((location, parameter)) => (Some(location), parameter),
                            None => (None, key.as_str()),
                        };
                        let known = target.parameters.iter().any(|p| {
                            p.name == parameter && location.is_none_or(|l| p.location == l)
                        });
                        let pointer = format!("{at}/parameters/{}", escape(key));
                        if !known {
                            add(
                                &pointer,
                                format!("link {name}: {target_id} has no parameter {key:?}"),
                            );
                        }
                        check_runtime_expression(&pointer, value, source.as_ref(), status, add);
                    }
                }
                if let Some(body) = link.get("requestBody") {
                    let pointer = format!("{at}/requestBody");
                    match (body, target.request_body.as_deref()) {
                        (_, None) => add(
                            &pointer,
                            format!("link {name}: {target_id} takes no request body"),
                        ),
                        (Value::Object(fields), Some(body_at)) => {
                            let schema = to_json_schema(doc, body_at).ok();
                            for (field, value) in fields {
                                let field_at = format!("{pointer}/{}", escape(field));
                                if !schema
                                    .as_ref()
                                    .is_some_and(|s| schema_has_path(s, &[field.as_str()]))
                                {
                                    add(
                                        &field_at,
                                        format!(
                                            "link {name}: {target_id}'s request body has no field {field:?}"
                                        ),
                                    );
                                }
                                check_runtime_expression(
                                    &field_at,
                                    value,
                                    source.as_ref(),
                                    status,
                                    add,
                                );
                            }
                        }
                        (value, Some(_)) => {
                            check_runtime_expression(&pointer, value, source.as_ref(), status, add)
                        }
                    }
                }
            }
        }
        if op.id == job.create && !links_to_result {
            add(
                &format!("{}/responses", op.pointer),
                format!(
                    "no 2xx answer of the create operation links to x-job.result ({}): generic tools cannot follow a job",
                    job.result
                ),
            );
        }
    }
}

/// A link value: a `$response.body#/...` expression must point at a field of the response schema;
/// other runtime expressions are taken as they are; a string starting with `$` that is none is
/// reported.
fn check_runtime_expression(
    pointer: &str,
    value: &Value,
    source: Option<&Value>,
    status: &str,
    add: &mut impl FnMut(&str, String),
) {
    let Some(text) = value.as_str() else {
        return;
    };
    if let Some(body_pointer) = text.strip_prefix("$response.body#") {
        let segments: Vec<String> = body_pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        if body_pointer.is_empty() || !body_pointer.starts_with('/') {
            add(pointer, format!("{text:?} has no JSON pointer after '#'"));
        } else if !source.is_some_and(|schema| schema_has_path(schema, &segments)) {
            add(
                pointer,
                format!("{text:?} points at no field of the {status} response's schema"),
            );
        }
    } else if text.starts_with('$')
        && ![
            "$url",
            "$method",
            "$statusCode",
            "$request.",
            "$response.header.",
        ]
        .iter()
        .any(|p| text.starts_with(p))
    {
        add(
            pointer,
            format!("{text:?} is not an OpenAPI runtime expression"),
        );
    }
}

/// Whether a converted JSON Schema has a field at `segments` (through `oneOf`/`anyOf`/`allOf`
/// alternatives, `properties` and array `items`).
pub(super) fn schema_has_path(schema: &Value, segments: &[&str]) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return true;
    };
    let mut alternatives = vec![schema];
    let mut i = 0;
    while i < alternatives.len() {
        let current = alternatives[i];
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(Value::Array(items)) = current.get(key) {
                alternatives.extend(items);
            }
        }
        i += 1;
    }
    alternatives.iter().any(|candidate| {
        candidate
            .get("properties")
            .and_then(|p| p.get(*first))
            .is_some_and(|child| schema_has_path(child, rest))
            || (first.parse::<usize>().is_ok()
                && candidate
                    .get("items")
                    .is_some_and(|items| schema_has_path(items, rest)))
    })
}

/// `x-not-found` (on an operation): `status` is an HTTP status the operation documents, and
/// `job-status`, when given, one of `x-job.failed`. The result operation of `x-job` must carry it.
fn check_not_found(spec: &Spec, add: &mut impl FnMut(&str, String)) {
    let doc = spec.document();
    let job = &spec.extensions().job;
    for op in spec.operations() {
        let at = format!("{}/x-not-found", op.pointer);
        let Some(not_found) = doc.pointer(&at) else {
            if op.id == job.result {
                add(
                    &op.pointer,
                    "the x-job result operation has no x-not-found: the answer to an unknown id is undocumented".into(),
                );
            }
            continue;
        };
        let Some(map) = not_found.as_object() else {
            add(
                &at,
                "must be an object {status, job-status, message}".into(),
            );
            continue;
        };
        for key in map
            .keys()
            .filter(|k| !["status", "job-status", "message"].contains(&k.as_str()))
        {
            add(
                &format!("{at}/{key}"),
                format!("unknown key {key:?} (status, job-status, message)"),
            );
        }
        if let Some(message) = map.get("message").filter(|m| !m.is_string()) {
            add(
                &format!("{at}/message"),
                format!("{message} is not a string"),
            );
        }
        match map.get("status").and_then(Value::as_u64) {
            Some(status) => {
                let documented = u16::try_from(status)
                    .ok()
                    .and_then(|s| op.response(s))
                    .is_some();
                if !documented {
                    add(
                        &format!("{at}/status"),
                        format!("HTTP {status} is not a documented response of {}", op.id),
                    );
                }
            }
            None => add(&at, "has no integer status".into()),
        }
        if let Some(word) = map.get("job-status")
            && !word
                .as_str()
                .is_some_and(|w| job.failed.iter().any(|f| f == w))
        {
            add(
                &format!("{at}/job-status"),
                format!(
                    "{word} is not one of x-job.failed ({})",
                    job.failed.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
#[path = "tests/rules.rs"]
mod tests;

#[cfg(test)]
#[path = "tests/rules_alias_and_reading_tests.rs"]
mod alias_and_reading_tests;

#[cfg(test)]
#[path = "tests/rules_link_tests.rs"]
mod link_tests;

#[cfg(test)]
#[path = "tests/rules_job_field_tests.rs"]
mod job_field_tests;
