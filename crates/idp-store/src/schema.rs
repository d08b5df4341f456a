//! Table definitions, written to match `migrations/*`.

diesel::table! {
    identity_providers (id) {
        id -> BigInt,
        provider -> Text,
        is_active -> Bool,
        client_id -> Text,
        client_secret -> Text,
        verify_ssl -> Bool,
        enable_post_logout_redirect -> Bool,
        enable_pkce -> Bool,
        discovery_url -> Text,
        userinfo_url -> Text,
        token_url -> Text,
        auth_url -> Text,
        logout_url -> Text,
        label -> Text,
        management_url -> Text,
        protected_fields -> Text,
        extra_scope -> Nullable<Text>,
        user_field -> Text,
        user_claim -> Text,
        attribute_mapping -> Text,
        extra_fields -> Nullable<Text>,
        allowed_redirects -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        is_staff -> Bool,
        is_active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        key_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    identity_provider_counts (id) {
        id -> BigInt,
        total -> BigInt,
        active -> BigInt,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    identity_providers,
    users,
    api_tokens,
    identity_provider_counts
);
