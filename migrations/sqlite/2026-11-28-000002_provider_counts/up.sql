-- The list's total is read on every list request; counting rows costs time in proportion to
-- the table, so the counts are kept up to date by triggers and read in constant time.
CREATE TABLE identity_provider_counts (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    total BIGINT NOT NULL,
    active BIGINT NOT NULL
);
INSERT INTO identity_provider_counts (id, total, active)
SELECT 1, COUNT(*), COALESCE(SUM(CASE WHEN is_active THEN 1 ELSE 0 END), 0) FROM identity_providers;

CREATE TRIGGER identity_providers_count_insert AFTER INSERT ON identity_providers
BEGIN
    UPDATE identity_provider_counts
    SET total = total + 1, active = active + (CASE WHEN NEW.is_active THEN 1 ELSE 0 END)
    WHERE id = 1;
END;

CREATE TRIGGER identity_providers_count_delete AFTER DELETE ON identity_providers
BEGIN
    UPDATE identity_provider_counts
    SET total = total - 1, active = active - (CASE WHEN OLD.is_active THEN 1 ELSE 0 END)
    WHERE id = 1;
END;

CREATE TRIGGER identity_providers_count_update AFTER UPDATE OF is_active ON identity_providers
WHEN OLD.is_active <> NEW.is_active
BEGIN
    UPDATE identity_provider_counts
    SET active = active + (CASE WHEN NEW.is_active THEN 1 ELSE -1 END)
    WHERE id = 1;
END;
