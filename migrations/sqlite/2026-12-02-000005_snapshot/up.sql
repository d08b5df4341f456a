-- Each instance serves reads from a snapshot in memory and reloads only what changed (see
-- docs/decisions.md, "Reads from memory"). Every write to a provider takes the next number of one
-- counter and marks the row with it; a deletion is logged under its number. SQLite has one
-- writer at a time, so numbers are committed in the order they were taken: a process that has
-- applied number N reads the rows marked above N and the deletions logged above N.
CREATE TABLE registry_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- The number of the last write to a provider.
    providers_version BIGINT NOT NULL,
    -- Bumped whenever a token may have stopped working or a user changed.
    auth_version BIGINT NOT NULL,
    -- Deletion log entries up to this number were pruned.
    deletions_pruned_through BIGINT NOT NULL
);
INSERT INTO registry_state (id, providers_version, auth_version, deletions_pruned_through)
VALUES (1, 1, 1, 0);

ALTER TABLE identity_providers ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 1;
CREATE INDEX identity_providers_change_seq ON identity_providers (change_seq, id);

CREATE TABLE provider_deletions (
    seq BIGINT PRIMARY KEY,
    provider VARCHAR(32) NOT NULL,
    deleted_at TIMESTAMP NOT NULL
);

-- Triggers rather than store code, so that no write path can change a row without the
-- snapshots hearing of it. The row is marked by a second update, which fires no trigger
-- (recursive triggers are off, and the WHEN clause stops it if they were on).
CREATE TRIGGER identity_providers_change_insert AFTER INSERT ON identity_providers
BEGIN
    UPDATE registry_state SET providers_version = providers_version + 1 WHERE id = 1;
    UPDATE identity_providers
    SET change_seq = (SELECT providers_version FROM registry_state WHERE id = 1)
    WHERE id = NEW.id;
END;

CREATE TRIGGER identity_providers_change_update AFTER UPDATE ON identity_providers
WHEN NEW.change_seq = OLD.change_seq
BEGIN
    UPDATE registry_state SET providers_version = providers_version + 1 WHERE id = 1;
    UPDATE identity_providers
    SET change_seq = (SELECT providers_version FROM registry_state WHERE id = 1)
    WHERE id = NEW.id;
END;

CREATE TRIGGER identity_providers_change_delete AFTER DELETE ON identity_providers
BEGIN
    UPDATE registry_state SET providers_version = providers_version + 1 WHERE id = 1;
    INSERT INTO provider_deletions (seq, provider, deleted_at)
    SELECT providers_version, OLD.provider, datetime('now') FROM registry_state WHERE id = 1;
    -- A week of deletions is kept; a process further behind reloads everything.
    UPDATE registry_state
    SET deletions_pruned_through = MAX(deletions_pruned_through, COALESCE(
        (SELECT MAX(seq) FROM provider_deletions WHERE deleted_at < datetime('now', '-7 days')),
        0))
    WHERE id = 1;
    DELETE FROM provider_deletions WHERE deleted_at < datetime('now', '-7 days');
END;

-- A token stops working when its row is deleted or its key, owner or expiry changes.
CREATE TRIGGER api_tokens_auth_change_delete AFTER DELETE ON api_tokens
BEGIN
    UPDATE registry_state SET auth_version = auth_version + 1 WHERE id = 1;
END;

CREATE TRIGGER api_tokens_auth_change_update
AFTER UPDATE OF key_hash, user_id, expires_at ON api_tokens
BEGIN
    UPDATE registry_state SET auth_version = auth_version + 1 WHERE id = 1;
END;

CREATE TRIGGER users_auth_change_delete AFTER DELETE ON users
BEGIN
    UPDATE registry_state SET auth_version = auth_version + 1 WHERE id = 1;
END;

CREATE TRIGGER users_auth_change_update AFTER UPDATE OF username, is_staff, is_active ON users
BEGIN
    UPDATE registry_state SET auth_version = auth_version + 1 WHERE id = 1;
END;
