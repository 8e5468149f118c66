-- Ward foundation schema (PostgreSQL dialect). Times are Unix milliseconds (UTC).

CREATE TABLE users (
    id             TEXT    PRIMARY KEY,                   -- UUIDv4, immutable, never reused
    username       TEXT    NOT NULL UNIQUE,               -- stored lower-case
    email          TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    display_name   TEXT,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
CREATE INDEX users_email ON users (email);

CREATE TABLE password_credentials (
    user_id    TEXT   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT   NOT NULL,                           -- argon2id PHC string
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE clients (
    id            TEXT   PRIMARY KEY,                     -- the OAuth client_id
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
    kid                TEXT   PRIMARY KEY,                -- RFC 7638 JWK thumbprint
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
    id           BIGSERIAL PRIMARY KEY,
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
CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.seq IS NOT NULL
       OR (NEW.id, NEW.recorded_at, NEW.actor, NEW.subject_user, NEW.client_id, NEW.ip, NEW.user_agent,
           NEW.event_type, NEW.outcome, NEW.reason, NEW.details)
          IS DISTINCT FROM
          (OLD.id, OLD.recorded_at, OLD.actor, OLD.subject_user, OLD.client_id, OLD.ip, OLD.user_agent,
           OLD.event_type, OLD.outcome, OLD.reason, OLD.details)
    THEN
        RAISE EXCEPTION 'audit_events is append-only';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- Small key/value table: the master-key check value and the audit sealer's lock row.
CREATE TABLE ward_meta (
    key        TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO ward_meta (key, value, updated_at) VALUES ('audit_sealer', '', 0);
