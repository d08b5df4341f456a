-- The latest admin test login of each provider: what every step of the login found, the claim
-- names with redacted values, the mapping preview and the user a login would sign in, as JSON,
-- sealed like client secrets (the preview holds claim values).
CREATE TABLE test_login_reports (
    provider TEXT PRIMARY KEY NOT NULL,
    report TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
