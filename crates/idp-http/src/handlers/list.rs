//! `GET` and `HEAD /api/identity-providers/`: the paginated list.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::Caller;
use crate::db::read;
use crate::error::ApiError;
use crate::pagination::PageRequest;
use crate::responses::BadToken;
use crate::state::AppState;

/// Lists providers ordered by label: all of them for staff, active ones for everyone else.
/// The body is a bare array; `X-Result-Count` and `Link` carry the paging. `HEAD` answers the
/// same headers without a body.
#[utoipa::path(
    get,
    path = "/api/identity-providers/",
    operation_id = "identity_providers_list",
    tag = "identity-providers",
    summary = "List identity providers",
    description = "Providers ordered by label: all of them for staff, active ones for everyone else (anonymous callers included). The body is a bare array; `X-Result-Count` and `Link` carry the paging.",
    params(crate::json::PageParams),
    security(("tokenAuth" = []), ()),
    responses(
        (status = 200, description = "One page of providers, ordered by label", body = [crate::json::IdentityProvider], headers(
            ("x-result-count" = isize, description = "Total number of results available"),
            ("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288)"),
        )),
        (status = 400, description = "The `Host` header is not `host[:port]`", body = crate::json::ErrorDetail),
        BadToken,
        (status = 404, description = "Invalid page", body = crate::json::ErrorDetail),
    ),
)]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let paging = PageRequest::from_request(&req, &state.settings)?;
    let active_only = !caller.is_staff();
    let size = paging.size;
    let head = req.method() == Method::HEAD;
    // The secret is opened only for callers who are shown it.
    let open_secrets = caller.is_staff() && state.settings.expose_client_secret;
    // Count and page on one connection; the page to load depends on the count.
    let page = read(&state, {
        let paging = paging.clone();
        move |store| {
            store.list_page(active_only, size, open_secrets, |total| {
                let number = paging.number(total).ok()?;
                (!head).then_some((number - 1) * size)
            })
        }
    })
    .await?;
    let number = paging.number(page.total)?;
    let mut response = HttpResponse::Ok();
    response
        .insert_header(("X-Result-Count", page.total.to_string()))
        .insert_header(("Link", paging.link_header(number, page.total)));
    if head {
        return Ok(response.content_type("application/json").finish());
    }
    let staff = caller.is_staff();
    let with_secret = state.settings.expose_client_secret;
    let body: Vec<idp_core::ProviderView<'_>> = page
        .items
        .iter()
        .map(|stored| stored.provider.view(staff, with_secret))
        .collect();
    Ok(response.json(body))
}
