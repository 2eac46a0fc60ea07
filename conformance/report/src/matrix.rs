//! The capability matrix, built from the specs alone: one row per `x-feature` id some spec
//! declares (in the order of `img2img_specs::Feature::ALL`) plus the document-level rows
//! (auth style from `x-auth`, polling style from `x-job`, limits from `x-limits`); one cell per
//! provider. A cell is *supported* when a request property carries the feature, with what its
//! schema says (range, unit, default, enum, `maxItems`, `x-known-values`...); output formats and
//! inline base64 fall back on `x-output` when no property selects them.

use std::collections::{BTreeMap, HashSet};

use img2img_specs::extensions::{AuthPlacement, Extensions, JobStyle};
use img2img_specs::vocabulary::SAMPLERS;
use img2img_specs::{Feature, FeatureField, Spec};
use serde_json::Value;

use super::model::{Cell, MatrixRow, RowSource, SamplerCell, SamplerRow, Support};
use super::ranges::{Facts, number, span, unit};

/// Every property carrying an `x-feature` in any request body of `spec`, as the spec's feature
/// view finds them (array items included): the operations outside the `x-job` API families first
/// (their schemas give a cell its facts), then the families', of which only what the others lack
/// is kept (a family sharing the docs' body adds nothing; one with a body of its own adds the
/// features only it has).
pub(crate) fn tagged(spec: &Spec) -> Vec<&FeatureField> {
    let job = &spec.extensions().job;
    let (in_families, outside): (Vec<_>, Vec<_>) = spec
        .operations()
        .iter()
        .partition(|operation| job.aliases.iter().any(|a| a.has(&operation.id)));
    let mut seen = HashSet::new();
    outside
        .into_iter()
        .chain(in_families)
        .flat_map(|operation| spec.features(&operation.id))
        .filter(|field| seen.insert((field.feature, field.name())))
        .collect()
}

/// What a person reads for a row id (a feature id, or `auth`, `polling`, `limits`).
/// Presentation only: no cell content comes from here.
pub fn label(id: &str) -> String {
    if let Ok(feature) = id.parse::<Feature>() {
        return feature.label().to_owned();
    }
    let known = match id {
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

/// The features some spec declares, in vocabulary order.
pub(crate) fn declared(all: &[(String, Vec<&FeatureField>)]) -> Vec<Feature> {
    Feature::ALL
        .iter()
        .copied()
        .filter(|f| {
            all.iter()
                .any(|(_, tagged)| tagged.iter().any(|t| t.feature == *f))
        })
        .collect()
}

/// The matrix rows: declared features, then auth, polling and limits.
pub(crate) fn rows(specs: &[&Spec], all: &[(String, Vec<&FeatureField>)]) -> Vec<MatrixRow> {
    let mut rows: Vec<MatrixRow> = declared(all)
        .into_iter()
        .map(|feature| MatrixRow {
            label: feature.label().to_owned(),
            source: RowSource::Feature,
            cells: specs
                .iter()
                .zip(all)
                .map(|(spec, (provider, tagged))| {
                    feature_cell(provider, spec.extensions(), feature, tagged)
                })
                .collect(),
            id: feature.as_str().to_owned(),
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

fn feature_cell(
    provider: &str,
    ext: &Extensions,
    feature: Feature,
    tagged: &[&FeatureField],
) -> Cell {
    let hits: Vec<&FeatureField> = tagged
        .iter()
        .copied()
        .filter(|t| t.feature == feature)
        .collect();
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
    if feature == Feature::OutputFormat {
        details.push(format!(
            "formats (x-output): {}",
            ext.output.formats.join(", ")
        ));
    }
    let mut fields: Vec<String> = hits.iter().map(|t| t.name()).collect();
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
fn missing_cell(provider: &str, ext: &Extensions, feature: Feature) -> Cell {
    let (support, summary, fields) = match feature {
        Feature::OutputFormat if !ext.output.formats.is_empty() => (
            Support::Partial,
            format!(
                "{} only, not selectable (default {})",
                ext.output.formats.join(", "),
                ext.output.default_format
            ),
            vec!["x-output.formats".to_owned()],
        ),
        Feature::InlineBase64 if ext.output.inline_base64 => (
            Support::Supported,
            "inline base64 images".to_owned(),
            vec!["x-output.inline-base64".to_owned()],
        ),
        Feature::InlineBase64 => (
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
fn summarize(feature: Feature, facts: &Facts) -> (String, Vec<String>) {
    let mut details = Vec::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => number(n),
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
    } else if let Some((low, high)) = facts.dimensions.clone() {
        format!(
            "each side {}{}",
            span(low.map(|n| (n, false)), high.map(|n| (n, false))),
            unit(facts.unit.as_deref())
        )
    } else if facts.numeric() {
        format!(
            "{}{}",
            span(facts.minimum.clone(), facts.maximum.clone()),
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
        match &facts.max_items {
            Some(n) => format!("up to {} per request", number(n)),
            None => "a list, no documented limit".to_owned(),
        }
    } else if facts.is("object") {
        format!("settings: {}", facts.properties.join(", "))
    } else if let Some(n) = &facts.max_count {
        format!("up to {} (comma-separated)", number(n))
    } else if facts.media.as_deref() == Some("image") {
        match &facts.max_length {
            Some(n) => format!("an image (base64 or URL), ≤ {} characters", number(n)),
            None => "an image (base64 or URL)".to_owned(),
        }
    } else if !facts.known_values.is_empty() {
        details.extend(facts.known_values.iter().cloned());
        format!("free text, {} known values", facts.known_values.len())
    } else {
        match (facts.min_length.clone(), facts.max_length.clone()) {
            (None, None) => "text".to_owned(),
            (low, high) => format!(
                "text, {}{}",
                span(low.map(|n| (n, false)), high.map(|n| (n, false))),
                unit(facts.unit.as_deref().or(Some("characters")))
            ),
        }
    };
    if matches!(feature, Feature::Lora | Feature::Embeddings)
        && facts.is("string")
        && facts.max_count.is_none()
    {
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
                .map(|u| format!(" ({})", u.as_str()))
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
            Value::Number(n) => out.push(format!("{prefix} = {}", number(n))),
            other => out.push(format!("{prefix} = {other}")),
        }
    }
    let mut details = Vec::new();
    // Serialized, the limits are a sorted map of the spec's keys.
    let limits = serde_json::to_value(&ext.limits).unwrap_or(Value::Null);
    flatten("", &limits, &mut details);
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
pub(crate) fn samplers(all: &[(String, Vec<&FeatureField>)]) -> Vec<SamplerRow> {
    let mut by_name: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for (index, (_, tagged)) in all.iter().enumerate() {
        for t in tagged
            .iter()
            .filter(|t| matches!(t.feature, Feature::Sampler | Feature::Scheduler))
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
                // One spelling once, however many creates (API families) take it.
                if !cells[index].iter().any(|v| v == value) {
                    cells[index].push(value.to_owned());
                }
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
