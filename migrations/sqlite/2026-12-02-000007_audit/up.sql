-- Audit history of provider configurations (see docs/decisions.md, "Audit history"). An event is
-- written by the store in the same transaction as the change it describes; it outlives the
-- provider, so there is no foreign key. No trigger touches this table, and it has none of its
-- own: the snapshot's change numbers (the `snapshot` migration) count provider rows only.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    -- create, update, delete, refresh, reseal
    action VARCHAR(16) NOT NULL,
    provider VARCHAR(32) NOT NULL,
    -- A username, or "system" for work the server or the command line did on its own.
    actor VARCHAR(150) NOT NULL,
    -- The first 12 hexadecimal digits of the SHA-256 of the caller's token (api_tokens.key_hash).
    actor_token VARCHAR(16),
    request_id VARCHAR(64),
    -- JSON: [{"field": ..., "before": ..., "after": ...}], or {"field": "client_secret",
    -- "changed": true} for the secret, whose values are never kept here.
    changes TEXT NOT NULL
);
CREATE INDEX audit_events_provider_id ON audit_events (provider, id);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);

-- The last check of each provider's discovery document and keys (refresh). Goes with its
-- provider.
CREATE TABLE provider_checks (
    provider VARCHAR(32) PRIMARY KEY NOT NULL
        REFERENCES identity_providers (provider) ON DELETE CASCADE,
    checked_at TIMESTAMP NOT NULL,
    -- success or failure
    outcome VARCHAR(16) NOT NULL,
    last_error TEXT,
    last_success_at TIMESTAMP,
    -- JSON: the fields whose stored value differs from the document at the last check that
    -- could not apply them (empty once applied).
    drift TEXT NOT NULL DEFAULT '[]',
    -- JSON array of the key ids of the JWKS at the last good check.
    jwks_key_ids TEXT NOT NULL DEFAULT '[]',
    jwks_changed_at TIMESTAMP,
    -- How many times the key ids changed.
    key_rotations BIGINT NOT NULL DEFAULT 0
);
