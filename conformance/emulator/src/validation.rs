//! A request body, checked in the order a client's mistakes show: content type (400), size (413),
//! JSON syntax (400), then the operation's request schema from the spec (400, naming every field,
//! value and allowed range).
//!
//! A body not declared `application/json` is answered 400 in the provider's error shape, not 415:
//! no provider documents a 415, every one documents a 400 for a request it cannot read, and a
//! client can only rely on what is documented (schemathesis reported the 415 as undocumented).

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, Limited};
use img2img_specs::extensions::Cause;
use img2img_specs::{Reading, Rule, media_fields};
use serde_json::Value;

use super::catalog::ProviderInfo;
use super::error::ApiError;

/// Whether a `Content-Type` is JSON (`application/json`, parameters allowed, or `+json`).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads the JSON body of a request to `info`'s provider.
pub(crate) async fn read_json(
    info: &ProviderInfo,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match &content_type {
        Some(kind) if is_json(kind) => {}
        Some(kind) => {
            return Err(ApiError::invalid(format!(
                "Content-Type = {kind:?} is not supported: send application/json"
            )));
        }
        None => {
            return Err(ApiError::invalid(
                "Content-Type is missing: send application/json",
            ));
        }
    }
    let limit = info.body_limit;
    let too_large = |size: Option<u64>| {
        ApiError::new(
            Cause::TooLarge,
            match size {
                Some(size) => format!("body = {size} bytes is above the maximum {limit} bytes"),
                None => format!("body is above the maximum {limit} bytes"),
            },
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(size) = declared.filter(|size| *size > limit) {
        return Err(too_large(Some(size)));
    }
    let bytes = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large(None)
            } else {
                ApiError::invalid(format!("the body could not be read: {e}"))
            }
        })?
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::invalid(format!(
            "body is not valid JSON: {e} (malformed JSON at line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    match beyond_64_bits(&body, &body) {
        Some(field) => Err(ApiError::invalid(format!(
            "{field} is a whole number beyond the 64-bit integer range, which no field takes"
        ))),
        None => Ok(body),
    }
}

/// The field path of a whole number outside the signed and unsigned 64-bit ranges. JSON parsing
/// turns such a number into a rounded float, whose rounding a schema's `format: int64` bound
/// cannot see (`-9223372036854775809` reads as `-2^63`), so it is refused here.
fn beyond_64_bits(root: &Value, value: &Value) -> Option<String> {
    fn walk(root: &Value, value: &Value, pointer: &mut String) -> Option<String> {
        match value {
            Value::Number(n) if n.is_f64() => n
                .as_f64()
                .filter(|v| v.fract() == 0.0 && v.abs() >= 9.223_372_036_854_775e18)
                .map(|_| img2img_specs::field_path(root, pointer)),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                let found = walk(root, item, pointer);
                pointer.truncate(len);
                found
            }),
            Value::Object(map) => map.iter().find_map(|(key, item)| {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                let found = walk(root, item, pointer);
                pointer.truncate(len);
                found
            }),
            _ => None,
        }
    }
    walk(root, value, &mut String::new())
}

/// Validates a body against the request schema of `operation` as the provider accepts it
/// ([`Reading::Accepting`]: nulls read as absent, tolerated fields; see `specs/README.md`). The
/// error names every violation, and its field is the first one's; when that one is an `x-media`
/// field over its `maxLength`, the cause is [`Cause::TooLarge`].
pub(crate) fn validate(info: &ProviderInfo, operation: &str, body: &Value) -> Result<(), ApiError> {
    let Some(schema) = info.spec.request_schema_as(operation, Reading::Accepting) else {
        return Ok(());
    };
    let schema = schema.map_err(|e| {
        ApiError::invalid(format!(
            "the spec's schema for {operation} does not compile: {e}"
        ))
    })?;
    schema.validate(body).map_err(|violations| {
        let first = violations.iter().next();
        // An image over its `maxLength` is an image too large, as a body over the limit is.
        let oversized_image = first.is_some_and(|v| {
            matches!(v.rule, Rule::MaxLength { .. })
                && media_fields(schema.schema(), body).contains(&v.pointer)
        });
        let cause = if oversized_image {
            Cause::TooLarge
        } else {
            Cause::InvalidRequest
        };
        ApiError {
            field: first.map(|v| v.subject()),
            ..ApiError::new(cause, violations.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn whole_numbers_beyond_64_bits_are_found() {
        let body: serde_json::Value =
            serde_json::from_str(r#"{"request_id": -9223372036854775809, "a": [1.5, 2]}"#).unwrap();
        assert_eq!(
            super::beyond_64_bits(&body, &body).as_deref(),
            Some("request_id")
        );
        let fine: serde_json::Value =
            serde_json::from_str(r#"{"request_id": 9223372036854775807, "s": 1e3}"#).unwrap();
        assert_eq!(super::beyond_64_bits(&fine, &fine), None);
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/vnd.api+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
