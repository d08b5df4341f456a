DROP TABLE provider_checks;
DROP INDEX audit_events_occurred_at;
DROP INDEX audit_events_provider_id;
DROP TABLE audit_events;
