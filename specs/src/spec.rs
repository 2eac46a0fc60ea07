//! One provider's OpenAPI document, parsed: its operations, examples, extensions and compiled schemas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::extensions::Extensions;
use crate::operation::{Method, Operation};
use crate::provider::Provider;
use crate::schema::{Reading, SchemaError, escape, to_json_schema_as};
use crate::validate::CompiledSchema;
use crate::view::{Feature, FeatureField};

/// A spec that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The text is not YAML (or JSON).
    #[error("the spec is not valid YAML: {0}")]
    Yaml(#[source] Box<serde_saphyr::Error>),
    /// The document is not OpenAPI 3.0.x.
    #[error("openapi = {0:?}: the tools read OpenAPI 3.0.x only")]
    Version(String),
    /// The document does not have the structure of an OpenAPI document.
    #[error("the spec is not a well-formed OpenAPI 3.0 document: at {at}: {message}")]
    Structure {
        /// Where the fault stands (a dotted path or a JSON pointer into the document).
        at: String,
        /// What is wrong there.
        message: String,
    },
    /// A document-level `x-` extension is missing or malformed.
    #[error(
        "the spec's x-provider / x-auth / x-job / x-output extensions are missing or malformed: at {at}: {message}"
    )]
    Extensions {
        /// Where the fault stands (a dotted path into the document).
        at: String,
        /// What is wrong there.
        message: String,
    },
}

/// What an example illustrates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExampleKind {
    /// A request body.
    Request,
    /// A response body with this status.
    Response(String),
}

/// One example value found in the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The operation it belongs to.
    pub operation: String,
    /// Request or response.
    pub kind: ExampleKind,
    /// Its name in the `examples` map (`example` for a lone `example`).
    pub name: String,
    /// JSON pointer to the example in the document.
    pub pointer: String,
    /// JSON pointer to the schema it must satisfy.
    pub schema: String,
    /// The value.
    pub value: Value,
    /// Kept verbatim under the media type's `x-docs-examples`: the docs' text, which is no request
    /// to send (a placeholder where the image goes), so generic tools never see it.
    pub docs_only: bool,
}

/// An OpenAPI `link` from a response to another operation (read by [`Spec::links`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Its name in the response's `links` map.
    pub name: String,
    /// The response status it hangs on (`200`).
    pub status: String,
    /// The `operationId` it leads to.
    pub operation: String,
    /// Parameters of that operation (name, without any `query.` prefix) and the runtime
    /// expression giving each (`$response.body#/task_id`).
    pub parameters: Vec<(String, String)>,
    /// Body fields of that operation and the expression giving each.
    pub body_fields: Vec<(String, String)>,
}

impl Link {
    /// The value of a `$response.body#/...` expression in `body` (numbers as their decimal text).
    pub fn resolve(expression: &str, body: &Value) -> Option<Value> {
        let pointer = expression.strip_prefix("$response.body#")?;
        body.pointer(pointer).filter(|v| !v.is_null()).cloned()
    }
}

/// `x-not-found` of an operation: how the provider answers an id it does not know, or no
/// longer keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound {
    /// The HTTP status of that answer.
    pub status: u16,
    /// The job status word its body carries (an HTTP 200 answer saying `status: error`), if any.
    pub job_status: Option<String>,
    /// The message its body carries, where the provider's words are known.
    pub message: Option<String>,
}

