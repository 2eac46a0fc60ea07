//! `response_schema`, `documented_status`, `content_type`, `server_errors`: judge every exchange of the run with this
//! provider (the other checks' and their own: valid creates and a poll of each).

use std::collections::BTreeMap;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use super::{CheckId, Context, Verdict, failure, job_id};
use crate::http::{Exchange, KeyMode};

/// Sends `cases` valid creates and one poll of each, so the judging checks have traffic of their own.
async fn own_traffic(context: &Context, salt: u64) -> Result<u32, String> {
    let cases = CheckId::ResponseSchema.cases(context.cases).min(16);
    let strategy = super::acceptance::valid_requests(context);
    let mut runner = TestRunner::new_with_rng(
        proptest::test_runner::Config::default(),
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &super::property::seed_bytes(
                context.seed,
                &format!("responses-{salt}"),
                context.caller.provider.id(),
            ),
        ),
    );
    let job = &context.caller.spec().extensions().job;
    for _ in 0..cases {
        let body = strategy
            .new_tree(&mut runner)
            .map_err(|e| e.to_string())?
            .current();
        let created = context
            .caller
            .call(&job.create, Some(&body), &BTreeMap::new(), KeyMode::Valid)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(id) = created.json.as_ref().and_then(|b| job_id(context, b)) {
            let (poll, params) = super::lifecycle::result_inputs(context, &id);
            context
                .caller
                .call(&job.result, poll.as_ref(), &params, KeyMode::Valid)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(cases)
}

async fn judge(
    context: &Context,
    salt: u64,
    verdict: impl Fn(&Context, &Exchange) -> Option<String>,
) -> Verdict {
    if let Err(reason) = own_traffic(context, salt).await {
        return Verdict::Skipped(reason);
    }
    let journal = context.caller.journal();
    let answered: Vec<&Exchange> = journal.iter().filter(|e| e.status.is_some()).collect();
    for (i, exchange) in answered.iter().enumerate() {
        if let Some(message) = verdict(context, exchange) {
            return Verdict::Failed {
                cases: i as u32 + 1,
                failure: failure(message, Some(exchange)),
            };
        }
    }
    Verdict::Passed {
        cases: answered.len() as u32,
    }
}

/// `response_schema`.
pub(crate) async fn schema(context: &Context) -> Verdict {
    judge(context, 1, |ctx, exchange| {
        let status = exchange.status?;
        let spec = ctx.caller.spec();
        let compiled = match spec.response_schema(&exchange.operation, status)? {
            Ok(compiled) => compiled,
            Err(e) => return Some(e.to_string()),
        };
        let Some(body) = exchange.json.as_ref() else {
            return Some(format!(
                "{} answered HTTP {status} with a body that is not JSON",
                exchange.operation
            ));
        };
        compiled.validate(body).err().map(|v| {
            format!(
                "{} HTTP {status}: the body breaks the spec: {v}",
                exchange.operation
            )
        })
    })
    .await
}

/// `documented_status`.
pub(crate) async fn statuses(context: &Context) -> Verdict {
    judge(context, 2, |ctx, exchange| {
        let status = exchange.status?;
        let op = ctx.caller.spec().operation(&exchange.operation)?;
        if op.response(status).is_some() {
            return None;
        }
        let documented: Vec<&str> = op.responses.iter().map(|r| r.status.as_str()).collect();
        Some(format!(
            "{} answered HTTP {status}, which the spec does not document (documented: {})",
            exchange.operation,
            documented.join(", ")
        ))
    })
    .await
}

/// `content_type`.
pub(crate) async fn content_types(context: &Context) -> Verdict {
    judge(context, 3, |ctx, exchange| {
        let status = exchange.status?;
        let op = ctx.caller.spec().operation(&exchange.operation)?;
        let expects_json = op.response(status).is_some_and(|r| r.schema.is_some());
        let says_json = exchange.content_type.as_deref().is_some_and(|t| {
            t.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
        (expects_json && !says_json).then(|| {
            format!(
                "{} answered HTTP {status} with Content-Type {:?}, not application/json",
                exchange.operation, exchange.content_type
            )
        })
    })
    .await
}

/// `server_errors`: besides its own valid creates and polls, sends a request breaking one
/// constraint and a poll of an unknown id, so bad input is judged too.
pub(crate) async fn server_errors(context: &Context) -> Verdict {
    let job = &context.caller.spec().extensions().job;
    let mut runner = TestRunner::deterministic();
    if let Ok(tree) = super::acceptance::invalid_requests(context).new_tree(&mut runner) {
        let (body, _) = tree.current();
        if let Err(e) = context
            .caller
            .call(&job.create, Some(&body), &BTreeMap::new(), KeyMode::Valid)
            .await
        {
            return Verdict::Skipped(e.to_string());
        }
    }
    let (poll, params) = super::lifecycle::result_inputs(context, "conformance-no-such-job");
    if let Err(e) = context
        .caller
        .call(&job.result, poll.as_ref(), &params, KeyMode::Valid)
        .await
    {
        return Verdict::Skipped(e.to_string());
    }
    judge(context, 4, |_, exchange| {
        let status = exchange.status?;
        (status >= 500).then(|| {
            format!(
                "{} answered HTTP {status}, a server error",
                exchange.operation
            )
        })
    })
    .await
}
