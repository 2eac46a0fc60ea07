//! ModelsLab: create answers at once (`status: success` with the outputs), queues the job
//! (`status: processing` with `id`, `eta` and a `fetch_result` URL), or refuses it (`status: error`,
//! possibly with HTTP 200). A queued job is polled by POSTing `{key, request_id}` to the
//! `fetch_result` URL it gave — a raw POST of the generated `FetchRequest`, parsed into the
//! generated `Img2ImgResponse` — or, when there is none, through the spec's `fetch_queued_result`.
//!
//! The key travels in that body, so the `fetch_result` URL is followed only when it is on the
//! configured base URL's origin; any other URL falls back to the spec's fetch operation.

use img2img_modelslab_client::types::{FetchRequest, FetchRequestRequestId, Img2ImgResponse};
use img2img_specs::Provider;
use serde_json::Value;
use tokio::time::Instant;

use super::{Client, Created, PollState};
use crate::errors::{Error, Phase};
use crate::handle::JobHandle;
use crate::images::ImageSource;
use crate::poll::{self, StatusClass};
use crate::retry::CallKind;

fn provider() -> Provider {
    Provider::named("modelslab")
}

pub(super) async fn submit(
    client: &Client,
    generated: &img2img_modelslab_client::Client,
    body: Value,
    rng: &mut fastrand::Rng,
) -> Result<Created, Error> {
    let typed: img2img_modelslab_client::types::Img2ImgRequest = super::typed(body)?;
    let response = client
        .call(CallKind::Create, "create_img2img", None, rng, || async {
            match generated.create_img2img().body(typed.clone()).send().await {
                Ok(value) => {
                    let status = value.status().as_u16();
                    // An error body with HTTP 200 is an error: decided by `status`.
                    match value.into_inner() {
                        Img2ImgResponse::ModelslabError(e) => {
                            Err(error_body(client, status, &e, Phase::Create))
                        }
                        other => Ok((status, other)),
                    }
                }
                Err(e) => Err(client.error_of(e, Phase::Create).await),
            }
        })
        .await?;
    let value = serde_json::to_value(&response).unwrap_or(Value::Null);
    match response {
        Img2ImgResponse::Img2ImgSuccess(success) => Ok(Created {
            id: poll::id_of(provider(), &value).unwrap_or_default(),
            fetch_url: None,
            ready_outputs: success.output,
            eta: None,
        }),
        Img2ImgResponse::Img2ImgProcessing(processing) => {
            let id = poll::id_of(provider(), &value)
                .ok_or_else(|| crate::errors::unexpected(Some(200), &value, client.scrub()))?;
            Ok(Created {
                id,
                fetch_url: processing.fetch_result.filter(|u| !u.is_empty()),
                ready_outputs: Vec::new(),
                eta: poll::eta_of(provider(), &value),
            })
        }
        Img2ImgResponse::ModelslabError(e) => Err(error_body(client, 200, &e, Phase::Create)),
    }
}

fn error_body(
    client: &Client,
    status: u16,
    error: &img2img_modelslab_client::types::ModelslabError,
    phase: Phase,
) -> Error {
    let value = serde_json::to_value(error).unwrap_or(Value::Null);
    crate::errors::modelslab(
        status,
        &reqwest::header::HeaderMap::new(),
        &value,
        phase,
        client.scrub(),
    )
}

fn request_id(id: &str) -> FetchRequestRequestId {
    match id.parse::<i64>() {
        Ok(n) => FetchRequestRequestId::Int64(n),
        Err(_) => FetchRequestRequestId::String(id.to_owned()),
    }
}

/// Whether `url` is on the same origin (scheme, host, port) as `base`.
fn same_origin(url: &str, base: &str) -> bool {
    match (reqwest::Url::parse(url), reqwest::Url::parse(base)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

pub(super) async fn poll(
    client: &Client,
    generated: &img2img_modelslab_client::Client,
    handle: &JobHandle,
    until: Instant,
    rng: &mut fastrand::Rng,
) -> Result<PollState, Error> {
    let fetch_url = handle.fetch_url.as_deref().filter(|url| {
        let ok = same_origin(url, client.base_url());
        if !ok {
            tracing::warn!(
                provider = provider().id(),
                "fetch_result is on another origin than the base URL; using the spec's fetch path"
            );
        }
        ok
    });
    let response = client
        .call(
            CallKind::Poll,
            "fetch_queued_result",
            Some(until),
            rng,
            || async {
                let body = FetchRequest {
                    key: None,
                    request_id: request_id(&handle.id),
                };
                let (status, response) = match fetch_url {
                    Some(url) => fetch_raw(client, url, body).await?,
                    None => match generated.fetch_queued_result().body(body).send().await {
                        Ok(value) => (value.status().as_u16(), value.into_inner()),
                        Err(e) => return Err(client.error_of(e, Phase::Poll).await),
                    },
                };
                Ok((status, response))
            },
        )
        .await?;
    let value = serde_json::to_value(&response).unwrap_or(Value::Null);
    let status = poll::status_of(provider(), &value).unwrap_or_else(|| "unknown".to_owned());
    let class = poll::classify(provider(), &status);
    match response {
        Img2ImgResponse::ModelslabError(e) => {
            // `error` / `failed` are terminal failures in `x-job`, but a rate limit or a refused
            // key said with HTTP 200 is not the job's failure.
            match error_body(client, 200, &e, Phase::Poll) {
                Error::TaskFailed { reason } => Ok(PollState {
                    status,
                    class: StatusClass::Failed,
                    eta: None,
                    progress: None,
                    outputs: Vec::new(),
                    failure: Some(reason),
                }),
                other => Err(other),
            }
        }
        Img2ImgResponse::Img2ImgSuccess(success) => Ok(PollState {
            status,
            class,
            eta: None,
            progress: None,
            outputs: success
                .output
                .iter()
                .map(|o| ImageSource::from_output(o))
                .collect(),
            failure: None,
        }),
        Img2ImgResponse::Img2ImgProcessing(_) => Ok(PollState {
            status,
            class,
            eta: poll::eta_of(provider(), &value),
            progress: None,
            outputs: Vec::new(),
            failure: None,
        }),
    }
}

/// POSTs the generated `FetchRequest` (with the key) to the `fetch_result` URL and parses the
/// answer into the generated `Img2ImgResponse`; HTTP 200 with `status: error` stays a body.
async fn fetch_raw(
    client: &Client,
    url: &str,
    mut body: FetchRequest,
) -> Result<(u16, Img2ImgResponse), Error> {
    body.key = Some(client.key.clone());
    let response = client
        .http
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&body)
        .send()
        .await
        .map_err(|e| crate::errors::transport(&e, client.scrub()))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(client.error_of_response(response, Phase::Poll).await);
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| crate::errors::transport(&e, client.scrub()))?;
    serde_json::from_slice::<Img2ImgResponse>(&bytes)
        .map(|parsed| (status, parsed))
        .map_err(|_| Error::UnexpectedBody {
            status: Some(status),
            snippet: client.scrub().body(&bytes),
        })
}
