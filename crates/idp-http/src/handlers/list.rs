//! `GET` and `HEAD /api/identity-providers/`: the paginated list.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use super::blocking;
use crate::AppState;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::pagination::PageRequest;

/// Lists providers ordered by label: all of them for staff, active ones for everyone else.
/// The body is a bare array; `X-Result-Count` and `Link` carry the paging. `HEAD` answers the
/// same headers without a body.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state).await?;
    let paging = PageRequest::from_request(&req);
    let active_only = !caller.is_staff();
    let store = state.store.clone();
    let size = paging.size;
    let total = blocking({
        let store = store.clone();
        move || store.count_providers(active_only)
    })
    .await?;
    let number = paging.number(total)?;
    let links = paging.link_header(number, total);
    let mut response = HttpResponse::Ok();
    response
        .insert_header(("X-Result-Count", total.to_string()))
        .insert_header(("Link", links));
    if req.method() == Method::HEAD {
        return Ok(response.content_type("application/json").finish());
    }
    let page =
        blocking(move || store.list_providers(active_only, (number - 1) * size, size)).await?;
    let staff = caller.is_staff();
    let with_secret = state.settings.expose_client_secret;
    let body: Vec<serde_json::Value> = page
        .items
        .iter()
        .map(|stored| stored.provider.to_json(staff, with_secret))
        .collect();
    Ok(response.json(body))
}
