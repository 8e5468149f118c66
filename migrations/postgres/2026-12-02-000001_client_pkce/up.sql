-- PKCE per client (docs/oidc.md): `required` (the default, and always for
-- public clients) or `optional` (a confidential OpenID Connect client that
-- protects its codes with `nonce` instead, RFC 9700 §2.1.1).
ALTER TABLE clients ADD COLUMN pkce TEXT NOT NULL DEFAULT 'required';

-- A code issued without a challenge has none (NULL). Only relaxes a constraint:
-- no rewrite of the table.
ALTER TABLE authorization_codes ALTER COLUMN code_challenge DROP NOT NULL;
