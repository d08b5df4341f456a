-- Each instance serves reads from a snapshot in memory and reloads only what changed (see
-- docs/decisions.md, "Reads from memory"). Every write to a provider takes the next number of one
-- counter and marks the row with it; a deletion is logged under its number. The counter's row
-- stays locked until the writing transaction ends, so numbers are visible in the order they were
-- taken: an instance that has applied number N reads the rows marked above N and the deletions
-- logged above N, and has everything.
CREATE TABLE registry_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    -- The number of the last write to a provider.
    providers_version BIGINT NOT NULL,
    -- Bumped whenever a token may have stopped working (deleted, changed) or a user changed
    -- (deactivated, deleted, staff flag): instances drop their cached token checks.
    auth_version BIGINT NOT NULL,
    -- Deletion log entries up to this number were pruned: an instance that has applied less
    -- reloads everything.
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

-- Triggers rather than store code, so that no write path (an import, a key rotation, a tool of
-- its own) can change a row without the snapshots hearing of it. The notification is sent in the
-- writing transaction, so it is delivered at commit, or never.
CREATE FUNCTION identity_providers_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    seq BIGINT;
BEGIN
    UPDATE registry_state SET providers_version = providers_version + 1 WHERE id = 1
    RETURNING providers_version INTO seq;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO provider_deletions (seq, provider, deleted_at)
        VALUES (seq, OLD.provider, now() AT TIME ZONE 'UTC');
        -- A week of deletions is kept; an instance further behind reloads everything.
        WITH pruned AS (
            DELETE FROM provider_deletions
            WHERE deleted_at < (now() AT TIME ZONE 'UTC') - INTERVAL '7 days'
            RETURNING provider_deletions.seq
        )
        UPDATE registry_state
        SET deletions_pruned_through = GREATEST(
            deletions_pruned_through, COALESCE((SELECT max(pruned.seq) FROM pruned), 0))
        WHERE id = 1;
        PERFORM pg_notify('idp_registry', 'providers ' || seq);
        RETURN OLD;
    END IF;
    NEW.change_seq := seq;
    PERFORM pg_notify('idp_registry', 'providers ' || seq);
    RETURN NEW;
END;
$$;

CREATE TRIGGER identity_providers_change_write
BEFORE INSERT OR UPDATE ON identity_providers
FOR EACH ROW EXECUTE FUNCTION identity_providers_change();

CREATE TRIGGER identity_providers_change_delete
AFTER DELETE ON identity_providers
FOR EACH ROW EXECUTE FUNCTION identity_providers_change();

CREATE FUNCTION registry_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    version BIGINT;
BEGIN
    UPDATE registry_state SET auth_version = auth_version + 1 WHERE id = 1
    RETURNING auth_version INTO version;
    PERFORM pg_notify('idp_registry', 'auth ' || version);
    RETURN NULL;
END;
$$;

-- A token stops working when its row is deleted or its key, owner or expiry changes; columns
-- added later for bookkeeping (such as when it was last used) do not bump the version.
CREATE TRIGGER api_tokens_auth_change_delete
AFTER DELETE ON api_tokens
FOR EACH ROW EXECUTE FUNCTION registry_auth_change();

CREATE TRIGGER api_tokens_auth_change_update
AFTER UPDATE OF key_hash, user_id, expires_at ON api_tokens
FOR EACH ROW EXECUTE FUNCTION registry_auth_change();

CREATE TRIGGER users_auth_change_delete
AFTER DELETE ON users
FOR EACH ROW EXECUTE FUNCTION registry_auth_change();

CREATE TRIGGER users_auth_change_update
AFTER UPDATE OF username, is_staff, is_active ON users
FOR EACH ROW EXECUTE FUNCTION registry_auth_change();
