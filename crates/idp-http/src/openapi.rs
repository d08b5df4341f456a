//! The API's own OpenAPI document, generated from the code by utoipa, and the Swagger UI.
//!
//! `GET /api/schema/` serves the document as JSON (`?format=yaml` for YAML) to anyone, and
//! `/api/docs/` serves Swagger UI, whose assets are compiled into the binary, pointed at it.
//! Operation ids, schema names and the schemas' keywords follow the reference's document, so
//! a client generated from ours is a drop-in for one generated from the reference;
//! `tests/openapi.rs` holds the comparison and `docs/api-schema-additions.md` lists what ours
//! adds.

use std::sync::{Arc, OnceLock};

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{self, OpenApi as Document, RefOr, Required};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::Config;

use crate::handlers::{create, delete, discover, history, list, refresh, retrieve, update};
use crate::json::{
    AuditChange, AuditEvent, DiscoverMetadataRequestRequest, DiscoverMetadataResponse, ErrorDetail,
    IdentityProvider, IdentityProviderRequest, PageParams, PatchedIdentityProviderRequest,
    ProviderStatus, RefreshFailure, RefreshReport, WaldurFieldSuggestion,
};

/// Where the document is served.
pub const SCHEMA_PATH: &str = "/api/schema/";
/// Where Swagger UI is served.
pub const DOCS_PATH: &str = "/api/docs/";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Identity provider registry API",
        description = "A registry of OpenID Connect identity providers, wire-compatible with \
            Waldur's Identity Providers API (`/api/identity-providers/`).",
    ),
    paths(
        list::list,
        count,
        create::create,
        retrieve::retrieve,
        update::put,
        update::patch,
        delete::delete,
        discover::discover_metadata,
        discover::generate_mapping,
        refresh::refresh,
        refresh::status,
        history::history,
        history::audit_events,
        crate::login::default_init,
        crate::login::init,
        crate::login::complete,
        crate::login::token_exchange,
        crate::login::logout,
        crate::login::me,
        crate::login::preview_mapping,
        crate::login::preview_draft_mapping,
        crate::login::probe_provider,
        crate::login::probe_draft,
        crate::login::begin_test_login,
        crate::login::latest_test_login,
    ),
    components(schemas(
        AuditChange,
        AuditEvent,
        ProviderStatus,
        RefreshReport,
        RefreshFailure,
        IdentityProvider,
        IdentityProviderRequest,
        PatchedIdentityProviderRequest,
        DiscoverMetadataRequestRequest,
        DiscoverMetadataResponse,
        WaldurFieldSuggestion,
        ErrorDetail,
        crate::login::json::TokenExchangeRequest,
        crate::login::json::CoreAuthToken,
        crate::login::json::Logout,
        crate::login::json::UserProfile,
        crate::login::json::PreviewMappingRequest,
        crate::login::json::PreviewDraftMappingRequest,
        crate::login::json::MappingPreview,
        crate::login::json::FieldPreview,
        crate::login::json::SkippedClaim,
        crate::login::json::MatchedUser,
        crate::login::json::ProbeCheck,
        crate::login::json::TestLoginStarted,
        crate::login::json::TestLoginReport,
    )),
    tags(
        (name = "identity-providers", description = "OpenID Connect identity providers"),
        (name = "api-auth", description = "Logging people in with the stored providers"),
        (name = "users", description = "The signed-in user"),
    ),
    modifiers(&Finish),
)]
struct ApiDoc;

/// `HEAD /api/identity-providers/` is served by the list handler (`list::list`); this stands in
/// for it so that the count gets its own operation, as in the reference.
#[utoipa::path(
    head,
    path = "/api/identity-providers/",
    operation_id = "identity_providers_count",
    tag = "identity-providers",
    summary = "Count identity providers",
    description = "Get number of items in the collection matching the request parameters.",
    params(PageParams),
    security(("tokenAuth" = []), ()),
    responses(
        (status = 200, description = "No response body", headers(
            ("x-result-count" = isize, description = "Total number of results available"),
            ("Link" = String, description = "Links to the first, previous, next and last pages (RFC 8288)"),
        )),
        (status = 401, description = "The `Authorization` header names an invalid or expired token"),
        (status = 404, description = "Invalid page"),
    ),
)]
#[expect(dead_code, reason = "documentation only: the list handler serves HEAD")]
async fn count() {}

