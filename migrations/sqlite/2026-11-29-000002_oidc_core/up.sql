-- OpenID Connect core: clients' protocol settings, browser sessions, authorization
-- requests (including pushed ones), consents, codes, grants, refresh tokens and
-- revocations. Times are Unix milliseconds. Every secret is stored as a SHA-256 hash.

ALTER TABLE clients ADD COLUMN first_party BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN require_par BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN jwks TEXT;                       -- JSON Web Key Set for private_key_jwt
ALTER TABLE clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256';
ALTER TABLE clients ADD COLUMN access_token_seconds BIGINT;     -- NULL: the configured default

CREATE TABLE sessions (
    id_hash      TEXT   PRIMARY KEY NOT NULL,
    user_id      TEXT   NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    auth_time    BIGINT NOT NULL,
    acr          TEXT   NOT NULL,
    amr          TEXT   NOT NULL,                              -- JSON list (RFC 8176)
    ip           TEXT,
    user_agent   TEXT,
    ended_at     BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE auth_requests (
    id_hash      TEXT    PRIMARY KEY NOT NULL,
    client_id    TEXT    NOT NULL,
    params       TEXT    NOT NULL,                             -- validated request, JSON
    pushed       BOOLEAN NOT NULL,                             -- created by POST /par
    browser_hash TEXT,                                         -- binds an interaction to one browser
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    used_at      BIGINT
);

CREATE TABLE consents (
    user_id    TEXT   NOT NULL REFERENCES users (id),
    client_id  TEXT   NOT NULL,
    scopes     TEXT   NOT NULL,                                -- JSON list, sorted
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE grants (
    id           TEXT   PRIMARY KEY NOT NULL,
    client_id    TEXT   NOT NULL,
    user_id      TEXT   NOT NULL,
    scope        TEXT   NOT NULL,
    session_hash TEXT,
    auth_time    BIGINT NOT NULL,
    acr          TEXT   NOT NULL,
    amr          TEXT   NOT NULL,
    nonce        TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX grants_user ON grants (user_id);

CREATE TABLE authorization_codes (
    code_hash      TEXT   PRIMARY KEY NOT NULL,
    client_id      TEXT   NOT NULL,
    user_id        TEXT   NOT NULL,
    redirect_uri   TEXT   NOT NULL,
    scope          TEXT   NOT NULL,
    nonce          TEXT,
    code_challenge TEXT   NOT NULL,
    session_hash   TEXT,
    auth_time      BIGINT NOT NULL,
    acr            TEXT   NOT NULL,
    amr            TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    consumed_at    BIGINT,
    grant_id       TEXT                                        -- the grant its redemption created
);

CREATE TABLE refresh_tokens (
    token_hash TEXT   PRIMARY KEY NOT NULL,
    grant_id   TEXT   NOT NULL REFERENCES grants (id),
    created_at BIGINT NOT NULL,
    rotated_at BIGINT
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE revoked_tokens (
    jti        TEXT   PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE client_assertions (
    client_id  TEXT   NOT NULL,
    jti        TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
