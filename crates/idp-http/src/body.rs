//! Reading request bodies: size limit, content type and JSON parsing with API-shaped errors.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use futures_util::StreamExt;
use serde_json::Value;

use crate::ApiSettings;
use crate::error::ApiError;

/// Reads a JSON body of at most `settings.max_body_bytes` bytes, sent within
/// `settings.body_timeout`. An empty body reads as `{}`, as the reference's
/// parser does.
pub async fn json_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    settings: &ApiSettings,
) -> Result<Value, ApiError> {
    let (limit, timeout) = (settings.max_body_bytes, settings.body_timeout);
    check_content_type(req)?;
    if let Some(length) = req.headers().get(header::CONTENT_LENGTH) {
        let length = length.to_str().ok().and_then(|v| v.parse::<usize>().ok());
        if length.is_some_and(|length| length > limit) {
            return Err(ApiError::PayloadTooLarge);
        }
    }
    // The server's own timeout covers the request head only; a client that stalls while
    // sending its body is cut off here.
    let read = async {
        let mut bytes = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk
                .map_err(|_| ApiError::BadRequest("The request body could not be read.".into()))?;
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    };
    let bytes = actix_web::rt::time::timeout(timeout, read)
        .await
        .map_err(|_| ApiError::RequestTimeout)??;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(&bytes)
        .map_err(|error| ApiError::BadRequest(format!("JSON parse error - {error}")))
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or("");
    let media = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media.is_empty()
        || media == "application/json"
        || (media.starts_with("application/") && media.ends_with("+json"))
    {
        Ok(())
    } else {
        let shown: String = text.chars().filter(|c| !c.is_control()).take(100).collect();
        Err(ApiError::UnsupportedMediaType(shown))
    }
}
