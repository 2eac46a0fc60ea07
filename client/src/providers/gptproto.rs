//! GPTProto: create answers the prediction envelope (`data.id`); `get_prediction_result` is polled
//! until `data.status` is terminal; `data.outputs` holds the image URLs; `data.error` (a string or
//! an object with `message`) says why a prediction failed.

use img2img_gptproto_client::types::{PredictionError, PredictionResponse};
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
    Provider::named("gptproto")
}

pub(super) async fn submit(
    client: &Client,
    generated: &img2img_gptproto_client::Client,
    body: Value,
    rng: &mut fastrand::Rng,
) -> Result<Created, Error> {
    let typed: img2img_gptproto_client::types::ImageToImageRequest = super::typed(body)?;
    let response = client
        .call(
            CallKind::Create,
            "create_image_to_image",
            None,
            rng,
            || async {
                match generated
                    .create_image_to_image()
                    .body(typed.clone())
                    .send()
                    .await
                {
                    Ok(value) => Ok((value.status().as_u16(), value.into_inner())),
                    Err(e) => Err(client.error_of(e, Phase::Create).await),
                }
            },
        )
        .await?;
    let state = read(client, &response, 200)?;
    let value = serde_json::to_value(&response).unwrap_or(Value::Null);
    let id = poll::id_of(provider(), &value)
        .ok_or_else(|| crate::errors::unexpected(Some(200), &value, client.scrub()))?;
    if state.class == StatusClass::Failed {
        return Err(Error::TaskFailed {
            reason: state.failure.unwrap_or(state.status),
        });
    }
    let ready_outputs = if state.class == StatusClass::Succeeded {
        urls(&state.outputs)
    } else {
        Vec::new()
    };
    Ok(Created {
        id,
        fetch_url: None,
        ready_outputs,
        eta: None,
    })
}

pub(super) async fn poll(
    client: &Client,
    generated: &img2img_gptproto_client::Client,
    handle: &JobHandle,
    until: Instant,
    rng: &mut fastrand::Rng,
) -> Result<PollState, Error> {
    let response = client
        .call(
            CallKind::Poll,
            "get_prediction_result",
            Some(until),
            rng,
            || async {
                match generated
                    .get_prediction_result()
                    .id(handle.id.as_str())
                    .send()
                    .await
                {
                    Ok(value) => Ok((value.status().as_u16(), value.into_inner())),
                    Err(e) => Err(client.error_of(e, Phase::Poll).await),
                }
            },
        )
        .await?;
    read(client, &response, 200)
}

fn urls(outputs: &[ImageSource]) -> Vec<String> {
    outputs
        .iter()
        .map(|o| match o {
            ImageSource::Url(u) | ImageSource::Base64(u) => u.clone(),
        })
        .collect()
}

/// The state of a prediction envelope; an envelope without `data` is an error body sent with
/// HTTP 200 (its `code` is the status).
fn read(
    client: &Client,
    response: &PredictionResponse,
    http_status: u16,
) -> Result<PollState, Error> {
    let value = serde_json::to_value(response).unwrap_or(Value::Null);
    let Some(data) = &response.data else {
        let status = response
            .code
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| *c >= 400)
            .unwrap_or(http_status);
        return Err(crate::errors::gptproto(
            status,
            &reqwest::header::HeaderMap::new(),
            &value,
            client.scrub(),
        ));
    };
    let status = poll::status_of(provider(), &value).unwrap_or_else(|| "unknown".to_owned());
    let class = poll::classify(provider(), &status);
    let failure = data.error.as_ref().and_then(|e| match e {
        PredictionError::Variant0(s) => s.clone(),
        PredictionError::Variant1(d) => d.message.clone(),
    });
    Ok(PollState {
        eta: poll::eta_of(provider(), &value),
        progress: None,
        outputs: data
            .outputs
            .iter()
            .map(|o| ImageSource::from_output(o))
            .collect(),
        failure: failure.map(|f| client.scrub().text(&f)),
        status,
        class,
    })
}
