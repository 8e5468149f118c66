-- Codes issued without a challenge cannot be kept under NOT NULL; they live
-- seconds and their clients go back to requiring PKCE anyway.
DELETE FROM authorization_codes WHERE code_challenge IS NULL;
ALTER TABLE authorization_codes ALTER COLUMN code_challenge SET NOT NULL;
ALTER TABLE clients DROP COLUMN pkce;
