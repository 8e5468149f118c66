DROP TABLE ward_meta;
DROP TRIGGER audit_events_seal_once;
DROP TRIGGER audit_events_no_delete;
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE clients;
DROP TABLE password_credentials;
DROP TABLE users;
