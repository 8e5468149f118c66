-- PKCE per client (docs/oidc.md): `required` (the default, and always for
-- public clients) or `optional` (a confidential OpenID Connect client that
-- protects its codes with `nonce` instead, RFC 9700 §2.1.1).
ALTER TABLE clients ADD COLUMN pkce TEXT NOT NULL DEFAULT 'required';

-- A code issued without a challenge has none (NULL). SQLite cannot drop a NOT
-- NULL constraint, so the table is rebuilt: it is small (codes live seconds and
-- are purged an hour after expiry), has no indexes of its own and no foreign
-- keys point at it.
CREATE TABLE authorization_codes_new (
    code_hash      TEXT   PRIMARY KEY NOT NULL,
    client_id      TEXT   NOT NULL,
    user_id        TEXT   NOT NULL,
    redirect_uri   TEXT   NOT NULL,
    scope          TEXT   NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,                                       -- NULL: issued without PKCE
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
INSERT INTO authorization_codes_new (code_hash, client_id, user_id, redirect_uri, scope, nonce,
    code_challenge, session_hash, auth_time, acr, amr, created_at, expires_at, consumed_at,
    grant_id, tenant)
SELECT code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge, session_hash,
    auth_time, acr, amr, created_at, expires_at, consumed_at, grant_id, tenant
FROM authorization_codes;
DROP TABLE authorization_codes;
ALTER TABLE authorization_codes_new RENAME TO authorization_codes;
