use std::borrow::Cow;

use serde_json::{Value as Json, json};

use super::*;

/// A job with two outputs, a seed beyond `i64`, and a request.
struct Job {
    request: Json,
    failed: bool,
}

impl Scope for Job {
    fn job(&self, var: JobVar) -> Value<'_> {
        match var {
            JobVar::Id => Value::Str("a1".into()),
            JobVar::Seed => Value::Uint(u64::MAX),
            JobVar::EtaS => Value::Float(20.0),
            JobVar::EtaWholeS => Value::Int(20),
            JobVar::CreatedMs => Value::Int(1_795_320_626_942),
            JobVar::Stage => Value::Str(if self.failed { "failed" } else { "succeeded" }.into()),
            JobVar::Reason if self.failed => Value::Str("no luck".into()),
            JobVar::NsfwDetection => Value::Bool(false),
            _ => Value::Absent,
        }
    }

    fn request(&self) -> Option<&Json> {
        Some(&self.request)
    }

    fn outputs(&self, future: bool) -> usize {
        if future || !self.failed { 2 } else { 0 }
    }

    fn output(&self, index: usize, field: OutputField) -> Value<'_> {
        match field {
            OutputField::Url => Value::Str(Cow::Owned(format!("http://h/{index}.png"))),
            OutputField::Index => Value::Uint(index as u64),
            _ => Value::Absent,
        }
    }
}

fn job() -> Job {
    Job {
        request: json!({"model_id": 12345678901234567_u64, "scale": 7, "ratio": 7.0,
                        "tags": ["a", "b"], "nested": {"x": null}}),
        failed: false,
    }
}

fn render(source: Json, scope: &Job) -> String {
    Template::compile(&source, Role::Job)
        .unwrap_or_else(|e| panic!("{e}"))
        .render_to_string(scope)
}

#[test]
fn numbers_keep_their_exact_json_form() {
    let text = render(
        json!({"seed": "${job.seed}", "eta": "${job.eta.s}", "whole": "${job.eta.whole_s}",
               "ms": "${job.created.ms}", "model": "${request.model_id}", "scale": "${request.scale}",
               "ratio": "${request.ratio}"}),
        &job(),
    );
    assert_eq!(
        text,
        r#"{"eta":20.0,"model":12345678901234567,"ms":1795320626942,"ratio":7.0,"scale":7,"seed":18446744073709551615,"whole":20}"#
    );
}

