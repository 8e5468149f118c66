ALTER TABLE clients DROP COLUMN sector_identifier_uri;
ALTER TABLE clients DROP COLUMN sector;
ALTER TABLE clients DROP COLUMN subject_type;
