DROP TRIGGER audit_events_seal_once;
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
DROP TABLE legal_holds;
DROP TABLE erasures;
DROP TABLE user_data_keys;
