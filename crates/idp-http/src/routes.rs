//! The route table.

use actix_web::web;

use crate::handlers::fallback::{Permission, method_not_allowed, not_found};
use crate::handlers::{create, delete, discover, history, list, refresh, retrieve, update};

macro_rules! fallback {
    ($permission:expr, $allow:expr) => {
        web::to(|caller, req| method_not_allowed(caller, req, $permission, $allow))
    };
}

/// Registers the Identity Providers API and the login routes on an actix-web app or scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(crate::login::configure);
    cfg.service(
        web::scope("/api/identity-providers")
            // Actions are matched before the detail route, so they never reach `retrieve`.
            .service(
                web::resource("/discover_metadata/")
                    .route(web::post().to(discover::discover_metadata))
                    .default_service(fallback!(Permission::StaffOnly, "POST, OPTIONS")),
            )
            .service(
                web::resource("/generate-mapping/")
                    .route(web::post().to(discover::generate_mapping))
                    .default_service(fallback!(Permission::StaffOnly, "POST, OPTIONS")),
            )
            .service(
                web::resource("/preview-mapping/")
                    .route(web::post().to(crate::login::preview_draft_mapping))
                    .default_service(fallback!(Permission::StaffOnly, "POST, OPTIONS")),
            )
            .service(
                web::resource("/probe/")
                    .route(web::post().to(crate::login::probe_draft))
                    .default_service(fallback!(Permission::StaffOnly, "POST, OPTIONS")),
            )
            .service(
                web::resource("/")
                    .route(web::get().to(list::list))
                    .route(web::head().to(list::list))
                    .route(web::post().to(create::create))
                    .default_service(fallback!(
                        Permission::StaffOrReadOnly,
                        "GET, POST, HEAD, OPTIONS"
                    )),
            )
            // The detail route right after the collection: most requests are reads of one
            // provider, and actix tries the resources in this order (each pattern with a
            // parameter is a regular expression). `[^/.]+` never spans a slash, so it cannot
            // take the paths of the sub-resources below.
            .service(
                web::resource("/{provider:[^/.]+}/")
                    .route(web::get().to(retrieve::retrieve))
                    .route(web::head().to(retrieve::retrieve))
                    .route(web::put().to(update::put))
                    .route(web::patch().to(update::patch))
                    .route(web::delete().to(delete::delete))
                    .default_service(fallback!(
                        Permission::StaffOrReadOnly,
                        "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
                    )),
            )
            .service(
                web::resource("/{provider:[^/.]+}/probe/")
                    .route(web::post().to(crate::login::probe_provider))
                    .default_service(fallback!(Permission::StaffOnly, "POST, OPTIONS")),
            )
            .service(
                web::resource("/{provider:[^/.]+}/test-login/")
                    .route(web::post().to(crate::login::begin_test_login))
                    .route(web::get().to(crate::login::latest_test_login))
                    .default_service(fallback!(Permission::StaffOnly, "GET, POST, OPTIONS")),
            )
            .service(
                web::resource("/{provider:[^/.]+}/preview-mapping/")
                    .route(web::post().to(crate::login::preview_mapping))
                    .default_service(fallback!(Permission::StaffOnly, "POST, OPTIONS")),
            )
            .service(
                web::resource("/{provider:[^/.]+}/history/")
                    .route(web::get().to(history::history))
                    .default_service(fallback!(Permission::StaffOnly, "GET, OPTIONS")),
            )
            .service(
                web::resource("/{provider:[^/.]+}/refresh/")
                    .route(web::post().to(refresh::refresh))
                    .default_service(fallback!(Permission::StaffOnly, "POST, OPTIONS")),
            )
            .service(
                web::resource("/{provider:[^/.]+}/status/")
                    .route(web::get().to(refresh::status))
                    .default_service(fallback!(Permission::StaffOnly, "GET, OPTIONS")),
            ),
    )
    .service(
        web::resource("/api/audit-events/")
            .route(web::get().to(history::audit_events))
            .default_service(fallback!(Permission::StaffOnly, "GET, OPTIONS")),
    )
    .default_service(web::to(not_found));
}
