-- Sessions, risk and shared workstations (docs/sessions.md, docs/risk.md).
-- A session remembers its device, when each factor was proven, and whether it
-- runs on a shared workstation (which shortens its idle timeout).
ALTER TABLE sessions ADD COLUMN device_hash TEXT;
ALTER TABLE sessions ADD COLUMN factor_times TEXT;               -- JSON object: amr value -> Unix ms
ALTER TABLE sessions ADD COLUMN shared_workstation BOOLEAN NOT NULL DEFAULT FALSE;

-- Listing a user's sessions pages on (created_at, id_hash) descending; the
-- purge finds expired rows by expires_at. Both stay fast with millions of rows
-- (benches/sessions.rs).
DROP INDEX sessions_user;
CREATE INDEX sessions_user_created ON sessions (user_id, created_at DESC, id_hash DESC);
CREATE INDEX sessions_expires ON sessions (expires_at);
-- The timeout sweep looks for open sessions unused for a while or past their end.
CREATE INDEX sessions_open_last_seen ON sessions (last_seen_at) WHERE ended_at IS NULL;
CREATE INDEX sessions_open_expires ON sessions (expires_at) WHERE ended_at IS NULL;

-- Ending a session revokes its grants, and the purge finds expired grants:
-- without these both scan every grant (benches/sessions.rs measured 31 ms to
-- end one session among a million, 0.2 ms with the index).
CREATE INDEX grants_session ON grants (session_hash);
CREATE INDEX grants_expires ON grants (expires_at);

ALTER TABLE clients ADD COLUMN shared_workstation BOOLEAN NOT NULL DEFAULT FALSE;

-- The risk engine's memory: networks (IP prefixes) each user signed in from,
-- and where (GeoIP) and when the last sign-in happened.
CREATE TABLE known_networks (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prefix     TEXT   NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    PRIMARY KEY (user_id, prefix)
);

CREATE TABLE last_locations (
    user_id   TEXT   PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    latitude  REAL NOT NULL,
    longitude REAL NOT NULL,
    seen_at   BIGINT NOT NULL
);
