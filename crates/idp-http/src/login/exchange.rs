//! `POST /api-auth/token-exchange/`: the portal trades a login's one-time code for an API token.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::TimeDelta;
use idp_core::ValidationErrors;
use serde_json::{Value, json};

use super::failure::{Failure, Outcome, finish};
use crate::body::JsonBody;
use crate::db::blocking;
use crate::state::AppState;

/// The detail of an unknown, replayed or expired code (deliberately the same for all three).
pub(crate) const INVALID_CODE: &str = "Invalid or expired exchange code.";

/// Exchanges a short-lived one-time code for an authentication token: a new API token for the
/// login's user, once; the code is consumed even when it has expired.
#[utoipa::path(
    post,
    path = "/api-auth/token-exchange/",
    operation_id = "api_auth_token_exchange",
    tag = "api-auth",
    summary = "Exchange code for token",
    description = "Exchanges a short-lived one-time code for an authentication token.",
    request_body(content(
        (super::json::TokenExchangeRequest = "application/json"),
        (super::json::TokenExchangeRequest = "application/x-www-form-urlencoded"),
    )),
    security(("tokenAuth" = []), ()),
    responses(
        (status = 200, description = "A new API token for the login's user", body = super::json::CoreAuthToken),
        (status = 400, description = "The code is malformed (`{\"code\": [...]}`), or unknown, replayed or expired (`{\"detail\": \"Invalid or expired exchange code.\"}`)"),
        (status = 429, description = "Too many requests from this address", body = crate::json::ErrorDetail),
    ),
)]
pub(crate) async fn token_exchange(
    body: JsonBody,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Failure> {
    let mut provider = None;
    let result = async {
        let body = body.read_json_or_form().await?;
        let code = parse_code(&body).map_err(crate::error::ApiError::from)?;
        let settings = &state.settings.login;
        let now = settings.now();
        let ttl = settings
            .token_ttl
            .map(|ttl| TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX));
        let redeemed = blocking(&state, move |store| {
            store.redeem_exchange_code(&code, now, ttl)
        })
        .await?;
        match redeemed {
            Some(redeemed) => {
                provider = Some(redeemed.provider);
                let body = json!({ "token": redeemed.token.key });
                Ok((HttpResponse::Ok().json(body), Outcome::Exchanged))
            }
            None => Err(Failure::detail(
                Outcome::ExchangeRefused,
                StatusCode::BAD_REQUEST,
                INVALID_CODE,
            )),
        }
    }
    .await;
    finish(&req, "token_exchange", provider.as_deref(), result)
}

/// The code as 32 lowercase hex characters: a UUID, with or without dashes, as DRF's
/// `UUIDField` reads it.
fn parse_code(body: &Value) -> Result<String, ValidationErrors> {
    let Value::Object(object) = body else {
        let kind = match body {
            Value::Array(_) => "list",
            Value::String(_) => "str",
            Value::Number(_) => "int",
            Value::Bool(_) => "bool",
            _ => "NoneType",
        };
        return Err(ValidationErrors::non_field(format!(
            "Invalid data. Expected a dictionary, but got {kind}."
        )));
    };
    let invalid = || ValidationErrors::single("code", "Must be a valid UUID.");
    let text = match object.get("code") {
        None => return Err(ValidationErrors::single("code", "This field is required.")),
        Some(Value::Null) => {
            return Err(ValidationErrors::single(
                "code",
                "This field may not be null.",
            ));
        }
        Some(Value::String(text)) => text.trim(),
        Some(_) => return Err(invalid()),
    };
    let hex: String = match text.len() {
        32 => text.to_owned(),
        36 => {
            let groups: Vec<&str> = text.split('-').collect();
            let lengths: Vec<usize> = groups.iter().map(|group| group.len()).collect();
            if lengths != [8, 4, 4, 4, 12] {
                return Err(invalid());
            }
            groups.concat()
        }
        _ => return Err(invalid()),
    };
    if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_uuids() {
        let code = |value: Value| parse_code(&json!({ "code": value }));
        let hex = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(
            code(json!(hex)).ok().as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(
            code(json!("01234567-89ab-cdef-0123-456789abcdef"))
                .ok()
                .as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        for bad in [
            json!("xyz"),
            json!(7),
            json!("0123456789abcdef0123456789abcdeg"),
            json!("0123456789ab-cdef-0123-456789abcdef0"),
        ] {
            assert!(code(bad.clone()).is_err(), "{bad}");
        }
    }
}
