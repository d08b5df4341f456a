//! The audit history: `GET /api/audit-events/` and
//! `GET /api/identity-providers/{provider}/history/` (staff only), paginated like the provider
//! list (bare array, `X-Result-Count`, `Link`), newest first.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, NaiveDateTime};
use idp_core::ValidationErrors;
use idp_store::{AuditAction, AuditFilter};
use url::form_urlencoded;

use crate::auth::Staff;
use crate::db::blocking;
use crate::error::{ApiError, NO_PROVIDER};
use crate::pagination::PageRequest;
use crate::responses::StaffOnly;
use crate::state::AppState;

/// The filters of the audit-event list, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "only the IntoParams impl uses this type")]
pub(crate) struct AuditParams {
    /// Events of this provider only.
    provider: Option<String>,
    /// Events of this actor only: a username, or `system`.
    actor: Option<String>,
    /// Events of this action only: `create`, `update`, `delete`, `refresh`, `reseal` or `test_login`.
    action: Option<String>,
    /// Events at or after this time (ISO 8601; a time without an offset is UTC).
    since: Option<String>,
}

/// The filters of one provider's history, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "only the IntoParams impl uses this type")]
pub(crate) struct HistoryParams {
    /// Events of this actor only: a username, or `system`.
    actor: Option<String>,
    /// Events of this action only: `create`, `update`, `delete`, `refresh`, `reseal` or `test_login`.
    action: Option<String>,
    /// Events at or after this time (ISO 8601; a time without an offset is UTC).
    since: Option<String>,
}

/// Every audit event, newest first.
#[utoipa::path(
    get,
    path = "/api/audit-events/",
    operation_id = "audit_events_list",
    tag = "audit",
    summary = "List audit events",
    description = "Staff only. Every create, update, delete, refresh, re-sealing of a provider's secret and test login, newest first, with who did it (username and token fingerprint, or `system`), the request id, and each changed field before and after; the client secret is only ever named as changed. The body is a bare array; `X-Result-Count` and `Link` carry the paging.",
    params(crate::json::PageParams, AuditParams),
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "One page of events, newest first", body = [crate::json::AuditEvent], headers(
            ("x-result-count" = isize, description = "Total number of results available"),
            ("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288)"),
        )),
        (status = 400, description = "A filter is not valid: `{\"since\": [...]}` or `{\"action\": [...]}`"),
        StaffOnly,
        (status = 404, description = "Invalid page", body = crate::json::ErrorDetail),
    ),
)]
pub async fn audit_events(
    _staff: Staff,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let filter = filter(&req, true)?;
    page(&req, &state, filter).await
}

/// One provider's audit events, newest first; they outlive the provider.
#[utoipa::path(
    get,
    path = "/api/identity-providers/{provider}/history/",
    operation_id = "identity_providers_history",
    tag = "audit",
    summary = "A provider's audit history",
    description = "Staff only. The audit events of one provider, newest first, as `/api/audit-events/?provider=...` lists them; a deleted provider's history stays readable. 404 when the provider neither exists nor has any event.",
    params(("provider" = String, Path), crate::json::PageParams, HistoryParams),
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "One page of events, newest first", body = [crate::json::AuditEvent], headers(
            ("x-result-count" = isize, description = "Total number of results available"),
            ("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288)"),
        )),
        (status = 400, description = "A filter is not valid: `{\"since\": [...]}` or `{\"action\": [...]}`"),
        StaffOnly,
        (status = 404, description = "No such provider, or an invalid page", body = crate::json::ErrorDetail),
    ),
)]
pub async fn history(
    path: web::Path<String>,
    _staff: Staff,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    let mut filter = filter(&req, false)?;
    filter.provider = Some(name.clone());
    let known = {
        let name = name.clone();
        let any = AuditFilter {
            provider: Some(name.clone()),
            ..AuditFilter::default()
        };
        blocking(&state, move |store| {
            Ok(store.provider_exists(&name)? || store.audit_events(&any, 0, 0)?.total > 0)
        })
        .await?
    };
    if !known {
        return Err(ApiError::NotFound(NO_PROVIDER));
    }
    page(&req, &state, filter).await
}

/// One page of the events matching `filter`, with the list's headers.
async fn page(
    req: &HttpRequest,
    state: &AppState,
    filter: AuditFilter,
) -> Result<HttpResponse, ApiError> {
    let paging = PageRequest::from_request(req, &state.settings)?;
    let pick = paging.clone();
    let (events, total, number) = blocking(state, move |store| {
        let total = store.audit_events(&filter, 0, 0)?.total;
        let Ok(number) = pick.number(total) else {
            return Ok((Vec::new(), total, None));
        };
        let page = store.audit_events(&filter, (number - 1) * pick.size, pick.size)?;
        Ok((page.items, total, Some(number)))
    })
    .await?;
    let number = match number {
        Some(number) => number,
        None => paging.number(total)?,
    };
    let body: Vec<serde_json::Value> = events.iter().map(|event| event.to_json()).collect();
    Ok(HttpResponse::Ok()
        .insert_header(("X-Result-Count", total.to_string()))
        .insert_header(("Link", paging.link_header(number, total)))
        .json(body))
}

/// The filters of the query string; `with_provider` reads `provider` too. An unknown action or
/// a time that is not ISO 8601 is a 400 naming the parameter.
fn filter(req: &HttpRequest, with_provider: bool) -> Result<AuditFilter, ApiError> {
    let mut filter = AuditFilter::default();
    let mut errors = ValidationErrors::new();
    for (key, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        // An empty value filters nothing, as an empty django-filter field does.
        if value.is_empty() {
            continue;
        }
        match key.as_ref() {
            "provider" if with_provider => filter.provider = Some(value.into_owned()),
            "actor" => filter.actor = Some(value.into_owned()),
            "action" => match AuditAction::parse(&value) {
                Some(action) => filter.action = Some(action),
                None => errors.add(
                    "action",
                    format!("Select a valid choice. {value} is not one of the available choices."),
                ),
            },
            "since" => match parse_time(&value) {
                Some(at) => filter.since = Some(at),
                None => errors.add("since", "Enter a valid date/time."),
            },
            _ => {}
        }
    }
    errors.into_result(filter).map_err(ApiError::from)
}

/// An ISO 8601 date-time (with an offset, or UTC without one) or date (midnight UTC).
fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(at.naive_utc());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_are_read_as_iso_8601_in_utc() {
        let at = |text| parse_time(text).map(|t| t.to_string());
        assert_eq!(at("2026-12-01T10:00:00Z").unwrap(), "2026-12-01 10:00:00");
        assert_eq!(
            at("2026-12-01T12:00:00+02:00").unwrap(),
            "2026-12-01 10:00:00"
        );
        assert_eq!(
            at("2026-12-01T10:00:00.5").unwrap(),
            "2026-12-01 10:00:00.500"
        );
        assert_eq!(at("2026-12-01").unwrap(), "2026-12-01 00:00:00");
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-12-01T25:00:00Z",
            "",
            "12/01/2026",
        ] {
            assert!(parse_time(bad).is_none(), "{bad} was read");
        }
    }
}
