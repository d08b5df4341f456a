//! Table definitions, matching `migrations/*`; the providers' columns follow the field definition
//! in idp-core (`idp_core::provider_fields!`).

/// Declares `identity_providers`: a column per provider field, typed by the field's kind (see
/// `columns.rs`), between the row's own id and its version and timestamps.
macro_rules! provider_table {
    (
        writable: [$({
            $(#[doc = $_doc:literal])* $name:ident: $_ty:ty { kind: $kind:ident, $($_keys:tt)* }
        })*]
        read_only: [$({
            $(#[doc = $_endpoint_doc:literal])* $endpoint:ident: $_endpoint_ty:ty {
                kind: $endpoint_kind:ident, $($_endpoint_keys:tt)*
            }
        })*]
        all: [$($_all:tt)*]
    ) => {
        diesel::table! {
            use diesel::sql_types::*;
            use crate::columns::sql;

            identity_providers (id) {
                id -> BigInt,
                $($name -> sql::$kind,)*
                $($endpoint -> sql::$endpoint_kind,)*
                version -> BigInt,
                created_at -> Timestamp,
                updated_at -> Timestamp,
                change_seq -> BigInt,
            }
        }
    };
}

idp_core::provider_fields!(provider_table);

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        is_staff -> Bool,
        is_active -> Bool,
        created_at -> Timestamp,
        // The login's profile (see `profiles.rs`).
        is_support -> Bool,
        registration_method -> Text,
        last_login -> Nullable<Timestamp>,
        first_name -> Text,
        last_name -> Text,
        identity_source -> Text,
        organization -> Text,
        email -> Text,
        phone_number -> Text,
        personal_title -> Text,
        place_of_birth -> Text,
        address -> Text,
        country_of_residence -> Text,
        nationality -> Text,
        organization_country -> Text,
        organization_type -> Text,
        organization_registry_code -> Text,
        organization_vat_code -> Text,
        organization_address -> Text,
        civil_number -> Nullable<Text>,
        birth_date -> Nullable<Text>,
        gender -> Nullable<Text>,
        affiliations -> Text,
        nationalities -> Text,
        eduperson_assurance -> Text,
        details -> Text,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        key_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        provider -> Nullable<Text>,
        id_token -> Nullable<Text>,
        // When it was last used, as recorded by the server (`Store::record_token_uses`).
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    identity_provider_counts (id) {
        id -> BigInt,
        total -> BigInt,
        active -> BigInt,
    }
}

diesel::table! {
    registry_state (id) {
        id -> BigInt,
        providers_version -> BigInt,
        auth_version -> BigInt,
        deletions_pruned_through -> BigInt,
    }
}

diesel::table! {
    provider_deletions (seq) {
        seq -> BigInt,
        provider -> Text,
        deleted_at -> Timestamp,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    identity_providers,
    users,
    api_tokens,
    identity_provider_counts,
    registry_state,
    provider_deletions
);

diesel::table! {
    login_transactions (id) {
        id -> BigInt,
        kind -> Text,
        provider -> Text,
        state_hash -> Text,
        binding_hash -> Text,
        nonce -> Text,
        pkce_verifier -> Nullable<Text>,
        return_url -> Nullable<Text>,
        referrer -> Nullable<Text>,
        redirect_uri -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    exchange_codes (id) {
        id -> BigInt,
        code_hash -> Text,
        user_id -> BigInt,
        provider -> Text,
        id_token -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    provider_login_metadata (provider) {
        provider -> Text,
        issuer -> Nullable<Text>,
        jwks_uri -> Nullable<Text>,
        id_token_signing_algs -> Text,
        token_endpoint_auth_methods -> Nullable<Text>,
        iss_parameter_supported -> Bool,
        fetched_at -> Timestamp,
    }
}

diesel::table! {
    test_login_reports (provider) {
        provider -> Text,
        report -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(exchange_codes -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(exchange_codes, users);

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        action -> Text,
        provider -> Text,
        actor -> Text,
        actor_token -> Nullable<Text>,
        request_id -> Nullable<Text>,
        changes -> Text,
    }
}

diesel::table! {
    provider_checks (provider) {
        provider -> Text,
        checked_at -> Timestamp,
        outcome -> Text,
        last_error -> Nullable<Text>,
        last_success_at -> Nullable<Timestamp>,
        drift -> Text,
        jwks_key_ids -> Text,
        jwks_changed_at -> Nullable<Timestamp>,
        key_rotations -> BigInt,
    }
}
