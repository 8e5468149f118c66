-- Consent records (docs/privacy.md): each consent a person gives a client is
-- a versioned row: the scopes and claims, the purpose text the client had
-- registered, when and how it was given (`page` or `first_party`), the
-- consent policy version, and when and how it was withdrawn (`account`,
-- `cli`, `admin_api`). The live consent of a user for a client is its latest
-- version, unless that one is withdrawn; older versions are the history.
CREATE TABLE consent_records (
    id             TEXT   PRIMARY KEY NOT NULL,
    user_id        TEXT   NOT NULL REFERENCES users (id),
    client_id      TEXT   NOT NULL,
    version        BIGINT NOT NULL,
    scopes         TEXT   NOT NULL,                         -- JSON list, sorted
    claims         TEXT,                                    -- JSON list, sorted; NULL: recorded before claims were
    purpose        TEXT,                                    -- the client's purpose text when it was given
    given_at       BIGINT NOT NULL,
    given_by       TEXT   NOT NULL,                         -- page | first_party
    policy_version TEXT   NOT NULL,
    withdrawn_at   BIGINT,
    withdrawn_by   TEXT,                                    -- account | cli | admin_api
    UNIQUE (user_id, client_id, version)
);

-- What a client registered about its use of personal data: the purpose text
-- shown on the consent page, and the claims it may receive (a JSON list;
-- NULL: every claim of its scopes, as before).
ALTER TABLE clients ADD COLUMN purpose TEXT;
ALTER TABLE clients ADD COLUMN allowed_claims TEXT;

-- The remembered consents so far become the first version of each record.
-- `consents` stays for nodes of the previous release during a rolling
-- upgrade (withdrawal deletes its row too); a later release drops it.
INSERT INTO consent_records (id, user_id, client_id, version, scopes, claims, purpose,
                             given_at, given_by, policy_version)
SELECT md5(random()::text || clock_timestamp()::text || user_id || client_id),
       user_id, client_id, 1, scopes, NULL, NULL, granted_at, 'page', 'legacy'
FROM consents;
