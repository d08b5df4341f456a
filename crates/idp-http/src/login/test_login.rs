//! Admin test logins: `POST /api/identity-providers/{provider}/test-login/` begins one (kind
//! `test`, for inactive providers too), the provider's callback (`complete`) runs every step of
//! a real login and stores a report instead of signing anyone in, and
//! `GET /api/identity-providers/{provider}/test-login/` answers the latest report.
//!
//! A test login creates and changes no user and issues no token or exchange code. The browser
//! that did the test gets the report as an HTML page. The report holds claim names with
//! redacted values, the mapping preview (staff only) and the user a login would sign in; it is
//! stored sealed, and nothing of it is logged.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp_core::Provider;
use idp_core::login::{
    AuthorizationParams, authorization_url, choose_redirect_origin, merge_claims,
    pkce_verifier_for_exchange,
};
use idp_oidc::rp::{LoginError as RpError, LoginSecrets};
use idp_store::{LoginTransaction, NewLoginTransaction};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::failure::{Failure, Outcome};
use super::init::query_param;
use super::messages::rp_failure;
use super::preview::preview;
use super::relying_party::relying_party;
use super::{LoginSettings, TRANSACTION_TTL};
use crate::auth::Staff;
use crate::db::{blocking, load_for_update, read};
use crate::error::ApiError;
use crate::public_url::base_url;
use crate::responses::StaffOnly;
use crate::state::AppState;

/// One step of the login and what it found.
#[derive(Debug, Serialize)]
struct Step {
    check: &'static str,
    status: &'static str,
    detail: String,
}

fn step(check: &'static str, ok: bool, detail: impl Into<String>) -> Step {
    Step {
        check,
        status: if ok { "pass" } else { "fail" },
        detail: detail.into(),
    }
}

/// Begins a test login (staff only; inactive providers too).
#[utoipa::path(
    post,
    path = "/api/identity-providers/{provider}/test-login/",
    operation_id = "identity_providers_test_login_create",
    tag = "identity-providers",
    summary = "Begin a test login",
    description = "Staff only; inactive providers too. Answers the authorization URL of a test login: open it in a browser and log in at the provider. The callback runs every step of a real login, creates and changes no user, issues no token, stores a report (see the `GET`) and shows it to that browser as an HTML page.",
    params(("provider" = String, Path, description = "The provider's name")),
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "Where to send the browser", body = super::json::TestLoginStarted),
        (status = 400, description = "The `Host` header is not `host[:port]`", body = crate::json::ErrorDetail),
        StaffOnly,
        (status = 404, description = "No such provider", body = crate::json::ErrorDetail),
    ),
)]
pub(crate) async fn begin_test_login(
    staff: Staff,
    path: web::Path<String>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let stored = load_for_update(&state, &path).await?;
    let provider = &stored.provider;
    let base = base_url(&req, &state.settings)?;
    let redirect_uri = format!("{base}/api-auth/{}/complete/", provider.provider);
    let secrets = LoginSecrets::generate(provider.enable_pkce);
    let location = authorization_url(
        provider,
        &AuthorizationParams {
            redirect_uri: &redirect_uri,
            state: secrets.state(),
            nonce: secrets.nonce(),
            pkce_verifier: secrets.pkce_verifier().unwrap_or_default(),
            ui_locales: None,
        },
    );
    let now = state.settings.login.now();
    let transaction = NewLoginTransaction {
        kind: "test".to_owned(),
        provider: provider.provider.clone(),
        state: secrets.state().to_owned(),
        // Found by its state; the binding only has to be unique.
        binding: URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()),
        nonce: secrets.nonce().to_owned(),
        pkce_verifier: secrets.pkce_verifier().map(str::to_owned),
        return_url: None,
        referrer: None,
        redirect_uri,
        created_at: now,
        expires_at: now + TRANSACTION_TTL,
    };
    let context = crate::audit::context(&req, &staff);
    blocking(&state, move |store| {
        store.begin_test_login(&transaction, &context)
    })
    .await?;
    tracing::info!(provider = %provider.provider, "test login begun");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "authorization_url": location })))
}

/// The latest test login report of a provider (staff only).
#[utoipa::path(
    get,
    path = "/api/identity-providers/{provider}/test-login/",
    operation_id = "identity_providers_test_login_retrieve",
    tag = "identity-providers",
    summary = "The latest test login report",
    description = "Staff only. Every step of the test login with its outcome, the claim names received with their values redacted (first and last characters kept), the mapping preview, and the user a login would sign in.",
    params(("provider" = String, Path, description = "The provider's name")),
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "The report", body = super::json::TestLoginReport),
        StaffOnly,
        (status = 404, description = "No such provider, or no test login yet", body = crate::json::ErrorDetail),
    ),
)]
pub(crate) async fn latest_test_login(
    _staff: Staff,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let stored = load_for_update(&state, &path).await?;
    let name = stored.provider.provider.clone();
    let report = read(&state, move |store| store.test_login_report(&name))
        .await?
        .ok_or(ApiError::NotFound("No test login report."))?;
    let report: Value = serde_json::from_str(&report.0).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(report))
}

