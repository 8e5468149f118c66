DROP TABLE logout_outbox;
DROP TABLE session_clients;
ALTER TABLE clients DROP COLUMN backchannel_logout_uri;
