//! `GET` and `HEAD /api/identity-providers/`: the paginated list.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pagination::PageRequest;
use crate::responses::BadToken;
use crate::snapshot::ReadModel;
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
    description = "Providers ordered by label: all of them for staff, active ones for everyone else (anonymous callers included). The body is a bare array; `X-Result-Count` and `Link` carry the paging. Served from the instance's snapshot in memory; `If-None-Match` with the page's ETag answers 304, and `Accept-Encoding: gzip` compresses bodies over 1 KiB.",
    params(
        crate::json::PageParams,
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "ETags the client holds; 304 when one is current"),
    ),
    security(("tokenAuth" = []), ()),
    responses(
        (status = 200, description = "One page of providers, ordered by label", body = [crate::json::IdentityProvider], headers(
            ("x-result-count" = isize, description = "Total number of results available"),
            ("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288)"),
            ("ETag" = String, description = "The page's version: it changes whenever the page's body or the total does"),
        )),
        (status = 304, description = "`If-None-Match` names the page's current ETag"),
        (status = 400, description = "The `Host` header is not `host[:port]`", body = crate::json::ErrorDetail),
        BadToken,
        (status = 404, description = "Invalid page", body = crate::json::ErrorDetail),
    ),
)]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    reads: web::Data<ReadModel>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let paging = PageRequest::from_request(&req, &state.settings)?;
    let staff = caller.is_staff();
    reads.current(state.settings.db_timeout).await?;
    if req.method() == Method::HEAD {
        let total = reads.count(staff);
        let number = paging.number(total)?;
        return Ok(HttpResponse::Ok()
            .insert_header(("X-Result-Count", total.to_string()))
            .insert_header(("Link", paging.link_header(number, total)))
            .content_type("application/json")
            .finish());
    }
    let (page, total, number) = reads.page(staff, paging.size, |total| paging.number(total))?;
    Ok(page.prepared.respond(&req, |response| {
        response
            .insert_header(("X-Result-Count", total.to_string()))
            .insert_header(("Link", paging.link_header(number, total)));
    }))
}
