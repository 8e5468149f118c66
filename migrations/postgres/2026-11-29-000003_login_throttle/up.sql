-- Failed sign-in attempts per account name and per client address (brute-force throttling).
CREATE TABLE login_throttle (
    key             TEXT   PRIMARY KEY,   -- "user:<normalised username>" or "ip:<address>"
    failures        BIGINT NOT NULL,               -- consecutive (account) or recent (address) failures
    last_failure_at BIGINT NOT NULL,
    blocked_until   BIGINT NOT NULL
);
