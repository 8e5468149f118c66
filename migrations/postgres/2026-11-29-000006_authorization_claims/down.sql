ALTER TABLE clients DROP COLUMN authz_resources;
ALTER TABLE grants DROP COLUMN tenant;
ALTER TABLE authorization_codes DROP COLUMN tenant;
