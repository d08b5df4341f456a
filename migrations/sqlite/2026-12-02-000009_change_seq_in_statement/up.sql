-- A write that sets the row's change number itself (the store's updates set it to the counter
-- plus one, in the same statement) moves the counter to it, instead of the row being marked by a
-- second update of the whole row: half the work of an update on SQLite. A write that leaves the
-- number as it was is still marked by `identity_providers_change_update`, so no write path can
-- change a row without the snapshots hearing of it.
CREATE TRIGGER identity_providers_change_set AFTER UPDATE ON identity_providers
WHEN NEW.change_seq <> OLD.change_seq
BEGIN
    UPDATE registry_state SET providers_version = MAX(providers_version, NEW.change_seq)
    WHERE id = 1;
END;
