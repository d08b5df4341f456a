DROP TRIGGER identity_providers_count ON identity_providers;
DROP FUNCTION identity_providers_count();
DROP TABLE identity_provider_counts;
