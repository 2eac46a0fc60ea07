//! The capability matrix, built from the specs alone: one row per `x-feature` id some spec
//! declares (in the order of `img2img_specs::vocabulary::FEATURES`) plus the document-level rows
//! (auth style from `x-auth`, polling style from `x-job`, limits from `x-limits`); one cell per
//! provider. A cell is *supported* when a request property carries the feature, with what its
//! schema says (range, unit, default, enum, `maxItems`, `x-known-values`...); output formats and
//! inline base64 fall back on `x-output` when no property selects them.

use std::collections::BTreeMap;

use img2img_specs::Spec;
use img2img_specs::extensions::{AuthPlacement, Extensions, JobStyle};
use img2img_specs::schema::{escape, to_json_schema};
use img2img_specs::vocabulary::{FEATURES, SAMPLERS};
use serde_json::Value;

use super::ReportError;
use super::model::{Cell, MatrixRow, RowSource, SamplerCell, SamplerRow, Support};
use super::ranges::{Facts, number, span, unit};

/// A request property carrying an `x-feature`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tagged {
    /// The feature id.
    pub feature: String,
    /// Its path in the request body (`request.width`, `loras[]`).
    pub field: String,
    /// Its converted schema.
    pub schema: Value,
    /// Whether the request must carry it.
    pub required: bool,
    /// When it is required only under a condition (`x-required-if`): `action = "img2img"`.
    pub condition: Option<String>,
}

/// Every property carrying an `x-feature` in any request body of `spec`, in document order.
///
/// The walk follows `$ref`s in the document itself, because OpenAPI 3.0 lets a `$ref` carry
/// sibling keys the tools read (`x-feature`, `x-unit` beside `$ref: '#/components/schemas/Webhook'`)
/// while the JSON Schema conversion keeps only the target. Each tagged property's schema is then
/// converted with `img2img_specs::schema::to_json_schema`, and its `x-` siblings put back.
pub(crate) fn tagged(spec: &Spec) -> Result<Vec<Tagged>, ReportError> {
    let mut out = Vec::new();
    let job = &spec.extensions().job;
    for operation in spec.operations() {
        let Some(at) = &operation.request_body else {
            continue;
        };
        // An alias family shares the docs' schemas (the lint checks it): nothing new to tag.
        if job
            .aliases
            .iter()
            .any(|a| a.create == operation.id || a.result == operation.id)
        {
            continue;
        }
        let mut walk = Walk {
            document: spec.document(),
            out: &mut out,
        };
        walk.node(at, "", false, None, 0)?;
    }
    Ok(out)
}

struct Walk<'a> {
    document: &'a Value,
    out: &'a mut Vec<Tagged>,
}

