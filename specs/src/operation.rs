//! The operations of a spec, typed: method, path, parameters (with their location), body and
//! responses, read once from the document's `paths`.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::schema::escape;
use crate::spec::{SpecError, follow_refs};

/// An HTTP method an OpenAPI path item may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `GET`.
    Get,
    /// `PUT`.
    Put,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
    /// `OPTIONS`.
    Options,
    /// `HEAD`.
    Head,
    /// `PATCH`.
    Patch,
    /// `TRACE`.
    Trace,
}

impl Method {
    /// Every method, in the order OpenAPI lists a path item's operations.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
    ];

    /// The method as sent on the wire: `GET`, `POST`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }

    /// The key of the operation in an OpenAPI path item: `get`, `post`, ...
    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Options => "options",
            Method::Head => "head",
            Method::Patch => "patch",
            Method::Trace => "trace",
        }
    }

    /// The method of an HTTP request, if it is one OpenAPI can describe.
    pub fn from_http(method: &http::Method) -> Option<Method> {
        method.as_str().parse().ok()
    }
}

impl From<Method> for http::Method {
    fn from(method: Method) -> http::Method {
        match method {
            Method::Get => http::Method::GET,
            Method::Put => http::Method::PUT,
            Method::Post => http::Method::POST,
            Method::Delete => http::Method::DELETE,
            Method::Options => http::Method::OPTIONS,
            Method::Head => http::Method::HEAD,
            Method::Patch => http::Method::PATCH,
            Method::Trace => http::Method::TRACE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method name that is none of OpenAPI's eight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown HTTP method {0:?}: expected one of GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH, TRACE"
)]
pub struct UnknownMethod(pub String);

impl FromStr for Method {
    type Err = UnknownMethod;

    /// Reads a method in any case (`post`, `POST`).
    fn from_str(text: &str) -> Result<Method, UnknownMethod> {
        Method::ALL
            .into_iter()
            .find(|method| method.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownMethod(text.to_owned()))
    }
}

/// Where a parameter travels (OpenAPI's `in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

impl Location {
    /// Every location.
    pub const ALL: [Location; 4] = [
        Location::Path,
        Location::Query,
        Location::Header,
        Location::Cookie,
    ];

    /// The word OpenAPI writes in `in`: `path`, `query`, `header` or `cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word in a parameter's `in` that is none of OpenAPI's four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown parameter location {0:?}: expected path, query, header or cookie")]
pub struct UnknownLocation(pub String);

impl FromStr for Location {
    type Err = UnknownLocation;

    fn from_str(text: &str) -> Result<Location, UnknownLocation> {
        Location::ALL
            .into_iter()
            .find(|location| location.as_str() == text)
            .ok_or_else(|| UnknownLocation(text.to_owned()))
    }
}

/// A parameter of an operation (path, query, header or cookie).
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// Its name.
    pub name: String,
    /// Where it travels.
    pub location: Location,
    /// Whether it must be present.
    pub required: bool,
    /// JSON pointer to its schema in the document.
    pub schema: Option<String>,
}

/// One documented response of an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// `200`, `4XX` or `default`.
    pub status: String,
    /// JSON pointer to the response object.
    pub pointer: String,
    /// JSON pointer to the `application/json` schema, if any.
    pub schema: Option<String>,
}

/// One operation of the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Its `operationId` (empty when the spec forgot it; the lint reports that).
    pub id: String,
    /// Its HTTP method.
    pub method: Method,
    /// The path template (`/api/v3/predictions/{id}/result`).
    pub path: String,
    /// JSON pointer to the operation object.
    pub pointer: String,
    /// JSON pointer to the `application/json` request body schema, if any.
    pub request_body: Option<String>,
    /// Whether the body is required.
    pub body_required: bool,
    /// Its parameters, path-item ones included.
    pub parameters: Vec<Parameter>,
    /// Its documented responses.
    pub responses: Vec<Response>,
    /// Whether the key may be left out: its `security` (or the document's) lists an empty
    /// requirement (`- {}`).
    pub key_optional: bool,
}

impl Operation {
    /// Whether `path` (a concrete request path) fits this operation's template.
    pub fn matches_path(&self, path: &str) -> bool {
        let template: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        let actual: Vec<&str> = path.trim_matches('/').split('/').collect();
        template.len() == actual.len()
            && template
                .iter()
                .zip(&actual)
                .all(|(t, a)| (t.starts_with('{') && t.ends_with('}') && !a.is_empty()) || t == a)
    }

    /// The parameters that travel in `location`, in declaration order.
    pub fn parameters_in(&self, location: Location) -> impl Iterator<Item = &Parameter> {
        self.parameters
            .iter()
            .filter(move |parameter| parameter.location == location)
    }

    /// The path template with every `{parameter}` replaced by `value`.
    pub fn path_with(&self, value: &str) -> String {
        self.parameters_in(Location::Path)
            .fold(self.path.clone(), |path, parameter| {
                path.replace(&format!("{{{}}}", parameter.name), value)
            })
    }

    /// The status of its documented success: the first exact `2xx` code it documents (a create
    /// may answer `202`), else `200`.
    pub fn success_status(&self) -> u16 {
        self.responses
            .iter()
            .filter_map(|r| r.status.parse::<u16>().ok())
            .find(|status| (200..300).contains(status))
            .unwrap_or(200)
    }

    /// The response documented for `status`: the exact code, then `4XX`-style, then `default`.
    pub fn response(&self, status: u16) -> Option<&Response> {
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        self.responses
            .iter()
            .find(|r| r.status == exact)
            .or_else(|| {
                self.responses
                    .iter()
                    .find(|r| r.status.eq_ignore_ascii_case(&range))
            })
            .or_else(|| self.responses.iter().find(|r| r.status == "default"))
    }
}

