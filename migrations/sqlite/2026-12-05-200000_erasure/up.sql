-- Erasure by crypto-shredding (issue #14, docs/privacy.md).
-- A person's data key: 256 random bits sealed by the keyring (context
-- `user_data_key:<user id>`). The audit sealer encrypts the personal part of
-- each record about the person under it; erasure deletes the row.
CREATE TABLE user_data_keys (
    user_id    TEXT   PRIMARY KEY NOT NULL,
    key_sealed TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
-- One row per erased person: the sealer's marker (a record still pending
-- when its person was erased is chained in its erased form) and the
-- controller's record of the erasure. `user_id` is a random UUID that, once
-- the account and the key are gone, links to nobody.
CREATE TABLE erasures (
    user_id     TEXT   PRIMARY KEY NOT NULL,
    erased_at   BIGINT NOT NULL,
    erased_by   TEXT   NOT NULL,
    approved_by TEXT,
    reason      TEXT   NOT NULL
);
-- A legal hold blocks erasure until it is released (the row is deleted).
CREATE TABLE legal_holds (
    user_id   TEXT   PRIMARY KEY NOT NULL,
    reason    TEXT   NOT NULL,
    placed_by TEXT   NOT NULL,
    placed_at BIGINT NOT NULL
);
-- The sealer may now replace `details`, `ip` and `user_agent` of a record in
-- the one update that chains it (seq from NULL to a number): it seals them
-- under the person's data key before hashing. Nothing else changes, and a
-- chained record still never changes at all.
DROP TRIGGER audit_events_seal_once;
CREATE TRIGGER audit_events_seal_once BEFORE UPDATE ON audit_events
WHEN OLD.seq IS NOT NULL
  OR NEW.id IS NOT OLD.id OR NEW.recorded_at IS NOT OLD.recorded_at OR NEW.actor IS NOT OLD.actor
  OR NEW.subject_user IS NOT OLD.subject_user OR NEW.client_id IS NOT OLD.client_id
  OR NEW.event_type IS NOT OLD.event_type OR NEW.outcome IS NOT OLD.outcome
  OR NEW.reason IS NOT OLD.reason
  OR (NEW.seq IS NULL AND (NEW.ip IS NOT OLD.ip OR NEW.user_agent IS NOT OLD.user_agent
                           OR NEW.details IS NOT OLD.details))
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
