CREATE OR REPLACE VIEW customer_emails AS SELECT id, lower(email) AS email FROM customers;
