//! Answers for methods a route does not serve and paths no route matches.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse};

use super::options_response;
use crate::auth::Caller;
use crate::error::ApiError;

/// Which callers a route lets through before its method is looked at.
#[derive(Debug, Clone, Copy)]
pub enum Permission {
    /// Everyone may read; only staff may write.
    StaffOrReadOnly,
    /// Staff only, whatever the method.
    StaffOnly,
}

/// A method the route does not serve: authentication and permissions are checked first, as for
/// any request, so anonymous callers get 401 and non-staff 403 before staff get 405.
pub async fn method_not_allowed(
    caller: Caller,
    req: HttpRequest,
    permission: Permission,
    allow: &'static str,
) -> Result<HttpResponse, ApiError> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    match permission {
        Permission::StaffOrReadOnly if safe => {}
        _ => {
            caller.into_staff()?;
        }
    }
    if req.method() == Method::OPTIONS {
        return Ok(options_response(allow));
    }
    Err(ApiError::MethodNotAllowed(req.method().to_string()))
}

/// No route matched: an API path without its trailing slash is redirected (308, method and body
/// kept) to the slashed path; anything else is 404.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    if path.starts_with("/api/") && !path.ends_with('/') {
        let mut location = format!("{path}/");
        if !req.query_string().is_empty() {
            location.push('?');
            location.push_str(req.query_string());
        }
        return HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, location))
            .finish();
    }
    HttpResponse::NotFound().json(serde_json::json!({"detail": "Not found."}))
}
