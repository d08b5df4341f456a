CREATE TABLE identity_providers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    provider VARCHAR(32) NOT NULL UNIQUE,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    client_id VARCHAR(200) NOT NULL,
    -- Sealed with AES-256-GCM: "v1:<key id>:<base64 nonce+ciphertext>", never plaintext.
    client_secret TEXT NOT NULL,
    verify_ssl BOOLEAN NOT NULL DEFAULT 1,
    enable_post_logout_redirect BOOLEAN NOT NULL DEFAULT 1,
    enable_pkce BOOLEAN NOT NULL DEFAULT 0,
    discovery_url VARCHAR(200) NOT NULL,
    userinfo_url TEXT NOT NULL,
    token_url TEXT NOT NULL,
    auth_url TEXT NOT NULL,
    logout_url TEXT NOT NULL DEFAULT '',
    label VARCHAR(200) NOT NULL,
    management_url VARCHAR(200) NOT NULL DEFAULT '',
    protected_fields TEXT NOT NULL DEFAULT '[]',
    extra_scope VARCHAR(200),
    user_field VARCHAR(100) NOT NULL DEFAULT 'username',
    user_claim VARCHAR(100) NOT NULL DEFAULT 'sub',
    attribute_mapping TEXT NOT NULL DEFAULT '{}',
    extra_fields VARCHAR(200),
    allowed_redirects TEXT NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Lists are ordered by label, then insertion: staff lists walk (label, id); the public list
-- filters on is_active with a bound parameter, which a partial index cannot serve, so it walks
-- (is_active, label, id).
CREATE INDEX identity_providers_label_id ON identity_providers (label, id);
CREATE INDEX identity_providers_active_label_id ON identity_providers (is_active, label, id);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username VARCHAR(150) NOT NULL UNIQUE,
    is_staff BOOLEAN NOT NULL DEFAULT 0,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the key, hex; the key itself is shown once and never stored.
    key_hash CHAR(64) NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);
