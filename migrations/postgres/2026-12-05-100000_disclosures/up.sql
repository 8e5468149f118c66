-- The accounting of disclosures (docs/privacy.md; HIPAA 45 CFR 164.528):
-- one row each time Ward hands a client personal data about a person (a
-- token response, a userinfo answer, an introspection answer). Names of
-- claims and scopes only, never values. Kept apart from the audit trail so
-- that it is cheap at token-issuance rates and purged after
-- `[privacy] disclosure_retention_days` (default six years).
CREATE TABLE disclosures (
    id           TEXT   PRIMARY KEY NOT NULL,     -- 12 hex digits of disclosed_at, then 20 random
    disclosed_at BIGINT NOT NULL,
    user_id      TEXT   NOT NULL,
    client_id    TEXT   NOT NULL,                 -- who received it (the introspecting client)
    sub          TEXT   NOT NULL,                 -- the sub that client saw (pairwise-aware)
    kind         TEXT   NOT NULL,                 -- id_token | access_token | userinfo | introspection
    claims       TEXT   NOT NULL,                 -- JSON list of claim names, sorted
    scopes       TEXT   NOT NULL,                 -- JSON list
    consent_id   TEXT,                            -- consent_records.id in force, if any
    tenant       TEXT
);
-- A person's accounting, newest first. The retention purge finds old rows
-- by the primary key (ids are time-ordered): one index fewer to write.
CREATE INDEX disclosures_user ON disclosures (user_id, disclosed_at);
