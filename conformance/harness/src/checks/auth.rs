//! `auth_enforcement`: no key and a wrong key are refused, on the create call and on the result call
//! (with 401/403, or with an error the spec's `x-errors` reads as a refused key); an operation whose
//! spec lets the key be left out (`security` lists `{}`) is answered without one.

use std::collections::BTreeMap;

use super::{Context, Verdict, failure, is_refusal};
use crate::http::{KeyMode, WRONG_KEY};
use img2img_strategy::{Fill, sample};

/// Runs the check.
pub(crate) async fn run(context: &Context) -> Verdict {
    let spec = context.caller.spec();
    let job = &spec.extensions().job;
    let schema = super::acceptance::create_schema(context);
    let mut body = sample(schema.schema(), Fill::Required);
    context.payload.prepare(spec, &mut body);
    let mut cases = 0;
    // Every family's create and result operations (`x-job.aliases`: one job may be served under
    // several paths).
    let calls: Vec<(String, bool)> = job
        .families()
        .into_iter()
        .flat_map(|f| {
            let creates = f.creates.into_iter().map(|c| (c, true));
            creates.chain(f.results.into_iter().map(|r| (r, false)))
        })
        .collect();
    for (operation, creates) in &calls {
        let operation = operation.as_str();
        let key_optional = spec.operation(operation).is_some_and(|op| op.key_optional);
        let (body, params) = if *creates {
            (Some(body.clone()), BTreeMap::new())
        } else {
            super::lifecycle::result_inputs_for(context, operation, "conformance-no-such-job")
        };
        // Where the key is optional, a wrong one is the provider's business: only no key is tried.
        let modes: &[KeyMode] = if key_optional {
            &[KeyMode::Missing]
        } else {
            &[KeyMode::Missing, KeyMode::Wrong]
        };
        for &key in modes {
            cases += 1;
            let exchange = match context
                .caller
                .call(operation, body.as_ref(), &params, key)
                .await
            {
                Ok(e) => e,
                Err(e) => return Verdict::Skipped(e.to_string()),
            };
            if exchange.text.contains(WRONG_KEY) {
                return Verdict::Failed {
                    cases,
                    failure: failure(
                        format!("{operation} echoed the key it was sent"),
                        Some(&exchange),
                    ),
                };
            }
            let refused = matches!(exchange.status, Some(401 | 403))
                || says_unauthorized(context, &exchange)
                || (exchange.is_success() && is_refusal(context, &exchange));
            if key_optional && refused {
                return Verdict::Failed {
                    cases,
                    failure: failure(
                        format!(
                            "{operation} with no key was refused (HTTP {:?}), though its spec lets the key be left out",
                            exchange.status
                        ),
                        Some(&exchange),
                    ),
                };
            }
            if !refused && !key_optional {
                let which = if key == KeyMode::Missing {
                    "no key"
                } else {
                    "a wrong key"
                };
                return Verdict::Failed {
                    cases,
                    failure: failure(
                        format!(
                            "{operation} with {which} was not refused with 401/403 or an error the spec reads as unauthorized (HTTP {:?})",
                            exchange.status
                        ),
                        Some(&exchange),
                    ),
                };
            }
        }
    }
    Verdict::Passed { cases }
}

/// Whether an error answer means a refused key in the words of the spec's `x-errors` (a provider
/// may refuse a missing key with 400 and a reason of its own, listed as `unauthorized`).
fn says_unauthorized(context: &Context, exchange: &crate::http::Exchange) -> bool {
    let (Some(status), Some(body)) = (exchange.status, exchange.json.as_ref()) else {
        return false;
    };
    if !(400..500).contains(&status) {
        return false;
    }
    let errors = &context.caller.spec().extensions().errors;
    let answer = errors.read(status, body);
    errors.decide(&answer, errors.rules()).is_some_and(|d| {
        matches!(
            d.kind,
            img2img_specs::extensions::ErrorKind::Unauthorized
                | img2img_specs::extensions::ErrorKind::Forbidden
        )
    })
}