/// A claim value with only its first and last characters kept: `"ada@example.org"` becomes
/// `"a…g"`; short values lose everything but their length, lists and objects show their
/// shape.
fn redact(value: &Value) -> Value {
    match value {
        Value::String(text) => {
            let chars: Vec<char> = text.chars().collect();
            match chars.len() {
                0 => json!(""),
                1..=3 => json!("…".repeat(chars.len())),
                _ => json!(format!("{}…{}", chars[0], chars[chars.len() - 1])),
            }
        }
        Value::Array(items) => items.iter().map(redact).collect(),
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| (key.clone(), redact(value)))
                .collect(),
        ),
        Value::Number(_) => json!("…"),
        other => other.clone(),
    }
}

/// Ends a test login at the callback: runs every step a real login runs, in its order, and
/// stores and shows the report. Whatever a step finds, the answer is the report page.
pub(super) async fn complete_test(
    req: &HttpRequest,
    state: &AppState,
    provider: &Provider,
    transaction: &LoginTransaction,
) -> Result<(HttpResponse, Outcome), Failure> {
    let settings = &state.settings.login;
    let mut steps = vec![step(
        "state",
        true,
        "The state is the one the test login sent.",
    )];
    let mut claims: Option<Map<String, Value>> = None;
    run_steps(
        req,
        state,
        provider,
        transaction,
        settings,
        &mut steps,
        &mut claims,
    )
    .await?;
    let (preview, user) = match &claims {
        Some(claims) => {
            let preview = preview(state, provider, claims).await?;
            let ok = preview["login_error"].is_null();
            let detail = match (&preview["user"], &preview["login_error"]) {
                (_, Value::String(error)) => format!("A login would fail: {error}"),
                (Value::Object(user), _) => format!(
                    "A login would sign in the existing user {}.",
                    user.get("username").and_then(Value::as_str).unwrap_or("")
                ),
                _ => "A login would create a new user.".to_owned(),
            };
            steps.push(step("user", ok, detail));
            let user = preview["user"].clone();
            (preview, user)
        }
        None => (Value::Null, Value::Null),
    };
    let report = json!({
        "provider": provider.provider,
        "completed_at": settings.now().and_utc().to_rfc3339(),
        "checks": steps,
        "claims": claims.as_ref().map(|claims| redact(&Value::Object(claims.clone()))),
        "preview": preview,
        "user": user,
    });
    let outcome = if steps.iter().all(|step| step.status == "pass") {
        "passed"
    } else {
        "failed"
    };
    let text = report.to_string();
    let name = provider.provider.clone();
    let now = settings.now();
    blocking(state, move |store| {
        store.save_test_login_report(&name, &text, now, outcome)
    })
    .await?;
    let page = render(&report);
    Ok((
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ))
            .body(page),
        Outcome::Tested,
    ))
}

