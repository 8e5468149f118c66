-- Ward foundation schema (SQLite dialect). Times are Unix milliseconds (UTC).

CREATE TABLE users (
    id             TEXT    PRIMARY KEY NOT NULL,          -- UUIDv4, immutable, never reused
    username       TEXT    NOT NULL UNIQUE,               -- stored lower-case
    email          TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT 0,
    display_name   TEXT,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
CREATE INDEX users_email ON users (email);

CREATE TABLE password_credentials (
    user_id    TEXT   PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT   NOT NULL,                           -- argon2id PHC string
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE clients (
    id            TEXT   PRIMARY KEY NOT NULL,            -- the OAuth client_id
    name          TEXT   NOT NULL,
    client_type   TEXT   NOT NULL CHECK (client_type IN ('confidential', 'public')),
    secret_hash   TEXT,                                   -- SHA-256 hex; NULL for public clients
    redirect_uris TEXT   NOT NULL,                        -- JSON array of strings
    grant_types   TEXT   NOT NULL,                        -- JSON array of strings
    scopes        TEXT   NOT NULL,                        -- JSON array of strings
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid                TEXT   PRIMARY KEY NOT NULL,       -- RFC 7638 JWK thumbprint
    alg                TEXT   NOT NULL CHECK (alg IN ('ES256', 'RS256')),
    state              TEXT   NOT NULL CHECK (state IN ('active', 'retired')),
    private_key_sealed TEXT   NOT NULL,                   -- PKCS#8 DER sealed by the keyring
    public_jwk         TEXT   NOT NULL,
    created_at         BIGINT NOT NULL,
    retired_at         BIGINT,
    publish_until      BIGINT                             -- retired keys stay in the JWKS until then
);
CREATE UNIQUE INDEX signing_keys_one_active_per_alg ON signing_keys (alg) WHERE state = 'active';

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at  BIGINT NOT NULL,
    actor        TEXT   NOT NULL,
    subject_user TEXT,
    client_id    TEXT,
    ip           TEXT,
    user_agent   TEXT,
    event_type   TEXT   NOT NULL,
    outcome      TEXT   NOT NULL CHECK (outcome IN ('success', 'failure')),
    reason       TEXT,
    details      TEXT   NOT NULL,                         -- canonical JSON object
    seq          BIGINT UNIQUE,                           -- position in the chain; NULL until sealed
    prev_hash    TEXT,
    hash         TEXT
);
CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE seq IS NULL;

-- Append-only: content never changes; the chain columns are written once by the sealer.
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_seal_once BEFORE UPDATE ON audit_events
WHEN OLD.seq IS NOT NULL
  OR NEW.id IS NOT OLD.id OR NEW.recorded_at IS NOT OLD.recorded_at OR NEW.actor IS NOT OLD.actor
  OR NEW.subject_user IS NOT OLD.subject_user OR NEW.client_id IS NOT OLD.client_id
  OR NEW.ip IS NOT OLD.ip OR NEW.user_agent IS NOT OLD.user_agent
  OR NEW.event_type IS NOT OLD.event_type OR NEW.outcome IS NOT OLD.outcome
  OR NEW.reason IS NOT OLD.reason OR NEW.details IS NOT OLD.details
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

-- Small key/value table: the master-key check value and the audit sealer's lock row.
CREATE TABLE ward_meta (
    key        TEXT   PRIMARY KEY NOT NULL,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO ward_meta (key, value, updated_at) VALUES ('audit_sealer', '', 0);
