ALTER TABLE clients DROP COLUMN allowed_claims;
ALTER TABLE clients DROP COLUMN purpose;
DROP TABLE consent_records;
