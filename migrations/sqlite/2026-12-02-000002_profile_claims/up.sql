-- The standard profile claims (OpenID Connect Core 1.0 §5.1). NULL: not given.
ALTER TABLE users ADD COLUMN given_name TEXT;
ALTER TABLE users ADD COLUMN family_name TEXT;
ALTER TABLE users ADD COLUMN middle_name TEXT;
-- YYYY-MM-DD or YYYY (§5.1).
ALTER TABLE users ADD COLUMN birthdate TEXT;
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN zoneinfo TEXT;
ALTER TABLE users ADD COLUMN phone_number TEXT;
ALTER TABLE users ADD COLUMN phone_number_verified BOOLEAN NOT NULL DEFAULT 0;
-- The §5.1.1 address object, as JSON text.
ALTER TABLE users ADD COLUMN address TEXT;
-- The claims request (§5.5) of the authorization request, as JSON text, so the
-- ID token and userinfo honour it after the code exchange and every refresh.
ALTER TABLE authorization_codes ADD COLUMN claims TEXT;
ALTER TABLE grants ADD COLUMN claims TEXT;
