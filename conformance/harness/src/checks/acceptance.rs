//! `positive_acceptance` and `negative_rejection`, and the request strategies other checks share.

use std::collections::BTreeMap;
use std::sync::Arc;

use img2img_specs::extensions::AuthPlacement;
use img2img_specs::{CompiledSchema, Reading};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use super::property::{self, CaseResult};
use super::{CheckId, Context, Verdict, failure, is_refusal, job_id};
use crate::http::{Exchange, KeyMode, SendError};
use img2img_strategy::{
    Constraint, ConstraintKind, Fill, breaks_only, constraints, ground, sample, valid,
};

/// Breaking a `maxLength` above this would send megabytes per case; those limits are tested by the
/// emulator's own tests instead.
const LARGEST_BROKEN_LENGTH: u64 = 65_536;

/// The compiled schema of the create operation's body, as our client sends it.
pub(crate) fn create_schema(context: &Context) -> Arc<CompiledSchema> {
    create_schema_as(context, Reading::Sending)
}

/// The compiled schema of the create operation's body in `reading`: valid requests come from the
/// sending reading (valid in both), broken ones from the accepting reading (what the provider
/// must refuse; see `specs/README.md`).
pub(crate) fn create_schema_as(context: &Context, reading: Reading) -> Arc<CompiledSchema> {
    let spec = context.caller.spec();
    spec.request_schema_as(&spec.extensions().job.create, reading)
        .expect("x-job.create names an operation with a body (the lint checks it)")
        .expect("the embedded spec's schemas compile (the lint checks it)")
}

/// Valid create bodies, made worth sending (real images, capped sizes).
pub(crate) fn valid_requests(context: &Context) -> SBoxedStrategy<Value> {
    let schema = create_schema(context);
    let payload = context.payload.clone();
    let spec = context.caller.spec();
    let checker = Arc::clone(&schema);
    valid(Arc::clone(&schema))
        .prop_map(move |mut body| {
            payload.prepare(spec, &mut body);
            body
        })
        .prop_filter("still valid once prepared", move |body| {
            checker.is_valid(body)
        })
        .sboxed()
}

/// Create bodies breaking exactly one constraint of what the provider accepts (the rest made worth
/// sending); our client refuses each of them too, since its reading is narrower.
pub(crate) fn invalid_requests(context: &Context) -> SBoxedStrategy<(Value, Constraint)> {
    let schema = create_schema_as(context, Reading::Accepting);
    let full = sample(schema.schema(), Fill::All);
    // The key's body field (`x-auth` `in: body`) is filled in by whoever sends: breaking it tests nothing.
    let auth = &context.caller.spec().extensions().auth;
    let key_pointer = (auth.placement == AuthPlacement::Body).then(|| format!("/{}", auth.name));
    let breakable: Vec<Constraint> = constraints(schema.schema(), &full)
        .into_iter()
        .filter(|c| !matches!(c.kind, ConstraintKind::MaxLength(n) if n > LARGEST_BROKEN_LENGTH))
        .filter(|c| key_pointer.as_deref() != Some(c.pointer.as_str()))
        .collect();
    let payload = context.payload.clone();
    let spec = context.caller.spec();
    let checker = Arc::clone(&schema);
    (valid(Arc::clone(&schema)), select(breakable))
        .prop_map(move |(base, constraint)| {
            let mut base = ground(base, &full, &constraint.pointer);
            payload.prepare(spec, &mut base);
            // Preparing drops side-effect fields; a constraint inside one needs its place back.
            let base = ground(base, &full, &constraint.pointer);
            (constraint.break_in(&base), constraint)
        })
        .prop_filter(
            "breaks exactly the chosen constraint",
            move |(body, constraint)| breaks_only(&checker, body, constraint),
        )
        .sboxed()
}

/// Sends `body` to the create operation with the valid key; a send that cannot happen (the budget
/// is spent) stops the property.
async fn send_create(ctx: &Context, create: &str, body: &Value) -> Result<Exchange, CaseResult> {
    ctx.caller
        .call(create, Some(body), &BTreeMap::new(), KeyMode::Valid)
        .await
        .map_err(|error: SendError| CaseResult::Stop(error.to_string()))
}

/// `positive_acceptance`.
pub(crate) async fn positive(context: &Context) -> Verdict {
    let strategy = valid_requests(context);
    let ctx = context.clone();
    let create = context.caller.spec().extensions().job.create.clone();
    let cases = CheckId::PositiveAcceptance.cases(context.cases);
    property::run(context, "positive", cases, strategy, move |body| {
        let (ctx, create) = (ctx.clone(), create.clone());
        async move {
            let exchange = match send_create(&ctx, &create, &body).await {
                Ok(exchange) => exchange,
                Err(stop) => return stop,
            };
            let accepted = exchange.is_success()
                && exchange
                    .json
                    .as_ref()
                    .is_some_and(|b| job_id(&ctx, b).is_some())
                && !is_refusal(&ctx, &exchange);
            if accepted {
                CaseResult::Held
            } else {
                let said = exchange
                    .error
                    .clone()
                    .unwrap_or_else(|| exchange.text.chars().take(300).collect());
                CaseResult::Broke(failure(
                    format!(
                        "a valid request was not accepted (HTTP {:?}): {said}",
                        exchange.status
                    ),
                    Some(&exchange),
                ))
            }
        }
    })
    .await
}

/// `negative_rejection`.
pub(crate) async fn negative(context: &Context) -> Verdict {
    let strategy = invalid_requests(context);
    let ctx = context.clone();
    let create = context.caller.spec().extensions().job.create.clone();
    let cases = CheckId::NegativeRejection.cases(context.cases);
    property::run(
        context,
        "negative",
        cases,
        strategy,
        move |(body, constraint)| {
            let (ctx, create) = (ctx.clone(), create.clone());
            async move {
                let exchange = match send_create(&ctx, &create, &body).await {
                    Ok(exchange) => exchange,
                    Err(stop) => return stop,
                };
                let broke = |why: String| {
                    CaseResult::Broke(failure(
                        format!("breaking `{constraint}`: {why}"),
                        Some(&exchange),
                    ))
                };
                if !is_refusal(&ctx, &exchange) {
                    return broke(format!(
                        "the request was not refused (HTTP {:?})",
                        exchange.status
                    ));
                }
                let status = exchange.status.unwrap_or(0);
                let spec = ctx.caller.spec();
                let Some(schema) = spec.response_schema(&create, status) else {
                    return broke(format!("HTTP {status} is not documented for {create}"));
                };
                let shaped = match (schema, exchange.json.as_ref()) {
                    (Ok(schema), Some(body)) => schema.validate(body).map_err(|v| v.to_string()),
                    (Ok(_), None) => Err("the body is not JSON".into()),
                    (Err(e), _) => Err(e.to_string()),
                };
                if let Err(why) = shaped {
                    return broke(format!(
                        "the refusal is not in the provider's error shape: {why}"
                    ));
                }
                let leaf = leaf_name(&constraint.subject());
                if !exchange.text.contains(&leaf) {
                    return broke(format!("the refusal does not name the field {leaf:?}"));
                }
                CaseResult::Held
            }
        },
    )
    .await
}

/// `request.loras[5].strength` → `strength`; `request.loras` → `loras`.
pub(crate) fn leaf_name(field: &str) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    last.split('[').next().unwrap_or(last).to_owned()
}
