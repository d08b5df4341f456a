//! `GET /api/users/me/`: the signed-in user's profile.

use actix_web::{HttpResponse, web};

use crate::auth::Caller;
use crate::db::read;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's profile: user name, flags, registration method, the 22 writable fields and
/// `details`.
#[utoipa::path(
    get,
    path = "/api/users/me/",
    operation_id = "users_me_retrieve",
    tag = "users",
    summary = "The signed-in user",
    description = "The profile of the user whose token authenticates the request, as logins fill it.",
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "The user", body = super::json::UserProfile),
        (status = 401, description = "No credentials, or an invalid or expired token", body = crate::json::ErrorDetail),
    ),
)]
pub(crate) async fn me(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Caller::User(user) = caller else {
        return Err(ApiError::Unauthenticated(
            "Authentication credentials were not provided.".into(),
        ));
    };
    let id = user.id;
    let profile = read(&state, move |store| store.user_profile(id))
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("User inactive or deleted.".into()))?;
    Ok(HttpResponse::Ok().json(profile))
}
