DROP TABLE known_devices;
DROP TABLE login_progress;
DROP TABLE email_codes;
DROP TABLE recovery_codes;
DROP TABLE totp_credentials;
DROP TABLE webauthn_ceremonies;
DROP TABLE passkeys;
ALTER TABLE users DROP COLUMN account_type;