#[test]
fn keys_come_out_sorted_as_serde_json_writes_a_map() {
    let source = json!({"b": 1, "a": {"z": "${job.id}", "B": 2, "_": [3]}, "A": "x"});
    let text = render(source.clone(), &job());
    let value: Json = serde_json::from_str(&text).unwrap();
    assert_eq!(text, serde_json::to_string(&value).unwrap());
    assert_eq!(text, r#"{"A":"x","a":{"B":2,"_":[3],"z":"a1"},"b":1}"#);
}

#[test]
fn absent_values_leave_their_key_or_item_out_and_give_way_to_alternatives() {
    let text = render(
        json!({"reason": "${job.reason}", "kept": "${job.reason ?? ''}", "list": ["${job.reason}", 1, "${job.id}"],
               "null": "${request.nested.x ?? 'default'}", "missing": "${request.nope ?? null}",
               "text": "id ${job.id}, reason ${job.reason}"}),
        &job(),
    );
    assert_eq!(
        text,
        r#"{"kept":"","list":[1,"a1"],"missing":null,"null":null}"#
    );
}

#[test]
fn operators_branch_match_map_and_format_times() {
    let source = json!({
        "error": {"$if": "job.reason", "then": {"message": "${job.reason}"}, "else": null},
        "status": {"$match": "job.stage", "cases": {"failed": "FAILED", "succeeded": "OK"}, "default": "?"},
        "images": {"$map": "job.outputs", "as": "image", "to": {"url": "${image.url}", "i": "${image.index}"}},
        "future": {"$map": "job.future_outputs", "as": "image", "to": "${image.url}"},
        "tags": {"$map": "request.tags", "as": "tag", "to": "tag:${tag}"},
        "at": {"$time": "job.created.ms", "format": "%Y-%m-%d %H:%M:%S"},
        "first": "${job.outputs.0.url}",
        "third": "${job.future_outputs.2.url ?? null}",
        "$$literal": "${job.id}",
        "price": "$${job.id}",
    });
    let template = Template::compile(&source, Role::Job).unwrap();
    assert_eq!(
        template.render_value(&job()),
        json!({
            "error": null, "status": "OK",
            "images": [{"url": "http://h/0.png", "i": 0}, {"url": "http://h/1.png", "i": 1}],
            "future": ["http://h/0.png", "http://h/1.png"],
            "first": "http://h/0.png",
            "third": null,
            "tags": ["tag:a", "tag:b"],
            "at": "2026-11-22 04:10:26",
            "$literal": "a1",
            "price": "${job.id}",
        })
    );
    let failed = Job {
        failed: true,
        ..job()
    };
    let value = template.render_value(&failed);
    assert_eq!(value["error"], json!({"message": "no luck"}));
    assert_eq!(
        (&value["status"], &value["images"]),
        (&json!("FAILED"), &json!([]))
    );
    assert!(template.reads_output(OutputField::Url));
    assert_eq!(template.request_pointers(), vec!["/tags".to_owned()]);
    assert!(!template.reads_output(OutputField::Base64));
}

#[test]
fn writes_at_follows_every_branch() {
    let source = json!({
        "$match": "job.stage",
        "cases": {"succeeded": {"url": "${job.result_url}", "x": 1}},
        "default": {"url": "http://fixed", "y": {"z": "${job.id}"}},
    });
    let template = Template::compile(&source, Role::Job).unwrap();
    assert_eq!(
        template.writes_at("/url"),
        vec![Some(Var::Job(JobVar::ResultUrl)), None]
    );
    assert_eq!(template.writes_at("/y/z"), vec![Some(Var::Job(JobVar::Id))]);
    assert!(template.writes_at("/nowhere").is_empty());
}

#[test]
fn mistakes_are_named_when_the_template_is_compiled() {
    for (source, role, needle) in [
        (
            json!({"a": "${job.stauts}"}),
            Role::Job,
            "at /a: unknown variable \"job.stauts\": expected one of job.id",
        ),
        (
            json!({"a": "${error.status}"}),
            Role::Job,
            "\"error.status\" is not known in job templates",
        ),
        (
            json!({"a": "${job.id}"}),
            Role::Error,
            "\"job.id\" is not known in error templates",
        ),
        (json!({"a": "${job.id"}), Role::Job, "is never closed"),
        (
            json!({"a": {"$iff": "job.id"}}),
            Role::Job,
            "unknown operator \"$iff\"",
        ),
        (
            json!({"a": {"$if": "job.id", "then": 1, "otherwise": 2}}),
            Role::Job,
            "$if takes $if, then, else, not \"otherwise\"",
        ),
        (
            json!({"a": {"$if": "job.id"}}),
            Role::Job,
            "$if needs `then`",
        ),
        (
            json!({"$map": "job.id", "as": "x", "to": 1}),
            Role::Job,
            "$map walks job.outputs",
        ),
        (
            json!({"$map": "job.outputs", "as": "i", "to": "${i.colour}"}),
            Role::Job,
            "an image has i.url",
        ),
        (
            json!({"$time": "job.created.ms", "format": "%Q"}),
            Role::Job,
            "is not a strftime format",
        ),
        (json!({"a": "${}"}), Role::Job, "an empty term"),
        (
            json!({"a": "${job.outputs.first.url}"}),
            Role::Job,
            "comes an image's index",
        ),
        (
            json!({"a": "${job.outputs.0.colour}"}),
            Role::Job,
            "an image has job.outputs.0.url",
        ),
        (json!({"a": "${job id}"}), Role::Job, "neither a variable"),
        (
            json!({"a": "${colour}"}),
            Role::Job,
            "variables start with job. or request.",
        ),
        (
            json!({"a": "${request.width}"}),
            Role::Error,
            "\"request.width\" is not known in error templates",
        ),
    ] {
        let error = Template::compile(&source, role).unwrap_err().to_string();
        assert!(error.contains(needle), "{source}: {error}");
    }
}

#[test]
fn an_error_template_reads_the_error() {
    struct Error;
    impl Scope for Error {
        fn error(&self, var: ErrorVar) -> Value<'_> {
            match var {
                ErrorVar::Status => Value::Uint(429),
                ErrorVar::Message => Value::Str("slow down".into()),
                ErrorVar::RetryAfter => Value::Uint(30),
                _ => Value::Absent,
            }
        }
    }
    let source = json!({
        "$match": "error.status",
        "cases": {"429": {"code": "${error.status}", "message": "${error.message}", "retry_after": "${error.retry_after}", "field": "${error.field}"}},
    });
    let template = Template::compile(&source, Role::Error).unwrap();
    assert_eq!(
        template.render_to_string(&Error),
        r#"{"code":429,"message":"slow down","retry_after":30}"#
    );
    assert_eq!(
        Template::compile(&json!("${error.field}"), Role::Error)
            .unwrap()
            .render_to_string(&Error),
        "null"
    );
}