/// The login's steps up to the claims; each failure is a `fail` step and ends the run.
async fn run_steps(
    req: &HttpRequest,
    state: &AppState,
    provider: &Provider,
    transaction: &LoginTransaction,
    settings: &LoginSettings,
    steps: &mut Vec<Step>,
    claims: &mut Option<Map<String, Value>>,
) -> Result<(), Failure> {
    if let Some(error) = query_param(req, "error") {
        let description = query_param(req, "error_description").unwrap_or_default();
        steps.push(step(
            "provider",
            false,
            format!("The provider refused: {error} {description}")
                .trim()
                .to_owned(),
        ));
        return Ok(());
    }
    let Some(code) = query_param(req, "code").filter(|code| !code.trim().is_empty()) else {
        steps.push(step("code", false, "The callback has no code."));
        return Ok(());
    };
    steps.push(step("code", true, "The callback has a code."));
    let home = settings.homeport_url.as_deref();
    let origin = if provider.allowed_redirects.is_empty() && home.is_none() {
        Err(
            "No portal to return to: the provider has no allowed redirects and no portal URL \
             is configured."
                .to_owned(),
        )
    } else {
        choose_redirect_origin(
            &provider.allowed_redirects,
            home.unwrap_or_default(),
            None,
            None,
        )
        .map_err(|error| error.to_string())
    };
    steps.push(match origin {
        Ok(origin) => step("redirect", true, format!("A login returns to {origin}.")),
        Err(error) => step("redirect", false, error),
    });
    let pkce = provider.enable_pkce || transaction.pkce_verifier.is_some();
    let verifier = match pkce_verifier_for_exchange(pkce, transaction.pkce_verifier.as_deref()) {
        Ok(verifier) => verifier,
        Err(error) => {
            steps.push(step("pkce", false, error.to_string()));
            return Ok(());
        }
    };
    let rp = match relying_party(req, state, provider).await {
        Ok(rp) => rp,
        Err(failure) => {
            steps.push(step("configuration", false, failure.to_string()));
            return Ok(());
        }
    };
    steps.push(step(
        "configuration",
        true,
        "The relying party was set up from the discovered metadata.",
    ));
    let fail = |check: &'static str, error: RpError| step(check, false, rp_failure(&error).1);
    if let Err(error) = rp.check_callback_issuer(query_param(req, "iss").as_deref()) {
        steps.push(fail("issuer", error.into()));
        return Ok(());
    }
    steps.push(step(
        "issuer",
        true,
        "The callback's iss is the issuer (or absent and not promised).",
    ));
    let tokens = match rp
        .exchange_code(&code, &transaction.redirect_uri, verifier)
        .await
    {
        Ok(tokens) => tokens,
        Err(error) => {
            steps.push(fail("token", error.into()));
            return Ok(());
        }
    };
    steps.push(step("token", true, "The code was exchanged for tokens."));
    let id_token = match tokens.id_token() {
        Some(token) => match rp.verify_id_token(token, &transaction.nonce).await {
            Ok(verified) => {
                steps.push(step(
                    "id_token",
                    true,
                    format!(
                        "The ID token is valid (signed with {}).",
                        verified.algorithm()
                    ),
                ));
                Some(verified)
            }
            Err(error) => {
                steps.push(fail("id_token", error.into()));
                return Ok(());
            }
        },
        None => {
            steps.push(step(
                "id_token",
                true,
                "The token response has no ID token.",
            ));
            None
        }
    };
    let subject = id_token.as_ref().map(|token| token.subject());
    let userinfo = match rp.userinfo(tokens.access_token(), subject).await {
        Ok(userinfo) => {
            steps.push(step(
                "userinfo",
                true,
                match &userinfo {
                    Some(claims) => format!("Userinfo gave {} claims.", claims.len()),
                    None => "No userinfo endpoint: the ID token's claims alone.".to_owned(),
                },
            ));
            userinfo.unwrap_or_default()
        }
        Err(error) => {
            steps.push(fail("userinfo", error.into()));
            return Ok(());
        }
    };
    let id_claims = id_token
        .map(|token| token.into_claims())
        .unwrap_or_default();
    *claims = Some(merge_claims(id_claims, userinfo));
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The report as a page for people: the steps, the mapped fields, the user, the claims.
fn render(report: &Value) -> String {
    let text = |value: &Value| match value {
        Value::String(text) => escape(text),
        Value::Null => String::new(),
        other => escape(&other.to_string()),
    };
    let mut page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Test login: {0}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.2em .6em;text-align:left;\
         vertical-align:top}}.pass{{color:#060}}.fail{{color:#a00}}</style></head><body>\
         <h1>Test login: {0}</h1><p>No user was created or changed and no token was issued.</p>\
         <h2>Steps</h2><table>",
        text(&report["provider"])
    );
    for check in report["checks"].as_array().into_iter().flatten() {
        let status = text(&check["status"]);
        page.push_str(&format!(
            "<tr><td>{}</td><td class=\"{status}\">{status}</td><td>{}</td></tr>",
            text(&check["check"]),
            text(&check["detail"])
        ));
    }
    page.push_str("</table>");
    if let Some(fields) = report["preview"]["fields"].as_array() {
        page.push_str(
            "<h2>Mapped fields</h2><table><tr><th>field</th><th>claim</th><th>value</th></tr>",
        );
        for field in fields {
            page.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&field["field"]),
                text(&field["claim"]),
                text(&field["value"])
            ));
        }
        page.push_str("</table>");
    }
    if let Some(claims) = report["claims"].as_object() {
        page.push_str("<h2>Claims received (values redacted)</h2><table>");
        for (name, value) in claims {
            page.push_str(&format!(
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(name),
                text(value)
            ));
        }
        page.push_str("</table>");
    }
    page.push_str("</body></html>");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_first_and_last_characters_only() {
        assert_eq!(redact(&json!("ada@example.org")), json!("a…g"));
        assert_eq!(redact(&json!("abc")), json!("………"));
        assert_eq!(
            redact(&json!({"roles": ["staff", "user"], "n": 7, "b": true})),
            json!({"roles": ["s…f", "u…r"], "n": "…", "b": true})
        );
    }

    #[test]
    fn the_page_escapes_what_the_provider_sent() {
        let page = render(&json!({
            "provider": "p",
            "checks": [{"check": "provider", "status": "fail", "detail": "<script>x</script>"}],
            "claims": {"<b>": "\"q\""},
        }));
        assert!(!page.contains("<script>") && !page.contains("<b>"));
        assert!(page.contains("&lt;script&gt;"));
    }
}
