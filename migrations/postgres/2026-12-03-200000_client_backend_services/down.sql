ALTER TABLE clients DROP COLUMN tenant;
ALTER TABLE clients DROP COLUMN jwks_uri;
