-- Logging people in: the user profile a login fills, the login transactions that carry a login
-- from init to complete, one-time exchange codes, the login's provider and ID token on the API
-- token it produced, and each provider's discovered login metadata.

-- The 22 writable profile fields as columns, so a login can look users up by any single-value
-- field; list fields and the extra claims (details) are JSON text.
ALTER TABLE users ADD COLUMN is_support BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN registration_method TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_login TIMESTAMP;
ALTER TABLE users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN identity_source TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN organization TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone_number TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN personal_title TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN place_of_birth TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN country_of_residence TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN nationality TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN organization_country TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN organization_type TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN organization_registry_code TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN organization_vat_code TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN organization_address TEXT NOT NULL DEFAULT '';
-- NULL when unset, as in the reference's model.
ALTER TABLE users ADD COLUMN civil_number TEXT;
ALTER TABLE users ADD COLUMN birth_date TEXT;
ALTER TABLE users ADD COLUMN gender TEXT;
ALTER TABLE users ADD COLUMN affiliations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN nationalities TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN eduperson_assurance TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
-- Email match-making counts users by email, case-insensitively.
CREATE INDEX users_email_lower ON users (lower(email));
CREATE INDEX users_civil_number ON users (civil_number);

-- A token made by a login remembers its provider and the login's ID token (sealed like client
-- secrets), for the RP-initiated logout.
ALTER TABLE api_tokens ADD COLUMN provider TEXT;
ALTER TABLE api_tokens ADD COLUMN id_token TEXT;

-- One login between init and complete. The state and the browser binding are SHA-256 hashes;
-- the nonce and the PKCE verifier are sealed. kind is 'login' (an admin test login will reuse
-- transactions).
CREATE TABLE login_transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    state_hash CHAR(64) NOT NULL UNIQUE,
    binding_hash CHAR(64) NOT NULL UNIQUE,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT,
    return_url TEXT,
    referrer TEXT,
    redirect_uri TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX login_transactions_expires_at ON login_transactions (expires_at);

-- One-time codes a completed login hands the portal, stored as SHA-256 hashes.
CREATE TABLE exchange_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    code_hash CHAR(64) NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    id_token TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX exchange_codes_expires_at ON exchange_codes (expires_at);

-- What a login needs from the provider's discovery document and the stored row does not hold.
CREATE TABLE provider_login_metadata (
    provider VARCHAR(32) PRIMARY KEY NOT NULL
        REFERENCES identity_providers (provider) ON DELETE CASCADE,
    issuer TEXT,
    jwks_uri TEXT,
    id_token_signing_algs TEXT NOT NULL DEFAULT '[]',
    token_endpoint_auth_methods TEXT,
    iss_parameter_supported BOOLEAN NOT NULL DEFAULT 0,
    fetched_at TIMESTAMP NOT NULL
);
