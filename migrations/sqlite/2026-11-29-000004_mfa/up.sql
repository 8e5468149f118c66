-- Multi-factor login: passkeys, WebAuthn ceremonies, TOTP, recovery codes, email
-- codes, sign-ins in progress and the devices a user has signed in from.
-- Times are Unix milliseconds; every secret is hashed or sealed by the keyring.

-- 'staff' accounts are created by administrators; 'patient' accounts sign up themselves.
ALTER TABLE users ADD COLUMN account_type TEXT NOT NULL DEFAULT 'staff'
    CHECK (account_type IN ('staff', 'patient'));

CREATE TABLE passkeys (
    credential_id   TEXT    PRIMARY KEY NOT NULL,  -- base64url, as the authenticator reports it
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    passkey         TEXT    NOT NULL,              -- webauthn-rs Passkey (public key, counter), JSON
    aaguid          TEXT    NOT NULL,              -- authenticator model, as it reports itself
    backup_eligible BOOLEAN NOT NULL,
    backup_state    BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- Server-side WebAuthn ceremony state: single use, short-lived.
CREATE TABLE webauthn_ceremonies (
    id_hash    TEXT   PRIMARY KEY NOT NULL,
    kind       TEXT   NOT NULL CHECK (kind IN ('register', 'authenticate', 'signup')),
    user_id    TEXT,
    state      TEXT   NOT NULL,                    -- webauthn-rs ceremony state, JSON
    context    TEXT   NOT NULL,                    -- what the ceremony is for, JSON
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE totp_credentials (
    user_id       TEXT   PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT   NOT NULL,
    confirmed_at  BIGINT,                          -- NULL while enrolment awaits its first code
    last_step     BIGINT NOT NULL DEFAULT 0,       -- highest time step accepted: replay guard
    created_at    BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- One outstanding emailed code per user and purpose; a new one replaces it.
CREATE TABLE email_codes (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT   NOT NULL CHECK (purpose IN ('sign_in', 'verify_email')),
    code_hash  TEXT   NOT NULL,
    email      TEXT   NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, purpose)
);

-- A sign-in between its first and second factor, named by a cookie.
CREATE TABLE login_progress (
    id_hash      TEXT   PRIMARY KEY NOT NULL,
    user_id      TEXT,                             -- NULL: an unknown account, kept indistinguishable
    state        TEXT   NOT NULL,                  -- JSON: the username typed and the factors proven so far
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

-- Browsers a user has signed in from (hash of the browser cookie), for new-device notices.
CREATE TABLE known_devices (
    user_id     TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_hash TEXT   NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);