/// A parsed spec.
pub struct Spec {
    document: Value,
    openapi: openapiv3::OpenAPI,
    extensions: Extensions,
    operations: Vec<Operation>,
    compiled: Mutex<HashMap<(String, Reading), Arc<CompiledSchema>>>,
    features: OnceLock<HashMap<String, Vec<FeatureField>>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("provider", &self.extensions.provider.id)
            .field("operations", &self.operations.len())
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// The spec of `provider` embedded in this crate, parsed once.
    ///
    /// # Panics
    /// If the embedded spec does not parse; the crate's tests make sure it does.
    pub fn embedded(provider: Provider) -> &'static Spec {
        static SPECS: std::sync::LazyLock<Box<[OnceLock<Spec>]>> =
            std::sync::LazyLock::new(|| Provider::all().map(|_| OnceLock::new()).collect());
        SPECS[provider.index()].get_or_init(|| {
            Spec::parse(provider.embedded_yaml()).unwrap_or_else(|e| {
                panic!(
                    "the embedded spec specs/{} is unusable: {e}",
                    provider.spec_file()
                )
            })
        })
    }

    /// Parses a spec from YAML (or JSON) text.
    ///
    /// YAML 1.2 core booleans only: `yes`, `no`, `on`, `off`, `y` and `n` stay strings (flags may be the
    /// strings `"yes"`/`"no"`, and a provider called `N` is not `false`).
    pub fn parse(text: &str) -> Result<Spec, SpecError> {
        let options = serde_saphyr::options! { strict_booleans: true };
        let document: Value = serde_saphyr::from_str_with_options(text, options)
            .map_err(|e| SpecError::Yaml(Box::new(e)))?;
        Spec::from_document(document)
    }

    /// Builds a spec from an already parsed document.
    pub fn from_document(document: Value) -> Result<Spec, SpecError> {
        let version = document
            .get("openapi")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !version.starts_with("3.0.") {
            return Err(SpecError::Version(version.to_owned()));
        }
        let openapi: openapiv3::OpenAPI = serde_path_to_error::deserialize(document.clone())
            .map_err(|e| SpecError::Structure {
                at: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        let extensions: Extensions =
            serde_path_to_error::deserialize(document.clone()).map_err(|e| {
                SpecError::Extensions {
                    at: e.path().to_string(),
                    message: e.inner().to_string(),
                }
            })?;
        let operations = crate::operation::collect(&document)?;
        Ok(Spec {
            document,
            openapi,
            extensions,
            operations,
            compiled: Mutex::new(HashMap::new()),
            features: OnceLock::new(),
        })
    }

    /// The document as JSON.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The document as `openapiv3` types (what progenitor reads).
    pub fn openapi(&self) -> &openapiv3::OpenAPI {
        &self.openapi
    }

    /// The document-level `x-` extensions.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The provider named by `x-provider.id`, if it is one this crate knows.
    pub fn provider(&self) -> Option<Provider> {
        self.extensions.provider.id.parse().ok()
    }

    /// The live provider's base URL: the spec's first server, without a trailing slash.
    pub fn default_base_url(&self) -> Option<&str> {
        self.openapi
            .servers
            .first()
            .map(|server| server.url.trim_end_matches('/'))
    }

    /// Every operation, in document order.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation with this `operationId`.
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.id == id)
    }

    /// Every `x-feature` property of operation `id`'s request body, found by the one walk
    /// described in [`FeatureField`] (cached); empty for an operation without a body.
    pub fn features(&self, id: &str) -> &[FeatureField] {
        self.features
            .get_or_init(|| crate::view::collect_features(self))
            .get(id)
            .map_or(&[], Vec::as_slice)
    }

    /// Where operation `id`'s request body carries `feature` for the request as a whole: its
    /// first occurrence outside any array item.
    pub fn feature(&self, id: &str, feature: Feature) -> Option<&FeatureField> {
        self.features(id)
            .iter()
            .find(|f| f.feature == feature && !f.in_array())
    }

    /// The operation a request with this method and concrete path calls.
    pub fn operation_for(&self, method: Method, path: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .filter(|op| op.method == method)
            .find(|op| op.path == path || op.matches_path(path))
    }

    /// The schema at JSON pointer `at`, converted to JSON Schema and compiled (cached).
    pub fn compiled(&self, at: &str) -> Result<Arc<CompiledSchema>, SchemaError> {
        self.compiled_as(at, Reading::Sending)
    }

    /// [`Spec::compiled`] in the given [`Reading`] (cached per pointer and reading).
    pub fn compiled_as(
        &self,
        at: &str,
        reading: Reading,
    ) -> Result<Arc<CompiledSchema>, SchemaError> {
        let mut cache = self
            .compiled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (at.to_owned(), reading);
        if let Some(found) = cache.get(&key) {
            return Ok(Arc::clone(found));
        }
        let compiled = Arc::new(CompiledSchema::compile(
            to_json_schema_as(&self.document, at, reading)?,
            at,
        )?);
        cache.insert(key, Arc::clone(&compiled));
        Ok(compiled)
    }

    /// The compiled request body schema of operation `id`, if it has a body, as our client sends
    /// it ([`Reading::Sending`]: what the request guard holds requests to).
    pub fn request_schema(&self, id: &str) -> Option<Result<Arc<CompiledSchema>, SchemaError>> {
        self.request_schema_as(id, Reading::Sending)
    }

    /// The compiled request body schema of operation `id` in the given [`Reading`]:
    /// [`Reading::Accepting`] is what the provider accepts (what emulators and live checks hold a
    /// server to).
    pub fn request_schema_as(
        &self,
        id: &str,
        reading: Reading,
    ) -> Option<Result<Arc<CompiledSchema>, SchemaError>> {
        let at = self.operation(id)?.request_body.as_deref()?;
        Some(self.compiled_as(at, reading))
    }

    /// The compiled schema of the response operation `id` documents for `status`.
    pub fn response_schema(
        &self,
        id: &str,
        status: u16,
    ) -> Option<Result<Arc<CompiledSchema>, SchemaError>> {
        let at = self.operation(id)?.response(status)?.schema.as_deref()?;
        Some(self.compiled(at))
    }

    /// The links of operation `id`'s responses, in document order.
    pub fn links(&self, id: &str) -> Vec<Link> {
        let Some(op) = self.operation(id) else {
            return Vec::new();
        };
        let strings = |value: Option<&Value>| -> Vec<(String, String)> {
            value
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        .filter_map(|(k, v)| {
                            let name = k.split_once('.').map_or(k.as_str(), |(_, n)| n);
                            Some((name.to_owned(), v.as_str()?.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        for response in &op.responses {
            let Some(Value::Object(links)) = self
                .document
                .pointer(&response.pointer)
                .and_then(|r| r.get("links"))
            else {
                continue;
            };
            for (name, link) in links {
                let (_, link) = follow_refs(&self.document, "", link);
                let Some(operation) = link.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                out.push(Link {
                    name: name.clone(),
                    status: response.status.clone(),
                    operation: operation.to_owned(),
                    parameters: strings(link.get("parameters")),
                    body_fields: strings(link.get("requestBody")),
                });
            }
        }
        out
    }

    /// The `x-not-found` answer of operation `id`, if the spec gives one.
    pub fn not_found(&self, id: &str) -> Option<NotFound> {
        let op = self.operation(id)?;
        let value = self
            .document
            .pointer(&format!("{}/x-not-found", op.pointer))?;
        Some(NotFound {
            status: u16::try_from(value.get("status")?.as_u64()?).ok()?,
            job_status: value
                .get("job-status")
                .and_then(Value::as_str)
                .map(str::to_owned),
            message: value
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// Every example in the spec, with the schema it must satisfy: each media type's `examples`
    /// (what generic tools send), then its `x-docs-examples` (verbatim docs text, never sent).
    pub fn examples(&self) -> Vec<Example> {
        let mut out = Vec::new();
        for op in &self.operations {
            if let Some(schema) = &op.request_body {
                let media = parent_pointer(schema);
                self.collect_examples(op, ExampleKind::Request, media, schema, &mut out);
            }
            for response in &op.responses {
                if let Some(schema) = &response.schema {
                    let media = parent_pointer(schema);
                    let kind = ExampleKind::Response(response.status.clone());
                    self.collect_examples(op, kind, media, schema, &mut out);
                }
            }
        }
        out
    }

    fn collect_examples(
        &self,
        op: &Operation,
        kind: ExampleKind,
        media: &str,
        schema: &str,
        out: &mut Vec<Example>,
    ) {
        let Some(media_type) = self.document.pointer(media) else {
            return;
        };
        if let Some(value) = media_type.get("example") {
            out.push(Example {
                operation: op.id.clone(),
                kind: kind.clone(),
                name: "example".into(),
                pointer: format!("{media}/example"),
                schema: schema.to_owned(),
                value: value.clone(),
                docs_only: false,
            });
        }
        for (map, docs_only) in [("examples", false), ("x-docs-examples", true)] {
            let Some(Value::Object(examples)) = media_type.get(map) else {
                continue;
            };
            for (name, example) in examples {
                let (pointer, example) = follow_refs(
                    &self.document,
                    &format!("{media}/{map}/{}", escape(name)),
                    example,
                );
                if let Some(value) = example.get("value") {
                    out.push(Example {
                        operation: op.id.clone(),
                        kind: kind.clone(),
                        name: name.clone(),
                        pointer: format!("{pointer}/value"),
                        schema: schema.to_owned(),
                        value: value.clone(),
                        docs_only,
                    });
                }
            }
        }
    }
}

/// The pointer one level up.
fn parent_pointer(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// Follows a local `$ref` from `value` at `at` (one or more hops); returns the pointer and value
/// reached.
pub fn follow_refs<'a>(document: &'a Value, at: &str, value: &'a Value) -> (String, &'a Value) {
    let mut pointer = at.to_owned();
    let mut current = value;
    for _ in 0..16 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(target) = reference
            .strip_prefix('#')
            .and_then(|p| document.pointer(p))
        else {
            break;
        };
        pointer = reference[1..].to_owned();
        current = target;
    }
    (pointer, current)
}

#[cfg(test)]
mod structure_tests {
    use crate::{Spec, SpecError};

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let text = "openapi: 3.0.3\ninfo: {title: N, version: '1'}\npaths: {}\nx-flags: [yes, no, on, off, y, n, true]\n";
        let document: serde_json::Value = serde_saphyr::from_str_with_options(
            text,
            serde_saphyr::options! { strict_booleans: true },
        )
        .unwrap();
        assert_eq!(document["info"]["title"], "N");
        assert_eq!(
            document["x-flags"],
            serde_json::json!(["yes", "no", "on", "off", "y", "n", true])
        );
    }

    #[test]
    fn structural_errors_name_the_path() {
        let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {type: [integer, 'null']}\n";
        let error = Spec::parse(text).unwrap_err();
        assert!(matches!(error, SpecError::Structure { .. }));
        let message = error.to_string();
        assert!(message.contains("at paths"), "{message}");
    }
}
