-- Break-glass emergency access (HIPAA 45 CFR 164.312(a)(2)(ii)): a bounded
-- elevation to a tenant's `emergency` role, with its reason, kept for review.
CREATE TABLE break_glass (
    id          TEXT   PRIMARY KEY NOT NULL,       -- UUIDv4
    user_id     TEXT   NOT NULL REFERENCES users (id),
    tenant      TEXT   NOT NULL,
    reason      TEXT   NOT NULL,
    started_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    reviewed_by TEXT,                              -- the auditor's user id
    reviewed_at BIGINT,
    review_note TEXT
);
CREATE INDEX break_glass_active ON break_glass (user_id, tenant, expires_at);
CREATE INDEX break_glass_review ON break_glass (reviewed_at, started_at);
