//! Novita: create answers `{task_id}` (older: `{data: {task_id}}`); `get_task_result` is polled
//! until `task.status` is terminal; `images[].image_url` are the outputs; `task.reason` explains a
//! failure; `task.eta` and `task.progress_percent` report progress.

use img2img_specs::Provider;
use serde_json::Value;
use tokio::time::Instant;

use super::{Client, Created, PollState};
use crate::errors::{Error, Phase};
use crate::handle::JobHandle;
use crate::images::ImageSource;
use crate::poll;
use crate::retry::CallKind;

fn provider() -> Provider {
    Provider::named("novita")
}

pub(super) async fn submit(
    client: &Client,
    generated: &img2img_novita_client::Client,
    body: Value,
    rng: &mut fastrand::Rng,
) -> Result<Created, Error> {
    let typed: img2img_novita_client::types::Img2ImgRequest = super::typed(body)?;
    let response = client
        .call(CallKind::Create, "create_img2img", None, rng, || async {
            match generated.create_img2img().body(typed.clone()).send().await {
                Ok(value) => Ok((value.status().as_u16(), value.into_inner())),
                Err(e) => Err(client.error_of(e, Phase::Create).await),
            }
        })
        .await?;
    let value = serde_json::to_value(&response).unwrap_or(Value::Null);
    let id = poll::id_of(provider(), &value)
        .ok_or_else(|| crate::errors::unexpected(Some(200), &value, client.scrub()))?;
    Ok(Created {
        id,
        fetch_url: None,
        ready_outputs: Vec::new(),
        eta: None,
    })
}

pub(super) async fn poll(
    client: &Client,
    generated: &img2img_novita_client::Client,
    handle: &JobHandle,
    until: Instant,
    rng: &mut fastrand::Rng,
) -> Result<PollState, Error> {
    let response = client
        .call(
            CallKind::Poll,
            "get_task_result",
            Some(until),
            rng,
            || async {
                match generated
                    .get_task_result()
                    .task_id(handle.id.as_str())
                    .send()
                    .await
                {
                    Ok(value) => Ok((value.status().as_u16(), value.into_inner())),
                    Err(e) => Err(client.error_of(e, Phase::Poll).await),
                }
            },
        )
        .await?;
    let value = serde_json::to_value(&response).unwrap_or(Value::Null);
    let status = poll::status_of(provider(), &value).unwrap_or_else(|| "unknown".to_owned());
    Ok(PollState {
        class: poll::classify(provider(), &status),
        eta: poll::eta_of(provider(), &value),
        progress: response
            .task
            .progress_percent
            .and_then(|p| u8::try_from(p.clamp(0, 100)).ok()),
        outputs: response
            .images
            .iter()
            .filter_map(|image| image.image_url.as_deref())
            .map(ImageSource::from_output)
            .collect(),
        failure: response
            .task
            .reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| client.scrub().text(r)),
        status,
    })
}
