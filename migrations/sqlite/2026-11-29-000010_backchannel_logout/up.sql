-- OpenID Connect Back-Channel Logout 1.0: where each client wants logout
-- tokens, which clients each session signed into, and a durable outbox of
-- notifications (retried with back-off, surviving restarts).
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;

CREATE TABLE session_clients (
    session_hash TEXT   NOT NULL,
    client_id    TEXT   NOT NULL,
    first_at     BIGINT NOT NULL,
    PRIMARY KEY (session_hash, client_id)
);

CREATE TABLE logout_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id       TEXT   NOT NULL,
    uri             TEXT   NOT NULL,
    sub             TEXT   NOT NULL,
    session_hash    TEXT   NOT NULL,   -- the logout token's sid is derived from it
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    delivered_at    BIGINT,
    given_up_at     BIGINT
);
CREATE INDEX logout_outbox_due ON logout_outbox (next_attempt_at) WHERE delivered_at IS NULL AND given_up_at IS NULL;
