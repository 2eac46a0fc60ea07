//! Reading the values of a request's features in every form the specs allow. Where each feature
//! lives, and its default, comes from the spec's feature view (`img2img_specs::Spec::feature`).

use serde_json::Value;

/// A number sent as a JSON number or as a decimal string (both forms some specs accept).
pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A `"WxH"` size string.
pub(crate) fn as_size(value: &Value) -> Option<(u64, u64)> {
    let (w, h) = value.as_str()?.split_once(['x', 'X'])?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_and_sizes_parse_in_every_form_the_specs_allow() {
        assert_eq!(as_number(&json!("512")), Some(512.0));
        assert_eq!(as_number(&json!(7.5)), Some(7.5));
        assert_eq!(as_number(&json!(true)), None);
        assert_eq!(as_size(&json!("832x1216")), Some((832, 1216)));
        assert_eq!(as_size(&json!("832")), None);
    }
}
