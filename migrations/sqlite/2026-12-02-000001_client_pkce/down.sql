-- Codes issued without a challenge cannot be kept under NOT NULL; they live
-- seconds and their clients go back to requiring PKCE anyway.
CREATE TABLE authorization_codes_old (
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
    grant_id       TEXT,                                       -- the grant its redemption created
    tenant         TEXT
);
INSERT INTO authorization_codes_old (code_hash, client_id, user_id, redirect_uri, scope, nonce,
    code_challenge, session_hash, auth_time, acr, amr, created_at, expires_at, consumed_at,
    grant_id, tenant)
SELECT code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge, session_hash,
    auth_time, acr, amr, created_at, expires_at, consumed_at, grant_id, tenant
FROM authorization_codes
WHERE code_challenge IS NOT NULL;
DROP TABLE authorization_codes;
ALTER TABLE authorization_codes_old RENAME TO authorization_codes;

ALTER TABLE clients DROP COLUMN pkce;
