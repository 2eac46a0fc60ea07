//! `compatibility.json` and its JSON Schema, derived from [`Report`] with schemars.

use serde_json::Value;

use super::model::Report;

/// The report as pretty-printed JSON.
pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a report serializes");
    text.push('\n');
    text
}

/// The JSON Schema of `compatibility.json`.
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Report)).expect("a schema serializes")
}

/// [`schema`] as pretty-printed JSON.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("a schema serializes");
    text.push('\n');
    text
}
