//! The pure logic of logging people in with a stored provider configuration.
//!
//! Everything here is computation over values the caller passes in: claims, the provider,
//! what the store found, random values and URLs. Nothing reads a clock, draws a random
//! number or does I/O, so an embedding service decides those, and tests need no fakes.
//!
//! A login runs these steps (the reference's flow; `docs/decisions.md`, "Logging people in"):
//!
//! * init: [`authorization_url`] with fresh `state`, `nonce` and PKCE verifier;
//! * complete: [`check_state`], [`pkce_verifier_for_exchange`], then
//!   [`choose_redirect_origin`] before any user is touched; the claims of the verified ID
//!   token and userinfo ([`merge_claims`]) go through [`map_claims`], whose [`MappingTrace`]
//!   is also what the admin's mapping preview shows; [`email_match_query`] and
//!   [`choose_user`] pick the user and [`apply_login`] computes its new state; the browser
//!   goes to [`login_completed_url`] (or [`login_failed_url`]);
//! * logout: [`logout_url`].
//!
//! Failures are [`LoginError`]s, worded as the reference words them.

mod apply;
mod authorize;
mod claims;
mod coerce;
mod errors;
mod identity;
mod preview;
mod profile;
mod redirect;
mod trace;

pub use apply::{
    AppliedLogin, Change, EmailMatches, LoginTarget, UserChoice, apply_login, choose_user,
    email_match_query,
};
pub use authorize::{
    AuthorizationParams, append_query, authorization_url, check_state, logout_url, pkce_challenge,
    pkce_verifier_for_exchange, scope,
};
pub use claims::{
    ClaimPath, ClaimPathError, claim_names, is_truthy, merge_claims, parse_claim_list,
};
pub use coerce::{Skip, SkipReason, coerce_value, parse_schac_personal_unique_id};
pub use errors::{
    IDENTITY_FIELD_MISSING, INVALID_RETURN_URL, INVALID_STATE, INVALID_URL_SCHEME, LoginError,
    MISSING_DOMAIN, MULTIPLE_USERS_WITH_EMAIL, MULTIPLE_USERS_WITH_IDENTITY,
    PKCE_VERIFICATION_FAILED, USER_DEACTIVATED,
};
pub use identity::{
    ClaimSkip, LookupError, LookupTrace, RolesOutcome, RolesTrace, email_verified, is_lookup_field,
};
pub use preview::{DraftPreview, MAX_CLAIM_DEPTH, parse_draft_preview, parse_preview};
pub use profile::{
    CORE_SYNC_FIELDS, FieldKind, FieldValue, GENDER_CHOICES, PROFILE_FIELDS, ProfileField,
    ProfileFields, UserProfile, parse_date, profile_field, registration_method,
};
pub use redirect::{
    choose_redirect_origin, default_init_fallback_url, homeport_login_url, login_completed_url,
    login_failed_url,
};
pub use trace::{
    DetailsTrace, FieldTrace, MappingConfig, MappingOptions, MappingTrace, SyncFields, claims_read,
    map_claims,
};
