-- Roles and permissions in tokens: the tenant a code and its grant were issued
-- for, and the permission resources each client may see.
ALTER TABLE authorization_codes ADD COLUMN tenant TEXT;
ALTER TABLE grants ADD COLUMN tenant TEXT;
ALTER TABLE clients ADD COLUMN authz_resources TEXT NOT NULL DEFAULT '[]';  -- JSON list, e.g. ["ehr"]
