-- Authorization: the Casbin policy (RBAC with domains) lives here, not in files,
-- so that every node reads the same rules. Seeded from policies/policy.csv on
-- first start; changed with `ward policy import|grant|revoke`.

-- One row per Casbin rule: 'p' = (role, tenant, object, action),
-- 'g' = (user id or role, role, tenant, '').
CREATE TABLE policy_rules (
    id    BIGSERIAL PRIMARY KEY,
    ptype TEXT      NOT NULL CHECK (ptype IN ('p', 'g')),
    v0    TEXT      NOT NULL,
    v1    TEXT      NOT NULL,
    v2    TEXT      NOT NULL,
    v3    TEXT      NOT NULL DEFAULT '',
    UNIQUE (ptype, v0, v1, v2, v3)
);

-- Bumped in the same transaction as every change to policy_rules: nodes poll it
-- (one indexed row) and reload the rules only when it moved. 0 = never seeded.
-- Its row lock also serialises concurrent changes made on different nodes.
CREATE TABLE policy_version (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
INSERT INTO policy_version (id, version, updated_at) VALUES (1, 0, 0);
