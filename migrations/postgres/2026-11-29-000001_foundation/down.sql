DROP TABLE ward_meta;
DROP TRIGGER audit_events_append_only ON audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE clients;
DROP TABLE password_credentials;
DROP TABLE users;
