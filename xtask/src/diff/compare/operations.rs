//! Operations matched by method and path, then, for each kept one: its `operationId`, its
//! parameters (by name and location), its request body and its responses (by status), the
//! schemas of each compared in [`super::schema`].

use img2img_specs::schema::{SchemaError, to_json_schema};
use img2img_specs::{Operation, Parameter, Spec};
use serde_json::{Value, json};

use super::change::{Changes, Direction, Kind, Site};
use super::keyed::{Lead, Pair, keyed_diff};
use super::schema::SchemaWalk;

/// Records what changed in the operations of `old` → `new`.
pub fn compare(old: &Spec, new: &Spec, out: &mut Changes) -> Result<(), SchemaError> {
    let mut walk = Operations {
        old: old.document(),
        new: new.document(),
        out,
    };
    // Removed ones first, then the new version's in order: paths follow the new document.
    let routes = keyed_diff(
        old.operations().iter().map(by_route),
        new.operations().iter().map(by_route),
        Lead::New,
    );
    for (_, pair) in routes {
        match pair {
            Pair::Removed(op) => walk
                .out
                .at(op.pointer.clone(), &request(route(op)))
                .removed(Kind::OperationRemoved, json!(op.id)),
            Pair::Added(op) => walk
                .out
                .at(op.pointer.clone(), &request(route(op)))
                .added(Kind::OperationAdded, json!(op.id)),
            Pair::Both(before, after) => walk.operation(before, after)?,
        }
    }
    Ok(())
}

/// `operation POST /v3/async/img2img`.
fn route(op: &Operation) -> String {
    format!("operation {} {}", op.method, op.path)
}

/// A site on the request side.
fn request(subject: String) -> Site {
    Site {
        direction: Direction::Request,
        subject,
    }
}

/// Both documents (for inlining `$ref`s) and where the changes go.
struct Operations<'a> {
    old: &'a Value,
    new: &'a Value,
    out: &'a mut Changes,
}

impl Operations<'_> {
    /// One operation kept in both versions.
    fn operation(&mut self, old: &Operation, new: &Operation) -> Result<(), SchemaError> {
        let name = route(new);
        if old.id != new.id {
            self.out
                .at(
                    format!("{}/operationId", new.pointer),
                    &request(name.clone()),
                )
                .keyword("operationId")
                .changed(
                    Kind::OperationRenamed,
                    Some(json!(old.id)),
                    Some(json!(new.id)),
                );
        }
        self.parameters(old, new, &name)?;
        self.request_body(old, new, &name)?;
        self.responses(old, new, &name)
    }

    fn parameters(
        &mut self,
        old: &Operation,
        new: &Operation,
        name: &str,
    ) -> Result<(), SchemaError> {
        // Where a parameter stands: its object (the parent of its schema), else the list.
        let pointer = |p: &Parameter, op: &Operation| {
            p.schema
                .as_deref()
                .and_then(|s| s.strip_suffix("/schema"))
                .map_or_else(|| format!("{}/parameters", op.pointer), str::to_owned)
        };
        for ((id, location), pair) in keyed_diff(
            old.parameters.iter().map(by_name),
            new.parameters.iter().map(by_name),
            Lead::Old,
        ) {
            let site = request(format!("parameter `{id}` ({location}) of {name}"));
            match pair {
                Pair::Removed(p) => self
                    .out
                    .at(pointer(p, old), &site)
                    .removed(Kind::ParameterRemoved, json!({"required": p.required})),
                Pair::Added(p) => self
                    .out
                    .at(pointer(p, new), &site)
                    .required(p.required)
                    .added(Kind::ParameterAdded, json!({"required": p.required})),
                Pair::Both(before, after) => {
                    if before.required != after.required {
                        self.out
                            .at(format!("{}/required", pointer(after, new)), &site)
                            .keyword("required")
                            .changed(
                                made(after.required),
                                Some(json!(before.required)),
                                Some(json!(after.required)),
                            );
                    }
                    if let (Some(a), Some(b)) = (&before.schema, &after.schema) {
                        self.schemas(a, b, &site)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn request_body(
        &mut self,
        old: &Operation,
        new: &Operation,
        name: &str,
    ) -> Result<(), SchemaError> {
        let site = request(format!("request body of {name}"));
        let body = format!("{}/requestBody", new.pointer);
        match (&old.request_body, &new.request_body) {
            (Some(_), None) => self
                .out
                .at(format!("{}/requestBody", old.pointer), &site)
                .removed(
                    Kind::RequestBodyRemoved,
                    json!({"required": old.body_required}),
                ),
            (None, Some(_)) => self.out.at(body, &site).required(new.body_required).added(
                Kind::RequestBodyAdded,
                json!({"required": new.body_required}),
            ),
            (Some(a), Some(b)) => {
                if old.body_required != new.body_required {
                    self.out
                        .at(format!("{body}/required"), &site)
                        .keyword("required")
                        .changed(
                            made(new.body_required),
                            Some(json!(old.body_required)),
                            Some(json!(new.body_required)),
                        );
                }
                self.schemas(a, b, &site)?;
            }
            (None, None) => {}
        }
        Ok(())
    }

    fn responses(
        &mut self,
        old: &Operation,
        new: &Operation,
        name: &str,
    ) -> Result<(), SchemaError> {
        for (status, pair) in keyed_diff(
            old.responses.iter().map(|r| (r.status.as_str(), r)),
            new.responses.iter().map(|r| (r.status.as_str(), r)),
            Lead::Old,
        ) {
            let site = Site {
                direction: Direction::Response,
                subject: format!("response {status} of {name}"),
            };
            match pair {
                Pair::Removed(r) => self
                    .out
                    .at(r.pointer.clone(), &site)
                    .removed(Kind::ResponseRemoved, json!(status)),
                Pair::Added(r) => self
                    .out
                    .at(r.pointer.clone(), &site)
                    .added(Kind::ResponseAdded, json!(status)),
                Pair::Both(before, after) => match (&before.schema, &after.schema) {
                    (Some(a), Some(b)) => self.schemas(a, b, &site)?,
                    (None, None) => {}
                    (a, b) => self
                        .out
                        .at(after.pointer.clone(), &site)
                        .keyword("content")
                        .changed(
                            Kind::TypeChanged,
                            Some(json!(a.is_some())),
                            Some(json!(b.is_some())),
                        ),
                },
            }
        }
        Ok(())
    }

    /// Converts both schemas (inlining `$ref`s) and compares them; paths follow the new one.
    fn schemas(&mut self, old: &str, new: &str, owner: &Site) -> Result<(), SchemaError> {
        let a = to_json_schema(self.old, old)?;
        let b = to_json_schema(self.new, new)?;
        SchemaWalk {
            out: self.out,
            owner,
        }
        .schema(&a, &b, new, "");
        Ok(())
    }
}

/// Became required, or optional.
fn made(required: bool) -> Kind {
    if required {
        Kind::MadeRequired
    } else {
        Kind::MadeOptional
    }
}

/// An operation keyed by its path and method.
fn by_route(op: &Operation) -> ((&str, &str), &Operation) {
    ((op.path.as_str(), op.method.as_str()), op)
}

/// A parameter keyed by its name and location.
fn by_name(p: &Parameter) -> ((&str, &str), &Parameter) {
    ((p.name.as_str(), p.location.as_str()), p)
}