impl Walk<'_> {
    fn node(
        &mut self,
        pointer: &str,
        field: &str,
        required: bool,
        condition: Option<String>,
        depth: usize,
    ) -> Result<(), ReportError> {
        let Some(raw) = self.document.pointer(pointer).and_then(Value::as_object) else {
            return Ok(());
        };
        if depth > 32 {
            return Err(ReportError::Spec(format!(
                "{pointer}: schemas nest deeper than 32 levels"
            )));
        }
        // The schema this node stands for: its `$ref` target, if it has one.
        let target = match raw.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference.strip_prefix('#').ok_or_else(|| {
                ReportError::Spec(format!("{pointer}: $ref {reference:?} is not local"))
            })?,
            None => pointer,
        };
        let Some(resolved) = self.document.pointer(target).and_then(Value::as_object) else {
            return Err(ReportError::Spec(format!(
                "{pointer}: $ref #{target} resolves to nothing"
            )));
        };
        let feature = raw
            .get("x-feature")
            .or_else(|| resolved.get("x-feature"))
            .and_then(Value::as_str);
        if let Some(feature) = feature {
            let mut schema = to_json_schema(self.document, pointer)
                .map_err(|e| ReportError::Spec(e.to_string()))?;
            if let Value::Object(map) = &mut schema {
                map.remove("$schema");
                for (key, value) in raw {
                    if key.starts_with("x-") || key == "default" {
                        map.insert(key.clone(), value.clone());
                    }
                }
            }
            self.out.push(Tagged {
                feature: feature.to_owned(),
                field: field.to_owned(),
                schema,
                required,
                condition: condition.clone(),
            });
        }
        if let Some(Value::Object(properties)) = resolved.get("properties") {
            let required_names: Vec<&str> = resolved
                .get("required")
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let rules = resolved.get("x-required-if").and_then(Value::as_object);
            for name in properties.keys() {
                let child = if field.is_empty() {
                    name.clone()
                } else {
                    format!("{field}.{name}")
                };
                let condition = rules
                    .and_then(|r| r.get(name))
                    .and_then(Value::as_object)
                    .and_then(|c| c.iter().next())
                    .map(|(other, value)| format!("{other} = {value}"));
                self.node(
                    &format!("{target}/properties/{}", escape(name)),
                    &child,
                    required_names.contains(&name.as_str()),
                    condition,
                    depth + 1,
                )?;
            }
        }
        if resolved.contains_key("items") {
            self.node(
                &format!("{target}/items"),
                &format!("{field}[]"),
                false,
                None,
                depth + 1,
            )?;
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(Value::Array(branches)) = resolved.get(key) {
                for index in 0..branches.len() {
                    self.node(
                        &format!("{target}/{key}/{index}"),
                        field,
                        required,
                        condition.clone(),
                        depth + 1,
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// What a person reads for a row id. Presentation only: no cell content comes from here.
pub fn label(id: &str) -> String {
    let known = match id {
        "init_image" => "Image-to-image (init image)",
        "negative_prompt" => "Negative prompt",
        "images_per_call" => "Images per call",
        "size" => "Size (\"WxH\")",
        "guidance" => "Guidance (CFG scale)",
        "guidance_rescale" => "Guidance rescale",
        "sampler" => "Samplers / schedulers",
        "noise_schedule" => "Noise schedule",
        "clip_skip" => "CLIP skip",
        "vae" => "VAE",
        "controlnet" => "ControlNet",
        "controlnet_model" => "ControlNet models",
        "lora" => "LoRA (how many)",
        "lora_strength" => "LoRA strength",
        "ip_adapter" => "IP-Adapter",
        "multi_character" => "Multi-character prompts",
        "webhook" => "Webhooks",
        "webhook_test_mode" => "Webhook test mode",
        "nsfw_detection" => "NSFW detection",
        "output_format" => "Output formats",
        "inline_base64" => "Inline base64 output",
        "prompt_enhance" => "Prompt enhancement",
        "custom_storage" => "Custom storage",
        "dedicated_resources" => "Dedicated resources",
        "auth" => "Auth style",
        "polling" => "Polling style",
        "limits" => "Limits",
        other => {
            let text = other.replace('_', " ");
            let mut chars = text.chars();
            return chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
        }
    };
    known.to_owned()
}

/// The feature ids some spec declares, in vocabulary order (then any others, sorted).
pub(crate) fn declared(all: &[(String, Vec<Tagged>)]) -> Vec<String> {
    let mut found: Vec<String> = all
        .iter()
        .flat_map(|(_, tagged)| tagged.iter().map(|t| t.feature.clone()))
        .collect();
    found.sort();
    found.dedup();
    let mut ordered: Vec<String> = FEATURES
        .iter()
        .filter(|f| found.iter().any(|x| x == *f))
        .map(|f| (*f).to_owned())
        .collect();
    ordered.extend(
        found
            .into_iter()
            .filter(|f| !FEATURES.contains(&f.as_str())),
    );
    ordered
}

/// The matrix rows: declared features, then auth, polling and limits.
pub(crate) fn rows(specs: &[&Spec], all: &[(String, Vec<Tagged>)]) -> Vec<MatrixRow> {
    let mut rows: Vec<MatrixRow> = declared(all)
        .into_iter()
        .map(|feature| MatrixRow {
            label: label(&feature),
            source: RowSource::Feature,
            cells: specs
                .iter()
                .zip(all)
                .map(|(spec, (provider, tagged))| {
                    feature_cell(provider, spec.extensions(), &feature, tagged)
                })
                .collect(),
            id: feature,
        })
        .collect();
    type DocumentCell = fn(&str, &Extensions) -> Cell;
    let documents: [(&str, DocumentCell); 3] = [
        ("auth", auth_cell),
        ("polling", polling_cell),
        ("limits", limits_cell),
    ];
    for (id, cell) in documents {
        rows.push(MatrixRow {
            id: id.to_owned(),
            label: label(id),
            source: RowSource::Document,
            cells: specs
                .iter()
                .zip(all)
                .map(|(spec, (provider, _))| cell(provider, spec.extensions()))
                .collect(),
        });
    }
    rows
}

fn feature_cell(provider: &str, ext: &Extensions, feature: &str, tagged: &[Tagged]) -> Cell {
    let hits: Vec<&Tagged> = tagged.iter().filter(|t| t.feature == feature).collect();
    let Some(first) = hits.first() else {
        return missing_cell(provider, ext, feature);
    };
    let facts = Facts::of(&first.schema);
    let (summary, mut details) = summarize(feature, &facts);
    if let Some(condition) = &first.condition {
        details.insert(0, format!("required when {condition}"));
    } else if first.required {
        details.insert(0, "required".to_owned());
    }
    if feature == "output_format" {
        details.push(format!(
            "formats (x-output): {}",
            ext.output.formats.join(", ")
        ));
    }
    let mut fields: Vec<String> = hits.iter().map(|t| t.field.clone()).collect();
    fields.dedup();
    Cell {
        provider: provider.to_owned(),
        support: Support::Supported,
        summary,
        details,
        fields,
    }
}

/// A feature no request property carries: output formats and inline base64 still have a word in
/// `x-output`; anything else is not supported.
fn missing_cell(provider: &str, ext: &Extensions, feature: &str) -> Cell {
    let (support, summary, fields) = match feature {
        "output_format" if !ext.output.formats.is_empty() => (
            Support::Partial,
            format!(
                "{} only, not selectable (default {})",
                ext.output.formats.join(", "),
                ext.output.default_format
            ),
            vec!["x-output.formats".to_owned()],
        ),
        "inline_base64" if ext.output.inline_base64 => (
            Support::Supported,
            "inline base64 images".to_owned(),
            vec!["x-output.inline-base64".to_owned()],
        ),
        "inline_base64" => (
            Support::NotSupported,
            "image URLs only".to_owned(),
            vec!["x-output.inline-base64".to_owned()],
        ),
        _ => (
            Support::NotSupported,
            "not supported".to_owned(),
            Vec::new(),
        ),
    };
    Cell {
        provider: provider.to_owned(),
        support,
        summary,
        details: Vec::new(),
        fields,
    }
}

/// One line and details for a property's schema.
fn summarize(feature: &str, facts: &Facts) -> (String, Vec<String>) {
    let mut details = Vec::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), number),
        other => other.to_string(),
    };
    let mut summary = if !facts.values.is_empty() {
        let values: Vec<String> = facts.values.iter().map(text).collect();
        if values == ["yes", "no"] || values == ["no", "yes"] {
            "on/off (\"yes\"/\"no\")".to_owned()
        } else if !facts.common_names.is_empty() {
            for value in &values {
                let common = facts
                    .common_names
                    .get(value)
                    .and_then(Value::as_str)
                    .unwrap_or(value);
                details.push(format!("{value} = {common}"));
            }
            format!(
                "{} values, by common name in the sampler table",
                values.len()
            )
        } else if values.len() <= 6 {
            values.join(", ")
        } else {
            details.extend(values.iter().cloned());
            format!("{} values", values.len())
        }
    } else if facts.is("boolean") {
        "on/off".to_owned()
    } else if let Some((low, high)) = facts.dimensions {
        format!(
            "each side {}{}",
            span(low.map(|n| (n, false)), high.map(|n| (n, false))),
            unit(facts.unit.as_deref())
        )
    } else if facts.numeric() {
        format!(
            "{}{}",
            span(facts.minimum, facts.maximum),
            unit(facts.unit.as_deref())
        )
    } else if facts.is("array") {
        let items = facts.items.as_deref();
        if let Some(item) = items {
            if !item.values.is_empty() {
                details.extend(item.values.iter().map(text));
            }
            if !item.properties.is_empty() {
                details.push(format!("each: {}", item.properties.join(", ")));
            }
        }
        match facts.max_items {
            Some(n) => format!("up to {} per request", number(n)),
            None => "a list, no documented limit".to_owned(),
        }
    } else if facts.is("object") {
        format!("settings: {}", facts.properties.join(", "))
    } else if let Some(n) = facts.max_count {
        format!("up to {} (comma-separated)", number(n))
    } else if facts.media.as_deref() == Some("image") {
        match facts.max_length {
            Some(n) => format!("an image (base64 or URL), ≤ {} characters", number(n)),
            None => "an image (base64 or URL)".to_owned(),
        }
    } else if !facts.known_values.is_empty() {
        details.extend(facts.known_values.iter().cloned());
        format!("free text, {} known values", facts.known_values.len())
    } else {
        match (facts.min_length, facts.max_length) {
            (None, None) => "text".to_owned(),
            (low, high) => format!(
                "text, {}{}",
                span(low.map(|n| (n, false)), high.map(|n| (n, false))),
                unit(facts.unit.as_deref().or(Some("characters")))
            ),
        }
    };
    if matches!(feature, "lora" | "embeddings") && facts.is("string") && facts.max_count.is_none() {
        summary = "one string (comma-separated ids), no documented limit".to_owned();
    }
    match &facts.default {
        Some(Value::String(empty)) if empty.is_empty() => summary.push_str(", default \"\""),
        Some(default) => summary.push_str(&format!(", default {}", text(default))),
        None => {}
    }
    details.extend(facts.notes());
    (summary, details)
}

fn auth_cell(provider: &str, ext: &Extensions) -> Cell {
    let auth = &ext.auth;
    let summary = match auth.placement {
        AuthPlacement::Header if auth.prefix.is_empty() => {
            format!("raw key in the {} header", auth.name)
        }
        AuthPlacement::Header => format!("{}: {}<key> header", auth.name, auth.prefix),
        AuthPlacement::Body => format!("key in the JSON body field \"{}\"", auth.name),
    };
    let accepted: Vec<String> = auth
        .accepted_prefixes
        .iter()
        .map(|p| {
            if p.is_empty() {
                "raw key".to_owned()
            } else {
                format!("{p}<key>")
            }
        })
        .collect();
    Cell {
        provider: provider.to_owned(),
        support: Support::Info,
        summary,
        details: vec![format!("accepted: {}", accepted.join(", "))],
        fields: vec!["x-auth".to_owned()],
    }
}

fn polling_cell(provider: &str, ext: &Extensions) -> Cell {
    let job = &ext.job;
    let summary = match job.style {
        JobStyle::Poll => format!(
            "poll: {} returns an id, then {} until {} is terminal",
            job.create, job.result, job.status_pointer
        ),
        JobStyle::SyncOrQueued => format!(
            "sync or queued: {} answers the result, or a queued status to fetch with {}",
            job.create, job.result
        ),
    };
    let mut details = vec![
        format!("job id at {}", job.id_pointer),
        format!("pending: {}", job.pending.join(", ")),
        format!("succeeded: {}", job.succeeded.join(", ")),
        format!("failed: {}", job.failed.join(", ")),
    ];
    if let Some(eta) = &job.eta_pointer {
        details.push(format!(
            "estimate at {eta}{}",
            job.eta_unit
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        ));
    }
    for alias in &job.aliases {
        details.push(format!(
            "also served as {}: {} then {}",
            alias.name, alias.create, alias.result
        ));
    }
    Cell {
        provider: provider.to_owned(),
        support: Support::Info,
        summary,
        details,
        fields: vec!["x-job".to_owned()],
    }
}

fn limits_cell(provider: &str, ext: &Extensions) -> Cell {
    fn flatten(prefix: &str, value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    flatten(&name, value, out);
                }
            }
            Value::Number(n) => out.push(format!(
                "{prefix} = {}",
                n.as_f64().map_or_else(|| n.to_string(), number)
            )),
            other => out.push(format!("{prefix} = {other}")),
        }
    }
    let mut details = Vec::new();
    flatten("", &Value::Object(ext.limits.clone()), &mut details);
    let summary = if details.is_empty() {
        "none documented".to_owned()
    } else {
        std::mem::take(&mut details).join(", ")
    };
    Cell {
        provider: provider.to_owned(),
        support: Support::Info,
        summary,
        details,
        fields: vec!["x-limits".to_owned()],
    }
}

