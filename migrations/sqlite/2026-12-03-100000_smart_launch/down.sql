ALTER TABLE grants DROP COLUMN smart;
ALTER TABLE authorization_codes DROP COLUMN smart;
ALTER TABLE users DROP COLUMN fhir_user;
DROP INDEX smart_launches_expires_at;
DROP TABLE smart_launches;
DROP TABLE fhir_servers;
