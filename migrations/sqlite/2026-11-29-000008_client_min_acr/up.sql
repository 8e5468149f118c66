-- Step-up: the weakest acr a client accepts (NULL: any).
ALTER TABLE clients ADD COLUMN min_acr TEXT;
