//! The images of a finished job: downloaded from their URLs (with retries) or decoded from
//! base64, and returned as bytes with their format and dimensions.

use std::io::Cursor;

use base64::Engine as _;
use serde::Serialize;

use crate::errors::{Error, Scrub};

/// An image format the providers return (`x-output.formats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
}

impl ImageFormat {
    /// The file extension (`png`, `jpg`, `webp`).
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Webp => "webp",
        }
    }
}

/// Where an output image is: a URL to download, or inline base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum ImageSource {
    /// An `http(s)` URL.
    Url(String),
    /// Base64 data (optionally a `data:` URL).
    Base64(String),
}

impl ImageSource {
    /// A provider's output string: a URL when it is one, base64 otherwise.
    pub fn from_output(output: &str) -> ImageSource {
        let trimmed = output.trim();
        if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
            ImageSource::Url(trimmed.to_owned())
        } else {
            ImageSource::Base64(trimmed.to_owned())
        }
    }
}

/// One generated image.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedImage {
    /// The encoded image.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The URL it came from, if it was downloaded.
    pub url: Option<String>,
}

impl std::fmt::Debug for GeneratedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedImage")
            .field("bytes", &self.bytes.len())
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("url", &self.url)
            .finish()
    }
}

/// The format and dimensions of encoded image bytes, read from the header only.
pub fn inspect(bytes: &[u8]) -> Result<(ImageFormat, u32, u32), String> {
    let format = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => ImageFormat::Png,
        Ok(image::ImageFormat::Jpeg) => ImageFormat::Jpeg,
        Ok(image::ImageFormat::WebP) => ImageFormat::Webp,
        Ok(other) => return Err(format!("{other:?} images are not supported")),
        Err(_) => return Err("not a PNG, JPEG or WebP image".into()),
    };
    let reader = image::ImageReader::with_format(Cursor::new(bytes), to_image_format(format));
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| format!("unreadable {} image: {e}", format.extension()))?;
    Ok((format, width, height))
}

fn to_image_format(format: ImageFormat) -> image::ImageFormat {
    match format {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Webp => image::ImageFormat::WebP,
    }
}

/// Decodes base64 (standard or URL-safe, padded or not, optionally a `data:` URL).
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let data = match text.split_once(";base64,") {
        Some((head, data)) if head.starts_with("data:") => data,
        _ => text,
    };
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|engine| engine.decode(&compact).ok())
        .ok_or_else(|| "not valid base64".to_owned())
}

/// An image from decoded bytes. A body that is base64 text (a provider's `.base64` links) is
/// decoded first.
pub fn image_from_bytes(
    bytes: Vec<u8>,
    url: Option<String>,
    scrub: &Scrub,
) -> Result<GeneratedImage, Error> {
    let bytes = match inspect(&bytes) {
        Ok(_) => bytes,
        Err(first) => match std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| decode_base64(text).ok())
        {
            Some(decoded) if inspect(&decoded).is_ok() => decoded,
            _ => {
                return Err(Error::UnexpectedBody {
                    status: None,
                    snippet: scrub.text(&format!(
                        "{first}{}",
                        url.as_deref()
                            .map(|u| format!(" (from {u})"))
                            .unwrap_or_default()
                    )),
                });
            }
        },
    };
    let (format, width, height) = inspect(&bytes).map_err(|e| Error::UnexpectedBody {
        status: None,
        snippet: scrub.text(&e),
    })?;
    Ok(GeneratedImage {
        bytes,
        format,
        width,
        height,
        url,
    })
}

/// Downloads one URL once (the caller retries): the status and the bytes.
pub(crate) async fn download_once(
    http: &reqwest::Client,
    url: &str,
    scrub: &Scrub,
) -> Result<(u16, Vec<u8>), Error> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| crate::errors::transport(&e, scrub))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| crate::errors::transport(&e, scrub))?;
    if !(200..300).contains(&status) {
        let snippet = scrub.body(&bytes);
        return Err(match status {
            429 => Error::RateLimited {
                retry_after: crate::errors::retry_after_header(&headers),
                message: snippet,
            },
            500..=599 => Error::Server {
                status,
                message: snippet,
            },
            _ => Error::UnexpectedBody {
                status: Some(status),
                snippet,
            },
        });
    }
    Ok((status, bytes.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::new(width, height)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn images_come_back_with_format_and_dimensions() {
        let bytes = png(3, 2);
        let scrub = Scrub::new(None);
        let image = image_from_bytes(bytes.clone(), None, &scrub).unwrap();
        assert_eq!(
            (image.format, image.width, image.height),
            (ImageFormat::Png, 3, 2)
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let from_text = image_from_bytes(b64.clone().into_bytes(), None, &scrub).unwrap();
        assert_eq!(from_text.bytes, bytes);
        let data_url = format!("data:image/png;base64,{b64}");
        assert_eq!(decode_base64(&data_url).unwrap(), bytes);
        let err = image_from_bytes(b"<html>".to_vec(), None, &scrub).unwrap_err();
        assert_eq!(err.kind(), "unexpected_body");
    }

    #[test]
    fn outputs_are_urls_or_base64() {
        assert_eq!(
            ImageSource::from_output("https://x/y.png"),
            ImageSource::Url("https://x/y.png".into())
        );
        assert!(matches!(
            ImageSource::from_output("iVBORw0KGgo="),
            ImageSource::Base64(_)
        ));
    }
}
