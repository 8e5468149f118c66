-- Erasure by crypto-shredding (issue #14, docs/privacy.md).
-- A person's data key: 256 random bits sealed by the keyring (context
-- `user_data_key:<user id>`). The audit sealer encrypts the personal part of
-- each record about the person under it; erasure deletes the row.
CREATE TABLE user_data_keys (
    user_id    TEXT   PRIMARY KEY,
    key_sealed TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
-- One row per erased person: the sealer's marker (a record still pending
-- when its person was erased is chained in its erased form) and the
-- controller's record of the erasure. `user_id` is a random UUID that, once
-- the account and the key are gone, links to nobody.
CREATE TABLE erasures (
    user_id     TEXT   PRIMARY KEY,
    erased_at   BIGINT NOT NULL,
    erased_by   TEXT   NOT NULL,
    approved_by TEXT,
    reason      TEXT   NOT NULL
);
-- A legal hold blocks erasure until it is released (the row is deleted).
CREATE TABLE legal_holds (
    user_id   TEXT   PRIMARY KEY,
    reason    TEXT   NOT NULL,
    placed_by TEXT   NOT NULL,
    placed_at BIGINT NOT NULL
);
-- The sealer may now replace `details`, `ip` and `user_agent` of a record in
-- the one update that chains it (seq from NULL to a number): it seals them
-- under the person's data key before hashing. Nothing else changes, and a
-- chained record still never changes at all.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.seq IS NOT NULL
       OR (NEW.id, NEW.recorded_at, NEW.actor, NEW.subject_user, NEW.client_id,
           NEW.event_type, NEW.outcome, NEW.reason)
          IS DISTINCT FROM
          (OLD.id, OLD.recorded_at, OLD.actor, OLD.subject_user, OLD.client_id,
           OLD.event_type, OLD.outcome, OLD.reason)
       OR (NEW.seq IS NULL AND (NEW.ip, NEW.user_agent, NEW.details)
           IS DISTINCT FROM (OLD.ip, OLD.user_agent, OLD.details))
    THEN
        RAISE EXCEPTION 'audit_events is append-only';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
