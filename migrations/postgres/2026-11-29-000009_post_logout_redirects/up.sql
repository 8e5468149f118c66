-- RP-Initiated Logout 1.0: where a client may send the browser after a logout (JSON list).
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
