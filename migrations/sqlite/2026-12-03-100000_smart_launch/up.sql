-- SMART App Launch 2.2.0 (issue #13, docs/smart.md).
-- FHIR servers Ward issues tokens for: the `aud` of a SMART authorization
-- request must equal one base URL exactly. Each belongs to one tenant.
CREATE TABLE fhir_servers (
    id TEXT PRIMARY KEY NOT NULL,
    base_url TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- EHR launches (POST /smart/launch): only the SHA-256 of the opaque value is
-- kept; single use (used_at), bound to a tenant, the app and the EHR's user.
CREATE TABLE smart_launches (
    launch_hash TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    client_id TEXT NOT NULL,
    ehr_client_id TEXT NOT NULL,
    user_id TEXT,
    context TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX smart_launches_expires_at ON smart_launches (expires_at);
-- The user's FHIR resource (`Patient/123`, `Practitioner/9`): fhirUser, and
-- the patient of a standalone launch/patient.
ALTER TABLE users ADD COLUMN fhir_user TEXT;
-- The launch context (aud, patient, encounter, fhirContext, ...) as JSON text,
-- carried from the code to the grant so that it survives refresh.
ALTER TABLE authorization_codes ADD COLUMN smart TEXT;
ALTER TABLE grants ADD COLUMN smart TEXT;
