-- Dual control (issue #15): a change that one administrator may not make
-- alone (granting `ward-admin` in the `ward` tenant) waits here until a
-- second administrator approves or either rejects it. `details` is JSON text
-- (for `role.grant`: the role and tenant). A row is decided once.
CREATE TABLE approvals (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    decision TEXT
);
CREATE INDEX approvals_requested_at ON approvals (requested_at);
