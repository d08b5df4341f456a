-- The list's total is read on every list request; counting rows costs time in proportion to
-- the table, so the counts are kept up to date by a trigger and read in constant time.
CREATE TABLE identity_provider_counts (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    total BIGINT NOT NULL,
    active BIGINT NOT NULL
);
INSERT INTO identity_provider_counts (id, total, active)
SELECT 1, COUNT(*), COUNT(*) FILTER (WHERE is_active) FROM identity_providers;

CREATE FUNCTION identity_providers_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE identity_provider_counts
        SET total = total + 1, active = active + (CASE WHEN NEW.is_active THEN 1 ELSE 0 END)
        WHERE id = 1;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE identity_provider_counts
        SET total = total - 1, active = active - (CASE WHEN OLD.is_active THEN 1 ELSE 0 END)
        WHERE id = 1;
    ELSIF OLD.is_active IS DISTINCT FROM NEW.is_active THEN
        UPDATE identity_provider_counts
        SET active = active + (CASE WHEN NEW.is_active THEN 1 ELSE -1 END)
        WHERE id = 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER identity_providers_count
AFTER INSERT OR DELETE OR UPDATE OF is_active ON identity_providers
FOR EACH ROW EXECUTE FUNCTION identity_providers_count();
