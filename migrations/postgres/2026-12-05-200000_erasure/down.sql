CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
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
DROP TABLE legal_holds;
DROP TABLE erasures;
DROP TABLE user_data_keys;