/// What the derives cannot say.
struct Finish;

impl Modify for Finish {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        // A `PATCH` body may be empty (it reads as `{}`): the reference marks it not required,
        // and `request_body = T` always says required.
        let patch = doc
            .paths
            .paths
            .get_mut("/api/identity-providers/{provider}/")
            .and_then(|item| item.patch.as_mut())
            .and_then(|operation| operation.request_body.as_mut());
        if let Some(RefOr::T(body)) = patch {
            body.required = Some(Required::False);
        }
        // The reference's `XResultCount` header carries an example; `headers(...)` cannot.
        if let Some(item) = doc.paths.paths.get_mut("/api/identity-providers/") {
            for operation in [item.get.as_mut(), item.head.as_mut()]
                .into_iter()
                .flatten()
            {
                if let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200")
                    && let Some(RefOr::T(count)) = ok.headers.get_mut("x-result-count")
                {
                    count.example = Some(json!(42));
                }
            }
        }
        let components = doc.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            "tokenAuth".into(),
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "",
            )))
            .into(),
        );
    }
}

/// The document, as built from the code.
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// The document as pretty JSON with a trailing newline: what `docs/openapi.json` holds.
pub fn document_json() -> String {
    let mut text = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

fn rendered() -> &'static (String, String) {
    static RENDERED: OnceLock<(String, String)> = OnceLock::new();
    RENDERED.get_or_init(|| {
        let doc = document();
        let yaml = doc.to_yaml().expect("the OpenAPI document serializes");
        (document_json(), yaml)
    })
}

/// `GET /api/schema/`: the document, JSON by default, YAML with `?format=yaml`. Anonymous access
/// is allowed.
async fn schema(req: HttpRequest) -> HttpResponse {
    let format =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|query| query.get("format").cloned());
    let (json, yaml) = rendered();
    match format.as_deref() {
        None | Some("json" | "openapi-json") => HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(json.as_str()),
        Some("yaml" | "openapi") => HttpResponse::Ok()
            .content_type("application/yaml")
            .body(yaml.as_str()),
        Some(_) => HttpResponse::NotFound().json(json!({"detail": "Not found."})),
    }
}

/// The policy of the Swagger UI pages: only this origin's scripts (the UI has no inline script),
/// inline styles (the UI sets style attributes), images from here or `data:`, and never inside
/// another site's frame.
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

fn docs_config() -> &'static Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Arc::new(
            Config::new([SCHEMA_PATH])
                // The default validator badge calls an external service.
                .validator_url("none")
                .display_operation_id(true),
        )
    })
}

/// `GET` and `HEAD /api/docs/<file>`: Swagger UI's assets, compiled into the binary, with the
/// pages' content security policy.
async fn docs_asset(path: web::Path<String>) -> HttpResponse {
    match utoipa_swagger_ui::serve(&path.into_inner(), docs_config().clone()) {
        Ok(Some(file)) => {
            let mut response = HttpResponse::Ok();
            if file.gzpipped {
                response.insert_header((header::CONTENT_ENCODING, header::ContentEncoding::Gzip));
            }
            response
                .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_CSP))
                .insert_header((header::X_FRAME_OPTIONS, "DENY"))
                .content_type(file.content_type)
                .body(file.bytes.into_owned())
        }
        Ok(None) => HttpResponse::NotFound().json(json!({"detail": "Not found."})),
        Err(error) => {
            tracing::error!(%error, "Swagger UI could not be served");
            HttpResponse::InternalServerError().json(json!({"detail": "A server error occurred."}))
        }
    }
}

/// Registers `/api/schema/` and Swagger UI at `/api/docs/`. Call it before the API's own
/// `configure`, which installs the catch-all default service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(SCHEMA_PATH, web::get().to(schema))
        .route(SCHEMA_PATH, web::head().to(schema))
        .service(
            web::resource(format!("{DOCS_PATH}{{file:.*}}"))
                .route(web::get().to(docs_asset))
                .route(web::head().to(docs_asset)),
        );
}
