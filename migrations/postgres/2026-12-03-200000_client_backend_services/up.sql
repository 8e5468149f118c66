-- SMART Backend Services (docs/smart.md): a client's public keys may be
-- fetched from a URL (`jwks_uri`, instead of the `jwks` it was registered
-- with), and a backend client names the tenant in which its own roles
-- (`g, client:<client_id>, role, tenant`) narrow its `system/` scopes.
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
ALTER TABLE clients ADD COLUMN tenant TEXT;
