-- Pairwise subject identifiers (OpenID Connect Core 1.0 §8.1, docs/privacy.md):
-- a client's subject type, its sector (the host its pairwise `sub` values are
-- derived for) and the sector_identifier_uri it was checked against. The key
-- of the keyed hash is a sealed value in ward_meta (`pairwise_key`), made at
-- start-up.
ALTER TABLE clients ADD COLUMN subject_type TEXT NOT NULL DEFAULT 'public';
ALTER TABLE clients ADD COLUMN sector TEXT;
ALTER TABLE clients ADD COLUMN sector_identifier_uri TEXT;