/// Every operation of an OpenAPI 3.x `document` (3.0 or 3.1, a spec of this project or any other,
/// such as a provider's own published one), in document order, read as [`crate::Spec::operations`]
/// reads a spec; `Err` names a parameter whose `in` is none of OpenAPI's four.
pub fn operations_of(document: &Value) -> Result<Vec<Operation>, SpecError> {
    collect(document)
}

/// Reads every operation of `document`'s `paths`, in document order.
pub(crate) fn collect(document: &Value) -> Result<Vec<Operation>, SpecError> {
    let mut operations = Vec::new();
    let Some(Value::Object(paths)) = document.get("paths") else {
        return Ok(operations);
    };
    for (path, item) in paths {
        let item_pointer = format!("/paths/{}", escape(path));
        let (item_pointer, item) = follow_refs(document, &item_pointer, item);
        let shared = item.get("parameters");
        for method in Method::ALL {
            let Some(operation) = item.get(method.key()) else {
                continue;
            };
            let pointer = format!("{item_pointer}/{}", method.key());
            let mut parameters = Vec::new();
            for (base, list) in [
                (format!("{item_pointer}/parameters"), shared),
                (format!("{pointer}/parameters"), operation.get("parameters")),
            ] {
                let Some(Value::Array(list)) = list else {
                    continue;
                };
                for (i, parameter) in list.iter().enumerate() {
                    let (at, parameter) = follow_refs(document, &format!("{base}/{i}"), parameter);
                    parameters.push(read_parameter(&at, parameter)?);
                }
            }
            // An operation's own parameter replaces the path item's of the same name and place.
            let mut kept: Vec<Parameter> = Vec::with_capacity(parameters.len());
            for parameter in parameters {
                kept.retain(|p| !(p.name == parameter.name && p.location == parameter.location));
                kept.push(parameter);
            }
            let (request_body, body_required) = match operation.get("requestBody") {
                Some(body) => {
                    let (at, body) = follow_refs(document, &format!("{pointer}/requestBody"), body);
                    let schema = body
                        .pointer("/content/application~1json/schema")
                        .map(|_| format!("{at}/content/application~1json/schema"));
                    (
                        schema,
                        body.get("required")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    )
                }
                None => (None, false),
            };
            let mut responses = Vec::new();
            if let Some(Value::Object(map)) = operation.get("responses") {
                for (status, response) in map {
                    let (at, response) = follow_refs(
                        document,
                        &format!("{pointer}/responses/{}", escape(status)),
                        response,
                    );
                    responses.push(Response {
                        status: status.clone(),
                        schema: response
                            .pointer("/content/application~1json/schema")
                            .map(|_| format!("{at}/content/application~1json/schema")),
                        pointer: at,
                    });
                }
            }
            let security = operation
                .get("security")
                .or_else(|| document.get("security"));
            let key_optional = security.and_then(Value::as_array).is_some_and(|list| {
                list.iter()
                    .any(|r| r.as_object().is_some_and(|r| r.is_empty()))
            });
            operations.push(Operation {
                key_optional,
                id: operation
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                method,
                path: path.clone(),
                pointer,
                request_body,
                body_required,
                parameters: kept,
                responses,
            });
        }
    }
    Ok(operations)
}

/// One parameter object (its `$ref`s followed) at pointer `at`.
fn read_parameter(at: &str, parameter: &Value) -> Result<Parameter, SpecError> {
    let word = parameter.get("in").and_then(Value::as_str).unwrap_or("");
    let location = word
        .parse()
        .map_err(|e: UnknownLocation| SpecError::Structure {
            at: format!("{at}/in"),
            message: e.to_string(),
        })?;
    Ok(Parameter {
        name: parameter
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        location,
        required: parameter
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        schema: parameter.get("schema").map(|_| format!("{at}/schema")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_locations_read_back_from_their_words() {
        for method in Method::ALL {
            assert_eq!(method.as_str().parse::<Method>(), Ok(method));
            assert_eq!(method.key().parse::<Method>(), Ok(method));
            let wire: http::Method = method.into();
            assert_eq!(Method::from_http(&wire), Some(method));
        }
        assert_eq!(
            "FETCH".parse::<Method>().unwrap_err().to_string(),
            "unknown HTTP method \"FETCH\": expected one of GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH, TRACE"
        );
        for location in Location::ALL {
            assert_eq!(location.as_str().parse::<Location>(), Ok(location));
        }
        assert!("body".parse::<Location>().is_err());
    }

    #[test]
    fn an_operation_parameter_replaces_the_path_items_and_fills_the_path() {
        let document = serde_json::json!({"paths": {"/jobs/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": false}],
            "get": {"operationId": "get_job", "parameters": [
                {"name": "id", "in": "path", "required": true},
                {"name": "id", "in": "query"}
            ], "responses": {}}
        }}});
        let operations = collect(&document).unwrap();
        let op = &operations[0];
        assert_eq!(op.method, Method::Get);
        assert_eq!(op.parameters.len(), 2);
        assert!(op.parameters_in(Location::Path).all(|p| p.required));
        assert_eq!(op.path_with("42"), "/jobs/42");
    }

    #[test]
    fn an_unknown_parameter_location_names_where_it_stands() {
        let document = serde_json::json!({"paths": {"/a": {"get": {
            "parameters": [{"name": "x", "in": "body"}], "responses": {}
        }}}});
        let error = collect(&document).unwrap_err().to_string();
        assert!(error.contains("/paths/~1a/get/parameters/0/in"), "{error}");
        assert!(error.contains("\"body\""), "{error}");
    }
}