/// Sampler and scheduler values lined up by common name (`x-common-names`; a value without an
/// entry is its own common name), in the order of `vocabulary::SAMPLERS`.
pub(crate) fn samplers(all: &[(String, Vec<Tagged>)]) -> Vec<SamplerRow> {
    let mut by_name: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for (index, (_, tagged)) in all.iter().enumerate() {
        for t in tagged
            .iter()
            .filter(|t| t.feature == "sampler" || t.feature == "scheduler")
        {
            let facts = Facts::of(&t.schema);
            for value in facts.values.iter().filter_map(Value::as_str) {
                let common = facts
                    .common_names
                    .get(value)
                    .and_then(Value::as_str)
                    .unwrap_or(value)
                    .to_owned();
                let cells = by_name
                    .entry(common)
                    .or_insert_with(|| vec![Vec::new(); all.len()]);
                cells[index].push(value.to_owned());
            }
        }
    }
    let rank = |name: &str| {
        SAMPLERS
            .iter()
            .position(|s| *s == name)
            .unwrap_or(usize::MAX)
    };
    let mut rows: Vec<SamplerRow> = by_name
        .into_iter()
        .map(|(common_name, values)| SamplerRow {
            cells: all
                .iter()
                .zip(values)
                .map(|((provider, _), values)| SamplerCell {
                    provider: provider.clone(),
                    values,
                })
                .collect(),
            common_name,
        })
        .collect();
    rows.sort_by_key(|r| (rank(&r.common_name), r.common_name.clone()));
    rows
}
