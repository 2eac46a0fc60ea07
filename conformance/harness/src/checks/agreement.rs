//! `client_server_agreement`: differential testing of the generated client's request guard against
//! the target. Over valid and exactly-one-invalid requests, the client must refuse (before sending)
//! exactly the requests the target refuses.

use std::collections::BTreeMap;

use img2img_specs::guard::Credentials;
use proptest::prelude::*;
use serde_json::Value;

use super::property::{self, CaseResult};
use super::{CheckId, Context, Verdict, failure, is_refusal, job_id};
use crate::clients::{CallInput, Outcome, call};
use crate::http::KeyMode;

/// Runs the check.
pub(crate) async fn run(context: &Context) -> Verdict {
    let valid = super::acceptance::valid_requests(context).prop_map(|body| (body, None::<String>));
    let invalid = super::acceptance::invalid_requests(context)
        .prop_map(|(body, c)| (body, Some(c.to_string())));
    let strategy = prop_oneof![valid, invalid];
    let ctx = context.clone();
    let cases = CheckId::ClientServerAgreement.cases(context.cases);
    property::run(
        context,
        "agreement",
        cases,
        strategy,
        move |(body, broken)| {
            let ctx = ctx.clone();
            async move {
                let caller = &ctx.caller;
                if let Err(e) = caller.budget().take() {
                    return CaseResult::Stop(e.to_string());
                }
                let create = caller.spec().extensions().job.create.clone();
                let credentials = caller
                    .key()
                    .cloned()
                    .map_or_else(Credentials::none, Credentials::new);
                let input = CallInput {
                    body: Some(body.clone()),
                    params: BTreeMap::new(),
                };
                let outcome = call(
                    caller.provider,
                    &create,
                    &caller.base_url,
                    credentials,
                    input,
                )
                .await;
                let (client_accepts, server_accepts, evidence) = match &outcome {
                    Outcome::Unrepresentable { .. } | Outcome::Refused(_) => {
                        // The client refused: ask the target directly.
                        let exchange = match caller
                            .call(&create, Some(&body), &BTreeMap::new(), KeyMode::Valid)
                            .await
                        {
                            Ok(e) => e,
                            Err(e) => return CaseResult::Stop(e.to_string()),
                        };
                        let accepted = exchange.is_success() && !is_refusal(&ctx, &exchange);
                        (false, accepted, Some(exchange))
                    }
                    Outcome::Success { body: answer, .. } => {
                        (true, job_id(&ctx, answer).is_some(), None)
                    }
                    Outcome::ErrorBody { .. } => (true, false, None),
                    Outcome::Failed { status, message } => {
                        if status.is_some_and(|s| (200..300).contains(&s)) {
                            (true, true, None)
                        } else if status.is_some_and(|s| (400..500).contains(&s)) {
                            (true, false, None)
                        } else {
                            return CaseResult::Broke(failure(
                                format!(
                                    "the exchange through the generated client failed: {message}"
                                ),
                                None,
                            ));
                        }
                    }
                };
                if client_accepts == server_accepts {
                    return CaseResult::Held;
                }
                let what = broken.map_or_else(
                    || "a valid request".to_owned(),
                    |c| format!("a request breaking `{c}`"),
                );
                let message = if client_accepts {
                    format!("for {what}, the client sent it but the target refused it: {outcome:?}")
                } else {
                    format!(
                        "for {what}, the client refused it ({}) but the target accepted it",
                        outcome.refusal().unwrap_or_default()
                    )
                };
                let mut f = failure(message, evidence.as_ref());
                f.request = Some(redact(&ctx, body));
                CaseResult::Broke(f)
            }
        },
    )
    .await
}

fn redact(context: &Context, body: Value) -> Value {
    let auth = &context.caller.spec().extensions().auth;
    crate::http::redact_body(body, &auth.name, auth.placement)
}
