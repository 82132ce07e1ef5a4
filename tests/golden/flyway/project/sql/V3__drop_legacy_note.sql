-- Applied in every environment long ago; Flyway has no lint, so this file carries no directive.
ALTER TABLE customers DROP COLUMN legacy_note;
CREATE INDEX customers_email_lower ON customers (lower(email));
