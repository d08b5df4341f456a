//! Reading request bodies: content type, size limit, time limit and JSON parsing with API-shaped
//! errors.

use std::future::{Ready, ready};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::app_state;

/// A request's JSON body, read when the handler asks for it with [`JsonBody::read`].
///
/// Extracting it only takes hold of the body; every check happens in `read`, in this order: the
/// content type (415), the declared and the actual size (413), the time the client takes to send
/// it (408) and the JSON itself (400). The reference reads a body only once the caller is known
/// to be allowed, and for an update only once the provider is found and its version matches;
/// a handler calls `read` at that point, so a 401, 403, 404 or 412 comes before any complaint
/// about the body. (An extractor that read eagerly could answer 415 while the caller's token is
/// still being looked up: actix-web polls a handler's extractors together.)
pub struct JsonBody {
    req: HttpRequest,
    payload: Payload,
    limit: usize,
    timeout: Duration,
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(app_state(req).map(|state| JsonBody {
            req: req.clone(),
            payload: payload.take(),
            limit: state.settings.max_body_bytes,
            timeout: state.settings.body_timeout,
        }))
    }
}

impl JsonBody {
    /// Reads the body: at most `max_body_bytes` bytes, sent within `body_timeout` (both from
    /// the app's [`ApiSettings`](crate::state::ApiSettings)). An empty body reads as `{}`, as the
    /// reference's parser does.
    pub async fn read(self) -> Result<Value, ApiError> {
        check_content_type(&self.req)?;
        let bytes = self.bytes().await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&bytes)
            .map_err(|error| ApiError::BadRequest(format!("JSON parse error - {error}")))
    }

    /// Reads a JSON body as [`JsonBody::read`] does, or a form-encoded one
    /// (`application/x-www-form-urlencoded`) as an object of strings (the last of repeated
    /// keys wins), as the reference's parsers accept both.
    pub async fn read_json_or_form(self) -> Result<Value, ApiError> {
        if !is_form(&self.req) {
            return self.read().await;
        }
        let bytes = self.bytes().await?;
        let object = url::form_urlencoded::parse(&bytes)
            .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
            .collect();
        Ok(Value::Object(object))
    }

    /// The raw body: at most `max_body_bytes` bytes, sent within `body_timeout`.
    async fn bytes(self) -> Result<web::BytesMut, ApiError> {
        let JsonBody {
            req,
            mut payload,
            limit,
            timeout,
        } = self;
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
                let chunk = chunk.map_err(|_| {
                    ApiError::BadRequest("The request body could not be read.".into())
                })?;
                if bytes.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge);
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(bytes)
        };
        actix_web::rt::time::timeout(timeout, read)
            .await
            .map_err(|_| ApiError::RequestTimeout)?
    }
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
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
